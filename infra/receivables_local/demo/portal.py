"""The demo's portal chapter: a customer's accounts-payable desk, with no password.

Lakeside Hotels gets three invoices. Its AP clerk opens the account link in one of the emails:
the portal shows the three, the clerk ticks them all and pays them in one SEPA Direct Debit on
the local Stripe. The three show "payment processing" (dunning waits, nothing counts as paid)
until the bank confirms two days later; then all three are paid. The clerk turns on autopay with
a card (Checkout in setup mode), and the next invoice is charged by the sweep on its due date.
The statement downloads as CSV; a form naming another customer's invoice is refused; finance
revokes Lakeside's links, and the session and the link stop working.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from receivables.storage import store
from receivables_local.demo.helpers import emailed_link, file_line, http, invoice_id, invoice_state, report_of

if TYPE_CHECKING:
    from collections.abc import Callable

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
    methods = re.findall(r'name="method" value="([^"]+)"', page)
    print(f"   ways to pay euros, the preferred first: {', '.join(methods[:3])}", file=out)
    form = [("csrf", csrf.group(1) if csrf else ""), ("method", "sepa_debit"), *(("invoice", i) for i in ids)]
    status, headers, _ = http(
        base + "/portal/pay",
        urllib.parse.urlencode(form).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    checkout = headers.get("Location", "")
    _, _, checkout_page = http(checkout)
    found = re.search(r'id="total">([^<]+)<', checkout_page)
    total = html.unescape(found.group(1)) if found else "?"
    print(f"   ticks all three, pays by SEPA Direct Debit: {status} to one checkout for {total}", file=out)
    debit = urllib.parse.urlencode(
        {"method": "sepa_debit", "iban": "DE89 3704 0044 0532 0130 00", "name": "Lakeside Hotels AP"}
    )
    status, headers, _ = http(checkout, debit.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    back = headers.get("Location", "").replace(base, "")
    print(f"   IBAN DE89 3704 0044 0532 0130 00 and the mandate: {status}, back to {back}", file=out)
    _wait(runtime, lambda: all(_processing(n) for n in NUMBERS))
    _, _, page = http(base + "/portal", None, {"Cookie": cookie})
    shown = page.count('class="processing"')
    print(f"   the portal shows {shown} invoices as 'payment processing'; the ledger:", file=out)
    for invoice_number in NUMBERS:
        print(
            f"   -> {invoice_number}: {invoice_state(invoice_number)}, {_processing(invoice_number)}",
            file=out,
        )
    _wait(runtime, lambda: all(invoice_state(n).startswith("paid") for n in NUMBERS))
    runtime.settle()
    print("   two days later (on the demo's clock) the bank confirms the debit:", file=out)
    for invoice_number in NUMBERS:
        print(f"   -> {invoice_number}: {invoice_state(invoice_number)}", file=out)

    _autopay(runtime, s3, bucket, base, cookie, out)

    _, _, statement = http(
        base + "/portal/statement?from=2027-01-01&to=2027-12-31&format=csv", None, {"Cookie": cookie}
    )
    rows = statement.strip().splitlines()
    closing = rows[-1].split(",")
    print(
        f"   the statement for 2027 as CSV: {len(rows) - 1} rows, closing balance {closing[-1]} {closing[0]}",
        file=out,
    )

    foreign = [("csrf", csrf.group(1) if csrf else ""), ("invoice", invoice_id("INV-2026-1002"))]
    status, _, _ = http(
        base + "/portal/pay",
        urllib.parse.urlencode(foreign).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    print(f"   a form naming another customer's invoice: {status}, no checkout", file=out)

    invoice = store.get_invoice(invoice_id(NUMBERS[0]))
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


AUTOPAY_INVOICE = "INV-2027-0304"


def _autopay(runtime: LocalRuntime, s3: Any, bucket: str, base: str, cookie: str, out: TextIO) -> None:
    """The clerk turns autopay on with a card; the next invoice is charged on its due date."""
    _, _, page = http(base + "/portal", None, {"Cookie": cookie})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    consent = {
        "csrf": csrf.group(1) if csrf else "",
        "consent": "1",
        "method": "card",
        "max_per_invoice": "2000",
    }
    status, headers, _ = http(
        base + "/portal/autopay",
        urllib.parse.urlencode(consent).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    card = urllib.parse.urlencode(
        {"cardnumber": "4242 4242 4242 4242", "exp": "12/34", "cvc": "123", "name": "AP"}
    )
    saved, headers, _ = http(
        headers.get("Location", ""), card.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    done, _, _ = http(headers.get("Location", ""), None, {"Cookie": cookie})
    _, _, page = http(base + "/portal", None, {"Cookie": cookie})
    label = re.search(r'id="autopay-on">([^<]*)<', page)
    print(
        f"   autopay: consent ticked, card 4242 saved in Checkout's setup mode ({status}, {saved}, {done}): "
        f"{html.unescape(label.group(1)) if label else 'not on'}",
        file=out,
    )
    today = runtime.clock.now().date()
    due = today + timedelta(days=3)
    row = f"{AUTOPAY_INVOICE},{today},{due},EUR,LAKESIDE,Lakeside Hotels,ap@lakeside.example,312.00\n"
    key = "inbox/2027-02/lakeside-next.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=(DOCUMENTS.splitlines()[0] + "\n" + row).encode())
    runtime.settle()
    print(f"   {AUTOPAY_INVOICE} (312.00 EUR) arrives, due {due}: {invoice_state(AUTOPAY_INVOICE)}", file=out)
    _wait(  # the sweep records its attempt once Stripe answered (the webhook may be first with the money)
        runtime,
        lambda: any(e.type == "AutopayAttempted" for e in store.invoice_events(invoice_id(AUTOPAY_INVOICE))),
    )
    _wait(runtime, lambda: invoice_state(AUTOPAY_INVOICE).startswith("paid"))

    attempt = next(
        (e for e in store.invoice_events(invoice_id(AUTOPAY_INVOICE)) if e.type == "AutopayAttempted"), None
    )
    when = attempt.at[:10] if attempt else "?"
    print(f"   the daily sweep charges it off-session on {when}: {invoice_state(AUTOPAY_INVOICE)}", file=out)


def _processing(number: str) -> str:
    invoice = store.get_invoice(invoice_id(number))
    debit = invoice.dunning.processing if invoice else None
    return f"{debit.amount} by {debit.method} processing" if debit else ""


def _wait(runtime: LocalRuntime, probe: Callable[[], bool]) -> None:
    runtime.wait_until(probe, within=timedelta(days=60), what="the portal's next step")
