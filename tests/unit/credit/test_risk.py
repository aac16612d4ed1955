"""The risk score's factors over a table of histories: each factor's points, the class, the
dunning variant it sets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from receivables.credit.risk import CLASSES, Rating, Score, class_thresholds, score
from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, InvoiceStatus, Payment
from tests.risk_history import risk_backtest
from tests.unit.ledger.test_ledger import make_invoice

TODAY = date(2026, 11, 2)


def history(
    days_late: list[int], *, age: int = 30, open_overdue: int = 0
) -> tuple[list[Invoice], list[Payment]]:
    """Invoices of 100.00 EUR on 30-day terms due ``age`` days ago (plus ten days for each
    earlier one), each paid ``days_late`` after its due date; and ``open_overdue`` unpaid ones
    past due."""
    invoices, payments = [], []
    for n, late in enumerate(days_late):
        due = TODAY - timedelta(days=age + 10 * n + late)
        invoice = make_invoice(
            10000, invoice_id=f"inv_{n}", number=f"I-{n}", issue_date=due - timedelta(days=30), due_date=due
        )
        invoices.append(
            replace(invoice, status=InvoiceStatus.PAID, balance=Money(0, "EUR"), paid=Money(10000, "EUR"))
        )
        received = (due + timedelta(days=late)).isoformat() + "T10:00:00.000Z"
        payments.append(
            Payment(
                f"pay_{n}",
                "cus_a",
                Money(10000, "EUR"),
                received,
                "bank_transfer",
                None,
                Money(0, "EUR"),
                Money(0, "EUR"),
                ((f"inv_{n}", Money(10000, "EUR")),),
            )
        )
    for n in range(open_overdue):
        invoices.append(
            make_invoice(10000, invoice_id=f"open_{n}", number=f"O-{n}", due_date=TODAY - timedelta(days=5))
        )
    return invoices, payments


def points(result: Score, name: str) -> Decimal:
    return next(f.points for f in result.factors if f.name == name)


@pytest.mark.parametrize(
    ("late", "extra", "expected_class", "variant"),
    [
        ([0, 0, 0, 0], {}, "low", "reliable"),  # always on time, enough history
        ([0, 0], {}, "low", "standard"),  # on time, but too little history to be trusted
        ([20, 25, 30, 20], {}, "medium", "standard"),
        ([60, 75, 90, 60], {"counts": {"broken_promises": 3, "failed_debits": 2}}, "high", "risky"),
        ([0, 0, 0, 0], {"rating": Rating(5, "Creditreform", TODAY)}, "low", "reliable"),
        (
            [0, 0, 0, 0],
            {"utilisation": Decimal(120), "counts": {"chargebacks": 4, "failed_debits": 2}},
            "medium",
            "standard",
        ),
    ],
)
def test_histories_score_into_their_class(
    late: list[int], extra: dict[str, Any], expected_class: str, variant: str
) -> None:
    invoices, payments = history(late)
    result = score(invoices, payments, TODAY, **extra)
    assert result.risk_class == expected_class
    assert result.variant == variant
    summed = sum((f.points for f in result.factors), Decimal(0))
    assert result.score == min(int(summed.quantize(Decimal(1))), 100)


def test_each_factor_says_what_it_saw_and_what_it_adds() -> None:
    invoices, payments = history([30, 30, 0, 0], open_overdue=1)
    result = score(
        invoices,
        payments,
        TODAY,
        counts={"broken_promises": 1, "promises_kept": 2, "failed_debits": 1, "disputes": 1},
        utilisation=Decimal("75.0"),
        rating=Rating(60, "Dun & Bradstreet", date(2026, 10, 1)),
    )
    shown = {f["factor"]: f for f in result.to_json()["factors"]}
    assert shown["late_share"]["value"] == "2 of 4 paid invoices" and shown["late_share"]["points"] == "12.5"
    assert (
        shown["broken_promises"]["value"] == "1 broken, 2 kept"
        and shown["broken_promises"]["points"] == "3.3"
    )
    assert shown["failed_debits"]["points"] == "2.5"
    assert shown["utilisation"]["value"] == "75.0 % of the limit" and shown["utilisation"]["points"] == "5.0"
    assert (
        shown["external_rating"]["points"] == "6.0"
        and "Dun & Bradstreet" in shown["external_rating"]["value"]
    )
    assert shown["overdue_share"]["points"] == "10.0"
    assert shown["disputes_chargebacks"]["value"] == "1 disputes on 5 invoices, 0 chargebacks"
    # Largest first, each with its most and why.
    listed = [Decimal(f["points"]) for f in result.to_json()["factors"]]
    assert listed == sorted(listed, reverse=True)
    assert all(f["why"] and f["of"] > 0 for f in result.to_json()["factors"])


def test_recent_payments_weigh_more_and_a_worsening_trend_adds_points() -> None:
    # The same lateness, recent or a year ago: only the recent one is worth the full points.
    recent = score(*history([40, 40, 40]), TODAY)
    old = score(*history([40, 40, 40], age=300), TODAY)
    assert points(recent, "days_beyond_terms") == points(old, "days_beyond_terms")  # average of equals
    mixed_invoices, mixed_payments = history([45, 0, 0, 0])  # late lately, on time before
    worsening = score(mixed_invoices, mixed_payments, TODAY)
    assert points(worsening, "trend") == 0  # the earlier ones are within 90 days too
    late_invoices, late_payments = history([45], age=10)
    early_invoices, early_payments = history([0, 0], age=200)
    renumbered = [replace(i, invoice_id="x" + i.invoice_id) for i in early_invoices]
    moved = [
        replace(
            p, payment_id="x" + p.payment_id, allocations=(("x" + p.allocations[0][0], p.allocations[0][1]),)
        )
        for p in early_payments
    ]
    trend = score([*late_invoices, *renumbered], [*late_payments, *moved], TODAY)
    assert points(trend, "trend") == Decimal("10.0")
    assert points(trend, "days_beyond_terms") > Decimal(15)  # the recent 45 days outweigh the old zeros


def test_a_new_customer_scores_nothing_and_keeps_the_standard_variant() -> None:
    result = score([], [], TODAY)
    assert (result.score, result.risk_class, result.variant, result.invoices) == (0, "low", "standard", 0)
    assert {f.value for f in result.factors} >= {"no payments yet", "none imported", "no credit limit"}


def test_lateness_counts_in_multiples_of_the_customers_terms() -> None:
    def on_terms(terms: int) -> Score:
        invoices, payments = history([15, 15, 15, 15])
        moved = [replace(i, issue_date=i.due_date - timedelta(days=terms)) for i in invoices]
        return score(moved, payments, TODAY)

    assert points(on_terms(15), "days_beyond_terms") == Decimal(30)  # a whole term late
    assert points(on_terms(30), "days_beyond_terms") == Decimal(15)
    assert points(on_terms(60), "days_beyond_terms") == Decimal("7.5")
    assert "0.50 x the 30-day terms" in next(
        f.value for f in on_terms(30).factors if f.name == "days_beyond_terms"
    )


def test_a_customer_who_pays_every_invoice_late_is_never_low_risk() -> None:
    # The issue's case: ten days late every time on 30-day terms was "low", dunned as reliable.
    result = score(*history([10, 10, 10, 10, 10, 10]), TODAY)

    assert result.risk_class != "low" and result.variant != "reliable"


def test_the_class_thresholds_split_the_portfolio_into_the_target_shares() -> None:
    assert class_thresholds(range(100)) == (40, 75)
    assert class_thresholds([]) == (CLASSES[0][1], CLASSES[1][1])
    assert class_thresholds([5] * 10) == (5, 6)  # one score for everyone: still two thresholds


def test_a_small_back_test_classes_high_those_who_pay_late_twice_as_often_as_the_low() -> None:
    result = risk_backtest(100)

    assert result.customers_scored > 200 and result.risk_spearman > 0.5
    assert result.risk_high_late_share >= 2 * result.risk_low_late_share
    assert min(result.risk_high_customers, result.risk_medium_customers, result.risk_low_customers) > 20
    assert result.risk_chronic_late_classed_low <= 0.05 * result.risk_chronic_late_customers


def test_the_credit_policy_sets_the_class_thresholds() -> None:
    from receivables.credit.limits import CreditPolicy, policy_from_json
    from receivables.kernel.errors import InvalidRequestError

    invoices, payments = history([10, 10, 10, 10, 10, 10])  # 35 points: medium by default
    assert score(invoices, payments, TODAY).risk_class == "medium"
    assert score(invoices, payments, TODAY, classes=(40, 70)).risk_class == "low"
    assert score(invoices, payments, TODAY, classes=(10, 30)).risk_class == "high"
    assert CreditPolicy().risk_classes == (CLASSES[0][1], CLASSES[1][1])
    assert policy_from_json({"risk_classes": [30, 60]}).risk_classes == (30, 60)
    for bad in ([60, 30], [0, 50], [25], [25, True], "25,55"):
        with pytest.raises(InvalidRequestError) as refused:
            policy_from_json({"risk_classes": bad})
        assert [e.field for e in refused.value.errors] == ["risk_classes"]
