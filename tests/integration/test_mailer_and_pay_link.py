"""The invoice email (once, to the customer, with a signed pay link) and the pay link's answers."""

from __future__ import annotations

import email
from email import policy
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.customers.links import LinkScope, sign_link
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.mail.mailer import MailSettings, send_invoice_email
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings, Redirect, open_pay_link
from receivables.web.pages import Page
from receivables_local.functions import load_function
from tests.integration.conftest import REGION

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

KEY = b"k" * 48
SETTINGS = MailSettings(
    sender="billing@seller.example",
    seller_name="Seller & Co",
    contact="ar@seller.example",
    public_base_url="https://pay.seller.example",
)
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "M-1,2026-10-01,2026-10-31,EUR,C1,Acme <GmbH>,ap@acme.example,1190.00\n"
    "M-2,2026-10-02,2026-11-01,EUR,C2,No Mail Ltd,,50.00\n"
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


class Outbox:
    """An SES stand-in that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def __call__(self, to: str, raw: bytes) -> str:
        self.sent.append((to, raw))
        return f"msg-{len(self.sent)}"


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/mail.csv", LEDGER)
    return aws


def test_the_invoice_email_is_sent_once_with_a_pay_link(ledger: Aws) -> None:
    outbox = Outbox()
    first = send_invoice_email(inv("M-1"), SETTINGS, KEY, outbox, ledger.clock)
    again = send_invoice_email(inv("M-1"), SETTINGS, KEY, outbox, ledger.clock)

    assert (first.action, again.action) == ("sent", "already_sent")
    assert len(outbox.sent) == 1
    to, raw = outbox.sent[0]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert to == "ap@acme.example"
    assert message["Subject"] == "Invoice M-1 from Seller & Co: 1,190.00 EUR due 31 October 2026"
    assert message["Reply-To"] == "ar@seller.example"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "https://pay.seller.example/pay/" in text.get_content()
    assert "Acme &lt;GmbH&gt;" in html.get_content()
    kinds = [e.type for e in store.invoice_events(inv("M-1"))]
    assert kinds == ["InvoiceIngested", "InvoiceEmailed"]


def test_a_customer_without_email_is_not_mailed(ledger: Aws) -> None:
    outbox = Outbox()
    outcome = send_invoice_email(inv("M-2"), SETTINGS, KEY, outbox, ledger.clock)
    assert (outcome.action, outcome.detail) == ("skipped", "the customer has no email address")
    assert outbox.sent == []


def test_the_mailer_function_sends_through_ses_once_per_event_delivery(ledger: Aws) -> None:
    ses = boto3.client("sesv2", region_name=REGION)
    ses.create_email_identity(EmailIdentity=SETTINGS.sender)
    mailer = load_function("mailer")
    deps = mailer.Dependencies(SETTINGS, lambda: KEY, mailer.ses_sender(SETTINGS.sender), ledger.clock)
    event = {"detail-type": "InvoiceIngested", "detail": {"invoice_id": inv("M-1")}}
    results = [mailer.handle(event, deps) for _ in range(3)]

    assert [r["action"] for r in results] == ["sent", "already_sent", "already_sent"]
    from moto.ses.models import ses_backends

    sent = ses_backends["123456789012"][REGION].sent_messages
    assert len(sent) == 1 and "Subject: Invoice M-1" in sent[0].raw_data


def test_finance_is_told_once_of_a_failed_debit(ledger: Aws) -> None:
    from receivables.payments.processing import mark_processing, record_failure

    mark_processing("pi_sepa_9", Money(119000, "EUR"), "sepa_debit", [inv("M-1")], ledger.clock)
    record_failure("pi_sepa_9", [inv("M-1")], "The account has insufficient funds.", ledger.clock)
    (failed,) = [e for e in store.invoice_events(inv("M-1")) if e.type == "PaymentFailed"]
    detail = {"event_id": f"{inv('M-1')}#{failed.seq}", "invoice_id": inv("M-1"), **failed.data}
    mailer = load_function("mailer")
    outbox = Outbox()
    deps = mailer.Dependencies(SETTINGS, lambda: KEY, outbox, ledger.clock)

    results = [mailer.handle({"detail-type": "PaymentFailed", "detail": detail}, deps) for _ in range(2)]

    assert [r["action"] for r in results] == ["sent", "already_sent"]
    ((to, raw),) = outbox.sent
    text = raw.decode()
    assert to == "ar@seller.example" and "Subject: Payment failed: invoice M-1 (Acme <GmbH>)" in text
    assert "sepa_debit" in text and "insufficient funds" in text and "dunning resumes" in text


class Stripe:
    """Records Checkout Session requests; answers as Stripe does."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []

    def __call__(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        self.calls.append((params, key))
        return {"id": "cs_test_1", "url": "https://checkout.example/cs_test_1", "status": "open"}


PAY = PayLinkSettings("https://pay.seller.example", "ar@seller.example")


def token(ledger: Aws, number: str, *, customer: str | None = None, seconds: int = 3600) -> str:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    expires = int(ledger.clock.now().timestamp()) + seconds
    return sign_link(LinkScope("pay", customer or invoice.customer_id, invoice.invoice_id, expires), KEY)


def test_the_pay_link_opens_checkout_for_the_current_balance(ledger: Aws) -> None:
    stripe = Stripe()
    link = token(ledger, "M-1")
    answer = open_pay_link(link, KEY, stripe, ledger.clock, PAY)
    again = open_pay_link(link, KEY, stripe, ledger.clock, PAY)

    assert isinstance(answer, Redirect) and answer.location == "https://checkout.example/cs_test_1"
    assert isinstance(again, Redirect)
    (params, key), (_, key_again) = stripe.calls
    assert key == key_again  # Stripe returns the same session for the same key
    line = params["line_items"][0]["price_data"]
    assert (line["currency"], line["unit_amount"]) == ("eur", 119000)
    assert params["metadata"]["invoice_id"] == inv("M-1")
    assert params["payment_intent_data"]["metadata"]["customer_id"] == params["metadata"]["customer_id"]
    assert params["success_url"].startswith(f"https://pay.seller.example/pay/{link}/done")
    assert params["allowed_payment_method_types"] == ["card", "sepa_debit"]  # euros


def test_a_pay_link_of_an_invoice_being_debited_opens_no_second_checkout(ledger: Aws) -> None:
    from receivables.payments.processing import mark_processing

    mark_processing("pi_sepa_1", Money(119000, "EUR"), "sepa_debit", [inv("M-1")], ledger.clock)
    stripe = Stripe()

    page = open_pay_link(token(ledger, "M-1"), KEY, stripe, ledger.clock, PAY)

    assert isinstance(page, Page) and page.status == 200 and "is being paid" in page.title
    assert stripe.calls == []


@pytest.mark.parametrize(
    ("mangle", "status"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), 400),
        (lambda t: "x" + t, 400),
        (lambda t: "garbage", 400),
    ],
)
def test_a_tampered_link_gets_a_4xx_page_and_no_stripe_call(ledger: Aws, mangle: Any, status: int) -> None:
    stripe = Stripe()
    answer = open_pay_link(mangle(token(ledger, "M-1")), KEY, stripe, ledger.clock, PAY)
    assert isinstance(answer, Page) and answer.status == status
    assert stripe.calls == []


