"""The customer's promise to pay through the signed link of an overdue reminder."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import boto3
import pytest
from chalice.test import Client

from receivables.customers.links import LinkScope, sign_link
from receivables.ledger.model import AuditEvent, DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings
from receivables.web.pages import Page
from receivables.web.promise_link import promise_form, submit_promise
from receivables_local.functions import function_module, load_function
from tests.integration.conftest import REGION

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from tests.integration.conftest import Aws

KEY = b"p" * 48
SETTINGS = PayLinkSettings("https://pay.seller.example", "ar@seller.example")
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "P-1,2026-10-01,2026-10-31,EUR,C1,Acme GmbH,ap@acme.example,1190.00\n"
)
INVOICE = document_id("self", DocumentType.INVOICE, "P-1")


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/promise.csv", LEDGER)
    return aws


def link(ledger: Aws, action: str = "promise", seconds: int = 3600) -> str:
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    expires = int(ledger.clock.now().timestamp()) + seconds
    return sign_link(LinkScope(action, invoice.customer_id, INVOICE, expires), KEY)


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def test_the_form_offers_a_date_within_the_window_and_the_whole_balance(ledger: Aws) -> None:
    page = promise_form(link(ledger), KEY, ledger.clock, SETTINGS)

    assert page.status == 200 and page.form is not None
    html = page.render()
    assert 'min="2026-11-02"' in html and 'max="2027-01-31"' in html
    assert 'name="amount" type="text" value="1190.00"' in html
    assert f'action="https://pay.seller.example/promise/{link(ledger)}"' in html


def test_a_promise_is_recorded_for_the_customer_and_pauses_dunning(ledger: Aws) -> None:
    token = link(ledger)

    page = submit_promise(token, form(date="2026-11-20", amount="600.00"), KEY, ledger.clock, SETTINGS)

    assert page.status == 200 and "600.00 EUR" in " ".join(page.paragraphs)
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.dunning.promise is not None
    assert (invoice.dunning.promise.date, invoice.dunning.promise.amount.minor) == ("2026-11-20", 60000)
    event = store.invoice_events(INVOICE)[-1]
    assert event.type == "PromiseToPay" and event.actor == f"customer:{invoice.customer_id}"
    again = promise_form(token, KEY, ledger.clock, SETTINGS)
    assert "On file: your promise to pay 600.00 EUR by 2026-11-20" in again.render()


def test_a_bad_form_comes_back_with_every_reason_and_what_was_typed(ledger: Aws) -> None:
    page = submit_promise(link(ledger), form(date="tomorrow", amount="lots"), KEY, ledger.clock, SETTINGS)
    late = submit_promise(
        link(ledger), form(date="2027-06-01", amount="2000.00"), KEY, ledger.clock, SETTINGS
    )

    assert page.status == 400 and page.form is not None
    assert [name for name, _ in page.form.errors] == ["date", "amount"]
    assert 'value="tomorrow"' in page.render() and 'value="lots"' in page.render()
    assert late.status == 400 and late.form is not None
    assert [name for name, _ in late.form.errors] == ["date", "amount"]
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.dunning.promise is None


@pytest.mark.parametrize(
    ("action", "seconds", "status"),
    [("pay", 3600, 400), ("promise", -1, 410)],
)
def test_a_pay_link_or_an_expired_link_records_nothing(
    ledger: Aws, action: str, seconds: int, status: int
) -> None:
    token = link(ledger, action, seconds)

    shown = promise_form(token, KEY, ledger.clock, SETTINGS)
    posted = submit_promise(token, form(date="2026-11-20"), KEY, ledger.clock, SETTINGS)

    assert shown.status == posted.status == status
    assert [e.type for e in store.invoice_events(INVOICE)] == ["InvoiceIngested"]


def test_a_paid_invoice_takes_no_promise(ledger: Aws) -> None:
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None
    paid = replace(invoice, status=InvoiceStatus.PAID, version=invoice.version + 1)
    store.apply_changes([(paid, AuditEvent(INVOICE, 2, "Test", "2026-11-02T09:00:00.000Z", "t", {}))])

    page = submit_promise(link(ledger), form(date="2026-11-20"), KEY, ledger.clock, SETTINGS)

    assert isinstance(page, Page) and page.status == 200 and "is paid" in page.title
    assert [e.type for e in store.invoice_events(INVOICE)][-1] == "Test"


@pytest.fixture
def pay_function(ledger: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    for name, value in {
        "TABLE_NAME": ledger.settings.table_name,
        "PUBLIC_BASE_URL": SETTINGS.public_base_url,
        "CONTACT_EMAIL": SETTINGS.contact,
        "LINK_SIGNING_KEY_NAME": secrets.create_secret(Name="link", SecretString=KEY.decode())["ARN"],
        "STRIPE_API_KEY_NAME": secrets.create_secret(Name="stripe", SecretString="sk_test_x")["ARN"],
        "RECEIVABLES_CLOCK": "",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    wiring.default_dependencies.cache_clear()
    yield module
    wiring.default_dependencies.cache_clear()


def test_the_pay_function_serves_the_form_and_takes_the_post(ledger: Aws, pay_function: ModuleType) -> None:
    # The function reads the real clock: promise a date a few days from today.
    from datetime import UTC, datetime, timedelta

    token = link(ledger, seconds=10 * 86400 * 365)
    day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    with Client(pay_function.app) as client:
        shown = client.http.get(f"/promise/{token}")
        posted = client.http.post(
            f"/promise/{token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=form(date=day, amount="100.00"),
        )

    assert shown.status_code == 200 and shown.headers["Referrer-Policy"] == "no-referrer"
    assert re.search(r'<form method="post" action="[^"]+/promise/', shown.body.decode())
    assert posted.status_code == 200, posted.body.decode()
    invoice = store.get_invoice(INVOICE)
    assert invoice is not None and invoice.dunning.promise is not None
    assert invoice.dunning.promise.date == day


def test_a_form_with_more_fields_than_it_has_is_a_413_not_a_500(ledger: Aws) -> None:
    from receivables.web.dispute_link import submit_dispute

    crowded = "&".join(f"f{n}=x" for n in range(300)).encode()

    promise = submit_promise(link(ledger), crowded, KEY, ledger.clock, SETTINGS)
    dispute = submit_dispute(link(ledger, "dispute"), crowded, KEY, ledger.clock, SETTINGS, None)  # type: ignore[arg-type]

    assert (promise.status, dispute.status) == (413, 413)
