"""The demo's first chapters (1 to 4): the invoice files of every supported format dropped into
the inbox (the Peppol examples and a CSV with bad rows among them) with boto3, as a user would,
one notification delivered a second time, and what became of everything, read back from the
emulator: per file, the events on the bus, per customer, and the rejection reports.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from receivables.ledger.model import CreditNote
from receivables.storage import store
from receivables_local.demo.helpers import file_line, report_of
from receivables_local.functions import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from receivables_local.runtime import LocalRuntime

SAMPLES = REPO_ROOT / "samples"
EINVOICES = REPO_ROOT / "tests" / "fixtures" / "einvoices"
# The Peppol examples in the order that tells their story: the invoice, a re-send of it with an
# order reference (a duplicate), a different document under the same number (a conflict), an
# invoice with payment terms only, and the credit note that corrects the first.
PEPPOL = (
    "base-example.xml",
    "sales-order-example.xml",
    "Allowance-example.xml",
    "vat-category-E.xml",
    "base-creditnote-correction.xml",
)


def demo_files() -> list[tuple[str, Path]]:
    """(inbox key, local file) for every sample, in the order they are dropped."""
    files = [(f"inbox/2026-10/{p.name}", p) for p in sorted(SAMPLES.glob("*.*"))]
    files += [(f"inbox/peppol/{name}", EINVOICES / name) for name in PEPPOL]
    return files


def observe_bus(events: Any, sqs: Any, bus: str) -> str:
    """A queue subscribed to every ledger event, so the demo can count what was published."""
    url: str = sqs.create_queue(QueueName="demo-ledger-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="demo-observer",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["receivables.ledger"]}),
    )
    events.put_targets(Rule="demo-observer", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def ingest_chapter(
    runtime: LocalRuntime, s3: Any, events: Any, sqs: Any, queue_url: str, out: TextIO
) -> None:
    """Chapters 1 to 4; ``queue_url`` is `observe_bus`'s, made before the first file is dropped."""
    assert runtime.stack is not None
    bucket = runtime.stack.resources["InvoiceBucket"]
    bus = runtime.stack.resources["EventBus"]
    print("1. Invoice files dropped into the inbox (as an ERP export would):", file=out)
    rejected: list[dict[str, Any]] = []
    for key, path in demo_files():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        runtime.settle()
        report = report_of(s3, bucket, key)
        print("   " + file_line(key, report), file=out)
        if report and report["outcome"] == "rejected":
            rejected.append(report)
        if path.name == "invoices.csv":
            outcome = _redeliver(events, bucket, key, runtime)
            print(f"   the same S3 notification delivered again -> {outcome}", file=out)
            copy = "inbox/resend/invoices-copy.csv"
            s3.put_object(Bucket=bucket, Key=copy, Body=path.read_bytes())
            runtime.settle()
            print("   " + file_line(copy, report_of(s3, bucket, copy)), file=out)

    published: dict[str, int] = {}
    for message in _drain(sqs, queue_url):
        detail_type = json.loads(message["Body"])["detail-type"]
        published[detail_type] = published.get(detail_type, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(published.items()))
    print(f"\n2. Ledger events on the bus {bus}: {sum(published.values())} ({counts})", file=out)

    print("\n3. The ledger, per customer (amount still owed, due date and where it came from):", file=out)
    _print_ledger(out, runtime)
    print("\n4. What was rejected, and why:", file=out)
    for report in rejected:
        print(f"\n   {report['object']['key']} -> {report['moved_to']}.error.json", file=out)
        for problem in report["problems"]:
            where = problem["location"] + (f", {problem['field']}" if "field" in problem else "")
            print(f"   [{problem['code']}] {where}: {problem['message']}", file=out)
    left = s3.list_objects_v2(Bucket=bucket, Prefix="inbox/").get("KeyCount", 0)
    print(f"\nInbox now holds {left} objects; every file was moved to processed/ or rejected/.", file=out)


def _redeliver(events: Any, bucket: str, key: str, runtime: LocalRuntime) -> str:
    """Send the "Object Created" event for ``key`` once more, as at-least-once delivery may;
    return what the ingest function made of it."""
    assert runtime.invoker is not None
    seen = len(runtime.invoker.history)
    detail = {"version": "0", "bucket": {"name": bucket}, "object": {"key": key}, "reason": "PutObject"}
    events.put_events(
        Entries=[{"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps(detail)}]
    )
    runtime.settle()
    outcomes = [
        obj["outcome"]
        for invocation in runtime.invoker.history[seen:]
        if invocation.function == "IngestFunction" and invocation.ok
        for obj in invocation.result["objects"]
    ]
    return ", ".join(outcomes) or "not delivered"


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _print_ledger(out: TextIO, runtime: LocalRuntime) -> None:
    customers = store.get_customers(_customer_ids(runtime))
    for customer in sorted(customers.values(), key=lambda c: c.name or ""):
        flag = "  [needs contact details]" if customer.needs_contact_details else ""
        print(
            f"\n   {customer.name or customer.customer_id} <{customer.email or 'no email'}>{flag}", file=out
        )
        for doc in store.customer_documents(customer.customer_id):
            if isinstance(doc, CreditNote):
                print(
                    f"     credit note {doc.number:<16} {doc.amount!s:>16}  "
                    f"applied {doc.applied.to_decimal_string()}, "
                    f"unapplied {doc.unapplied.to_decimal_string()}",
                    file=out,
                )
            else:
                print(
                    f"     invoice     {doc.number:<16} {doc.balance!s:>16}  due {doc.due_date} "
                    f"({doc.due_date_source.value}), {doc.status.value}",
                    file=out,
                )


def _customer_ids(runtime: LocalRuntime) -> list[str]:
    """Every customer id in the demo ledger: the demo reads the whole table to show it (a request
    path never scans)."""
    assert runtime.stack is not None
    client = boto3.client("dynamodb", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
    paginator = client.get_paginator("scan")
    ids: list[str] = []
    for page in paginator.paginate(
        TableName=runtime.stack.resources["Table"],
        FilterExpression="kind = :c",
        ExpressionAttributeValues={":c": {"S": "customer"}},
    ):
        ids += [item["customer_id"]["S"] for item in page["Items"]]
    return ids
