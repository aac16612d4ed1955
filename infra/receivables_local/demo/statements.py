"""The demo's bank statement chapter: the bank's statement of the day arrives in the intake
bucket; most lines letter themselves (the report says by which rule), Stripe's payouts of the
card payments are reconciled against their balance transactions with the fees shown (never
lettered again), a return reopens an invoice, one unknown payer is lettered by hand through the
finance API and remembered, so that the same payer's next transfer letters itself."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

import stripe

from receivables.banking.creditor_reference import creditor_reference
from receivables.banking.creditor_reference import format as formatted
from receivables_local.demo.helpers import finance_api, invoice_id, invoice_state
from receivables_local.statement_files import Line, camt053

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime

HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
LEDGER = (
    "FJ-2027-001,2027-02-01,2027-03-03,EUR,FJCYC,Fjord Cycles AS,ap@fjordcycles.example,1200.00\n"
    "FJ-2027-002,2027-02-02,2027-03-04,EUR,FJCYC,Fjord Cycles AS,ap@fjordcycles.example,400.00\n"
    "FJ-2027-003,2027-02-03,2027-03-05,EUR,FJCYC,Fjord Cycles AS,ap@fjordcycles.example,250.00\n"
    "FJ-2027-004,2027-02-04,2027-03-06,EUR,FJCYC,Fjord Cycles AS,ap@fjordcycles.example,150.00\n"
    "QB-2027-001,2027-02-01,2027-03-03,EUR,QUAY,Quay Bakery SAS,ap@quay.example,99.00\n"
)
FJORD_IBAN = "NO9386011117947"
QUAY_IBAN = "FR1420041010050500013M02606"


def statements_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, number: int) -> None:
    """The bank's statements of two days, and finance's one decision between them."""
    print(f"\n{number}. The bank's statement of the day arrives (camt.053 in statements/inbox/):", file=out)
    s3.put_object(Bucket=bucket, Key="inbox/2027-03/fjord.csv", Body=HEADER + LEDGER)
    runtime.settle()
    reference = creditor_reference(invoice_id("FJ-2027-001"))
    print(f"   FJ-2027-001's creditor reference, printed on the invoice: {formatted(reference)}", file=out)
    paid_out = _stripe_payouts(runtime, out)
    day = camt053(
        [
            *paid_out,
            Line("1200.00", "Fjord Cycles AS", iban=FJORD_IBAN, reference=reference, bank_ref="D1-1"),
            Line(
                "99.00",
                "Quay Bakery",
                iban=QUAY_IBAN,
                text="Facture QB-2027-001",
                bank_ref="D1-2",
                end_to_end="QUAY-0305",
            ),
            Line("650.00", "FJORD CYCLES", iban="NO8330001234567", text="Feb invoices", bank_ref="D1-3"),
            Line("18.40", "Bank", debit=True, text="Account fees February", bank_ref="D1-4"),
        ],
        statement_id="STMT-2027-03-05",
        sequence="64",
    )
    lines = _import(runtime, s3, bucket, "statements/inbox/2027-03-05.xml", day, out)
    waiting = next(x for x in lines if x["status"] == "review")

    call = finance_api(runtime)
    _, queue = call("GET", "/bank-lines?status=unmatched")
    line = next(x for x in queue["bank_lines"] if x["line_id"] == waiting["line_id"])
    best = line["candidates"][0]["evidence"] if line["candidates"] else line.get("reason") or "none"
    print(f"   review queue: {len(queue['bank_lines'])} line; {best}", file=out)
    body = {
        "invoices": [
            {"invoice": "FJ-2027-002", "amount": "400.00"},
            {"invoice": "FJ-2027-003", "amount": "250.00"},
        ]
    }
    status, done = call("POST", f"/bank-lines/{waiting['line_id']}/letter", body)
    runtime.settle()
    print(
        f"   finance letters it to FJ-2027-002 and FJ-2027-003: {status}, code {done.get('lettering')}"
        " (the payer's IBAN is remembered for Fjord Cycles)",
        file=out,
    )

    print(
        "\n   The next day's statement: the same IBAN pays FJ-2027-004, and Quay's transfer comes back:",
        file=out,
    )
    next_day = camt053(
        [
            Line(
                "150.00",
                "FJORD CYCLES",
                iban="NO8330001234567",
                text="thank you",
                bank_ref="D2-1",
                booked="2027-03-06",
            ),
            Line(
                "99.00",
                "Quay Bakery",
                iban=QUAY_IBAN,
                debit=True,
                bank_ref="D2-2",
                end_to_end="QUAY-0305",
                return_reason="AC04",
                booked="2027-03-06",
            ),
        ],
        statement_id="STMT-2027-03-06",
        sequence="65",
        opening=str(Decimal("2930.60") + sum((Decimal(x.amount) for x in paid_out), Decimal(0))),
        day="2027-03-06",
        previous_day="2027-03-05",
    )
    _import(runtime, s3, bucket, "statements/inbox/2027-03-06.xml", next_day, out)
    for invoice in ("FJ-2027-001", "FJ-2027-002", "FJ-2027-003", "FJ-2027-004", "QB-2027-001"):
        print(f"   {invoice}: {invoice_state(invoice)}", file=out)


def _import(runtime: LocalRuntime, s3: Any, bucket: str, key: str, content: bytes, out: TextIO) -> list[Any]:
    s3.put_object(Bucket=bucket, Key=key, Body=content)
    runtime.settle()
    done = key.replace("statements/inbox/", "statements/processed/") + ".report.json"
    report = json.loads(s3.get_object(Bucket=bucket, Key=done)["Body"].read())
    (statement,) = report["statements"]
    problems = statement["balance_problems"] or ["balances follow on"]
    print(
        f"   {key.rsplit('/', 1)[-1]}: {statement['counts']['lines']} lines, {'; '.join(problems)}", file=out
    )
    for line in statement["lines"]:
        rule = {"lettered": f" by {line.get('rule')}", "review": f", suggested by {line.get('rule')}"}.get(
            line["status"], ""
        )
        if line["status"] in ("returned", "payout_pending"):
            rule = f": {line['evidence']}"
        if line["status"] == "payout":
            paid = line["payout"]
            rule = (
                f" reconciled with {paid['payout_id']}: {paid['charges_count']} payment(s), gross"
                f" {paid['gross']}, fees {paid['fees']}, net {paid['net']}"
            )
        code = f", code {line['lettering']}" if line.get("lettering") else ""
        amount = f"{line['amount']:>8} {line['currency']}"
        print(f"     {amount} {line['direction']:<6} {line['status']}{rule}{code}", file=out)
    paid_out = statement["counts"].get("payouts")
    if paid_out:
        print(
            f"   Stripe's payouts: {paid_out['lines']} reconciled against their balance transactions,"
            f" gross {paid_out['gross']}, fees {paid_out['fees']}, net {paid_out['net']}"
            f" {statement['currency']}; their payments were applied when Stripe reported them, not"
            " lettered again",
            file=out,
        )
    return list(statement["lines"])


def _stripe_payouts(runtime: LocalRuntime, out: TextIO) -> list[Line]:
    """The statement's lines for Stripe's payouts in EUR so far: the card payments of the
    earlier chapters, paid out to the bank less Stripe's fees."""
    client = stripe.StripeClient(
        str(runtime.connection["stripe_api_key"]),
        base_addresses={"api": str(runtime.stripe_endpoint)},
        max_network_retries=0,
    )
    payouts = [p for p in client.v1.payouts.list(params={"limit": 100}).data if p.currency == "eur"]
    print(f"   Stripe paid out the card payments to the bank: {len(payouts)} payout(s) in EUR", file=out)
    return [
        Line(
            f"{Decimal(p.amount).scaleb(-2):.2f}",
            "STRIPE PAYMENTS EUROPE LTD",
            text=f"STRIPE PAYOUT {p.id}",
            bank_ref=f"D1-P{n}",
        )
        for n, p in enumerate(reversed(payouts), start=1)
    ]
