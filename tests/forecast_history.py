"""A simulated payment history whose behaviour drifts, for the forecast's back-test.

Each customer has a lateness of their own (early payers, prompt ones, slow ones, very slow ones),
day-to-day noise, and a drift: their lateness changes steadily over the months (some get worse,
some better), and a tenth of them change habits abruptly once. They are invoiced every 2 to 6
weeks on 30-day terms; some join late (new customers, with little or no history at the cutoff).
Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

START = date(2025, 1, 1)


@dataclass(frozen=True, slots=True)
class SimulatedInvoice:
    customer: str
    issued: date
    due: date
    paid: date
    amount: int


def simulate(customers: int, months: int = 18, seed: int = 7) -> list[SimulatedInvoice]:
    """Every invoice of ``customers`` customers over ``months`` months, with when it was paid."""
    rng = random.Random(seed)
    invoices = []
    end = START + timedelta(days=months * 30)
    for n in range(customers):
        kind = rng.random()
        base = (
            rng.uniform(-8, 0)
            if kind < 0.2
            else rng.uniform(0, 6)
            if kind < 0.55
            else rng.uniform(8, 35)
            if kind < 0.9
            else rng.uniform(35, 80)
        )
        noise = rng.uniform(1, 8)
        drift = rng.gauss(0, 12) / 365  # days of lateness gained per day
        shift_day = START + timedelta(days=rng.randint(200, months * 30)) if rng.random() < 0.1 else None
        shift = rng.gauss(0, 20)
        joined = START + timedelta(days=rng.randint(0, months * 30 // 2)) if rng.random() < 0.25 else START
        day = joined + timedelta(days=rng.randint(0, 30))
        size = rng.lognormvariate(8, 1)
        while day < end:
            due = day + timedelta(days=30)
            t = (due - START).days
            late = base + drift * t + rng.gauss(0, noise) + (shift if shift_day and due >= shift_day else 0)
            paid = max(due + timedelta(days=round(late)), day)
            invoices.append(
                SimulatedInvoice(f"c{n}", day, due, paid, max(100, round(size * rng.uniform(0.5, 1.5))))
            )
            day += timedelta(days=rng.randint(14, 42))
    return invoices


def backtest(customers: int, cutoff_months: int = 12, months: int = 18) -> tuple[int, float, float]:
    """Learn from what was paid by the cutoff, predict the invoices due after it: (invoices
    scored, the model's mean absolute error in days, the due date's)."""
    from collections import defaultdict

    from receivables.credit.forecast import Settled, behaviour, population, predict

    invoices = simulate(customers, months)
    cutoff = START + timedelta(days=cutoff_months * 30)
    history: dict[str, list[Settled]] = defaultdict(list)
    for invoice in invoices:
        if invoice.paid < cutoff:
            history[invoice.customer].append(Settled(invoice.due, invoice.paid, invoice.amount))
    known = {customer: behaviour(settled, cutoff) for customer, settled in history.items()}
    everyone = population(known.values())
    from receivables.credit.forecast import Behaviour

    errors, baseline = [], []
    for invoice in invoices:
        if invoice.due < cutoff:
            continue
        own = known.get(invoice.customer, Behaviour(0.0, 0.0))
        predicted = predict(invoice.due, invoice.issued, own, everyone)
        errors.append(abs((invoice.paid - predicted).days))
        baseline.append(abs((invoice.paid - invoice.due).days))
    return len(errors), sum(errors) / len(errors), sum(baseline) / len(baseline)
