"""Benchmarks print `name=value` lines (run with `make bench`); they are not part of `make test`."""

from __future__ import annotations


def report(name: str, value: float | int | str) -> None:
    """Print one figure in the `name=value` form the issues quote."""
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}={text}", flush=True)


def ingest_big_csv(rows: int, customers: int = 1000) -> tuple[int, float]:
    """Inside ``mock_aws``: a bucket and the ledger table "bench-ledger", then a generated CSV of
    ``rows`` invoices ingested. Returns (invoices created, seconds the ingestion took)."""
    import time

    import boto3

    from receivables.adapters.s3 import ObjectStore
    from receivables.ingest.service import ObjectEvent, ingest_object
    from receivables.kernel.clock import SystemClock
    from receivables.kernel.settings import Settings
    from receivables.storage import store
    from tests.data import big_csv

    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="bench-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    store.bind("bench-ledger", "eu-west-1")
    store.create_table()
    s3.put_object(Bucket="bench-invoices", Key="inbox/big.csv", Body=big_csv(rows, customers=customers))
    started = time.perf_counter()
    result = ingest_object(
        ObjectEvent("bench-invoices", "inbox/big.csv"),
        ObjectStore(s3),
        Settings(table_name="bench-ledger", region="eu-west-1"),
        SystemClock(),
    )
    return int(result.report["summary"]["created"]), time.perf_counter() - started
