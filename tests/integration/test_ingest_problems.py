"""Bad files and bad rows: a clear report beside the file, and the good invoices still go in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.storage import store
from tests.conftest import SAMPLES
from tests.unit.ingest.test_ubl import BILLION_LAUGHS, XXE

if TYPE_CHECKING:
    from tests.integration.conftest import Aws


def test_given_bad_rows_then_they_are_reported_and_the_good_rows_go_in(aws: Aws) -> None:
    result = aws.drop("inbox/rows.csv", (SAMPLES / "rows-with-problems.csv").read_bytes())

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", 2, 3)
    report = aws.report(result["destination"])
    assert [(p["location"], p["field"], p["code"]) for p in report["problems"]] == [
        ("row 3", "issue_date", "invalid_date"),
        ("row 4", "currency", "invalid_currency"),
        ("row 4", "total_amount", "invalid_amount"),
    ]
    assert {p["number"] for p in report["problems"]} == {"INV-2026-4002", "INV-2026-4003"}
    for number in ("INV-2026-4001", "INV-2026-4004"):
        assert store.get_invoice(document_id("self", DocumentType.INVOICE, number)) is not None
    assert aws.keys("rejected/") == ["rejected/rows.csv", "rejected/rows.csv.error.json"]


def test_given_the_fixed_file_again_then_only_the_fixed_rows_are_new(aws: Aws) -> None:
    bad = (SAMPLES / "rows-with-problems.csv").read_text()
    aws.drop("inbox/rows.csv", bad)
    fixed = bad.replace("2026-13-02", "2026-10-02").replace("EURO", "EUR").replace("12.5.0", "12.50")

    result = aws.drop("inbox/rows-fixed.csv", fixed)

    assert (result["outcome"], result["created"], result["duplicates"]) == ("processed", 2, 2)


@pytest.mark.parametrize(
    ("key", "body", "code", "words"),
    [
        ("inbox/scan.pdf", b"%PDF-1.7", "unsupported_format", ".pdf is not an invoice format"),
        ("inbox/noext", b"invoice_number", "unsupported_format", "no extension"),
        ("inbox/empty.csv", b"", "empty_file", "empty"),
        ("inbox/latin1.csv", "Num\xe9ro,Date\n".encode("latin-1"), "not_utf8", "UTF-8"),
        ("inbox/xxe.xml", XXE, "unsafe_xml", "DTD or entities"),
        ("inbox/bomb.xml", BILLION_LAUGHS, "unsafe_xml", "DTD or entities"),
        ("inbox/json-really.xml", b'{"number": "1"}', "wrong_format", "does not hold XML"),
        ("inbox/xml-really.json", b"<Invoice/>", "wrong_format", "does not hold JSON"),
        ("inbox/xml-really.csv", b"<Invoice/>", "wrong_format", "holds XML or JSON"),
        ("inbox/headers.csv", b"a,b,c\n1,2,3\n", "missing_columns", "lacks invoice_number"),
    ],
)
def test_given_an_unusable_file_then_it_is_rejected_with_a_clear_reason(
    aws: Aws, key: str, body: bytes, code: str, words: str
) -> None:
    result = aws.drop(key, body)

    assert result["outcome"] == "rejected"
    [problem] = aws.report(result["destination"])["problems"]
    assert (problem["location"], problem["code"]) == ("file", code)
    assert words in problem["message"]
    assert result["destination"] in aws.keys("rejected/")


def test_given_a_file_over_the_size_limit_then_it_is_rejected_unread(aws: Aws) -> None:
    small = aws.with_settings(max_csv_bytes=100)

    result = small.drop("inbox/big.csv", (SAMPLES / "invoices.csv").read_bytes())

    [problem] = small.report(result["destination"])["problems"]
    assert problem["code"] == "file_too_large"
    assert "up to 100 bytes" in problem["message"]


def test_given_a_folder_that_declares_day_first_then_slashed_dates_are_read_that_way(aws: Aws) -> None:
    export = (
        "InvoiceNumber,InvoiceDate,DueDate,Currency,CustomerID,TotalAmount\n"
        "DM-1,03/04/2026,03/05/2026,EUR,C9,10.00\n"
    )

    result = aws.drop("inbox/dd-mm-yyyy/erp-export.csv", export)

    assert (result["outcome"], result["created"]) == ("processed", 1)
    invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, "DM-1"))
    assert invoice is not None and (invoice.issue_date.isoformat(), invoice.due_date.isoformat()) == (
        "2026-04-03",
        "2026-05-03",
    )
    undeclared = aws.drop("inbox/erp-export.csv", export.replace("DM-1", "DM-2"))
    assert undeclared["outcome"] == "rejected" and undeclared["created"] == 0


def test_given_invoices_the_erp_marks_disputed_then_a_dispute_is_opened_once(aws: Aws) -> None:
    export = (
        "invoice_number,issue_date,currency,customer_ref,total_amount,disputed\n"
        "DS-1,2026-10-01,EUR,C7,100.00,yes\n"
        "DS-2,2026-10-01,EUR,C7,100.00,pricing\n"
        "DS-3,2026-10-01,EUR,C7,100.00,no\n"
        "DS-4,2026-10-01,EUR,C7,100.00,maybe\n"
    )

    result = aws.drop("inbox/disputed.csv", export)

    report = aws.report(result["destination"])
    assert [(d["number"], d["reason"]) for d in report["disputes_opened"]] == [
        ("DS-1", "other"),
        ("DS-2", "pricing"),
    ]
    assert [(p["field"], p["code"]) for p in report["problems"]] == [("disputed", "invalid_dispute")]
    statuses = {
        n: store.get_invoice(document_id("self", DocumentType.INVOICE, n)).status  # type: ignore[union-attr]
        for n in ("DS-1", "DS-2", "DS-3")
    }
    assert statuses == {
        "DS-1": InvoiceStatus.DISPUTED,
        "DS-2": InvoiceStatus.DISPUTED,
        "DS-3": InvoiceStatus.OPEN,
    }
    assert len(store.open_disputes()) == 2

    again = aws.drop("inbox/disputed-again.csv", export)
    assert aws.report(again["destination"])["disputes_opened"] == []
    assert len(store.open_disputes()) == 2
