"""Hostile or careless input to the parsers: bounded, exact, and reported where it is.

Each test is named after what it prevents (issue 28, "Hardening").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

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
from receivables.money import Money
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
