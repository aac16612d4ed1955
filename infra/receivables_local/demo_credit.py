"""The demo's credit and cash chapter.

A controller gives Willow Labs (the customer who enrolled in chapter 12) a credit limit; the ERP
reports an open order, which takes Willow past 80 % of it; a new invoice takes it past 100 %, and
the stream puts Willow on credit hold; the credit check then declines its next order, saying why.
Last, the cash forecast for the next 13 weeks, from each customer's payment behaviour.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo import file_line, report_of
from receivables_local.demo_enrolment import _api

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime


def credit_chapter(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO, number: int = 13) -> None:
    """Tell the credit story through the finance API, as finance and an ERP would."""
    print(f"\n{number}. Credit limits and the cash forecast:", file=out)
    api = _api(runtime)
    _, customers = api("GET", "/customers?limit=200")
    willow = next(c for c in customers["customers"] if (c["name"] or "").startswith("Willow"))
    path = f"/customers/{willow['customer_id']}"
    status, _ = api("PUT", f"{path}/credit-limit", {"limit": "3500.00", "currency": "EUR"})
    print(f"   a controller sets Willow Labs' credit limit to 3500.00 EUR: {status}", file=out)
    _print_exposure(api, path, out)
    status, _ = api("PUT", f"{path}/open-orders", {"amount": "600.00", "currency": "EUR"})
    print(f"   the ERP reports an open order of 600.00 EUR: {status}", file=out)
    _print_exposure(api, path, out)
    key = "inbox/2027-03/willow-2.csv"
    rows = (
        "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount,po_number\n"
        "WIL-2027-002,2027-03-10,2027-04-09,EUR,,Willow Labs GmbH,ap@willow.example,900.00,PO-WL-7790\n"
    )
    s3.put_object(Bucket=bucket, Key=key, Body=rows.encode())
    runtime.settle()
    print("   " + file_line(key, report_of(s3, bucket, key)), file=out)
    _print_exposure(api, path, out, wait_for_level=100)
    _, events = api("GET", f"{path}")
    print(
        f"   Willow Labs is on credit hold: {'yes' if events['customer']['credit_hold'] else 'no'}", file=out
    )
    status, decided = api(
        "POST", "/credit/check", {"customer_id": willow["customer_id"], "amount": "250.00", "currency": "EUR"}
    )
    reasons = "; ".join(f"{r['code']}: {r['message']}" for r in decided["reasons"])
    print(f"   the ERP checks an order of 250.00 EUR: {status} {decided['decision']} ({reasons})", file=out)

    _, forecast = api("GET", "/forecast")
    print(f"   cash forecast as of {forecast['as_of']}, expected per week (from overdue invoices):", file=out)
    for currency, row in forecast["currencies"].items():
        weeks = [w for w in row["weeks"] if Decimal(w["expected"])]
        shown = ", ".join(f"{w['week_of']} {w['expected']} ({w['from_overdue']})" for w in weeks[:5])
        more = f" and {len(weeks) - 5} more weeks" if len(weeks) > 5 else ""
        print(f"   {currency}: {shown or 'nothing'}{more}; later {row['later']}", file=out)


def _print_exposure(api: Any, path: str, out: TextIO, wait_for_level: int | None = None) -> None:
    deadline = time.monotonic() + 30
    while True:
        _, seen = api("GET", f"{path}/exposure")
        if wait_for_level is None or seen["credit_level"] >= wait_for_level or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    exposure = seen["exposure"]
    print(
        f"   exposure {exposure['total']} EUR (receivables {exposure['receivables']}, open orders "
        f"{exposure['open_orders']}), {exposure['utilisation_percent']} % of the limit; credit level "
        f"{seen['credit_level']} %",
        file=out,
    )
