"""When will each open invoice be paid, and what cash comes in over the next weeks.

The model (the definitions finance reads are in ``docs/forecast-and-risk.md``):

* A customer's **lateness** is the distribution of ``paid - due`` (days) over what they paid,
  disputed invoices apart; its centre is the median, so one invoice lost in their AP does not
  move it. Recent payments weigh more (the weight halves every `HALF_LIFE_DAYS`).
* Its shape comes mostly from everyone (a shrinkage): the population's **excess** (each
  payment's lateness less its customer's median) is mixed in around the customer's median,
  `PRIOR_WEIGHT` payments' worth; a customer without history is everyone's median with
  everyone's excess around it.
* An open invoice is dated from that distribution **given it is still unpaid today**: an invoice
  20 days overdue is dated from the payments that came 20 days late or later, so nothing lands
  in the past. A disputed invoice adds everyone's median delay of disputed invoices; a promise to
  pay dates it at the promised day plus everyone's median slip on promises.
* Payment **runs**: a customer who pays on one weekday, at the month end or on the 15th and the
  month end (three in five payments or more) is dated on their nearest run; nobody is dated on a
  weekend if they never paid on one.
* A **prediction interval**: the 8th and 92nd percentiles of the same distribution (it held
  81 % of the payment days in the back-test; the 10th-90th held fewer than 80 %).
* The **run-rate of invoices not issued yet**: each customer invoiced in the last `RUN_RATE_DAYS`
  days is expected to go on selling at that pace (a year: the seasons average out), each future
  invoice paid after the customer's terms and median lateness. Shown apart from the open
  invoices (``from_future_invoices``).

Each part is a `Refinements` switch: the back-test (`tests/benchmarks/test_forecast_backtest.py`)
prints the ladder, each step against the one before; a refinement that did not beat the simpler
model was removed (the docs list them).

`weekly_collections` sums the predictions per week, the first week from today to Sunday, then
Monday to Sunday, per currency, with the overdue part and the future invoices apart.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from statistics import median
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, InvoiceStatus
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from receivables.ledger.model import Payment

WEEKS = 13
HALF_LIFE_DAYS = 90
PRIOR_WEIGHT = 16.0  # payments' worth of everyone's excess in every customer's distribution
EXCESS_POINTS = 101  # the population's excess is kept as this many quantiles
MIN_FOR_HABIT = 5  # payments before a payment run is believed
HABIT_SHARE = 0.6
RUN_RATE_DAYS = 364  # a year of sales: the pace with the seasons averaged out
INTERVAL = (0.08, 0.92)


@dataclass(frozen=True, slots=True)
class Refinements:
    """The model's parts beyond "the customer's mean lateness", each on or off for the ladder."""

    median: bool = True  # the median instead of the mean
    conditional: bool = True  # an open invoice given it is unpaid today (else: not before today)
    half_life: int | None = HALF_LIFE_DAYS  # recency weighting
    prior_weight: float = PRIOR_WEIGHT  # everyone's excess mixed in
    disputes: bool = True
    promises: bool = True
    habits: bool = True  # payment runs and bank days
    run_rate: bool = True


BASIC = Refinements(
    median=False,
    conditional=False,
    half_life=None,
    prior_weight=0.0,
    disputes=False,
    promises=False,
    habits=False,
    run_rate=False,
)


