"""Finance's decision on a dispute (`receivables.disputes.service`): validated and recorded, then
carried out in one transaction with the ledger change it calls for (a credit note, a void, a
reissued invoice) and the end of the dispute."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.adapters import workflows
from receivables.disputes.credit_notes import credit_note_for
from receivables.disputes.deductions import resolution_update
from receivables.disputes.service import (
    MAX_ATTEMPTS,
    DisputeError,
    dispute_and_invoice,
    dispute_event,
    next_version,
)
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError
from receivables.kernel.money import Money
from receivables.kernel.observability import logger
from receivables.ledger.disputes import Dispute, Resolution, Source, Status
from receivables.ledger.model import AuditEvent, DocumentType, Invoice, InvoiceStatus
from receivables.ledger.rules import LedgerError, document_id, end_dispute, void
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock

DECISIONS = ("accept", "reject", "reissue")


def decide(dispute_id: str, body: dict[str, Any], by: str, clock: Clock) -> tuple[Dispute, str]:
    """Finance's decision, validated and recorded: (the dispute, the task token to release the
    workflow with). Raises `InvalidRequestError` for a bad decision and `DisputeError` when the
    dispute is not waiting for one."""
    dispute, invoice = dispute_and_invoice(dispute_id)
    if dispute.status is not Status.AWAITING_FINANCE or not dispute.task_token:
        raise DisputeError(
            f"dispute {dispute_id} is {dispute.status.value}: it is not waiting for a decision"
        )
    decision, credit, total, reason = _parse_decision(body, invoice)
    now = iso_timestamp(clock.now())
    facts: dict[str, Any] = {"corrected_total": total.to_decimal_string()} if total else {}
    resolution = Resolution(decision, by, now, credit, reason, facts)
    token = dispute.task_token
    changed = next_version(dispute, now, resolution=resolution, task_token=None)
    event = dispute_event(
        dispute,
        "DisputeDecided",
        now,
        by,
        decision=decision,
        credit=credit.to_decimal_string() if credit else None,
        reason=reason,
    )
    try:
        store.apply_changes([(changed, event)])
    except store.ConcurrentChangeError:
        raise DisputeError(f"dispute {dispute_id} changed meanwhile: read it again") from None
    return changed, token


def _parse_decision(body: dict[str, Any], invoice: Invoice) -> tuple[str, Money | None, Money | None, str]:
    errors: list[FieldError] = []
    decision = body.get("decision")
    if decision not in DECISIONS:
        errors.append(FieldError("decision", f"must be one of {', '.join(DECISIONS)}"))
    reason = str(body.get("reason") or "").strip()[:1000]
    credit: Money | None = None
    total: Money | None = None
    if decision == "accept":
        try:
            credit = Money.parse(
                str(body.get("credit", invoice.balance.to_decimal_string())), invoice.currency
            )
            if not 0 < credit.minor <= invoice.balance.minor:
                errors.append(FieldError("credit", f"must be more than zero and at most {invoice.balance}"))
        except ValueError:
            errors.append(FieldError("credit", f"must be an amount in {invoice.currency}, such as 120.00"))
    if decision == "reject" and not reason:
        errors.append(FieldError("reason", "is required: the customer is told why"))
    if decision == "reissue":
        try:
            total = Money.parse(str(body.get("corrected_total")), invoice.currency)
            if not 0 < total.minor < invoice.total.minor:
                errors.append(
                    FieldError("corrected_total", f"must be more than zero and less than {invoice.total}")
                )
        except ValueError:
            errors.append(FieldError("corrected_total", f"must be an amount in {invoice.currency}"))
        if invoice.paid.minor or invoice.credited.minor:
            errors.append(
                FieldError("decision", "an invoice with money applied cannot be reissued: accept a credit")
            )
    if errors:
        raise InvalidRequestError(errors)
    return str(decision), credit, total, reason


def apply_decision(dispute_id: str, clock: Clock) -> dict[str, Any]:
    """Carry out finance's recorded decision and end the dispute."""
    for _ in range(MAX_ATTEMPTS):
        dispute, invoice = dispute_and_invoice(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "status": dispute.status.value}
        if dispute.resolution is None:
            raise DisputeError(f"dispute {dispute_id} has no decision to apply")
        status = {"accept": Status.ACCEPTED, "reject": Status.REJECTED, "reissue": Status.REISSUED}[
            dispute.resolution.action
        ]
        now = iso_timestamp(clock.now())
        try:
            resolve(dispute, invoice, status, dispute.resolution, now, dispute.resolution.by)
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "status": status.value}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def resolve(
    dispute: Dispute, invoice: Invoice, status: Status, resolution: Resolution, now: str, actor: str
) -> None:
    """One transaction: the ledger change the resolution calls for, the invoice out of dispute,
    the dispute ended; each with its audit event."""
    changes: list[tuple[Any, AuditEvent]] = []
    creations: list[store.Creation] = []
    extra: list[store.Write] = []
    data = {"dispute_id": dispute.dispute_id, "resolution": resolution.action}
    changed = invoice
    if resolution.action == "void_duplicate" and resolution.facts.get("duplicate_id") != invoice.invoice_id:
        duplicate = store.get_invoice(str(resolution.facts["duplicate_id"]))
        if duplicate is None:
            raise LedgerError("the duplicate is gone")
        voided = replace(void(duplicate), version=duplicate.version + 1, updated_at=now)
        changes.append(
            (
                voided,
                AuditEvent(
                    duplicate.invoice_id,
                    voided.version,
                    "InvoiceVoided",
                    now,
                    actor,
                    data | {"duplicate_of": invoice.invoice_id},
                ),
            )
        )
    elif resolution.action in ("void_duplicate", "reissue"):
        changed = void(invoice)
    elif resolution.credit is not None and resolution.action in ("credit", "accept"):
        note, changed, allocation = credit_note_for(
            invoice, resolution.credit, dispute.dispute_id[-6:].upper(), dispute.dispute_id, now
        )
        note_event = AuditEvent(
            note.credit_note_id,
            1,
            "CreditNoteIssued",
            now,
            actor,
            data
            | {
                "invoice_id": invoice.invoice_id,
                "amount": resolution.credit.to_decimal_string(),
                "currency": resolution.credit.currency,
                "number": note.number,
            },
        )
        creations.append(store.Creation.credit_note(note, note_event))
        extra.append(allocation)
    if changed.status is InvoiceStatus.DISPUTED:
        changed = end_dispute(changed)
    if changed is not invoice or changed.status != invoice.status:
        changed = replace(changed, version=invoice.version + 1, updated_at=now)
        kind = "InvoiceVoided" if changed.status is InvoiceStatus.VOID else "DisputeResolved"
        changes.append(
            (
                changed,
                AuditEvent(
                    invoice.invoice_id,
                    changed.version,
                    kind,
                    now,
                    actor,
                    data | {"status": changed.status.value, "balance": changed.balance.to_decimal_string()},
                ),
            )
        )
    if dispute.source is Source.DEDUCTION:
        extra.extend(resolution_update(dispute, resolution, now))
    ended = next_version(dispute, now, status=status, resolution=resolution, task_token=None)
    changes.append(
        (
            ended,
            dispute_event(
                dispute,
                "DisputeResolved",
                now,
                actor,
                status=status.value,
                resolution=resolution.action,
                credit=resolution.credit.to_decimal_string() if resolution.credit else None,
            ),
        )
    )
    store.apply_changes(changes, creations=creations, writes=extra)
    if resolution.action == "reissue":
        _reissue(invoice, resolution, now, actor)


