"""Payments end to end on `receivables local`, as a customer and finance drive them: the invoice
email arrives in SES, its pay link opens the local Stripe's checkout, the card is paid (or
declined), Stripe's signed webhooks settle the invoice; a forged webhook changes nothing; a bank
transfer recorded through the finance API is matched from its reference. One test pays in
headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from tests.e2e.test_local_runtime import client, local

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]
HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One request, redirects not followed: (status, headers, body)."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def invoice(connection: dict[str, Any], number: str) -> dict[str, Any] | None:
    key = {"pk": {"S": "INV#" + document_id("self", DocumentType.INVOICE, number)}, "sk": {"S": "HEAD"}}
    item = client(connection, "dynamodb").get_item(
        TableName=connection["resources"]["Table"], Key=key, ConsistentRead=True
    )
    found: dict[str, Any] | None = item.get("Item")
    return found


def state(connection: dict[str, Any], number: str) -> tuple[str, str]:
    item = invoice(connection, number)
    assert item is not None
    return item["status"]["S"], item["balance"]["N"]


def ingest(connection: dict[str, Any], name: str, rows: str) -> None:
    client(connection, "s3").put_object(
        Bucket=connection["resources"]["InvoiceBucket"], Key=f"inbox/e2e/{name}.csv", Body=HEADER + rows
    )


def pay_link(connection: dict[str, Any], number: str) -> str:
    """The pay link of the email SES sent for invoice ``number``."""
    return emailed_link(connection, number, "pay")


def emailed_link(connection: dict[str, Any], number: str, path: str) -> str:
    """The link to ``path`` (``pay``, ``portal/link``...) of the email SES sent for invoice ``number``."""

    def find() -> str | None:
        _, _, body = http(connection["endpoints"]["api"] + "/_aws/ses")
        for message in json.loads(body)["messages"]:
            if f"Invoice {number} " in message["Subject"]:
                match = re.search(rf"(http://\S+/{path}/[\w.-]+)", message["Body"]["text_part"])
                assert match, message["Body"]["text_part"]
                return match.group(1)
        return None

    link: str = wait_for(f"the email of {number}", find)
    return link


def delivered(connection: dict[str, Any], event_type: str) -> bool:
    """Whether the local Stripe delivered an event of ``event_type`` and got a 2xx."""
    _, _, body = http(connection["endpoints"]["stripe"] + "/_local/deliveries")
    return any(d["type"] == event_type and d["status"] == "succeeded" for d in json.loads(body))


def checkout(link: str) -> str:
    """Open the pay link: the URL of the Checkout page it redirects to."""
    status, headers, _ = http(link)
    assert status == 303, status
    return headers["Location"]


def pay(page_url: str, card: str) -> tuple[int, dict[str, str], str]:
    form = urllib.parse.urlencode({"cardnumber": card, "exp": "12/34", "cvc": "123", "name": "A. Customer"})
    return http(page_url, form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}, "POST")


def test_the_emailed_link_is_paid_by_card_and_the_invoice_is_paid(local: Local) -> None:
    connection, _, _ = local
    ingest(connection, "card", "E2E-1,2026-10-01,2026-10-31,EUR,C-E1,Acme,ap@acme.example,1190.00\n")

    link = pay_link(connection, "E2E-1")
    page_url = checkout(link)
    again = checkout(link)
    status, _, page = http(page_url)
    paid_status, paid_headers, _ = pay(page_url, "4242 4242 4242 4242")

    assert again == page_url, "opening the link twice gives the same Checkout Session"
    assert status == 200 and "1,190.00" in page
    assert paid_status == 303 and paid_headers["Location"].startswith(link + "/done")
    wait_for("the invoice to be paid", lambda: state(connection, "E2E-1") == ("paid", "0"))
    thanks_status, _, thanks = http(paid_headers["Location"])
    assert thanks_status == 200 and "Thank you" in thanks
    settled_status, _, settled = http(link)
    assert settled_status == 200 and "is paid" in settled, "a paid invoice is not charged twice"


def test_a_declined_card_leaves_the_invoice_open(local: Local) -> None:
    connection, _, _ = local
    ingest(
        connection, "declined", "E2E-2,2026-10-01,2026-10-31,EUR,C-E2,Brightside,ap@bright.example,50.00\n"
    )

    page_url = checkout(pay_link(connection, "E2E-2"))
    status, _, page = pay(page_url, "4000000000000002")

    assert status == 402 and "declined" in page
    wait_for(
        "the payment_failed webhook to be answered",
        lambda: delivered(connection, "payment_intent.payment_failed"),
    )
    assert state(connection, "E2E-2") == ("open", "5000")


def test_a_forged_webhook_changes_nothing(local: Local) -> None:
    from tests.integration.test_stripe_webhooks import fixture, sign

    connection, _, _ = local
    ingest(connection, "forged", "E2E-3,2026-10-01,2026-10-31,EUR,C-E3,Cobalt,ap@cobalt.example,70.00\n")
    wait_for("the invoice", lambda: invoice(connection, "E2E-3"))
    payload = fixture("checkout.session.completed", "cus_x").replace(
        document_id("self", DocumentType.INVOICE, "INV-2026-1001").encode(),
        document_id("self", DocumentType.INVOICE, "E2E-3").encode(),
    )
    url = connection["endpoints"]["api"] + "/webhooks/stripe"
    headers = {"Content-Type": "application/json"}
    forged = http(url, payload, {**headers, "Stripe-Signature": sign(payload, "whsec_forged")}, "POST")
    unsigned = http(url, payload, headers, "POST")
    stale_signature = sign(payload, connection["stripe_webhook_secret"], at=int(time.time()) - 301)
    stale = http(url, payload, {**headers, "Stripe-Signature": stale_signature}, "POST")

    assert [forged[0], unsigned[0], stale[0]] == [400, 400, 400]
    assert state(connection, "E2E-3") == ("open", "7000")


def test_a_bank_transfer_recorded_through_the_api_is_matched_from_its_reference(local: Local) -> None:
    connection, _, _ = local
    ingest(connection, "transfer", "E2E-4,2026-10-01,2026-10-31,EUR,C-E4,Daifuku,ap@daifuku.example,320.00\n")
    wait_for("the invoice", lambda: invoice(connection, "E2E-4"))
    transfer = {
        "amount": "320.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "external_id": "BANK-E2E-4",
        "received_at": "2026-11-20",
        "reference": "SEPA CT DAIFUKU INV E2E 4",
    }
    url = connection["endpoints"]["api"] + "/payments"
    body = json.dumps(transfer).encode()
    anonymous = http(url, body, {"Content-Type": "application/json"}, "POST")
    status, _, answer = http(
        url,
        body,
        {"Content-Type": "application/json", "Authorization": f"Bearer {connection['api_token']}"},
        "POST",
    )

    assert anonymous[0] == 401
    assert status == 201 and json.loads(answer)["payment"]["matched_by"] == "reference"
    assert state(connection, "E2E-4") == ("paid", "0")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_a_customer_pays_in_headless_chromium(local: Local, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    ingest(connection, "browser", "E2E-5,2026-10-01,2026-10-31,EUR,C-E5,Eiger,ap@eiger.example,99.90\n")
    link = pay_link(connection, "E2E-5")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(link)
            assert "99.90" in page.content()
            page.fill("#cardnumber", "4242 4242 4242 4242")
            page.fill("#exp", "12/34")
            page.fill("#cvc", "123")
            page.fill("#name", "E. Customer")
            page.click("#pay")
            page.wait_for_url(re.compile(r".*/done\?session_id=cs_"))
            assert "Thank you" in page.inner_text("#title")
            page.screenshot(path=str(tmp_path / "paid.png"))
        finally:
            browser.close()
    wait_for("the invoice to be paid", lambda: state(connection, "E2E-5") == ("paid", "0"))
