"""The aging buckets and the KPI formulas of the glossary, on worked examples and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from receivables.reporting.aging import BUCKET_NAMES, DueBalance, age, bucket_of
from receivables.reporting.kpis import Inputs, Period, compute, countback

TODAY = date(2026, 11, 23)


def test_bucket_edges() -> None:
    assert [bucket_of(d) for d in (-3, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
        "90+",
    ]


@given(st.lists(st.tuples(st.integers(-200, 200), st.integers(0, 10**9)), max_size=30))
def test_the_buckets_add_up_to_the_total(rows: list[tuple[int, int]]) -> None:
    aging = age("EUR", [DueBalance(TODAY - timedelta(days=late), amount, 1) for late, amount in rows], TODAY)
    assert aging.total == sum(amount for _, amount in rows)
    assert aging.overdue == sum(amount for late, amount in rows if late > 0)
    assert set(aging.buckets) == set(BUCKET_NAMES)


def inputs(**changes: object) -> Inputs:
    base: dict[str, object] = {
        "ending_ar": 120_000,
        "ending_current_ar": 40_000,
        "sales_by_day": {TODAY - timedelta(days=d): 3_000 for d in range(0, 365)},
        "beginning_ar": 100_000,
        "issued": 50,
        "disputed": 2,
    }
    base.update(changes)
    return Inputs(**base)  # type: ignore[arg-type]


def test_the_glossary_formulas_on_a_worked_example() -> None:
    figures = compute(inputs(), Period(TODAY, 30))
    assert figures.credit_sales == 90_000
    assert figures.dso_standard == Decimal("40.0")  # 120,000 / 90,000 x 30
    assert figures.best_possible_dso == Decimal("13.3")  # 40,000 / 90,000 x 30
    assert figures.average_days_delinquent == Decimal("26.7")
    # (100,000 + 90,000 - 120,000) / (100,000 + 90,000 - 40,000) = 70 / 150
    assert figures.cei == Decimal("46.7")
    assert figures.overdue_ratio == Decimal("66.7")
    assert figures.dispute_rate == Decimal("4.0")
    assert figures.missing == {}


def test_countback_walks_whole_months_back() -> None:
    sales = {date(2026, 11, 10): 30_000, date(2026, 10, 5): 50_000, date(2026, 9, 1): 40_000}
    # Nov to date covers 30,000 (23 days), Oct 50,000 (31 days), 20,000 left of Sep's 40,000.
    assert countback(100_000, sales, TODAY) == Decimal(23 + 31) + Decimal(20_000) / 40_000 * 30
    assert countback(0, sales, TODAY) == 0
    assert countback(10**9, sales, TODAY) is None, "twelve months of sales do not cover it"


def test_what_cannot_be_computed_says_why() -> None:
    figures = compute(inputs(sales_by_day={}, beginning_ar=None, issued=0, ending_ar=0), Period(TODAY, 30))
    assert figures.dso_standard is None and figures.cei is None and figures.dispute_rate is None
    assert figures.missing["dso_standard"] == "no credit sales in the period"
    assert "snapshot" in figures.missing["cei"]
    assert figures.to_json()["dso_standard"] is None


def test_a_period_longer_than_the_history_and_an_earlier_snapshot_are_flagged() -> None:
    period = Period(TODAY, 365)
    short = compute(
        inputs(history_from=date(2026, 6, 1), beginning_on=period.first_day - timedelta(days=3)), period
    )
    assert short.dso_standard is not None  # computed, but flagged
    assert short.flags["period"] == (
        f"the period starts on {period.first_day} but the history on 2026-06-01: the figures cover "
        f"{(TODAY - date(2026, 6, 1)).days + 1} of its 365 days"
    )
    assert "nearest before the period's first day" in short.flags["cei"]
    assert short.to_json()["flags"] == short.flags

    whole = compute(inputs(history_from=period.first_day, beginning_on=period.first_day), period)
    assert whole.flags == {}
