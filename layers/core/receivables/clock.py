"""The one source of time: nothing else in the domain reads the system clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping


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


class ScaledClock:
    """Time that runs ``scale`` times faster than the wall clock from ``origin`` on.

    The local runtime's accelerated time: with ``scale=86400`` one simulated day passes per real
    second, so due dates, schedules and waits play out in seconds. Never used on AWS.
    """

    def __init__(
        self, origin: datetime, scale: float, wall: Clock | None = None, wall_origin: datetime | None = None
    ) -> None:
        if origin.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware origin")
        if scale <= 0:
            raise ValueError("the time scale must be positive")
        self._wall = wall or SystemClock()
        self._origin = origin
        self._wall_origin = wall_origin or self._wall.now()
        self.scale = scale

    def now(self) -> datetime:
        return self._origin + (self._wall.now() - self._wall_origin) * self.scale


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """The system clock, unless the local runtime asked for accelerated time.

    ``RECEIVABLES_TIME_SCALE`` (a factor) and ``RECEIVABLES_TIME_ORIGIN`` (the ISO instant the
    simulated time started from, at the real instant ``RECEIVABLES_TIME_ORIGIN_WALL``) are set only
    by the local runtime; on AWS they are absent and production reads the real clock.
    """
    scale = env.get("RECEIVABLES_TIME_SCALE")
    if not scale or float(scale) == 1.0:
        return SystemClock()
    origin = datetime.fromisoformat(env["RECEIVABLES_TIME_ORIGIN"])
    wall_origin = datetime.fromisoformat(
        env.get("RECEIVABLES_TIME_ORIGIN_WALL", env["RECEIVABLES_TIME_ORIGIN"])
    )
    return ScaledClock(origin, float(scale), wall_origin=wall_origin)


def today(clock: Clock) -> date:
    """The current UTC date according to ``clock``."""
    return clock.now().date()


def iso_timestamp(instant: datetime) -> str:
    """Millisecond ISO 8601 in UTC with a ``Z``: sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
