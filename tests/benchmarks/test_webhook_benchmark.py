"""The Stripe webhook handler's latency in-process: the Chalice route with signature verification,
Idempotency on DynamoDB and the ledger transaction, on moto.

Prints ``webhook_median_ms`` and ``webhook_p99_ms`` over distinct payment events (each pays one
invoice of a ledger of that many invoices), and ``webhook_duplicate_median_ms`` for redeliveries
(answered from the idempotency record). On moto a Query walks the whole table, so these figures
grow with the ledger; DynamoDB's do not.
"""

from __future__ import annotations

import json
import os
import statistics
import time

from chalice.test import Client
from moto import mock_aws

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables_local import moto_patches
from tests.benchmarks.conftest import ingest_big_csv, report
from tests.integration.test_stripe_webhook_function import webhook_function
from tests.integration.test_stripe_webhooks import sign

EVENTS = int(os.environ.get("BENCH_WEBHOOKS", "100"))
REGION = "eu-west-1"


def _event(n: int, invoice_id: str, customer_id: str, amount: int) -> bytes:
    return json.dumps(
        {
            "id": f"evt_bench_{n:06d}",
            "object": "event",
            "type": "checkout.session.completed",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": f"cs_bench_{n:06d}",
                    "object": "checkout.session",
                    "amount_total": amount,
                    "currency": "eur",
                    "created": int(time.time()),
                    "metadata": {"invoice_id": invoice_id, "customer_id": customer_id},
                    "payment_intent": f"pi_bench_{n:06d}",
                    "payment_method_types": ["card"],
                    "payment_status": "paid",
                }
            },
        }
    ).encode()


def test_webhook_latency_in_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    moto_patches.install()
    with mock_aws():
        ingest_big_csv(EVENTS, customers=50)
        module = webhook_function("bench-ledger", monkeypatch)
        payloads = []
        for n in range(1, EVENTS + 1):
            invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, f"BIG-{n:07d}"))
            assert invoice is not None
            payloads.append(_event(n, invoice.invoice_id, invoice.customer_id, invoice.balance.minor))

        timings, duplicates = [], []
        with Client(module.app) as client:
            for payload in payloads:
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
                started = time.perf_counter()
                response = client.http.post("/webhooks/stripe", headers=headers, body=payload)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.body
            for payload in payloads[:100]:
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
                started = time.perf_counter()
                client.http.post("/webhooks/stripe", headers=headers, body=payload)
                duplicates.append((time.perf_counter() - started) * 1000)
        module.default_dependencies.cache_clear()

    # How the cost moves as the ledger grows (on moto every Query walks the whole table).
    report("webhook_first_tenth_median_ms", statistics.median(timings[: max(1, EVENTS // 10)]))
    report("webhook_last_tenth_median_ms", statistics.median(timings[-max(1, EVENTS // 10) :]))
    timings.sort()
    report("webhook_events", EVENTS)
    report("webhook_median_ms", statistics.median(timings))
    report("webhook_p99_ms", timings[int(len(timings) * 0.99) - 1])
    report("webhook_duplicate_median_ms", statistics.median(duplicates))
