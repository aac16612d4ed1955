"""When will each open invoice be paid, and what cash comes in over the next weeks.

A customer's behaviour is how late (or early) they pay against the due date, and how that is
changing: a weighted least-squares line of the days late over the due dates of every amount they
paid, each weighted by its size and by how recent it is (the weight halves every
`HALF_LIFE_DAYS`), so a customer whose habits drift is judged on what they do now and where they
are heading. The trend is damped (`TREND_DAMPING`) and capped (`TREND_CAP_DAYS`), and only read
from four payments or more. A customer with little history leans on the population's behaviour
(a shrinkage towards it, `PRIOR_WEIGHT` payments' worth), and a new customer is the population.
An invoice's predicted payment date is its due date plus its customer's expected lateness then,
never before it was issued; one already later than that is expected within the coming week.

`weekly_collections` sums the predicted payments per week for the next `WEEKS` weeks, per
currency, with what comes from invoices already overdue shown apart. The back-test
(`tests/benchmarks/test_forecast_backtest.py`) scores it against predicting every invoice paid on
its due date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import Invoice
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from receivables.ledger.model import Payment

HALF_LIFE_DAYS = 90
PRIOR_WEIGHT = 1.0  # payments' worth of the population's behaviour in every customer's estimate
TREND_DAMPING = 0.75
TREND_CAP_DAYS = 30
MIN_PAYMENTS_FOR_TREND = 4
WEEKS = 13


@dataclass(frozen=True, slots=True)
class Settled:
    """One amount a customer paid towards an invoice: when it was due, when it came."""

    due: date
    paid: date
    amount: int  # minor units


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How many days after the due date a customer pays (negative: early) around ``centre`` (the
    weighted mean due date of their history), how that changes per day (``slope``), and on how
    much history (in payments' worth of weight) the estimate rests."""

    days_late: float
    weight: float
    slope: float = 0.0
    centre: date | None = None

    def at(self, due: date) -> float:
        """The lateness expected of an invoice due on ``due`` (the trend damped and capped)."""
        if self.centre is None or not self.slope:
            return self.days_late
        trend = TREND_DAMPING * self.slope * (due - self.centre).days
        return self.days_late + max(-TREND_CAP_DAYS, min(TREND_CAP_DAYS, trend))

    def to_json(self) -> dict[str, Any]:
        """The behaviour as the API shows it."""
        return {
            "days_late": round(self.days_late, 1),
            "weight": round(self.weight, 2),
            "trend_days_per_month": round(self.slope * 30, 2),
        }


def behaviour(history: Iterable[Settled], as_of: date, half_life: int = HALF_LIFE_DAYS) -> Behaviour:
    """The recency- and amount-weighted lateness line of ``history`` as of ``as_of``. The amounts
    weigh relative to the customer's own largest payment (square root), so the weight counts
    payments, not currency."""
    settled = list(history)
    if not settled:
        return Behaviour(0.0, 0.0)
    largest = max(s.amount for s in settled) or 1
    origin = min(s.due for s in settled)
    weights = [
        0.5 ** (max((as_of - s.paid).days, 0) / half_life) * math.sqrt(max(s.amount, 1) / largest)
        for s in settled
    ]
    xs = [(s.due - origin).days for s in settled]
    ys = [(s.paid - s.due).days for s in settled]
    total = sum(weights)
    mean_x = sum(w * x for w, x in zip(weights, xs, strict=True)) / total
    mean_y = sum(w * y for w, y in zip(weights, ys, strict=True)) / total
    spread = sum(w * (x - mean_x) ** 2 for w, x in zip(weights, xs, strict=True))
    slope = 0.0
    if spread > 0 and len(settled) >= MIN_PAYMENTS_FOR_TREND:
        slope = sum(w * (x - mean_x) * (y - mean_y) for w, x, y in zip(weights, xs, ys, strict=True)) / spread
    return Behaviour(mean_y, total, slope, origin + timedelta(days=round(mean_x)))


def population(behaviours: Iterable[Behaviour]) -> Behaviour:
    """The behaviour of everyone together (what a new customer is expected to do)."""
    known = [b for b in behaviours if b.weight > 0]
    weight = sum(b.weight for b in known)
    if not weight:
        return Behaviour(0.0, 0.0)
    return Behaviour(sum(b.days_late * b.weight for b in known) / weight, weight)


