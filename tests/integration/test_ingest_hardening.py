"""Hostile or careless invoice files on the ingest handler (issue 28, "Hardening"): each is
rejected with a report that says what, where and why, never left in the inbox, and the good
invoices beside the bad ones still go in."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from receivables import store
from receivables.domain import DocumentType
from receivables.ledger import document_id

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
