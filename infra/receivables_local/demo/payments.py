"""The demo's payment chapters (5 to 8): the invoice emails in SES, card payments through the
emailed link and the local Stripe's checkout page (a declined card, a card payment disputed by the
bank), bank transfers recorded through the finance API (matched from their reference; a partial
one; an overpayment whose credit pays the customer's next invoice when it arrives), and a forged
Stripe webhook that changes nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo.helpers import emailed_link, http, invoice_state, pay_by_card

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime


def payments_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO) -> None:
    """Chapters 5 to 8."""
    mail = [m for m in runtime.mailbox() if m.get("Headers", {}).get("X-Receivables-Mail") == "invoice"]
    print(f"\n5. Invoice emails sent through SES: {len(mail)}", file=out)
    for message in mail[:3]:
        print(f"   to {message['Destination']['ToAddresses'][0]:<28} {message['Subject']}", file=out)
    print("   (no email for customers without an address: they stay flagged for contact details)", file=out)

    def link_of(number: str) -> str:
        return emailed_link(runtime, number, "pay")

    print("\n6. Customers pay by card through the emailed link (the local Stripe's checkout):", file=out)
    for number, card, label in (
        ("INV-2026-1001", "4242 4242 4242 4242", "card 4242"),
        ("INV-2026-3001", "4000 0000 0000 0002", "card 0002"),
        ("INV-2026-1003", "4000 0000 0000 0259", "card 0259"),
    ):
        outcome = pay_by_card(runtime, link_of(number), card)
        print(f"   {number}  {label}: {outcome:<44} -> {invoice_state(number)}", file=out)
    print("   (card 0259 pays, then the bank opens a chargeback: the invoice is under dispute)", file=out)

    api = runtime.api_endpoint or ""
    token = runtime.connection["api_token"]

    def transfer(external_id: str, amount: str, currency: str, reference: str) -> str:
        body = {
            "amount": amount,
            "currency": currency,
            "method": "bank_transfer",
            "external_id": external_id,
            "received_at": "2026-11-20",
            "reference": reference,
        }
        status, _, answer = http(
            f"{api}/payments",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        runtime.settle()
        payment = json.loads(answer)["payment"] if status in (200, 201) else {}
        return f"{status}, matched by {payment.get('matched_by')}, unapplied {payment.get('unapplied')}"

    print("\n7. Finance records bank transfers (POST /payments), matched from the remittance text:", file=out)
    cases = (
        ("BANK-7001", "330000", "JPY", "Daifuku Trading payment inv 2026 1004", "INV-2026-1004", "in full"),
        ("BANK-7002", "500.000", "KWD", "Invoice INV-2026-1005 part payment", "INV-2026-1005", "partial"),
    )
    for external_id, amount, currency, reference, number, label in cases:
        outcome = transfer(external_id, amount, currency, reference)
        print(f"   {label:<8} {amount} {currency} '{reference}': {outcome}", file=out)
        print(f"            -> {number}: {invoice_state(number)}", file=out)

    s3.put_object(
        Bucket=bucket,
        Key="inbox/2026-11/fjord-1.csv",
        Body=_FJORD.format(number="INV-2026-5001", issued="2026-11-02", due="2026-12-02", total="400.00"),
    )
    runtime.settle()
    outcome = transfer("BANK-7003", "500.00", "EUR", "Fjord Fisheries INV-2026-5001")
    print(f"   over     500.00 EUR for INV-2026-5001 (400.00 EUR): {outcome}", file=out)
    s3.put_object(
        Bucket=bucket,
        Key="inbox/2026-11/fjord-2.csv",
        Body=_FJORD.format(number="INV-2026-5002", issued="2026-11-09", due="2026-12-09", total="250.00"),
    )
    runtime.settle()
    print(
        f"   Fjord's next invoice arrives: INV-2026-5002 (250.00 EUR) -> {invoice_state('INV-2026-5002')}",
        file=out,
    )
    print("   (the 100.00 EUR credit paid part of it as soon as it was ingested)", file=out)
    forged = http(
        f"{api}/webhooks/stripe",
        b'{"id": "evt_forged", "type": "checkout.session.completed"}',
        {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )
    print(f"\n8. A forged Stripe webhook is answered {forged[0]} and changes nothing.", file=out)


_FJORD = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "{number},{issued},{due},EUR,C-FJORD,Fjord Fisheries AS,ap@fjord.example,{total}\n"
)
