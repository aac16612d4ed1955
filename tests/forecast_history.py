"""A generated receivables history for the forecast's and the risk score's back-tests.

It is not written in the model's form. Each customer has behaviours the model is never told
about, and several of them at once:

* a lateness level (early, prompt, a little late, chronically late, very late) on their own
  payment terms (14, 30, 45 or 60 days), with day-to-day noise of their own and, now and then,
  an outlier (an invoice lost in their AP: one to four months later than usual);
* a course: steady, improving or worsening steadily over the two years, or one abrupt change;
* a payment habit: any day, a weekly payment run on one weekday, a month-end run, or runs on
  the 15th and at the month end; nobody's bank pays at the weekend;
* slower payment of large invoices and, for some, in August and over Christmas;
* disputes at a rate of their own (a disputed invoice waits for its resolution: weeks later);
  a few late invoices get a promise to pay, which is roughly kept;
* sales of their own: monthly, weekly or irregular invoices, sizes that vary, a seasonal swing
  shared by the portfolio (a peak in the autumn) and one of their own, growth or decline;
  customers who join during the history and customers who leave.

Deterministic for a seed. `cutoff_view` gives what was known at a cut-off, so nothing the
back-tests learn from comes from after it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

START = date(2024, 1, 1)  # a Monday
TERMS = ((30, 0.7), (14, 0.1), (45, 0.1), (60, 0.1))


@dataclass(frozen=True, slots=True)
class SimulatedInvoice:
    """One invoice of the history and what happened to it."""

    number: str
    customer: str
    issued: date
    due: date
    paid: date
    amount: int  # minor units
    disputed_on: date | None = None  # when the customer raised a dispute
    promised_on: date | None = None  # when they promised to pay...
    promised: date | None = None  # ...by this date


@dataclass(frozen=True, slots=True)
class Profile:
    """How one customer behaves (the generator's secret)."""

    name: str
    terms: int
    start_late: float
    end_late: float
    shift_day: date | None
    noise: float
    habit: str  # "any", "weekday", "month_end", "twice_monthly"
    weekday: int
    seasonal_payer: bool
    dispute_rate: float
    cadence: str  # "monthly", "weekly", "irregular"
    size: float
    growth: float  # per year
    own_season: float
    own_phase: float
    joined: date
    left: date | None


def _choose(rng: random.Random, options: tuple[tuple[int, float], ...]) -> int:
    pick = rng.random()
    for value, share in options:
        pick -= share
        if pick < 0:
            return value
    return options[-1][0]


# The shares of early, prompt, late and very late payers: a portfolio that pays late (seven in
# ten invoices late, payment runs and outliers included) and one with fewer late payers (half).
PORTFOLIOS = {"late": (0.35, 0.25, 0.3, 0.1), "fewer_late": (0.65, 0.25, 0.08, 0.02)}


def _profile(rng: random.Random, n: int, days: int, portfolio: str) -> Profile:
    early, prompt, late, _ = PORTFOLIOS[portfolio]
    level = rng.random()
    base = (
        rng.uniform(-12, -3)
        if level < early
        else rng.uniform(-3, 4)
        if level < early + prompt
        else rng.uniform(10, 35)
        if level < early + prompt + late
        else rng.uniform(35, 70)
    )
    course = rng.random()
    end, shift_day = base, None
    if course < 0.15:  # improving
        end = max(base - rng.uniform(10, 35), rng.uniform(-3, 3))
    elif course < 0.3:  # worsening
        end = base + rng.uniform(10, 35)
    elif course < 0.38:  # one abrupt change
        end = max(base + rng.choice((-1, 1)) * rng.uniform(10, 30), -5)
        shift_day = START + timedelta(days=rng.randint(150, days - 60))
    habit = rng.choices(("any", "weekday", "month_end", "twice_monthly"), (0.45, 0.3, 0.15, 0.1))[0]
    dispute = rng.random()
    joined = START + timedelta(days=rng.randint(30, days * 2 // 3)) if rng.random() < 0.2 else START
    left = START + timedelta(days=rng.randint(200, days)) if rng.random() < 0.1 else None
    return Profile(
        name=f"c{n:04d}",
        terms=_choose(rng, TERMS),
        start_late=base,
        end_late=end,
        shift_day=shift_day,
        noise=rng.uniform(1, 9),
        habit=habit,
        weekday=rng.randrange(5),
        seasonal_payer=rng.random() < 0.3,
        dispute_rate=0.03 if dispute < 0.6 else 0.12 if dispute < 0.9 else 0.35,
        cadence=rng.choices(("monthly", "weekly", "irregular"), (0.45, 0.15, 0.4))[0],
        size=rng.lognormvariate(11, 1.1),  # minor units: around 600.00, some far larger
        growth=rng.uniform(-0.3, 0.4),
        own_season=rng.uniform(0, 0.3),
        own_phase=rng.uniform(0, 2 * math.pi),
        joined=joined,
        left=left,
    )


def _lateness(p: Profile, due: date, days: int) -> float:
    """The customer's usual lateness for an invoice due on ``due`` (before noise)."""
    if p.shift_day is not None:
        return p.end_late if due >= p.shift_day else p.start_late
    share = min(max((due - START).days / days, 0.0), 1.0)
    return p.start_late + (p.end_late - p.start_late) * share


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _habit(p: Profile, day: date) -> date:
    """The day the customer's payment run actually pays what they mean to pay on ``day``: the
    nearest run."""
    if p.habit == "weekday":
        day += timedelta(days=(p.weekday - day.weekday() + 3) % 7 - 3)
    elif p.habit in ("month_end", "twice_monthly"):
        previous = day.replace(day=1) - timedelta(days=1)
        runs = [previous, _month_end(day)]
        if p.habit == "twice_monthly":
            runs.append(day.replace(day=15))
        day = min(runs, key=lambda run: abs((run - day).days))
    while day.weekday() >= 5:  # no bank pays at the weekend
        day += timedelta(days=1)
    return day


def _issue_days(p: Profile, rng: random.Random, end: date) -> list[date]:
    day = p.joined + timedelta(days=rng.randint(0, 20))
    out = []
    stop = min(end, p.left) if p.left else end
    while day < stop:
        if day.weekday() < 5:
            out.append(day)
        if p.cadence == "monthly":
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=min(day.day, 28))
        elif p.cadence == "weekly":
            day += timedelta(days=7)
        else:
            day += timedelta(days=rng.randint(5, 45))
    return out


def simulate(
    customers: int, months: int = 30, seed: int = 7, portfolio: str = "late"
) -> list[SimulatedInvoice]:
    """Every invoice of ``customers`` customers issued over ``months`` months, with when it was
    paid (some long after), ordered by issue date; ``portfolio`` (`PORTFOLIOS`) sets how many
    pay early, on time, late and very late."""
    rng = random.Random(seed)
    days = months * 30
    end = START + timedelta(days=days)
    invoices = []
    for n in range(customers):
        p = _profile(rng, n, days, portfolio)
        for k, issued in enumerate(_issue_days(p, rng, end)):
            t = (issued - START).days
            season = 1 + 0.25 * math.sin(2 * math.pi * (t - 200) / 365)  # autumn peak, spring low
            own = 1 + p.own_season * math.sin(2 * math.pi * t / 365 + p.own_phase)
            trend = (1 + p.growth) ** (t / 365)
            amount = max(1000, round(p.size * season * own * trend * rng.lognormvariate(0, 0.35)))
            due = issued + timedelta(days=p.terms)
            late = _lateness(p, due, days) + rng.gauss(0, p.noise)
            if amount > 2.5 * p.size:
                late += rng.uniform(2, 10)  # the large ones need another signature
            if p.seasonal_payer and (due.month == 8 or (due.month == 12 and due.day > 15)):
                late += rng.uniform(5, 15)
            if rng.random() < 0.04:
                late += rng.uniform(30, 120)  # lost in their AP
            disputed_on = promised_on = promised = None
            if rng.random() < p.dispute_rate:
                disputed_on = issued + timedelta(days=rng.randint(3, p.terms + 10))
                late = max(late, (disputed_on - due).days) + rng.uniform(5, 40)
            target = due + timedelta(days=round(late))
            paid = max(_habit(p, target), issued + timedelta(days=1))
            if disputed_on is None and (paid - due).days > 20 and rng.random() < 0.3:
                promised_on = due + timedelta(days=rng.randint(7, 15))
                if promised_on < paid:
                    promised = paid + timedelta(days=round(rng.gauss(0, 3)))
                    promised = max(promised, promised_on + timedelta(days=1))
                else:
                    promised_on = None
            invoices.append(
                SimulatedInvoice(
                    f"{p.name}-{k}", p.name, issued, due, paid, amount, disputed_on, promised_on, promised
                )
            )
    invoices.sort(key=lambda i: (i.issued, i.number))
    return invoices


def mondays(months: int, first_month: int = 12, step_months: int = 2) -> list[date]:
    """Rolling cut-offs: the Monday on or after each ``step_months``-th month from ``first_month``
    up to ``months``."""
    out = []
    for month in range(first_month, months + 1, step_months):
        day = START + timedelta(days=month * 365 // 12)
        out.append(day + timedelta(days=(-day.weekday()) % 7))
    return out


@dataclass(frozen=True, slots=True)
class CutoffView:
    """What was known at a cut-off: the invoices paid before it (learnt from), those issued
    before it and still unpaid (scored, with only their state at the cut-off), every invoice
    issued before it (the sales history), and what was received in each of the weeks after."""

    cutoff: date
    paid: list[SimulatedInvoice]
    open: list[SimulatedInvoice]
    issued: list[SimulatedInvoice]
    receipts: list[int]  # per week from the cut-off, of every invoice (issued later too)
    receipts_from_open: list[int]  # per week, of the invoices open at the cut-off only


def cutoff_view(invoices: list[SimulatedInvoice], cutoff: date, weeks: int = 13) -> CutoffView:
    """Split the history at ``cutoff``: an invoice paid before it is learnt from, one paid on it
    or after is scored, never both."""
    issued = [i for i in invoices if i.issued < cutoff]
    paid = [i for i in issued if i.paid < cutoff]
    open_ = [i for i in issued if i.paid >= cutoff]
    receipts, from_open = [0] * weeks, [0] * weeks
    scored = {i.number for i in open_}
    for invoice in invoices:
        week = (invoice.paid - cutoff).days // 7
        if 0 <= week < weeks:
            receipts[week] += invoice.amount
            if invoice.number in scored:
                from_open[week] += invoice.amount
    return CutoffView(cutoff, paid, open_, issued, receipts, from_open)


# --- the forecast's back-test ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Backtest:
    """The back-test's figures, pooled over every cut-off (see `backtest`)."""

    cutoffs: int
    invoices_scored: int
    forecast_mae_days: float
    due_date_baseline_mae_days: float
    customer_mean_baseline_mae_days: float
    last5_baseline_mae_days: float
    forecast_cash_error_pct: float
    customer_mean_baseline_cash_error_pct: float
    forecast_open_cash_error_pct: float
    customer_mean_baseline_open_cash_error_pct: float
    forecast_interval_coverage_pct: float
    forecast_overdue_mae_days: float
    customer_mean_baseline_overdue_mae_days: float

    def figures(self) -> dict[str, float | int]:
        """Every figure by its printed name."""
        return {name: getattr(self, name) for name in self.__slots__}


def _known(invoice: SimulatedInvoice, cutoff: date) -> tuple[bool, date | None]:
    """(disputed, promised day) as known at ``cutoff``."""
    disputed = invoice.disputed_on is not None and invoice.disputed_on < cutoff
    promised = invoice.promised if invoice.promised_on is not None and invoice.promised_on < cutoff else None
    return disputed, promised


def _cash_error(forecast: list[list[int]], actual: list[list[int]]) -> float:
    """Sum over cut-offs and weeks of |forecast - actual|, over the sum of actual, in %."""
    missed = sum(
        abs(f - a) for fs, as_ in zip(forecast, actual, strict=True) for f, a in zip(fs, as_, strict=True)
    )
    return 100 * missed / max(sum(sum(a) for a in actual), 1)


def backtest(
    customers: int,
    months: int = 30,
    cutoffs: list[date] | None = None,
    refinements: object = None,
    seed: int = 7,
    weeks: int = 13,
    portfolio: str = "late",
) -> Backtest:
    """At each cut-off (rolling, every two months from month 12 to month 24), learn from the
    invoices paid before it and the sales issued before it, and predict every invoice issued
    before it and not paid by then (with its dispute and promise as known at the cut-off);
    score the days against when it was paid and the cash per week against what came in."""
    from fractions import Fraction

    from receivables.credit.forecast import (
        OpenItem,
        Refinements,
        Sale,
        Settled,
        behaviour,
        population,
        predict,
        run_rate,
    )

    chosen = refinements if isinstance(refinements, Refinements) else Refinements()
    invoices = simulate(customers, months, seed, portfolio)
    days: dict[str, list[float]] = {
        "model": [],
        "due": [],
        "mean": [],
        "last5": [],
        "model_od": [],
        "mean_od": [],
    }
    inside = 0
    cash: dict[str, list[list[int]]] = {
        "model": [],
        "mean": [],
        "model_open": [],
        "actual": [],
        "actual_open": [],
    }
    points = cutoffs if cutoffs is not None else mondays(min(months - 6, 24))
    for cutoff in points:
        view = cutoff_view(invoices, cutoff, weeks)
        histories: dict[str, list[Settled]] = {}
        for paid in sorted(view.paid, key=lambda i: i.paid):
            disputed, promised = _known(paid, cutoff)
            histories.setdefault(paid.customer, []).append(
                Settled(paid.due, paid.paid, paid.amount, paid.issued, disputed, promised)
            )
        behaviours = {c: behaviour(h, cutoff, chosen) for c, h in histories.items()}
        everyone = population(histories, behaviours, cutoff)
        means = {c: sum((s.paid - s.due).days for s in h) / len(h) for c, h in histories.items()}
        last5 = {c: sum((s.paid - s.due).days for s in h[-5:]) / len(h[-5:]) for c, h in histories.items()}
        all_late = [(s.paid - s.due).days for h in histories.values() for s in h]
        overall = sum(all_late) / max(len(all_late), 1)
        model_weeks, mean_weeks = [0] * weeks, [0] * weeks
        for invoice in view.open:
            disputed, promised = _known(invoice, cutoff)
            item = OpenItem(
                invoice.customer, invoice.issued, invoice.due, invoice.amount, "EUR", disputed, promised
            )
            predicted = predict(
                item, behaviours.get(invoice.customer, behaviour([], cutoff)), everyone, cutoff, chosen
            )
            mean_day = max(invoice.due + timedelta(days=round(means.get(invoice.customer, overall))), cutoff)
            last5_day = max(invoice.due + timedelta(days=round(last5.get(invoice.customer, overall))), cutoff)
            days["model"].append(abs((invoice.paid - predicted.day).days))
            days["due"].append(abs((invoice.paid - max(invoice.due, cutoff)).days))
            days["mean"].append(abs((invoice.paid - mean_day).days))
            days["last5"].append(abs((invoice.paid - last5_day).days))
            if invoice.due < cutoff:
                days["model_od"].append(days["model"][-1])
                days["mean_od"].append(days["mean"][-1])
            inside += predicted.low <= invoice.paid <= predicted.high
            for row, day in ((model_weeks, predicted.day), (mean_weeks, mean_day)):
                week = (day - cutoff).days // 7
                if week < weeks:
                    row[week] += invoice.amount
        sales = [Sale(i.customer, i.issued, i.due, i.amount, "EUR") for i in view.issued]
        future = run_rate(sales, behaviours, everyone, cutoff, weeks, chosen).get(
            "EUR", [Fraction(0)] * weeks
        )
        cash["model_open"].append(model_weeks)
        cash["model"].append([m + round(f) for m, f in zip(model_weeks, future, strict=True)])
        cash["mean"].append(mean_weeks)
        cash["actual"].append(view.receipts)
        cash["actual_open"].append(view.receipts_from_open)

    def mae(name: str) -> float:
        return sum(days[name]) / max(len(days[name]), 1)

    return Backtest(
        cutoffs=len(points),
        invoices_scored=len(days["model"]),
        forecast_mae_days=mae("model"),
        due_date_baseline_mae_days=mae("due"),
        customer_mean_baseline_mae_days=mae("mean"),
        last5_baseline_mae_days=mae("last5"),
        forecast_cash_error_pct=_cash_error(cash["model"], cash["actual"]),
        customer_mean_baseline_cash_error_pct=_cash_error(cash["mean"], cash["actual"]),
        forecast_open_cash_error_pct=_cash_error(cash["model_open"], cash["actual_open"]),
        customer_mean_baseline_open_cash_error_pct=_cash_error(cash["mean"], cash["actual_open"]),
        forecast_interval_coverage_pct=100 * inside / max(len(days["model"]), 1),
        forecast_overdue_mae_days=mae("model_od"),
        customer_mean_baseline_overdue_mae_days=mae("mean_od"),
    )
