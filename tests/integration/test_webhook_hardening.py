"""Stripe webhooks hardened against the outside probe (issue 28): signed but malformed events are
never a 5xx and book nothing; a payment's metadata never pays another customer's invoice."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.payments.allocation import payment_id_for
from receivables.storage import store
from tests.conftest import SAMPLES
from tests.integration.test_stripe_webhook_function import post, webhook_function
from tests.integration.test_stripe_webhooks import INVOICE, fixture, sign

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from tests.integration.conftest import Aws

PAYMENT_INTENT = "pi_3SessionCompleted0001"  # of every fixture
OTHER_INVOICE = document_id("self", DocumentType.INVOICE, "INV-2026-1002")  # another customer's, EUR


@pytest.fixture
def hook(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    """The webhook function cold-started on moto, and the customer of INVOICE (1190.00 EUR)."""
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    module = webhook_function("test-ledger", monkeypatch)
    yield module, invoice.customer_id
    module.default_dependencies.cache_clear()


def event_of(name: str, customer: str, change: Callable[[dict[str, Any]], Any]) -> bytes:
    """The fixture ``name`` with ``change`` made to its ``data.object`` (or to the event, when
    ``change`` returns something: that is the body then)."""
    event = json.loads(fixture(name, customer))
    body = change(event["data"]["object"])
    return body if isinstance(body, bytes) else json.dumps(event if body is None else body).encode()


def setting(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda obj: obj.__setitem__(field, value)


def nested(depth: int) -> bytes:
    return (
        b'{"id":"evt_deep","type":"checkout.session.completed","data":'
        + b'{"a":' * depth
        + b"1"
        + b"}" * depth
        + b"}"
    )


SESSION = "checkout.session.completed"
INTENT = "payment_intent.succeeded"
MALFORMED: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "negative amount": (SESSION, setting("amount_total", -119000)),
    "zero amount": (SESSION, setting("amount_total", 0)),
    "amount of 10**30": (SESSION, setting("amount_total", 10**30)),
    "amount above 10**15 minor units": (INTENT, setting("amount_received", 10**15 + 1)),
    "amount as text": (INTENT, setting("amount_received", "119000")),
    "amount as a float": (INTENT, setting("amount_received", 1190.0)),
    "unknown currency": (SESSION, setting("currency", "xyz")),
    "currency not text": (INTENT, setting("currency", 978)),
    "created 0": (INTENT, setting("created", 0)),
    "created in 2099": (INTENT, setting("created", 4070908800)),
    "created as text": (SESSION, setting("created", "yesterday")),
    "metadata a list": (INTENT, setting("metadata", ["invoice_id", INVOICE])),
    "payment_method_types a text": (INTENT, setting("payment_method_types", "card")),
    "payment intent without an id": (INTENT, lambda obj: obj.pop("id")),
    "data.object a list": (SESSION, lambda obj: {"id": "evt_x", "type": SESSION, "data": {"object": [obj]}}),
    "data a text": (SESSION, lambda obj: {"id": "evt_x", "type": SESSION, "data": "object"}),
    "negative refund": ("charge.refunded", setting("amount_refunded", -5)),
    "negative dispute": ("charge.dispute.created", setting("amount", -119000)),
    "JSON array body": (SESSION, lambda obj: b"[" + json.dumps(obj).encode() + b"]"),
    "JSON scalar body": (SESSION, lambda obj: b"119000"),
    "not JSON": (SESSION, lambda obj: b"{'id': 'evt_x'"),
    "nested 100 deep": (SESSION, lambda obj: nested(100)),
    "nested 400 deep": (SESSION, lambda obj: nested(400)),
    "nested 100000 deep": (SESSION, lambda obj: nested(100_000)),
}


def nothing_booked() -> bool:
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    return (
        invoice.status is InvoiceStatus.OPEN
        and invoice.balance == Money(119000, "EUR")
        and store.get_payment(payment_id_for("stripe", PAYMENT_INTENT)) is None
    )


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_signed_but_malformed_webhook_is_never_a_5xx_and_books_nothing(
    hook: tuple[ModuleType, str], kind: str
) -> None:
    # Given a Stripe-signed body malformed in one way
    module, customer = hook
    name, change = MALFORMED[kind]
    payload = event_of(name, customer, change)

    # When it is delivered, and delivered again
    first = post(module, payload, sign(payload))
    again = post(module, payload, sign(payload))

    # Then it is refused (400: not an event) or acknowledged as rejected (200: Stripe stops), and
    # the ledger holds no payment
    assert first.status_code < 500 and again.status_code == first.status_code, first.body
    answer = json.loads(first.body)
    assert first.status_code == 400 or answer["action"] in {"rejected", "ignored"}, answer
    assert nothing_booked()


def test_a_refund_in_another_currency_than_its_payment_is_rejected_and_refunds_nothing(
    hook: tuple[ModuleType, str],
) -> None:
    # Given a payment of 1190.00 EUR recorded from its Checkout Session
    module, customer = hook
    session = fixture(SESSION, customer)
    assert post(module, session, sign(session)).status_code == 200

    # When a refund of the charge arrives in dollars
    refund = event_of("charge.refunded", customer, setting("currency", "usd"))
    response = post(module, refund, sign(refund))

    # Then it is acknowledged as rejected, with why, and nothing is refunded
    assert response.status_code == 200
    answer = json.loads(response.body)
    assert answer["action"] == "rejected" and "USD" in answer["reason"]
    payment = store.get_payment(payment_id_for("stripe", PAYMENT_INTENT))
    assert payment is not None and payment.refunded == Money(0, "EUR")
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.status is InvoiceStatus.PAID


def test_a_dispute_in_another_currency_than_its_payment_is_rejected_and_changes_nothing(
    hook: tuple[ModuleType, str],
) -> None:
    module, customer = hook
    session = fixture(SESSION, customer)
    post(module, session, sign(session))

    dispute = event_of("charge.dispute.created", customer, setting("currency", "jpy"))
    response = post(module, dispute, sign(dispute))

    assert response.status_code == 200 and json.loads(response.body)["action"] == "rejected"
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.status is InvoiceStatus.PAID


def test_a_webhook_payment_never_pays_another_customers_invoice(hook: tuple[ModuleType, str]) -> None:
    # Given a succeeded PaymentIntent of customer Q whose metadata names P's invoice
    module, p = hook
    other = store.get_invoice(OTHER_INVOICE)
    assert other is not None and other.customer_id != p
    q = other.customer_id
    payload = event_of(INTENT, p, setting("metadata", {"invoice_id": INVOICE, "customer_id": q}))

    # When Stripe delivers it
    response = post(module, payload, sign(payload))

    # Then it is acknowledged, P's invoice is untouched (nor is Q's guessed at), and the money waits
    # unapplied on Q with the refusal and its reason in the payment's audit trail
    assert response.status_code == 200 and json.loads(response.body)["action"] == "payment_recorded"
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and (invoice.status, invoice.balance) == (
        InvoiceStatus.OPEN,
        Money(119000, "EUR"),
    )
    q_invoice = store.get_invoice(OTHER_INVOICE)
    assert q_invoice is not None and q_invoice.balance == other.balance
    payment = store.get_payment(payment_id_for("stripe", PAYMENT_INTENT))
    assert payment is not None
    assert (payment.customer_id, payment.allocations, payment.unapplied) == (q, (), Money(119000, "EUR"))
    (received,) = store.audit_events(store.payment_pk(payment.payment_id))
    assert received.type == "PaymentReceived"
    assert received.data["refused_targets"] == [
        {"invoice_id": INVOICE, "reason": f"an invoice of {p}, not of the payer {q}"}
    ]


def test_a_webhook_payment_naming_an_unknown_customer_pays_nothing(hook: tuple[ModuleType, str]) -> None:
    module, p = hook
    payload = event_of(INTENT, p, setting("metadata", {"invoice_id": INVOICE, "customer_id": "cus_nobody"}))

    response = post(module, payload, sign(payload))

    assert response.status_code == 200
    payment = store.get_payment(payment_id_for("stripe", PAYMENT_INTENT))
    assert payment is not None and payment.allocations == () and payment.customer_id is None
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.balance == Money(119000, "EUR")


def test_a_failed_or_processing_payment_of_one_customer_never_touches_anothers_invoice(
    hook: tuple[ModuleType, str],
) -> None:
    # Given customer Q's autopay failure and Q's debit in processing, whose metadata names P's invoice
    module, p = hook
    other = store.get_invoice(OTHER_INVOICE)
    assert other is not None
    q = other.customer_id
    metadata = {"invoice_id": INVOICE, "customer_id": q, "source": "autopay"}
    failed = event_of("payment_intent.payment_failed", p, setting("metadata", metadata))

    def processing(obj: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(fixture(INTENT, p))
        event["id"], event["type"] = "evt_processing_q", "payment_intent.processing"
        event["data"]["object"].update(status="processing", metadata=metadata, amount=119000)
        event["data"]["object"]["payment_method_types"] = ["sepa_debit"]
        return event

    in_processing = event_of(INTENT, p, processing)

    # When Stripe delivers both
    answers = [post(module, body, sign(body)).status_code for body in (in_processing, failed)]

    # Then P's invoice carries neither a processing note nor a failure
    invoice = store.get_invoice(INVOICE)
    assert answers == [200, 200]
    assert (
        invoice is not None and invoice.dunning.processing is None and invoice.dunning.payment_failure is None
    )
    assert [e.type for e in store.invoice_events(INVOICE)] == ["InvoiceIngested"]
