"""The dispute workflow's steps (`statemachines/dispute.asl.json`, `receivables.disputes.service`):
analyse, settle what the findings allow, wait for finance (reminders, escalation), record a
failure, tell the customer how it ended. Each reads fresh state; a retried step changes nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables.customers.requirements import po_from_erp
from receivables.disputes.analysis import Facts, analyse, proposal
from receivables.disputes.deciding import resolve
from receivables.disputes.evidence import load_policy, load_purchase_order, load_terms
from receivables.disputes.service import ACTOR, MAX_ATTEMPTS, dispute_and_invoice, dispute_event, next_version
from receivables.kernel.clock import iso_timestamp
from receivables.ledger.disputes import Dispute, Resolution, Source, Status
from receivables.ledger.model import Invoice
from receivables.ledger.rules import LedgerError
from receivables.payments.allocation import apply_payment_to_invoice
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer


def gather_facts(invoice: Invoice) -> Facts:
    """What the rules look at, read fresh: the customer's invoices, payments, terms and the PO."""

    def as_issued(found: Invoice) -> Invoice:
        # A PO number given after ingest is not the ERP's: the rules see the invoice without it.
        if not found.po_number or po_from_erp(found, store.invoice_events(found.invoice_id)):
            return found
        return replace(found, po_number=None)

    invoice = as_issued(invoice)
    others = tuple(
        as_issued(d) if d.po_number and d.total == invoice.total else d
        for d in store.customer_documents(invoice.customer_id)
        if isinstance(d, Invoice)
    )
    payments = tuple(store.customer_payments(invoice.customer_id))
    terms = load_terms(invoice.customer_id)
    return Facts(
        invoice, others, payments, terms, load_purchase_order(invoice.customer_id, invoice.po_number)
    )


def analyse_dispute(dispute_id: str, clock: Clock, execution_arn: str | None = None) -> dict[str, Any]:
    """Run the rules, keep the itemised findings on the dispute; say what can be settled."""
    for _ in range(MAX_ATTEMPTS):
        dispute, invoice = dispute_and_invoice(dispute_id)
        if execution_arn and dispute.execution_arn not in (None, execution_arn):
            # The bus delivered DisputeOpened twice: the first execution owns the dispute.
            return {"dispute_id": dispute_id, "claimed": False, "proposal": None}
        if dispute.final:
            return {
                "dispute_id": dispute_id,
                "claimed": True,
                "status": dispute.status.value,
                "proposal": None,
            }
        policy = load_policy()
        findings = analyse(gather_facts(invoice), policy)
        settled = proposal(dispute, invoice, findings, policy)
        now = iso_timestamp(clock.now())
        confirmed = [f.rule for f in findings if f.confirmed]
        changed = next_version(
            dispute,
            now,
            status=Status.ANALYSING,
            findings=findings,
            execution_arn=execution_arn or dispute.execution_arn,
        )
        event = dispute_event(
            dispute,
            "DisputeAnalysed",
            now,
            ACTOR,
            confirmed=confirmed,
            proposal=settled.action if settled else None,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return {
            "dispute_id": dispute_id,
            "claimed": True,
            "source": dispute.source.value,
            "status": changed.status.value,
            "proposal": settled.action if settled else None,
        }
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def settle_dispute(dispute_id: str, clock: Clock) -> dict[str, Any]:
    """Carry out what the analysis proposes (void the duplicate, apply the payment, confirm paid,
    credit a small amount) and end the dispute; ``settled`` False when finance must decide."""

    for _ in range(MAX_ATTEMPTS):
        dispute, invoice = dispute_and_invoice(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "settled": dispute.status is Status.SETTLED}
        settled = proposal(dispute, invoice, dispute.findings, load_policy())
        if settled is None:
            return {"dispute_id": dispute_id, "settled": False}
        now = iso_timestamp(clock.now())
        if settled.action == "apply_payment":
            # The payment's own transaction (with its audit events); the dispute ends after it.
            apply_payment_to_invoice(str(settled.facts["payment_id"]), invoice.invoice_id, clock)
            dispute, invoice = dispute_and_invoice(dispute_id)
            if dispute.final:  # the payment paid it in full, which ended the dispute with it
                return {"dispute_id": dispute_id, "settled": True, "action": settled.action}
        resolution = Resolution(
            settled.action, ACTOR, now, settled.credit, "settled from the findings", settled.facts
        )
        try:
            resolve(dispute, invoice, Status.SETTLED, resolution, now, ACTOR)
        except store.ConcurrentChangeError:
            continue
        except LedgerError:
            return {"dispute_id": dispute_id, "settled": False}
        return {"dispute_id": dispute_id, "settled": True, "action": settled.action}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def await_finance(
    dispute_id: str, task_token: str, clock: Clock, reminder: int = 0, escalated: bool = False
) -> dict[str, Any]:
    """Keep the workflow's task token on the dispute and tell finance (the audit event goes on the
    bus); a reminder or an escalation to the manager when it has waited too long."""
    for _ in range(MAX_ATTEMPTS):
        dispute, _ = dispute_and_invoice(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "waiting": False}
        now = iso_timestamp(clock.now())
        kind = (
            "DisputeEscalated" if escalated else ("FinanceReminded" if reminder else "DisputeAwaitingFinance")
        )
        data: dict[str, Any] = {"reminder": reminder}
        if escalated:
            data["to"] = load_policy().manager
        changed = next_version(dispute, now, status=Status.AWAITING_FINANCE, task_token=task_token)
        try:
            store.apply_changes([(changed, dispute_event(dispute, kind, now, ACTOR, **data))])
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "waiting": True}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def dispute_status(dispute_id: str) -> dict[str, Any]:
    """Where the dispute stands, for a workflow deciding whether to wait on (``final`` when it
    ended meanwhile, e.g. paid in full)."""
    dispute, _ = dispute_and_invoice(dispute_id)
    return {"dispute_id": dispute_id, "status": dispute.status.value, "final": dispute.final}


