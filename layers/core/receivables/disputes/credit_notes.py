"""The credit note a dispute's decision or a deduction's valid part grants: its number, its
amount applied to the invoice, and its allocation."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING

from receivables.ledger.model import Allocation, CreditNote, DocumentType, Invoice
from receivables.ledger.rules import apply_credit, document_id
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.money import Money


def credit_note_for(
    invoice: Invoice, amount: Money, suffix: str, cause: str, now: str
) -> tuple[CreditNote, Invoice, store.Write]:
    """The credit note ``CN-<invoice>-<suffix>`` of ``amount`` on ``invoice`` for ``cause`` (a
    dispute, a deduction), the invoice it reduces, and its allocation record."""
    number = f"CN-{invoice.number}-{suffix}"
    note_id = document_id(invoice.seller_id, DocumentType.CREDIT_NOTE, number)
    changed, applied = apply_credit(invoice, amount)
    note = CreditNote(
        credit_note_id=note_id,
        seller_id=invoice.seller_id,
        number=number,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        issue_date=date.fromisoformat(now[:10]),
        amount=amount,
        applied=applied,
        invoice_reference=invoice.number,
        fingerprint=hashlib.sha256(f"{cause}#{amount}".encode()).hexdigest(),
        source=invoice.source,
        applied_invoice_id=invoice.invoice_id,
        version=1,
        created_at=now,
    )
    allocation = store.allocation(
        Allocation(f"alloc_{note_id}", "credit_note", note_id, invoice.invoice_id, applied, now)
    )
    return note, changed, allocation
