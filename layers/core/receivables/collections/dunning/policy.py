"""The dunning policy: data, not ASL. Finance edits it through the API; a sensible default ships.

A policy has steps per customer risk variant (``reliable``, ``standard``, ``risky``), each a level
name, a day offset from the due date, an action (``remind``, ``final_notice``, ``credit_hold``)
and, for the mails, a template; when mails go out (time zone, hour, business days only, a minimum
gap between two mails); how long a paused dunning waits before it looks again; who collects; and
an optional late fee: fixed per currency, or interest in percent per month (half-even to the
currency's minor unit, once per charge).

`policy_from_json` validates a document and reports every bad field; `policy_to_json` writes
one back. Amounts are decimal strings at this edge, as everywhere.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError, bounded_decimal, normalise_currency

ACTIONS = ("remind", "final_notice", "credit_hold")
RISKS = ("reliable", "standard", "risky")
TEMPLATES = ("friendly", "reminder_soft", "reminder", "reminder_firm", "final_notice")
MAX_FEE_CHARGES = 24


@dataclass(frozen=True, slots=True)
class Step:
    """One escalation level: ``action`` at ``offset_days`` from the due date."""

    level: str
    offset_days: int
    action: str
    template: str | None = None  # the email template of a remind / final_notice step


@dataclass(frozen=True, slots=True)
class LateFee:
    """A fixed fee per currency, or interest of ``percent_per_month`` on the open balance; the
    first charge at ``start_offset_days`` after the due date, interest again every 30 days."""

    start_offset_days: int
    fixed: dict[str, Money] = field(default_factory=dict)
    percent_per_month: Decimal | None = None
    max_charges: int = 12

    def charge(self, balance: Money) -> Money:
        """The fee on ``balance`` (zero where the policy names no fee for its currency)."""
        if self.percent_per_month is not None:
            return balance.percent(self.percent_per_month)
        return self.fixed.get(balance.currency, Money.zero(balance.currency))

    @property
    def recurring(self) -> bool:
        """Interest is charged every 30 days; a fixed fee once."""
        return self.percent_per_month is not None


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole dunning policy (see the module docstring)."""

    variants: dict[str, tuple[Step, ...]]
    timezone: str = "UTC"
    send_hour: int = 9
    business_days_only: bool = True
    min_days_between_mails: int = 2
    pause_recheck_days: int = 1
    collector: str = "collections"
    late_fee: LateFee | None = None
    version: int = 0

    def steps_for(self, risk: str) -> tuple[Step, ...]:
        """The steps of the customer's risk variant (``standard`` for an unknown one)."""
        return self.variants.get(risk) or self.variants["standard"]

    @property
    def lead_days(self) -> int:
        """How many days before the due date the earliest step of any variant starts."""
        return max(0, *(-s.offset_days for steps in self.variants.values() for s in steps))


DEFAULT_POLICY = Policy(
    variants={
        "standard": (
            Step("friendly", -3, "remind", "friendly"),
            Step("first", 1, "remind", "reminder"),
            Step("second", 7, "remind", "reminder_firm"),
            Step("final", 14, "final_notice", "final_notice"),
            Step("hold", 30, "credit_hold"),
        ),
        # A reliable payer gets fewer and softer mails, later.
        "reliable": (
            Step("first", 3, "remind", "reminder_soft"),
            Step("final", 21, "final_notice", "final_notice"),
            Step("hold", 45, "credit_hold"),
        ),
        # A risky one hears earlier and is escalated sooner.
        "risky": (
            Step("friendly", -5, "remind", "friendly"),
            Step("first", 1, "remind", "reminder_firm"),
            Step("second", 5, "remind", "reminder_firm"),
            Step("final", 10, "final_notice", "final_notice"),
            Step("hold", 21, "credit_hold"),
        ),
    },
    timezone="Europe/Paris",
)


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """The policy as the API shows it and the store keeps it."""
    fee = policy.late_fee
    return {
        "timezone": policy.timezone,
        "send_hour": policy.send_hour,
        "business_days_only": policy.business_days_only,
        "min_days_between_mails": policy.min_days_between_mails,
        "pause_recheck_days": policy.pause_recheck_days,
        "collector": policy.collector,
        "late_fee": None
        if fee is None
        else {
            "start_offset_days": fee.start_offset_days,
            "max_charges": fee.max_charges,
            **(
                {"percent_per_month": str(fee.percent_per_month)}
                if fee.percent_per_month is not None
                else {"fixed": {c: m.to_decimal_string() for c, m in sorted(fee.fixed.items())}}
            ),
        },
        "variants": {
            risk: [
                {"level": s.level, "offset_days": s.offset_days, "action": s.action}
                | ({"template": s.template} if s.template else {})
                for s in steps
            ]
            for risk, steps in policy.variants.items()
        },
    }


def _int(raw: dict[str, Any], name: str, default: int, low: int, high: int, errors: list[FieldError]) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(FieldError(name, f"must be a whole number from {low} to {high}"))
        return default
    return value


def _timezone(raw: dict[str, Any], errors: list[FieldError]) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = raw.get("timezone", "UTC")
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("timezone", f"{name!r} is not an IANA time zone (Europe/Paris, UTC…)"))
        return "UTC"
    return str(name)


