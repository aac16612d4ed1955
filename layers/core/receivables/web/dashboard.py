"""The finance dashboard: one page, readable at a glance, from a bounded number of items.

What it reads: the aggregates (one item per currency due date and per customer with a balance),
the daily snapshots of the trend (one per day), the worklist the last sweep ranked (its invoices
fetched fresh, at most `WORKLIST_SIZE`), the disputes waiting for finance (the sparse open-dispute
index), the invoices blocked by missing documents (the open documentation requests: one partition
and their invoices), the emails and payments of the last `ACTIVITY_DAYS` days (one activity item per day) and
the latest payments (the listing index, at most `RECENT_PAYMENTS`).

`dashboard_data` is the JSON the page is drawn from (and what the e2e test checks against the
API); `render` draws it as self-contained HTML (inline CSS and SVG, no script).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from receivables.banking.review import unmatched_lines
from receivables.collections.finance import display_name, ranked_worklist
from receivables.customers.requirements import OpenRequest, open_requests
from receivables.disputes.deductions import deductions
from receivables.kernel.money import Money
from receivables.reporting.aggregates import EMAIL_KINDS, Reads, activity
from receivables.reporting.aging import BUCKET_NAMES
from receivables.reporting.service import aging_report, trend
from receivables.storage import store

WORKLIST_SIZE = 10
TOP_CUSTOMERS = 5
RECENT_PAYMENTS = 10
TREND_DAYS = 30
ACTIVITY_DAYS = 7


def dashboard_data(today: date) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON; ``items_read`` counts the aggregate items."""
    report = aging_report(today)
    names = store.get_customers(
        {c.customer_id for rows in report.customers.values() for c in rows[:TOP_CUSTOMERS]}
    )
    currencies = []
    for code, aging in report.currencies.items():
        currencies.append(
            {
                **aging.to_json(),
                "top_overdue": [
                    {
                        **c.to_json(),
                        "name": display_name(names[c.customer_id]) if c.customer_id in names else None,
                    }
                    for c in report.customers[code][:TOP_CUSTOMERS]
                    if c.aging.overdue > 0
                ],
                "trend": trend(code, today, TREND_DAYS),
            }
        )
    work, ranked_on = ranked_worklist(today, None, WORKLIST_SIZE, live=False)
    waiting = [d for d in store.open_disputes() if d.status.value == "awaiting_finance"]
    held = open_requests()
    month = today.isoformat()[:7]
    months = [month] if today.day > 7 else [month, (today.replace(day=1) - timedelta(days=1)).isoformat()[:7]]
    payments, _ = store.payments_received(months, RECENT_PAYMENTS, None)
    week_ago = (today - timedelta(days=ACTIVITY_DAYS)).isoformat()
    reads = Reads()
    first = today - timedelta(days=ACTIVITY_DAYS - 1)
    counted = {day.day: day.to_json() for day in activity(first.isoformat(), today.isoformat(), reads)}
    days = [(first + timedelta(days=n)).isoformat() for n in range(ACTIVITY_DAYS)]
    return {
        "as_of": today.isoformat(),
        "currencies": currencies,
        "worklist": work,
        "worklist_ranked_on": ranked_on,
        "disputes_waiting": [
            {
                "dispute_id": d.dispute_id,
                "invoice_id": d.invoice_id,
                "reason": d.reason.value,
                "opened_at": d.opened_at,
                "amount": d.amount.to_decimal_string() if d.amount else None,
            }
            for d in waiting
        ],
        "blocked_by_documents": _blocked(held),
        "open_deductions": _deductions(today),
        "bank_lines_waiting": _bank_lines(),
        "recent_payments": [
            {
                "payment_id": p.payment_id,
                "received_at": p.received_at,
                "amount": p.amount.to_decimal_string(),
                "currency": p.amount.currency,
                "method": p.method,
                "unapplied": p.unapplied.to_decimal_string(),
            }
            for p in payments
            if p.received_at[:10] >= week_ago
        ],
        "activity": [
            counted.get(day, {"date": day, "emails": {}, "emails_total": 0, "payments": {}}) for day in days
        ],
        "items_read": report.reads.items + reads.items,
    }


def _deductions(today: date) -> dict[str, Any]:
    """Deductions waiting for their owner: how many, the amount open per currency, the oldest."""

    waiting = sorted(deductions("open"), key=lambda d: d["opened_at"])
    amounts: dict[str, Money] = {}
    for d in waiting:
        amounts[d["currency"]] = amounts.get(d["currency"], Money.zero(d["currency"])) + Money.parse(
            d["open"], d["currency"]
        )
    return {
        "count": len(waiting),
        "amounts": {code: amount.to_decimal_string() for code, amount in sorted(amounts.items())},
        "oldest": [
            {
                "deduction_id": d["deduction_id"],
                "number": d["number"],
                "reasons": sorted({p["reason"] for p in d["parts"] if p["validity"] == "open"}),
                "open": d["open"],
                "currency": d["currency"],
                "owner": d["owner"],
                "days": (today - date.fromisoformat(d["opened_at"][:10])).days,
            }
            for d in waiting[:WORKLIST_SIZE]
        ],
    }


