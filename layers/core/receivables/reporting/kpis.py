"""The collection KPIs, exactly as docs/kpis.md defines them, over a period of N days ending today.

Pure. Per currency; every ratio is computed in exact decimals and rounded once, at the end, to
one decimal place, half-even. A figure that cannot be computed (no credit sales in the period,
no balance at its start) is None, with the reason in ``missing``.

- DSO, standard: ending AR / credit sales in the period x N.
- DSO, countback: from the ending AR, walk back month by month (the current month to date, then
  whole calendar months), subtracting each month's credit sales while the balance covers them
  and adding that month's days; for the first month it no longer covers, add
  remaining balance / that month's sales x its days.
- Best possible DSO: current (not yet due) AR / credit sales x N.
- Average days delinquent: DSO (standard) - best possible DSO.
- CEI: (beginning AR + credit sales - ending total AR) / (beginning AR + credit sales - ending
  current AR) x 100.
- Overdue ratio: overdue AR / total AR x 100 (a percentage).
- Dispute rate: invoices disputed / invoices issued in the period x 100 (a percentage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

ONE_DECIMAL = Decimal("0.1")
COUNTBACK_MONTHS = 12


def rounded(value: Decimal) -> Decimal:
    """Once, at the end: one decimal place, half-even."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Period:
    """The period the figures cover: ``days`` days ending ``today`` (inclusive)."""

    today: date
    days: int

    @property
    def first_day(self) -> date:
        """The first day inside the period."""
        return self.today - timedelta(days=self.days - 1)

    def holds(self, day: date) -> bool:
        """Whether ``day`` is inside the period."""
        return self.first_day <= day <= self.today


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the figures are computed from, in one currency's minor units."""

    ending_ar: int
    ending_current_ar: int
    sales_by_day: Mapping[date, int]  # credit sales by issue date (at least 12 months back)
    beginning_ar: int | None  # the AR at the start of the period (the snapshot of that day)
    issued: int  # invoices issued in the period
    disputed: int  # of those, the ones disputed
    # The day the beginning AR was snapshot (the period's first day, or the nearest before it).
    beginning_on: date | None = None
    history_from: date | None = None  # the first day with credit sales: where the history starts


@dataclass
class Kpis:
    """The figures; None where ``missing`` says why not."""

    period: Period
    credit_sales: int
    dso_standard: Decimal | None = None
    dso_countback: Decimal | None = None
    best_possible_dso: Decimal | None = None
    average_days_delinquent: Decimal | None = None
    cei: Decimal | None = None
    overdue_ratio: Decimal | None = None
    dispute_rate: Decimal | None = None
    missing: dict[str, str] = field(default_factory=dict)
    # Figures computed, but on less than they say (a period longer than the history; the
    # beginning AR of another day than the period's first): what to know before quoting them.
    flags: dict[str, str] = field(default_factory=dict)

    FIGURES = (
        "dso_standard",
        "dso_countback",
        "best_possible_dso",
        "average_days_delinquent",
        "cei",
        "overdue_ratio",
        "dispute_rate",
    )

    def to_json(self) -> dict[str, Any]:
        """Decimal strings (null when missing), as the API shows them."""
        body: dict[str, Any] = {"period_days": self.period.days, "as_of": self.period.today.isoformat()}
        for name in self.FIGURES:
            value = getattr(self, name)
            body[name] = None if value is None else str(value)
        body["missing"] = dict(self.missing)
        body["flags"] = dict(self.flags)
        return body


def _months_back(today: date) -> list[tuple[date, date]]:
    """The current month to date, then whole calendar months, newest first (first, last day)."""
    months = [(today.replace(day=1), today)]
    for _ in range(COUNTBACK_MONTHS - 1):
        last = months[-1][0] - timedelta(days=1)
        months.append((last.replace(day=1), last))
    return months


def countback(ending_ar: int, sales_by_day: Mapping[date, int], today: date) -> Decimal | None:
    """DSO by the countback method; None when twelve months of sales do not cover the balance."""
    balance = Decimal(ending_ar)
    days = Decimal(0)
    for first, last in _months_back(today):
        length = (last - first).days + 1
        sales = sum(amount for day, amount in sales_by_day.items() if first <= day <= last)
        if balance <= 0:
            return days
        if sales and balance >= sales:
            balance -= sales
            days += length
        elif sales:
            return days + balance / Decimal(sales) * length
        else:
            days += length  # no sales that month: the balance is older still
    return None


def compute(inputs: Inputs, period: Period) -> Kpis:
    """Every figure of the period from ``inputs``."""
    sales = sum(amount for day, amount in inputs.sales_by_day.items() if period.holds(day))
    kpis = Kpis(period, sales)
    n = Decimal(period.days)
    ending, current = Decimal(inputs.ending_ar), Decimal(inputs.ending_current_ar)
    if sales > 0:
        dso = ending / sales * n
        best = current / sales * n
        kpis.dso_standard = rounded(dso)
        kpis.best_possible_dso = rounded(best)
        kpis.average_days_delinquent = rounded(dso - best)
    else:
        for name in ("dso_standard", "best_possible_dso", "average_days_delinquent"):
            kpis.missing[name] = "no credit sales in the period"
    back = countback(inputs.ending_ar, inputs.sales_by_day, period.today)
    if back is None:
        kpis.missing["dso_countback"] = f"{COUNTBACK_MONTHS} months of sales do not cover the balance"
    else:
        kpis.dso_countback = rounded(back)
    first = period.first_day
    if inputs.history_from is not None and inputs.history_from > first:
        covered = (period.today - inputs.history_from).days + 1
        kpis.flags["period"] = (
            f"the period starts on {first.isoformat()} but the history on "
            f"{inputs.history_from.isoformat()}: the figures cover {covered} of its {period.days} days"
        )
    if inputs.beginning_ar is None:
        kpis.missing["cei"] = f"no snapshot of the receivables in the week up to {first.isoformat()}"
    else:
        if inputs.beginning_on is not None and inputs.beginning_on != first:
            kpis.flags["cei"] = (
                f"the beginning AR is the snapshot of {inputs.beginning_on.isoformat()}, the nearest "
                f"before the period's first day ({first.isoformat()})"
            )
        collectable = Decimal(inputs.beginning_ar) + sales - current
        if collectable > 0:
            collected = Decimal(inputs.beginning_ar) + sales - ending
            kpis.cei = rounded(collected / collectable * 100)
        else:
            kpis.missing["cei"] = "nothing was collectable in the period"
    if inputs.ending_ar > 0:
        kpis.overdue_ratio = rounded((ending - current) / ending * 100)
    else:
        kpis.missing["overdue_ratio"] = "nothing is owed"
    if inputs.issued > 0:
        kpis.dispute_rate = rounded(Decimal(inputs.disputed) / inputs.issued * 100)
    else:
        kpis.missing["dispute_rate"] = "no invoice issued in the period"
    return kpis
