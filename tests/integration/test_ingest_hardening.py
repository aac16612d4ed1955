"""Hostile or careless invoice files on the ingest handler (issue 28, "Hardening"): each is
rejected with a report that says what, where and why, never left in the inbox, and the good
invoices beside the bad ones still go in."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from receivables.ledger.model import DocumentType, PartyId
from receivables.ledger.rules import document_id
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest

    from tests.integration.conftest import Aws


def invoice(number: str, **fields: Any) -> dict[str, Any]:
    return {
        "number": number,
        "issue_date": "2026-10-01",
        "currency": "EUR",
        "customer": {"ref": "C1", "email": "ap@example.com"},
        "total": "100.00",
        **fields,
    }


def stored(number: str) -> bool:
    return store.get_invoice(document_id("self", DocumentType.INVOICE, number)) is not None


# --- D7 --------------------------------------------------------------------------------------------
def test_deeply_nested_json_is_rejected_with_a_report_not_left_in_inbox(aws: Aws) -> None:
    result = aws.drop("inbox/deep.json", "[" * 200_000 + "]" * 200_000)

    assert result["outcome"] == "rejected"
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("file", "too_deep")
    assert aws.keys("inbox/") == []
    assert aws.keys("rejected/") == ["rejected/deep.json", "rejected/deep.json.error.json"]


def test_a_1e400_amount_is_a_problem_of_its_invoice_and_the_others_are_ingested(aws: Aws) -> None:
    text = json.dumps([invoice("J-1"), invoice("J-2", total=None), invoice("J-3", total="NaN")])
    text = text.replace('"total": null', '"total": 1e400')

    result = aws.drop("inbox/huge.json", text)

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", 1, 2)
    problems = aws.report(result["destination"])["problems"]
    assert [(p["location"], p["field"], p["number"]) for p in problems] == [
        ("item 2", "/1/total", "J-2"),
        ("item 3", "/2/total", "J-3"),
    ]
    assert "1e400 is out of range" in problems[0]["message"]
    assert stored("J-1")
    assert not stored("J-2")
    assert aws.keys("inbox/") == []


def test_a_parser_failure_rejects_the_file_with_a_report_not_left_in_inbox(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from receivables.ingest import json_format

    def fails(data: bytes, **options: Any) -> Iterator[Any]:
        yield from ()  # a generator, as the parser is
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(json_format, "parse_json", fails)

    result = aws.drop("inbox/fragile.json", json.dumps([invoice("J-1")]))

    assert result["outcome"] == "rejected"
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("file", "unreadable_file")
    assert "RecursionError" in problem["message"]
    assert aws.keys("inbox/") == []


# --- D8 --------------------------------------------------------------------------------------------
CSV_HEADER = "invoice_number,issue_date,currency,customer_ref,total_amount\n"


def test_a_file_of_many_bad_rows_gets_a_capped_report_that_says_how_many_were_left_out(aws: Aws) -> None:
    bad_rows = 20_000
    rows = [f"B-{n},2026-13-01,EUR,C1,{'9' * 200}x\n" for n in range(bad_rows)]
    body = CSV_HEADER + "G-1,2026-10-01,EUR,C1,10.00\n" + "".join(rows)

    result = aws.drop("inbox/bad-rows.csv", body)

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", 1, 2 * bad_rows)
    raw = aws.s3.get_object(Bucket="test-invoices", Key=result["destination"] + ".error.json")["Body"].read()
    assert len(raw) < 1_000_000  # the file is 4.5 MB of bad rows; uncapped, the report was larger
    report = json.loads(raw)
    assert len(report["problems"]) == report["problems_listed"] == 1000
    assert report["problems_left_out"] == 2 * bad_rows - 1000
    assert "first 1000 of the 40000 problems" in report["problems_note"]
    assert report["problems"][0]["location"] == "row 3"
    assert stored("G-1")


# --- D21 -------------------------------------------------------------------------------------------
def test_a_repeated_json_key_is_refused_by_name_and_the_other_invoices_go_in(aws: Aws) -> None:
    good = json.dumps(invoice("J-1"))
    twice = json.dumps(invoice("J-2")).replace('"total": "100.00"', '"total": "100.00", "total": "1.00"')

    result = aws.drop("inbox/twice.json", f"[{good}, {twice}]")

    assert (result["outcome"], result["created"]) == ("rejected", 1)
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"], problem["field"]) == ("item 2", "duplicate_key", "/1/total")
    assert stored("J-1")
    assert not stored("J-2")


def test_a_csv_with_a_header_but_no_rows_is_rejected_with_that_said(aws: Aws) -> None:
    result = aws.drop("inbox/header-only.csv", CSV_HEADER)

    assert result["outcome"] == "rejected"
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("file", "no_rows")
    assert "the file has a header but no rows" in problem["message"]


def test_a_nul_byte_rejects_its_row_not_the_whole_file(aws: Aws) -> None:
    body = (
        CSV_HEADER
        + "N-1,2026-10-01,EUR,C1,10.00\nN-2,2026-10-01,EUR,C\x001,10.00\nN-3,2026-10-01,EUR,C1,5.00\n"
    )

    result = aws.drop("inbox/nul.csv", body)

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", 2, 1)
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("row 3", "not_text")
    assert stored("N-1")
    assert stored("N-3")


# --- D10 -------------------------------------------------------------------------------------------
def test_a_customer_name_with_a_line_break_is_stored_on_one_line_so_its_invoice_can_be_mailed(
    aws: Aws,
) -> None:
    body = (
        "invoice_number,issue_date,currency,customer_ref,customer_name,po_number,total_amount\n"
        'L-1,2026-10-01,EUR,C-EVIL,"Evil Corp\r\nBcc: victim@example.com",PO-1,10.00\n'
        "L-2,2026-10-01,EUR,C-BELL,Bell\x07Corp,PO-2,10.00\n"
        "L-3,2026-10-01,EUR,C-GOOD,Good Corp,PO-3,20.00\n"
    )

    result = aws.drop("inbox/names.csv", body)

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", 2, 1)
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("row 4", "control_character")
    assert (problem["field"], problem["number"]) == ("customer_name", "L-2")
    assert "U+0007" in problem["message"]
    assert stored("L-1")
    assert not stored("L-2")
    assert stored("L-3")
    [customer] = store.customers_by_identifier([PartyId("erp", "C-EVIL")]).values()
    assert store.get_customers({customer})[customer].name == "Evil Corp Bcc: victim@example.com"


def test_an_invoice_too_large_for_one_item_is_a_problem_not_a_file_stuck_in_the_inbox(aws: Aws) -> None:
    lines = [{"description": f"line {n} " + "x" * 600, "amount": "0.10"} for n in range(1000)]
    text = json.dumps([invoice("BIG-1", lines=lines), invoice("OK-1")])

    result = aws.drop("inbox/big.json", text)

    assert (result["created"], result["problems"]) == (1, 1)
    [problem] = aws.report(result["destination"])["problems"]
    assert problem["code"] == "too_large" and problem["number"] == "BIG-1"
    assert stored("OK-1") and not stored("BIG-1")
    assert aws.keys("inbox/") == []
