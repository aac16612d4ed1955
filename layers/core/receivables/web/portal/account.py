"""What the portal's pages show of a customer (`receivables.web.portal.service`): their own
open invoices, credits, payments and what is in progress on the home page, the ways to pay, and
the statement as CSV."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, InvoiceStatus
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.payments.methods import methods_for, stripe_methods
from receivables.reporting.csv_export import to_csv
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable

    from receivables.ledger.model import Customer

RECENT_PAYMENTS = 5


def account(customer: Customer, today: date, bank_accounts: dict[str, str] | None = None) -> dict[str, Any]:
    """What the home page shows of ``customer``: their own documents and payments only; the ways
    to pay their open invoices (the preferred first) and to set up automatic payment."""
    documents = store.customer_documents(customer.customer_id)
    payments = store.customer_payments(customer.customer_id)
    invoices = sorted(
        (
            d
            for d in documents
            if isinstance(d, Invoice) and d.status in OPEN_RECEIVABLE and d.balance.minor > 0
        ),
        key=lambda i: (i.due_date, i.number),
    )
    credits: dict[str, Money] = {}
    for payment in payments:
        if payment.unapplied.minor > 0:
            credits[payment.unapplied.currency] = (
                credits.get(payment.unapplied.currency, Money.zero(payment.unapplied.currency))
                + payment.unapplied
            )
    in_progress: list[dict[str, str]] = []
    for dispute in store.customer_disputes(customer.customer_id):
        if not dispute.final:
            number = next(
                (
                    i.number
                    for i in documents
                    if isinstance(i, Invoice) and i.invoice_id == dispute.invoice_id
                ),
                "",
            )
            in_progress.append(
                {"kind": "dispute", "number": number, "detail": dispute.status.value.replace("_", " ")}
            )
    for invoice in invoices:
        promise = invoice.dunning.promise
        if promise is not None:
            in_progress.append(
                {"kind": "promise", "number": invoice.number, "detail": f"{promise.amount} by {promise.date}"}
            )
    recent = sorted(payments, key=lambda p: p.received_at, reverse=True)[:RECENT_PAYMENTS]
    open_currencies = sorted({i.currency for i in invoices})
    all_currencies = sorted({d.currency for d in documents if isinstance(d, Invoice)})
    return {
        "methods": _union(
            methods_for(c, customer.preferred_method, bank_accounts or {}) for c in open_currencies
        ),
        "autopay_methods": _union(stripe_methods(c, customer.preferred_method) for c in all_currencies)
        or ["card"],
        "invoices": [
            {
                "invoice": i,
                "days_late": max((today - i.due_date).days, 0)
                if i.status is not InvoiceStatus.DISPUTED
                else 0,
            }
            for i in invoices
        ],
        "credits": [credits[c] for c in sorted(credits)],
        "payments": [
            {
                "received": date.fromisoformat(p.received_at[:10]),
                "amount": p.amount,
                "reference": p.reference or "",
            }
            for p in recent
        ],
        "in_progress": in_progress,
    }


def _union(lists: Iterable[list[str]]) -> list[str]:
    """The methods of several currencies, in first-seen order, each once."""
    return list(dict.fromkeys(m for methods in lists for m in methods))


def statement_csv(statements: list[Any]) -> str:
    """The statement as CSV: a row per line, with the opening and closing rows per currency."""

    rows: list[dict[str, Any]] = []
    for s in statements:
        rows.append(
            {
                "currency": s.currency,
                "date": "",
                "kind": "opening",
                "reference": "",
                "amount": "",
                "balance": s.opening.to_decimal_string(),
            }
        )
        rows.extend(
            {
                "currency": s.currency,
                "date": line.day.isoformat(),
                "kind": line.kind,
                "reference": line.reference,
                "amount": line.amount.to_decimal_string(),
                "balance": line.balance.to_decimal_string(),
            }
            for line in s.lines
        )
        rows.append(
            {
                "currency": s.currency,
                "date": "",
                "kind": "closing",
                "reference": "",
                "amount": "",
                "balance": s.closing.to_decimal_string(),
            }
        )
    return to_csv(rows)
