"""Stripe webhook function: POST /webhooks/stripe.

Verifies ``Stripe-Signature`` on the raw body (400 and no state change otherwise), processes each
event id once (Powertools Idempotency on DynamoDB: a redelivery gets the first answer), applies
the event to the ledger and answers 200. The ledger write is what the acknowledgement promises,
so it happens before it; it takes a few DynamoDB calls. Everything slow (emails, stopping
dunning) follows from the ledger's audit events on the bus, after the acknowledgement. A
``payout.paid`` reads the payout's balance transactions from Stripe (the API key from Secrets
Manager) and stores the payout for the bank statement's line (`receivables.banking.payouts`).
An event that overtook the payment it refers to gets 503, so that Stripe delivers it again. A
signed event the ledger can never take (a negative amount, an unknown currency, a refund in
another currency than its payment) changes nothing and gets 200 with ``"action": "rejected"`` and
its reason, logged with the event id: redelivering it for days would not make it right. Nothing a
signed request holds answers 5xx but a retry the event asks for, or a failure of ours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables.adapters.idempotency import once_per
from receivables.adapters.secrets import secret_reader
from receivables.adapters.stripe_api import StripeGateway
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger
from receivables.payments.stripe_events import (
    PayoutReader,
    RetryLaterError,
    WebhookRejectedError,
    handle_event,
    verify,
)
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

app = Chalice(app_name="receivables-stripe-webhook")


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the webhook works with; tests build their own."""

    webhook_secret: Callable[[], str]
    process: Callable[[dict[str, Any]], dict[str, Any]]
    construct_event: Callable[..., Any]
    # Lets Idempotency expire an in-progress record when the invocation would time out.
    register_context: Callable[[Any], None] = lambda context: None


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    # cold start: the Stripe SDK costs about 30 ms (Powertools' idempotency 20 ms more, in
    # once_per); both load with the first request
    import stripe

    settings = store.bind_environment(os.environ)
    clock = clock_from_env(os.environ)
    # Stripe retries for up to three days: remember each event id for a week.
    once_per_event, register_context = once_per(
        settings.need("idempotency_table_name"), "event", keep_seconds=7 * 24 * 3600, key_path="id"
    )

    # A payout's event reads its balance transactions from Stripe (with the API key).
    key_name = settings.stripe_api_key_name
    gateway = StripeGateway(secret_reader(key_name), settings.stripe_api_base) if key_name else None

    @once_per_event
    def process(event: dict[str, Any]) -> dict[str, Any]:
        return apply_event(event, clock, gateway)

    return Dependencies(
        secret_reader(settings.need("stripe_webhook_secret_name")),
        lambda event: process(event=event),
        stripe.Webhook.construct_event,
        register_context,
    )


def apply_event(event: dict[str, Any], clock: Clock, stripe: PayoutReader | None = None) -> dict[str, Any]:
    """Apply one verified event; the result is what a redelivery of it will be answered."""
    result = handle_event(event, clock, stripe)
    fields = {"event_id": result.event_id, "type": result.type, "action": result.action}
    answer: dict[str, Any] = {
        "received": True,
        "event": result.event_id,
        "type": result.type,
        "action": result.action,
    }
    if result.action == "rejected":
        # Acknowledged so that Stripe stops; the log (and the idempotency record) keep why.
        logger.warning("stripe event rejected", extra={**fields, "reason": result.detail})
        answer["reason"] = result.detail
    else:
        logger.info("stripe event", extra=fields)
    return answer


def receive(raw_body: bytes, signature: str | None, deps: Dependencies) -> Response:
    """Verify, process once, answer."""
    try:
        event = verify(raw_body, signature, deps.webhook_secret(), deps.construct_event)
        return Response(body=deps.process(event), status_code=200)
    except WebhookRejectedError as exc:
        logger.warning("stripe webhook rejected", extra={"reason": str(exc)})
        return Response(body={"error": str(exc)}, status_code=400)
    except RetryLaterError as exc:
        logger.info("stripe event deferred", extra={"reason": str(exc)})
        return Response(body={"error": str(exc), "retry": True}, status_code=503)


@app.route("/webhooks/stripe", methods=["POST"], content_types=["application/json"])
def stripe_webhook() -> Response:
    """Stripe's webhook endpoint."""
    request = app.current_request
    assert request is not None
    deps = default_dependencies()
    deps.register_context(app.lambda_context)
    raw = request.raw_body
    return receive(
        raw if isinstance(raw, bytes) else raw.encode(), request.headers.get("stripe-signature"), deps
    )
