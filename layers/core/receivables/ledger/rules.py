"""The ledger's rules: identities, the invoice status machine, and how money changes a balance.

Every status change in the system goes through `transition`; nothing else assigns a status.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from receivables.kernel.errors import ConflictError
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus

if TYPE_CHECKING:
    from datetime import date

    from receivables.ledger.model import Invoice

S = InvoiceStatus

# The invoice status machine. A status not listed as a key is terminal.
ALLOWED_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    S.OPEN: frozenset({S.PARTIALLY_PAID, S.PAID, S.DISPUTED, S.CREDITED, S.WRITTEN_OFF, S.VOID}),
    S.PARTIALLY_PAID: frozenset({S.OPEN, S.PAID, S.DISPUTED, S.CREDITED, S.WRITTEN_OFF}),
    # A refund or a lost chargeback re-opens a paid invoice.
    S.PAID: frozenset({S.OPEN, S.PARTIALLY_PAID, S.DISPUTED}),
    S.DISPUTED: frozenset({S.OPEN, S.PARTIALLY_PAID, S.PAID, S.CREDITED, S.WRITTEN_OFF, S.VOID}),
    # A late payment of a written-off balance is a recovery.
    S.WRITTEN_OFF: frozenset({S.PARTIALLY_PAID, S.PAID}),
    S.CREDITED: frozenset(),
    S.VOID: frozenset(),
}

# Statuses in which an invoice still waits for money, and so belongs in the dunning sweep.
COLLECTIBLE = frozenset({S.OPEN, S.PARTIALLY_PAID})
# Still owed, whether collectible or contested: what aging and the AR figures count.
OPEN_RECEIVABLE = COLLECTIBLE | {S.DISPUTED}


class LedgerError(ConflictError):
    """A change the ledger's rules forbid."""


class InvalidTransitionError(LedgerError):
    """A status change that the status machine does not allow."""

    def __init__(self, current: InvoiceStatus, target: InvoiceStatus) -> None:
        super().__init__(f"an invoice that is {current} cannot become {target}")
        self.current = current
        self.target = target


def transition(current: InvoiceStatus, target: InvoiceStatus) -> InvoiceStatus:
    """Return ``target`` if the status machine allows ``current → target``, else raise.

    Staying in the same status is always allowed (a second partial payment, say).

    >>> transition(InvoiceStatus.OPEN, InvoiceStatus.PAID)
    <InvoiceStatus.PAID: 'paid'>
    """
    if target == current or target in ALLOWED_TRANSITIONS[current]:
        return target
    raise InvalidTransitionError(current, target)


def _short_hash(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:24]


def document_id(seller_id: str, doc_type: DocumentType, number: str) -> str:
    """The id of the document ``number`` of ``seller_id``: derived, so that every delivery of the
    same document lands on the same item and a second receivable cannot exist."""
    prefix = "inv" if doc_type is DocumentType.INVOICE else "cn"
    return f"{prefix}_{_short_hash(seller_id, doc_type.value, number.strip())}"


def customer_id_for(identity_key: str) -> str:
    """The id of a customer first seen under ``identity_key`` (``vat:SE4598375937``)."""
    return f"cus_{_short_hash(identity_key)}"


def status_after_money(invoice: Invoice) -> InvoiceStatus:
    """The status an invoice's amounts call for, from where it stands now."""
    if invoice.status in (S.VOID, S.CREDITED):
        return invoice.status
    if invoice.status is S.DISPUTED and invoice.balance.minor > 0:
        return S.DISPUTED
    if invoice.balance.minor <= 0:
        if invoice.paid.is_zero() and invoice.credited.minor > 0:
            return S.CREDITED
        return S.PAID
    if invoice.paid.minor > 0:
        return S.PARTIALLY_PAID
    if invoice.status is S.WRITTEN_OFF:
        return S.WRITTEN_OFF
    return S.OPEN


def apply_credit(invoice: Invoice, credit: Money) -> tuple[Invoice, Money]:
    """Reduce ``invoice`` by up to ``credit``; return the changed invoice and the part applied.

    The credit never takes the balance below zero: what is left over stays with the credit note
    as an unapplied credit on the customer.
    """
    if credit.currency != invoice.currency:
        raise LedgerError(f"a credit in {credit.currency} cannot reduce an invoice in {invoice.currency}")
    if credit.minor <= 0:
        raise LedgerError("a credit must be a positive amount")
    if invoice.status not in (S.OPEN, S.PARTIALLY_PAID, S.DISPUTED):
        return invoice, Money.zero(invoice.currency)
    applied = min(credit, invoice.balance)
    changed = replace(invoice, balance=invoice.balance - applied, credited=invoice.credited + applied)
    changed.status = transition(invoice.status, status_after_money(changed))
    return changed, applied


