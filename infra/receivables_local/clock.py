"""The local runtime's clock: simulated time that waits for the work.

On AWS, time is the wall clock. Locally, due dates, schedules, Step Functions waits and debit
settlements must play out in seconds, and a story (the demo, a test) must read the same on a
quiet laptop and on a loaded CI machine. So the runtime owns its time:

- ``real``: the wall clock (``receivables local`` at ``--time-scale 1``).
- ``paced``: simulated time runs ``scale`` times the wall clock, *but only while the system is
  quiescent*: no invocation queued or running, no stream record unread, no webhook undelivered, no
  HTTP request in flight, no state machine between its states. While anything is pending, time
  stands still, so a slow machine makes the work take longer, never makes a simulated day pass
  before the day's work is done.
- ``stepped``: time moves only when asked: `LocalClock.advance` (by a duration),
  `LocalClock.advance_to_next` ("to the next scheduled thing"), each step waiting for the work it
  sets off before the next.

Whatever is due at a simulated instant registers with the clock instead of sleeping in real
seconds: a *timer source* (the router's schedules, the local Stripe's settlements and expiries)
answers "when is your next thing" and is fired when the clock gets there; a *sleeper* (a Wait
state, a Retry interval, a callback task's timeout) is woken. Advancing fires what is due in the
order it is due and waits for quiescence after each instant, so what a firing sets off has
happened before the next firing's time comes.

Quiescence is read from *probes*: each part of the runtime (invoker, router, local Stripe, HTTP
servers) answers ``(busy, progress)``; the system is quiescent when no probe is busy twice in a row
with the same progress marks, so work that hands itself from one part to the next between two
readings is not missed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

log = logging.getLogger("receivables.local.clock")

Mode = Literal["real", "paced", "stepped"]

TICK_SECONDS = 0.01  # how often the paced clock looks whether it may move
QUIESCENCE_POLL_SECONDS = 0.002
REPORT_AFTER_SECONDS = 30.0  # a wait for quiescence this long names what is still busy


class QuiescenceTimeoutError(TimeoutError):
    """The system did not become quiescent in the time allowed; the message names what was busy."""


@dataclass(eq=False)
class Sleeper:
    """One thread waiting for a simulated instant (or to be woken before it)."""

    at: datetime
    counted: bool
    event: threading.Event = field(default_factory=threading.Event)
    done: bool = False


@dataclass(eq=False)
class TimerSource:
    """Something with its own schedule: ``next_due()`` says when its next thing is (or None),
    ``fire(instant)`` does what is due by then. Both are called on the advancing thread; ``fire``
    must hand long work on (queue it), not do it."""

    name: str
    next_due: Callable[[], datetime | None]
    fire: Callable[[datetime], None]


class WorkCounter:
    """Work in flight of one kind (HTTP requests being answered, executions between states): a
    probe that is busy while the count is above zero; ``with counter:`` counts a block."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._count = 0
        self._changes = 0

    def begin(self) -> None:
        with self._lock:
            self._count += 1
            self._changes += 1

    def end(self) -> None:
        with self._lock:
            if self._count == 0:
                raise RuntimeError(f"{self.name}: more work ended than began")
            self._count -= 1
            self._changes += 1

    def __enter__(self) -> WorkCounter:
        self.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

    def probe(self) -> tuple[bool, Hashable]:
        with self._lock:
            return self._count > 0, self._changes


