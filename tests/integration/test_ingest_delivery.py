"""At-least-once delivery: repeated, stale and re-uploaded files; the EventBridge event shape."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from tests.conftest import SAMPLES

if TYPE_CHECKING:
    import pytest

    from tests.integration.conftest import Aws

CSV = (SAMPLES / "invoices.csv").read_bytes()


def test_given_the_same_notification_twice_then_the_second_is_skipped(aws: Aws) -> None:
    notification = aws.put("inbox/a.csv", CSV)

    first = aws.deliver(notification)
    second = aws.deliver(notification)

    assert (first["outcome"], first["created"]) == ("processed", 5)
    assert second["outcome"] == "skipped"
    assert aws.keys("processed/") == ["processed/a.csv", "processed/a.csv.report.json"]


def test_given_the_same_file_under_another_key_then_no_second_receivable(aws: Aws) -> None:
    aws.drop("inbox/a.csv", CSV)

    again = aws.drop("inbox/2026/copy-of-a.csv", CSV)

    assert (again["outcome"], again["created"], again["duplicates"], again["problems"]) == (
        "processed",
        0,
        5,
        0,
    )
    invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, "INV-2026-1001"))
    assert invoice is not None and [e.seq for e in store.invoice_events(invoice.invoice_id)] == [1]


def test_given_a_notification_for_a_replaced_object_then_it_is_stale(aws: Aws) -> None:
    old = aws.put("inbox/a.csv", CSV)
    aws.s3.put_object(Bucket="test-invoices", Key="inbox/a.csv", Body=CSV.replace(b"1190.00", b"1190.00 "))

    result = aws.deliver(old)

    assert result["outcome"] == "skipped"
    assert aws.keys("inbox/") == ["inbox/a.csv"]


def test_given_a_key_with_spaces_then_the_url_encoded_notification_finds_it(aws: Aws) -> None:
    result = aws.drop("inbox/October invoices (final).csv", CSV)

    assert result["outcome"] == "processed"
    assert "processed/October invoices (final).csv" in aws.keys("processed/")


def test_given_the_eventbridge_object_created_shape_then_it_is_ingested(aws: Aws) -> None:
    aws.s3.put_object(Bucket="test-invoices", Key="inbox/eb.csv", Body=CSV)
    head = aws.s3.head_object(Bucket="test-invoices", Key="inbox/eb.csv")
    event = {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-02T09:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:s3:::test-invoices"],
        "detail": {
            "version": "0",
            "bucket": {"name": "test-invoices"},
            "object": {
                "key": "inbox/eb.csv",
                "size": head["ContentLength"],
                "etag": head["ETag"].strip('"'),
                "version-id": head["VersionId"],
                "sequencer": "00617F08299329D189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }

    result = aws.ingest.handle(event, aws.deps())["objects"][0]

    assert (result["outcome"], result["created"]) == ("processed", 5)


def test_given_an_object_outside_the_inbox_then_nothing_happens(aws: Aws) -> None:
    notification = aws.put("processed/a.csv", CSV)

    result = aws.deliver(notification)

    assert result["outcome"] == "skipped"
    assert store.get_invoice(document_id("self", DocumentType.INVOICE, "INV-2026-1001")) is None


def test_given_one_invoice_twice_in_a_file_then_duplicate_and_conflict_are_told_apart(aws: Aws) -> None:
    body = (
        "invoice_number,issue_date,currency,customer_ref,total_amount\n"
        "D-1,2026-10-01,EUR,C1,10.00\n"
        "D-2,2026-10-01,EUR,C1,20.00\n"
        "D-1,2026-10-01,EUR,C1,10.00\n"
        "D-2,2026-10-01,EUR,C1,25.00\n"
    )

    result = aws.drop("inbox/d.csv", body)

    assert (result["created"], result["duplicates"], result["conflicts"]) == (2, 1, 1)
    [problem] = aws.report(result["destination"])["problems"]
    assert problem["location"] == "row 5"
    assert "row 3 and row 5" in problem["message"]
    invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, "D-2"))
    assert invoice is not None and invoice.payable == Money(2000, "EUR")


def test_given_a_json_credit_note_then_it_reduces_the_csv_invoice(aws: Aws) -> None:
    aws.drop("inbox/a.csv", CSV)

    result = aws.drop("inbox/b.json", (SAMPLES / "invoices.json").read_bytes())

    assert (result["created"], result["credit_notes_applied"]) == (2, 1)
    invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, "INV-2026-1001"))
    assert invoice is not None
    assert invoice.balance == Money(107100, "EUR")
    event = store.invoice_events(invoice.invoice_id)[-1]
    assert (event.seq, event.type, event.data["amount"], event.data["balance"]) == (
        2,
        "CreditApplied",
        "119.00",
        "1071.00",
    )


def test_the_report_is_json_with_what_was_created(aws: Aws) -> None:
    result = aws.drop("inbox/a.csv", CSV)

    report = aws.report(result["destination"])

    assert report["object"]["format"] == "csv"
    assert [c["number"] for c in report["created"]] == [f"INV-2026-100{i}" for i in range(1, 6)]
    assert report["summary"]["customers_created"] == 5
    json.dumps(report)


def test_the_lambda_entry_point_runs_with_logging_and_metrics_on(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from receivables.kernel.observability import logger

    monkeypatch.setattr(aws.ingest, "default_dependencies", aws.deps)
    logger.setLevel("INFO")
    try:
        response = aws.ingest.lambda_handler(aws.put("inbox/a.csv", CSV), LambdaContext())
    finally:
        logger.setLevel("WARNING")

    assert response["objects"][0]["created"] == 5
    record = next(r for r in caplog.records if r.getMessage() == "object ingested")
    assert record.counts["created"] == 5  # type: ignore[attr-defined]
    assert record.outcome == "processed"  # type: ignore[attr-defined]


class LambdaContext:
    function_name = "ingest-test"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ingest-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
