"""The demo's enrolment and documents chapter.

Finance invites a prospect, Willow Labs, by company name and email. Willow's AP clerk opens the
emailed link, fills in the form with one wrong digit in the VAT number, is told which field is
wrong and why, corrects it and submits: Willow is a customer, whose AP needs a PO number and a
delivery note with every invoice. Finance names the account owner. Willow's first invoice is
held (the ingest report says why); the owner and Willow's AP are asked for what it lacks. Days
later the clerk gives the PO number on the portal and uploads the delivery note (a presigned POST
straight to S3); the invoice goes out with the note attached, and the chapter says how long it
waited for its PO.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo.helpers import file_line, finance_api, http, report_of, upload

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime

FORM = {
    "legal_name": "Willow Labs GmbH",
    "country": "DE",
    "vat_id": "DE136695977",  # one digit wrong: the form says so
    "address_line1": "Weidenallee 12",
    "postcode": "20357",
    "city": "Hamburg",
    "time_zone": "Europe/Berlin",
    "contact_0_name": "Wanda Weber",
    "contact_0_email": "ap@willow.example",
    "contact_0_role": "accounts_payable",
    "contact_0_language": "en",
    "invoice_delivery": "email_pdf",
    "preferred_method": "sepa_debit",
}
WAIT_DAYS = 6  # the AP takes six days to find the PO: the sweep reminds after five


def enrolment_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, number: int = 12) -> None:
    """Tell the enrolment and documents story through the HTTP API and the form, as people would."""
    print(f"\n{number}. A new customer enrols, and an invoice waits for its PO:", file=out)
    api = finance_api(runtime)
    seen = len(runtime.mailbox())
    status, invited = api(
        "POST", "/enrolments", {"prospects": [{"company_name": "Willow Labs", "email": "ap@willow.example"}]}
    )
    enrolment = invited["invitations"][0]["enrolment"]
    link = _wait_for_link(runtime, seen, "billing details", "enrol")
    print(
        f"   finance invites the prospect Willow Labs: {status}, an invitation to {enrolment['email']}",
        file=out,
    )
    status, _, page = http(link)
    print(
        f"   Willow's AP opens the link: {status}, the form in English (French and German one click away)",
        file=out,
    )
    fields = [*FORM.items(), ("requirements", "po_number"), ("requirements", "delivery_note")]
    status, page = _post(link, [*fields, ("action", "submit")])
    problem = re.search(r'id="error-vat_id">([^<]+)<', page)
    print(
        f"   submits with VAT DE136695977: {status}, {_unescape(problem.group(1)) if problem else '?'}",
        file=out,
    )
    fields = [(k, "DE136695976" if k == "vat_id" else v) for k, v in fields]
    status, page = _post(link, [*fields, ("action", "submit")])
    _, found = api("GET", f"/enrolments/{enrolment['enrolment_id']}")
    customer_id = found["enrolment"]["customer_id"]
    held = ", ".join(sorted(found["enrolment"]["pending"])) or "nothing"
    print(
        f"   corrected to DE136695976 and submitted: {status}; enrolment {found['enrolment']['state']}, "
        f"customer {customer_id} created; held for a controller: {held}",
        file=out,
    )
    if found["enrolment"]["state"] == "submitted":
        note = {"note": "VAT id checked in VIES"}
        status, decided = api("POST", f"/enrolments/{enrolment['enrolment_id']}/approve", note)
        state = decided["enrolment"]["state"]
        print(f"   a controller checks the VAT id and approves: {status}, enrolment {state}", file=out)
    status, _ = api(
        "PATCH",
        f"/customers/{customer_id}/contact",
        {"account_owner": "owner@seller.example", "ask_customer_for_documents": True},
    )
    _, customer = api("GET", f"/customers/{customer_id}")
    needs = ", ".join(customer["customer"]["document_requirements"])
    print(
        f"   their AP requires on every invoice: {needs}; finance names the account owner: {status}", file=out
    )

    seen = len(runtime.mailbox())
    key = "inbox/2027-03/willow.csv"
    rows = (
        "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
        "WIL-2027-001,2027-03-01,2027-03-31,EUR,,Willow Labs GmbH,ap@willow.example,2380.00\n"
    )
    s3.put_object(Bucket=bucket, Key=key, Body=rows.encode())
    runtime.settle()
    report = report_of(s3, bucket, key) or {}
    print("   " + file_line(key, report), file=out)
    for blocked in report.get("blocked", []):
        print(f"   blocked: {blocked['number']}, {blocked['reason']}", file=out)
    for message in _new_mail(runtime, seen):
        print(f"   mailed to {message['Destination']['ToAddresses'][0]:<24} {message['Subject']}", file=out)
    _, requests = api("GET", "/document-requests")
    print(f"   finance's open documentation requests: {requests['count']}", file=out)

    runtime.advance(timedelta(days=WAIT_DAYS))
    _, held = api("GET", f"/invoices/{_invoice_id(requests)}")
    reminders = [h for h in held["history"] if h["type"] == "DocumentsReminded"]
    print(f"   {WAIT_DAYS} days on, the sweep has reminded the request {len(reminders)} time(s)", file=out)

    seen = len(runtime.mailbox())
    portal = _wait_for_link(runtime, 0, "WIL-2027-001 from", "portal/link")
    _give_po_and_note(portal, _invoice_id(requests), out)
    runtime.settle()
    _, done = api("GET", f"/invoices/{_invoice_id(requests)}")
    released = next((h for h in done["history"] if h["type"] == "InvoiceReleased"), None)
    emailed = next((h for h in done["history"] if h["type"] == "InvoiceEmailed"), None)
    if released is not None:
        hours = released["data"].get("waited_hours") or 0
        print(
            f"   the invoice is released: it waited {hours} hours ({hours / 24:.1f} days) for its PO",
            file=out,
        )
    if emailed is not None:
        files = ", ".join(a["name"] for a in emailed["data"]["attachments"])
        print(f"   and goes out to {emailed['data']['to']} with {files}", file=out)
    _, after = api("GET", "/document-requests")
    print(f"   open documentation requests now: {after['count']}", file=out)


def _give_po_and_note(portal: str, invoice_id: str, out: TextIO) -> None:
    status, headers, _ = http(portal)
    cookie = {"Cookie": headers.get("Set-Cookie", "").split(";", 1)[0]}
    base = portal.split("/portal/", 1)[0]
    _, _, page = http(f"{base}/portal/invoices/{invoice_id}", None, cookie)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    form = urllib.parse.urlencode({"csrf": csrf.group(1) if csrf else "", "po_number": "PO-WL-7731"})
    status, _, _ = http(
        f"{base}/portal/invoices/{invoice_id}/po",
        form.encode(),
        {**cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    print(f"   Willow's AP opens the portal link of the request and gives PO-WL-7731: {status}", file=out)
    _, _, page = http(f"{base}/portal/invoices/{invoice_id}", None, cookie)
    upload_form = page.split('id="upload-delivery_note"', 1)[-1]
    stored, where = upload(
        '<form method="post" action="' + _action(page) + '" enctype' + upload_form,
        b"%PDF-1.4\n% Delivery note WIL-2027-001, signed by Willow's goods-in desk\n%%EOF\n",
    )
    status, _, page = http(where.get("Location", ""), None, cookie)
    kept = re.search(r'id="notice"[^>]*>([^<]+)<', page)
    print(
        f"   uploads the signed delivery note to S3 ({stored}), back on the portal: {status}, "
        f"{_unescape(kept.group(1)) if kept else '?'}",
        file=out,
    )


def _action(page: str) -> str:
    found = re.search(r'<form method="post" action="([^"]+)" enctype="multipart/form-data"', page)
    return found.group(1) if found else ""


def _post(url: str, fields: list[tuple[str, str]]) -> tuple[int, str]:
    status, _, page = http(
        url, urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    return status, page


def _new_mail(runtime: LocalRuntime, seen: int) -> list[dict[str, Any]]:
    return runtime.mailbox(seen)


def _wait_for_link(runtime: LocalRuntime, seen: int, subject: str, path: str) -> str:
    def link() -> str | None:
        for message in runtime.mailbox(seen):
            if subject in message["Subject"]:
                found = re.search(rf"(http://\S+/{path}/[\w.-]+)", message["Body"]["text_part"] or "")
                if found:
                    return found.group(1)
        return None

    try:
        return runtime.wait_until(link, within=timedelta(days=7), what=f"an email about {subject!r}")
    except TimeoutError as exc:
        raise RuntimeError(f"no email about {subject!r} with a {path} link") from exc


def _invoice_id(requests: dict[str, Any]) -> str:
    return str(next(r["invoice_id"] for r in requests["requests"] if r["number"] == "WIL-2027-001"))


def _unescape(text: str) -> str:
    return html.unescape(text).strip()