def _reissue(invoice: Invoice, resolution: Resolution, now: str, actor: str) -> None:
    """The corrected invoice, under the original number with an ``-R<n>`` suffix."""
    total = Money.parse(str(resolution.facts["corrected_total"]), invoice.currency)
    zero = Money.zero(invoice.currency)
    number = f"{invoice.number}-R1"
    corrected = replace(
        invoice,
        invoice_id=document_id(invoice.seller_id, DocumentType.INVOICE, number),
        number=number,
        issue_date=date.fromisoformat(now[:10]),
        total=total,
        tax=zero,
        prepaid=zero,
        payable=total,
        balance=total,
        paid=zero,
        credited=zero,
        written_off=zero,
        status=InvoiceStatus.OPEN,
        lines=(),
        fingerprint=hashlib.sha256(f"{invoice.invoice_id}#reissue#{total}".encode()).hexdigest(),
        version=1,
        created_at=now,
        updated_at=now,
        fees=None,
    )
    corrected = replace(corrected, dunning=type(invoice.dunning)())
    data = {
        "invoice_id": corrected.invoice_id,
        "number": number,
        "customer_id": invoice.customer_id,
        "replaces": invoice.invoice_id,
        "total": total.to_decimal_string(),
        "currency": invoice.currency,
    }
    # Refused when it exists already: a retried task reissued it before.
    store.create_all(
        [
            store.Creation.invoice(
                corrected, AuditEvent(corrected.invoice_id, 1, "InvoiceIngested", now, actor, data)
            )
        ]
    )


def deliver_decision(dispute: Dispute, token: str, send_task_success: Callable[..., Any]) -> None:
    """Hand finance's decision to the dispute's workflow (its waiting task's ``token``); a
    `ConflictError` when the wait timed out just now (a reminder took over with a new token)."""
    resolution = dispute.resolution
    assert resolution is not None
    output = {"decision": resolution.action, "by": resolution.by}
    try:
        workflows.send_task_success(send_task_success, token, output)
    except workflows.WorkflowMovedOnError as exc:
        logger.warning("decision not delivered", extra={"dispute_id": dispute.dispute_id, "code": exc.code})
        raise ConflictError(f"the dispute workflow moved on ({exc.code}): send the decision again") from None
    logger.info("dispute decided", extra={"dispute_id": dispute.dispute_id, "decision": resolution.action})
