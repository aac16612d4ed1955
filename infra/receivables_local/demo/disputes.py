"""The demo's disputes chapter: one settled without a person, one decided by finance.

Orchard Supplies is billed twice for the same order and disputes the second invoice from the
link in its email: the analysis finds the twin, the duplicate is voided and Orchard is told.
Lumen Studio disputes part of an invoice for a quality problem and attaches a PDF: too much to
credit without a person, so the workflow waits for finance, who sees the findings in the queue
and accepts a partial credit through the finance API; the credit note is issued, dunning
resumes on what is left, and Lumen is told.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, TextIO

from receivables.ledger.disputes import Status
from receivables.storage import store
from receivables_local.demo.helpers import emailed_link, file_line, http, invoice_id, report_of, upload

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables_local.runtime import LocalRuntime


def _invoice(
    number: str, ref: str, name: str, issued: str, lines: list[dict[str, str]], total: str, tax: str
) -> dict[str, Any]:
    return {
        "number": number,
        "issue_date": issued,
        "due_date": "2027-03-31",
        "currency": "EUR",
        "customer": {"ref": ref, "name": name, "email": f"ap@{ref.lower()}.example", "language": "en"},
        "po_number": f"PO-{ref}-12",
        "lines": lines,
        "tax": tax,
        "total": total,
    }


def _line(description: str, quantity: str, price: str, amount: str) -> dict[str, str]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": price,
        "amount": amount,
        "tax_percent": "20",
    }


CRATES = [_line("Apple crates", "40", "6.50", "260.00"), _line("Delivery", "1", "40.00", "40.00")]
DOCUMENTS = json.dumps(
    {
        "invoices": [
            _invoice("INV-2027-0101", "ORCHARD", "Orchard Supplies", "2027-02-01", CRATES, "360.00", "60.00"),
            _invoice("INV-2027-0102", "ORCHARD", "Orchard Supplies", "2027-02-03", CRATES, "360.00", "60.00"),
            _invoice(
                "INV-2027-0201",
                "LUMEN",
                "Lumen Studio",
                "2027-02-02",
                [_line("Photo shoot, days", "3", "500.00", "1500.00")],
                "1800.00",
                "300.00",
            ),
        ]
    }
)
PDF = b"%PDF-1.4\n% a delivery note with the damage marked\n" + b"0" * 1024


def disputes_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO) -> None:
    """Drop the invoices, play both disputes, print what became of them."""
    print("\n10. Disputes: one settled without a person, one decided by finance:", file=out)
    key = "inbox/disputes/february.json"
    s3.put_object(Bucket=bucket, Key=key, Body=DOCUMENTS.encode())
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)), file=out)

    # Orchard was billed twice and says so from the second invoice's email.
    link = dispute_link(runtime, "INV-2027-0102")
    status, _, page = _post_form(
        link, [("reason", "billed_twice"), ("comment", "Same crates as INV-2027-0101.")]
    )
    print(f"\n   Orchard Supplies disputes INV-2027-0102 from its email: {status} '{_title(page)}'", file=out)
    orchard = _wait(runtime, lambda: _final("INV-2027-0102"), lambda: _history("INV-2027-0102"))
    _print_dispute(runtime, orchard.dispute_id, out)
    print(
        f"   -> INV-2027-0102 {_state('INV-2027-0102')}; INV-2027-0101 {_state('INV-2027-0101')}",
        file=out,
    )

    # Lumen disputes a third of an invoice and attaches a delivery note.
    link = dispute_link(runtime, "INV-2027-0201")
    body = [
        ("reason", "quality"),
        ("line", "1"),
        ("amount", "600.00"),
        ("comment", "Day two's photos were unusable."),
    ]
    status, _, page = _post_form(link, body)
    stored, where = upload(page, PDF)
    attached, _, _ = http(where.get("Location", ""))
    print(
        f"\n   Lumen Studio disputes 600.00 EUR of INV-2027-0201 from its email: {status} '{_title(page)}'; "
        f"attaches a PDF straight to S3: {stored} -> {attached}",
        file=out,
    )
    waiting = _wait(runtime, lambda: _waiting("INV-2027-0201"), lambda: _history("INV-2027-0201"))
    api = runtime.api_endpoint or ""
    token = runtime.connection["api_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    _, _, queue = http(f"{api}/disputes", None, headers)
    waiting_list = [d for d in json.loads(queue)["disputes"] if d["status"] == Status.AWAITING_FINANCE.value]
    kinds = ", ".join(f"{d['source']} ({d['reason']})" for d in waiting_list)
    print(f"   finance's queue (GET /disputes): {len(waiting_list)} waiting: {kinds}", file=out)
    print(
        "   (the chargeback is chapter 6's card 0259: its evidence is staged on Stripe for finance)", file=out
    )
    decision = json.dumps(
        {"decision": "accept", "credit": "500.00", "reason": "one day of three, net of tax"}
    )
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{api}/disputes/{waiting.dispute_id}/decision",
        data=decision.encode(),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        decided = response.status
    print(f"   finance accepts a 500.00 EUR credit (POST /disputes/{{id}}/decision): {decided}", file=out)
    lumen = _wait(runtime, lambda: _final("INV-2027-0201"), lambda: _history("INV-2027-0201"))
    _print_dispute(runtime, lumen.dispute_id, out)
    print(f"   -> INV-2027-0201 {_state('INV-2027-0201')} (dunning resumes on what is left)", file=out)
    told = _outcome_mails(runtime)
    print(
        f"\n   Customers told of the outcome by email: {len(told)} ({'; '.join(sorted(set(told)))})", file=out
    )


def dispute_link(runtime: LocalRuntime, number: str) -> str:
    """The dispute link in the email of invoice ``number``."""
    return emailed_link(runtime, number, "dispute")


def _post_form(url: str, fields: list[tuple[str, str]]) -> tuple[int, dict[str, str], str]:
    return http(
        url, urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )


def _title(page: str) -> str:
    found = re.search(r'<h1 id="title">([^<]+)<', page)
    return html.unescape(found.group(1)) if found else ""


def _wait(runtime: LocalRuntime, check: Callable[[], Any], story: Callable[[], str]) -> Any:
    try:
        return runtime.wait_until(check, what="the dispute's next step")
    except TimeoutError as exc:
        raise TimeoutError(f"the dispute did not get there in time: {story()}") from exc


def _history(number: str) -> str:
    """The disputes' audit trail, failures with their error: what to read when one is stuck."""
    return "; ".join(
        f"{e.type} {e.data.get('error', '')} {e.data.get('cause', '')}".strip()
        for d in _disputes(number)
        for e in store.audit_events(store.dispute_pk(d.dispute_id))
    )


