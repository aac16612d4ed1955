"""Enrolment and document requirements end to end on `receivables local`, in headless Chromium:

- finance invites a customer through the API; the customer opens the emailed link, fills the
  form with one wrong VAT number, is told which field is wrong and why, corrects it and submits;
- an invoice of a customer whose AP requires a PO number and a delivery note is held; the
  customer's AP is asked through the portal, types the PO number and uploads the delivery note
  (a presigned POST straight to S3), and the invoice goes out with the note attached.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_local_runtime import local
from tests.e2e.test_payments import _chromium, http, ingest, invoice, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]
pytestmark = pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)


def api(connection: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {connection['api_token']}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    status, _, text = http(connection["endpoints"]["api"] + path, data, headers, method)
    return status, json.loads(text) if text else None


def mails(connection: dict[str, Any]) -> list[dict[str, Any]]:
    _, _, body = http(connection["endpoints"]["api"] + "/_aws/ses")
    found: list[dict[str, Any]] = json.loads(body)["messages"]
    return found


def link_in(connection: dict[str, Any], subject: str, path: str) -> str | None:
    for message in mails(connection):
        if subject in message["Subject"]:
            found = re.search(rf"(http://\S+/{path}/[\w.-]+)", message["Body"]["text_part"] or "")
            if found:
                return found.group(1)
    return None


def customer_of(connection: dict[str, Any], number: str) -> str:
    found = wait_for(f"invoice {number}", lambda: invoice(connection, number))
    return str(found["customer_id"]["S"])


def test_a_customer_enrols_correcting_a_wrong_vat_number(local: Local) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    ingest(connection, "enrol", "EN-1,2026-11-01,2026-12-01,EUR,C-EN1,Elm Bakery,ap@elm.example,300.00\n")
    customer = customer_of(connection, "EN-1")
    status, invited = api(connection, "POST", "/enrolments", {"customers": [customer], "language": "en"})
    assert status == 201, invited
    enrolment_id = invited["invitations"][0]["enrolment"]["enrolment_id"]
    link = wait_for("the invitation", lambda: link_in(connection, "billing details", "enrol"))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(link)
            assert page.input_value("#legal_name") == "Elm Bakery"
            page.fill("#legal_name", "Elm Bakery GmbH")
            page.select_option("#country", "DE")
            page.fill("#vat_id", "DE136695977")  # one digit wrong
            page.fill("#address_line1", "Ulmenweg 4")
            page.fill("#postcode", "10115")
            page.fill("#city", "Berlin")
            page.fill("#time_zone", "Europe/Berlin")
            page.fill("#contact_0_name", "Erika Elm")
            page.fill("#contact_0_email", "ap@elm.example")
            page.select_option("#contact_0_role", "accounts_payable")
            page.select_option("#contact_0_language", "de")
            page.select_option("#invoice_delivery", "email_pdf")
            page.check("#requirement-po_number")
            page.click("#submit")

            assert page.locator("#errors").is_visible()
            problem = page.inner_text("#error-vat_id")
            assert "check digit" in problem or "mistyped" in problem, problem
            assert page.get_attribute("#vat_id", "aria-invalid") == "true"
            assert page.input_value("#city") == "Berlin", "what was right is kept"
            page.fill("#vat_id", "DE136695976")
            page.click("#submit")
            page.wait_for_selector("#done")
        finally:
            browser.close()

    status, found = api(connection, "GET", f"/enrolments/{enrolment_id}")
    assert status == 200 and found["enrolment"]["state"] == "submitted"
    pending = found["enrolment"]["pending"]
    assert pending["name"] == "Elm Bakery GmbH", "a new legal name waits"
    assert pending["identifiers"] == ["vat:DE136695976"], "so does a VAT id ingest would match"
    status, found = api(connection, "POST", f"/enrolments/{enrolment_id}/approve", {"note": "Kbis checked"})
    assert status == 200 and found["enrolment"]["state"] == "approved"
    status, record = api(connection, "GET", f"/customers/{customer}")
    assert record["customer"]["name"] == "Elm Bakery GmbH"
    assert record["customer"]["document_requirements"] == ["po_number"]
    assert record["customer"]["profile"]["vat_id"] == "DE136695976"


def test_a_po_and_an_uploaded_delivery_note_release_a_held_invoice(local: Local, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    ingest(connection, "held-1", "HP-1,2026-11-01,2026-12-01,EUR,C-HP,Hazel Press,ap@hazel.example,100.00\n")
    customer = customer_of(connection, "HP-1")
    status, _ = api(
        connection,
        "PATCH",
        f"/customers/{customer}/contact",
        {
            "document_requirements": ["po_number", "delivery_note"],
            "account_owner": "owner@seller.example",
            "ask_customer_for_documents": True,
        },
    )
    assert status == 200
    ingest(connection, "held-2", "HP-2,2026-11-10,2026-12-10,EUR,C-HP,Hazel Press,ap@hazel.example,640.00\n")
    link = wait_for("the request to the AP", lambda: link_in(connection, "Invoice HP-2 from", "portal/link"))
    assert not any(
        m["Subject"].startswith("Invoice HP-2 from") and "need" not in m["Subject"] for m in mails(connection)
    )
    note = tmp_path / "delivery-note.pdf"
    note.write_bytes(b"%PDF-1.4\n% delivery note HP-2, signed\n" + b"0" * 4000 + b"\n%%EOF\n")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(link)
            base = page.url.split("/portal", 1)[0]
            invoice_id = invoice(connection, "HP-2")["invoice_id"]["S"]  # type: ignore[index]
            page.goto(f"{base}/portal/invoices/{invoice_id}")
            page.fill("#po-number", "PO-2026-118")
            page.click("#send-po")
            page.goto(f"{base}/portal/invoices/{invoice_id}")
            page.set_input_files("#file-delivery_note", str(note))
            page.click("#send-delivery_note")  # to S3, which sends the browser back to the portal
            page.wait_for_selector("#notice")
            assert "kept with the invoice" in page.inner_text("#notice")
            assert page.locator("a.document").count() == 1
        finally:
            browser.close()

    def sent() -> dict[str, Any] | None:
        for message in mails(connection):
            if message["Subject"].startswith("Invoice HP-2 from") and "need" not in message["Subject"]:
                return message
        return None

    wait_for("the invoice email", sent)
    status, held = api(connection, "GET", f"/invoices/{invoice_id}")
    history = [h["type"] for h in held["history"]]
    assert history.index("InvoiceHeld") < history.index("InvoiceReleased") < history.index("InvoiceEmailed")
    emailed = next(h for h in held["history"] if h["type"] == "InvoiceEmailed")
    assert {a["origin"] for a in emailed["data"]["attachments"]} == {"rendered", "uploaded"}
    status, requests = api(connection, "GET", "/document-requests")
    assert "HP-2" not in [r["number"] for r in requests["requests"]]
