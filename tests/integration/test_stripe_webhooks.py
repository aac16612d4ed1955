"""Stripe webhooks against Stripe-shaped fixtures: good, forged, stale, duplicated and reordered."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import stripe

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.payments.allocation import payment_id_for
from receivables.payments.stripe_events import RetryLaterError, WebhookRejectedError, handle_event, verify
from receivables.storage import store
from tests.conftest import REPO_ROOT, SAMPLES

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "stripe"
SECRET = "whsec_test_0123456789abcdef"
CLIENT = stripe.StripeClient("sk_test_local")
INVOICE = document_id("self", DocumentType.INVOICE, "INV-2026-1001")  # 1190.00 EUR in the sample


def fixture(name: str, customer_id: str) -> bytes:
    text = (FIXTURES / f"{name}.json").read_text()
    return text.replace("__INVOICE_ID__", INVOICE).replace("__CUSTOMER_ID__", customer_id).encode()


def sign(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header, computed as Stripe computes it."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(payload: bytes, aws: Aws, signature: str | None = None) -> str:
    event = verify(
        payload, signature if signature is not None else sign(payload), SECRET, CLIENT.construct_event
    )
    return handle_event(event, aws.clock).action


@pytest.fixture
def customer(aws: Aws) -> str:
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    return invoice.customer_id


def invoice_state() -> tuple[InvoiceStatus, Money]:
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    return invoice.status, invoice.balance


def test_a_paid_checkout_session_pays_the_invoice(aws: Aws, customer: str) -> None:
    assert deliver(fixture("checkout.session.completed", customer), aws) == "payment_recorded"
    assert invoice_state() == (InvoiceStatus.PAID, Money(0, "EUR"))


@pytest.mark.parametrize(
    ("describe", "signature"),
    [
        ("unsigned", ""),
        ("wrong secret", "forged"),
        ("stale", "stale"),
        ("garbage header", "t=1,v1=00"),
    ],
)
def test_a_forged_or_stale_webhook_is_rejected_and_changes_nothing(
    aws: Aws, customer: str, describe: str, signature: str
) -> None:
    payload = fixture("checkout.session.completed", customer)
    header = {
        "forged": sign(payload, secret="whsec_not_ours"),
        "stale": sign(payload, at=int(time.time()) - 301),
    }.get(signature, signature)

    with pytest.raises(WebhookRejectedError, match="signature"):
        deliver(payload, aws, header)

    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR")), describe


def test_a_tampered_body_fails_its_signature(aws: Aws, customer: str) -> None:
    payload = fixture("checkout.session.completed", customer)
    header = sign(payload)

    with pytest.raises(WebhookRejectedError):
        deliver(payload.replace(b"119000", b"1"), aws, header)


def test_duplicates_and_both_success_events_record_one_payment(aws: Aws, customer: str) -> None:
    session = fixture("checkout.session.completed", customer)
    intent = fixture("payment_intent.succeeded", customer)

    actions = [deliver(intent, aws), deliver(session, aws), deliver(session, aws), deliver(intent, aws)]

    assert actions == ["payment_recorded", "duplicate", "duplicate", "duplicate"]
    assert [e.type for e in store.invoice_events(INVOICE)] == ["InvoiceIngested", "PaymentApplied"]


def test_a_refund_that_overtakes_its_payment_is_retried_then_applied(aws: Aws, customer: str) -> None:
    refund = fixture("charge.refunded", customer)

    with pytest.raises(RetryLaterError):
        deliver(refund, aws)
    deliver(fixture("checkout.session.completed", customer), aws)
    assert deliver(refund, aws) == "refunded"
    assert deliver(refund, aws) == "refunded"  # the same state again: nothing more is refunded

    assert invoice_state() == (InvoiceStatus.PARTIALLY_PAID, Money(19000, "EUR"))


def test_a_declined_card_leaves_the_invoice_open(aws: Aws, customer: str) -> None:
    assert deliver(fixture("payment_intent.payment_failed", customer), aws) == "payment_failed"
    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))


def debit_session(customer: str, kind: str) -> dict[str, Any]:
    """The Checkout Session of a SEPA debit, at one of its three events."""
    event: dict[str, Any] = json.loads(fixture("checkout.session.completed", customer))
    event["type"] = kind
    session = event["data"]["object"]
    session["payment_method_types"] = ["sepa_debit"]
    session["payment_status"] = "unpaid" if kind == "checkout.session.completed" else "paid"
    return event


def processing_of() -> Any:
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    return invoice.dunning.processing


def test_a_debit_is_processing_until_it_arrives_and_never_counts_as_paid(aws: Aws, customer: str) -> None:
    completed = debit_session(customer, "checkout.session.completed")

    assert handle_event(completed, aws.clock).action == "payment_processing"
    assert handle_event(completed, aws.clock).action == "payment_processing"  # delivered twice
    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))
    processing = processing_of()
    assert processing is not None
    assert (processing.payment_intent, processing.method) == ("pi_3SessionCompleted0001", "sepa_debit")
    assert processing.amount == Money(119000, "EUR")
    kinds = [e.type for e in store.invoice_events(INVOICE)]
    assert kinds.count("PaymentProcessing") == 1

    succeeded = debit_session(customer, "checkout.session.async_payment_succeeded")
    assert handle_event(succeeded, aws.clock).action == "payment_recorded"
    assert invoice_state() == (InvoiceStatus.PAID, Money(0, "EUR"))
    assert processing_of() is None
    payment = store.get_payment(payment_id_for("stripe", "pi_3SessionCompleted0001"))
    assert payment is not None and payment.method == "sepa_debit"


def test_a_late_processing_event_after_the_money_arrived_notes_nothing(aws: Aws, customer: str) -> None:
    succeeded = debit_session(customer, "checkout.session.async_payment_succeeded")
    assert handle_event(succeeded, aws.clock).action == "payment_recorded"

    handle_event(debit_session(customer, "checkout.session.completed"), aws.clock)

    assert invoice_state() == (InvoiceStatus.PAID, Money(0, "EUR"))
    assert processing_of() is None


def test_a_failed_debit_reopens_the_invoice_and_tells_finance(aws: Aws, customer: str) -> None:
    handle_event(debit_session(customer, "checkout.session.completed"), aws.clock)
    failed = debit_session(customer, "checkout.session.async_payment_failed")
    failed["data"]["object"]["payment_status"] = "unpaid"

    assert handle_event(failed, aws.clock).action == "payment_failed"
    assert handle_event(failed, aws.clock).action == "payment_failed"  # again: nothing more

    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    assert (invoice.status, invoice.balance) == (InvoiceStatus.OPEN, Money(119000, "EUR"))
    assert invoice.dunning.processing is None
    assert "pi_3SessionCompleted0001" in (invoice.dunning.payment_failure or "")
    notices = [e for e in store.invoice_events(INVOICE) if e.type == "PaymentFailed"]
    assert len(notices) == 1
    assert notices[0].data["method"] == "sepa_debit"


def test_a_debit_failure_that_overtakes_its_processing_event_leaves_no_note(aws: Aws, customer: str) -> None:
    failed = debit_session(customer, "checkout.session.async_payment_failed")
    failed["data"]["object"]["payment_status"] = "unpaid"

    assert handle_event(failed, aws.clock).action == "payment_failed"
    handle_event(debit_session(customer, "checkout.session.completed"), aws.clock)  # late

    assert processing_of() is None, "nothing would ever end that note"
    assert [e.type for e in store.invoice_events(INVOICE)].count("PaymentFailed") == 1
    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))


def test_a_second_debit_does_not_take_the_first_ones_note(aws: Aws, customer: str) -> None:
    handle_event(debit_session(customer, "checkout.session.completed"), aws.clock)
    other = debit_session(customer, "checkout.session.completed")
    other["data"]["object"]["payment_intent"] = "pi_3SecondDebit"

    handle_event(other, aws.clock)

    processing = processing_of()
    assert processing is not None and processing.payment_intent == "pi_3SessionCompleted0001"


def test_a_card_the_payer_retries_on_checkout_tells_nobody(aws: Aws, customer: str) -> None:
    assert deliver(fixture("payment_intent.payment_failed", customer), aws) == "payment_failed"

    assert [e for e in store.invoice_events(INVOICE) if e.type == "PaymentFailed"] == []


def test_an_off_session_debit_is_noted_from_its_payment_intent(aws: Aws, customer: str) -> None:
    event: dict[str, Any] = json.loads(fixture("payment_intent.succeeded", customer))
    event["type"] = "payment_intent.processing"
    intent = event["data"]["object"]
    intent.update(status="processing", payment_method_types=["us_bank_account"], amount_received=0)
    intent["amount"], intent["currency"] = 50000, "eur"

    assert handle_event(event, aws.clock).action == "payment_processing"

    processing = processing_of()
    assert processing is not None and processing.amount == Money(50000, "EUR")
    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))


def test_the_fixtures_are_stripe_events() -> None:
    for path in Path(FIXTURES).glob("*.json"):
        event = json.loads(path.read_text())
        assert event["object"] == "event" and event["type"] == path.stem
        kinds = {"checkout.session", "payment_intent", "charge", "dispute"}
        assert event["data"]["object"]["object"] in kinds


def dispute(customer: str, kind: str, status: str) -> bytes:
    event: dict[str, Any] = json.loads(fixture(f"charge.dispute.{kind}", customer))
    event["data"]["object"]["status"] = status
    return json.dumps(event).encode()


def test_a_chargeback_puts_the_invoice_under_dispute_and_a_won_one_restores_it(
    aws: Aws, customer: str
) -> None:
    deliver(fixture("checkout.session.completed", customer), aws)

    assert deliver(dispute(customer, "created", "needs_response"), aws) == "dispute_opened"
    assert deliver(dispute(customer, "created", "needs_response"), aws) == "already_open"
    assert invoice_state() == (InvoiceStatus.DISPUTED, Money(0, "EUR"))
    assert deliver(dispute(customer, "closed", "won"), aws) == "dispute_won"
    assert invoice_state() == (InvoiceStatus.PAID, Money(0, "EUR"))
    kinds = [e.type for e in store.invoice_events(INVOICE)]
    assert kinds[-2:] == ["ChargebackOpened", "ChargebackClosed"]


def test_a_lost_chargeback_takes_the_money_back_once_whatever_the_order(aws: Aws, customer: str) -> None:
    deliver(fixture("checkout.session.completed", customer), aws)

    # The closing event overtakes the opening one, then both come again.
    assert deliver(dispute(customer, "closed", "lost"), aws) == "dispute_lost"
    assert deliver(dispute(customer, "created", "needs_response"), aws) == "already_closed"
    assert deliver(dispute(customer, "closed", "lost"), aws) == "already_closed"

    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))
    payment = store.get_payment(payment_id_for("stripe", "pi_3SessionCompleted0001"))
    assert payment is not None and payment.refunded == Money(119000, "EUR")


def test_a_dispute_of_an_unknown_payment_is_retried_later(aws: Aws, customer: str) -> None:
    with pytest.raises(RetryLaterError):
        deliver(dispute(customer, "created", "needs_response"), aws)
    assert invoice_state() == (InvoiceStatus.OPEN, Money(119000, "EUR"))