class LocalClock:
    """The runtime's time (see the module docstring). ``now()`` is safe from any thread."""

    def __init__(self, origin: datetime, mode: Mode = "paced", scale: float = 86400.0) -> None:
        if origin.tzinfo is None:
            raise ValueError("the local clock needs a timezone-aware origin")
        if mode == "paced" and scale <= 0:
            raise ValueError("a paced clock needs a positive time scale")
        self.mode: Mode = mode
        self.scale = 1.0 if mode == "real" else scale
        self._now = origin
        self._wall_offset = origin - datetime.now(UTC)  # real mode: now = wall + offset
        self._lock = threading.Lock()
        self._advancing = threading.RLock()  # one advancer at a time (the pacer, a test, the demo)
        self._sleepers: list[tuple[datetime, int, Sleeper]] = []
        self._seq = itertools.count()
        self._sources: list[TimerSource] = []
        self._probes: dict[str, Callable[[], tuple[bool, Hashable]]] = {}
        self._nudges: list[Callable[[], None]] = []
        # Executions and the threads that sleep on the clock: one counted unit each.
        self.work = WorkCounter("state machine executions")
        self.add_probe(self.work.name, self.work.probe)
        self._stop = threading.Event()
        self._pacer: threading.Thread | None = None
        self.steps = 0  # instants the clock stopped at to fire something

    # --- reading --------------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulated instant (timezone-aware, UTC)."""
        if self.mode == "real":
            return datetime.now(UTC) + self._wall_offset
        with self._lock:
            return self._now

    # --- what the runtime registers ---------------------------------------------------------
    def add_probe(self, name: str, probe: Callable[[], tuple[bool, Hashable]]) -> None:
        """Count ``probe`` (``() -> (busy, progress)``) in quiescence."""
        self._probes[name] = probe

    def add_source(self, source: TimerSource) -> None:
        """Fire ``source`` when the clock reaches its next due instant."""
        self._sources.append(source)

    def add_nudge(self, nudge: Callable[[], None]) -> None:
        """Call ``nudge`` while waiting for quiescence (the router polls its streams at once)."""
        self._nudges.append(nudge)

    # --- sleeping on simulated time ---------------------------------------------------------
    def sleep_until(
        self, instant: datetime, *, counted: bool = True, interrupted: Callable[[], bool] | None = None
    ) -> bool:
        """Block until the clock reaches ``instant``; True if it did, False if ``interrupted()``
        turned true first (looked at every few real milliseconds when given).

        A ``counted`` caller is one unit of `work` (an execution): while it sleeps it is not
        busy, and it is counted again *before* it wakes, by whoever wakes it, so the clock never
        sees the system quiescent between the wake-up and the work that follows."""
        sleeper = self.sleeper(instant, counted=counted)
        if sleeper is None:
            return True
        while not sleeper.event.wait(0.05 if interrupted is not None else None):
            if interrupted is not None and interrupted():
                self.wake(sleeper)
                return False
        return True

    def sleep(self, seconds: float, **kwargs: object) -> bool:
        """`sleep_until` ``seconds`` of simulated time from now."""
        return self.sleep_until(self.now() + timedelta(seconds=max(0.0, seconds)), **kwargs)  # type: ignore[arg-type]

    def sleeper(self, instant: datetime, *, counted: bool = True) -> Sleeper | None:
        """Register a sleeper for ``instant`` (None if the instant has come); wait on its
        ``event``. `wake` it to end the wait early."""
        if instant <= self.now():
            return None
        sleeper = Sleeper(instant, counted)
        with self._lock:
            heapq.heappush(self._sleepers, (instant, next(self._seq), sleeper))
        if counted:
            self.work.end()
        return sleeper

    def wake(self, sleeper: Sleeper) -> None:
        """End ``sleeper``'s wait (once): counted again first, then its event is set."""
        with self._lock:
            if sleeper.done:
                return
            sleeper.done = True
        if sleeper.counted:
            self.work.begin()
        sleeper.event.set()

    # --- quiescence -------------------------------------------------------------------------
    def busy(self) -> list[str]:
        """The probes that are busy now (empty when all are idle)."""
        return [name for name, probe in list(self._probes.items()) if probe()[0]]

    def quiescent(self) -> bool:
        """True when every probe is idle twice in a row with the same progress marks."""
        first = self._reading()
        if first is None:
            return False
        second = self._reading()
        return second is not None and first == second

    def _reading(self) -> tuple[Hashable, ...] | None:
        marks: list[Hashable] = []
        for probe in list(self._probes.values()):
            busy, progress = probe()
            if busy:
                return None
            marks.append(progress)
        return tuple(marks)

    def wait_quiescent(self, timeout: float | None = None) -> bool:
        """Block until `quiescent` (True), or ``timeout`` real seconds pass (False)."""
        started = time.monotonic()
        reported = started
        while not self._stop.is_set():
            if self.quiescent():
                return True
            for nudge in self._nudges:
                nudge()
            now = time.monotonic()
            if timeout is not None and now - started >= timeout:
                return False
            if now - reported >= REPORT_AFTER_SECONDS:
                reported = now
                log.warning("time waits for: %s", ", ".join(self.busy()) or "(changing)")
            time.sleep(QUIESCENCE_POLL_SECONDS)
        return False

    # --- moving -----------------------------------------------------------------------------
    def next_due(self) -> datetime | None:
        """The earliest instant something is due at (a sleeper or a timer source)."""
        with self._lock:
            while self._sleepers and self._sleepers[0][2].done:
                heapq.heappop(self._sleepers)
            candidates = [self._sleepers[0][0]] if self._sleepers else []
        for source in self._sources:
            due = source.next_due()
            if due is not None:
                candidates.append(due)
        return min(candidates) if candidates else None

    def advance(self, delta: timedelta, *, timeout: float | None = None) -> datetime:
        """Move time forward by ``delta``, firing what falls due on the way in order and waiting
        for the work each firing sets off; the new instant."""
        return self.advance_to(self.now() + delta, timeout=timeout)

    def advance_to(self, instant: datetime, *, timeout: float | None = None) -> datetime:
        """Move time forward to ``instant`` (never back), as `advance` does."""
        if self.mode == "real":
            raise RuntimeError("the real clock follows the wall clock; it cannot be advanced")
        with self._advancing:
            self._settle(timeout)
            while True:
                due = self.next_due()
                if due is None or due > instant:
                    break
                self._step_to(due)
                self._settle(timeout)
            self._set(instant)
            return self.now()

    def advance_to_next(self, *, limit: datetime | None = None, timeout: float | None = None) -> datetime:
        """Move time to the next scheduled thing (not past ``limit``), fire it and wait for its
        work; the new instant."""
        if self.mode == "real":
            raise RuntimeError("the real clock follows the wall clock; it cannot be advanced")
        with self._advancing:
            self._settle(timeout)
            due = self.next_due()
            if due is None or (limit is not None and due > limit):
                if limit is not None:
                    self._set(limit)
                return self.now()
            self._step_to(due)
            self._settle(timeout)
            return self.now()

    def _settle(self, timeout: float | None) -> None:
        if not self.wait_quiescent(timeout) and not self._stop.is_set():
            raise QuiescenceTimeoutError(f"still busy after {timeout:g} s: {', '.join(self.busy())}")

    def _set(self, instant: datetime) -> None:
        with self._lock:
            if instant > self._now:
                self._now = instant

    def _step_to(self, instant: datetime) -> None:
        """Stand at ``instant`` and fire everything due by then."""
        self._set(instant)
        self.steps += 1
        now = self.now()
        woken: list[Sleeper] = []
        with self._lock:
            while self._sleepers and self._sleepers[0][0] <= now:
                woken.append(heapq.heappop(self._sleepers)[2])
        for sleeper in woken:
            self.wake(sleeper)
        for source in self._sources:
            due = source.next_due()
            if due is not None and due <= now:
                try:
                    source.fire(now)
                except Exception:  # one source's failure must not stop time for the others
                    log.exception("firing %s at %s failed", source.name, now.isoformat())

    # --- the pacer --------------------------------------------------------------------------
    def start(self) -> None:
        """Start moving on its own (real and paced clocks; a stepped clock waits to be told)."""
        if self.mode == "stepped" or self._pacer is not None:
            return
        self._stop.clear()
        self._pacer = threading.Thread(target=self._pace, name="local-clock", daemon=True)
        self._pacer.start()

    def stop(self) -> None:
        """Stop moving (and release whoever waits for quiescence)."""
        self._stop.set()
        if self._pacer is not None:
            self._pacer.join(timeout=10)
            self._pacer = None

    def _pace(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(TICK_SECONDS):
            wall = time.monotonic()
            elapsed, last = wall - last, wall
            try:
                if self.mode == "real":
                    self._fire_due()
                elif self.quiescent():
                    with self._advancing:
                        self._pace_to(self.now() + timedelta(seconds=elapsed * self.scale))
                    last = time.monotonic()  # the time spent on the step's work does not count
            except Exception:
                log.exception("the local clock's step failed")

    def _pace_to(self, instant: datetime) -> None:
        while not self._stop.is_set():
            due = self.next_due()
            if due is None or due > instant:
                self._set(instant)
                return
            self._step_to(due)
            self.wait_quiescent()

    def _fire_due(self) -> None:
        due = self.next_due()
        if due is not None and due <= self.now():
            self._step_to(self.now())
