"""Chargebacks: a dispute the payer opened with their bank (a Stripe ``dispute``). Opening one
takes its money off the invoices it paid, as disputed; closing it gives it back when won."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.kernel.clock import iso_timestamp
from receivables.ledger.model import AuditEvent, Invoice, InvoiceStatus, Payment
from receivables.ledger.rules import (
    end_dispute,
    open_dispute,
)
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.kernel.money import Money

# One transaction holds at most 100 items: the payment and its event, then three per invoice
# (head, event, allocation). What a receipt could pay beyond this stays as credit.
from receivables.payments.allocation import (
    MAX_ATTEMPTS,
    PaymentError,
    UnknownPaymentError,
    apply_refund,
    invoices_paid_by,
    payment_id_for,
)


@dataclass(frozen=True, slots=True)
class Chargeback:
    """A dispute the payer opened with their bank (a Stripe ``dispute``), as the source reports it."""

    source: str
    external_id: str  # the disputed payment's id at the source (the payment intent)
    dispute_id: str
    amount: Money
    reason: str
    status: str  # Stripe's: needs_response, under_review, won, lost, …


CLOSED_DISPUTE_STATUSES = frozenset({"won", "lost", "warning_closed", "prevented"})


def record_chargeback(chargeback: Chargeback, clock: Clock) -> str:
    """Bring the ledger to the dispute's state, whatever order its events arrive in: an open
    dispute puts the invoices its payment paid under dispute; a closed one takes them out, and
    a lost one first takes the money back (like a refund). Each step happens once (markers on
    the payment). Returns what was done."""
    payment_id = payment_id_for(chargeback.source, chargeback.external_id)
    closing = chargeback.status in CLOSED_DISPUTE_STATUSES
    for _ in range(MAX_ATTEMPTS):
        payment = store.get_payment(payment_id)
        if payment is None:
            raise UnknownPaymentError(
                f"no payment {chargeback.external_id} from {chargeback.source} in the ledger"
            )
        if chargeback.amount.currency != payment.amount.currency:
            raise PaymentError(
                f"dispute {chargeback.dispute_id} in {chargeback.amount.currency} of a payment in "
                f"{payment.amount.currency}"
            )
        pk = store.payment_pk(payment_id)
        if store.marker_exists(pk, f"dispute-closed#{chargeback.dispute_id}"):
            return "already_closed"
        if not closing and store.marker_exists(pk, f"dispute-opened#{chargeback.dispute_id}"):
            return "already_open"
        try:
            if closing:
                _close_chargeback(payment, chargeback, clock)
                return f"dispute_{chargeback.status}"
            _open_chargeback(payment, chargeback, clock)
            return "dispute_opened"
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"dispute {chargeback.dispute_id}: too much contention, try again")


def _dispute_event(
    invoice: Invoice, before: Invoice, kind: str, chargeback: Chargeback, at: str
) -> AuditEvent:
    return AuditEvent(
        invoice.invoice_id,
        invoice.version,
        kind,
        at,
        chargeback.source,
        {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "customer_id": invoice.customer_id,
            "dispute_id": chargeback.dispute_id,
            "payment_id": payment_id_for(chargeback.source, chargeback.external_id),
            "amount": chargeback.amount.to_decimal_string(),
            "currency": chargeback.amount.currency,
            "reason": chargeback.reason,
            "outcome": chargeback.status,
            "status_from": before.status.value,
            "status_to": invoice.status.value,
            "balance": invoice.balance.to_decimal_string(),
        },
    )


def _open_chargeback(payment: Payment, chargeback: Chargeback, clock: Clock) -> None:
    now = iso_timestamp(clock.now())
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    for invoice_id, _ in payment.allocations:
        invoice = store.get_invoice(invoice_id)
        if invoice is None or invoice.status is InvoiceStatus.DISPUTED:
            continue
        changed = open_dispute(invoice)
        changed.version, changed.updated_at = invoice.version + 1, now
        changes.append((changed, _dispute_event(changed, invoice, "ChargebackOpened", chargeback, now)))
    pk = store.payment_pk(payment.payment_id)
    store.apply_changes(changes, writes=[store.marker(pk, f"dispute-opened#{chargeback.dispute_id}", now)])


def _close_chargeback(payment: Payment, chargeback: Chargeback, clock: Clock) -> None:
    reversal = f"dispute-lost#{chargeback.dispute_id}"
    pk = store.payment_pk(payment.payment_id)
    if chargeback.status == "lost" and not store.marker_exists(pk, reversal):
        # The bank took the money back: the invoices it paid are owed again.
        taken = min(chargeback.amount, payment.unapplied + payment.allocated)
        if taken.minor > 0:
            payment = apply_refund(payment, taken, clock, kind="PaymentChargedBack", once=reversal)
    now = iso_timestamp(clock.now())
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    touched = {i for i, _ in payment.allocations} | set(invoices_paid_by(payment.payment_id))
    for invoice_id in sorted(touched):
        invoice = store.get_invoice(invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.DISPUTED:
            continue
        changed = end_dispute(invoice)
        changed.version, changed.updated_at = invoice.version + 1, now
        changes.append((changed, _dispute_event(changed, invoice, "ChargebackClosed", chargeback, now)))
    store.apply_changes(changes, writes=[store.marker(pk, f"dispute-closed#{chargeback.dispute_id}", now)])