def record_failure(dispute_id: str, error: Any, clock: Clock) -> dict[str, Any]:
    """A workflow task failed for good: the error goes on the dispute, where finance sees it."""
    for _ in range(MAX_ATTEMPTS):
        dispute = store.get_dispute(dispute_id)
        if dispute is None:
            return {"dispute_id": dispute_id, "recorded": False}
        now = iso_timestamp(clock.now())
        detail = error if isinstance(error, dict) else {"Error": str(error)}
        data = {"error": str(detail.get("Error", "")), "cause": str(detail.get("Cause", ""))[:1000]}
        try:
            store.apply_changes(
                [
                    (
                        next_version(dispute, now),
                        dispute_event(dispute, "DisputeWorkflowFailed", now, ACTOR, **data),
                    )
                ]
            )
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "recorded": True}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def notify_customer(
    dispute_id: str, clock: Clock, send: Callable[[Dispute, Invoice, Customer], str]
) -> dict[str, Any]:
    """Tell the customer how their dispute ended, once (an audit event marks it sent)."""
    dispute, invoice = dispute_and_invoice(dispute_id)
    if not dispute.final or dispute.source is Source.CHARGEBACK:
        return {"dispute_id": dispute_id, "told": False}
    pk = store.dispute_pk(dispute_id)
    if store.marker_exists(pk, "customer-told"):
        return {"dispute_id": dispute_id, "told": True}
    customer = store.get_customer(dispute.customer_id)
    if customer is None or not customer.email:
        return {"dispute_id": dispute_id, "told": False, "why": "no email address"}
    message_id = send(dispute, invoice, customer)
    now = iso_timestamp(clock.now())
    for _ in range(MAX_ATTEMPTS):
        fresh = store.get_dispute(dispute_id)
        assert fresh is not None
        event = dispute_event(
            fresh, "CustomerToldOfOutcome", now, ACTOR, to=customer.email, message_id=message_id
        )
        try:
            store.apply_changes(
                [(next_version(fresh, now), event)], writes=[store.marker(pk, "customer-told", now)]
            )
        except store.ConcurrentChangeError:
            if store.marker_exists(pk, "customer-told"):
                break
            continue
        break
    return {"dispute_id": dispute_id, "told": True, "message_id": message_id}