def _bank_lines() -> dict[str, Any]:
    """Bank lines the matching left for a person: how many, the amount per currency, the oldest
    with the best candidate's rule (one Query of the sparse waiting index)."""
    waiting = unmatched_lines()
    amounts: dict[str, Money] = {}
    for line in waiting:
        money = Money.parse(line["amount"], line["currency"])
        amounts[line["currency"]] = amounts.get(line["currency"], Money.zero(line["currency"])) + money
    return {
        "count": len(waiting),
        "amounts": {code: amount.to_decimal_string() for code, amount in sorted(amounts.items())},
        "oldest": [
            {
                "line_id": line["line_id"],
                "booking_date": line["booking_date"],
                "amount": line["amount"],
                "currency": line["currency"],
                "payer": (line.get("payer") or {}).get("name"),
                "suggestion": (line.get("candidates") or [{}])[0].get("rule"),
            }
            for line in waiting[:WORKLIST_SIZE]
        ],
    }


def _blocked(held: list[OpenRequest]) -> dict[str, Any]:
    """Invoices held for a document their customer's AP requires: how many, the amount they hold
    back per currency, and the oldest."""
    amounts: dict[str, Money] = {}
    for request in held:
        balance = request.invoice.balance
        amounts[balance.currency] = amounts.get(balance.currency, Money.zero(balance.currency)) + balance
    return {
        "count": len(held),
        "amounts": {code: amount.to_decimal_string() for code, amount in sorted(amounts.items())},
        "oldest": [
            {
                "invoice_id": r.invoice.invoice_id,
                "number": r.invoice.number,
                "missing": list(r.missing),
                "since": r.since,
                "balance": r.invoice.balance.to_decimal_string(),
                "currency": r.invoice.currency,
            }
            for r in held[:WORKLIST_SIZE]
        ],
    }


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px}h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;padding:16px 24px}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:0 0 8px}table{width:100%;border-collapse:collapse}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee}td.n,th.n{text-align:right}
.bar{display:flex;align-items:center;gap:8px;margin:3px 0}.bar span.l{width:64px}
.bar span.b{height:14px;background:#3b6fd8;border-radius:2px}.bar span.b.late{background:#d8573b}
.muted{color:#667}
"""


def _bars(currency: dict[str, Any]) -> str:
    amounts = {name: Decimal(currency["buckets"][name]) for name in BUCKET_NAMES}
    widest = max(amounts.values()) or Decimal(1)
    rows = []
    for name in BUCKET_NAMES:
        width = int(240 * amounts[name] / widest)
        late = "" if name == "current" else " late"
        rows.append(
            f'<div class="bar"><span class="l">{name}</span>'
            f'<span class="b{late}" style="width:{width}px"></span>'
            f'<span data-bucket="{currency["currency"]}:{name}">{currency["buckets"][name]}</span></div>'
        )
    return "".join(rows)


def _trend(points: list[dict[str, Any]]) -> str:
    values = [
        (p["date"], Decimal(p["kpis"]["dso_standard"])) for p in points if p["kpis"].get("dso_standard")
    ]
    if len(values) < 2:
        return '<p class="muted">The DSO trend appears after two daily snapshots.</p>'
    top = max(v for _, v in values) or Decimal(1)
    step = Decimal(400) / (len(values) - 1)
    line = " ".join(f"{i * step:.1f},{100 - 90 * v / top:.1f}" for i, (_, v) in enumerate(values))
    return (
        f'<svg viewBox="0 0 400 100" width="400" height="100" role="img" aria-label="DSO trend">'
        f'<polyline fill="none" stroke="#3b6fd8" stroke-width="2" points="{line}"/></svg>'
        f'<p class="muted">{escape(values[0][0])} to {escape(values[-1][0])}: DSO {values[0][1]} to '
        f"<span data-dso-latest>{values[-1][1]}</span></p>"
    )


def _table(headers: list[str], rows: list[list[str]], empty: str, testid: str) -> str:
    if not rows:
        return f'<p class="muted" data-testid="{testid}">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table data-testid="{testid}"><tr>{head}</tr>{body}</table>'


def render(data: dict[str, Any]) -> str:
    """The dashboard as one self-contained HTML page."""
    sections = []
    for currency in data["currencies"]:
        code = escape(currency["currency"])
        sections.append(
            f'<section data-currency="{code}"><h2>Aging, {code}: '
            f'<span data-total="{code}">{escape(currency["total"])}</span>'
            f" open, {escape(currency['overdue'])} overdue</h2>{_bars(currency)}"
            f"<h2>DSO trend</h2>{_trend(currency['trend'])}"
            "<h2>Top overdue customers</h2>"
            + _table(
                ["Customer", "Overdue", "Open", "Oldest due"],
                [
                    [c["name"] or c["customer_id"], c["overdue"], c["total"], c["oldest_due"] or ""]
                    for c in currency["top_overdue"]
                ],
                "Nobody is overdue.",
                f"top-{code}",
            )
            + "</section>"
        )
    sections.append(
        "<section><h2>Worklist (by expected loss)</h2>"
        + _table(
            ["Invoice", "Customer", "Risk", "Balance", "Days late", "Expected loss"],
            [
                [
                    w["number"],
                    w["customer_name"] or w["customer_id"],
                    w["risk"],
                    f"{w['balance']} {w['currency']}",
                    w["days_late"],
                    w["expected_loss"],
                ]
                for w in data["worklist"]
            ],
            "Nothing overdue, or no sweep has ranked the worklist yet.",
            "worklist",
        )
        + "</section>"
    )
    sections.append(
        "<section><h2>Disputes waiting for a decision</h2>"
        + _table(
            ["Dispute", "Reason", "Amount", "Opened"],
            [
                [d["dispute_id"], d["reason"], d["amount"] or "", d["opened_at"][:10]]
                for d in data["disputes_waiting"]
            ],
            "No dispute waits for finance.",
            "disputes",
        )
        + "</section>"
    )
    blocked = data["blocked_by_documents"]
    held_back = ", ".join(f"{amount} {code}" for code, amount in blocked["amounts"].items()) or "nothing"
    sections.append(
        "<section><h2>Blocked by missing documents: "
        f'<span data-testid="blocked-count">{blocked["count"]}</span> invoices, '
        f'<span data-testid="blocked-amount">{escape(held_back)}</span> held back</h2>'
        + _table(
            ["Invoice", "Missing", "Balance", "Since"],
            [
                [b["number"], ", ".join(b["missing"]), f"{b['balance']} {b['currency']}", b["since"][:10]]
                for b in blocked["oldest"]
            ],
            "No invoice waits for a document.",
            "blocked",
        )
        + "</section>"
    )
    waiting = data["open_deductions"]
    open_amount = ", ".join(f"{amount} {code}" for code, amount in waiting["amounts"].items()) or "nothing"
    sections.append(
        "<section><h2>Deductions waiting for their owner: "
        f'<span data-testid="deductions-count">{waiting["count"]}</span>, '
        f'<span data-testid="deductions-amount">{escape(open_amount)}</span></h2>'
        + _table(
            ["Invoice", "Reason", "Open", "Owner", "Days"],
            [
                [
                    d["number"],
                    ", ".join(d["reasons"]),
                    f"{d['open']} {d['currency']}",
                    d["owner"] or "",
                    d["days"],
                ]
                for d in waiting["oldest"]
            ],
            "No deduction waits for a decision.",
            "deductions",
        )
        + "</section>"
    )
    sections.append(
        f"<section><h2>Emails and payments of the last {len(data['activity'])} days</h2>"
        + _table(
            [
                "Day",
                *(kind.replace("_", " ").capitalize() + "s" for kind in EMAIL_KINDS.values()),
                "Payments",
            ],
            [
                [
                    day["date"],
                    *(day["emails"].get(kind, 0) for kind in EMAIL_KINDS.values()),
                    ", ".join(f"{p['count']} for {p['amount']} {c}" for c, p in day["payments"].items())
                    or "none",
                ]
                for day in reversed(data["activity"])
            ],
            "",
            "activity",
        )
        + "</section>"
    )
    lines = data["bank_lines_waiting"]
    sections.append(
        f"<section><h2>Bank lines awaiting review ({lines['count']})</h2>"
        + _table(
            ["Booked", "Amount", "Payer", "Suggestion"],
            [
                [
                    x["booking_date"],
                    f"{x['amount']} {x['currency']}",
                    x["payer"] or "unknown",
                    x["suggestion"] or "none",
                ]
                for x in lines["oldest"]
            ],
            "Every bank line is lettered.",
            "bank-lines",
        )
        + "</section>"
    )
    sections.append(
        "<section><h2>Latest payments</h2>"
        + _table(
            ["Received", "Amount", "Method", "Unapplied"],
            [
                [p["received_at"][:10], f"{p['amount']} {p['currency']}", p["method"], p["unapplied"]]
                for p in data["recent_payments"]
            ],
            "No payment this week.",
            "payments",
        )
        + "</section>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Receivables dashboard</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>Receivables, as of {escape(data['as_of'])}</h1></header>"
        f"<main>{''.join(sections)}</main></body></html>"
    )
