"""Hostile or careless input to the parsers: bounded, exact, and reported where it is.

Each test is named after what it prevents (issue 28, "Hardening").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.ingest.csv_format import parse_csv
from receivables.ingest.fields import build_document
from receivables.ingest.json_format import MAX_JSON_DEPTH, parse_json
from receivables.ingest.model import (
    MAX_LISTED_PROBLEMS,
    MAX_MESSAGE_CHARS,
    FileRejectedError,
    ParsedDocument,
    Problem,
    ProblemLog,
    RejectedDocument,
)
from receivables.ingest.ubl import parse_ubl
from receivables.kernel.money import Money
from tests.conftest import EINVOICES

if TYPE_CHECKING:
    from receivables.ingest.model import ParseResult

GOOD = {
    "number": "J-1",
    "issue_date": "2026-03-01",
    "currency": "EUR",
    "customer": {"ref": "C1"},
    "total": "100.00",
}
# An invoice whose total is written raw into the JSON text (a number, a constant).
RAW_TOTAL = '{"number": "J-BAD", "issue_date": "2026-03-01", "currency": "EUR", "customer": {"ref": "C1"}, '


def parse_text(text: str, **options: Any) -> list[ParseResult]:
    return list(parse_json(text.encode(), default_seller_id="self", **options))


# --- D7: nesting, size, numbers, one invoice's failure -------------------------------------------
def test_deeply_nested_json_is_refused_before_the_parser_recurses_into_it() -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_text("[" * 100_000 + "]" * 100_000)

    assert caught.value.problem.code == "too_deep"
    assert f"more than {MAX_JSON_DEPTH} levels" in caught.value.problem.message


def test_brackets_inside_strings_do_not_count_towards_the_nesting_depth() -> None:
    text = json.dumps([{**GOOD, "po_number": "[[[[{{{{" * 50 + '\\"]'}])

    [doc] = parse_text(text)

    assert isinstance(doc, ParsedDocument)


def test_a_json_file_over_its_size_limit_is_refused_unparsed() -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_text(json.dumps([GOOD] * 10), max_bytes=100)

    assert caught.value.problem.code == "file_too_large"
    assert "up to 100 bytes" in caught.value.problem.message


@pytest.mark.parametrize("raw", ["1e400", "-1e400", "1" * 5000, "NaN", "Infinity", "-Infinity"])
def test_an_unusable_json_number_is_a_named_problem_of_its_invoice_not_a_crash(raw: str) -> None:
    text = f'[{RAW_TOTAL}"total": {raw}}}, {json.dumps(GOOD)}]'

    bad, good = parse_text(text)

    assert isinstance(bad, RejectedDocument)
    [problem] = bad.problems
    assert (problem.location, problem.code, problem.field) == ("item 1", "invalid_number", "/0/total")
    assert raw[:20] in problem.message
    assert isinstance(good, ParsedDocument)


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("total", "1e400", "invalid_amount"),
        ("total", "1e999999999", "invalid_amount"),
        ("lines", [{"amount": "100.00", "quantity": "1e999999999"}], "invalid_number"),
        ("lines", [{"amount": "100.00", "tax_percent": 1e300}], "invalid_number"),
    ],
)
def test_an_out_of_range_number_written_as_text_is_refused_before_any_arithmetic(
    key: str, value: object, code: str
) -> None:
    text = json.dumps([{**GOOD, key: value}]).replace("1e+300", "1e300")

    [bad] = parse_text(text)

    assert isinstance(bad, RejectedDocument)
    assert [p.code for p in bad.problems] == [code]
    assert "out of range" in bad.problems[0].message


def test_json_amounts_stay_exact_decimals() -> None:
    [doc] = parse_text(json.dumps([{**GOOD, "total": None}]).replace("null", "1210.10"))

    assert isinstance(doc, ParsedDocument)
    assert doc.total == Money(121010, "EUR")


def test_an_invoice_that_defeats_the_parser_costs_that_invoice_not_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fragile(doc: Any, **options: Any) -> ParseResult:
        if doc.header.get("invoice_number") == "J-BAD":
            raise ArithmeticError("an unforeseen failure")
        return build_document(doc, **options)

    monkeypatch.setattr("receivables.ingest.json_format.build_document", fragile)

    bad, good = parse_text(json.dumps([{**GOOD, "number": "J-BAD"}, GOOD]))

    assert isinstance(bad, RejectedDocument)
    assert [(p.location, p.code) for p in bad.problems] == [("item 1", "unreadable_document")]
    assert "an unforeseen failure" in bad.problems[0].message
    assert isinstance(good, ParsedDocument)


def test_an_out_of_range_ubl_amount_is_refused_not_stored() -> None:
    data = (EINVOICES / "base-example.xml").read_text()
    data = data.replace(">1656.25</cbc:PayableAmount>", ">1e400</cbc:PayableAmount>", 1)

    result = parse_ubl(data.encode())

    assert isinstance(result, RejectedDocument)
    assert any(p.code == "invalid_amount" and "out of range" in p.message for p in result.problems)


# --- D8: a report of problems is capped, its memory flat ------------------------------------------
def test_a_million_bad_rows_keep_only_the_first_problems_and_count_the_rest() -> None:
    log = ProblemLog()

    log.extend(Problem(f"row {n}", "invalid_date", "'x' is not a date") for n in range(2, 200_002))

    assert (len(log), len(log.listed), log.left_out) == (200_000, MAX_LISTED_PROBLEMS, 199_000)
    assert log.listed[-1].location == f"row {MAX_LISTED_PROBLEMS + 1}"
    assert log.count("invalid_date") == 200_000


def test_a_problem_quoting_a_huge_value_is_shortened_in_the_report() -> None:
    log = ProblemLog()

    log.append(Problem("row 2", "invalid_date", f"{'9' * 60_000!r} is not a date"))

    [problem] = log.listed
    assert len(problem.message) <= MAX_MESSAGE_CHARS
    assert problem.message.endswith("...")


# --- D21: repeated JSON keys, a CSV without rows, a NUL in one row ---------------------------------
def test_a_repeated_json_key_is_refused_with_its_path_not_silently_the_last_value() -> None:
    text = (
        '[{"number": "J-1", "issue_date": "2026-03-01", "currency": "EUR", "total": "1.00", '
        '"total": "1000.00", "customer": {"ref": "C1", "ref": "C2"}, '
        '"lines": [{"amount": "1.00", "amount": "5.00"}]}, ' + json.dumps(GOOD) + "]"
    )

    bad, good = parse_text(text)

    assert isinstance(bad, RejectedDocument)
    assert [(p.code, p.field, p.number) for p in bad.problems] == [
        ("duplicate_key", "/0/total", "J-1"),
        ("duplicate_key", "/0/customer/ref", "J-1"),
        ("duplicate_key", "/0/lines/0/amount", "J-1"),
    ]
    assert "'total' is given more than once" in bad.problems[0].message
    assert isinstance(good, ParsedDocument)


def test_a_repeated_invoices_key_rejects_the_file_rather_than_drop_a_list() -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_text('{"invoices": [], "invoices": []}')

    assert (caught.value.problem.code, caught.value.problem.field) == ("duplicate_key", "/invoices")


CSV_HEADER = b"invoice_number,issue_date,currency,customer_ref,total_amount\n"


def parse_csv_bytes(data: bytes) -> list[ParseResult]:
    return list(parse_csv([data], default_seller_id="self"))


@pytest.mark.parametrize("data", [CSV_HEADER, CSV_HEADER + b"\n,,,,\n\n"])
def test_a_csv_with_a_header_but_no_rows_is_rejected_not_processed_as_empty(data: bytes) -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_csv_bytes(data)

    assert caught.value.problem.code == "no_rows"
    assert "the file has a header but no rows" in caught.value.problem.message


def test_a_nul_byte_costs_its_row_and_the_other_rows_go_through() -> None:
    data = (
        CSV_HEADER
        + b"A-1,2026-01-01,EUR,C1,1.00\nA-2,2026-01-01,EUR,C\x001,1.00\nA-3,2026-01-01,EUR,C1,3.00\n"
    )

    results = parse_csv_bytes(data)

    assert [r.number for r in results if isinstance(r, ParsedDocument)] == ["A-1", "A-3"]
    [rejected] = [r for r in results if isinstance(r, RejectedDocument)]
    assert [(p.location, p.code) for p in rejected.problems] == [("row 3", "not_text")]
    assert "NUL byte (at position 21)" in rejected.problems[0].message


@pytest.mark.parametrize("data", [b"invoice_number\x00,issue_date\n", b"PK\x03\x04\x14\x00\x06\x00\n"])
def test_a_binary_file_is_still_rejected_whole(data: bytes) -> None:
    with pytest.raises(FileRejectedError) as caught:
        parse_csv_bytes(data)

    assert caught.value.problem.code == "not_text"


# --- D10: control characters in names and references -----------------------------------------------
CSV_NAMED = b"invoice_number,issue_date,currency,customer_name,po_number,description,line_amount\n"


def parse_named_rows(*rows: str) -> list[ParseResult]:
    return parse_csv_bytes(CSV_NAMED + "".join(f"{row}\n" for row in rows).encode())


@pytest.mark.parametrize(
    ("name", "po_number", "field"),
    [
        ("Acme\x07", "PO-1", "customer_name"),
        ("Acme\x1b[2J", "PO-1", "customer_name"),
        ("Acme", '"PO-1\r\nBcc: x@example.com"', "po_number"),
        ("Acme", "PO-\u20281", "po_number"),
    ],
)
def test_a_control_character_in_a_name_or_reference_is_refused_and_the_other_rows_go_through(
    name: str, po_number: str, field: str
) -> None:
    bad, good = parse_named_rows(
        f"C-1,2026-01-01,EUR,{name},{po_number},,10.00", "C-2,2026-01-01,EUR,Acme,PO-2,,5.00"
    )

    assert isinstance(bad, RejectedDocument)
    assert [(p.code, p.field, p.number) for p in bad.problems] == [("control_character", field, "C-1")]
    assert "which is not text" in bad.problems[0].message
    assert isinstance(good, ParsedDocument)
    assert good.buyer.name == "Acme"


def test_a_line_break_in_a_name_or_description_becomes_a_space_so_no_mail_header_can_be_injected() -> None:
    [doc] = parse_named_rows(
        'D-1,2026-01-01,EUR,"Evil\r\nBcc: x@example.com",PO-1,"Consulting\r\n\tMarch",10.00'
    )

    assert isinstance(doc, ParsedDocument)
    assert doc.buyer.name == "Evil Bcc: x@example.com"
    assert doc.lines[0].description == "Consulting March"


def test_a_control_character_in_a_json_customer_name_names_its_path() -> None:
    [bad] = parse_text(json.dumps([{**GOOD, "customer": {"ref": "C1", "name": "Acme\u0000Ltd"}}]))

    assert isinstance(bad, RejectedDocument)
    assert [(p.code, p.field) for p in bad.problems] == [("control_character", "/0/customer/name")]
    assert "U+0000 at character 5" in bad.problems[0].message


def test_a_ubl_buyer_name_on_two_lines_is_one_line_and_a_control_character_in_a_reference_is_refused() -> (
    None
):
    data = (EINVOICES / "base-example.xml").read_text()
    two_lines = data.replace(">Buyer Official Name<", ">Buyer&#13;&#10;Official Name<", 1)
    nel = data.replace("<cbc:BuyerReference>0150abc", "<cbc:BuyerReference>0150&#x85;abc", 1)

    named, refused = parse_ubl(two_lines.encode()), parse_ubl(nel.encode())

    assert isinstance(named, ParsedDocument)
    assert named.buyer.name == "Buyer Official Name"
    assert isinstance(refused, RejectedDocument)
    assert [(p.code, p.field) for p in refused.problems] == [("control_character", "cbc:BuyerReference")]
