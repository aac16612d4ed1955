"""The payment-date forecast, back-tested on a simulated history that drifts.

2,000 customers (``BENCH_FORECAST_CUSTOMERS``) over 18 months (`tests.forecast_history`): the
model learns from what was paid by the end of month 12, then predicts the payment date of every
invoice due in the last six months, without seeing anything after the cutoff. Scored as the mean
absolute error in days, against predicting every invoice paid on its due date.

Printed: ``forecast_invoices_scored``, ``forecast_mae_days``, ``due_date_baseline_mae_days`` and
``forecast_mae_ratio`` (target: at most 0.6).
"""

from __future__ import annotations

import os

from tests.benchmarks.conftest import report
from tests.forecast_history import backtest

CUSTOMERS = int(os.environ.get("BENCH_FORECAST_CUSTOMERS", "2000"))


def test_the_forecast_beats_the_due_date() -> None:
    scored, model, baseline = backtest(CUSTOMERS)

    report("forecast_invoices_scored", scored)
    report("forecast_mae_days", model)
    report("due_date_baseline_mae_days", baseline)
    report("forecast_mae_ratio", model / baseline)
    assert model / baseline <= 0.6
