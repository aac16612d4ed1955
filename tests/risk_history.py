"""The risk score's back-test on the generated history of `tests.forecast_history`.

At each cut-off every customer is scored from what was known then: their invoices issued before
it (paid, open or disputed as they stood), the payments received before it, the disputes raised
and the promises broken or kept by then. Their later late rate is the share of their invoices
due in the `LATER_DAYS` after the cut-off that were paid after the due date. Nothing after the
cut-off reaches the score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from receivables.credit.risk import Score, score
from receivables.kernel.money import Money
from receivables.ledger.model import InvoiceStatus, Payment
from tests.forecast_history import SimulatedInvoice, mondays, simulate
from tests.unit.ledger.test_ledger import make_invoice

LATER_DAYS = 182
MIN_LATER = 3  # invoices due after the cut-off for a customer to be ranked


@dataclass(frozen=True, slots=True)
class RiskBacktest:
    """Pooled over the cut-offs: Spearman's rank correlation of the score with the later late
    rate (customers with `MIN_LATER` later invoices or more), the late rate of the later
    invoices of the customers classed high, medium and low, with how many were in each class,
    and how many of the chronic late payers (four in five of three or more paid invoices paid
    late by the cut-off) were classed low."""

    customers_scored: int
    risk_spearman: float
    risk_high_late_share: float
    risk_medium_late_share: float
    risk_low_late_share: float
    risk_high_customers: int
    risk_medium_customers: int
    risk_low_customers: int
    risk_chronic_late_customers: int
    risk_chronic_late_classed_low: int

    def figures(self) -> dict[str, float | int]:
        """Every figure by its printed name."""
        return {name: getattr(self, name) for name in self.__slots__}


def score_at(invoices: list[SimulatedInvoice], cutoff: date) -> Score:
    """One customer's score at ``cutoff`` from their invoices, as known then."""
    documents, payments = [], []
    counts = {"disputes": 0, "broken_promises": 0, "promises_kept": 0}
    for invoice in invoices:
        if invoice.issued >= cutoff:
            continue
        money = Money(invoice.amount, "EUR")
        disputed = invoice.disputed_on is not None and invoice.disputed_on < cutoff
        counts["disputes"] += disputed
        if invoice.promised_on is not None and invoice.promised is not None and invoice.promised_on < cutoff:
            if invoice.promised < cutoff and invoice.paid > invoice.promised:
                counts["broken_promises"] += 1
            elif invoice.paid < cutoff:
                counts["promises_kept"] += 1
        head = make_invoice(
            invoice.amount,
            invoice_id=invoice.number,
            number=invoice.number,
            customer_id=invoice.customer,
            issue_date=invoice.issued,
            due_date=invoice.due,
        )
        if invoice.paid < cutoff:
            documents.append(replace(head, status=InvoiceStatus.PAID, balance=Money(0, "EUR"), paid=money))
            received = invoice.paid.isoformat() + "T10:00:00.000Z"
            zero = Money(0, "EUR")
            payments.append(
                Payment(
                    f"p-{invoice.number}",
                    invoice.customer,
                    money,
                    received,
                    "bank_transfer",
                    None,
                    zero,
                    zero,
                    ((invoice.number, money),),
                )
            )
        else:
            documents.append(replace(head, status=InvoiceStatus.DISPUTED) if disputed else head)
    return score(documents, payments, cutoff, counts=counts)


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda n: values[n])
    ranks = [0.0] * len(values)
    n = 0
    while n < len(order):
        m = n
        while m + 1 < len(order) and values[order[m + 1]] == values[order[n]]:
            m += 1
        for k in range(n, m + 1):
            ranks[order[k]] = (n + m) / 2
        n = m + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (ties share their mean rank)."""
    rx, ry = _ranks(xs), _ranks(ys)
    mean_x, mean_y = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mean_x) * (b - mean_y) for a, b in zip(rx, ry, strict=True))
    var_x = sum((a - mean_x) ** 2 for a in rx)
    var_y = sum((b - mean_y) ** 2 for b in ry)
    return cov / (var_x * var_y) ** 0.5 if var_x and var_y else 0.0


def risk_backtest(
    customers: int,
    months: int = 30,
    cutoffs: list[date] | None = None,
    seed: int = 7,
    portfolio: str = "late",
) -> RiskBacktest:
    """Score every customer at each cut-off (months 12, 16 and 20 unless given) and compare with
    how they paid over the next `LATER_DAYS` days."""
    history = simulate(customers, months, seed, portfolio)
    by_customer: dict[str, list[SimulatedInvoice]] = {}
    for invoice in history:
        by_customer.setdefault(invoice.customer, []).append(invoice)
    scores: list[float] = []
    rates: list[float] = []
    late: dict[str, list[int]] = {"high": [0, 0, 0], "medium": [0, 0, 0], "low": [0, 0, 0]}
    chronic = chronic_low = 0
    for cutoff in cutoffs if cutoffs is not None else mondays(20, 12, 4):
        end = cutoff + timedelta(days=LATER_DAYS)
        for invoices in by_customer.values():
            later = [i for i in invoices if cutoff <= i.due < end]
            if len(later) < MIN_LATER or not any(i.issued < cutoff for i in invoices):
                continue
            scored = score_at(invoices, cutoff)
            paid_late = sum(i.paid > i.due for i in later)
            scores.append(scored.score)
            rates.append(paid_late / len(later))
            row = late[scored.risk_class]
            row[0] += paid_late
            row[1] += len(later)
            row[2] += 1
            past = [i for i in invoices if i.paid < cutoff]
            if len(past) >= MIN_LATER and sum(i.paid > i.due for i in past) >= 0.8 * len(past):
                chronic += 1
                chronic_low += scored.risk_class == "low"

    def share(name: str) -> float:
        return late[name][0] / late[name][1] if late[name][1] else 0.0

    return RiskBacktest(
        customers_scored=len(scores),
        risk_spearman=spearman(scores, rates),
        risk_high_late_share=share("high"),
        risk_medium_late_share=share("medium"),
        risk_low_late_share=share("low"),
        risk_high_customers=late["high"][2],
        risk_medium_customers=late["medium"][2],
        risk_low_customers=late["low"][2],
        risk_chronic_late_customers=chronic,
        risk_chronic_late_classed_low=chronic_low,
    )
