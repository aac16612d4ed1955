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


# The clock of the local runtime, shared with the handlers it runs in its own process.
_shared: Clock | None = None

LOCAL_CLOCK_VARIABLE = "RECEIVABLES_CLOCK"


def share_clock(clock: Clock | None) -> None:
    """Make ``clock`` the one `clock_from_env` hands to handlers whose environment names the
    local runtime's clock (None: forget it). Only the local runtime calls this: its simulated time
    advances when its work is done, so it cannot be re-created from environment variables."""
    global _shared
    _shared = clock


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """The system clock, unless the handler runs in the local runtime.

    ``RECEIVABLES_CLOCK=local`` is set only by the local runtime (which shares its clock with
    `share_clock`); on AWS it is absent and production reads the real clock.
    """
    if env.get(LOCAL_CLOCK_VARIABLE) != "local":
        return SystemClock()
    if _shared is None:
        raise RuntimeError(f"{LOCAL_CLOCK_VARIABLE}=local, but no local runtime shares its clock here")
    return _shared


def today(clock: Clock) -> date:
    """The current UTC date according to ``clock``."""
    return clock.now().date()


def iso_timestamp(instant: datetime) -> str:
    """Millisecond ISO 8601 in UTC with a ``Z``: sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