def _disputes(number: str) -> list[Any]:
    ids = store.invoice_dispute_ids(invoice_id(number))
    return [d for i in ids if (d := store.get_dispute(i)) is not None]


def _final(number: str) -> Any:
    found = [d for d in _disputes(number) if d.final]
    return found[-1] if found else None


def _waiting(number: str) -> Any:
    found = [d for d in _disputes(number) if d.status is Status.AWAITING_FINANCE]
    return found[-1] if found else None


def _state(number: str) -> str:
    invoice = store.get_invoice(invoice_id(number))
    return "not in the ledger" if invoice is None else f"{invoice.status.value}, {invoice.balance} owed"


def _print_dispute(runtime: LocalRuntime, dispute_id: str, out: TextIO) -> None:
    api = runtime.api_endpoint or ""
    headers = {"Authorization": f"Bearer {runtime.connection['api_token']}"}
    _, _, body = http(f"{api}/disputes/{dispute_id}", None, headers)
    dispute = json.loads(body)["dispute"]
    confirmed = [f for f in dispute["findings"] if f["confirmed"]]
    found = "; ".join(f"{f['rule']}: {f['detail']}" for f in confirmed) or "nothing the rules can settle"
    print(f"   findings: {found}", file=out)
    for event in dispute["history"]:
        print(f"     {event['type']:<24} by {event['actor']}", file=out)
    resolution = dispute["resolution"] or {}
    credit = resolution.get("credit")
    amount = f", credit {credit['amount']} {credit['currency']}" if credit else ""
    print(f"   status {dispute['status']}: {resolution.get('action')}{amount}", file=out)


def _outcome_mails(runtime: LocalRuntime, expected: int = 2) -> list[str]:
    """The subjects of the outcome emails sent so far; the workflow sends each one after the
    dispute's final status, so wait for the ``expected`` two."""

    def told() -> list[str]:
        return [
            str(m["Subject"])
            for m in runtime.mailbox()
            if m.get("Headers", {}).get("X-Receivables-Mail", "").startswith("dispute_outcome")
        ]

    try:
        return runtime.wait_until(
            lambda: told() if len(told()) >= expected else None, what="the outcome mails"
        )
    except TimeoutError:
        return told()
