"""The demo's portal chapter: a customer's accounts-payable desk, with no password.

Lakeside Hotels gets three invoices. Its AP clerk opens the account link in one of the emails:
the portal shows the three, the clerk ticks them all and pays them in one checkout on the local
Stripe; all three are paid. The statement downloads as CSV; a form naming another customer's
invoice is refused; finance revokes Lakeside's links, and the session and the link stop working.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo import _state, emailed_link, file_line, http, report_of

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime

DOCUMENTS = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "INV-2027-0301,2027-01-05,2027-02-04,EUR,LAKESIDE,Lakeside Hotels,ap@lakeside.example,1480.00\n"
    "INV-2027-0302,2027-01-20,2027-02-19,EUR,LAKESIDE,Lakeside Hotels,ap@lakeside.example,265.40\n"
    "INV-2027-0303,2027-02-01,2027-03-03,EUR,LAKESIDE,Lakeside Hotels,ap@lakeside.example,99.90\n"
)
NUMBERS = ("INV-2027-0301", "INV-2027-0302", "INV-2027-0303")


def portal_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, number: int = 11) -> None:
    """Tell the portal story; every step goes through the HTTP API as a browser would."""
    print(f"\n{number}. The customer portal: Lakeside Hotels' AP desk, with no password:", file=out)
    key = "inbox/2027-02/lakeside.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=DOCUMENTS.encode())
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)), file=out)

    link = emailed_link(runtime, NUMBERS[1], "portal/link")
    status, headers, _ = http(link)
    cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
    base = link.split("/portal/", 1)[0]
    print(
        f"   the account link in the email of {NUMBERS[1]}: {status}, a session cookie (HttpOnly)", file=out
    )
    _, _, page = http(base + "/portal", None, {"Cookie": cookie})
    rows = re.findall(r'data-invoice="([^"]+)".*?data-amount="([^"]+)"', page, re.S)
    print(
        f"   the portal shows {len(rows)} open invoices: " + ", ".join(f"{n} {a} EUR" for n, a in rows),
        file=out,
    )

    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    ids = re.findall(r'name="invoice" value="([^"]+)"', page)
    form = [("csrf", csrf.group(1) if csrf else ""), *(("invoice", i) for i in ids)]
    status, headers, _ = http(
        base + "/portal/pay",
        urllib.parse.urlencode(form).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    checkout = headers.get("Location", "")
    _, _, checkout_page = http(checkout)
    found = re.search(r'id="total">([^<]+)<', checkout_page)
    total = html.unescape(found.group(1)) if found else "?"
    print(f"   ticks all three, pays: {status} to one checkout for {total}", file=out)
    card = urllib.parse.urlencode(
        {"cardnumber": "4242 4242 4242 4242", "exp": "12/34", "cvc": "123", "name": "AP"}
    )
    status, headers, _ = http(checkout, card.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    runtime.settle()
    back = headers.get("Location", "").replace(base, "")
    print(f"   card 4242 on the local Stripe: {status}, back to {back}", file=out)
    for invoice_number in NUMBERS:
        print(f"   -> {invoice_number}: {_state(invoice_number)}", file=out)

    _, _, statement = http(
        base + "/portal/statement?from=2027-01-01&to=2027-12-31&format=csv", None, {"Cookie": cookie}
    )
    rows = statement.strip().splitlines()
    closing = rows[-1].split(",")
    print(
        f"   the statement for 2027 as CSV: {len(rows) - 1} rows, closing balance {closing[-1]} {closing[0]}",
        file=out,
    )

    foreign = [("csrf", csrf.group(1) if csrf else ""), ("invoice", _invoice_id("INV-2026-1002"))]
    status, _, _ = http(
        base + "/portal/pay",
        urllib.parse.urlencode(foreign).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    print(f"   a form naming another customer's invoice: {status}, no checkout", file=out)

    from receivables import store

    invoice = store.get_invoice(_invoice_id(NUMBERS[0]))
    customer_id = invoice.customer_id if invoice else ""
    token = runtime.connection["api_token"]
    status, _, _ = http(
        f"{base}/customers/{customer_id}/links/revoke",
        json.dumps({"reason": "the AP clerk left"}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    again, _, _ = http(base + "/portal", None, {"Cookie": cookie})
    print(f"   finance revokes Lakeside's links (POST /customers/{{id}}/links/revoke): {status};", file=out)
    print(f"   the clerk's session now: {again}, the email's link: {http(link)[0]}", file=out)


def _invoice_id(number: str) -> str:
    from receivables.domain import DocumentType
    from receivables.ledger import document_id

    return document_id("self", DocumentType.INVOICE, number)
