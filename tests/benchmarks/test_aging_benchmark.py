"""The aging report and the dashboard read a bounded number of items, whatever the number of
invoices.

At each size (1,000 and 100,000 invoices by default; ``BENCH_AGING_SIZES`` to change), on moto:
a generated CSV over the same 500 customers and 28 due dates is ingested; the aggregates are
built; the day's snapshot is written as the sweep writes it (it ranks the worklist and ages the
invoices themselves, which the aggregated aging is checked against).

Building the aggregates: the aggregates function applies each stream record in its own
transaction (`apply_invoice`), some 50 a second on moto, which would take half an hour at
100,000. So the smallest size goes through `apply_invoice`, and the larger ones are built in
bulk: each invoice's `Share`, the counters summed in memory, then written (the same items, the
same values, checked the same way against the invoices' own aging).

Then `aging_report` and `dashboard_data` run 5 times each; every DynamoDB call they make is
counted (items returned, in every response: GetItem, Query pages, BatchGetItem).

Printed per size: ``aging_ms_<n>``, ``aging_items_read_<n>``, ``dashboard_ms_<n>``,
``dashboard_items_read_<n>`` (median latency in-process on moto); then
``aging_items_read_ratio_100k_vs_1k`` and ``dashboard_items_read_ratio_100k_vs_1k`` (target:
at most 1.5). What the aging reads is 1 (the currencies) + the due dates with a balance + the
customers with a balance, per currency.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from moto import mock_aws

from receivables_local import moto_patches
from tests.benchmarks.conftest import ingest_big_csv, report

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SIZES = tuple(int(n) for n in os.environ.get("BENCH_AGING_SIZES", "1000,100000").split(","))
CUSTOMERS = 500
TODAY = date(2026, 11, 23)


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


@contextmanager
def counting_reads() -> Iterator[list[int]]:
    """Count the items every DynamoDB response returns while the block runs (PynamoDB's
    connection carries every call the store makes, records and raw ones alike)."""
    from pynamodb.connection.base import Connection

    counted = [0, 0]  # items, calls
    original = Connection.dispatch

    def dispatch(self: Any, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = original(self, operation, arguments)
        counted[1] += 1
        if "Count" in response:
            counted[0] += int(response["Count"])
        elif "Item" in response:
            counted[0] += 1
        for items in (response.get("Responses") or {}).values():
            counted[0] += len(items)
        return response

    Connection.dispatch = dispatch  # type: ignore[method-assign,assignment]
    try:
        yield counted
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]


def _every_invoice() -> Iterator[Any]:
    """Every invoice, as the stream would carry it: read from moto's memory (paging a 100,000-item
    index partition through moto's Query sorts the whole partition for every page)."""
    from moto.dynamodb.models import dynamodb_backends

    from receivables.storage import store

    table = dynamodb_backends["123456789012"]["eu-west-1"].get_table("bench-ledger")
    for item in list(table.all_items()):
        invoice = store.invoice_from_stream_image(item.to_json()["Attributes"])
        if invoice is not None:
            yield invoice


def _aggregate_one_by_one() -> int:
    from receivables.reporting.aggregates import apply_invoice

    return sum(apply_invoice(invoice) for invoice in _every_invoice())


def _aggregate_in_bulk() -> int:
    """The items `apply_invoice` would leave, written without a transaction per invoice."""
    import boto3

    from receivables.reporting.aggregates import Share
    from receivables.storage.keys import AGGREGATE_INDEX as INDEX_KEY

    client: Any = boto3.client("dynamodb", region_name="eu-west-1")

    counters: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    shares, currencies = [], set()
    for invoice in _every_invoice():
        share = Share.of(invoice)
        currencies.add(share.currency)
        shares.append(share.to_item(invoice.invoice_id))
        for key, attribute, amount in share.counters(1):
            counters[key][attribute] += amount
    for start in range(0, len(shares), 25):
        batch = [{"PutRequest": {"Item": item}} for item in shares[start : start + 25]]
        client.batch_write_item(RequestItems={"bench-ledger": batch})
    for (pk, sk), amounts in counters.items():
        item = {name: {"N": str(value)} for name, value in amounts.items()}
        client.put_item(TableName="bench-ledger", Item={"pk": {"S": pk}, "sk": {"S": sk}, **item})
    index = {"pk": {"S": INDEX_KEY[0]}, "sk": {"S": INDEX_KEY[1]}, "currencies": {"SS": sorted(currencies)}}
    client.put_item(TableName="bench-ledger", Item=index)
    return len(shares)


def _write_todays_snapshot() -> dict[str, Any]:
    from receivables.collections.dunning.sweep import snapshot
    from receivables.reporting.service import SNAPSHOT_PK
    from receivables.storage import store

    body = snapshot(store.open_receivables_due_by(date.max), TODAY)
    store.put_document(SNAPSHOT_PK, body, 1, f"{TODAY.isoformat()}T06:00:00.000Z", None, sk=TODAY.isoformat())
    return body


def _measure(call: Callable[[], Any], runs: int = 5) -> tuple[float, int]:
    samples, items = [], set()
    for _ in range(runs):
        with counting_reads() as counted:
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        items.add(counted[0])
    assert len(items) == 1, f"the same call read {sorted(items)} items: not deterministic"
    return statistics.median(samples), items.pop()


def test_aging_and_dashboard_reads_do_not_grow_with_the_invoices() -> None:
    from receivables.reporting.service import aging_report
    from receivables.web.dashboard import dashboard_data

    moto_patches.install()
    read: dict[str, dict[int, int]] = {"aging": {}, "dashboard": {}}
    for size in SIZES:
        with mock_aws():
            created, _ = ingest_big_csv(size, customers=CUSTOMERS)
            assert created == size
            one_by_one = size == min(SIZES)
            assert (_aggregate_one_by_one() if one_by_one else _aggregate_in_bulk()) == size
            from_invoices = _write_todays_snapshot()["currencies"]["EUR"]

            report_ms, report_items = _measure(lambda: aging_report(TODAY))
            aging = aging_report(TODAY).currencies["EUR"]
            assert aging.invoices == size, "every invoice is in the aging"
            assert aging.buckets == from_invoices["buckets"] and aging.total == from_invoices["open"]
            dash_ms, dash_items = _measure(lambda: dashboard_data(TODAY))
            assert len(dashboard_data(TODAY)["worklist"]) == 10
        read["aging"][size], read["dashboard"][size] = report_items, dash_items
        report(f"aging_ms_{_label(size)}", report_ms)
        report(f"aging_items_read_{_label(size)}", report_items)
        report(f"dashboard_ms_{_label(size)}", dash_ms)
        report(f"dashboard_items_read_{_label(size)}", dash_items)
    small, large = min(SIZES), max(SIZES)
    ratio = f"{_label(large)}_vs_{_label(small)}"
    report(f"aging_items_read_ratio_{ratio}", read["aging"][large] / read["aging"][small])
    report(f"dashboard_items_read_ratio_{ratio}", read["dashboard"][large] / read["dashboard"][small])
    assert read["aging"][large] <= 1.5 * read["aging"][small]
