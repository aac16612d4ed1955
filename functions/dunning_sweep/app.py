"""Dunning sweep function: daily (EventBridge schedule) and on demand (a ``DunningSweepRequested``
event, which the finance API puts on the bus): first charge the due invoices of autopay customers
off-session (`receivables.payments.autopay`), then start one dunning execution per invoice entering the
window (a declined autopay charge is among them), write the day's KPI snapshot
(`receivables.collections.dunning.sweep`), and remind the open documentation requests that are due a reminder
(`receivables.customers.requirements`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.stripe_api import StripeGateway
from receivables.collections.dunning.sweep import ExecutionExistsError, sweep
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger, metrics
from receivables.kernel.settings import Settings
from receivables.ledger.model import Invoice
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.payments.autopay import ChargeOutcome, charge_due
from receivables.storage import store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def execution_starter(
    state_machine_arn: str, endpoint_url: str | None = None
) -> Callable[[str, dict[str, Any]], str]:
    """Start a named execution; a name already taken raises `ExecutionExistsError` with its ARN."""
    import boto3

    client: Any = boto3.client("stepfunctions", endpoint_url=endpoint_url)

    def start(name: str, payload: dict[str, Any]) -> str:
        try:
            response = client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )
        except client.exceptions.ExecutionAlreadyExists:
            arn = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
            raise ExecutionExistsError(arn) from None
        return str(response["executionArn"])

    return start


Starter = Callable[[str, dict[str, Any]], str]


@cache
def default_dependencies() -> tuple[Clock, Starter, StripeGateway]:
    """Built once per cold start from the function's environment."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    stripe_key_name = os.environ["STRIPE_API_KEY_NAME"]
    gateway = StripeGateway(
        lambda: str(get_secret(stripe_key_name, max_age=300)), os.environ.get("STRIPE_API_BASE") or None
    )
    return (
        clock_from_env(os.environ),
        execution_starter(os.environ["STATE_MACHINE_ARN"], settings.endpoint_url),
        gateway,
    )


def handle(
    event: dict[str, Any],
    clock: Clock,
    start: Callable[[str, dict[str, Any]], str],
    gateway: StripeGateway | None = None,
) -> dict[str, Any]:
    """Charge autopay, then sweep once; a summary for the logs and the caller. The due-date
    index is read once for both (every open receivable); what autopay charged is read again."""
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
    reminded = remind_documentation_requests(clock)
    summary = {
        "documentation_requests_reminded": len(reminded),
        "autopay_charged": len(charged.charged),
        "autopay_processing": len(charged.processing),
        "autopay_declined": len(charged.declined),
        "autopay_over_limit": len(charged.over_limit),
        "autopay_errors": len(charged.errors),
        "trigger": event.get("detail-type", "direct"),
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


def remind_documentation_requests(clock: Clock) -> list[str]:
    """Remind the open documentation requests due a reminder (`DOCUMENT_REMINDER_DAYS` after the
    last); a failure is logged and the sweep's summary goes on."""
    from receivables.customers.requirements import remind_open_requests

    days = int(os.environ.get("DOCUMENT_REMINDER_DAYS") or 5)
    try:
        return remind_open_requests(days, clock)
    except Exception:  # noqa: BLE001 - the day's dunning is done already; tomorrow tries again
        logger.exception("documentation requests: the reminders were not made")
        return []


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    clock, start, gateway = default_dependencies()
    return handle(event, clock, start, gateway)
