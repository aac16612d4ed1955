"""The credit check's rules over a table of customers and exposures, and the credit level."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from receivables.credit.limits import CreditPolicy, check, exposure, level_of
from receivables.kernel.money import Money
from receivables.ledger.model import Customer
from receivables.reporting import aggregates

if TYPE_CHECKING:
    from collections.abc import Callable

TODAY = date(2026, 11, 2)
POLICY = CreditPolicy()


def eur(units: int) -> Money:
    return Money(units * 100, "EUR")


def owing(open_: int, **by_due: int) -> Callable[[str, str], dict[str, int]]:
    """A running total: ``open_`` EUR owed, ``d_<date>=amount`` per due date (in EUR)."""
    return lambda customer_id, currency: {
        "open": open_ * 100,
        **{"d_" + k.removeprefix("d").replace("_", "-"): v * 100 for k, v in by_due.items()},
    }


def acme(**changes: object) -> Customer:
    base = Customer("cus_acme", "Acme", (), "ap@acme.example", credit_limit=eur(10_000))
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("customer", "owed", "order", "decision", "codes"),
    [
        (acme(), owing(1_000, d2026_12_01=1_000), 1_000, "approve", []),
        (acme(), owing(7_000, d2026_12_01=7_000), 1_000, "refer", ["limit_near"]),  # 80 %
        (acme(), owing(9_500, d2026_12_01=9_500), 1_000, "decline", ["limit"]),  # 105 %
        (acme(credit_hold=True), owing(0), 10, "decline", ["hold"]),
        (acme(credit_limit=None), owing(0), 10, "refer", ["no_limit"]),
        (acme(credit_limit=Money(100, "USD")), owing(0), 10, "refer", ["currency"]),
        (acme(), owing(2_000, d2026_09_01=2_000), 10, "refer", ["overdue"]),  # 62 days
        (acme(), owing(2_000, d2026_07_01=2_000), 10, "decline", ["overdue"]),  # 124 days
        (acme(risk="risky"), owing(0), 10, "refer", ["score"]),
        (acme(insured_amount=eur(5_000)), owing(4_500, d2026_12_01=4_500), 1_000, "refer", ["insurance"]),
        (
            acme(insured_amount=eur(5_000), insured_until=date(2026, 10, 31)),
            owing(4_500),
            1_000,
            "approve",
            [],
        ),
        (acme(open_orders=eur(6_000)), owing(2_000), 500, "refer", ["limit_near"]),  # orders count
        (acme(credit_hold=True, risk="risky"), owing(9_999), 10, "decline", ["hold", "limit", "score"]),
    ],
)
def test_the_worst_reason_decides(
    monkeypatch: pytest.MonkeyPatch,
    customer: Customer,
    owed: Callable[[str, str], dict[str, int]],
    order: int,
    decision: str,
    codes: list[str],
) -> None:
    monkeypatch.setattr(aggregates, "customer_total", owed)

    decided = check(customer, eur(order), TODAY, POLICY)

    assert (decided.decision, [c for c, _, _ in decided.reasons]) == (decision, codes)


def test_orders_are_left_out_when_the_policy_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregates, "customer_total", owing(2_000))
    customer = acme(open_orders=eur(6_000))

    counted = exposure(customer, "EUR", TODAY, POLICY)
    left_out = exposure(customer, "EUR", TODAY, CreditPolicy(include_orders=False))

    assert (counted.total, left_out.total) == (eur(8_000), eur(2_000))
    assert counted.to_json()["available"] == "2000.00" and counted.to_json()["utilisation_percent"] == "80.0"


@pytest.mark.parametrize(
    ("owed", "level"), [(0, 0), (7_999, 0), (8_000, 80), (9_999, 80), (10_000, 100), (50_000, 100)]
)
def test_the_level_is_the_highest_threshold_reached(
    monkeypatch: pytest.MonkeyPatch, owed: int, level: int
) -> None:
    monkeypatch.setattr(aggregates, "customer_total", owing(owed))

    assert level_of(exposure(acme(), "EUR", TODAY, POLICY), POLICY) == level


def test_a_policy_is_read_with_every_bad_field_named() -> None:
    from receivables.credit.limits import policy_from_json
    from receivables.kernel.errors import InvalidRequestError

    good = policy_from_json({"thresholds": [100, 75], "hold_at": None, "refer_overdue_days": 15})
    assert (good.thresholds, good.hold_at, good.refer_overdue_days) == ((75, 100), None, 15)
    with pytest.raises(InvalidRequestError) as bad:
        policy_from_json(
            {
                "thresholds": [0],
                "hold_at": 90,
                "include_orders": "yes",
                "decline_overdue_days": 5,
                "colour": 1,
            }
        )
    assert {e.field for e in bad.value.errors} == {
        "thresholds",
        "hold_at",
        "include_orders",
        "decline_overdue_days",
        "colour",
    }
