"""Reading the figures: aging, per-customer aging and KPIs from the stream's aggregates
(`receivables.reporting.aggregates`), trends from the daily snapshots. A bounded number of items whatever
the number of invoices: one per due date and one per customer with a balance, one per issue
day for sales, one snapshot per day of a trend."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from receivables.kernel.money import Money
from receivables.reporting import aggregates
from receivables.reporting.aggregates import DUE_PREFIX, Reads
from receivables.reporting.aging import Aging, DueBalance, age
from receivables.reporting.kpis import Inputs, Kpis, Period, compute
from receivables.storage import store

SNAPSHOT_PK = store.KPI_SNAPSHOT_PK  # the daily snapshots (the sweep writes them)
SALES_HISTORY_DAYS = 400  # a countback walks at most twelve months back


def currency_aging(currency: str, today: date, reads: Reads) -> Aging:
    """One currency's aging (one Query over its due dates)."""
    rows = store.due_date_counters(currency, reads)
    return age(
        currency,
        (
            DueBalance(
                date.fromisoformat(due),
                counted.get("open", 0),
                counted.get("invoices", 0),
                counted.get("disputed", 0),
                counted.get("disputed_invoices", 0),
            )
            for due, counted in rows
        ),
        today,
    )


@dataclass
class CustomerAging:
    """One customer's aging in one currency."""

    customer_id: str
    aging: Aging
    invoices: int

    def to_json(self) -> dict[str, Any]:
        """As the API shows it (invoice counts per bucket are kept per currency only)."""
        body = {"customer_id": self.customer_id, **self.aging.to_json(), "invoices": self.invoices}
        body.pop("bucket_invoices")
        return body


def customer_agings(currency: str, today: date, reads: Reads) -> list[CustomerAging]:
    """Every customer with a balance in ``currency``, most overdue first (one Query)."""
    result = []
    for customer_id, counted in store.customer_counters(currency, reads):
        if counted.get("open", 0) == 0:
            continue
        balances = (
            DueBalance(date.fromisoformat(name.removeprefix(DUE_PREFIX)), value)
            for name, value in counted.items()
            if name.startswith(DUE_PREFIX)
        )
        aging = age(currency, balances, today)
        aging.disputed = counted.get("disputed", 0)
        aging.disputed_invoices = counted.get("disputed_invoices", 0)
        result.append(CustomerAging(customer_id, aging, counted.get("invoices", 0)))
    result.sort(key=lambda c: (-c.aging.overdue, -c.aging.total, c.customer_id))
    return result


@dataclass
class AgingReport:
    """The aging per currency, and per customer within each currency."""

    today: date
    currencies: dict[str, Aging] = field(default_factory=dict)
    customers: dict[str, list[CustomerAging]] = field(default_factory=dict)
    reads: Reads = field(default_factory=Reads)

    def to_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "as_of": self.today.isoformat(),
            "currencies": [
                {**aging.to_json(), "customers": [c.to_json() for c in self.customers.get(code, [])]}
                for code, aging in self.currencies.items()
            ],
        }


def aging_report(today: date, currency: str | None = None, with_customers: bool = True) -> AgingReport:
    """The aging report as of ``today``, for one currency or all of them."""
    report = AgingReport(today)
    codes = [currency] if currency else aggregates.currencies(report.reads)
    for code in codes:
        report.currencies[code] = currency_aging(code, today, report.reads)
        if with_customers:
            report.customers[code] = customer_agings(code, today, report.reads)
    return report


def sales_by_day(
    currency: str, today: date, reads: Reads
) -> tuple[dict[date, int], dict[date, tuple[int, int]]]:
    """Credit sales per issue day, and (issued, disputed) invoice counts per issue day."""
    first = today - timedelta(days=SALES_HISTORY_DAYS)
    sales: dict[date, int] = {}
    counts: dict[date, tuple[int, int]] = {}
    for issued_on, counted in store.sales_counters(currency, first.isoformat(), today.isoformat(), reads):
        day = date.fromisoformat(issued_on)
        sales[day] = counted.get("sales", 0)
        counts[day] = (counted.get("issued", 0), counted.get("disputed", 0))
    return sales, counts


def snapshot_on(day: date) -> dict[str, Any] | None:
    """The daily snapshot the sweep wrote on ``day``, if any."""
    found = store.get_document(SNAPSHOT_PK, day.isoformat())
    return found[0] if found else None


SNAPSHOT_LOOKBACK_DAYS = 7


def snapshot_before(day: date) -> tuple[date, dict[str, Any]] | None:
    """The daily snapshot of ``day``, else the newest of the week before it (a sweep that did
    not run that day): its day and body, one Query; None when there is none."""
    found = store.documents(
        SNAPSHOT_PK, (day - timedelta(days=SNAPSHOT_LOOKBACK_DAYS)).isoformat(), day.isoformat()
    )
    return (date.fromisoformat(found[-1][0]), found[-1][1]) if found else None


def kpis(
    currency: str, today: date, days: int, reads: Reads | None = None, aging: Aging | None = None
) -> Kpis:
    """The KPIs of ``currency`` over the ``days`` days ending ``today``."""
    reads = reads if reads is not None else Reads()
    period = Period(today, days)
    aging = aging or currency_aging(currency, today, reads)
    sales, counts = sales_by_day(currency, today, reads)
    found = snapshot_before(period.first_day)
    beginning = beginning_on = None
    if found is not None:
        beginning_on, start = found
        beginning = int(start.get("currencies", {}).get(currency, {}).get("open", 0))
    inside = [counts[d] for d in counts if period.holds(d)]
    return compute(
        Inputs(
            ending_ar=aging.total,
            ending_current_ar=aging.current,
            sales_by_day=sales,
            beginning_ar=beginning,
            issued=sum(i for i, _ in inside),
            disputed=sum(d for _, d in inside),
            beginning_on=beginning_on,
            history_from=min((d for d, amount in sales.items() if amount), default=None),
        ),
        period,
    )


def trend(currency: str, today: date, days: int) -> list[dict[str, Any]]:
    """The daily snapshots of the last ``days`` days: per day, the open total, what is overdue
    and the KPIs of that day (for the dashboard's DSO trend)."""
    first = today - timedelta(days=days - 1)
    points = []
    for sk, body in store.documents(SNAPSHOT_PK, first.isoformat(), today.isoformat()):
        figures = body.get("currencies", {}).get(currency)
        if figures is None:
            continue
        points.append(
            {
                "date": sk,
                "open": Money(int(figures.get("open", 0)), currency).to_decimal_string(),
                "overdue": Money(int(figures.get("overdue", 0)), currency).to_decimal_string(),
                "kpis": figures.get("kpis", {}),
            }
        )
    return points


def latest_snapshot(today: date, days_back: int = 7) -> dict[str, Any] | None:
    """The newest daily snapshot of the last ``days_back`` days (one Query), or None."""
    found = store.documents(SNAPSHOT_PK, (today - timedelta(days=days_back)).isoformat(), today.isoformat())
    return found[-1][1] if found else None
