"""The risk classes back-tested on the generated history of `tests.forecast_history`.

1,000 customers (``BENCH_RISK_CUSTOMERS``); at three cut-offs (months 12, 16 and 20) every customer
with an invoice by then is scored from what was known then (`tests.risk_history`), and compared
with how they paid the invoices due in the next 182 days (customers with three or more).

Printed: ``risk_spearman`` (the score against the later late rate, by rank),
``risk_high_late_share``, ``risk_medium_late_share`` and ``risk_low_late_share`` (the later
invoices of the customers classed so, the share paid after their due date), how many customers
were in each class, and the thresholds `class_thresholds` finds on these scores (the constants
in `receivables.credit.risk.CLASSES` came from them); the same on a portfolio with fewer late
payers (``fewer_late_*``). Target: ``risk_high_late_share`` at least twice
``risk_low_late_share``, on both.
"""

from __future__ import annotations

import os

from receivables.credit.risk import class_thresholds
from tests.benchmarks.conftest import report
from tests.forecast_history import SimulatedInvoice, mondays, simulate
from tests.risk_history import risk_backtest, score_at

CUSTOMERS = int(os.environ.get("BENCH_RISK_CUSTOMERS", "1000"))


def test_the_high_class_pays_late_at_least_twice_as_often_as_the_low() -> None:
    result = risk_backtest(CUSTOMERS)

    for name, value in result.figures().items():
        report(name, value)
    assert result.risk_high_late_share >= 2 * result.risk_low_late_share


def test_on_a_portfolio_with_fewer_late_payers_too() -> None:
    # The thresholds stay where the late portfolio put them: fewer of these customers are high.
    result = risk_backtest(CUSTOMERS, portfolio="fewer_late")

    for name, value in result.figures().items():
        report(f"fewer_late_{name}", value)
    assert result.risk_high_late_share >= 2 * result.risk_low_late_share


def test_the_class_thresholds_are_where_the_portfolio_puts_them() -> None:
    by_customer: dict[str, list[SimulatedInvoice]] = {}
    for invoice in simulate(CUSTOMERS):
        by_customer.setdefault(invoice.customer, []).append(invoice)
    scores = [
        score_at(invoices, cutoff).score
        for cutoff in mondays(20, 12, 4)
        for invoices in by_customer.values()
        if any(i.issued < cutoff for i in invoices)
    ]
    low, high = class_thresholds(scores)

    report("risk_low_below", low)
    report("risk_high_from", high)
    assert abs(low - 25) <= 5 and abs(high - 55) <= 5
