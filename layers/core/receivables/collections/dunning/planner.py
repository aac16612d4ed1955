"""The dunning planner: from the policy and an invoice's fresh state, the next action and its time.

Pure: no clock but the ``now`` it is given, no I/O. The rules, in order:

1. **Stop** when there is nothing to collect: paid, credited, written off, void, or no balance.
2. **Pause** (look again later, act on nothing) while the invoice is disputed, while a debit
   towards it is processing (it never counts as paid until it succeeds; for 21 days at most),
   while finance has
   put its dunning on hold, and until a promise to pay falls due. A promise is *kept* when the
   balance has come down by the promised amount; a promise past its date and not kept is
   *broken*, and dunning resumes where the calendar now stands.
3. Otherwise the **next step** of the customer's risk variant that is not done yet, at its time:
   the due date plus its offset, at the policy's hour in the policy's time zone, moved to the
   next Monday when business days only and the day is a weekend. When several steps are
   overdue (a late start, a broken promise, a long pause), only the latest one is taken and the
   earlier ones are skipped, so a customer never receives a stale soft reminder after a firmer
   one; a credit hold is never the first thing to happen, though: the final notice comes first.
   Mails keep the policy's minimum gap between them.
4. Late fees (if the policy has them) are steps of their own, after the due date, and send
   nothing.
5. **Stop** when every step is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from receivables.collections.dunning.policy import Step
from receivables.ledger.model import InvoiceStatus
from receivables.ledger.rules import COLLECTIBLE

if TYPE_CHECKING:
    from receivables.collections.dunning.policy import Policy
    from receivables.ledger.model import Customer, Invoice

S = InvoiceStatus
MAILS = ("remind", "final_notice")
# A SEPA or ACH debit is settled or returned well within this; a note older than that is stale
# (its outcome never came), and dunning goes on rather than wait for ever.
PROCESSING_LONGEST_DAYS = 21


@dataclass(frozen=True, slots=True)
class Plan:
    """What dunning does next: ``act`` (the ``step``, at ``at``), ``wait`` (look again at ``at``,
    a pause), or ``stop``; ``reason`` says why, ``skipped`` the overdue levels the step overtakes,
    ``promise`` what became of a promise ("kept" / "broken") when this plan found out."""

    action: str
    at: datetime | None
    reason: str
    step: Step | None = None
    skipped: tuple[str, ...] = ()
    promise: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As the state machine carries it (``at`` in ISO 8601 UTC for the Wait state)."""
        return {
            "action": self.action,
            "at": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.at else None,
            "reason": self.reason,
            "level": self.step.level if self.step else None,
            "step_action": self.step.action if self.step else None,
            "skipped": list(self.skipped),
        }


def fee_steps(policy: Policy) -> tuple[Step, ...]:
    """The late-fee steps the policy asks for: one fixed fee, or interest every 30 days."""
    fee = policy.late_fee
    if fee is None:
        return ()
    count = fee.max_charges if fee.recurring else 1
    return tuple(Step(f"late_fee_{n + 1}", fee.start_offset_days + 30 * n, "late_fee") for n in range(count))


def step_time(due: date, step: Step, policy: Policy) -> datetime:
    """When ``step`` falls due for an invoice due on ``due`` (UTC)."""
    day = due + timedelta(days=step.offset_days)
    if policy.business_days_only:
        while day.weekday() >= 5:
            day += timedelta(days=1)
    local = datetime.combine(day, time(policy.send_hour), ZoneInfo(policy.timezone))
    return local.astimezone(UTC)


def _next_business_moment(moment: datetime, policy: Policy) -> datetime:
    """``moment``, moved to the policy's sending hour on a business day if it falls outside."""
    zone = ZoneInfo(policy.timezone)
    local = moment.astimezone(zone)
    day = local.date()
    if local.hour >= policy.send_hour + 10:  # past the sending day: tomorrow morning
        day += timedelta(days=1)
    if policy.business_days_only:
        while day.weekday() >= 5:
            day += timedelta(days=1)
    if day != local.date() or local.hour < policy.send_hour:
        return datetime.combine(day, time(policy.send_hour), zone).astimezone(UTC)
    return moment


