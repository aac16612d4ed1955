"""Debits and autopay end to end, on the local runtime with its clock at a day a second (the
local Stripe settles a debit two days after it is confirmed, as SEPA usually takes):

- a payer opens the emailed account link in headless Chromium, ticks two invoices and pays them
  by SEPA Direct Debit: both show "payment processing" (and are not paid), then both are paid;
- a debit the bank refuses: the invoice is owed again, finance gets a mail, and dunning sends the
  reminder it was holding back;
- a customer sets up autopay on the portal (Checkout in setup mode) and the sweep charges the
  invoice on its due date.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables_local.demo.helpers import emailed_link, free_port_base, http
from receivables_local.runtime import LocalRuntime
from tests.conftest import store_bound_to
from tests.e2e.test_payments import _chromium, wait_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# One accelerated runtime at a time (with the dunning workflow's): two on two cores would each
# fall behind their simulated day a second.
pytestmark = pytest.mark.xdist_group("accelerated_runtime")


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def kinds(number: str) -> list[str]:
    return [e.type for e in store.invoice_events(inv(number))]


def status(number: str) -> str:
    invoice = store.get_invoice(inv(number))
    return invoice.status.value if invoice else "missing"


def debit_runtime(state_dir: Any, time_scale: float, settlement_hours: int) -> LocalRuntime:
    """A started runtime whose local Stripe settles a debit ``settlement_hours`` after it."""
    local = LocalRuntime(
        port_base=free_port_base(),
        time_scale=time_scale,
        function_log_level="ERROR",
        debit_settlement_seconds=settlement_hours * 3600,
    )
    local.state_dir = state_dir
    local.start()
    return local


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    # Ten days to settle (ten real seconds): room to see a debit processing on a loaded machine.
    local = debit_runtime(tmp_path_factory.mktemp("debits"), 86400.0, 10 * 24)
    with store_bound_to(local):
        yield local
    local.stop()


@pytest.fixture
def browser_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """An hour a second: a person's clicks take seconds, and a Checkout Session lasts 24 hours
    (24 real seconds here; at a day a second it would expire while Chromium fills the form). The
    debit settles half a day later: twelve seconds to see it processing."""
    local = debit_runtime(tmp_path_factory.mktemp("browser"), 3600.0, 12)
    with store_bound_to(local):
        yield local
    local.stop()


def ingest(runtime: LocalRuntime, name: str, rows: str) -> None:
    assert runtime.stack is not None
    s3: Any = boto3.client("s3", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
    s3.put_object(
        Bucket=runtime.stack.resources["InvoiceBucket"], Key=f"inbox/{name}.csv", Body=HEADER + rows
    )


def link_of(runtime: LocalRuntime, number: str, path: str) -> str:
    return str(wait_for(f"the email of {number}", lambda: _try(lambda: emailed_link(runtime, number, path))))


def _try(probe: Callable[[], str]) -> str | None:
    try:
        return probe()
    except RuntimeError:
        return None


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_two_invoices_paid_by_sepa_debit_are_processing_then_paid(browser_runtime: LocalRuntime) -> None:
    from playwright.sync_api import sync_playwright

    runtime = browser_runtime
    today = runtime.clock.now().date()
    buyer = "EUR,C-SD,Sorrel Dairy,ap@sorrel.example"
    ingest(
        runtime,
        "sepa",
        f"SD-1,{today - timedelta(days=40)},{today - timedelta(days=10)},{buyer},410.00\n"
        f"SD-2,{today - timedelta(days=5)},{today + timedelta(days=25)},{buyer},95.50\n",
    )
    link = link_of(runtime, "SD-2", "portal/link")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(link)
            page.check('[data-invoice="SD-1"] input[name="invoice"]')
            page.check('[data-invoice="SD-2"] input[name="invoice"]')
            page.click("#pay-sepa_debit")
            page.wait_for_url(re.compile(r".*/c/pay/.*"))
            assert "505.50" in page.content(), "one debit for both balances"
            page.fill("#iban", "DE89 3704 0044 0532 0130 00")
            page.fill("#sepa-name", "Sorrel Dairy AP")
            page.click("#pay-sepa_debit")
            page.wait_for_url(re.compile(r".*/portal\?paid=1"))
            wait_for(
                "both to be processing",
                lambda: all("PaymentProcessing" in kinds(n) for n in ("SD-1", "SD-2")),
            )
            assert (status("SD-1"), status("SD-2")) == ("open", "open"), "a debit on its way is not paid"
            page.goto(page.url.split("?", 1)[0])
            assert page.locator('[data-invoice="SD-1"] .processing').count() == 1
            assert page.locator('[data-invoice="SD-2"] .processing').count() == 1
        finally:
            browser.close()
    wait_for("both to be paid", lambda: (status("SD-1"), status("SD-2")) == ("paid", "paid"))
    for number in ("SD-1", "SD-2"):
        invoice = store.get_invoice(inv(number))
        assert invoice is not None and invoice.dunning.processing is None
    payment = store.customer_payments(store.get_invoice(inv("SD-1")).customer_id)  # type: ignore[union-attr]
    assert [(p.method, p.amount.to_decimal_string()) for p in payment] == [("sepa_debit", "505.50")]


def test_a_refused_debit_is_owed_again_finance_is_told_and_dunning_resumes(runtime: LocalRuntime) -> None:
    today = runtime.clock.now().date()
    ingest(
        runtime,
        "refused",
        f"SF-1,{today - timedelta(days=30)},{today - timedelta(days=3)},EUR,C-SF,Fennel,ap@f.example,720\n",
    )
    checkout = http(link_of(runtime, "SF-1", "pay"))[1]["Location"]
    form = {"method": "sepa_debit", "iban": "DE62370400440532013001", "name": "Fennel Foods"}
    answer, _, _ = http(checkout, urllib.parse.urlencode(form).encode(), FORM)
    assert answer == 303

    wait_for("the debit to process", lambda: "PaymentProcessing" in kinds("SF-1"))
    wait_for("the bank to refuse it", lambda: "PaymentFailed" in kinds("SF-1"))
    invoice = store.get_invoice(inv("SF-1"))
    assert invoice is not None and invoice.status.value == "open" and invoice.dunning.processing is None
    assert "SEPA Direct Debit" in (invoice.dunning.payment_failure or "")
    mails = {"ReminderSent", "FinalNoticeSent"}  # ten days of waiting: the latest level due
    wait_for(
        "the reminder after the failure",
        lambda: mails & set(kinds("SF-1")[kinds("SF-1").index("PaymentFailed") :]),
    )
    before = kinds("SF-1")[: kinds("SF-1").index("PaymentFailed")]
    assert not mails & set(before[before.index("PaymentProcessing") :]), "no reminder while it processed"
    assert runtime.settle(), "the mail to finance is sent from its own event, maybe after the reminder"
    notices = [m for m in runtime.mailbox() if m["Subject"].startswith("Payment failed: invoice SF-1")]
    assert len(notices) == 1


def test_autopay_is_set_up_on_the_portal_and_charged_on_the_due_date(runtime: LocalRuntime) -> None:
    today = runtime.clock.now().date()
    due = today + timedelta(days=12)
    ingest(
        runtime,
        "autopay",
        f"AP-1,{today},{due},EUR,C-AP,Aster Print,ap@aster.example,240.00\n",
    )
    link = link_of(runtime, "AP-1", "portal/link")
    _, headers, _ = http(link)
    cookie = {"Cookie": headers["Set-Cookie"].split(";", 1)[0]}
    base = link.split("/portal/", 1)[0]
    _, _, home = http(base + "/portal", None, cookie)
    csrf = re.search(r'name="csrf" value="([^"]+)"', home)
    assert csrf is not None
    consent = {"csrf": csrf.group(1), "consent": "1", "method": "card", "max_per_invoice": "500"}
    started, headers, _ = http(
        base + "/portal/autopay", urllib.parse.urlencode(consent).encode(), {**FORM, **cookie}
    )
    assert started == 303
    card = {"cardnumber": "4242 4242 4242 4242", "exp": "12/34", "cvc": "123", "name": "Aster AP"}
    saved, headers, _ = http(headers["Location"], urllib.parse.urlencode(card).encode(), FORM)
    assert saved == 303 and "/portal/autopay/done?session_id=cs_" in headers["Location"]
    done, _, page = http(headers["Location"], None, cookie)
    assert done == 200 and "Automatic payment is on" in page

    # The sweep records its attempt after Stripe answered; the webhook may record the money first.
    wait_for("the charge on the due date", lambda: "AutopayAttempted" in kinds("AP-1"), timeout=300)
    assert status("AP-1") == "paid"
    attempted = [e for e in store.invoice_events(inv("AP-1")) if e.type == "AutopayAttempted"]
    assert len(attempted) == 1 and attempted[0].data["result"] == "succeeded"
    assert attempted[0].at[:10] >= due.isoformat(), "charged on the due date, not before"
    customer = store.get_customer(store.get_invoice(inv("AP-1")).customer_id)  # type: ignore[union-attr]
    assert (
        customer is not None and customer.autopay is not None and customer.autopay.label == "Visa ···· 4242"
    )
