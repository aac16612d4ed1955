"""The finance API's listings of invoices and payments: which index answers which filter, the
period a listing reads (one index partition a month) and the rows it shows.

A listing pages with a cursor, an opaque position the store checks (`store.CursorError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import invoice_json
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import OPEN_RECEIVABLE, document_id
from receivables.reporting.aggregates import Reads, sellers
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.ledger.model import Invoice, Payment

INVOICE_STATUSES = ("open", "partially_paid", "paid", "disputed", "credited", "written_off", "void")
MAX_PERIOD_MONTHS = 121  # ten years and a month: a listing reads one index partition a month


def months(first: date, last: date, field: str = "from") -> list[str]:
    """The months from ``last`` back to ``first`` (``YYYY-MM``), at most `MAX_PERIOD_MONTHS`;
    a longer or reversed period is a 400 naming ``field``."""
    span = (last.year - first.year) * 12 + last.month - first.month
    if not 0 <= span < MAX_PERIOD_MONTHS:
        raise InvalidRequestError(
            [
                FieldError(
                    field, f"must start at most {MAX_PERIOD_MONTHS - 1} months before the end, not after it"
                )
            ]
        )
    found, month = [], last.replace(day=1)
    while month >= first.replace(day=1):
        found.append(month.isoformat()[:7])
        month = (month - timedelta(days=1)).replace(day=1)
    return found


@dataclass(frozen=True, slots=True)
class InvoiceFilters:
    """What GET /invoices asks for; None is "any"."""

    issued_from: date
    issued_to: date
    status: str | None = None
    customer: str | None = None
    overdue: bool | None = None
    due_from: date | None = None
    due_to: date | None = None
    currency: str | None = None
    number: str | None = None
    seller: str | None = None

    def wanted(self, invoice: Invoice, today: date) -> bool:
        return (
            (self.status is None or invoice.status.value == self.status)
            and (self.currency is None or invoice.currency == self.currency)
            and (self.customer is None or invoice.customer_id == self.customer)
            and (
                self.overdue is None
                or (invoice.status in OPEN_RECEIVABLE and invoice.due_date < today) == self.overdue
            )
            and (self.due_from is None or invoice.due_date >= self.due_from)
            and (self.due_to is None or invoice.due_date <= self.due_to)
        )


def list_invoices(
    filters: InvoiceFilters, limit: int, position: store.Cursor | None, today: date, default_seller: str
) -> tuple[list[dict[str, Any]], store.Cursor | None]:
    """One page of the invoices ``filters`` ask for, and the position of the next. Each filter
    picks an index: a number one GetItem per seller, a customer's (gsi1), the open invoices by
    due date (gsi2) or the issue months (gsi3)."""
    f = filters
    next_position: store.Cursor | None
    if f.number is not None:
        # The number is the seller's: look under each seller invoices were ever issued by (or
        # the one ``seller`` names), one GetItem each.

        issuers = [f.seller] if f.seller else dict.fromkeys([default_seller, *sellers(Reads())])
        found_all = (store.get_invoice(document_id(s, DocumentType.INVOICE, f.number)) for s in issuers)
        invoices, next_position = [i for i in found_all if i is not None], None
    elif f.customer is not None:
        invoices, next_position = store.customer_invoices(f.customer, limit, position)
    elif f.overdue or f.due_from or f.due_to or f.status in ("open", "partially_paid", "disputed"):
        last_due = min(f.due_to or date.max, today - timedelta(days=1)) if f.overdue else f.due_to
        if position is not None and (set(position) != {"after"} or not isinstance(position["after"], str)):
            raise store.CursorError("not a position of this listing")
        after = position["after"] if position else None
        invoices, last = store.open_invoices_by_due(limit, after, f.due_from, last_due)
        next_position = {"after": last} if last else None
    else:
        invoices, next_position = store.invoices_issued(
            months(f.issued_from, f.issued_to, "issued_from"), limit, position
        )
    return [invoice_json(i, today) for i in invoices if f.wanted(i, today)], next_position


def payment_json(payment: Payment) -> dict[str, Any]:
    """A payment as the API shows it: decimal strings for money."""
    return {
        "payment_id": payment.payment_id,
        "customer_id": payment.customer_id,
        "amount": payment.amount.to_decimal_string(),
        "currency": payment.amount.currency,
        "received_at": payment.received_at,
        "method": payment.method,
        "reference": payment.reference,
        "matched_by": payment.matched_by,
        "allocations": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in payment.allocations],
        "unapplied": payment.unapplied.to_decimal_string(),
        "refunded": payment.refunded.to_decimal_string(),
        "version": payment.version,
    }


def list_payments(
    first: date,
    last: date,
    currency: str | None,
    customer: str | None,
    limit: int,
    position: store.Cursor | None,
) -> tuple[list[dict[str, Any]], store.Cursor | None]:
    """One page of the payments received from ``first`` to ``last`` (in ``currency``, from
    ``customer``), newest first, and the position of the next."""
    payments, next_position = store.payments_received(months(first, last, "received_from"), limit, position)
    rows = [
        payment_json(p)
        for p in payments
        if (currency is None or p.amount.currency == currency)
        and (customer is None or p.customer_id == customer)
        and first.isoformat() <= p.received_at[:10] <= last.isoformat()
    ]
    return rows, next_position
