"""Peppol e-invoices out: whatever invoice or credit note we build, our own ingest reads back the
same document (number, dates, currency, totals, tax, lines, references, seller and buyer), and the
document follows the Peppol rules ingest and AP systems check (sums, tax subtotals, required
parties, the credited invoice's reference)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.ingest.model import ParsedDocument
from receivables.ingest.ubl import parse_ubl
from receivables.kernel.money import Money
from receivables.ledger.model import CreditNote, Customer, DocumentType, InvoiceLine, PartyId, SourceRef
from receivables.mail.einvoice import (
    CAC_NS,
    CBC_NS,
    CREDIT_NOTE_NS,
    CUSTOMIZATION,
    PROFILE,
    Seller,
    build_credit_note,
    build_invoice,
)
from tests.conftest import EINVOICES
from tests.unit.ledger.test_ledger import make_invoice

if TYPE_CHECKING:
    from receivables.ledger.model import Invoice

SELLER = Seller("Receivables Demo GmbH", "DE", "9930", "DE123456789", vat_id="DE123456789", city="Berlin")
BUYER = Customer(
    "cus_buyer",
    "Acme & Söhne <AP>",
    (PartyId("vat", "DE987654321"), PartyId("email", "ap@acme.example")),
    "ap@acme.example",
    country="DE",
)
RATES = (Decimal(0), Decimal(7), Decimal(19), Decimal("5.5"))


@st.composite
def invoices(draw: st.DrawFn) -> tuple[object, ...]:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "KWD"]))
    count = draw(st.integers(0, 6))
    lines = tuple(
        InvoiceLine(
            str(index),
            draw(st.text(alphabet="abc <&>éü", min_size=1, max_size=12)).strip() or "item",
            Decimal(draw(st.integers(1, 50))),
            "C62",
            None,
            Money(draw(st.integers(1, 10**7)), currency),
            draw(st.sampled_from(RATES)),
        )
        for index in range(1, count + 1)
    )
    net = sum((line.net.minor for line in lines), 0) if lines else draw(st.integers(1, 10**7))
    adjustment = draw(st.integers(-(net // 10), net // 10)) if lines else 0  # document-level charges
    tax = draw(st.integers(0, net // 4))
    total = net + adjustment + tax
    prepaid = draw(st.integers(0, total // 2))
    return (currency, lines, total, tax, prepaid, draw(st.booleans()))


def built_and_read(invoice: object) -> ParsedDocument:
    parsed = parse_ubl(build_invoice(invoice, BUYER, SELLER))  # type: ignore[arg-type]
    assert isinstance(parsed, ParsedDocument), parsed
    return parsed


@settings(max_examples=150, deadline=None)
@given(invoices())
def test_any_invoice_reads_back_as_itself(drawn: tuple[object, ...]) -> None:
    currency, lines, total, tax, prepaid, with_po = drawn
    invoice = make_invoice(
        currency=currency,  # type: ignore[arg-type]
        seller_id="vat:DE123456789",
        number="RE-2026/0042",
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 11, 2) + timedelta(days=30),
        total=Money(total, currency),  # type: ignore[arg-type]
        tax=Money(tax, currency),  # type: ignore[arg-type]
        prepaid=Money(prepaid, currency),  # type: ignore[arg-type]
        payable=total - prepaid,  # type: ignore[operator]
        lines=lines,
        po_number="PO-77" if with_po else None,
        buyer_reference="0150abc" if with_po else None,
        contract_reference="MSA-2026-04" if with_po else None,
    )

    parsed = built_and_read(invoice)

    assert (parsed.number, parsed.currency, parsed.issue_date, parsed.due_date) == (
        "RE-2026/0042",
        currency,
        date(2026, 11, 2),
        date(2026, 12, 2),
    )
    assert (parsed.total, parsed.tax, parsed.prepaid, parsed.payable) == (
        invoice.total,
        invoice.tax,
        invoice.prepaid,
        invoice.payable,
    )
    # Peppol wants a buyer or order reference (R003): without one, the customer's id stands in.
    reference = invoice.buyer_reference or "cus_buyer"
    assert (parsed.po_number, parsed.buyer_reference) == (invoice.po_number, reference)
    assert parsed.contract_reference == invoice.contract_reference
    assert parsed.seller_id == "vat:DE123456789"
    assert (
        PartyId("vat", "DE987654321") in parsed.buyer.identifiers and parsed.buyer.email == "ap@acme.example"
    )
    if lines:
        assert [(ln.net, ln.quantity, ln.description, ln.tax_percent) for ln in parsed.lines] == [
            (ln.net, ln.quantity, ln.description, ln.tax_percent)
            for ln in lines  # type: ignore[attr-defined]
        ]
    else:
        assert [ln.net for ln in parsed.lines] == [invoice.total - invoice.tax], "one line for the net"


def test_the_document_keeps_peppols_sums_and_required_parts() -> None:
    lines = (
        InvoiceLine("1", "Coffee", Decimal(3), "KGM", Decimal("12.5"), Money(3750, "EUR"), Decimal(7)),
        InvoiceLine("2", "Machine", Decimal(1), "C62", Decimal(500), Money(50000, "EUR"), Decimal(19)),
    )
    # 537.50 of lines less a 10.00 discount (in the main rate): 19% of 490.00 + 7% of 37.50 in tax
    invoice = make_invoice(
        seller_id="vat:DE123456789",
        lines=lines,
        total=Money(52750 + 9310 + 263, "EUR"),
        tax=Money(9310 + 263, "EUR"),
        payable=52750 + 9310 + 263,
    )
    root = fromstring(build_invoice(invoice, BUYER, SELLER))
    cbc, cac = f"{{{CBC_NS}}}", f"{{{CAC_NS}}}"

    assert root.findtext(f"{cbc}CustomizationID", "").endswith("poacc:billing:3.0")
    assert root.find(f"{cac}AccountingSupplierParty/{cac}Party/{cbc}EndpointID") is not None
    assert root.find(f"{cac}AccountingCustomerParty/{cac}Party/{cbc}EndpointID") is not None
    subtotals = root.findall(f"{cac}TaxTotal/{cac}TaxSubtotal")
    taxes = [Decimal(s.findtext(f"{cbc}TaxAmount", "0")) for s in subtotals]
    assert sum(taxes) == Decimal("95.73"), "the subtotals add up to the tax total (BR-CO-14)"
    assert [s.findtext(f"{cac}TaxCategory/{cbc}Percent") for s in subtotals] == ["19", "7"]
    charge = root.find(f"{cac}AllowanceCharge")
    assert charge is not None and charge.findtext(f"{cbc}ChargeIndicator") == "false"
    assert charge.findtext(f"{cbc}Amount") == "10.00"
    assert root.findtext(f"{cac}LegalMonetaryTotal/{cbc}LineExtensionAmount") == "537.50"
    assert root.findtext(f"{cac}LegalMonetaryTotal/{cbc}TaxExclusiveAmount") == "527.50"
    assert root.findtext(f"{cac}LegalMonetaryTotal/{cbc}AllowanceTotalAmount") == "10.00"


def test_the_buyers_peppol_endpoint_is_its_address_else_its_email() -> None:
    with_endpoint = replace(
        BUYER, identifiers=(*BUYER.identifiers, PartyId("endpoint", "0088:7300010000001"))
    )
    invoice = make_invoice(seller_id="vat:DE123456789")

    peppol = built_and_read_for(invoice, with_endpoint)
    mail = built_and_read_for(invoice, BUYER)

    assert PartyId("endpoint", "0088:7300010000001") in peppol.buyer.identifiers
    assert PartyId("endpoint", "EM:ap@acme.example") in mail.buyer.identifiers


def built_and_read_for(invoice: object, customer: Customer) -> ParsedDocument:
    parsed = parse_ubl(build_invoice(invoice, customer, SELLER))  # type: ignore[arg-type]
    assert isinstance(parsed, ParsedDocument)
    return parsed


# --- credit notes -----------------------------------------------------------------------------------
CBC, CAC = f"{{{CBC_NS}}}", f"{{{CAC_NS}}}"
TWO_RATES = (
    InvoiceLine("1", "Machine", Decimal(1), "C62", None, Money(10000, "EUR"), Decimal(19)),
    InvoiceLine("2", "Coffee", Decimal(1), "C62", None, Money(1000, "EUR"), Decimal(7)),
)


def make_credit_note(amount: int = 5000, currency: str = "EUR", **changes: object) -> CreditNote:
    note = CreditNote(
        credit_note_id="cn_test",
        seller_id="vat:DE123456789",
        number="GS-2026/0007",
        customer_id="cus_buyer",
        currency=currency,
        issue_date=date(2026, 11, 20),
        amount=Money(amount, currency),
        applied=Money.zero(currency),
        invoice_reference=None,
        fingerprint="f",
        source=SourceRef("b", "inbox/x.xml", "ubl", "document"),
    )
    return replace(note, **changes)  # type: ignore[arg-type]


def credit_note_read(data: bytes) -> CreditNote:
    """The document as ingest would record it: a credit note of its payable amount."""
    parsed = parse_ubl(data)
    assert isinstance(parsed, ParsedDocument), parsed
    assert parsed.doc_type is DocumentType.CREDIT_NOTE
    assert parsed.total == parsed.payable and parsed.prepaid.is_zero()
    return make_credit_note(
        parsed.payable.minor,
        parsed.currency,
        seller_id=parsed.seller_id,
        number=parsed.number,
        issue_date=parsed.issue_date,
        invoice_reference=parsed.billing_reference,
    )


def test_a_credit_note_is_a_ubl_credit_note_that_names_the_invoice_it_credits() -> None:
    # 50.00 of a 129.70 invoice (100.00 at 19%, 10.00 at 7%): its tax and net in proportion.
    invoice = make_invoice(
        number="RE-2026/0042",
        seller_id="vat:DE123456789",
        lines=TWO_RATES,
        total=Money(12970, "EUR"),
        tax=Money(1970, "EUR"),
        payable=12970,
        po_number="PO-77",
    )
    note = make_credit_note(5000, invoice_reference="RE-2026/0042")

    root = fromstring(build_credit_note(note, BUYER, SELLER, invoice))

    assert root.tag == f"{{{CREDIT_NOTE_NS}}}CreditNote"
    assert (root.findtext(f"{CBC}CustomizationID"), root.findtext(f"{CBC}ProfileID")) == (
        CUSTOMIZATION,
        PROFILE,
    )
    assert root.findtext(f"{CBC}CreditNoteTypeCode") == "381" and root.find(f"{CBC}InvoiceTypeCode") is None
    assert (root.findtext(f"{CBC}ID"), root.findtext(f"{CBC}IssueDate")) == ("GS-2026/0007", "2026-11-20")
    reference = f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/"
    assert (root.findtext(f"{reference}{CBC}ID"), root.findtext(f"{reference}{CBC}IssueDate")) == (
        "RE-2026/0042",
        "2026-10-01",
    )
    assert root.findtext(f"{CAC}OrderReference/{CBC}ID") == "PO-77", "the invoice's order, for the AP"
    assert root.find(f"{CAC}AccountingSupplierParty/{CAC}Party/{CBC}EndpointID") is not None
    assert root.find(f"{CAC}AccountingCustomerParty/{CAC}Party/{CBC}EndpointID") is not None
    assert root.find(f"{CAC}PaymentMeans") is None and root.find(f"{CAC}AllowanceCharge") is None
    monetary = root.find(f"{CAC}LegalMonetaryTotal")
    assert monetary is not None
    totals = {child.tag.removeprefix(CBC): child.text for child in monetary}
    assert totals == {
        "LineExtensionAmount": "42.41",
        "TaxExclusiveAmount": "42.41",
        "TaxInclusiveAmount": "50.00",
        "PayableAmount": "50.00",
    }
    assert root.findtext(f"{CAC}TaxTotal/{CBC}TaxAmount") == "7.59"  # 50.00 * 19.70 / 129.70
    subtotals = [
        (
            s.findtext(f"{CAC}TaxCategory/{CBC}Percent"),
            s.findtext(f"{CBC}TaxableAmount"),
            s.findtext(f"{CBC}TaxAmount"),
        )
        for s in root.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal")
    ]
    assert subtotals == [("19", "38.55", "7.32"), ("7", "3.86", "0.27")]
    assert root.find(f"{CAC}InvoiceLine") is None
    lines = root.findall(f"{CAC}CreditNoteLine")
    assert [
        (ln.findtext(f"{CBC}CreditedQuantity"), ln.findtext(f"{CBC}LineExtensionAmount")) for ln in lines
    ] == [
        ("1", "38.55"),
        ("1", "3.86"),
    ]


def test_a_credit_note_without_its_invoice_is_one_line_for_the_whole_amount() -> None:
    named = fromstring(build_credit_note(make_credit_note(1999, invoice_reference="RE-1"), BUYER, SELLER))
    unnamed = fromstring(build_credit_note(make_credit_note(1999), BUYER, SELLER))

    reference = f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/"
    assert named.findtext(f"{reference}{CBC}ID") == "RE-1"
    assert named.find(f"{reference}{CBC}IssueDate") is None, "the ledger does not have the invoice"
    assert unnamed.find(f"{CAC}BillingReference") is None
    for root in (named, unnamed):
        assert root.findtext(f"{CBC}BuyerReference") == "cus_buyer"
        assert root.findtext(f"{CAC}TaxTotal/{CBC}TaxAmount") == "0.00"
        assert [ln.findtext(f"{CBC}LineExtensionAmount") for ln in root.findall(f"{CAC}CreditNoteLine")] == [
            "19.99"
        ]
        assert root.findtext(f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount") == "19.99"


def test_a_credit_note_cannot_be_sent_against_another_invoice() -> None:
    with pytest.raises(ValueError, match="names invoice RE-1, not INV-1"):
        build_credit_note(make_credit_note(invoice_reference="RE-1"), BUYER, SELLER, make_invoice())
    with pytest.raises(ValueError, match="names invoice None"):
        build_credit_note(make_credit_note(), BUYER, SELLER, make_invoice())


@settings(max_examples=150, deadline=None)
@given(invoices(), st.integers(1, 10**7), st.sampled_from(["none", "named", "known"]))
def test_any_credit_note_reads_back_as_itself(drawn: tuple[object, ...], amount: int, credited: str) -> None:
    currency, lines, total, tax, prepaid, with_po = drawn
    invoice = make_invoice(
        currency=currency,  # type: ignore[arg-type]
        seller_id="vat:DE123456789",
        number="RE-2026/0042",
        total=Money(total, currency),  # type: ignore[arg-type]
        tax=Money(tax, currency),  # type: ignore[arg-type]
        prepaid=Money(prepaid, currency),  # type: ignore[arg-type]
        payable=total - prepaid,  # type: ignore[operator]
        lines=lines,
        po_number="PO-77" if with_po else None,
    )
    note = make_credit_note(
        amount,
        currency,  # type: ignore[arg-type]
        invoice_reference=None if credited == "none" else "RE-2026/0042",
    )

    data = build_credit_note(note, BUYER, SELLER, invoice if credited == "known" else None)
    parsed = parse_ubl(data)

    assert credit_note_read(data) == note
    assert isinstance(parsed, ParsedDocument)
    assert PartyId("vat", "DE987654321") in parsed.buyer.identifiers
    assert parsed.buyer.email == "ap@acme.example" and parsed.buyer.name == BUYER.name
    line_total = Money.zero(note.currency)
    for line in parsed.lines:
        line_total = line_total + line.net
    assert line_total + parsed.tax == note.amount, "the lines and the tax make up the amount"
    if credited == "known":
        share = Decimal(invoice.tax.minor) * amount / invoice.total.minor
        assert parsed.tax == Money(int(share.quantize(Decimal(1), ROUND_HALF_UP)), note.currency)
        assert {ln.tax_percent for ln in parsed.lines} <= rates_of(invoice)
        assert parsed.po_number == invoice.po_number
    else:
        assert parsed.tax.is_zero()
        assert [(ln.net, ln.tax_percent) for ln in parsed.lines] == [(note.amount, Decimal(0))]
    subtotal_taxes = fromstring(data).findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CBC}TaxAmount")
    assert sum(Decimal(t.text or "") for t in subtotal_taxes) == parsed.tax.to_decimal(), "BR-CO-14"


def rates_of(invoice: Invoice) -> set[Decimal | None]:
    """The VAT rates an invoice is sent with (one blended rate for a lineless one with tax)."""
    root = fromstring(build_invoice(invoice, BUYER, SELLER))
    return {
        Decimal(p.text or "")
        for p in root.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory/{CBC}Percent")
    }


@pytest.mark.parametrize("with_invoice", [True, False])
def test_the_peppol_example_credit_note_sent_out_reads_back_the_same(with_invoice: bool) -> None:
    received = parse_ubl((EINVOICES / "base-creditnote-correction.xml").read_bytes())
    example = parse_ubl((EINVOICES / "base-example.xml").read_bytes())  # the invoice it credits
    assert isinstance(received, ParsedDocument) and isinstance(example, ParsedDocument)
    note = credit_note_read((EINVOICES / "base-creditnote-correction.xml").read_bytes())
    buyer = received.buyer
    customer = Customer("cus_buyer", buyer.name, buyer.identifiers, buyer.email, country=buyer.country)
    invoice = make_invoice(
        number=example.number,
        seller_id=example.seller_id,
        issue_date=example.issue_date,
        total=example.total,
        tax=example.tax,
        payable=example.payable.minor,
        lines=example.lines,
    )
    seller = Seller("SupplierOfficialName Ltd", "GB", "0088", "9482348239847239874", vat_id="GB1232434")

    data = build_credit_note(note, customer, seller, invoice if with_invoice else None)
    again = parse_ubl(data)

    assert credit_note_read(data) == note
    assert isinstance(again, ParsedDocument)
    assert (again.number, again.billing_reference, again.seller_id) == (
        "Snippet1",
        "Snippet1",
        received.seller_id,
    )
    assert (again.total, again.payable) == (received.total, received.payable)
    # The whole invoice credited: its tax credited with it, at its rate.
    expected_tax = received.tax if with_invoice else Money.zero("EUR")
    assert again.tax == expected_tax
    assert [ln.tax_percent for ln in again.lines] == [Decimal(25) if with_invoice else Decimal(0)]
    assert set(again.buyer.identifiers) <= set(customer.identifiers)


@pytest.mark.parametrize(("currency", "code"), [("EUR", "58"), ("USD", "30")])
def test_the_payment_id_is_the_invoices_rf_creditor_reference(currency: str, code: str) -> None:
    from receivables.banking.creditor_reference import creditor_reference, invoice_id_of, is_valid

    invoice = make_invoice(invoice_id="inv_0123456789abcdef01234567", currency=currency)
    means = fromstring(build_invoice(invoice, BUYER, SELLER)).find(f"{{{CAC_NS}}}PaymentMeans")

    assert means is not None
    payment_id = means.findtext(f"{{{CBC_NS}}}PaymentID", "")
    assert payment_id == creditor_reference(invoice.invoice_id), "compact, as BT-83 is quoted"
    assert is_valid(payment_id) and invoice_id_of(payment_id) == invoice.invoice_id
    assert means.findtext(f"{{{CBC_NS}}}PaymentMeansCode") == code
