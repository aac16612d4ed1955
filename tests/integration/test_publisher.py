"""The table's stream as outbox: every committed audit event reaches the bus, failures are retried."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from receivables.adapters.events import EventPublisher
from receivables_local.functions import load_function
from tests.conftest import SAMPLES
from tests.integration.conftest import BUS, REGION

if TYPE_CHECKING:
    from tests.integration.conftest import Aws


def bus_with_queue() -> tuple[Any, str]:
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName="observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["receivables.ledger"]}))
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += [json.loads(m["Body"]) for m in batch]
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return out


def test_given_an_ingested_file_then_invoice_ingested_events_reach_the_bus(aws: Aws) -> None:
    sqs, url = bus_with_queue()
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    publisher = load_function("publisher")

    response = publisher.handle({"Records": aws.stream().read()}, EventPublisher(BUS, boto3.client("events")))

    assert response == {"batchItemFailures": []}
    events = received(sqs, url)
    ingested = [e for e in events if e["detail-type"] == "InvoiceIngested"]
    assert sorted(e["detail"]["number"] for e in ingested) == [f"INV-2026-100{i}" for i in range(1, 6)]
    first = next(e for e in ingested if e["detail"]["number"] == "INV-2026-1001")
    assert first["source"] == "receivables.ledger"
    assert first["detail"]["amount_due"] == "1190.00"
    assert first["detail"]["event_id"] == f"{first['detail']['invoice_id']}#1"
    assert first["detail"]["customer_email"] == "ap@acme-logistics.example"
    assert len([e for e in events if e["detail-type"] == "CustomerCreated"]) == 5
    assert all(e["detail-type"] not in {"invoice", "customer"} for e in events)


class RefusingEvents:
    """An EventBridge that refuses one kind of event (throttling, say)."""

    def __init__(self, refuse: str) -> None:
        self.refuse = refuse
        self.accepted: list[str] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        entry = Entries[0]
        if entry["DetailType"] == self.refuse:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}],
            }
        self.accepted.append(entry["DetailType"])
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


def test_given_a_refused_event_then_only_its_record_is_retried(aws: Aws) -> None:
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    records = aws.stream().read()
    fake = RefusingEvents("CustomerCreated")
    publisher = load_function("publisher")

    response = publisher.handle({"Records": records}, EventPublisher(BUS, fake))  # type: ignore[arg-type]

    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    customer_records = {
        r["dynamodb"]["SequenceNumber"]
        for r in records
        if r["eventName"] == "INSERT"
        and r["dynamodb"]["NewImage"].get("type", {}).get("S") == "CustomerCreated"
    }
    assert failed == customer_records and len(failed) == 5
    assert fake.accepted.count("InvoiceIngested") == 5
