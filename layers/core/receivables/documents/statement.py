"""A customer's statement of account for a date range, per currency (pure).

What the customer was invoiced (an invoice's payable amount, on its issue date; a void invoice
was never owed), credited (a credit note's amount, on its issue date) and paid (a payment less
what was refunded of it, on the day it was received). The opening balance is all of that before
the range; every line moves a running balance; and, exactly, per currency:

    closing = opening + invoiced - credited - paid
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from receivables.kernel.money import Money
from receivables.ledger.model import CreditNote, Invoice, InvoiceStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from receivables.ledger.model import Payment

KINDS = ("invoice", "credit_note", "payment")


@dataclass(frozen=True, slots=True)
class Line:
    """One movement: ``amount`` adds to what is owed (an invoice) or takes from it (negative)."""

    day: date
    kind: str  # one of KINDS
    reference: str  # the document number, or the payment's reference
    amount: Money
    balance: Money  # the running balance after this line


@dataclass
class CurrencyStatement:
    """The statement in one currency."""

    currency: str
    opening: Money
    lines: list[Line] = field(default_factory=list)

    def total(self, kind: str) -> Money:
        """What the lines of ``kind`` add up to (credits and payments as positive amounts)."""
        sign = 1 if kind == "invoice" else -1
        return sum(
            (Money(sign * ln.amount.minor, self.currency) for ln in self.lines if ln.kind == kind),
            Money.zero(self.currency),
        )

    @property
    def closing(self) -> Money:
        """The balance at the end of the range."""
        return self.lines[-1].balance if self.lines else self.opening


def _movements(
    documents: Iterable[Invoice | CreditNote], payments: Iterable[Payment]
) -> list[tuple[date, int, str, Money]]:
    moves: list[tuple[date, int, str, Money]] = []
    for document in documents:
        if isinstance(document, Invoice):
            if document.status is not InvoiceStatus.VOID:
                moves.append((document.issue_date, 0, document.number, document.payable))
        elif isinstance(document, CreditNote):
            moves.append((document.issue_date, 1, document.number, -document.amount))
    for payment in payments:
        kept = payment.amount - payment.refunded
        if kept.minor:
            received = date.fromisoformat(payment.received_at[:10])
            moves.append((received, 2, payment.reference or payment.payment_id, -kept))
    return moves


def build_statement(
    documents: Iterable[Invoice | CreditNote], payments: Iterable[Payment], first: date, last: date
) -> list[CurrencyStatement]:
    """The statement from ``first`` to ``last`` (inclusive), one per currency that has a
    balance or a movement, in currency order; lines by day, invoices before credits before
    payments on the same day."""
    statements: dict[str, CurrencyStatement] = {}
    moves = sorted(_movements(documents, payments), key=lambda m: (m[0], m[1], m[2]))
    for day, order, reference, amount in moves:
        if day > last:
            continue
        statement = statements.setdefault(
            amount.currency, CurrencyStatement(amount.currency, Money.zero(amount.currency))
        )
        if day < first:
            statement.opening = statement.opening + amount
            continue
        balance = statement.closing + amount
        statement.lines.append(Line(day, KINDS[order], reference, amount, balance))
    return [s for _, s in sorted(statements.items()) if s.lines or not s.opening.is_zero()]
