"""The CSV layout: both shapes, both delimiters, encodings, and row-level problem reports."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from receivables.ingest.csv_format import parse_csv
from receivables.ingest.model import FileRejectedError, ParsedDocument, RejectedDocument
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, PartyId
from tests.conftest import SAMPLES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables.ingest.model import ParseResult


def parse(data: bytes | str, chunk: int = 1 << 20, **kwargs: Any) -> list[ParseResult]:
    raw = data.encode() if isinstance(data, str) else data
    chunks = [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
    return list(parse_csv(chunks, default_seller_id="self", **kwargs))


def documents(results: list[ParseResult]) -> list[ParsedDocument]:
    return [r for r in results if isinstance(r, ParsedDocument)]


def rejections(results: list[ParseResult]) -> list[RejectedDocument]:
    return [r for r in results if isinstance(r, RejectedDocument)]


def test_the_documented_row_per_invoice_sample_parses() -> None:
    results = parse((SAMPLES / "invoices.csv").read_bytes())
    docs = documents(results)
    assert [d.number for d in docs] == [f"INV-2026-100{i}" for i in range(1, 6)]
    first = docs[0]
    assert first.total == Money(119000, "EUR")
    assert first.tax == Money(19000, "EUR")
    assert first.payable == first.total
    assert first.due_date == date(2026, 10, 31)
    assert first.po_number == "PO-7781"
    assert first.buyer.email == "ap@acme-logistics.example"
    assert PartyId("erp", "C-001") in first.buyer.identifiers
    assert PartyId("vat", "DE811907980") in first.buyer.identifiers
    assert docs[1].due_date is None and docs[1].buyer.email is None
    assert docs[3].total == Money(330000, "JPY")
    assert docs[4].total == Money(1250750, "KWD")


def test_the_documented_row_per_line_sample_groups_lines_and_reads_decimal_commas() -> None:
    docs = documents(parse((SAMPLES / "invoice-lines.csv").read_bytes()))
    assert [d.number for d in docs] == ["INV-2026-2001", "INV-2026-2002"]
    first = docs[0]
    assert [line.net for line in first.lines] == [Money(54000, "EUR"), Money(48000, "EUR")]
    assert str(first.lines[0].unit_price) == "4.50"
    assert first.total == Money(121380, "EUR")
    assert first.location == "rows 2-3"
    assert first.payment_terms == "Zahlbar innerhalb 14 Tagen"


def test_a_bom_and_header_aliases_are_accepted() -> None:
    data = "\ufeffInvoice No,Invoice Date,Currency,Customer ID,Total\nA-1,2026-01-02,eur,C1,10.00\n"
    [doc] = documents(parse(data))
    assert (doc.number, doc.currency, doc.total) == ("A-1", "EUR", Money(1000, "EUR"))


@pytest.mark.parametrize(
    "header",
    [
        "invoiceNumber,invoiceDate,currency,customerID,dueDate,totalAmount,customerEmail",  # camelCase
        "InvoiceNumber,InvoiceDate,Currency,CustomerID,DueDate,TotalAmount,CustomerEmail",  # PascalCase
        "INVOICE_NUMBER,INVOICE_DATE,CURRENCY,CUSTOMER_ID,DUE_DATE,TOTAL_AMOUNT,CUSTOMER_EMAIL",
        "invoice.number,invoice.date,currency,customer.id,due.date,total.amount,customer.email",
    ],
)
def test_erp_header_spellings_name_the_same_columns(header: str) -> None:
    [doc] = documents(parse(f"{header}\nA-1,2026-01-02,EUR,C1,2026-02-01,10.00,ap@c1.example\n"))
    assert (doc.number, doc.issue_date, doc.due_date, doc.total) == (
        "A-1",
        date(2026, 1, 2),
        date(2026, 2, 1),
        Money(1000, "EUR"),
    )
    assert PartyId("erp", "C1") in doc.buyer.identifiers


@pytest.mark.parametrize(
    ("order", "issued"), [("dmy", date(2026, 4, 3)), ("mdy", date(2026, 3, 4)), (None, None)]
)
def test_slashed_dates_need_the_file_to_declare_their_order(order: str | None, issued: date | None) -> None:
    data = "invoice_number,issue_date,currency,customer_ref,total_amount\nA-1,03/04/2026,EUR,C1,10.00\n"
    results = parse(data, date_order=order)
    if issued is not None:
        [doc] = documents(results)
        assert doc.issue_date == issued
        return
    [rejected] = rejections(results)
    [problem] = rejected.problems
    assert problem.code == "invalid_date" and "inbox/dd-mm-yyyy/" in problem.message


def test_a_slashed_date_that_cannot_be_is_named() -> None:
    data = "invoice_number,issue_date,currency,customer_ref,total_amount\nA-1,13/31/2026,EUR,C1,10.00\n"
    [rejected] = rejections(parse(data, date_order="dmy"))
    assert "use DD/MM/YYYY" in rejected.problems[0].message


@pytest.mark.parametrize(
    ("country", "ok"), [("de", True), ("XK", True), ("276", False), ("EU", False), ("ZZ", False)]
)
def test_a_country_must_be_an_iso_3166_code(country: str, ok: bool) -> None:
    data = (
        "invoice_number,issue_date,currency,customer_ref,customer_country,total_amount\n"
        f"A-1,2026-01-02,EUR,C1,{country},10.00\n"
    )
    results = parse(data)
    if ok:
        [doc] = documents(results)
        assert doc.buyer.country == country.upper()
    else:
        [rejected] = rejections(results)
        assert [(p.code, p.field) for p in rejected.problems] == [("invalid_country", "customer_country")]


def test_a_bad_row_is_reported_by_row_and_field_and_the_others_go_through() -> None:
    data = (
        "invoice_number,issue_date,currency,customer_ref,total_amount\n"
        "A-1,2026-01-02,EUR,C1,10.00\n"
        "A-2,2026-02-30,EUR,C1,10.00\n"
        "A-3,2026-01-02,EUR,C1,ten\n"
        "A-4,2026-01-02,EUR,C1,12.00\n"
    )
    results = parse(data)
    assert [d.number for d in documents(results)] == ["A-1", "A-4"]
    problems = [p for r in rejections(results) for p in r.problems]
    assert [(p.location, p.field, p.code, p.number) for p in problems] == [
        ("row 3", "issue_date", "invalid_date", "A-2"),
        ("row 4", "total_amount", "invalid_amount", "A-3"),
    ]


def test_every_problem_of_a_row_is_listed() -> None:
    data = "invoice_number,issue_date,currency,customer_ref,total_amount\nA-1,yesterday,EURO,,1.2.3\n"
    [rejected] = rejections(parse(data))
    assert {p.field for p in rejected.problems} == {"issue_date", "currency", "total_amount", "customer_ref"}


def test_lines_must_add_up_to_the_total() -> None:
    data = (
        "invoice_number,issue_date,currency,customer_ref,line_amount,tax_amount,total_amount\n"
        "A-1,2026-01-02,EUR,C1,10.00,1.00,12.00\n"
    )
    [rejected] = rejections(parse(data))
    assert rejected.problems[0].code == "inconsistent_total"
    assert (
        rejected.problems[0].message == "the total 12.00 EUR is not the sum of the lines plus tax (11.00 EUR)"
    )


def test_rows_of_one_invoice_must_agree_on_its_fields() -> None:
    data = (
        "invoice_number,issue_date,currency,customer_ref,line_amount\n"
        "A-1,2026-01-02,EUR,C1,10.00\n"
        "A-1,2026-01-02,USD,C1,5.00\n"
    )
    [rejected] = rejections(parse(data))
    problem = rejected.problems[0]
    assert (problem.location, problem.field, problem.code) == ("row 3", "currency", "inconsistent_rows")


def test_a_quoted_value_may_hold_the_delimiter_and_a_newline() -> None:
    data = (
        "invoice_number,issue_date,currency,customer_name,total_amount\n"
        '"A-1",2026-01-02,EUR,"Smith, Jones\nand Partners","1,234.50"\n'
        "A-2,2026-01-02,EUR,Solo,5.00\n"
    )
    docs = documents(parse(data))
    assert docs[0].buyer.name == "Smith, Jones and Partners"  # a cell on two lines is one line
    assert docs[0].total == Money(123450, "EUR")
    assert docs[1].location == "row 4"


def test_a_row_with_the_wrong_number_of_fields_is_reported() -> None:
    data = "invoice_number,issue_date,currency,customer_ref,total_amount\nA-1,2026-01-02,EUR,C1,1,234.50\n"
    [rejected] = rejections(parse(data))
    assert rejected.problems[0].code == "malformed_row"
    assert "6 fields where the header has 5" in rejected.problems[0].message


def test_a_line_that_is_not_utf8_is_reported_and_the_rest_go_through() -> None:
    data = (
        b"invoice_number,issue_date,currency,customer_name,total_amount\n"
        b"A-1,2026-01-02,EUR,Caf\xe9 Central,10.00\n"
        b"A-2,2026-01-02,EUR,Cafe,10.00\n"
    )
    results = parse(data)
    assert [d.number for d in documents(results)] == ["A-2"]
    [rejected] = rejections(results)
    assert rejected.problems[0].code == "not_utf8"
    assert rejected.problems[0].location == "row 2"
    assert "0xe9" in rejected.problems[0].message


def test_a_too_long_row_is_reported() -> None:
    data = (
        "invoice_number,issue_date,currency,customer_name,total_amount\n"
        + f"A-1,2026-01-02,EUR,{'x' * 500},1\n"
    )
    [rejected] = rejections(parse(data, max_row_bytes=200))
    assert rejected.problems[0].code == "row_too_long"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\n\n", "empty_file"),
        ("invoice_number,issue_date\n".encode("utf-16"), "not_utf8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not_text"),
        (b"Nummer,Datum\nA,2026-01-01\n", "missing_columns"),
        (b"Caf\xe9,issue_date\n", "not_utf8"),
        (b"invoice_number,number,issue_date,currency,total\n", "duplicate_column"),
    ],
)
def test_an_unusable_file_is_rejected_whole_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse(data)
    assert caught.value.problem.code == code
    assert caught.value.problem.location == "file"


def test_credit_notes_and_negative_invoices() -> None:
    data = (
        "document_type,invoice_number,issue_date,currency,customer_ref,billing_reference,total_amount\n"
        "credit_note,CN-1,2026-01-05,EUR,C1,A-1,5.00\n"
        "invoice,A-9,2026-01-05,EUR,C1,,-5.00\n"
    )
    results = parse(data)
    [credit] = documents(results)
    assert (credit.doc_type, credit.billing_reference) == (DocumentType.CREDIT_NOTE, "A-1")
    [rejected] = rejections(results)
    assert "credit_note" in rejected.problems[0].message


def test_parsing_streams_documents_before_the_file_is_read() -> None:
    header = b"invoice_number,issue_date,currency,customer_ref,total_amount\n"
    consumed: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield header
        for index in range(1000):
            consumed.append(index)
            yield f"A-{index},2026-01-02,EUR,C1,1.00\n".encode()

    results = parse_csv(chunks(), default_seller_id="self")
    first = next(results)
    assert isinstance(first, ParsedDocument)
    assert len(consumed) < 5, "the parser read ahead instead of streaming"


def test_lines_are_split_correctly_across_chunk_boundaries() -> None:
    data = (SAMPLES / "invoice-lines.csv").read_bytes()
    assert [d.total for d in documents(parse(data, chunk=7))] == [d.total for d in documents(parse(data))]