def test_an_expired_link_and_a_link_for_another_customer_are_refused(ledger: Aws) -> None:
    stripe = Stripe()
    expired = open_pay_link(token(ledger, "M-1", seconds=-1), KEY, stripe, ledger.clock, PAY)
    foreign = open_pay_link(token(ledger, "M-1", customer="cus_other"), KEY, stripe, ledger.clock, PAY)
    assert isinstance(expired, Page) and expired.status == 410
    assert isinstance(foreign, Page) and foreign.status == 404
    assert stripe.calls == []


def test_a_link_finance_revoked_is_refused_and_a_new_one_works(ledger: Aws) -> None:
    from receivables.collections.finance import revoke_links

    stripe = Stripe()
    old = token(ledger, "M-1")
    invoice = store.get_invoice(inv("M-1"))
    assert invoice is not None
    customer = revoke_links(
        invoice.customer_id, "the AP mailbox was compromised", "finance:u-1", ledger.clock
    )
    assert customer.link_generation == 1
    refused = open_pay_link(old, KEY, stripe, ledger.clock, PAY)
    assert isinstance(refused, Page) and refused.status == 410 and "no longer valid" in refused.title
    assert stripe.calls == []
    events = store.audit_events(store.customer_pk(invoice.customer_id))
    assert events[-1].type == "LinksRevoked" and events[-1].actor == "finance:u-1"

    expires = int(ledger.clock.now().timestamp()) + 3600
    fresh = sign_link(LinkScope("pay", invoice.customer_id, invoice.invoice_id, expires, generation=1), KEY)
    assert isinstance(open_pay_link(fresh, KEY, stripe, ledger.clock, PAY), Redirect)


@pytest.mark.parametrize(
    ("status", "code", "title"),
    [
        (InvoiceStatus.PAID, 200, "is paid"),
        (InvoiceStatus.DISPUTED, 409, "under review"),
        (InvoiceStatus.VOID, 410, "no longer payable"),
    ],
)
def test_a_settled_disputed_or_void_invoice_gets_a_page_not_a_charge(
    ledger: Aws, status: InvoiceStatus, code: int, title: str
) -> None:
    from dataclasses import replace

    from receivables.ledger.model import AuditEvent

    invoice = store.get_invoice(inv("M-1"))
    assert invoice is not None
    changed = replace(invoice, status=status, version=invoice.version + 1)
    store.apply_changes(
        [(changed, AuditEvent(invoice.invoice_id, 2, "Test", "2026-11-02T09:00:00.000Z", "t", {}))]
    )
    stripe = Stripe()
    answer = open_pay_link(token(ledger, "M-1"), KEY, stripe, ledger.clock, PAY)
    assert isinstance(answer, Page) and answer.status == code and title in answer.title
    assert stripe.calls == []
