"""EventBridge schedule expressions, ``rate(...)`` and ``cron(...)``, evaluated on any clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


class ScheduleError(ValueError):
    """A schedule expression the local runtime cannot read."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows; None for any (``*`` or ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = (names or {}).get(a, None) or int(a), (names or {}).get(b, None) or int(b)
        else:
            start = end = (names or {}).get(part.upper(), None) or int(part)
            if step != 1:  # "5/15": from 5, every 15, to the end of the range
                end = high
        values.update(range(start, end + 1, step))
    if not values or min(values) < low or max(values) > high:
        raise ScheduleError(f"cron field {text!r} is outside {low}-{high}")
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: a fixed period, or cron fields (minutes, hours, day of month, month,
    day of week with Sunday = 1, as EventBridge writes them). Times are UTC."""

    period: timedelta | None = None
    minutes: frozenset[int] | None = None
    hours: frozenset[int] | None = None
    days: frozenset[int] | None = None
    months: frozenset[int] | None = None
    weekdays: frozenset[int] | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """Read ``rate(1 day)`` or ``cron(0 6 * * ? *)``."""
        expression = expression.strip()
        if match := _RATE.match(expression):
            unit = match[2].removesuffix("s")
            return cls(period=timedelta(seconds=int(match[1]) * _UNITS[unit]))
        if expression.startswith("cron(") and expression.endswith(")"):
            fields = expression[5:-1].split()
            if len(fields) != 6:
                raise ScheduleError(f"{expression}: a cron expression has six fields")
            minutes, hours, days, months, weekdays, _year = fields
            return cls(
                minutes=_field(minutes, 0, 59),
                hours=_field(hours, 0, 23),
                days=_field(days, 1, 31),
                months=_field(months.upper(), 1, 12, _MONTHS),
                weekdays=_field(weekdays.upper(), 1, 7, _DAYS),
            )
        raise ScheduleError(f"{expression!r} is not a rate() or cron() expression")

    def next_after(self, instant: datetime) -> datetime:
        """The first firing strictly after ``instant``."""
        if self.period is not None:
            return instant + self.period
        candidate = instant.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if self.months is not None and candidate.month not in self.months:
                candidate = (candidate.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            weekday = candidate.isoweekday() % 7 + 1  # Sunday = 1
            if (self.days is not None and candidate.day not in self.days) or (
                self.weekdays is not None and weekday not in self.weekdays
            ):
                candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if self.hours is not None and candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0) + timedelta(hours=1)
                continue
            if self.minutes is not None and candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
                continue
            return candidate
        raise ScheduleError("the schedule never fires")
