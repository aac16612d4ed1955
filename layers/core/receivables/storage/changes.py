"""One change to an invoice, with its audit event, retried on a concurrent change.

The change is a function of the invoice as read fresh: it answers the changed invoice, the audit
event's kind and data (a tuple, or a `Change` that also creates or deletes other items in the same
transaction), or None when there is nothing to do (already done, no longer applies).
The write is conditional on the version it read, so a change that raced another is read again
and decided again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from receivables.kernel.clock import iso_timestamp
from receivables.ledger.model import AuditEvent, Invoice
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock

MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Change:
    """A changed invoice with its audit event's ``kind`` and ``data``, and the items written
    with it (``writes``, each on its own condition: created, updated or deleted)."""

    invoice: Invoice
    kind: str
    data: dict[str, Any]
    writes: tuple[store.Write, ...] = ()


def change_invoice(
    invoice_id: str,
    change: Callable[[Invoice], tuple[Invoice, str, dict[str, Any]] | Change | None],
    actor: str,
    clock: Clock,
) -> bool:
    """Apply ``change`` to the fresh invoice with its audit event (by ``actor``); whether anything
    was written. Raises `store.StoreError` when the invoice keeps changing underneath."""
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            return False
        outcome = change(invoice)
        if outcome is None:
            return False
        if not isinstance(outcome, Change):
            outcome = Change(*outcome)
        changed, kind, data = outcome.invoice, outcome.kind, outcome.data
        now = iso_timestamp(clock.now())
        changed = replace(changed, version=invoice.version + 1, updated_at=now)
        event = AuditEvent(
            invoice_id,
            changed.version,
            kind,
            now,
            actor,
            {"invoice_id": invoice_id, "number": invoice.number, "customer_id": invoice.customer_id, **data},
        )
        try:
            store.UnitOfWork().save(changed, event).add(*outcome.writes).commit()
        except store.ConcurrentChangeError:
            continue
        return True
    raise store.StoreError(f"invoice {invoice_id}: too much contention, try again")
