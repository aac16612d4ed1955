"""A dispute ends when its invoice is paid in full: the customer has settled what they contested.

The payment's own transaction ends it (status ``settled``, resolution ``paid_in_full``, with its
audit event, and the deduction it routes resolved), so an invoice is never paid with its dispute
still open. A chargeback is the exception: the card network decides it, whatever else is paid.
A workflow still waiting for finance's decision finds the dispute over at its next reminder and
goes on to tell the customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.disputes.deductions import resolution_update
from receivables.disputes.service import dispute_event, next_version, open_dispute_of
from receivables.ledger.disputes import Resolution, Source, Status
from receivables.ledger.model import InvoiceStatus

if TYPE_CHECKING:
    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import AuditEvent, Invoice
    from receivables.storage import store

PAID_IN_FULL = "paid_in_full"

# A dispute's end: its changes (the dispute and its event) and the writes with them (its deduction).
Ended = tuple[list[tuple["Dispute", "AuditEvent"]], list["store.Write"]]


def ended_by_payment(before: Invoice, after: Invoice, payment_id: str, now: str, actor: str) -> Ended:
    """What to write with a payment that took ``before`` to ``after``: when it paid a disputed
    invoice in full, its open dispute ended (and its deduction's resolution); else nothing."""
    if before.status is not InvoiceStatus.DISPUTED or after.status is not InvoiceStatus.PAID:
        return [], []
    dispute = open_dispute_of(before.invoice_id)
    if dispute is None or dispute.source is Source.CHARGEBACK:
        return [], []
    resolution = Resolution(
        PAID_IN_FULL, actor, now, None, "the invoice was paid in full", {"payment_id": payment_id}
    )
    ended = next_version(dispute, now, status=Status.SETTLED, resolution=resolution)
    event = dispute_event(
        dispute,
        "DisputeResolved",
        now,
        actor,
        status=Status.SETTLED.value,
        resolution=PAID_IN_FULL,
        credit=None,
        payment_id=payment_id,
    )
    writes = resolution_update(dispute, resolution, now) if dispute.source is Source.DEDUCTION else []
    return [(ended, event)], writes
