"""Credit limits, exposure and the credit check an ERP calls before it ships.

A customer may have a credit limit (in one currency) and credit-insurance cover (an insured
amount, until a date). Their *exposure* is what they owe now (every open receivable in that
currency, disputed ones too) plus, where the ERP reports them (`PUT /customers/{id}/open-orders`)
and the policy counts them, the orders not invoiced yet. It is read from the customer's running
total (one aggregate item, `receivables.reporting.aggregates`), so a check costs two GetItems whatever the
number of invoices.

The stream keeps each customer's *level* current: the highest threshold of the limit their
exposure has reached (80 % and 100 % by default). Crossing one, either way, is an audit event on
the customer (``CreditThresholdCrossed``, ``CreditBackUnderThreshold``): on the bus, and mailed
to the account owner. At ``hold_at`` (100 % by default; None: never) the customer goes on credit
hold automatically. Only a controller changes a limit (``CreditLimitChanged``).

`check` answers approve, refer or decline for an order amount, with each reason: on hold, over
or near the limit, over the insured cover, overdue, a risky customer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import change_customer
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent
from receivables.reporting import aggregates
from receivables.reporting.aggregates import DUE_PREFIX
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer

DECISIONS = ("approve", "refer", "decline")
ACTOR = "credit"


RISK_CLASSES = (25, 55)  # the risk score below which a customer is low, from which high


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """How exposure is counted and what the check refers or declines (finance's data)."""

    thresholds: tuple[int, ...] = (80, 100)  # % of the limit that notify when crossed
    hold_at: int | None = 100  # % of the limit that puts the customer on credit hold (None: never)
    include_orders: bool = True  # open orders the ERP reports count in the exposure
    refer_overdue_days: int = 30  # an invoice this late refers an order
    decline_overdue_days: int = 90  # and this late declines it
    # The risk classes: low below the first score, high from the second (the 40th and 75th
    # percentiles of a back-tested portfolio's scores; `receivables.credit.risk.class_thresholds`
    # finds them for another portfolio).
    risk_classes: tuple[int, int] = RISK_CLASSES

    def to_json(self) -> dict[str, Any]:
        """The policy as stored and shown."""
        return {
            "thresholds": list(self.thresholds),
            "hold_at": self.hold_at,
            "include_orders": self.include_orders,
            "refer_overdue_days": self.refer_overdue_days,
            "decline_overdue_days": self.decline_overdue_days,
            "risk_classes": list(self.risk_classes),
        }


def load_policy() -> CreditPolicy:
    """Finance's credit policy, or the default."""
    return policy_and_version()[0]


def policy_and_version() -> tuple[CreditPolicy, int]:
    """Finance's credit policy and its version (0: the default, never saved)."""
    found = store.get_document(store.CREDIT_POLICY_PK)
    if found is None:
        return CreditPolicy(), 0
    return policy_from_json(found[0]), found[1]


def policy_from_json(body: Any) -> CreditPolicy:
    """A policy from JSON, every field checked; `InvalidRequestError` names each bad one."""

    if not isinstance(body, dict):
        raise InvalidRequestError([FieldError("policy", "must be an object")])
    errors = []
    thresholds = body.get("thresholds", [80, 100])
    if (
        not isinstance(thresholds, list)
        or not 0 < len(thresholds) <= 5
        or not all(isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= 200 for t in thresholds)
    ):
        errors.append(FieldError("thresholds", "must be 1 to 5 whole percentages from 1 to 200"))
        thresholds = [80, 100]
    hold_at = body.get("hold_at", 100)
    if hold_at is not None and (
        isinstance(hold_at, bool) or not isinstance(hold_at, int) or hold_at not in thresholds
    ):
        errors.append(
            FieldError("hold_at", "must be one of the thresholds, or null (never hold automatically)")
        )
    include = body.get("include_orders", True)
    if not isinstance(include, bool):
        errors.append(FieldError("include_orders", "must be true or false"))
    days = {}
    for name, default in (("refer_overdue_days", 30), ("decline_overdue_days", 90)):
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            errors.append(FieldError(name, "must be a whole number of days from 0 to 3650"))
            value = default
        days[name] = value
    if days["decline_overdue_days"] < days["refer_overdue_days"]:
        errors.append(FieldError("decline_overdue_days", "must be at least refer_overdue_days"))
    classes = body.get("risk_classes", list(CreditPolicy().risk_classes))
    if not (
        isinstance(classes, list)
        and len(classes) == 2
        and all(isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 100 for c in classes)
        and classes[0] < classes[1]
    ):
        errors.append(
            FieldError(
                "risk_classes", "must be two scores from 1 to 100, low below the first, high from the second"
            )
        )
        classes = list(CreditPolicy().risk_classes)
    unknown = sorted(set(body) - set(CreditPolicy().to_json()))
    errors += [FieldError(name, "is not a field of the credit policy") for name in unknown]
    if errors:
        raise InvalidRequestError(errors)
    return CreditPolicy(
        thresholds=tuple(sorted(set(thresholds))),
        hold_at=hold_at,
        include_orders=include,
        refer_overdue_days=days["refer_overdue_days"],
        decline_overdue_days=days["decline_overdue_days"],
        risk_classes=(classes[0], classes[1]),
    )


def save_policy(policy: CreditPolicy, version: int, actor: str, clock: Clock) -> int:
    """Replace the policy read at ``version`` (``CreditPolicyChanged``); the new version.
    `store.ConcurrentChangeError` if someone changed it meanwhile."""

    at = iso_timestamp(clock.now())
    event = AuditEvent("credit-policy", version + 1, "CreditPolicyChanged", at, actor, policy.to_json())
    store.put_document(store.CREDIT_POLICY_PK, policy.to_json(), version + 1, at, event)
    return version + 1


@dataclass(frozen=True, slots=True)
class Exposure:
    """What a customer owes and may soon owe in ``currency``, against their limit."""

    currency: str
    receivables: Money  # open receivables, disputed ones included
    overdue: Money
    oldest_overdue_days: int
    orders: Money  # open orders counted (zero when the policy leaves them out)
    limit: Money | None
    insured: Money | None  # the cover in force today, if any

    @property
    def total(self) -> Money:
        """What counts against the limit."""
        return self.receivables + self.orders

    def reaches(self, percent: int, extra: int = 0) -> bool:
        """Whether the exposure (with ``extra`` minor units more) reaches ``percent`` of the
        limit, exactly (integers: 79.99 % does not reach 80 %)."""
        if self.limit is None or self.limit.minor <= 0:
            return False
        return (self.total.minor + extra) * 100 >= percent * self.limit.minor

    def utilisation(self, extra: int = 0) -> Decimal | None:
        """The share of the limit used, in % (with ``extra`` minor units more), or None."""
        if self.limit is None or self.limit.minor <= 0:
            return None
        used = Decimal(self.total.minor + extra) * 100 / self.limit.minor
        return used.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)

    def to_json(self) -> dict[str, Any]:
        """The exposure as the API shows it: decimal strings for money."""
        utilisation = self.utilisation()
        return {
            "currency": self.currency,
            "receivables": self.receivables.to_decimal_string(),
            "overdue": self.overdue.to_decimal_string(),
            "oldest_overdue_days": self.oldest_overdue_days,
            "open_orders": self.orders.to_decimal_string(),
            "total": self.total.to_decimal_string(),
            "limit": None if self.limit is None else self.limit.to_decimal_string(),
            "available": None if self.limit is None else (self.limit - self.total).to_decimal_string(),
            "insured": None if self.insured is None else self.insured.to_decimal_string(),
            "utilisation_percent": None if utilisation is None else str(utilisation),
        }


