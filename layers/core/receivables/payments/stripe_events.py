"""Stripe webhook events into the ledger: verified, then applied on the object's state.

Stripe delivers at least once and in any order, so nothing here depends on having seen an
earlier event: a Checkout Session that is paid, or a PaymentIntent that succeeded, records the
same receipt (keyed on the PaymentIntent id, so the second is a duplicate); a refund brings the
ledger up to the charge's cumulative ``amount_refunded``. An event about a payment the ledger has
not recorded yet (a refund overtaking its payment) asks Stripe to deliver it again later.

A body that is not a Stripe event (not a JSON object, nested beyond any event) is refused like a
bad signature (400). An event that is signed but unusable (an amount of zero, negative or beyond
any real payment, an unknown currency, a refund in another currency than its payment, fields of
the wrong shape) changes nothing and is acknowledged as ``rejected`` with its reason: Stripe would
deliver it again for days, and it will never become right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from receivables.adapters.stripe_api import StripeRefusedError, StripeUnavailableError
from receivables.banking import payouts
from receivables.disputes.chargebacks import track
from receivables.kernel.errors import InvalidRequestError, ReceivablesError, UnavailableError
from receivables.kernel.money import Money, MoneyError, normalise_currency
from receivables.ledger.model import Invoice
from receivables.payments.allocation import (
    EARLIEST_RECEIPT,
    MAX_INVOICES_PER_RECEIPT,
    MAX_RECEIPT_MINOR,
    RECEIPT_AHEAD,
    PaymentError,
    Receipt,
    UnknownPaymentError,
    record_receipt,
    refund_to,
)
from receivables.payments.chargebacks import CLOSED_DISPUTE_STATUSES, Chargeback, record_chargeback
from receivables.payments.processing import end_processing, mark_processing, record_failure
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock


class PayoutReader(Protocol):
    """What a payout's event needs of Stripe (`receivables.adapters.stripe_api.StripeGateway`)."""

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """The balance transactions the payout paid out."""
        ...


SIGNATURE_TOLERANCE_SECONDS = 300
# Stripe's events nest a dozen levels at most; the SDK builds its objects recursively.
MAX_EVENT_DEPTH = 64


class WebhookRejectedError(ReceivablesError):
    """Unsigned, wrongly signed, stale or not an event at all: answer 400 and change nothing."""


class EventRejectedError(ReceivablesError):
    """A signed event the ledger can never take (a negative amount, an unknown currency...):
    nothing changes, and the event is acknowledged as ``rejected`` with this reason."""


