"""The invoice email carries what the customer's AP desk needs: the PDF (the one their e-invoice
came with, as received, or one rendered from the data), the e-invoice for those who asked for it
(as received, or built as Peppol BIS 3.0), nothing for portal-only customers; the audit event
names the channel and each attachment."""

from __future__ import annotations

import email
import json
from dataclasses import replace
from email import policy
from typing import TYPE_CHECKING, Any

import pytest
from defusedxml.ElementTree import fromstring

from receivables.banking.creditor_reference import creditor_reference, format, invoice_id_of, is_valid
from receivables.collections.finance import change_customer
from receivables.documents.words import WORDS
from receivables.ingest.model import ParsedDocument
from receivables.ingest.ubl import parse_ubl
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.mail.einvoice import CAC_NS, CBC_NS, Seller
from receivables.mail.mailer import MailSettings, send_invoice_email
from receivables.storage import store
from tests.conftest import EINVOICES
from tests.integration.conftest import BUCKET
from tests.integration.test_portal_documents import PDF, with_attachments
from tests.pdf_text import pdf_text

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

KEY = b"k" * 48
SELLER = Seller("Seller & Co", "DE", "9930", "DE123456789", vat_id="DE123456789")
SETTINGS = MailSettings(
    "billing@seller.example", "Seller & Co", "ar@seller.example", "https://p.example", seller=SELLER
)
ACCOUNTS = {"EUR": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"}
CSV = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "D-1,2026-10-01,2026-12-31,EUR,C-D,Dune Foods,ap@dune.example,119.00\n"
)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def __call__(self, to: str, raw: bytes) -> str:
        self.sent.append(email.message_from_bytes(raw, policy=policy.default))
        return f"msg-{len(self.sent)}"


def files(message: Any) -> dict[str, tuple[str, bytes]]:
    return {p.get_filename(): (p.get_content_type(), p.get_content()) for p in message.iter_attachments()}


def read(aws: Aws) -> Any:
    def reader(bucket: str, key: str) -> bytes | None:
        try:
            data: bytes = aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except aws.s3.exceptions.NoSuchKey:
            return None
        return data

    return reader


def deliver_as(aws: Aws, invoice_id: str, delivery: str) -> Any:
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None
    change_customer(
        invoice.customer_id, lambda c: replace(c, invoice_delivery=delivery), "Test", {}, "t", aws.clock
    )
    outbox = Outbox()
    outcome = send_invoice_email(invoice_id, SETTINGS, KEY, outbox, aws.clock, read(aws))
    assert outcome.action == "sent", outcome
    (message,) = outbox.sent
    return message


def delivered(invoice_id: str) -> dict[str, Any]:
    (event,) = [e for e in store.invoice_events(invoice_id) if e.type == "InvoiceEmailed"]
    return event.data