def exposure(customer: Customer, currency: str, today: date, policy: CreditPolicy) -> Exposure:
    """The customer's exposure in ``currency`` (one GetItem of their running total)."""

    item = aggregates.customer_total(customer.customer_id, currency)
    open_ = int(item.get("open", 0))
    overdue, oldest = 0, 0
    for name, value in item.items():
        if not name.startswith(DUE_PREFIX) or not value:
            continue
        due = date.fromisoformat(name.removeprefix(DUE_PREFIX))
        if due < today:
            overdue += int(value)
            oldest = max(oldest, (today - due).days)
    orders = customer.open_orders if policy.include_orders else None
    limit = (
        customer.credit_limit
        if customer.credit_limit and customer.credit_limit.currency == currency
        else None
    )
    insured = customer.insured_amount
    covered = insured is not None and insured.currency == currency
    if not covered or (customer.insured_until is not None and customer.insured_until < today):
        insured = None
    return Exposure(
        currency,
        Money(open_, currency),
        Money(overdue, currency),
        oldest,
        orders if orders is not None and orders.currency == currency else Money.zero(currency),
        limit,
        insured,
    )


@dataclass(frozen=True, slots=True)
class CreditDecision:
    """The answer to a credit check, with every reason that led to it."""

    decision: str
    reasons: tuple[tuple[str, str, str], ...]  # (code, decision it calls for, sentence)
    exposure: Exposure

    def to_json(self) -> dict[str, Any]:
        """The decision as the API answers it."""
        return {
            "decision": self.decision,
            "reasons": [{"code": c, "decision": d, "message": m} for c, d, m in self.reasons],
            "exposure": self.exposure.to_json(),
        }


