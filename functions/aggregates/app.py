"""Aggregates function: keeps the receivables' running totals current from the table's stream.

Every new version of an invoice replaces its contribution to the aging, per-customer and sales
counters (`receivables.reporting.aggregates`), exactly once and in version order whatever the stream
replays; every email sent and payment received is counted once in its day's activity; a
customer with a credit limit has their credit level reviewed (`receivables.credit.limits`); each risk
event (a broken promise, a failed debit, a dispute, a chargeback) is counted once, and the
customers a batch touched are scored again, once each (`receivables.credit.risk`). Records are handled
one by one and failures reported per record (Powertools Batch).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from receivables.credit.limits import review
from receivables.credit.risk import rescore
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger, metrics
from receivables.reporting.aggregates import apply_activity, apply_invoice, risk_customer
from receivables.storage import store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from receivables.ledger.model import Invoice

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# The customers whose risk the batch's records bear on: scored again once each, after the batch.
touched: set[str] = set()


@cache
def bind() -> None:
    """Point the store at the function's table, once per cold start."""
    store.bind_environment(os.environ)


@cache
def clock() -> Clock:
    """The function's clock (accelerated only on the local runtime), once per cold start."""
    return clock_from_env(os.environ)


def aggregate_record(record: DynamoDBRecord) -> None:
    """Apply the invoice version, or count the email or payment, one stream record carries
    (anything else is ignored)."""
    image = record.raw_event.get("dynamodb", {}).get("NewImage")
    if not image:
        return
    invoice = store.invoice_from_stream_image(image)
    customer_id = risk_customer(image) if invoice is None else None  # a risk event's customer
    changed = apply_invoice(invoice) if invoice is not None else apply_activity(image, customer_id)
    metrics.add_metric(name="AggregatesApplied" if changed else "AggregatesReplayed", unit="Count", value=1)
    if invoice is not None and _money_or_status_moved(invoice, record):
        touched.add(invoice.customer_id)  # paid, disputed, credited…: its customer's history moved
    elif customer_id is not None:
        touched.add(customer_id)
    if invoice is not None:
        # The customer's exposure moved (or, for a replay, may have): bring their credit level
        # up to date. A replay records nothing new: the level is stored.
        reviewed = review(invoice.customer_id, clock())
        if reviewed is not None and reviewed.credit_limit is not None:
            metrics.add_metric(name="CreditReviewed", unit="Count", value=1)


def _money_or_status_moved(invoice: Invoice, record: DynamoDBRecord) -> bool:
    """Whether this version of the invoice changed its status or balance (what the risk score
    reads): not a new invoice, nor a version only dunning or delivery touched."""
    if invoice.version <= 1:
        return False
    old_image = record.raw_event.get("dynamodb", {}).get("OldImage")
    before = store.invoice_from_stream_image(old_image) if old_image else None
    return before is None or (before.status, before.balance) != (invoice.status, invoice.balance)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Aggregate a batch of stream records (the store bound); the response lists the ones to retry.
    Then score the customers the batch touched again: a score that fails is logged and left for
    their next change (it is derived, and nothing else waits for it)."""
    touched.clear()
    response = process_partial_response(event=event, record_handler=aggregate_record, processor=processor)
    for customer_id in sorted(touched):
        try:
            rescore(customer_id, clock())
        except Exception:  # noqa: BLE001 - one customer's score must not fail the batch
            logger.exception("risk score failed", extra={"customer_id": customer_id})
        else:
            metrics.add_metric(name="RiskScored", unit="Count", value=1)
    return dict(response)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    bind()
    return handle(event)
