"""Credit function: a customer's credit pays their next invoice as soon as it is ingested.

Triggered by the ledger's ``InvoiceIngested`` events. An overpayment leaves money unused on a
payment (the customer's credit); this applies it to the customer's open invoices, oldest first.
The ledger says what credit is left, so a repeated or late event changes nothing.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger, metrics
from receivables.payments.allocation import apply_customer_credit
from receivables.storage import store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@cache
def default_clock() -> Clock:
    """Bound to the table once per cold start."""
    store.bind_environment(os.environ)
    return clock_from_env(os.environ)


def handle(event: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """Apply the credit of the customer the event names."""
    customer_id = str(event.get("detail", {}).get("customer_id") or "")
    if not customer_id:
        return {"applied": []}
    applied = apply_customer_credit(customer_id, clock)
    if applied:
        logger.info("credit applied", extra={"customer_id": customer_id, "allocations": len(applied)})
        metrics.add_metric(name="CreditApplied", unit="Count", value=len(applied))
    return {
        "applied": [
            {"payment_id": a.payment_id, "invoice_id": a.invoice_id, "amount": a.amount.to_decimal_string()}
            for a in applied
        ]
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return handle(event, default_clock())
