"""The payment-date forecast: a customer's behaviour from what they paid, the shrinkage towards
everyone for a thin history, the weekly buckets, and a small back-test that drifts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from receivables.credit.forecast import Behaviour, Settled, behaviour, population, predict, weekly_collections
from receivables.kernel.money import Money
from tests.forecast_history import backtest
from tests.unit.ledger.test_ledger import make_invoice

TODAY = date(2026, 11, 2)  # a Monday


def paid(due: date, late: int, amount: int = 10_000) -> Settled:
    return Settled(due, due + timedelta(days=late), amount)


def test_a_steady_customer_is_expected_as_late_as_they_always_are() -> None:
    history = [paid(date(2026, 1, 1) + timedelta(days=30 * n), 12) for n in range(8)]

    seen = behaviour(history, TODAY)

    assert round(seen.days_late) == 12 and seen.slope == pytest.approx(0, abs=1e-9)
    assert predict(date(2026, 12, 1), date(2026, 11, 1), seen, Behaviour(0.0, 0.0)) == date(2026, 12, 13)


def test_a_drifting_customer_is_expected_where_they_are_heading() -> None:
    # Two days later every month: 0, 2, 4 ... 14 days late.
    history = [paid(date(2026, 1, 1) + timedelta(days=30 * n), 2 * n) for n in range(8)]

    seen = behaviour(history, TODAY)
    predicted = predict(date(2026, 12, 1), date(2026, 11, 1), seen, Behaviour(0.0, 0.0))

    assert seen.slope == pytest.approx(2 / 30, rel=0.05)
    assert date(2026, 12, 15) < predicted < date(2026, 12, 25)  # past the last (14), damped


def test_recent_payments_weigh_more_than_old_ones() -> None:
    old = [paid(date(2025, 1, 1) + timedelta(days=10 * n), 40) for n in range(3)]
    recent = [paid(date(2026, 10, 1), 2)]

    assert behaviour(old + recent, TODAY).days_late < 20


def test_a_thin_history_leans_on_everyone_and_a_new_customer_is_everyone() -> None:
    everyone = Behaviour(20.0, 500.0)
    thin = behaviour([paid(date(2026, 10, 1), 0)], TODAY)

    leaning = predict(date(2026, 12, 1), date(2026, 11, 1), thin, everyone)
    newcomer = predict(date(2026, 12, 1), date(2026, 11, 1), Behaviour(0.0, 0.0), everyone)

    assert date(2026, 12, 1) < leaning < date(2026, 12, 21) and newcomer == date(2026, 12, 21)
    assert population([thin, Behaviour(30.0, 2.0), Behaviour(0.0, 0.0)]).days_late > 0


def test_never_before_it_was_issued_nor_in_the_past() -> None:
    early = Behaviour(-60.0, 10.0)

    assert predict(date(2026, 12, 1), date(2026, 11, 20), early, early) == date(2026, 11, 20)
    assert predict(date(2026, 9, 1), date(2026, 8, 1), Behaviour(5.0, 5.0), early, TODAY) == TODAY


def test_weekly_collections_put_each_invoice_in_its_week_the_overdue_part_apart() -> None:
    prompt = make_invoice(
        payable=30_000, invoice_id="inv_a", customer_id="cus_a", due_date=date(2026, 11, 12)
    )
    late = make_invoice(payable=5_000, invoice_id="inv_b", customer_id="cus_b", due_date=date(2026, 10, 1))
    far = make_invoice(payable=1_000, invoice_id="inv_c", customer_id="cus_a", due_date=date(2027, 6, 1))
    behaviours = {"cus_a": Behaviour(0.0, 50.0), "cus_b": Behaviour(3.0, 50.0)}

    forecast = weekly_collections([prompt, late, far], behaviours, TODAY, weeks=4)

    eur = forecast["currencies"]["EUR"]
    assert [w["week_of"] for w in eur["weeks"]] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    assert [(w["expected"], w["from_overdue"]) for w in eur["weeks"]] == [
        ("50.00", "50.00"),  # overdue beyond its prediction: expected this week
        ("300.00", "0.00"),
        ("0.00", "0.00"),
        ("0.00", "0.00"),
    ]
    assert eur["later"] == "10.00" and eur["invoices"] == 3
    total = (
        sum(Money.parse(w["expected"], "EUR").minor for w in eur["weeks"])
        + Money.parse(eur["later"], "EUR").minor
    )
    assert total == 36_000  # nothing lost, nothing made up


def test_a_small_back_test_beats_the_due_date_by_the_target() -> None:
    scored, model, baseline = backtest(300)

    assert scored > 1000 and model / baseline <= 0.6
