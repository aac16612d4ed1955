"""The daily sweep: start dunning for what is entering the window, and snapshot the day's figures.

Invoices are found by Query on the sparse due-date index (due on or before today plus the
policy's lead), never by Scan. Each one without a running dunning gets one execution, named
after the invoice and its run number, so Step Functions itself refuses a second start of the
same run; the execution ARN and run are recorded on the invoice with a ``DunningStarted`` audit
event. An invoice whose dunning completed (every step done) is not started again; one whose
dunning stopped (it was settled) and that is owed again (a refund, a lost chargeback) is.

The same sweep writes the day's snapshot of the receivables: per currency, the open total, what
is current and overdue, the aging buckets, counts, what is disputed, and the KPIs of the last 30
days (`receivables.reporting`). The snapshot's open total is the next periods' beginning AR; the
finance API reads the snapshots for trends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables.collections.dunning.service import load_policy, started
from receivables.collections.finance import worklist
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError
from receivables.ledger.model import InvoiceStatus
from receivables.reporting import aggregates
from receivables.reporting.aging import BUCKET_NAMES, bucket_of
from receivables.reporting.service import SNAPSHOT_PK, kpis
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Invoice

KPI_PERIOD_DAYS = 30
WORKLIST_RANKED = 200  # the most GET /worklist pages through
# Statuses a run ends in that a new run may follow (the invoice came back as owed).
RESTARTABLE = frozenset({"", "stopped", "failed"})


class ExecutionExistsError(ConflictError):
    """Step Functions refused the start: an execution of that name exists; ``arn`` is its ARN."""

    def __init__(self, arn: str) -> None:
        super().__init__(arn)
        self.arn = arn


@dataclass
class SweepOutcome:
    """What one sweep did."""

    considered: int = 0
    started: list[str] = field(default_factory=list)
    already_running: int = 0
    completed_before: int = 0
    snapshot: dict[str, Any] = field(default_factory=dict)
    compacted: int = 0  # aggregate items that held nothing any more, removed


def execution_name(invoice: Invoice, run: int) -> str:
    """Derived from the invoice and its run: a second start of the same run is refused."""
    return f"{invoice.invoice_id}-run-{run}"


def sweep(
    clock: Clock,
    start_execution: Callable[[str, dict[str, Any]], str],
    receivables: list[Invoice] | None = None,
) -> SweepOutcome:
    """Start dunning where it is due to start; write today's snapshot. ``receivables`` are every
    open receivable, if the caller read them already (the sweep function reads them once for
    autopay and for this)."""
    policy = load_policy()
    today = clock.now().date()
    outcome = SweepOutcome()
    # One pass over the due-date index serves both: the window for dunning, everything for the
    # snapshot (a daily batch job, not a request path).
    everything = store.open_receivables_due_by(date.max) if receivables is None else receivables
    window_end = today + timedelta(days=policy.lead_days)
    for invoice in (i for i in everything if i.due_date <= window_end):
        if invoice.status is InvoiceStatus.DISPUTED:
            continue
        outcome.considered += 1
        state = invoice.dunning
        if state.status == "running":
            outcome.already_running += 1
            continue
        if state.status not in RESTARTABLE:
            outcome.completed_before += 1
            continue
        run = state.run + 1
        try:
            arn = start_execution(
                execution_name(invoice, run), {"invoice_id": invoice.invoice_id, "run": run}
            )
        except ExecutionExistsError as exists:
            arn = exists.arn
        _record_start(invoice.invoice_id, run, arn, clock)
        outcome.started.append(invoice.invoice_id)
    outcome.snapshot = snapshot(everything, today)
    for currency in aggregates.currencies(aggregates.Reads()):
        outcome.compacted += aggregates.compact(currency)
    now = iso_timestamp(clock.now())
    existing = store.get_document(SNAPSHOT_PK, today.isoformat())
    store.put_document(
        SNAPSHOT_PK, outcome.snapshot, (existing[1] if existing else 0) + 1, now, None, sk=today.isoformat()
    )
    return outcome


def _record_start(invoice_id: str, run: int, arn: str, clock: Clock) -> None:
    for _ in range(5):
        invoice = store.get_invoice(invoice_id)
        if invoice is None or invoice.dunning.run >= run:
            return  # recorded by an earlier delivery of this sweep
        try:
            started(invoice, run, arn, clock)
            return
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"dunning of {invoice_id} started as {arn} but could not be recorded")


def snapshot(receivables: list[Invoice], today: date) -> dict[str, Any]:
    """Today's receivables per currency: totals, aging buckets and counts (minor units)."""
    figures: dict[str, dict[str, Any]] = {}
    for invoice in receivables:
        row = figures.setdefault(
            invoice.currency,
            {
                "open": 0,
                "current": 0,
                "overdue": 0,
                "disputed": 0,
                "invoices": 0,
                "overdue_invoices": 0,
                "disputed_invoices": 0,
                "buckets": dict.fromkeys(BUCKET_NAMES, 0),
            },
        )
        amount = invoice.balance.minor
        late = (today - invoice.due_date).days
        row["open"] += amount
        row["invoices"] += 1
        if invoice.status is InvoiceStatus.DISPUTED:
            row["disputed"] += amount
            row["disputed_invoices"] += 1
        if late > 0:
            row["overdue"] += amount
            row["overdue_invoices"] += 1
        else:
            row["current"] += amount
        row["buckets"][bucket_of(late)] += amount
    # The worklist (GET /worklist, the dashboard) reads today's ranking, overall and per currency,
    # its invoices read fresh: a bounded read whatever the number of overdue invoices.
    ranked = worklist(receivables, today, len(receivables))
    for currency, row in figures.items():
        row["kpis"] = kpis(currency, today, KPI_PERIOD_DAYS).to_json()
        row["worklist"] = [r["invoice_id"] for r in ranked if r["currency"] == currency][:WORKLIST_RANKED]
    return {
        "date": today.isoformat(),
        "currencies": dict(sorted(figures.items())),
        "worklist": [r["invoice_id"] for r in ranked[:WORKLIST_RANKED]],
    }
