"""Peppol e-invoices out: whatever invoice we build, our own ingest reads back the same invoice
(number, dates, currency, totals, tax, lines, references, seller and buyer), and the document
follows the Peppol rules ingest and AP systems check (sums, tax subtotals, required parties)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from xml.etree.ElementTree import fromstring

from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.domain import Customer, InvoiceLine, PartyId
from receivables.einvoice import CAC_NS, CBC_NS, Seller, build_invoice
from receivables.ingest.model import ParsedDocument
from receivables.ingest.ubl import parse_ubl
from receivables.money import Money
from tests.unit.test_ledger import make_invoice

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