@dataclass(frozen=True, slots=True)
class Settled:
    """One invoice (or part of one) a customer paid: when it was due and when it came."""

    due: date
    paid: date
    amount: int  # minor units
    issued: date | None = None
    disputed: bool = False
    promised: date | None = None  # the day they had promised, if they had


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open invoice as it stands today."""

    customer: str
    issued: date
    due: date
    amount: int  # the balance, minor units
    currency: str
    disputed: bool = False
    promised: date | None = None
    invoice_id: str = ""


@dataclass(frozen=True, slots=True)
class Sale:
    """An invoice issued (open or paid): the sales history the run-rate reads."""

    customer: str
    issued: date
    due: date
    amount: int  # what was invoiced, minor units
    currency: str


def _weighted_quantile(points: Sequence[tuple[float, float]], q: float) -> float:
    """The ``q`` quantile of ``(value, weight)`` points sorted by value."""
    total = sum(w for _, w in points)
    running = 0.0
    for value, weight in points:
        running += weight
        if running >= q * total:
            return value
    return points[-1][0]


def _habit_of(paid_days: Sequence[date]) -> str | None:
    """The payment run most payments fit (``weekday:N``, ``month_end``, ``mid_and_month_end``)."""
    if len(paid_days) < MIN_FOR_HABIT:
        return None
    best, share = None, 0.0
    for habit in (*(f"weekday:{n}" for n in range(5)), "month_end", "mid_and_month_end"):
        fit = sum(_on_run(habit, day) for day in paid_days) / len(paid_days)
        if fit > share:
            best, share = habit, fit
    return best if share >= HABIT_SHARE else None


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _bank_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _runs_near(habit: str, day: date) -> list[date]:
    """The run days of ``habit`` within a few weeks of ``day`` (moved off weekends)."""
    if habit.startswith("weekday:"):
        weekday = int(habit.split(":")[1])
        first = day - timedelta(days=(day.weekday() - weekday) % 7 + 7)
        return [first + timedelta(days=7 * n) for n in range(4)]
    ends = [_month_end(day.replace(day=1) - timedelta(days=1)), _month_end(day)]
    ends.append(_month_end(ends[-1] + timedelta(days=1)))
    runs = list(ends)
    if habit == "mid_and_month_end":
        runs += [e.replace(day=15) for e in ends]
    return sorted(_bank_day(r) for r in runs)


def _on_run(habit: str, day: date) -> bool:
    return day in _runs_near(habit, day)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What a customer's history says: their ordinary lateness as ``(days, weight)`` points
    sorted by days (disputed invoices apart), its centre, their mean, their payment run, their
    usual terms, and how many payments it rests on."""

    points: tuple[tuple[float, float], ...] = ()
    centre: float | None = None  # the weighted median of ``points`` (None: no history)
    mean: float | None = None  # the plain mean over every payment (the baseline's figure)
    habit: str | None = None
    weekend_payer: bool = False
    terms: int | None = None  # the median days from issue to due
    payments: int = 0

    @property
    def days_late(self) -> float:
        """The customer's usual lateness (the median; 0 without history)."""
        return self.centre or 0.0

    def to_json(self) -> dict[str, Any]:
        """The behaviour as the API shows it."""
        return {
            "days_late": round(self.days_late, 1),
            "payments": self.payments,
            "payment_run": self.habit,
        }


def behaviour(history: Iterable[Settled], as_of: date, refinements: Refinements = Refinements()) -> Behaviour:
    """A customer's behaviour from what they paid before ``as_of`` (pure; later payments are
    ignored, so a back-test cannot learn from its future)."""
    settled = [s for s in history if s.paid < as_of]
    if not settled:
        return Behaviour()
    ordinary = [s for s in settled if not (refinements.disputes and s.disputed)] or settled
    half_life = refinements.half_life
    points = sorted(
        (
            float((s.paid - s.due).days),
            0.5 ** ((as_of - s.paid).days / half_life) if half_life else 1.0,
        )
        for s in ordinary
    )
    lateness = [(s.paid - s.due).days for s in settled]
    terms = [(s.due - s.issued).days for s in settled if s.issued is not None]
    return Behaviour(
        points=tuple(points),
        centre=_weighted_quantile(points, 0.5),
        mean=sum(lateness) / len(lateness),
        habit=_habit_of([s.paid for s in settled]) if refinements.habits else None,
        weekend_payer=any(s.paid.weekday() >= 5 for s in settled),
        terms=round(median(terms)) if terms else None,
        payments=len(settled),
    )


@dataclass(frozen=True, slots=True)
class Population:
    """Everyone's behaviour: the median lateness, the excess around each customer's own
    median, the extra delay of a dispute and the slip on a promise."""

    centre: float = 0.0
    excess: tuple[float, ...] = (0.0,)
    dispute_delay: float = 0.0
    promise_slip: float = 0.0
    payments: int = 0

    def to_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "days_late": round(self.centre, 1),
            "payments": self.payments,
            "dispute_delay_days": round(self.dispute_delay, 1),
            "promise_slip_days": round(self.promise_slip, 1),
        }


def _quantiles(values: Sequence[float], count: int) -> tuple[float, ...]:
    ordered = sorted(values)
    if not ordered:
        return (0.0,)
    return tuple(
        ordered[min(len(ordered) - 1, round(k * (len(ordered) - 1) / (count - 1)))] for k in range(count)
    )


