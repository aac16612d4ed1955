"""The local runtime's clock: time that waits for the work (receivables_local.clock)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from receivables_local.clock import LocalClock, QuiescenceTimeoutError, TimerSource, WorkCounter

ORIGIN = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)


class Schedule:
    """A timer source firing every ``period``, recording the instants it fired at; each firing
    starts a piece of work that a helper thread finishes ``work_seconds`` (real) later."""

    def __init__(self, clock: LocalClock, period: timedelta, work_seconds: float = 0.0) -> None:
        self.due = clock.now() + period
        self.period = period
        self.fired: list[datetime] = []
        self.work = WorkCounter("schedule work")
        self.work_seconds = work_seconds
        self.seen_during_work: list[datetime] = []
        clock.add_probe(self.work.name, self.work.probe)
        clock.add_source(TimerSource("schedule", lambda: self.due, self.fire))
        self.clock = clock

    def fire(self, instant: datetime) -> None:
        self.fired.append(instant)
        self.due += self.period
        self.work.begin()

        def finish() -> None:
            time.sleep(self.work_seconds)
            self.seen_during_work.append(self.clock.now())
            self.work.end()

        threading.Thread(target=finish, daemon=True).start()


def test_a_stepped_clock_moves_only_when_told_and_fires_in_order() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    daily = Schedule(clock, timedelta(days=1))
    time.sleep(0.05)
    assert clock.now() == ORIGIN, "a stepped clock does not move on its own"

    clock.advance(timedelta(days=3, hours=1), timeout=5)

    assert daily.fired == [ORIGIN + timedelta(days=n) for n in (1, 2, 3)]
    assert clock.now() == ORIGIN + timedelta(days=3, hours=1)


def test_each_firing_s_work_is_done_before_time_moves_on() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    slow = Schedule(clock, timedelta(hours=6), work_seconds=0.05)

    clock.advance(timedelta(days=1), timeout=5)

    # The work of each firing saw the clock at the instant it fired: nothing moved meanwhile.
    assert slow.seen_during_work == slow.fired
    assert len(slow.fired) == 4


def test_advance_to_next_stops_at_the_next_scheduled_thing() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    Schedule(clock, timedelta(hours=5))
    assert clock.advance_to_next(timeout=5) == ORIGIN + timedelta(hours=5)
    limit = ORIGIN + timedelta(hours=7)
    assert clock.advance_to_next(limit=limit, timeout=5) == limit, "not past the limit"


def test_a_sleeper_wakes_when_the_clock_reaches_its_instant_counted_again_first() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    woke_at: list[datetime] = []
    busy_on_waking: list[list[str]] = []
    clock.work.begin()  # an execution, counted from its start

    def execution() -> None:
        clock.sleep(3600)
        woke_at.append(clock.now())
        busy_on_waking.append(clock.busy())
        clock.work.end()

    thread = threading.Thread(target=execution)
    thread.start()
    deadline = time.monotonic() + 5
    while clock.next_due() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert clock.quiescent(), "a sleeping execution is not busy"

    clock.advance(timedelta(hours=2), timeout=5)
    thread.join(5)

    assert woke_at == [ORIGIN + timedelta(hours=1)]
    assert busy_on_waking == [["state machine executions"]], "counted again as soon as it woke"
    assert clock.quiescent()


def test_a_sleeper_is_woken_early_by_whoever_brings_its_outcome() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    sleeper = clock.sleeper(ORIGIN + timedelta(days=2), counted=False)
    assert sleeper is not None
    clock.wake(sleeper)
    clock.wake(sleeper)  # at most once
    assert sleeper.event.is_set()
    assert clock.next_due() is None


def test_a_paced_clock_stands_still_while_work_is_pending() -> None:
    clock = LocalClock(ORIGIN, "paced", scale=86400.0)
    work = WorkCounter("requests")
    clock.add_probe(work.name, work.probe)
    clock.start()
    try:
        time.sleep(0.1)
        moved = clock.now()
        assert moved > ORIGIN + timedelta(hours=1), "idle, it runs at about a day a second"
        with work:
            held = clock.now()
            time.sleep(0.2)
            assert clock.now() == held, "busy, it stands still"
        time.sleep(0.1)
        assert clock.now() > held
    finally:
        clock.stop()


def test_quiescence_needs_two_equal_readings() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    marks = iter(range(100))
    clock.add_probe("handing work on", lambda: (False, next(marks)))
    assert not clock.quiescent(), "progress between the readings: work moved from one part to the next"


def test_an_advance_that_never_settles_says_what_was_busy() -> None:
    clock = LocalClock(ORIGIN, "stepped")
    stuck = WorkCounter("a stuck handler")
    clock.add_probe(stuck.name, stuck.probe)
    stuck.begin()
    with pytest.raises(QuiescenceTimeoutError, match="a stuck handler"):
        clock.advance(timedelta(days=1), timeout=0.1)


def test_a_real_clock_follows_the_wall_and_cannot_be_advanced() -> None:
    clock = LocalClock(datetime.now(UTC), "real")
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(days=1))


def test_more_work_ended_than_began_is_a_bug_said_at_once() -> None:
    with pytest.raises(RuntimeError, match="more work ended"):
        WorkCounter("x").end()
