"""Stripe webhook events into the ledger: verified, then applied on the object's state.

Stripe delivers at least once and in any order, so nothing here depends on having seen an
earlier event: a Checkout Session that is paid, or a PaymentIntent that succeeded, records the
same receipt (keyed on the PaymentIntent id, so the second is a duplicate); a refund brings the
ledger up to the charge's cumulative ``amount_refunded``. An event about a payment the ledger has
not recorded yet (a refund overtaking its payment) asks Stripe to deliver it again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.money import Money, normalise_currency
from receivables.payments import (
    Chargeback,
    PaymentError,
    Receipt,
    UnknownPaymentError,
    record_chargeback,
    record_receipt,
    refund_to,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.clock import Clock

SIGNATURE_TOLERANCE_SECONDS = 300


class WebhookRejectedError(Exception):
    """Unsigned, wrongly signed, stale or malformed: answer 400 and change nothing."""


class RetryLaterError(Exception):
    """The event is valid but arrived before what it depends on: answer 5xx so Stripe retries."""


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What one event did, for the response body and the logs."""

    event_id: str
    type: str
    action: str  # "payment_recorded", "duplicate", "refunded", "ignored", …
    detail: str = ""


def verify(
    payload: bytes, signature: str | None, secret: str, construct_event: Callable[..., Any]
) -> dict[str, Any]:
    """Check ``Stripe-Signature`` on the raw body (300 s tolerance) and return the event.

    ``construct_event`` is the SDK's `StripeClient.construct_event`, which verifies the HMAC of
    ``t.payload`` against every ``v1`` signature and refuses old timestamps.
    """
    import stripe

    try:
        event = construct_event(payload, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejectedError(f"signature: {exc.user_message or exc}") from None
    except ValueError as exc:
        raise WebhookRejectedError(f"payload: {exc}") from None
    data: dict[str, Any] = event.to_dict()
    return data


def handle_event(event: dict[str, Any], clock: Clock) -> WebhookResult:
    """Apply one verified event to the ledger."""
    kind = str(event.get("type", ""))
    handler = _HANDLERS.get(kind)
    event_id = str(event.get("id", ""))
    if handler is None:
        return WebhookResult(event_id, kind, "ignored", "not an event the ledger acts on")
    obj: dict[str, Any] = event.get("data", {}).get("object", {})
    action, detail = handler(obj, clock)
    return WebhookResult(event_id, kind, action, detail)


def _money(minor: Any, currency: Any) -> Money:
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise WebhookRejectedError(f"amount {minor!r} is not an integer of minor units")
    return Money(minor, normalise_currency(str(currency)))


def _id(value: Any) -> str | None:
    """An id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _receipt(
    payment_intent: str, amount: Money, metadata: dict[str, Any], created: Any, method: str
) -> Receipt:
    from datetime import UTC, datetime

    received = datetime.fromtimestamp(int(created or 0), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return Receipt(
        source="stripe",
        external_id=payment_intent,
        amount=amount,
        received_at=received,
        method=method,
        customer_id=metadata.get("customer_id") or None,
        reference=f"stripe {payment_intent}",
        target_invoice_ids=invoices_of(metadata),
    )


def invoices_of(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The invoices a payment's metadata names: one (``invoice_id``, a pay link) or several
    (``invoice_ids``, comma-separated, the portal's selection)."""
    several = str(metadata.get("invoice_ids") or "")
    one = str(metadata.get("invoice_id") or "")
    return tuple(i for i in several.split(",") if i) or ((one,) if one else ())


def _debit_method(types: Any) -> str:
    """The asynchronous method of a session or PaymentIntent (our sessions offer one)."""
    methods = [str(m) for m in (types or ["card"])]
    return next((m for m in methods if m != "card"), methods[0])


def _checkout_session(obj: dict[str, Any], clock: Clock, method_if_several: str = "card") -> tuple[str, str]:
    payment_intent = _id(obj.get("payment_intent"))
    metadata = obj.get("metadata") or {}
    if obj.get("payment_status") != "paid":
        if obj.get("mode", "payment") != "payment" or obj.get("status") != "complete" or not payment_intent:
            return "ignored", f"a {obj.get('mode')} session with payment_status {obj.get('payment_status')}"
        from receivables.processing import mark_processing

        method = _debit_method(obj.get("payment_method_types"))
        amount = _money(obj.get("amount_total"), obj.get("currency"))
        marked = mark_processing(payment_intent, amount, method, invoices_of(metadata), clock)
        return (
            "payment_processing",
            f"{payment_intent} by {method}: {len(marked)} invoice(s) wait for the bank",
        )
    if payment_intent is None:
        raise WebhookRejectedError("a paid Checkout Session without a payment_intent")
    methods = obj.get("payment_method_types") or ["card"]
    receipt = _receipt(
        payment_intent,
        _money(obj.get("amount_total"), obj.get("currency")),
        metadata,
        obj.get("created"),
        str(methods[0]) if len(methods) == 1 else method_if_several,
    )
    return _record(receipt, clock)


def _async_succeeded(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    """A debit arrived: the session is paid now (recorded as its asynchronous method)."""
    return _checkout_session(obj, clock, _debit_method(obj.get("payment_method_types")))


def _record(receipt: Receipt, clock: Clock) -> tuple[str, str]:
    """Record a receipt; end any processing note of it its allocation did not reach."""
    from receivables.processing import end_processing

    outcome = record_receipt(receipt, clock)
    end_processing(receipt.external_id, receipt.target_invoice_ids, clock)
    return ("duplicate" if outcome.duplicate else "payment_recorded"), outcome.payment.payment_id


def _payment_intent_succeeded(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    if obj.get("status") != "succeeded":
        return "ignored", f"status is {obj.get('status')}"
    metadata = obj.get("metadata") or {}
    if not invoices_of(metadata):
        return "ignored", "not a payment of one of our invoices (no invoice_id in metadata)"
    receipt = _receipt(
        str(obj["id"]),
        _money(obj.get("amount_received"), obj.get("currency")),
        metadata,
        obj.get("created"),
        _debit_method(obj.get("payment_method_types")),
    )
    return _record(receipt, clock)


def _payment_intent_processing(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    from receivables.processing import mark_processing

    metadata = obj.get("metadata") or {}
    invoices = invoices_of(metadata)
    if obj.get("status") != "processing" or not invoices:
        return "ignored", f"status is {obj.get('status')}, invoices {list(invoices)}"
    method = _debit_method(obj.get("payment_method_types"))
    amount = _money(obj.get("amount"), obj.get("currency"))
    marked = mark_processing(str(obj["id"]), amount, method, invoices, clock)
    return "payment_processing", f"{obj['id']} by {method}: {len(marked)} invoice(s) wait for the bank"


def _payment_failed(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    """A debit that had been processing, or an autopay charge, failed: the invoices are owed
    again and finance is told. A card the payer declined on the Checkout page changes nothing
    (they can try another)."""
    from receivables.processing import record_failure

    error = obj.get("last_payment_error") or {}
    reason = str(error.get("message") or error.get("code") or "declined")
    metadata = obj.get("metadata") or {}
    autopay = metadata.get("source") == "autopay"
    changed = record_failure(
        str(obj.get("id")),
        invoices_of(metadata),
        reason,
        clock,
        method=_debit_method(obj.get("payment_method_types")),
        only_if_processing=not autopay,
    )
    return "payment_failed", f"{_id(obj.get('id'))}: {reason}; {len(changed)} invoice(s) owed again"


def _async_failed(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    from receivables.processing import record_failure

    payment_intent = _id(obj.get("payment_intent"))
    if payment_intent is None:
        return "ignored", "an asynchronous failure without a payment_intent"
    changed = record_failure(
        payment_intent,
        invoices_of(obj.get("metadata") or {}),
        "the customer's bank refused the debit",
        clock,
        method=_debit_method(obj.get("payment_method_types")),
    )
    return "payment_failed", f"{payment_intent}: the debit failed; {len(changed)} invoice(s) owed again"


def _charge_refunded(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    payment_intent = _id(obj.get("payment_intent"))
    if payment_intent is None:
        return "ignored", "a refund of a charge without a payment intent"
    refunded = _money(obj.get("amount_refunded"), obj.get("currency"))
    try:
        payment = refund_to("stripe", payment_intent, refunded, clock)
    except UnknownPaymentError as exc:
        raise RetryLaterError(str(exc)) from None
    except PaymentError as exc:
        raise WebhookRejectedError(str(exc)) from None
    return "refunded", f"{payment.payment_id}: {payment.refunded} refunded in all"


def _dispute(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    """``charge.dispute.created`` and ``.closed``: the dispute object carries its status, so
    either event (in either order) brings the ledger to it."""
    payment_intent = _id(obj.get("payment_intent"))
    if payment_intent is None:
        return "ignored", "a dispute of a charge without a payment intent"
    chargeback = Chargeback(
        source="stripe",
        external_id=payment_intent,
        dispute_id=str(obj.get("id")),
        amount=_money(obj.get("amount"), obj.get("currency")),
        reason=str(obj.get("reason") or "general"),
        status=str(obj.get("status") or "needs_response"),
    )
    try:
        action = record_chargeback(chargeback, clock)
    except UnknownPaymentError as exc:
        raise RetryLaterError(str(exc)) from None
    # The dispute of each invoice it paid: opened (its workflow stages the evidence), or ended.
    from receivables.disputes.chargebacks import track
    from receivables.payments import CLOSED_DISPUTE_STATUSES

    closing = chargeback.status in CLOSED_DISPUTE_STATUSES
    if closing or action == "dispute_opened":  # a closed one that arrives late opens nothing
        track(chargeback, clock, closed=closing)
    return action, f"{chargeback.dispute_id} ({chargeback.status}) of {payment_intent}"


_HANDLERS: dict[str, Callable[[dict[str, Any], Clock], tuple[str, str]]] = {
    "checkout.session.completed": _checkout_session,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.processing": _payment_intent_processing,
    "payment_intent.payment_failed": _payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
}
