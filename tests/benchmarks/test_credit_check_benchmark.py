"""The credit check's latency in-process on moto, whatever the customer's history.

A ledger of ``BENCH_CREDIT_INVOICES`` invoices (10,000 by default) over 100 customers is
ingested and aggregated in bulk; one customer gets a credit limit; then the check (the policy,
the customer, their running total: three GetItems) runs 200 times for one of them.

Printed: ``credit_check_median_ms``, ``credit_check_p95_ms`` and ``credit_check_items_read`` (the
items one check reads: the same at any number of invoices).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace
from datetime import date

from moto import mock_aws

from receivables_local import moto_patches
from tests.benchmarks.conftest import ingest_big_csv, report
from tests.benchmarks.test_aging_benchmark import _aggregate_in_bulk, counting_reads

INVOICES = int(os.environ.get("BENCH_CREDIT_INVOICES", "10000"))
TODAY = date(2026, 11, 23)


def test_credit_check_latency() -> None:
    from receivables.credit.limits import check, load_policy
    from receivables.kernel.money import Money
    from receivables.storage import store

    moto_patches.install()
    with mock_aws():
        created, _ = ingest_big_csv(INVOICES, customers=100)
        _aggregate_in_bulk()
        customers, _ = store.customers_by_name(1, None)
        customer = replace(customers[0], credit_limit=Money(10**9, "EUR"))
        took = []
        with counting_reads() as counted:
            for _ in range(200):
                started = time.perf_counter()
                fresh = store.get_customer(customer.customer_id)
                assert fresh is not None
                decided = check(
                    replace(fresh, credit_limit=customer.credit_limit),
                    Money(1000, "EUR"),
                    TODAY,
                    load_policy(),
                )
                took.append(time.perf_counter() - started)
        assert decided.decision in ("approve", "refer", "decline") and created == INVOICES
        took.sort()
        report("credit_check_invoices", INVOICES)
        report("credit_check_median_ms", statistics.median(took) * 1000)
        report("credit_check_p95_ms", took[int(len(took) * 0.95)] * 1000)
        report("credit_check_items_read", counted[0] // 200)
