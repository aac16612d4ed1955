"""The one source of time: nothing else in the domain reads the system clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current instant (always timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock stopped at one instant, moved only by `advance_to`; for tests and replays."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._instant = instant

    def now(self) -> datetime:
        return self._instant

    def advance_to(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (never backwards)."""
        if instant < self._instant:
            raise ValueError("a clock does not go backwards")
        self._instant = instant


def today(clock: Clock) -> date:
    """The current UTC date according to ``clock``."""
    return clock.now().date()


def iso_timestamp(instant: datetime) -> str:
    """Millisecond ISO 8601 in UTC with a ``Z``: sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