def check(customer: Customer, amount: Money, today: date, policy: CreditPolicy) -> CreditDecision:
    """Approve, refer or decline an order of ``amount`` for ``customer`` (pure but for the one
    read of their running total): the worst decision any reason calls for."""
    seen = exposure(customer, amount.currency, today, policy)
    reasons: list[tuple[str, str, str]] = []
    if customer.credit_hold:
        reasons.append(("hold", "decline", "the customer is on credit hold"))
    if customer.credit_limit is None:
        reasons.append(("no_limit", "refer", "the customer has no credit limit"))
    elif seen.limit is None:
        reasons.append(("currency", "refer", f"the credit limit is in {customer.credit_limit.currency}"))
    else:
        after = seen.utilisation(amount.minor)
        if seen.total.minor + amount.minor > seen.limit.minor:
            reasons.append(("limit", "decline", f"the order takes the exposure over the limit ({after} %)"))
        elif policy.thresholds and seen.reaches(min(policy.thresholds), amount.minor):
            reasons.append(("limit_near", "refer", f"the order takes the exposure to {after} % of the limit"))
    if seen.insured is not None and seen.total.minor + amount.minor > seen.insured.minor:
        reasons.append(("insurance", "refer", f"the exposure would exceed the insured {seen.insured}"))
    if seen.oldest_overdue_days > policy.decline_overdue_days:
        reasons.append(("overdue", "decline", f"an invoice is {seen.oldest_overdue_days} days overdue"))
    elif seen.oldest_overdue_days > policy.refer_overdue_days:
        reasons.append(("overdue", "refer", f"an invoice is {seen.oldest_overdue_days} days overdue"))
    if customer.risk == "risky":
        reasons.append(("score", "refer", "the customer's risk class is high"))
    worst = max((DECISIONS.index(d) for _, d, _ in reasons), default=0)
    return CreditDecision(DECISIONS[worst], tuple(reasons), seen)


def level_of(seen: Exposure, policy: CreditPolicy) -> int:
    """The highest threshold (% of the limit) the exposure has reached; 0 below them all."""
    return max((t for t in policy.thresholds if seen.reaches(t)), default=0)


def review(customer_id: str, clock: Clock, policy: CreditPolicy | None = None) -> Customer | None:
    """Bring the customer's credit level up to date with their exposure: an audit event when it
    crosses a threshold (up or down), and credit hold at ``hold_at``; and when the exposure goes
    over the insured amount in force, or back under it (``CreditInsuranceExceeded``,
    ``CreditBackUnderInsurance``). Idempotent: the level and the state are stored, so a replayed
    review records nothing. The customer as it now stands (None: unknown)."""

    customer = store.get_customer(customer_id)
    if customer is None or (customer.credit_limit is None and customer.insured_amount is None):
        return customer
    policy = policy or load_policy()
    currency = (customer.credit_limit or customer.insured_amount or Money.zero("EUR")).currency
    seen = exposure(customer, currency, clock.now().date(), policy)
    over = seen.insured is not None and seen.total > seen.insured
    if over != customer.over_insured:
        kind = "CreditInsuranceExceeded" if over else "CreditBackUnderInsurance"
        data = {"customer_id": customer_id, "exposure": seen.to_json(), "over_insured": over}
        customer = change_customer(
            customer_id, lambda c: replace(c, over_insured=over), kind, data, ACTOR, clock
        )
    if customer.credit_limit is None:
        return customer
    level = level_of(seen, policy)
    if level == customer.credit_level:
        return customer
    hold = policy.hold_at is not None and level >= policy.hold_at and not customer.credit_hold
    kind = "CreditThresholdCrossed" if level > customer.credit_level else "CreditBackUnderThreshold"
    data = {
        "customer_id": customer_id,
        "level": level,
        "before": customer.credit_level,
        "exposure": seen.to_json(),
        "credit_hold": hold or customer.credit_hold,
    }

    def apply(c: Customer) -> Customer:
        return replace(c, credit_level=level, credit_hold=c.credit_hold or hold)

    return change_customer(customer_id, apply, kind, data, ACTOR, clock)
