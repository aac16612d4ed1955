"""Reports: aging, KPIs, the worklist and the dashboard."""

from __future__ import annotations

from chalice.app import Response

from receivables.collections.finance import display_name, ranked_worklist
from receivables.kernel.access import Role
from receivables.reporting import aggregates
from receivables.reporting.service import aging_report, trend
from receivables.reporting.service import kpis as figures
from receivables.storage import store
from receivables.web.dashboard import dashboard_data, render
from receivables.web.security_headers import dashboard_headers

from . import wiring
from .api import Resource, listing, params, reply

bp = Resource(__name__)


@bp.route("/reports/aging", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def aging(who: str) -> Response:
    """The aging report, per currency and per customer (``?currency=`` for one), from the
    stream's aggregates; ``format=csv`` exports one row per customer and currency."""
    query = params("currency")
    currency = query.currency()
    query.done()
    _, clock = wiring.context()
    report = aging_report(clock.now().date(), currency)
    body = report.to_json()
    named = store.get_customers({c["customer_id"] for cur in body["currencies"] for c in cur["customers"]})
    for cur in body["currencies"]:
        for row in cur["customers"]:
            known = named.get(row["customer_id"])
            row["customer_name"] = None if known is None else display_name(known)
    if query.raw.get("format") == "csv":
        rows = [
            {
                "currency": c["currency"],
                **{k: v for k, v in customer.items() if k != "buckets"},
                **customer["buckets"],
            }
            for c in body["currencies"]
            for customer in c["customers"]
        ]
        return listing("aging", rows, None, query)
    return reply({**body, "items_read": report.reads.items})


@bp.route("/kpis", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def kpis(who: str) -> Response:
    """DSO (standard and countback), best possible DSO, average days delinquent, CEI, overdue
    ratio and dispute rate over ``days`` (default 30) per currency, with the daily trend over
    ``trend_days`` (default 30) from the sweep's snapshots."""
    query = params("currency", "days", "trend_days")
    currency = query.currency()
    days = query.integer("days", 30, 1, 365)
    trend_days = query.integer("trend_days", 30, 1, 366)
    query.done()
    _, clock = wiring.context()
    today = clock.now().date()
    codes = [currency] if currency else aggregates.currencies(aggregates.Reads())
    return reply(
        {
            "as_of": today.isoformat(),
            "currencies": [
                {
                    "currency": code,
                    **figures(code, today, days).to_json(),
                    "trend": trend(code, today, trend_days),
                }
                for code in codes
            ],
        }
    )


@bp.route("/worklist", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def work(who: str) -> Response:
    """Overdue invoices by expected loss (balance x days late x risk weight), highest first;
    ``currency``, ``limit`` (1-200), ``format=csv``. The daily sweep ranks them; the invoices it
    ranked are read fresh and ranked again as of today (``ranked_on`` says which day's ranking)."""
    query = params("currency")
    currency = query.currency()
    limit = query.integer("limit", 50, 1, 200)
    query.done()
    _, clock = wiring.context()
    rows, ranked_on = ranked_worklist(clock.now().date(), currency, limit)
    if query.raw.get("format") == "csv":
        return listing("worklist", rows, None, query)
    return reply({"worklist": rows, "ranked_on": ranked_on, "next_cursor": None})


@bp.route("/dashboard", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def dashboard(who: str) -> Response:
    """The finance dashboard, one HTML page: aging bars per currency, the DSO trend, the top
    overdue customers, the worklist, disputes waiting for a decision, the emails and payments of
    the last days. ``?format=json`` gives the figures it is drawn from."""
    query = params()
    wanted = query.choice("format", ("html", "json"))
    query.done()
    _, clock = wiring.context()
    data = dashboard_data(clock.now().date())
    if wanted == "json":
        return reply(data)
    page = render(data)
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", **dashboard_headers()}
    return Response(body=page, status_code=200, headers=headers)