def population(
    histories: Mapping[str, Sequence[Settled]], behaviours: Mapping[str, Behaviour], as_of: date
) -> Population:
    """Everyone's behaviour from every customer's history before ``as_of`` (pure)."""
    lateness: list[float] = []
    excess: list[float] = []
    disputed: list[float] = []
    slips: list[float] = []
    for customer, history in histories.items():
        own = behaviours.get(customer)
        centre = own.centre if own is not None else None
        for s in history:
            if s.paid >= as_of:
                continue
            late = float((s.paid - s.due).days)
            if s.disputed:
                if centre is not None:
                    disputed.append(late - centre)
                continue
            lateness.append(late)
            if centre is not None and own is not None and own.payments >= 3:
                excess.append(late - centre)
            if s.promised is not None:
                slips.append(float((s.paid - s.promised).days))
    return Population(
        centre=median(lateness) if lateness else 0.0,
        excess=_quantiles(excess, EXCESS_POINTS) if excess else (0.0,),
        dispute_delay=median(disputed) if len(disputed) >= 5 else 0.0,
        promise_slip=median(slips) if len(slips) >= 5 else 0.0,
        payments=len(lateness),
    )


@dataclass(frozen=True, slots=True)
class Prediction:
    """An invoice's predicted payment day and its interval (`INTERVAL` percentiles)."""

    day: date
    low: date
    high: date


def _distribution(
    own: Behaviour, everyone: Population, refinements: Refinements
) -> tuple[float, list[tuple[float, float]]]:
    """The customer's centre and lateness distribution: their own points plus everyone's excess
    around their centre (all of it for a customer without history)."""
    centre = own.centre if own.centre is not None else everyone.centre
    points = list(own.points) if own.centre is not None else []
    prior = refinements.prior_weight if points else 1.0
    if prior > 0:
        each = prior / len(everyone.excess)
        points += [(centre + e, each) for e in everyone.excess]
    points.sort()
    return centre, points


def predict(
    item: OpenItem,
    own: Behaviour,
    everyone: Population,
    today: date,
    refinements: Refinements = Refinements(),
) -> Prediction:
    """The payment day of an open invoice: from its customer's lateness given it is unpaid
    ``today``, a dispute's delay, a promise, the customer's payment run; never before today nor
    before it was issued."""
    centre, points = _distribution(own, everyone, refinements)
    extra = everyone.dispute_delay if refinements.disputes and item.disputed else 0.0
    if extra:
        points = [(v + extra, w) for v, w in points]
    already = (today - item.due).days
    if refinements.conditional:
        at = bisect.bisect_left(points, (already, -1.0))
        points = points[at:] or [(float(already), 1.0)]
    if not refinements.median or not points:
        mid = (own.mean if own.mean is not None else centre) + extra
        low = high = mid
    else:
        mid = _weighted_quantile(points, 0.5)
        low, high = (_weighted_quantile(points, q) for q in INTERVAL)
    floor = max(today, item.issued)

    def day_of(late: float) -> date:
        return max(item.due + timedelta(days=round(late)), floor)

    day = day_of(mid)
    if refinements.promises and item.promised is not None and item.promised >= today:
        day = max(item.promised + timedelta(days=round(everyone.promise_slip)), floor)
    if refinements.habits:
        day = _on_habit(own, day, floor)
    return Prediction(day, min(day_of(low), day), max(day_of(high), day))


def _on_habit(own: Behaviour, day: date, floor: date) -> date:
    if own.habit is not None:
        runs = [r for r in _runs_near(own.habit, day) if r >= floor]
        if runs:
            return min(runs, key=lambda r: (abs((r - day).days), r))
    if own.payments >= 3 and not own.weekend_payer:
        return _bank_day(day)
    return day


# --- the run-rate of invoices not issued yet -------------------------------------------------------
def _week_starts(today: date, weeks: int) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [today, *(monday + timedelta(weeks=n) for n in range(1, weeks))]


def _week_of(day: date, today: date) -> int:
    return (day - (today - timedelta(days=today.weekday()))).days // 7


