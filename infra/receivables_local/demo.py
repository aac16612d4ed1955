"""`receivables demo`: the ingestion story, in-process on the embedded AWS (moto).

Drops the sample invoices of every supported format into the inbox, delivers the notifications
S3 would send (one of them twice), publishes the ledger's events from the table's stream, and
prints what happened: per file, per customer, and the rejection report of the bad file.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.aws import FAKE_CREDENTIALS, LOCAL_CONFIG, StreamReader, s3_put_notification
from receivables_local.functions import REPO_ROOT, load_function

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

REGION = "eu-west-1"
BUCKET = "receivables-demo-invoices"
TABLE = "receivables-demo-ledger"
BUS = "receivables-demo"
SAMPLES = REPO_ROOT / "samples"
EINVOICES = REPO_ROOT / "tests" / "fixtures" / "einvoices"


def demo_files() -> list[tuple[str, Path]]:
    """(inbox key, local file) for every sample, in the order they are dropped."""
    files = [(f"inbox/2026-10/{p.name}", p) for p in sorted(SAMPLES.glob("*.*"))]
    # The Peppol examples in the order that tells their story: the invoice, a re-send of it with
    # an order reference (a duplicate), a different document under the same number (a
    # conflict), an invoice with payment terms only, and the credit note that corrects the first.
    peppol = [
        "base-example.xml",
        "sales-order-example.xml",
        "Allowance-example.xml",
        "vat-category-E.xml",
        "base-creditnote-correction.xml",
    ]
    files += [(f"inbox/peppol/{name}", EINVOICES / name) for name in peppol]
    return files


def run_demo(out: TextIO) -> int:
    """Run the story and print it; returns the process exit code."""
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        TABLE_NAME=TABLE,
        INVOICE_BUCKET=BUCKET,
        EVENT_BUS_NAME=BUS,
        POWERTOOLS_SERVICE_NAME="demo",
        POWERTOOLS_METRICS_NAMESPACE="Receivables",
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    from moto import mock_aws

    from receivables_local import moto_patches

    moto_patches.install()
    with mock_aws():
        return _story(out)


def _story(out: TextIO) -> int:
    import boto3

    from receivables import store

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    store.bind(TABLE, REGION)
    store.create_table()
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="demo-ledger-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all-ledger-events",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": ["receivables.ledger"]}),
    )
    events.put_targets(Rule="all-ledger-events", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
    stream_arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"][
        "LatestStreamArn"
    ]
    streams = StreamReader(
        boto3.client("dynamodbstreams", region_name=REGION, config=LOCAL_CONFIG), stream_arn
    )

    ingest = load_function("ingest")
    publisher = load_function("publisher")
    deps = ingest.default_dependencies()
    bus = publisher.default_publisher()

    print("Receivables demo: invoice ingestion on the embedded AWS (moto, in-process)\n", file=out)
    rejected_reports: list[dict[str, Any]] = []
    for key, path in demo_files():
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
        notification = s3_put_notification(s3, BUCKET, key, REGION)
        result = ingest.handle(notification, deps)["objects"][0]
        print(_file_line(key, result), file=out)
        if result["outcome"] == "rejected":
            report = json.loads(
                s3.get_object(Bucket=BUCKET, Key=result["destination"] + ".error.json")["Body"].read()
            )
            rejected_reports.append(report)
        if path.name == "invoices.csv":
            again = ingest.handle(notification, deps)["objects"][0]
            print(f"  the same notification delivered again -> {again['outcome']}", file=out)
            s3.put_object(Bucket=BUCKET, Key="inbox/resend/invoices-copy.csv", Body=path.read_bytes())
            copy = ingest.handle(
                s3_put_notification(s3, BUCKET, "inbox/resend/invoices-copy.csv", REGION), deps
            )
            print("  " + _file_line("inbox/resend/invoices-copy.csv", copy["objects"][0]), file=out)

    published: dict[str, int] = {}
    records = streams.read()
    response = publisher.handle({"Records": records}, bus)
    for message in _drain(sqs, queue_url):
        detail_type = json.loads(message["Body"])["detail-type"]
        published[detail_type] = published.get(detail_type, 0) + 1
    print(
        f"\nLedger events published from the table's stream: {sum(published.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(published.items()))}); "
        f"failed records: {len(response['batchItemFailures'])}",
        file=out,
    )

    _print_ledger(out, s3)
    for report in rejected_reports:
        print(f"\nRejected: {report['object']['key']} -> {report['moved_to']}.error.json", file=out)
        for problem in report["problems"]:
            where = problem["location"] + (f", {problem['field']}" if "field" in problem else "")
            print(f"  [{problem['code']}] {where}: {problem['message']}", file=out)
    return 0


def _file_line(key: str, result: dict[str, Any]) -> str:
    if result["outcome"] == "skipped":
        return f"{key:<48} skipped (already handled)"
    return (
        f"{key:<48} {result['outcome']:<9} created {result['created']}, duplicates {result['duplicates']}, "
        f"problems {result['problems']} (conflicts {result['conflicts']}), "
        f"credit notes applied {result['credit_notes_applied']}"
    )


def _drain(sqs: Any, queue_url: str) -> Iterator[dict[str, Any]]:
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return
        yield from batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _print_ledger(out: TextIO, s3: Any) -> None:
    from receivables import store
    from receivables.domain import CreditNote

    customer_ids = sorted(set(_customer_ids()))
    customers = store.get_customers(customer_ids)
    print("\nThe ledger, per customer (amounts due are what is still owed):", file=out)
    for customer in sorted(customers.values(), key=lambda c: c.name or ""):
        flag = "  [needs contact details]" if customer.needs_contact_details else ""
        print(
            f"\n  {customer.name or customer.customer_id} <{customer.email or 'no email'}>{flag}",
            file=out,
        )
        for doc in store.customer_documents(customer.customer_id):
            if isinstance(doc, CreditNote):
                print(
                    f"    credit note {doc.number:<16} {doc.amount!s:>16}  "
                    f"applied {doc.applied.to_decimal_string()}, "
                    f"unapplied {doc.unapplied.to_decimal_string()}",
                    file=out,
                )
            else:
                print(
                    f"    invoice     {doc.number:<16} {doc.balance!s:>16}  due {doc.due_date} "
                    f"({doc.due_date_source.value}), {doc.status.value}",
                    file=out,
                )
    processed = s3.list_objects_v2(Bucket=BUCKET, Prefix="processed/").get("KeyCount", 0)
    rejected = s3.list_objects_v2(Bucket=BUCKET, Prefix="rejected/").get("KeyCount", 0)
    inbox = s3.list_objects_v2(Bucket=BUCKET, Prefix="inbox/").get("KeyCount", 0)
    print(
        f"\nBucket: inbox/ {inbox} objects, processed/ {processed}, rejected/ {rejected} (files and reports)",
        file=out,
    )


def _customer_ids() -> Iterator[str]:
    """Every customer id in the demo ledger.

    The demo reads the whole table to show it; no request path ever scans.
    """
    import boto3

    table = boto3.resource("dynamodb", region_name=os.environ["AWS_REGION"]).Table(TABLE)
    kwargs: dict[str, Any] = {
        "FilterExpression": "kind = :c",
        "ExpressionAttributeValues": {":c": "customer"},
    }
    while True:
        page = table.scan(**kwargs)
        for item in page["Items"]:
            yield str(item["customer_id"])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
