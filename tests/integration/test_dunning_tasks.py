"""The dunning task and sweep functions in-process on moto: a retried send mails once, failures
are recorded on the invoice, the sweep starts each invoice once and writes the day's snapshot."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.collections.dunning import service
from receivables.collections.dunning.sweep import ExecutionExistsError
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store
from receivables_local.functions import load_function
from tests.integration.conftest import REGION, TABLE

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

SENDER = "billing@seller.example"
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "R-1,2026-10-01,2026-10-31,EUR,C1,Acme,ap@acme.example,100.00\n"
    "R-2,2026-10-02,2026-11-05,EUR,C2,Brightside,ap@bright.example,50.00\n"
    "R-3,2026-10-03,2026-12-31,EUR,C3,Cobalt,ap@cobalt.example,70.00\n"
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


@pytest.fixture
def dunning(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The dunning function's real dependencies (Powertools Idempotency, SES, Secrets Manager) on
    moto, with the test's fixed clock (Monday 2 November 2026, 09:00 UTC)."""
    aws.drop("inbox/r.csv", LEDGER)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
    key = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="link-key", SecretString="k" * 48
    )["ARN"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for name, value in {
        "TABLE_NAME": TABLE,
        "AWS_REGION": REGION,
        "SENDER_EMAIL": SENDER,
        "PUBLIC_BASE_URL": "https://pay.example",
        "LINK_SIGNING_KEY_NAME": key,
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_function("dunning")
    module.default_dependencies.cache_clear()
    deps = replace(module.default_dependencies(), clock=aws.clock)
    yield lambda event: module.handle(event, deps)
    module.default_dependencies.cache_clear()
    store.bind(TABLE, REGION)


def sent() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"][REGION].sent_messages)


def test_a_retried_send_does_not_mail_twice(dunning: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = service._save
    failures = iter([True])

    def flaky_save(invoice: Any, state: Any, kind: str, *args: Any, **kwargs: Any) -> None:
        if kind == "ReminderSent" and next(failures, False):
            raise store.StoreError("the table was unavailable after the email went out")
        original(invoice, state, kind, *args, **kwargs)

    monkeypatch.setattr(service, "_save", flaky_save)
    with pytest.raises(store.StoreError):
        dunning({"op": "step", "invoice_id": inv("R-1"), "run": 1})
    result = dunning({"op": "step", "invoice_id": inv("R-1"), "run": 1})  # Step Functions retries

    assert len(sent()) == 1, "the retry found the first send's record instead of sending again"
    events = [e for e in store.invoice_events(inv("R-1")) if e.type == "ReminderSent"]
    assert [e.data["level"] for e in events] == ["first"]
    assert events[0].data["skipped_levels"] == ["friendly"]
    assert result["plan"]["action"] == "act" and result["plan"]["level"] == "second"
    again = dunning({"op": "step", "invoice_id": inv("R-1"), "run": 1})
    assert again["plan"]["level"] == "second" and len(sent()) == 1, "not yet time for the next one"


def test_a_reminder_speaks_the_customers_language_and_links_to_payment_and_promise(
    dunning: Any, aws: Aws
) -> None:
    import email
    import re
    from email import policy

    from receivables.web.checkout import PayLinkSettings
    from receivables.web.promise_link import promise_form

    dunning({"op": "step", "invoice_id": inv("R-1"), "run": 1})
    message = email.message_from_string(sent()[0].raw_data, policy=policy.default)
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert message["Subject"] == "Reminder: invoice R-1 is overdue"
    assert message["X-Receivables-Mail"] == "remind; level=first"
    assert "https://pay.example/pay/" in body
    found = re.search(r"https://pay\.example/promise/([\w.-]+)", body)
    assert found, body
    page = promise_form(found.group(1), b"k" * 48, aws.clock, PayLinkSettings("https://pay.example", "ar"))
    assert page.status == 200 and page.title == "Promise to pay invoice R-1"


def test_a_paid_invoice_ends_its_dunning(dunning: Any, aws: Aws) -> None:
    receipt = Receipt(
        "bank",
        "B-1",
        Money(10000, "EUR"),
        "2026-11-02T08:00:00.000Z",
        "bank_transfer",
        target_invoice_ids=(inv("R-1"),),
    )
    record_receipt(receipt, aws.clock)
    invoice = store.get_invoice(inv("R-1"))
    assert invoice is not None
    service.started(invoice, 1, "arn:aws:states:eu-west-1:123456789012:execution:m:x", aws.clock)

    result = dunning({"op": "plan", "invoice_id": inv("R-1"), "run": 1})

    assert result["plan"]["action"] == "stop"
    ended = [e for e in store.invoice_events(inv("R-1")) if e.type == "DunningEnded"]
    assert ended and ended[0].data["reason"] == "nothing to collect: the invoice is paid"
    assert sent() == []


def test_a_failed_task_is_recorded_on_the_invoice(dunning: Any) -> None:
    error = {"Error": "StoreError", "Cause": "throttled"}
    result = dunning({"op": "fail", "invoice_id": inv("R-2"), "run": 1, "error": error})

    invoice = store.get_invoice(inv("R-2"))
    assert invoice is not None and result["recorded"]
    assert invoice.dunning.status == "failed" and "throttled" in (invoice.dunning.last_error or "")


def test_the_sweep_starts_each_invoice_once_and_snapshots_the_day(aws: Aws) -> None:
    aws.drop("inbox/r.csv", LEDGER)
    sweep = load_function("dunning_sweep")
    names: list[str] = []

    def start(name: str, payload: dict[str, Any]) -> str:
        if name in names:
            raise ExecutionExistsError(f"arn:aws:states:eu-west-1:123456789012:execution:m:{name}")
        names.append(name)
        return f"arn:aws:states:eu-west-1:123456789012:execution:m:{name}"

    first = sweep.handle({"detail-type": "Scheduled Event"}, aws.clock, start)
    second = sweep.handle({"detail-type": "DunningSweepRequested"}, aws.clock, start)

    # R-1 (overdue) and R-2 (due in three days, inside the five-day lead) start; R-3 is not due.
    assert first["started"] == 2 and second["started"] == 0 and second["already_running"] == 2
    assert sorted(names) == sorted([f"{inv('R-1')}-run-1", f"{inv('R-2')}-run-1"])
    invoice = store.get_invoice(inv("R-1"))
    assert invoice is not None and invoice.dunning.execution_arn and invoice.dunning.status == "running"
    found = store.get_document("KPI#daily", "2026-11-02")
    assert found is not None
    eur = found[0]["currencies"]["EUR"]
    assert (eur["open"], eur["overdue"], eur["current"], eur["invoices"]) == (22000, 10000, 12000, 3)
    assert eur["buckets"]["1-30"] == 10000 and eur["buckets"]["current"] == 12000
