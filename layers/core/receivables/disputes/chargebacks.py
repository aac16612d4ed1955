"""Stripe chargebacks as disputes: one opens with ``charge.dispute.created`` for each invoice the
disputed payment paid, the workflow stages the evidence on Stripe for finance to submit, and
``charge.dispute.closed`` ends it as won or lost (the ledger side, the money taken back on a
loss, is `receivables.payments.chargebacks.record_chargeback`'s)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables.disputes.opening import open_dispute_on
from receivables.disputes.service import ACTOR, MAX_ATTEMPTS, dispute_event, next_version
from receivables.kernel.clock import iso_timestamp
from receivables.ledger.disputes import Reason, Resolution, Source, Status
from receivables.mail.emails import format_money
from receivables.payments.allocation import invoices_paid_by, payment_id_for
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.ledger.disputes import Dispute
    from receivables.payments.chargebacks import Chargeback

# Stripe's dispute reasons, as ours.
STRIPE_REASONS = {
    "duplicate": Reason.BILLED_TWICE,
    "product_not_received": Reason.NOT_RECEIVED,
    "product_unacceptable": Reason.QUALITY,
    "subscription_canceled": Reason.OTHER,
    "credit_not_processed": Reason.ALREADY_PAID,
}
MAX_EVIDENCE_TEXT = 20_000  # Stripe's limit on a text field of the evidence


def invoices_of(chargeback: Chargeback) -> list[str]:
    """The invoices the disputed payment paid, now or before a reversal."""

    payment = store.get_payment(payment_id_for(chargeback.source, chargeback.external_id))
    if payment is None:
        return []
    return sorted({i for i, _ in payment.allocations} | set(invoices_paid_by(payment.payment_id)))


def track(chargeback: Chargeback, clock: Clock, *, closed: bool) -> list[str]:
    """Open (or, once closed, end) the dispute of each invoice of the chargeback; their ids."""
    touched: list[str] = []
    for invoice_id in invoices_of(chargeback):
        if closed:
            ended = close(invoice_id, chargeback, clock)
            if ended is not None:
                touched.append(ended)
            continue
        dispute, _ = open_dispute_on(
            invoice_id,
            Source.CHARGEBACK,
            STRIPE_REASONS.get(chargeback.reason, Reason.OTHER),
            chargeback.source,
            clock,
            comment=f"Chargeback {chargeback.dispute_id}: {chargeback.reason}",
            chargeback_id=chargeback.dispute_id,
        )
        touched.append(dispute.dispute_id)
    return touched


def close(invoice_id: str, chargeback: Chargeback, clock: Clock) -> str | None:
    """End the invoice's dispute of this chargeback as won or lost; its id (None if none)."""
    for _ in range(MAX_ATTEMPTS):
        found = [store.get_dispute(i) for i in store.invoice_dispute_ids(invoice_id)]
        dispute = next((d for d in found if d is not None and d.chargeback_id == chargeback.dispute_id), None)
        if dispute is None:
            return None
        if dispute.final:
            return dispute.dispute_id
        won = chargeback.status in ("won", "warning_closed", "prevented")
        now = iso_timestamp(clock.now())
        status = Status.WON if won else Status.LOST
        resolution = Resolution(
            f"chargeback_{status.value}", chargeback.source, now, reason=chargeback.status
        )
        changed = next_version(dispute, now, status=status, resolution=resolution, task_token=None)
        event = dispute_event(
            dispute,
            "DisputeResolved",
            now,
            chargeback.source,
            status=status.value,
            resolution=resolution.action,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return dispute.dispute_id
    raise store.StoreError(f"chargeback {chargeback.dispute_id}: too much contention, try again")


def evidence_for(dispute: Dispute) -> dict[str, str]:
    """Stripe's dispute evidence from the ledger: who the customer is, what was sold, and the
    invoice's history (issued, emailed, reminded, paid) with the documents on file."""
    invoice = store.get_invoice(dispute.invoice_id)
    customer = store.get_customer(dispute.customer_id)
    if invoice is None:
        return {}
    lines = (
        "; ".join(
            f"{line.description or 'line ' + line.line_id} x {line.quantity or 1}" for line in invoice.lines
        )
        or f"Invoice {invoice.number}"
    )
    story = [
        f"Invoice {invoice.number} issued on {invoice.issue_date}, {format_money(invoice.total, 'en')}, "
        f"due on {invoice.due_date}"
        + (f", purchase order {invoice.po_number}." if invoice.po_number else ".")
    ]
    for event in store.invoice_events(invoice.invoice_id):
        data: dict[str, Any] = event.data
        if event.type == "InvoiceEmailed":
            story.append(f"{event.at[:10]}: invoice emailed to {data.get('to', 'the customer')}.")
        elif event.type in ("ReminderSent", "FinalNoticeSent"):
            story.append(f"{event.at[:10]}: reminder '{data.get('subject', data.get('level'))}' emailed.")
        elif event.type == "PaymentApplied":
            story.append(
                f"{event.at[:10]}: payment {data.get('payment_id')} of "
                f"{data.get('amount')} {data.get('currency')} applied."
            )
        elif event.type == "PromiseToPay":
            story.append(f"{event.at[:10]}: the customer promised to pay by {data.get('date')}.")
    purchase_order = (
        store.get_document(store.purchase_order_pk(invoice.customer_id, invoice.po_number))
        if invoice.po_number
        else None
    )
    if purchase_order is not None:
        story.append(
            f"Purchase order {invoice.po_number} is on file and matches the invoice's order reference."
        )
    documents = [
        d for other in store.invoice_dispute_ids(invoice.invoice_id) if (d := store.get_dispute(other))
    ]
    attachments = [key for d in documents for key in d.attachments]
    if attachments:
        story.append(f"Documents on file: {', '.join(attachments)}.")
    evidence = {
        "product_description": lines[:MAX_EVIDENCE_TEXT],
        "service_date": invoice.issue_date.isoformat(),
        "uncategorized_text": "\n".join(story)[:MAX_EVIDENCE_TEXT],
    }
    if customer is not None:
        if customer.name:
            evidence["customer_name"] = customer.name
        if customer.email:
            evidence["customer_email_address"] = customer.email
    return evidence


def record_evidence(dispute_id: str, evidence: dict[str, str], clock: Clock) -> Dispute:
    """Note on the dispute that its evidence is staged on Stripe, ready for finance to submit."""
    for _ in range(MAX_ATTEMPTS):
        dispute = store.get_dispute(dispute_id)
        assert dispute is not None
        now = iso_timestamp(clock.now())
        changed = replace(
            next_version(dispute, now),
            status=Status.AWAITING_FINANCE if not dispute.final else dispute.status,
        )
        event = dispute_event(
            dispute,
            "ChargebackEvidenceStaged",
            now,
            ACTOR,
            fields=sorted(evidence),
            chargeback_id=dispute.chargeback_id,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return changed
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def stage_evidence(
    dispute_id: str, stage: Callable[[str, dict[str, str]], object], clock: Clock
) -> dict[str, Any]:
    """Stage the evidence of the chargeback ``dispute_id`` (with ``stage(stripe_dispute_id,
    fields)``, Stripe's dispute update, not submitted: finance submits it) and record it on the
    dispute. Staging the same fields again is harmless, so a retried step is safe."""
    dispute = store.get_dispute(dispute_id)
    if dispute is None or not dispute.chargeback_id:
        raise ValueError(f"{dispute_id} is not a chargeback")
    evidence = evidence_for(dispute)
    stage(dispute.chargeback_id, evidence)
    record_evidence(dispute_id, evidence, clock)
    return {"dispute_id": dispute_id, "staged": sorted(evidence)}