def test_a_csv_invoice_goes_with_a_rendered_pdf_and_a_built_einvoice_for_those_who_want_one(aws: Aws) -> None:
    aws.drop("inbox/d.csv", CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")

    message = deliver_as(aws, invoice_id, "email_einvoice")

    attached = files(message)
    assert set(attached) == {"invoice-D-1.pdf", "invoice-D-1.xml"}
    assert attached["invoice-D-1.pdf"][0] == "application/pdf" and attached["invoice-D-1.pdf"][1].startswith(
        b"%PDF"
    )
    parsed = parse_ubl(attached["invoice-D-1.xml"][1])
    assert isinstance(parsed, ParsedDocument) and parsed.number == "D-1" and parsed.total.minor == 11900
    assert message.get_body(preferencelist=("plain",)) is not None, "the text and HTML are still there"
    data = delivered(invoice_id)
    assert (data["channel"], data["delivery"]) == ("email", "email_einvoice")
    assert [(a["name"], a["origin"]) for a in data["attachments"]] == [
        ("invoice-D-1.pdf", "rendered"),
        ("invoice-D-1.xml", "built"),
    ]


def test_a_peppol_invoice_goes_with_the_pdf_and_xml_it_came_with(aws: Aws) -> None:
    xml = with_attachments((EINVOICES / "base-example.xml").read_text())
    aws.drop("inbox/peppol/Snippet1.xml", xml)
    invoice_id = document_id("vat:GB1232434", DocumentType.INVOICE, "Snippet1")

    message = deliver_as(aws, invoice_id, "email_einvoice")

    attached = files(message)
    stored = aws.s3.get_object(Bucket=BUCKET, Key="processed/peppol/Snippet1.xml")["Body"].read()
    assert attached["invoice-Snippet1.pdf"][1] == PDF
    assert attached["invoice-Snippet1.xml"][1] == stored
    assert [a["origin"] for a in delivered(invoice_id)["attachments"]] == ["received", "received"]


def test_the_default_is_the_pdf_and_portal_only_attaches_nothing(aws: Aws) -> None:
    aws.drop("inbox/d.csv", CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None

    outbox = Outbox()
    send_invoice_email(invoice_id, SETTINGS, KEY, outbox, aws.clock, read(aws))
    assert list(files(outbox.sent[0])) == ["invoice-D-1.pdf"]
    assert delivered(invoice_id)["delivery"] == "email_pdf"

    aws.drop("inbox/d2.csv", CSV.replace("D-1", "D-2"))
    portal_only = deliver_as(aws, document_id("self", DocumentType.INVOICE, "D-2"), "portal_only")
    assert files(portal_only) == {}


def test_a_credit_note_goes_as_an_einvoice_to_a_customer_who_takes_them_once(aws: Aws) -> None:
    from receivables.mail.mailer import send_credit_note

    aws.drop(
        "inbox/cn.csv",
        CSV.replace("total_amount\n", "total_amount,document_type,billing_reference\n").replace(
            "119.00\n",
            "119.00,invoice,\nCN-1,2026-10-05,,EUR,C-D,Dune Foods,ap@dune.example,19.00,credit_note,D-1\n",
        ),
    )
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")
    note_id = document_id("self", DocumentType.CREDIT_NOTE, "CN-1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None and invoice.balance.to_decimal_string() == "100.00"
    outbox = Outbox()
    assert send_credit_note({"credit_note_id": note_id}, SETTINGS, outbox, aws.clock).action == "skipped"
    change_customer(
        invoice.customer_id,
        lambda c: replace(c, invoice_delivery="email_einvoice"),
        "Test",
        {},
        "t",
        aws.clock,
    )

    sent = send_credit_note({"credit_note_id": note_id}, SETTINGS, outbox, aws.clock, read(aws))
    again = send_credit_note({"credit_note_id": note_id}, SETTINGS, outbox, aws.clock, read(aws))

    assert (sent.action, again.action) == ("sent", "already_sent") and len(outbox.sent) == 1
    ((name, (kind, xml)),) = files(outbox.sent[0]).items()
    assert (name, kind) == ("credit-note-CN-1.xml", "application/xml")
    parsed = parse_ubl(xml)
    assert isinstance(parsed, ParsedDocument) and parsed.doc_type is DocumentType.CREDIT_NOTE
    assert (parsed.number, parsed.billing_reference, parsed.payable.to_decimal_string()) == (
        "CN-1",
        "D-1",
        "19.00",
    )
    (event,) = [e for e in store.audit_events(store.credit_note_pk(note_id)) if e.type == "CreditNoteEmailed"]
    assert event.data["attachments"][0]["origin"] == "built" and event.data["to"] == "ap@dune.example"


@pytest.mark.parametrize(
    ("language", "label"), [("de", "Zahlungsreferenz: "), ("fr", "Référence de paiement\u00a0: ")]
)
def test_the_email_its_pdf_and_its_einvoice_carry_the_invoices_rf_reference(
    aws: Aws, language: str, label: str
) -> None:
    """Issue 22: with an account in the invoice's currency, the email's text and HTML and the
    rendered PDF say how to pay by transfer, quoting the invoice's RF reference; the built
    e-invoice carries the same reference as its PaymentID."""
    aws.drop("inbox/d.csv", CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None
    change_customer(
        invoice.customer_id,
        lambda c: replace(c, language=language, invoice_delivery="email_einvoice"),
        "Test",
        {},
        "t",
        aws.clock,
    )
    settings = replace(SETTINGS, bank_accounts=ACCOUNTS)
    outbox = Outbox()

    assert send_invoice_email(invoice_id, settings, KEY, outbox, aws.clock, read(aws)).action == "sent"

    (message,) = outbox.sent
    reference = creditor_reference(invoice_id)
    printed = format(reference)
    assert is_valid(printed) and invoice_id_of(printed) == invoice_id
    text = message.get_body(preferencelist=("plain",)).get_content()
    page = message.get_body(preferencelist=("html",)).get_content()
    assert label + printed in text and ACCOUNTS["EUR"] in text
    assert label + printed in page and ACCOUNTS["EUR"] in page
    assert WORDS[language]["quote_reference"] in text
    attached = files(message)
    shown = pdf_text(attached["invoice-D-1.pdf"][1]).split("\n")
    assert shown[shown.index(WORDS[language]["payment_reference"]) + 1] == printed
    xml = fromstring(attached["invoice-D-1.xml"][1])
    assert xml.findtext(f"{{{CAC_NS}}}PaymentMeans/{{{CBC_NS}}}PaymentID") == reference
    parsed = parse_ubl(attached["invoice-D-1.xml"][1])
    assert isinstance(parsed, ParsedDocument) and parsed.number == "D-1", "ingest still reads it back"


def test_without_an_account_in_the_currency_the_email_prints_no_transfer(aws: Aws) -> None:
    aws.drop("inbox/d.csv", CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")
    outbox = Outbox()
    settings = replace(SETTINGS, bank_accounts={"USD": "ACH routing 110000000, account 000123456789"})

    send_invoice_email(invoice_id, settings, KEY, outbox, aws.clock, read(aws))

    text = outbox.sent[0].get_body(preferencelist=("plain",)).get_content()
    assert format(creditor_reference(invoice_id)) not in text and "Payment reference" not in text
    assert "RF" not in pdf_text(files(outbox.sent[0])["invoice-D-1.pdf"][1])


def test_the_mail_settings_read_our_accounts_from_the_environment() -> None:
    env = {"SENDER_EMAIL": "billing@seller.example", "PUBLIC_BASE_URL": "https://p.example"}
    assert MailSettings.from_env(env).bank_accounts == {}
    assert MailSettings.from_env({**env, "BANK_ACCOUNTS": json.dumps(ACCOUNTS)}).bank_accounts == ACCOUNTS


PAPER_CSV = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_address,"
    "customer_postcode,customer_city,customer_country,total_amount\n"
    'P-1,2026-10-01,2026-12-31,EUR,C-P,Papier Huber,"Hauptstr. 5; Hinterhaus",80331,München,DE,119.00\n'
)


def test_a_customer_with_a_postal_address_and_no_email_gets_the_invoice_on_paper(aws: Aws) -> None:
    aws.drop("inbox/paper.csv", PAPER_CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "P-1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None
    customer = store.get_customer(invoice.customer_id)
    assert customer is not None and not customer.needs_contact_details
    assert customer.postal_address == ("Papier Huber", "Hauptstr. 5", "Hinterhaus", "80331 München", "DE")

    def put(key: str, data: bytes, content_type: str) -> None:
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)

    outbox = Outbox()
    outcome = send_invoice_email(invoice_id, SETTINGS, KEY, outbox, aws.clock, read(aws), put)
    again = send_invoice_email(invoice_id, SETTINGS, KEY, outbox, aws.clock, read(aws), put)

    assert (outcome.action, again.action, outbox.sent) == ("queued_for_print", "already_sent", [])
    folder = f"print/queue/{aws.clock.now().date().isoformat()}/{invoice_id}/"
    assert outcome.detail == folder
    manifest = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=folder + "manifest.json")["Body"].read())
    assert manifest["address"] == list(customer.postal_address)
    (letter,) = manifest["files"]
    shown = pdf_text(aws.s3.get_object(Bucket=BUCKET, Key=folder + letter)["Body"].read())
    assert "Hauptstr. 5" in shown and "80331 München" in shown
    queued = [e for e in store.invoice_events(invoice_id) if e.type == "InvoiceQueuedForPrint"]
    assert len(queued) == 1 and queued[0].data["print_job"] == folder


def test_a_paper_customer_without_an_address_is_skipped_with_why(aws: Aws) -> None:
    aws.drop("inbox/d.csv", CSV)
    invoice_id = document_id("self", DocumentType.INVOICE, "D-1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None
    change_customer(
        invoice.customer_id, lambda c: replace(c, invoice_delivery="paper"), "Test", {}, "t", aws.clock
    )

    outcome = send_invoice_email(invoice_id, SETTINGS, KEY, Outbox(), aws.clock, read(aws))

    assert (outcome.action, outcome.detail) == (
        "skipped",
        "the customer takes paper but has no postal address",
    )