def expected_days_late(own: Behaviour, everyone: Behaviour, due: date) -> float:
    """The customer's lateness for an invoice due on ``due``, shrunk towards the population's by
    how little history they have."""
    prior = PRIOR_WEIGHT if everyone.weight > 0 else 0.0  # nobody's history: nothing to lean on
    if own.weight + prior <= 0:
        return 0.0
    return (own.at(due) * own.weight + everyone.days_late * prior) / (own.weight + prior)


def predict(
    invoice_due: date, issued: date, own: Behaviour, everyone: Behaviour, today: date | None = None
) -> date:
    """The predicted payment date of an invoice due on ``invoice_due``: the due date plus the
    customer's expected lateness, not before it was issued, and (given ``today``) not in the past."""
    predicted = invoice_due + timedelta(days=round(expected_days_late(own, everyone, invoice_due)))
    predicted = max(predicted, issued)
    return max(predicted, today) if today is not None else predicted


def history_of(invoices: Iterable[Invoice], payments: Iterable[Payment]) -> list[Settled]:
    """What a customer paid towards which invoice, when: the allocations of their payments."""
    due = {i.invoice_id: i.due_date for i in invoices}
    settled = []
    for payment in payments:
        paid = date.fromisoformat(payment.received_at[:10])
        for invoice_id, amount in payment.allocations:
            if invoice_id in due and amount.minor > 0:
                settled.append(Settled(due[invoice_id], paid, amount.minor))
    return settled


def weekly_collections(
    open_invoices: Iterable[Invoice],
    behaviours: Mapping[str, Behaviour],
    today: date,
    weeks: int = WEEKS,
) -> dict[str, Any]:
    """Expected collections per week (Monday to Sunday, the first from ``today``'s Monday) for
    the next ``weeks`` weeks, per currency, with the part from invoices already overdue apart;
    what falls after the last week is ``later``."""

    everyone = population(behaviours.values())
    monday = today - timedelta(days=today.weekday())
    per: dict[str, dict[str, Any]] = {}
    for invoice in open_invoices:
        if invoice.balance.minor <= 0:
            continue
        own = behaviours.get(invoice.customer_id, Behaviour(0.0, 0.0))
        when = predict(invoice.due_date, invoice.issue_date, own, everyone, today)
        week = (when - monday).days // 7
        row = per.setdefault(
            invoice.currency, {"weeks": [[0, 0] for _ in range(weeks)], "later": 0, "invoices": 0}
        )
        row["invoices"] += 1
        if week >= weeks:
            row["later"] += invoice.balance.minor
            continue
        row["weeks"][week][0] += invoice.balance.minor
        if invoice.due_date < today:
            row["weeks"][week][1] += invoice.balance.minor
    out: dict[str, Any] = {"as_of": today.isoformat(), "weeks": weeks, "currencies": {}}
    for currency, row in sorted(per.items()):
        out["currencies"][currency] = {
            "invoices": row["invoices"],
            "weeks": [
                {
                    "week_of": (monday + timedelta(weeks=n)).isoformat(),
                    "expected": Money(total, currency).to_decimal_string(),
                    "from_overdue": Money(overdue, currency).to_decimal_string(),
                }
                for n, (total, overdue) in enumerate(row["weeks"])
            ],
            "later": Money(row["later"], currency).to_decimal_string(),
        }
    return out


def ledger_forecast(today: date, weeks: int = WEEKS) -> dict[str, Any]:
    """The forecast from the ledger: the open invoices (the due-date index) and, per customer
    with a balance, their invoices and payments (two Queries on their index range)."""

    open_invoices = [i for i in store.open_receivables_due_by(date.max) if i.balance.minor > 0]
    behaviours: dict[str, Behaviour] = {}
    for customer_id in sorted({i.customer_id for i in open_invoices}):
        invoices = [d for d in store.customer_documents(customer_id) if isinstance(d, Invoice)]
        settled = history_of(invoices, store.customer_payments(customer_id))
        behaviours[customer_id] = behaviour(settled, today)
    forecast = weekly_collections(open_invoices, behaviours, today, weeks)
    forecast["population"] = population(behaviours.values()).to_json()
    return forecast
