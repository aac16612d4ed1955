"""The demo's credit and cash chapter.

A controller gives Willow Labs (the customer who enrolled in chapter 12) a credit limit; the ERP
reports an open order, which takes Willow past 80 % of it; a new invoice takes it past 100 %, and
the stream puts Willow on credit hold; the credit check then declines its next order, saying why.
Then Willow's bank transfers: one takes a 2 % early-payment discount within its terms (validated
and credited without a person), one pays 120.00 short for damaged goods (a deduction, routed to
logistics with the proof of delivery it needs). Last, the cash forecast for the next 13 weeks,
from each customer's payment behaviour.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo.helpers import file_line, finance_api, report_of

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime


def credit_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, number: int = 13) -> None:
    """Tell the credit story through the finance API, as finance and an ERP would."""
    print(f"\n{number}. Credit limits and the cash forecast:", file=out)
    api = finance_api(runtime)
    _, customers = api("GET", "/customers?limit=200")
    willow = next(c for c in customers["customers"] if (c["name"] or "").startswith("Willow"))
    path = f"/customers/{willow['customer_id']}"
    status, _ = api("PUT", f"{path}/credit-limit", {"limit": "3500.00", "currency": "EUR"})
    print(f"   a controller sets Willow Labs' credit limit to 3500.00 EUR: {status}", file=out)
    _print_exposure(runtime, api, path, out)
    status, _ = api("PUT", f"{path}/open-orders", {"amount": "600.00", "currency": "EUR"})
    print(f"   the ERP reports an open order of 600.00 EUR: {status}", file=out)
    _print_exposure(runtime, api, path, out)
    key = "inbox/2027-03/willow-2.csv"
    rows = (
        "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount,po_number\n"
        "WIL-2027-002,2027-03-10,2027-04-09,EUR,,Willow Labs GmbH,ap@willow.example,900.00,PO-WL-7790\n"
    )
    s3.put_object(Bucket=bucket, Key=key, Body=rows.encode())
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)), file=out)
    _print_exposure(runtime, api, path, out, wait_for_level=100)
    _, events = api("GET", f"{path}")
    print(
        f"   Willow Labs is on credit hold: {'yes' if events['customer']['credit_hold'] else 'no'}", file=out
    )
    status, decided = api(
        "POST", "/credit/check", {"customer_id": willow["customer_id"], "amount": "250.00", "currency": "EUR"}
    )
    reasons = "; ".join(f"{r['code']}: {r['message']}" for r in decided["reasons"])
    print(f"   the ERP checks an order of 250.00 EUR: {status} {decided['decision']} ({reasons})", file=out)

    _deductions(runtime, s3, bucket, api, out)

    _, forecast = api("GET", "/forecast")
    print(f"   cash forecast as of {forecast['as_of']}, expected per week (from overdue invoices):", file=out)
    for currency, row in forecast["currencies"].items():
        weeks = [w for w in row["weeks"] if Decimal(w["expected"])]
        shown = ", ".join(f"{w['week_of']} {w['expected']} ({w['from_overdue']})" for w in weeks[:5])
        more = f" and {len(weeks) - 5} more weeks" if len(weeks) > 5 else ""
        print(
            f"   {currency}: {shown or 'nothing'}{more}; later {row['later']};"
            f" from invoices not issued yet {row['future_invoices']}",
            file=out,
        )


def _print_exposure(
    runtime: LocalRuntime, api: Any, path: str, out: TextIO, wait_for_level: int | None = None
) -> None:
    def exposure_seen() -> dict[str, Any] | None:
        _, seen = api("GET", f"{path}/exposure")
        reached = wait_for_level is None or seen["credit_level"] >= wait_for_level
        return dict(seen) if reached else None

    seen = runtime.wait_until(exposure_seen, what=f"credit level {wait_for_level}")
    exposure = seen["exposure"]
    print(
        f"   exposure {exposure['total']} EUR (receivables {exposure['receivables']}, open orders "
        f"{exposure['open_orders']}), {exposure['utilisation_percent']} % of the limit; credit level "
        f"{seen['credit_level']} %",
        file=out,
    )


def _deductions(runtime: LocalRuntime, s3: Any, bucket: str, api: Any, out: TextIO) -> None:
    """Two short bank transfers from Willow: a discount taken in time, goods said to be damaged."""
    _, policy = api("GET", "/deductions/policy")
    owners = [
        {"reason": "short_delivery", "customer_id": "*", "owner": "logistics@seller.example"},
        {"reason": "*", "customer_id": "*", "owner": "ar@seller.example"},
    ]
    status, _ = api(
        "PUT",
        "/deductions/policy",
        {"version": policy["version"], "policy": {**policy["policy"], "owners": owners}},
    )
    print(f"   a controller routes damaged-goods deductions to logistics, the rest to AR: {status}", file=out)
    today = runtime.clock.now().date().isoformat()
    key = "inbox/2027-03/willow-3.csv"
    rows = (
        "invoice_number,issue_date,currency,customer_name,customer_email,total_amount,po_number,terms\n"
        f"WIL-2027-003,{today},EUR,Willow Labs GmbH,ap@willow.example,1000.00,PO-WL-7801,2/10 net 30\n"
    )
    s3.put_object(Bucket=bucket, Key=key, Body=rows.encode())
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)) + " (terms 2/10 net 30)", file=out)
    seen = len(runtime.mailbox(0))
    for number, amount, reference in (
        ("WIL-2027-003", "980.00", "WIL-2027-003 less 2% skonto"),
        ("WIL-2027-001", "2260.00", "WIL-2027-001 less damaged goods 120.00"),
    ):
        body = {
            "amount": amount,
            "currency": "EUR",
            "method": "bank_transfer",
            "external_id": f"WILLOW-{number}",
            "received_at": today,
            "reference": reference,
        }
        status, paid = api("POST", "/payments", body)
        print(f"   Willow's bank transfer of {amount} EUR, '{reference}': {status}", file=out)
        for taken in paid["deductions"]:
            parts = "; ".join(
                f"{p['reason']} {p['amount']} {p['validity']}"
                + (f" ({p['check']})" if p["check"] else "")
                + (f", evidence needed: {', '.join(p['evidence_needed'])}" if p["evidence_needed"] else "")
                for p in taken["parts"]
            )
            routed = (
                f"; owner {taken['owner']}, under dispute {taken['dispute_id']}"
                if taken["dispute_id"]
                else ""
            )
            credited = f"; credit note {taken['credit_note']}" if taken["credit_note"] else ""
            print(
                f"     deduction of {taken['amount']} EUR on {taken['number']}: {parts}{credited}{routed}",
                file=out,
            )
    mails = runtime.wait_until(
        lambda: [m for m in runtime.mailbox(seen) if "Deduction:" in str(m["Subject"])],
        what="the deduction's mail to its owner",
    )
    to = ", ".join(dict.fromkeys(mails[0]["Destination"]["ToAddresses"]))
    print(f"   {to} is mailed: {str(mails[0]['Subject']).strip()}", file=out)
    _, report = api("GET", "/deductions/report")
    eur = report["currencies"]["EUR"]
    reasons = ", ".join(f"{r} {v['taken']}" for r, v in eur["by_reason"].items())
    print(
        f"   deductions EUR: {eur['open_count']} open ({eur['totals']['open']}), "
        f"valid {eur['totals']['valid']}, invalid {eur['totals']['invalid']}; by reason: {reasons}; "
        f"days deductions outstanding {eur['days_deductions_outstanding']}",
        file=out,
    )