def apply_payment(invoice: Invoice, amount: Money, received_on: date | None = None) -> tuple[Invoice, Money]:
    """Allocate up to ``amount`` of a payment to ``invoice``; return it changed and the part used.

    Like a credit, a payment never takes the balance below zero: the rest stays with the payment
    (an overpayment becomes the customer's credit). When it pays the invoice in full, the day the
    money was received (``received_on``) is the invoice's ``paid_on``.
    """
    if amount.currency != invoice.currency:
        raise LedgerError(f"a payment in {amount.currency} cannot pay an invoice in {invoice.currency}")
    if amount.minor <= 0:
        raise LedgerError("a payment must be a positive amount")
    if invoice.status not in (S.OPEN, S.PARTIALLY_PAID, S.DISPUTED, S.WRITTEN_OFF):
        return invoice, Money.zero(invoice.currency)
    if invoice.status is S.WRITTEN_OFF:
        # A recovery: the written-off balance comes back as owed, then is paid.
        invoice = replace(
            invoice, balance=invoice.balance + invoice.written_off, written_off=Money.zero(invoice.currency)
        )
    used = min(amount, invoice.balance)
    if used.is_zero():
        return invoice, used
    changed = replace(invoice, balance=invoice.balance - used, paid=invoice.paid + used)
    changed.status = transition(invoice.status, status_after_money(changed))
    if changed.status is S.PAID:
        changed.paid_on = received_on
    return changed, used


def charge_fee(invoice: Invoice, fee: Money) -> Invoice:
    """Add a late fee or interest to what ``invoice`` owes (it stays in its status)."""
    if fee.currency != invoice.currency:
        raise LedgerError(f"a fee in {fee.currency} cannot be charged on an invoice in {invoice.currency}")
    if fee.minor <= 0:
        raise LedgerError("a fee must be a positive amount")
    if invoice.status not in COLLECTIBLE:
        raise LedgerError(f"no fee on an invoice that is {invoice.status}")
    fees = (invoice.fees or Money.zero(invoice.currency)) + fee
    return replace(invoice, balance=invoice.balance + fee, fees=fees)


def reverse_payment(invoice: Invoice, amount: Money) -> Invoice:
    """Take back ``amount`` of what was paid on ``invoice`` (a refund or a lost chargeback): the
    balance grows again and a paid invoice reopens, owing again any small balance written off
    when it was paid."""
    if amount.currency != invoice.currency:
        raise LedgerError(f"a reversal in {amount.currency} cannot touch an invoice in {invoice.currency}")
    if amount.minor <= 0 or amount > invoice.paid:
        raise LedgerError(f"cannot reverse {amount}: {invoice.paid} was paid on invoice {invoice.number}")
    changed = replace(invoice, balance=invoice.balance + amount, paid=invoice.paid - amount)
    if invoice.status is S.PAID and invoice.written_off.minor > 0:
        # The small balance a short payment left was written off because it was paid: with the
        # payment taken back, it is owed again.
        changed = replace(
            changed,
            balance=changed.balance + invoice.written_off,
            written_off=Money.zero(invoice.currency),
        )
    changed.status = transition(invoice.status, _reopened_status(changed, invoice.status))
    if changed.status is not S.PAID:
        changed.paid_on = None
    return changed


def void(invoice: Invoice) -> Invoice:
    """``invoice`` cancelled as issued in error (a duplicate): nothing is owed on it. An invoice
    that money was applied to cannot be voided; credit it instead."""
    if invoice.status is S.VOID:
        raise LedgerError(f"invoice {invoice.number} is already void")
    if invoice.paid.minor or invoice.credited.minor:
        raise LedgerError(f"invoice {invoice.number} has money applied: credit it rather than void it")
    changed = replace(invoice, balance=Money.zero(invoice.currency))
    changed.status = transition(invoice.status, S.VOID)
    return changed


def write_off(invoice: Invoice) -> Invoice:
    """``invoice``'s balance written off as uncollectable: nothing more is collected on it."""
    if invoice.balance.minor <= 0:
        raise LedgerError(f"invoice {invoice.number} has no balance to write off")
    changed = replace(
        invoice, balance=Money.zero(invoice.currency), written_off=invoice.written_off + invoice.balance
    )
    changed.status = transition(invoice.status, S.WRITTEN_OFF)
    return changed


def write_off_small_balance(invoice: Invoice) -> Invoice:
    """The small balance a short payment left (under the deduction tolerance) written off: the
    invoice is settled (paid) rather than uncollectable."""
    if invoice.balance.minor <= 0 or invoice.status not in COLLECTIBLE:
        raise LedgerError(f"invoice {invoice.number} has no collectible balance to write off")
    changed = replace(
        invoice, balance=Money.zero(invoice.currency), written_off=invoice.written_off + invoice.balance
    )
    changed.status = transition(invoice.status, status_after_money(changed))
    return changed


def open_dispute(invoice: Invoice) -> Invoice:
    """``invoice`` under dispute (a customer's dispute, or a chargeback of its payment)."""
    changed = replace(invoice)
    changed.status = transition(invoice.status, S.DISPUTED)
    return changed


def end_dispute(invoice: Invoice) -> Invoice:
    """``invoice`` out of dispute, in the status its amounts call for."""
    if invoice.status is not S.DISPUTED:
        return invoice
    if invoice.balance.minor <= 0:
        target = S.PAID
    elif invoice.paid.minor > 0:
        target = S.PARTIALLY_PAID
    else:
        target = S.OPEN
    changed = replace(invoice)
    changed.status = transition(invoice.status, target)
    return changed


def _reopened_status(invoice: Invoice, before: InvoiceStatus) -> InvoiceStatus:
    if before is S.DISPUTED:
        return S.DISPUTED
    if invoice.paid.minor > 0:
        return S.PARTIALLY_PAID
    return S.OPEN
