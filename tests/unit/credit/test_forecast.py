"""The payment-date forecast: a customer's lateness distribution from what they paid, an open
invoice dated given it is still unpaid, disputes, promises and payment runs, the run-rate of
invoices not issued yet, the weekly buckets, and a small back-test that must beat the baselines
without learning from after its cut-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from receivables.credit.forecast import (
    BASIC,
    Behaviour,
    OpenItem,
    Population,
    Refinements,
    Sale,
    Settled,
    behaviour,
    population,
    predict,
    run_rate,
    weekly_collections,
)
from receivables.kernel.money import Money
from tests.forecast_history import backtest, cutoff_view, mondays, simulate

TODAY = date(2026, 11, 2)  # a Monday
EVERYONE = Population(centre=5.0, excess=(-3.0, -1.0, 0.0, 1.0, 3.0, 10.0, 30.0), payments=500)


def paid(due: date, late: int, amount: int = 10_000, **extra: object) -> Settled:
    return Settled(due, due + timedelta(days=late), amount, due - timedelta(days=30), **extra)  # type: ignore[arg-type]


def item(due: date, **extra: object) -> OpenItem:
    return OpenItem("cus_a", due - timedelta(days=30), due, 10_000, "EUR", **extra)  # type: ignore[arg-type]


def steady(late: int, count: int = 10) -> list[Settled]:
    """Paid ``late`` days after the due date, every three weeks, Monday to Friday in turn."""
    days = [date(2026, 1, 5) + timedelta(weeks=3 * n, days=n % 5) for n in range(count)]
    return [Settled(d - timedelta(days=late), d, 10_000, d - timedelta(days=late + 30)) for d in days]


def minor(amount: str) -> int:
    return Money.parse(amount, "EUR").minor


def test_the_median_ignores_the_invoice_lost_in_their_ap() -> None:
    history = [*steady(12)[:-1], paid(date(2026, 6, 1), 120)]

    seen = behaviour(history, TODAY)

    assert seen.centre == 12 and seen.mean is not None and seen.mean > 20
    median_day = predict(item(date(2026, 12, 1)), seen, EVERYONE, TODAY).day
    mean_day = predict(item(date(2026, 12, 1)), seen, EVERYONE, TODAY, replace(BASIC, median=False)).day
    assert date(2026, 12, 13) <= median_day <= date(2026, 12, 15) and mean_day == date(2026, 12, 24)


def test_an_overdue_invoice_is_dated_from_the_payments_that_came_that_late_never_in_the_past() -> None:
    seen = behaviour(steady(3), TODAY)
    overdue = item(TODAY - timedelta(days=20))  # 20 days late already: the customer's usual 3 is past

    predicted = predict(overdue, seen, EVERYONE, TODAY)
    plain = predict(overdue, seen, EVERYONE, TODAY, replace(Refinements(), conditional=False))

    assert predicted.day > TODAY and plain.day == TODAY  # from the tail (3 + 30), not "today"
    assert predicted.low <= predicted.day <= predicted.high and predicted.low >= TODAY


def test_a_disputed_invoice_waits_and_a_promise_dates_it() -> None:
    seen = behaviour(steady(0), TODAY)
    everyone = replace(EVERYONE, dispute_delay=15.0, promise_slip=2.0)
    due = date(2026, 11, 20)

    usual = predict(item(due), seen, everyone, TODAY).day
    disputed = predict(item(due, disputed=True), seen, everyone, TODAY).day
    promised = predict(item(due, promised=date(2026, 12, 9)), seen, everyone, TODAY).day

    assert (disputed - usual).days >= 13
    assert promised == date(2026, 12, 11)  # the promise and everyone's slip of 2 days


def test_a_customer_who_pays_on_thursdays_is_dated_on_a_thursday_and_nobody_at_the_weekend() -> None:
    thursdays = [
        Settled(d - timedelta(days=5), d, 10_000, d - timedelta(days=35))
        for d in (date(2026, 3, 5) + timedelta(days=14 * n) for n in range(8))
    ]
    payer = behaviour(thursdays, TODAY)
    anyday = behaviour(steady(5), TODAY)

    assert payer.habit == "weekday:3"
    assert predict(item(date(2026, 12, 1)), payer, EVERYONE, TODAY).day.weekday() == 3
    saturday = date(2026, 12, 5)
    assert predict(item(saturday - timedelta(days=5)), anyday, EVERYONE, TODAY).day.weekday() < 5


def test_a_new_customer_is_everyone_and_nothing_is_dated_before_it_was_issued() -> None:
    newcomer = predict(item(date(2026, 12, 1)), Behaviour(), EVERYONE, TODAY, BASIC)
    early = behaviour(steady(-60), TODAY)

    assert newcomer.day == date(2026, 12, 6)
    fresh = OpenItem("cus_a", date(2026, 11, 20), date(2026, 12, 20), 10_000, "EUR")
    assert predict(fresh, early, EVERYONE, TODAY).day >= date(2026, 11, 20)


def test_what_was_paid_after_as_of_is_not_learnt() -> None:
    history = [*steady(5), paid(TODAY - timedelta(days=3), 80)]  # paid on TODAY + 77

    assert behaviour(history, TODAY) == behaviour(steady(5), TODAY)
    assert population({"a": history}, {"a": behaviour(history, TODAY)}, TODAY).payments == 10


def test_the_run_rate_spreads_a_years_sales_over_the_days_to_come_paid_after_terms_and_lateness() -> None:
    monthly = [
        Sale(
            "cus_a",
            date(2026, 5, 4) + timedelta(days=30 * n),
            date(2026, 6, 3) + timedelta(days=30 * n),
            30_000,
            "EUR",
        )
        for n in range(6)
    ]
    long_ago = [Sale("cus_b", date(2025, 9, 1), date(2025, 10, 1), 50_000, "EUR")]
    behaviours = {"cus_a": behaviour(steady(0), TODAY)}

    future = run_rate([*monthly, *long_ago], behaviours, EVERYONE, TODAY, weeks=13)["EUR"]

    assert all(week == 0 for week in future[:4])  # 30-day terms: nothing issued today is paid before
    assert future[5:] == [Fraction(7 * 180_000, 364)] * 8  # 180,000 over the last 364 days
    assert run_rate(long_ago, {}, EVERYONE, TODAY) == {}  # nothing issued within the year


def test_weekly_collections_start_today_keep_every_cent_and_show_the_future_apart() -> None:
    wednesday = TODAY + timedelta(days=2)
    open_items = [
        OpenItem("cus_a", date(2026, 10, 13), date(2026, 11, 12), 30_000, "EUR"),
        OpenItem("cus_b", date(2026, 9, 1), date(2026, 10, 1), 5_000, "EUR"),  # overdue
        OpenItem("cus_a", date(2027, 5, 2), date(2027, 6, 1), 1_000, "EUR"),
    ]
    behaviours = {"cus_a": behaviour(steady(0), wednesday), "cus_b": behaviour(steady(3), wednesday)}
    future = {"EUR": [Fraction(0)] * 5 + [Fraction(1401, 2)]}

    forecast = weekly_collections(open_items, behaviours, EVERYONE, wednesday, 6, future)

    eur = forecast["currencies"]["EUR"]
    assert [w["week_of"] for w in eur["weeks"]][:3] == ["2026-11-04", "2026-11-09", "2026-11-16"]
    expected = [minor(w["expected"]) for w in eur["weeks"]]
    assert sum(expected) + minor(eur["later"]) == 36_000  # nothing lost, nothing made up
    assert expected[0] == 5_000  # overdue, dated from this week on, never in one already over
    assert sum(minor(w["from_overdue"]) for w in eur["weeks"]) == 5_000
    assert eur["weeks"][5]["from_future_invoices"] == "7.00" and eur["future_invoices"] == "7.00"
    assert eur["later"] == "10.00" and eur["invoices"] == 3


def test_the_back_test_learns_nothing_from_after_its_cut_off() -> None:
    invoices = simulate(30, 24, seed=3)
    cutoff = mondays(24, 16, 4)[0]
    view = cutoff_view(invoices, cutoff)
    later = [replace(i, paid=i.paid + timedelta(days=40)) if i.paid >= cutoff else i for i in invoices]
    moved = cutoff_view(later, cutoff)

    assert {i.number for i in view.paid}.isdisjoint(i.number for i in view.open)
    assert all(i.paid < cutoff for i in view.paid) and all(i.issued < cutoff <= i.paid for i in view.open)
    assert view.paid == moved.paid and [i.number for i in view.open] == [i.number for i in moved.open]


def test_a_small_back_test_beats_the_baselines_by_the_target() -> None:
    result = backtest(100, cutoffs=mondays(24, 16, 4), seed=5)

    assert result.invoices_scored > 300
    best = min(result.customer_mean_baseline_mae_days, result.last5_baseline_mae_days)
    assert result.forecast_mae_days < 0.85 * best < result.due_date_baseline_mae_days
    assert result.forecast_cash_error_pct < result.customer_mean_baseline_cash_error_pct
    assert 70 < result.forecast_interval_coverage_pct < 92
