"""The webhook function behind its route: status codes, idempotency on the event id, secrets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from chalice.test import Client

from receivables.kernel.money import Money
from receivables.ledger.model import InvoiceStatus
from receivables.storage import store
from receivables_local.functions import load_function
from tests.conftest import SAMPLES
from tests.integration.conftest import REGION
from tests.integration.test_stripe_webhooks import INVOICE, SECRET, fixture, sign

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from tests.integration.conftest import Aws


@pytest.fixture
def webhook(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    module = webhook_function("test-ledger", monkeypatch)
    yield module, invoice.customer_id
    module.default_dependencies.cache_clear()


def webhook_function(ledger_table: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The webhook function wired to moto: its idempotency table, its signing secret (SECRET) in
    Secrets Manager, its environment; cold-started afresh."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="stripe-webhook", SecretString=SECRET
    )["ARN"]
    for name, value in {
        "TABLE_NAME": ledger_table,
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "STRIPE_WEBHOOK_SECRET_NAME": secret_arn,
        "RECEIVABLES_CLOCK": "",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_function("stripe_webhook")
    module.default_dependencies.cache_clear()
    return module


def post(module: ModuleType, payload: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    with Client(module.app) as client:
        return client.http.post("/webhooks/stripe", headers=headers, body=payload)


def test_a_signed_event_is_applied_and_acknowledged(webhook: tuple[ModuleType, str]) -> None:
    module, customer = webhook
    payload = fixture("checkout.session.completed", customer)

    response = post(module, payload, sign(payload))

    assert response.status_code == 200
    assert json.loads(response.body)["action"] == "payment_recorded"
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.status is InvoiceStatus.PAID


def test_a_redelivered_event_gets_the_first_answer_and_changes_nothing(
    webhook: tuple[ModuleType, str],
) -> None:
    module, customer = webhook
    payload = fixture("checkout.session.completed", customer)

    first = post(module, payload, sign(payload))
    second = post(module, payload, sign(payload))

    assert first.status_code == second.status_code == 200
    assert json.loads(second.body) == json.loads(first.body)  # Idempotency replays the stored result
    assert [e.type for e in store.invoice_events(INVOICE)] == ["InvoiceIngested", "PaymentApplied"]


@pytest.mark.parametrize("signature", [None, "t=1,v1=deadbeef"])
def test_an_unsigned_or_forged_request_is_a_400_and_changes_nothing(
    webhook: tuple[ModuleType, str], signature: str | None
) -> None:
    module, customer = webhook
    payload = fixture("checkout.session.completed", customer)

    response = post(module, payload, signature)

    assert response.status_code == 400
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.balance == Money(119000, "EUR")


def test_an_event_ahead_of_its_payment_is_a_503_then_succeeds_on_redelivery(
    webhook: tuple[ModuleType, str],
) -> None:
    module, customer = webhook
    refund = fixture("charge.refunded", customer)

    early = post(module, refund, sign(refund))
    session = fixture("checkout.session.completed", customer)
    post(module, session, sign(session))
    later = post(module, refund, sign(refund))

    assert (early.status_code, later.status_code) == (503, 200)
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.balance == Money(19000, "EUR")