def _steps(risk: str, raw: Any, errors: list[FieldError]) -> tuple[Step, ...]:
    where = f"variants.{risk}"
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(where, "must be a non-empty list of steps"))
        return ()
    steps: list[Step] = []
    for n, item in enumerate(raw):
        at = f"{where}[{n}]"
        if not isinstance(item, dict):
            errors.append(FieldError(at, "must be an object"))
            continue
        level, offset, action, template = (
            item.get("level"),
            item.get("offset_days"),
            item.get("action"),
            item.get("template"),
        )
        unknown = set(item) - {"level", "offset_days", "action", "template"}
        if unknown:
            errors.append(FieldError(at, f"unknown fields {sorted(unknown)}"))
        if not isinstance(level, str) or not level.isidentifier() or len(level) > 40:
            errors.append(FieldError(f"{at}.level", "must be a short name (letters, digits, _)"))
            continue
        if isinstance(offset, bool) or not isinstance(offset, int) or not -60 <= offset <= 365:
            errors.append(FieldError(f"{at}.offset_days", "must be a whole number of days from -60 to 365"))
            continue
        if action not in ACTIONS:
            errors.append(FieldError(f"{at}.action", f"must be one of {', '.join(ACTIONS)}"))
            continue
        if action != "credit_hold" and template not in TEMPLATES:
            errors.append(FieldError(f"{at}.template", f"must be one of {', '.join(TEMPLATES)}"))
            continue
        steps.append(Step(level, offset, str(action), str(template) if action != "credit_hold" else None))
    levels = [s.level for s in steps]
    if len(set(levels)) != len(levels):
        errors.append(FieldError(where, "levels must be unique"))
    if any(b.offset_days <= a.offset_days for a, b in itertools.pairwise(steps)):
        errors.append(FieldError(where, "offsets must increase from one step to the next"))
    holds = [i for i, s in enumerate(steps) if s.action == "credit_hold"]
    if holds and holds != [len(steps) - 1]:
        errors.append(FieldError(where, "credit_hold can only be the last step"))
    return tuple(steps)


def _late_fee(raw: Any, errors: list[FieldError]) -> LateFee | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(FieldError("late_fee", "must be null or an object"))
        return None
    start = _int(raw, "start_offset_days", 30, 1, 365, errors)
    charges = _int(raw, "max_charges", 12, 1, MAX_FEE_CHARGES, errors)
    if ("fixed" in raw) == ("percent_per_month" in raw):
        errors.append(FieldError("late_fee", "give either fixed (per currency) or percent_per_month"))
        return None
    if "percent_per_month" in raw:
        try:
            percent = bounded_decimal(raw["percent_per_month"])
        except InvalidOperation:
            percent = Decimal(-1)
        if not isinstance(raw["percent_per_month"], str) or not Decimal(0) < percent <= Decimal(10):
            errors.append(
                FieldError("late_fee.percent_per_month", 'must be a decimal string in (0, 10], "1.5"')
            )
            return None
        return LateFee(start, percent_per_month=percent, max_charges=charges)
    fixed: dict[str, Money] = {}
    table = raw["fixed"]
    if not isinstance(table, dict) or not table:
        errors.append(FieldError("late_fee.fixed", 'must map currencies to amounts, {"EUR": "40.00"}'))
        return None
    for currency, amount in table.items():
        try:
            money = Money.parse(str(amount), normalise_currency(str(currency)))
        except (MoneyError, InvalidOperation, ValueError) as exc:
            errors.append(FieldError(f"late_fee.fixed.{currency}", str(exc)))
            continue
        if not isinstance(amount, str) or money.minor <= 0:
            errors.append(FieldError(f"late_fee.fixed.{currency}", "must be a positive decimal string"))
            continue
        fixed[money.currency] = money
    return LateFee(start, fixed=fixed, max_charges=1)


def policy_from_json(raw: Any, version: int = 0) -> Policy:
    """A validated policy, or `InvalidRequestError` naming every bad field."""
    if not isinstance(raw, dict):
        raise InvalidRequestError([FieldError("body", "must be a JSON object")])
    errors: list[FieldError] = []
    known = {
        "timezone",
        "send_hour",
        "business_days_only",
        "min_days_between_mails",
        "pause_recheck_days",
        "collector",
        "late_fee",
        "variants",
    }
    errors += [FieldError(k, "is not a field of the policy") for k in sorted(set(raw) - known)]
    business = raw.get("business_days_only", True)
    if not isinstance(business, bool):
        errors.append(FieldError("business_days_only", "must be true or false"))
    collector = raw.get("collector", "collections")
    if not isinstance(collector, str) or not collector.strip() or len(collector) > 100:
        errors.append(FieldError("collector", "must name the collector (a person or team)"))
    variants_raw = raw.get("variants")
    variants: dict[str, tuple[Step, ...]] = {}
    if not isinstance(variants_raw, dict) or "standard" not in variants_raw:
        errors.append(FieldError("variants", "must be an object with at least a standard variant"))
    else:
        for risk, steps in variants_raw.items():
            if risk not in RISKS:
                errors.append(FieldError(f"variants.{risk}", f"must be one of {', '.join(RISKS)}"))
                continue
            variants[risk] = _steps(risk, steps, errors)
    policy = Policy(
        variants=variants,
        timezone=_timezone(raw, errors),
        send_hour=_int(raw, "send_hour", 9, 0, 23, errors),
        business_days_only=bool(business),
        min_days_between_mails=_int(raw, "min_days_between_mails", 2, 0, 30, errors),
        pause_recheck_days=_int(raw, "pause_recheck_days", 1, 1, 30, errors),
        collector=str(collector),
        late_fee=_late_fee(raw.get("late_fee"), errors),
        version=version,
    )
    if errors:
        raise InvalidRequestError(errors)
    return policy
