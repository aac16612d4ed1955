"""The dunning planner over a table of cases (dates, weekends, month ends, time zones, policies,
states), and the policy's validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from receivables.collections.dunning.planner import Plan, fee_steps, plan, step_time
from receivables.collections.dunning.policy import (
    DEFAULT_POLICY,
    LateFee,
    Policy,
    policy_from_json,
    policy_to_json,
)
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.model import Customer, DunningState, InvoiceStatus, Processing, Promise
from tests.unit.ledger.test_ledger import make_invoice

S = InvoiceStatus
EUR = "EUR"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def customer(risk: str = "standard") -> Customer:
    return Customer("cus_test", "Acme", (), "ap@acme.example", risk=risk)


def state(*done: str, **changes: Any) -> DunningState:
    return replace(DunningState(status="running", levels_done=done), **changes)


def promise(day: str, amount: int = 10000) -> Promise:
    return Promise(day, Money(amount, EUR), "2026-11-02T09:00:00.000Z", "finance", Money(10000, EUR))


# The invoice is due on Saturday 31 October 2026; the policy is the default (Europe/Paris, 09:00,
# business days only): 09:00 in Paris is 08:00 UTC after 25 October.
CASES: list[tuple[str, dict[str, Any], str, Policy, datetime, tuple[str, str | None, str | None]]] = [
    (
        "the friendly reminder, three days before",
        {},
        "standard",
        DEFAULT_POLICY,
        at("2026-10-20T12:00"),
        ("act", "friendly", "2026-10-28T08:00:00Z"),
    ),
    (
        "the first reminder falls on a Sunday: Monday",
        {"dunning": state("friendly")},
        "standard",
        DEFAULT_POLICY,
        at("2026-10-29T12:00"),
        ("act", "first", "2026-11-02T08:00:00Z"),
    ),
    (
        "weekends allowed: Sunday it is",
        {"dunning": state("friendly")},
        "standard",
        replace(DEFAULT_POLICY, business_days_only=False),
        at("2026-10-29T12:00"),
        ("act", "first", "2026-11-01T08:00:00Z"),
    ),
    (
        "another time zone: 09:00 in New York",
        {"dunning": state("friendly")},
        "standard",
        replace(DEFAULT_POLICY, timezone="America/New_York"),
        at("2026-10-29T12:00"),
        ("act", "first", "2026-11-02T14:00:00Z"),
    ),
    (
        "a reliable payer: one soft reminder at +3",
        {},
        "reliable",
        DEFAULT_POLICY,
        at("2026-10-20T12:00"),
        ("act", "first", "2026-11-03T08:00:00Z"),
    ),
    (
        "a risky payer hears five days before",
        {},
        "risky",
        DEFAULT_POLICY,
        at("2026-10-20T12:00"),
        ("act", "friendly", "2026-10-26T08:00:00Z"),
    ),
    (
        "paid: stop",
        {"status": S.PAID, "balance": Money(0, EUR)},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-05T12:00"),
        ("stop", None, None),
    ),
    (
        "void: stop",
        {"status": S.VOID},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-05T12:00"),
        ("stop", None, None),
    ),
    (
        "disputed: look again tomorrow",
        {"status": S.DISPUTED},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-05T12:00"),
        ("wait", None, "2026-11-06T12:00:00Z"),
    ),
    (
        "on hold until the 12th: resume the next business morning",
        {"dunning": state("friendly", paused_until="2026-11-12")},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-05T12:00"),
        ("wait", None, "2026-11-13T08:00:00Z"),
    ),
    (
        "promised by the 10th: wait until the 11th",
        {"dunning": state("friendly", promise=promise("2026-11-10"))},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-03T12:00"),
        ("wait", None, "2026-11-11T08:00:00Z"),
    ),
    (
        "a broken promise resumes at the latest overdue step, skipping the stale one",
        {"dunning": state("friendly", "first", promise=promise("2026-11-10"))},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-20T10:00"),
        ("act", "final", "2026-11-20T10:00:00Z"),
    ),
    (
        "a late start: the final notice first, never a credit hold out of the blue",
        {},
        "standard",
        DEFAULT_POLICY,
        at("2026-12-10T10:00"),
        ("act", "final", "2026-12-10T10:00:00Z"),
    ),
    (
        "after the final notice, the credit hold",
        {"dunning": state("friendly", "first", "second", "final", last_mail_at="2026-11-16T08:00:00Z")},
        "standard",
        DEFAULT_POLICY,
        at("2026-12-10T10:00"),
        ("act", "hold", "2026-12-10T10:00:00Z"),
    ),
    (
        "two mails keep their gap",
        {"dunning": state("friendly", "first", last_mail_at="2026-11-08T08:00:00Z")},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-09T10:00"),
        ("act", "second", "2026-11-10T08:00:00Z"),
    ),
    (
        "an overdue mail on a Saturday waits for Monday morning",
        {"dunning": state("friendly")},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-07T10:00"),
        ("act", "first", "2026-11-09T08:00:00Z"),
    ),
    (
        "an overdue mail in the evening waits for the next morning",
        {"dunning": state("friendly", "first")},
        "standard",
        DEFAULT_POLICY,
        at("2026-11-10T19:30"),
        ("act", "second", "2026-11-11T08:00:00Z"),
    ),
    (
        "every step done: stop",
        {"dunning": state("friendly", "first", "second", "final", "hold")},
        "standard",
        DEFAULT_POLICY,
        at("2026-12-10T10:00"),
        ("stop", None, None),
    ),
    (
        "a month end: due 31 January, +30 is 2 March",
        {"due_date": date(2026, 1, 31), "dunning": state("friendly", "first", "second", "final")},
        "standard",
        DEFAULT_POLICY,
        at("2026-02-20T10:00"),
        ("act", "hold", "2026-03-02T08:00:00Z"),
    ),
]


@pytest.mark.parametrize(
    ("name", "changes", "risk", "policy", "now", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_the_planner(
    name: str,
    changes: dict[str, Any],
    risk: str,
    policy: Policy,
    now: datetime,
    expected: tuple[str, str | None, str | None],
) -> None:
    result = plan(make_invoice(**changes), customer(risk), policy, now)
    summary = result.to_json()
    assert (summary["action"], summary["level"], summary["at"]) == expected


def test_a_broken_promise_is_reported_and_its_skipped_levels_named() -> None:
    invoice = make_invoice(dunning=state("friendly", "first", promise=promise("2026-11-10")))
    result = plan(invoice, customer(), DEFAULT_POLICY, at("2026-11-20T10:00"))
    assert (result.promise, result.skipped) == ("broken", ("second",))


def test_a_kept_promise_lets_dunning_go_on_for_the_rest() -> None:
    invoice = make_invoice(
        balance=Money(4000, EUR),
        paid=Money(6000, EUR),
        status=S.PARTIALLY_PAID,
        dunning=state("friendly", "first", promise=promise("2026-11-10", amount=6000)),
    )
    result = plan(invoice, customer(), DEFAULT_POLICY, at("2026-11-05T10:00"))
    assert result.promise == "kept" and result.action == "act"


def test_a_debit_on_its_way_pauses_dunning_and_its_failure_resumes_it() -> None:
    debit = Processing("pi_1", Money(10000, EUR), "sepa_debit", "2026-11-04T10:00:00.000Z")
    waiting = make_invoice(dunning=state("friendly", processing=debit))

    paused = plan(waiting, customer(), DEFAULT_POLICY, at("2026-11-05T10:00"))
    resumed = plan(
        replace(waiting, dunning=state("friendly")), customer(), DEFAULT_POLICY, at("2026-11-05T10:00")
    )

    assert (paused.action, paused.reason) == ("wait", "100.00 EUR by sepa_debit processing since 2026-11-04")
    assert paused.at == at("2026-11-06T10:00")  # looked at again a day later
    assert (resumed.action, resumed.step and resumed.step.level) == ("act", "first")
    stale = replace(
        waiting, dunning=state("friendly", processing=replace(debit, since="2026-10-10T10:00:00Z"))
    )
    assert plan(stale, customer(), DEFAULT_POLICY, at("2026-11-05T10:00")).action == "act"  # 26 days: no more


def test_late_fees_are_steps_of_their_own() -> None:
    interest = replace(DEFAULT_POLICY, late_fee=LateFee(30, percent_per_month=Decimal("1.5"), max_charges=3))
    assert [(s.level, s.offset_days) for s in fee_steps(interest)] == [
        ("late_fee_1", 30),
        ("late_fee_2", 60),
        ("late_fee_3", 90),
    ]
    assert interest.late_fee is not None
    assert interest.late_fee.charge(Money(100000, EUR)) == Money(1500, EUR)
    assert interest.late_fee.charge(Money(333, "JPY")) == Money(5, "JPY")  # 4.995, half-even
    done = state("friendly", "first", "second", "final", "hold", last_mail_at="2026-11-16T08:00:00Z")
    result = plan(make_invoice(dunning=done), customer(), interest, at("2026-12-10T10:00"))
    assert (result.action, result.step and result.step.level) == ("act", "late_fee_1")


def test_step_times_follow_daylight_saving() -> None:
    summer = replace(DEFAULT_POLICY, business_days_only=False)
    step = DEFAULT_POLICY.steps_for("standard")[1]  # +1 day
    assert step_time(date(2026, 7, 1), step, summer) == at("2026-07-02T07:00")  # CEST
    assert step_time(date(2026, 12, 1), step, summer) == at("2026-12-02T08:00")  # CET


def test_the_default_policy_round_trips_through_json() -> None:
    again = policy_from_json(policy_to_json(DEFAULT_POLICY))
    assert policy_to_json(again) == policy_to_json(DEFAULT_POLICY)
    assert DEFAULT_POLICY.lead_days == 5


def test_a_bad_policy_names_every_bad_field() -> None:
    document = policy_to_json(DEFAULT_POLICY)
    document["timezone"] = "Mars/Olympus"
    document["send_hour"] = 25
    document["variants"]["standard"][1]["offset_days"] = -10
    document["variants"]["standard"][2]["template"] = "shouting"
    document["variants"]["risky"].insert(0, {"level": "hold0", "offset_days": -9, "action": "credit_hold"})
    document["late_fee"] = {"percent_per_month": "25"}
    document["colour"] = "red"
    with pytest.raises(InvalidRequestError) as caught:
        policy_from_json(document)
    fields = {e.field for e in caught.value.errors}
    assert fields == {
        "timezone",
        "send_hour",
        "variants.standard",
        "variants.standard[2].template",
        "variants.risky",
        "late_fee.percent_per_month",
        "colour",
    }


def test_plans_serialise_for_the_state_machine() -> None:
    assert Plan("stop", None, "paid").to_json() == {
        "action": "stop",
        "at": None,
        "reason": "paid",
        "level": None,
        "step_action": None,
        "skipped": [],
    }
