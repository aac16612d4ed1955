"""EventBridge schedule expressions as the local runtime fires them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from receivables_local.schedule import Schedule, ScheduleError

T0 = datetime(2026, 11, 23, 6, 30, 15, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 day)", timedelta(days=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(2 hours)", timedelta(hours=2)),
    ],
)
def test_rates_fire_every_period(expression: str, period: timedelta) -> None:
    assert Schedule.parse(expression).next_after(T0) == T0 + period


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 6 * * ? *)", datetime(2026, 11, 24, 6, 0, tzinfo=UTC)),
        ("cron(45 6 * * ? *)", datetime(2026, 11, 23, 6, 45, tzinfo=UTC)),
        ("cron(0/15 * * * ? *)", datetime(2026, 11, 23, 6, 45, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("cron(0 9 ? * SAT *)", datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
        ("cron(0 0 1 * ? *)", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        ("cron(0 0 1 JAN ? *)", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_cron_fires_at_the_next_matching_minute(expression: str, expected: datetime) -> None:
    assert Schedule.parse(expression).next_after(T0) == expected


@pytest.mark.parametrize(
    "expression", ["every day", "cron(0 6 * *)", "rate(1 fortnight)", "cron(99 * * * ? *)"]
)
def test_unreadable_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        Schedule.parse(expression)