def _since(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _pause(now: datetime, until: datetime, reason: str, promise: str | None = None) -> Plan:
    return Plan("wait", max(until, now), reason, promise=promise)


def _paused(invoice: Invoice, policy: Policy, now: datetime) -> Plan | str | None:
    """A pause plan; else what became of a promise ("kept", "broken") or None."""
    zone = ZoneInfo(policy.timezone)
    today = now.astimezone(zone).date()
    if invoice.status is S.DISPUTED:
        recheck = now + timedelta(days=policy.pause_recheck_days)
        return _pause(now, recheck, "disputed: dunning waits for the dispute to end")
    state = invoice.dunning
    if state.awaiting:  # the customer's AP cannot process it yet: nothing to remind them of
        recheck = now + timedelta(days=policy.pause_recheck_days)
        return _pause(now, recheck, f"held: the customer's AP needs {', '.join(state.awaiting)}")
    debit = state.processing
    if debit is not None and _since(debit.since) > now - timedelta(days=PROCESSING_LONGEST_DAYS):
        # A debit on its way: wait for the bank's answer (no longer than a debit can take).
        recheck = now + timedelta(days=policy.pause_recheck_days)
        return _pause(now, recheck, f"{debit.amount} by {debit.method} processing since {debit.since[:10]}")
    if state.paused_until and date.fromisoformat(state.paused_until) >= today:
        resume = datetime.combine(date.fromisoformat(state.paused_until) + timedelta(days=1), time(0), zone)
        return _pause(now, _next_business_moment(resume, policy), f"on hold until {state.paused_until}")
    if state.promise is None:
        return None
    if invoice.balance <= state.promise.balance_then - state.promise.amount:
        return "kept"
    if date.fromisoformat(state.promise.date) >= today:
        resume = datetime.combine(date.fromisoformat(state.promise.date) + timedelta(days=1), time(0), zone)
        return _pause(now, _next_business_moment(resume, policy), f"promised by {state.promise.date}")
    return "broken"


def _choose(
    overdue: list[Step], pending: list[Step], variant: tuple[Step, ...], done: tuple[str, ...]
) -> Step:
    """Among overdue steps, the latest; but a final notice before any credit hold, and a mail
    before any fee."""
    chosen = overdue[-1]
    if chosen.action == "credit_hold" and not any(
        s.action == "final_notice" and s.level in done for s in variant
    ):
        notices = [s for s in pending if s.action == "final_notice"]
        if notices:
            chosen = notices[0]
    if chosen.action == "late_fee" and not any(s.action in MAILS and s.level in done for s in variant):
        mails = [s for s in overdue if s.action in MAILS]
        chosen = mails[-1] if mails else chosen
    return chosen


def plan(invoice: Invoice, customer: Customer | None, policy: Policy, now: datetime) -> Plan:
    """The next thing dunning does for ``invoice`` (see the module docstring)."""
    if invoice.status not in (*COLLECTIBLE, S.DISPUTED) or invoice.balance.minor <= 0:
        return Plan("stop", None, f"nothing to collect: the invoice is {invoice.status.value}")
    paused = _paused(invoice, policy, now)
    if isinstance(paused, Plan):
        return paused
    state = invoice.dunning
    variant = policy.steps_for(customer.risk if customer else "standard")
    steps = sorted((*variant, *fee_steps(policy)), key=lambda s: s.offset_days)
    pending = [s for s in steps if s.level not in state.levels_done]
    if not pending:
        return Plan("stop", None, "every step of the policy is done", promise=paused)
    overdue = [s for s in pending if step_time(invoice.due_date, s, policy) <= now]
    if overdue:
        chosen = _choose(overdue, pending, variant, state.levels_done)
        skipped = tuple(
            s.level
            for s in overdue
            if s.offset_days < chosen.offset_days and s.action in MAILS and chosen.action in MAILS
        )
        at = now
    else:
        chosen, skipped = pending[0], ()
        at = step_time(invoice.due_date, chosen, policy)
    if chosen.action in MAILS and state.last_mail_at:
        earliest = datetime.fromisoformat(state.last_mail_at.replace("Z", "+00:00")) + timedelta(
            days=policy.min_days_between_mails
        )
        at = max(at, earliest)
    if chosen.action in MAILS:
        at = _next_business_moment(max(at, now), policy)
    return Plan("act", max(at, now), f"{chosen.level} ({chosen.action})", chosen, skipped, paused)