class RetryLaterError(UnavailableError):
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

    _check_shape(payload)
    try:
        event = construct_event(payload, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejectedError(f"signature: {exc.user_message or exc}") from None
    except ValueError as exc:
        raise WebhookRejectedError(f"payload: {exc}") from None
    data: dict[str, Any] = event.to_dict()
    return data


def _check_shape(payload: bytes) -> None:
    """Refuse a body that cannot be an event before the SDK builds objects of it: not JSON, not
    an object, or nested deeper than `MAX_EVENT_DEPTH` (the SDK would run out of stack)."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested beyond the decoder's stack
        raise WebhookRejectedError("payload: not a JSON document of a sane depth") from None
    if not isinstance(body, dict):
        raise WebhookRejectedError(f"payload: a Stripe event is a JSON object, not a {type(body).__name__}")
    level: list[tuple[Any, int]] = [(body, 1)]
    while level:
        value, depth = level.pop()
        if depth > MAX_EVENT_DEPTH:
            raise WebhookRejectedError(f"payload: nested deeper than {MAX_EVENT_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def handle_event(event: dict[str, Any], clock: Clock, stripe: PayoutReader | None = None) -> WebhookResult:
    """Apply one verified event to the ledger; an event it can never take is ``rejected`` (with
    why), changing nothing. ``stripe`` reads what a ``payout.paid`` needs (the payout's balance
    transactions); without it such an event waits (503, redelivered)."""
    kind = str(event.get("type", ""))
    handler = _HANDLERS.get(kind)
    event_id = str(event.get("id", ""))
    if handler is None and kind != "payout.paid":
        return WebhookResult(event_id, kind, "ignored", "not an event the ledger acts on")
    try:
        obj = _dict(_dict(event.get("data"), "data").get("object"), "data.object")
        action, detail = handler(obj, clock) if handler is not None else _payout_paid(obj, clock, stripe)
    except EventRejectedError as exc:
        return WebhookResult(event_id, kind, "rejected", str(exc))
    return WebhookResult(event_id, kind, action, detail)


def _dict(value: Any, name: str) -> dict[str, Any]:
    """``value``, an object (None is an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventRejectedError(f"{name} is a {type(value).__name__}, not an object")
    return value


def _money(minor: Any, currency: Any) -> Money:
    """A positive amount of at most `MAX_RECEIPT_MINOR` minor units, in an ISO 4217 currency."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise EventRejectedError(f"amount {minor!r} is not an integer of minor units")
    if not 0 < minor <= MAX_RECEIPT_MINOR:
        raise EventRejectedError(f"amount {minor} is not between 1 and {MAX_RECEIPT_MINOR} minor units")
    try:
        return Money(minor, normalise_currency(currency if isinstance(currency, str) else ""))
    except MoneyError:
        raise EventRejectedError(f"currency {currency!r} is not an ISO 4217 code") from None


def _created(value: Any, clock: Clock) -> str:
    """The instant of a Unix ``created`` timestamp, from 2000 to a day ahead of the clock."""
    latest = clock.now() + RECEIPT_AHEAD
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not EARLIEST_RECEIPT.timestamp() <= value <= latest.timestamp()
    ):
        raise EventRejectedError(f"created {value!r} is not a time from 2000 to {latest.date().isoformat()}")
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _id(value: Any) -> str | None:
    """An id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _receipt(
    payment_intent: str, amount: Money, metadata: dict[str, Any], received: str, method: str
) -> Receipt:
    customer_id = metadata.get("customer_id")
    return Receipt(
        source="stripe",
        external_id=payment_intent,
        amount=amount,
        received_at=received,
        method=method,
        customer_id=customer_id if isinstance(customer_id, str) and customer_id else None,
        reference=f"stripe {payment_intent}",
        target_invoice_ids=invoices_of(metadata),
    )


def invoices_of(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The invoices a payment's metadata names: one (``invoice_id``, a pay link) or several
    (``invoice_ids``, comma-separated, the portal's selection)."""
    several = str(metadata.get("invoice_ids") or "")
    one = str(metadata.get("invoice_id") or "")
    found = tuple(i for i in several.split(",") if i) or ((one,) if one else ())
    if len(found) > MAX_INVOICES_PER_RECEIPT:
        raise EventRejectedError(f"metadata names {len(found)} invoices, more than one payment pays")
    return found


def payer_invoices(metadata: dict[str, Any]) -> tuple[str, ...]:
    """The invoices the metadata names that belong to the payer (``customer_id``, else the
    customer of the first one that exists): a processing note or a failure of customer Q's
    payment must never touch customer P's invoice, as its money cannot pay it (one BatchGetItem)."""

    named = invoices_of(metadata)
    if not named:
        return named
    heads = store.get_heads(named)
    found = [head for i in named if isinstance(head := heads.get(i), Invoice)]
    payer = metadata.get("customer_id")
    if not isinstance(payer, str) or not payer:
        payer = found[0].customer_id if found else None
    return tuple(i.invoice_id for i in found if i.customer_id == payer)


def _methods(types: Any) -> list[str]:
    """A session's or PaymentIntent's ``payment_method_types`` (card if none)."""
    if types is None or types == []:
        return ["card"]
    if not isinstance(types, list) or not all(isinstance(m, str) and m for m in types):
        raise EventRejectedError(f"payment_method_types {types!r} is not a list of names")
    return types


def _debit_method(types: Any) -> str:
    """The asynchronous method of a session or PaymentIntent (our sessions offer one)."""
    methods = _methods(types)
    return next((m for m in methods if m != "card"), methods[0])


def _checkout_session(obj: dict[str, Any], clock: Clock, method_if_several: str = "card") -> tuple[str, str]:
    payment_intent = _id(obj.get("payment_intent"))
    metadata = _dict(obj.get("metadata"), "metadata")
    if obj.get("payment_status") != "paid":
        if obj.get("mode", "payment") != "payment" or obj.get("status") != "complete" or not payment_intent:
            return "ignored", f"a {obj.get('mode')} session with payment_status {obj.get('payment_status')}"

        method = _debit_method(obj.get("payment_method_types"))
        amount = _money(obj.get("amount_total"), obj.get("currency"))
        marked = mark_processing(payment_intent, amount, method, payer_invoices(metadata), clock)
        return (
            "payment_processing",
            f"{payment_intent} by {method}: {len(marked)} invoice(s) wait for the bank",
        )
    if payment_intent is None:
        raise EventRejectedError("a paid Checkout Session without a payment_intent")
    methods = _methods(obj.get("payment_method_types"))
    receipt = _receipt(
        payment_intent,
        _money(obj.get("amount_total"), obj.get("currency")),
        metadata,
        _created(obj.get("created"), clock),
        methods[0] if len(methods) == 1 else method_if_several,
    )
    return _record(receipt, clock)


def _async_succeeded(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    """A debit arrived: the session is paid now (recorded as its asynchronous method)."""
    return _checkout_session(obj, clock, _debit_method(obj.get("payment_method_types")))


def _record(receipt: Receipt, clock: Clock) -> tuple[str, str]:
    """Record a receipt; end any processing note of it its allocation did not reach."""

    try:
        outcome = record_receipt(receipt, clock)
    except InvalidRequestError as exc:  # what the ledger finds implausible (an amount, a date)
        raise EventRejectedError(str(exc)) from None
    end_processing(receipt.external_id, receipt.target_invoice_ids, clock)
    return ("duplicate" if outcome.duplicate else "payment_recorded"), outcome.payment.payment_id


def _payment_intent_succeeded(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    if obj.get("status") != "succeeded":
        return "ignored", f"status is {obj.get('status')}"
    metadata = _dict(obj.get("metadata"), "metadata")
    if not invoices_of(metadata):
        return "ignored", "not a payment of one of our invoices (no invoice_id in metadata)"
    receipt = _receipt(
        _intent_id(obj),
        _money(obj.get("amount_received"), obj.get("currency")),
        metadata,
        _created(obj.get("created"), clock),
        _debit_method(obj.get("payment_method_types")),
    )
    return _record(receipt, clock)


def _intent_id(obj: dict[str, Any]) -> str:
    """A PaymentIntent's own id."""
    found = obj.get("id")
    if not isinstance(found, str) or not found:
        raise EventRejectedError(f"a PaymentIntent with the id {found!r}")
    return found


def _payment_intent_processing(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:

    metadata = _dict(obj.get("metadata"), "metadata")
    invoices = payer_invoices(metadata)
    if obj.get("status") != "processing" or not invoices:
        return "ignored", f"status is {obj.get('status')}, invoices {list(invoices)}"
    method = _debit_method(obj.get("payment_method_types"))
    amount = _money(obj.get("amount"), obj.get("currency"))
    intent = _intent_id(obj)
    marked = mark_processing(intent, amount, method, invoices, clock)
    return "payment_processing", f"{intent} by {method}: {len(marked)} invoice(s) wait for the bank"


def _payment_failed(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:
    """A debit that had been processing, or an autopay charge, failed: the invoices are owed
    again and finance is told. A card the payer declined on the Checkout page changes nothing
    (they can try another)."""

    error = _dict(obj.get("last_payment_error"), "last_payment_error")
    reason = str(error.get("message") or error.get("code") or "declined")
    metadata = _dict(obj.get("metadata"), "metadata")
    autopay = metadata.get("source") == "autopay"
    changed = record_failure(
        str(obj.get("id")),
        payer_invoices(metadata),
        reason,
        clock,
        method=_debit_method(obj.get("payment_method_types")),
        only_if_processing=not autopay,
    )
    return "payment_failed", f"{_id(obj.get('id'))}: {reason}; {len(changed)} invoice(s) owed again"


def _async_failed(obj: dict[str, Any], clock: Clock) -> tuple[str, str]:

    payment_intent = _id(obj.get("payment_intent"))
    if payment_intent is None:
        return "ignored", "an asynchronous failure without a payment_intent"
    changed = record_failure(
        payment_intent,
        payer_invoices(_dict(obj.get("metadata"), "metadata")),
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
    except PaymentError as exc:  # more than the payment holds, another currency than it
        raise EventRejectedError(str(exc)) from None
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
    except PaymentError as exc:  # another currency than the payment
        raise EventRejectedError(str(exc)) from None
    # The dispute of each invoice it paid: opened (its workflow stages the evidence), or ended.

    closing = chargeback.status in CLOSED_DISPUTE_STATUSES
    if closing or action == "dispute_opened":  # a closed one that arrives late opens nothing
        track(chargeback, clock, closed=closing)
    return action, f"{chargeback.dispute_id} ({chargeback.status}) of {payment_intent}"


def _payout_paid(obj: dict[str, Any], clock: Clock, stripe: PayoutReader | None) -> tuple[str, str]:
    """Stripe paid a payout to the bank: its balance transactions (read from Stripe: the event
    carries only the payout) are summed up and stored once, and a bank line that waited for
    it is reconciled (`receivables.banking.payouts`). The payments in it were applied when
    their own events came: nothing is applied again."""
    payout_id = _id(obj.get("id"))
    if obj.get("status") != "paid" or not payout_id:
        return "ignored", f"a payout with status {obj.get('status')}"
    if stripe is None:
        raise RetryLaterError("no Stripe client to read the payout's balance transactions")
    try:
        transactions = stripe.payout_transactions(payout_id)
    except StripeRefusedError as exc:
        raise EventRejectedError(str(exc)) from None
    except StripeUnavailableError as exc:
        raise RetryLaterError(str(exc)) from None
    try:
        summary = payouts.summarise(obj, transactions)
    except payouts.PayoutError as exc:
        raise EventRejectedError(str(exc)) from None
    recorded = payouts.record_payout(summary, clock)
    lines = f"; bank line {', '.join(recorded.reconciled)} reconciled" if recorded.reconciled else ""
    detail = f"{payout_id}: {len(summary.charges)} payment(s), fees {summary.fees}, net {summary.net}{lines}"
    return ("duplicate" if recorded.duplicate else "payout_recorded"), detail


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
