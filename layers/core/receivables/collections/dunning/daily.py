"""The day's collections run, daily and on demand: charge the due invoices of autopay customers
off-session (`receivables.payments.autopay`), then start one dunning execution per invoice entering
the window (a declined autopay charge among them) and write the day's KPI snapshot
(`receivables.collections.dunning.sweep`), and remind the open documentation requests that are due
a reminder (`receivables.customers.requirements`). The due-date index is read once for all of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.collections.dunning.sweep import sweep
from receivables.customers.requirements import remind_open_requests
from receivables.kernel.observability import logger, metrics
from receivables.ledger.model import Invoice
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.payments.autopay import ChargeOutcome, charge_due
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.adapters.stripe_api import StripeGateway
    from receivables.kernel.clock import Clock

Starter = Callable[[str, dict[str, Any]], str]


def run_day(
    trigger: str,
    clock: Clock,
    start: Starter,
    gateway: StripeGateway | None = None,
    reminder_days: int = 5,
) -> dict[str, Any]:
    """Charge autopay, then sweep once, then remind; a summary for the logs and the caller. What
    autopay charged is read again before the sweep, so it is not reminded of what it just paid."""
    charged = ChargeOutcome()
    everything = store.open_receivables_due_by(date.max)
    if gateway is not None:
        try:
            charged = charge_due(clock, gateway, everything)
        except Exception:  # noqa: BLE001 - the day's dunning and snapshot go on without autopay
            logger.exception("autopay: the charges were not made")
            metrics.add_metric(name="AutopayFailed", unit="Count", value=1)
    touched = {*charged.charged, *charged.processing, *charged.declined, *charged.errors}
    if touched:
        fresh = store.get_heads(touched)
        read_again = (fresh.get(i.invoice_id) if i.invoice_id in touched else i for i in everything)
        everything = [i for i in read_again if isinstance(i, Invoice) and i.status in OPEN_RECEIVABLE]
    outcome = sweep(clock, start, everything)
    reminded = remind_documentation_requests(clock, reminder_days)
    summary = {
        "documentation_requests_reminded": len(reminded),
        "autopay_charged": len(charged.charged),
        "autopay_processing": len(charged.processing),
        "autopay_declined": len(charged.declined),
        "autopay_over_limit": len(charged.over_limit),
        "autopay_errors": len(charged.errors),
        "trigger": trigger,
        "considered": outcome.considered,
        "started": len(outcome.started),
        "already_running": outcome.already_running,
        "completed_before": outcome.completed_before,
        "aggregates_compacted": outcome.compacted,
        "snapshot_date": outcome.snapshot.get("date"),
    }
    logger.info("dunning sweep", extra={"sweep": summary})
    metrics.add_metric(name="DunningStarted", unit="Count", value=len(outcome.started))
    metrics.add_metric(
        name="AutopayCharged", unit="Count", value=len(charged.charged) + len(charged.processing)
    )
    metrics.add_metric(name="AutopayDeclined", unit="Count", value=len(charged.declined))
    return summary


def remind_documentation_requests(clock: Clock, days: int) -> list[str]:
    """Remind the open documentation requests due a reminder (``days`` after the last); a
    failure is logged and the day's summary goes on."""
    try:
        return remind_open_requests(days, clock)
    except Exception:  # noqa: BLE001 - the day's dunning is done already; tomorrow tries again
        logger.exception("documentation requests: the reminders were not made")
        return []
