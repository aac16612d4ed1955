"""Ingestion throughput against the batch-write floor, and the ingest handler's cold start.

- ``ingest_rows_per_s``: a 100,000-row CSV through `ingest_object` on moto (read from S3,
  parsed, validated, customers matched, every invoice written transactionally with its audit
  event, report written, file moved).
- ``floor_rows_per_s``: the very items that run wrote, written again with plain batch writes
  (``batch_writer``, no conditions, no transactions) into an empty table on the same moto.
- ``ingest_cold_start_ms`` / ``boto3_import_ms``: importing the handler module, and importing
  boto3 alone, each in a fresh interpreter with warm bytecode caches (median of 15 runs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

import boto3
from moto import mock_aws

from receivables.storage.records import LedgerRecord
from receivables_local import moto_patches
from tests.benchmarks.conftest import ingest_big_csv, report
from tests.conftest import REPO_ROOT

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
REGION = "eu-west-1"


def _create_plain_table(client: Any, name: str) -> None:
    schema = LedgerRecord._get_schema()
    client.create_table(
        TableName=name,
        KeySchema=schema["key_schema"],
        AttributeDefinitions=schema["attribute_definitions"],
        GlobalSecondaryIndexes=[
            {"IndexName": i["index_name"], "KeySchema": i["key_schema"], "Projection": i["projection"]}
            for i in schema["global_secondary_indexes"]
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _items_written(table_name: str) -> list[dict[str, Any]]:
    """Every item of the table, read from moto's memory (a Scan through the API is quadratic in
    moto: each page walks the whole table)."""
    from boto3.dynamodb.types import TypeDeserializer
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"][REGION].get_table(table_name)
    deserialize = TypeDeserializer().deserialize
    return [
        {name: deserialize(value) for name, value in item.to_json()["Attributes"].items()}
        for item in table.all_items()
    ]


def test_ingest_throughput_against_the_batch_write_floor() -> None:
    moto_patches.install()
    with mock_aws():
        created, ingest_seconds = ingest_big_csv(ROWS)
        assert created == ROWS

        items = _items_written("bench-ledger")
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        _create_plain_table(boto3.client("dynamodb", region_name=REGION), "bench-floor")
        started = time.perf_counter()
        with dynamodb.Table("bench-floor").batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)
        floor_seconds = time.perf_counter() - started

    report("ingest_rows", ROWS)
    report("ingest_items_written", len(items))
    report("ingest_seconds", ingest_seconds)
    report("ingest_rows_per_s", ROWS / ingest_seconds)
    report("floor_seconds", floor_seconds)
    report("floor_rows_per_s", ROWS / floor_seconds)
    report("ingest_vs_floor", floor_seconds / ingest_seconds)


def _median_import_ms(statement: str, cwd: str, runs: int = 15) -> float:
    env = {
        **os.environ,
        "TABLE_NAME": "t",
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "ingest",
        # As in Lambda, the layer's directory is on the path (not the editable-install finder).
        "PYTHONPATH": str(REPO_ROOT / "layers" / "core"),
    }
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def test_ingest_cold_start_against_importing_boto3() -> None:
    handler_dir = str(REPO_ROOT / "functions" / "ingest")
    # Warm the file cache and the bytecode caches once, as a Lambda image has them.
    _median_import_ms("import app", handler_dir, runs=1)
    handler_ms = _median_import_ms("import app", handler_dir)
    boto3_ms = _median_import_ms("import boto3", handler_dir)
    report("ingest_cold_start_ms", handler_ms)
    report("boto3_import_ms", boto3_ms)
    report("cold_start_vs_boto3", handler_ms / boto3_ms)