def run_rate(
    sales: Iterable[Sale],
    behaviours: Mapping[str, Behaviour],
    everyone: Population,
    today: date,
    weeks: int = WEEKS,
    refinements: Refinements = Refinements(),
) -> dict[str, list[Fraction]]:
    """Per currency and week, the cash expected from invoices not issued yet: each customer's
    sales over the last `RUN_RATE_DAYS` days spread evenly over the days to come, each day's
    paid after their terms and median lateness (exact fractions of minor units; rounded once,
    by the caller)."""
    known = [s for s in sales if s.issued < today]
    out: dict[str, list[Fraction]] = {}
    if not refinements.run_rate:
        return out
    first = today - timedelta(days=RUN_RATE_DAYS)
    per: dict[tuple[str, str], list[Sale]] = {}
    for sale in known:
        per.setdefault((sale.customer, sale.currency), []).append(sale)
    for (customer, currency), theirs in sorted(per.items()):
        recent = [s for s in theirs if s.issued >= first]
        if not recent:
            continue
        own = behaviours.get(customer, Behaviour())
        terms = own.terms if own.terms is not None else round(median((s.due - s.issued).days for s in theirs))
        late = own.centre if own.centre is not None else everyone.centre
        lag = terms + round(late)
        daily = Fraction(sum(s.amount for s in recent), RUN_RATE_DAYS)
        row = out.setdefault(currency, [Fraction(0)] * weeks)
        for offset in range(7 * weeks):
            issued = today + timedelta(days=offset)
            week = _week_of(max(issued + timedelta(days=lag), today), today)
            if week < weeks:
                row[week] += daily
    return out


# --- the weekly view --------------------------------------------------------------------------------
def _rounded(value: Fraction) -> int:
    return round(value)  # Fraction rounds half to even


def weekly_collections(
    open_items: Iterable[OpenItem],
    behaviours: Mapping[str, Behaviour],
    everyone: Population,
    today: date,
    weeks: int = WEEKS,
    future: Mapping[str, Sequence[Fraction]] | None = None,
    refinements: Refinements = Refinements(),
    *,
    detail: bool = False,
) -> dict[str, Any]:
    """Expected collections per week for the next ``weeks`` weeks, per currency: the first week
    from ``today`` to Sunday, then Monday to Sunday. ``expected`` is what the open invoices bring
    (``from_overdue`` the part from those already overdue), ``from_future_invoices`` the
    run-rate of invoices not issued yet (apart, not in ``expected``); what falls after the last
    week is ``later``. With ``detail``, ``predictions`` lists each open invoice's predicted
    payment day and interval, earliest first."""
    per: dict[str, dict[str, Any]] = {}
    predictions: list[dict[str, Any]] = []
    for item in open_items:
        if item.amount <= 0:
            continue
        own = behaviours.get(item.customer, Behaviour())
        predicted = predict(item, own, everyone, today, refinements)
        week = _week_of(predicted.day, today)
        if detail:
            predictions.append(
                {
                    "invoice_id": item.invoice_id,
                    "customer_id": item.customer,
                    "balance": Money(item.amount, item.currency).to_decimal_string(),
                    "currency": item.currency,
                    "due_date": item.due.isoformat(),
                    "predicted": predicted.day.isoformat(),
                    "low": predicted.low.isoformat(),
                    "high": predicted.high.isoformat(),
                    "disputed": item.disputed,
                    "promised": item.promised.isoformat() if item.promised else None,
                }
            )
        row = per.setdefault(
            item.currency, {"weeks": [[0, 0] for _ in range(weeks)], "later": 0, "invoices": 0}
        )
        row["invoices"] += 1
        if week >= weeks:
            row["later"] += item.amount
            continue
        row["weeks"][week][0] += item.amount
        if item.due < today:
            row["weeks"][week][1] += item.amount
    future = future or {}
    for currency in future:
        per.setdefault(currency, {"weeks": [[0, 0] for _ in range(weeks)], "later": 0, "invoices": 0})
    starts = _week_starts(today, weeks)
    out: dict[str, Any] = {"as_of": today.isoformat(), "weeks": weeks, "currencies": {}}
    for currency, row in sorted(per.items()):
        coming = [_rounded(v) for v in future.get(currency, [Fraction(0)] * weeks)]
        out["currencies"][currency] = {
            "invoices": row["invoices"],
            "weeks": [
                {
                    "week_of": starts[n].isoformat(),
                    "expected": Money(total, currency).to_decimal_string(),
                    "from_overdue": Money(overdue, currency).to_decimal_string(),
                    "from_future_invoices": Money(coming[n], currency).to_decimal_string(),
                }
                for n, (total, overdue) in enumerate(row["weeks"])
            ],
            "later": Money(row["later"], currency).to_decimal_string(),
            "future_invoices": Money(sum(coming), currency).to_decimal_string(),
        }
    if detail:
        out["predictions"] = sorted(predictions, key=lambda p: (p["predicted"], p["invoice_id"]))
    return out


