"""The pay link's latency in-process and the API functions' cold starts.

- ``pay_link_median_ms`` / ``pay_link_p99_ms``: ``GET /pay/{token}`` through the Chalice app,
  from the token check to the 303, creating a Checkout Session on the local Stripe over loopback
  (the official StripeClient), for distinct invoices of a ledger on moto;
  ``pay_link_reopen_median_ms``: the same links opened again (Stripe replays the session for
  the idempotency key).
- ``<function>_cold_start_ms``: importing each HTTP function's module in a fresh interpreter,
  as Lambda does at a cold start (median of 15), beside ``boto3_import_ms``.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import TYPE_CHECKING

from chalice.test import Client
from moto import mock_aws

from receivables.customers.links import LinkScope, sign_link
from receivables.kernel.clock import SystemClock
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings
from receivables_local import moto_patches
from receivables_local.functions import function_module, load_function
from receivables_local.stripe_local import LocalStripe
from tests.benchmarks.conftest import ingest_big_csv, report
from tests.benchmarks.test_ingest_benchmark import _median_import_ms
from tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    import pytest

LINKS = int(os.environ.get("BENCH_PAY_LINKS", "100"))
KEY = b"bench-link-key-0123456789abcdef0123456789"


def test_pay_link_latency_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_patches.install()
    stripe_server = LocalStripe(port=0)
    stripe_server.start()
    try:
        with mock_aws():
            ingest_big_csv(LINKS, customers=50)
            pay = load_function("pay")
            pay_wiring = function_module("pay", "routes.wiring")
            deps = pay_wiring.Dependencies(
                PayLinkSettings("https://pay.example", "ar@example.com"),
                lambda: KEY,
                pay_wiring.stripe_session_creator(lambda: "sk_test_bench", stripe_server.url),
                SystemClock(),
            )
            monkeypatch.setattr(pay_wiring, "default_dependencies", lambda: deps)
            expires = int(time.time()) + 3600
            tokens = []
            for n in range(1, LINKS + 1):
                invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, f"BIG-{n:07d}"))
                assert invoice is not None
                tokens.append(
                    sign_link(LinkScope("pay", invoice.customer_id, invoice.invoice_id, expires), KEY)
                )
            first: list[float] = []
            again: list[float] = []
            with Client(pay.app) as client:
                for timings in (first, again):
                    for token in tokens:
                        started = time.perf_counter()
                        response = client.http.get(f"/pay/{token}")
                        timings.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 303, response.body
    finally:
        stripe_server.stop()
    first.sort()
    report("pay_link_requests", LINKS)
    report("pay_link_median_ms", statistics.median(first))
    report("pay_link_p99_ms", first[int(len(first) * 0.99) - 1])
    report("pay_link_reopen_median_ms", statistics.median(again))


def test_api_functions_cold_start() -> None:
    boto3_ms = _median_import_ms("import boto3", str(REPO_ROOT))
    report("boto3_import_ms", boto3_ms)
    for name in ("pay", "stripe_webhook", "finance_api", "mailer"):
        directory = str(REPO_ROOT / "functions" / name)
        _median_import_ms("import app", directory, runs=1)  # warm the bytecode caches once
        report(f"{name}_cold_start_ms", _median_import_ms("import app", directory))
