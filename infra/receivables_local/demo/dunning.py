"""The demo's dunning chapter: simulated weeks of reminders, a payment, a broken promise and a
credit hold, played on the local runtime's accelerated clock (one day per second).

Three invoices fall due a few days after the demo starts. The daily sweep starts their dunning
and the default policy runs: a friendly reminder 3 days before, reminders at +1 and +7, a final
notice at +14, credit hold at +30, each at 09:00 Paris time on a business day. Each customer
reads the reminders in the local mailbox and acts as a customer would, through the links in them:

- Northwind never answers: every level, then credit hold with a hand-off to the collector.
- Harbour Lights pays by card from the first overdue reminder's pay link: dunning stops.
- Kestrel promises, from that reminder's promise link, to pay in ten days and does not:
  no mail until the promised date, then dunning resumes where it should be, up to credit hold.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from receivables.storage import store
from receivables_local.demo.helpers import file_line, http, invoice_id, pay_by_card, report_of

if TYPE_CHECKING:
    from receivables.ledger.model import AuditEvent
    from receivables_local.runtime import LocalRuntime

DUE_IN_DAYS = 5  # the friendly reminder is due at D-3: the daily sweep starts dunning before it
SHOWN = (
    "DunningStarted",
    "ReminderSent",
    "FinalNoticeSent",
    "PromiseToPay",
    "PromiseBroken",
    "PromiseKept",
    "PaymentApplied",
    "DunningEscalated",
    "DunningEnded",
)
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class Customer:
    """One of the chapter's customers and the invoice they owe."""

    number: str
    ref: str
    name: str
    email: str
    total: str
    plays: str  # "silent", "pays", "promises"


CUSTOMERS = (
    Customer("INV-2026-9001", "C-NORTH", "Northwind Traders", "ap@northwind.example", "2400.00", "silent"),
    Customer("INV-2026-9002", "C-HARBOUR", "Harbour Lights Ltd", "ap@harbour.example", "860.00", "pays"),
    Customer("INV-2026-9003", "C-KESTREL", "Kestrel Labs", "ap@kestrel.example", "1500.00", "promises"),
)


def dunning_file(today: date) -> tuple[str, bytes]:
    """The inbox key and CSV of the chapter's invoices, due ``DUE_IN_DAYS`` after ``today``."""
    due = today + timedelta(days=DUE_IN_DAYS)
    issued = due - timedelta(days=30)
    rows = "".join(f"{c.number},{issued},{due},EUR,{c.ref},{c.name},{c.email},{c.total}\n" for c in CUSTOMERS)
    header = (
        "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    )
    return f"inbox/{today:%Y-%m}/due-soon.csv", (header + rows).encode()


def dunning_chapter(
    runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, *, timeout: float = 120.0
) -> None:
    """Drop the chapter's invoices, play the customers' parts until the silent ones are on credit
    hold, and print what happened to each invoice, day by day."""
    today = runtime.clock.now().astimezone(PARIS).date()
    print(
        f"\n9. Dunning over the simulated weeks, from {today:%a %d %b %Y}:",
        file=out,
    )
    key, body = dunning_file(today)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)), file=out)
    by_invoice = {invoice_id(c.number): c for c in CUSTOMERS}
    answers: dict[str, str] = {}
    seen = 0

    def react() -> bool:
        """Answer each first reminder as it arrives; True once the silent ones escalated."""
        nonlocal seen
        mailbox = runtime.mailbox(seen)
        for message in mailbox:
            headers = message.get("Headers", {})
            customer = by_invoice.get(headers.get("X-Receivables-Invoice", ""))
            # The first reminder after the due date (the friendly one comes before it).
            overdue = "level=" in (kind := headers.get("X-Receivables-Mail", "")) and "friendly" not in kind
            if customer is not None and overdue and customer.plays not in answers:
                answers[customer.plays] = _answer(runtime, customer, message["Body"]["text_part"] or "")
        seen += len(mailbox)
        silent = [c for c in CUSTOMERS if c.plays != "pays"]
        return all(_escalated(store.invoice_events(invoice_id(c.number))) for c in silent)

    runtime.wait_until(react, within=timedelta(days=120), timeout=timeout, what="the dunning of every level")
    for customer in CUSTOMERS:
        invoice = store.get_invoice(invoice_id(customer.number))
        assert invoice is not None
        print(
            f"\n   {customer.name}, {customer.number} "
            f"({customer.total} EUR, due {invoice.due_date:%a %d %b}):",
            file=out,
        )
        if customer.plays in answers:
            print(f"     (the customer {answers[customer.plays]})", file=out)
        for event in store.invoice_events(invoice.invoice_id):
            if event.type in SHOWN:
                print(f"     {_when(event, invoice.due_date)}  {_what(event)}", file=out)
        account = store.get_customer(invoice.customer_id)
        if account is not None and account.credit_hold:
            print(f"     -> {customer.name} is on credit hold, handed to '{account.collector}'", file=out)


def _answer(runtime: LocalRuntime, customer: Customer, text: str) -> str:
    """What the customer does on reading the first reminder; returns it, told."""
    if customer.plays == "pays":
        url = re.search(r"(http://\S+/pay/[\w.-]+)", text)
        assert url, text
        outcome = pay_by_card(runtime, url.group(1), "4242 4242 4242 4242")
        return f"read the first reminder and paid with its link: {outcome}"
    if customer.plays == "promises":
        url = re.search(r"(http://\S+/promise/[\w.-]+)", text)
        assert url, text
        day = runtime.clock.now().astimezone(PARIS).date() + timedelta(days=10)
        form = urllib.parse.urlencode({"date": day.isoformat(), "amount": customer.total}).encode()
        status, _, page = http(url.group(1), form, {"Content-Type": "application/x-www-form-urlencoded"})
        title = re.search(r'<h1 id="title">([^<]+)<', page)
        return (
            f"read the first reminder and promised, through its link, to pay by {day}: "
            f"{status} '{title.group(1) if title else ''}'"
        )
    return "never answers"


def _escalated(events: list[AuditEvent]) -> bool:
    return any(e.type == "DunningEscalated" for e in events)


def _when(event: AuditEvent, due: date) -> str:
    at = datetime.fromisoformat(event.at.replace("Z", "+00:00")).astimezone(PARIS)
    offset = (at.date() - due).days
    return f"{at:%a %d %b %H:%M}  D{offset:+d}".ljust(22).replace("D+0", "D  ")


def _what(event: AuditEvent) -> str:
    data: dict[str, Any] = event.data
    match event.type:
        case "ReminderSent" | "FinalNoticeSent":
            skipped = f" (skipped {', '.join(data['skipped_levels'])})" if data.get("skipped_levels") else ""
            return f"{data['level']:<8} mailed: {data['subject']}{skipped}"
        case "DunningEscalated":
            return f"escalated: credit hold, collector '{data.get('collector', '')}'"
        case "PromiseToPay":
            return f"promise to pay {data['amount']} {data['currency']} by {data['date']} ({event.actor})"
        case "PromiseBroken" | "PromiseKept":
            return f"{event.type.removeprefix('Promise').lower()} promise (was due {data['promised_date']})"
        case "PaymentApplied":
            return f"payment applied, {data.get('amount', '')} {data.get('currency', '')}".rstrip()
        case "DunningEnded":
            return f"dunning ended: {data.get('reason', '')}"
        case "DunningStarted":
            return f"dunning started by the daily sweep (run {data.get('run')})"
    return event.type
