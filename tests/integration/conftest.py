"""Handlers in-process on moto: a fresh table, bucket and bus for every test."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from receivables.adapters.s3 import ObjectStore
from receivables.kernel.clock import FixedClock
from receivables.kernel.settings import Settings
from receivables.storage import store
from receivables_local import moto_patches
from receivables_local.aws import LOCAL_CONFIG, StreamReader, s3_put_notification
from receivables_local.functions import load_function

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from mypy_boto3_s3 import S3Client

REGION = "eu-west-1"
BUCKET = "test-invoices"
TABLE = "test-ledger"
BUS = "test-bus"

moto_patches.install()


@dataclass
class Aws:
    """The embedded AWS of one test, and the ingest handler wired to it."""

    s3: S3Client
    settings: Settings
    clock: FixedClock
    ingest: ModuleType

    def deps(self) -> Any:
        return self.ingest.Dependencies(self.settings, ObjectStore(self.s3), self.clock)

    def put(self, key: str, body: bytes | str) -> dict[str, Any]:
        """Upload ``body`` at ``key`` and return the notification S3 would send."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)
        return s3_put_notification(self.s3, BUCKET, key, REGION)

    def deliver(self, notification: dict[str, Any]) -> dict[str, Any]:
        """Run the ingest handler on a notification; the summary of its one object."""
        result: dict[str, Any] = self.ingest.handle(notification, self.deps())["objects"][0]
        return result

    def drop(self, key: str, body: bytes | str) -> dict[str, Any]:
        """Upload a file into the inbox and deliver its notification."""
        return self.deliver(self.put(key, body))

    def report(self, destination: str) -> dict[str, Any]:
        """The JSON report written beside a processed or rejected file."""
        suffix = ".error.json" if destination.startswith("rejected/") else ".report.json"
        body = self.s3.get_object(Bucket=BUCKET, Key=destination + suffix)["Body"].read()
        result: dict[str, Any] = json.loads(body)
        return result

    def keys(self, prefix: str) -> list[str]:
        response = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(obj["Key"] for obj in response.get("Contents", []))

    def with_settings(self, **changes: Any) -> Aws:
        return replace(self, settings=replace(self.settings, **changes))

    def stream(self) -> StreamReader:
        arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"][
            "LatestStreamArn"
        ]
        return StreamReader(boto3.client("dynamodbstreams", region_name=REGION, config=LOCAL_CONFIG), arn)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        store.bind(TABLE, REGION)
        store.create_table()
        settings = Settings(table_name=TABLE, region=REGION, event_bus_name=BUS, invoice_bucket=BUCKET)
        clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        yield Aws(s3, settings, clock, load_function("ingest"))
