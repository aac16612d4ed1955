"""UBL 2.1 / Peppol BIS 3.0: the specification's own examples, and hostile XML."""

from __future__ import annotations

from datetime import date

import pytest

from receivables.ingest.model import FileRejectedError, ParsedDocument, RejectedDocument
from receivables.ingest.ubl import parse_ubl
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, PartyId
from tests.conftest import EINVOICES


def parsed(name: str) -> ParsedDocument:
    result = parse_ubl((EINVOICES / name).read_bytes())
    assert isinstance(result, ParsedDocument), result
    return result


@pytest.mark.parametrize(
    ("name", "number", "currency", "payable", "total", "due", "buyer_vat", "seller"),
    [
        (
            "base-example.xml",
            "Snippet1",
            "EUR",
            165625,
            165625,
            date(2017, 12, 1),
            "SE4598375937",
            "vat:GB1232434",
        ),
        (
            "sales-order-example.xml",
            "Snippet1",
            "EUR",
            165625,
            165625,
            date(2017, 12, 1),
            "SE4598375937",
            "vat:GB1232434",
        ),
        (
            "Allowance-example.xml",
            "Snippet1",
            "EUR",
            612500,
            712500,
            date(2017, 12, 1),
            "SE4598375937",
            "vat:GB1232434",
        ),
        ("vat-category-E.xml", "Vat-Z", "GBP", 120000, 120000, None, None, "vat:GB928741974"),
    ],
)
def test_peppol_invoices_parse_with_their_figures(
    name: str,
    number: str,
    currency: str,
    payable: int,
    total: int,
    due: date | None,
    buyer_vat: str | None,
    seller: str,
) -> None:
    doc = parsed(name)
    assert doc.doc_type is DocumentType.INVOICE
    assert (doc.number, doc.currency, doc.seller_id) == (number, currency, seller)
    assert doc.payable == Money(payable, currency)
    assert doc.total == Money(total, currency)
    assert doc.due_date == due
    if buyer_vat:
        assert PartyId("vat", buyer_vat) in doc.buyer.identifiers
        assert doc.buyer.email == "lj@buyer.se"


def test_the_allowance_example_carries_its_prepaid_amount() -> None:
    doc = parsed("Allowance-example.xml")
    assert doc.prepaid == Money(100000, "EUR")
    assert doc.payable == doc.total - doc.prepaid


def test_an_invoice_without_due_date_keeps_its_payment_terms() -> None:
    doc = parsed("vat-category-E.xml")
    assert doc.payment_terms == "Payment within 30 days"
    assert doc.buyer.name == "The Buyercompany"
    assert doc.buyer.identifiers == (PartyId("endpoint", "0184:12345678"),)


def test_base_example_lines_and_tax() -> None:
    doc = parsed("base-example.xml")
    assert doc.tax == Money(33125, "EUR")
    assert [line.net for line in doc.lines] == [Money(280000, "EUR"), Money(-150000, "EUR")]
    assert doc.lines[0].unit_code == "DAY"
    assert doc.po_number is None


def test_a_na_order_reference_means_no_purchase_order() -> None:
    assert parsed("sales-order-example.xml").po_number is None


def test_the_credit_note_references_its_invoice() -> None:
    doc = parsed("base-creditnote-correction.xml")
    assert doc.doc_type is DocumentType.CREDIT_NOTE
    assert (doc.number, doc.billing_reference) == ("Snippet1", "Snippet1")
    assert doc.payable == Money(165625, "EUR")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice>&lol3;</Invoice>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (XXE, "unsafe_xml"),
        (BILLION_LAUGHS, "unsafe_xml"),
        (b"<Invoice><unclosed></Invoice>", "malformed_xml"),
        (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "unsupported_xml"),
    ],
)
def test_hostile_or_foreign_xml_is_rejected(data: bytes, code: str) -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_ubl(data)
    assert caught.value.problem.code == code


def test_inconsistent_totals_are_reported_with_the_peppol_rule() -> None:
    data = (
        (EINVOICES / "base-example.xml")
        .read_bytes()
        .replace(
            b'<cbc:PayableAmount currencyID="EUR">1656.25', b'<cbc:PayableAmount currencyID="EUR">1600.00'
        )
    )
    result = parse_ubl(data)
    assert isinstance(result, RejectedDocument)
    [problem] = result.problems
    assert problem.code == "inconsistent_total"
    assert "BR-CO-16" in problem.message
    assert problem.field == "cac:LegalMonetaryTotal/cbc:PayableAmount"
    assert problem.number == "Snippet1"


def test_an_amount_in_another_currency_is_reported() -> None:
    data = (
        (EINVOICES / "base-example.xml")
        .read_bytes()
        .replace(b'<cbc:TaxInclusiveAmount currencyID="EUR">', b'<cbc:TaxInclusiveAmount currencyID="USD">')
    )
    result = parse_ubl(data)
    assert isinstance(result, RejectedDocument)
    assert result.problems[0].code == "invalid_currency"