# --- against the store --------------------------------------------------------------------------------
def history_of(
    invoices: Iterable[Invoice], payments: Iterable[Payment], disputed: Iterable[str] = ()
) -> list[Settled]:
    """What a customer paid towards which invoice, when: the allocations of their payments,
    each with its invoice's issue date, whether it was disputed, and its promise."""
    by_id = {i.invoice_id: i for i in invoices}
    contested = set(disputed)
    settled = []
    for payment in payments:
        paid = date.fromisoformat(payment.received_at[:10])
        for invoice_id, amount in payment.allocations:
            invoice = by_id.get(invoice_id)
            if invoice is None or amount.minor <= 0:
                continue
            promise = invoice.dunning.promise
            settled.append(
                Settled(
                    invoice.due_date,
                    paid,
                    amount.minor,
                    invoice.issue_date,
                    invoice_id in contested,
                    date.fromisoformat(promise.date) if promise is not None else None,
                )
            )
    return settled


def open_item(invoice: Invoice) -> OpenItem:
    """An open invoice as the model reads it."""
    promise = invoice.dunning.promise
    return OpenItem(
        invoice.customer_id,
        invoice.issue_date,
        invoice.due_date,
        invoice.balance.minor,
        invoice.currency,
        invoice.status is InvoiceStatus.DISPUTED,
        date.fromisoformat(promise.date) if promise is not None else None,
        invoice.invoice_id,
    )


def _months_back(today: date, count: int) -> list[str]:
    months, day = [], today.replace(day=1)
    for _ in range(count):
        months.append(day.strftime("%Y-%m"))
        day = (day - timedelta(days=1)).replace(day=1)
    return months


def recent_sales(today: date) -> list[Sale]:
    """The invoices issued over the last 13 months (the run-rate), newest first: pages of the
    monthly issue listing."""
    months = _months_back(today, 13)
    sales: list[Sale] = []
    cursor: Any = None
    while True:
        page, cursor = store.invoices_issued(months, 1000, cursor)
        sales += [
            Sale(i.customer_id, i.issue_date, i.due_date, i.payable.minor, i.currency)
            for i in page
            if i.status is not InvoiceStatus.VOID
        ]
        if cursor is None:
            return sales


def ledger_forecast(today: date, weeks: int = WEEKS, *, detail: bool = False) -> dict[str, Any]:
    """The forecast from the ledger: the open invoices (the due-date index), the invoices issued
    over the last 13 months (the monthly listing) and, per customer among them, their invoices,
    payments and disputes (three Queries on their index range). ``detail`` adds each open
    invoice's prediction."""

    open_invoices = [i for i in store.open_receivables_due_by(date.max) if i.balance.minor > 0]
    sales = recent_sales(today)
    recent = today - timedelta(days=RUN_RATE_DAYS)
    customers = {i.customer_id for i in open_invoices} | {s.customer for s in sales if s.issued >= recent}
    histories: dict[str, list[Settled]] = {}
    for customer_id in sorted(customers):
        invoices = [d for d in store.customer_documents(customer_id) if isinstance(d, Invoice)]
        disputed = {d.invoice_id for d in store.customer_disputes(customer_id)}
        histories[customer_id] = history_of(invoices, store.customer_payments(customer_id), disputed)
    known = today + timedelta(days=1)  # what was received today is known too
    behaviours = {c: behaviour(h, known) for c, h in histories.items()}
    everyone = population(histories, behaviours, known)
    future = run_rate(sales, behaviours, everyone, today, weeks)
    forecast = weekly_collections(
        [open_item(i) for i in open_invoices], behaviours, everyone, today, weeks, future, detail=detail
    )
    forecast["population"] = everyone.to_json()
    return forecast
