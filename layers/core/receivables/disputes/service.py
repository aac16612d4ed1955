"""Disputes against the ledger: open one, analyse it, settle it or wait for finance, apply the
decision. Each function is one step of `statemachines/dispute.asl.json` (or an API call), reads
fresh state, and changes the dispute and the invoice in one conditional transaction with their
audit events; a step that already happened (a retried task) changes nothing.

Dunning pauses by itself while the invoice is disputed (the planner's rule) and resumes when the
dispute ends and the invoice is collectible again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.disputes.analysis import (
    DEFAULT_DISPUTE_POLICY,
    DisputePolicy,
    Facts,
    PoLine,
    PurchaseOrder,
    Terms,
    analyse,
    proposal,
)
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import Money, bounded_decimal
from receivables.kernel.observability import logger
from receivables.ledger.disputes import (
    Dispute,
    DisputedLine,
    Reason,
    Resolution,
    Source,
    Status,
    dispute_to_json,
)
from receivables.ledger.model import Allocation, AuditEvent, CreditNote, DocumentType, Invoice, InvoiceStatus
from receivables.ledger.rules import (
    COLLECTIBLE,
    LedgerError,
    apply_credit,
    document_id,
    end_dispute,
    open_dispute,
    void,
)
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer

MAX_ATTEMPTS = 5
ACTOR = "disputes"
DECISIONS = ("accept", "reject", "reissue")


class DisputeError(ConflictError):
    """A dispute step the dispute's state does not allow (a decision it does not wait for)."""


class DisputeNotFoundError(NotFoundError, DisputeError):
    """The dispute, or its invoice, does not exist."""


# --- what finance keeps on file -----------------------------------------------------------------
def load_terms(customer_id: str) -> Terms:
    """The customer's terms (PO required? a price list), or none."""
    from decimal import Decimal

    found = store.get_document(f"TERMS#{customer_id}")
    if found is None:
        return Terms()
    body = found[0]
    return Terms(
        bool(body.get("requires_po")), {k: Decimal(v) for k, v in body.get("price_list", {}).items()}
    )


def po_pk(customer_id: str, number: str) -> str:
    """Where the customer's PO ``number`` is filed (a document of its own, with its history)."""
    return f"PO#{customer_id}#{number}"


def load_purchase_order(customer_id: str, number: str | None) -> PurchaseOrder | None:
    """The customer's PO ``number`` if finance filed it."""
    from decimal import Decimal

    if not number:
        return None
    found = store.get_document(po_pk(customer_id, number))
    if found is None:
        return None
    body = found[0]
    lines = tuple(
        PoLine(str(line["description"]), Decimal(line["quantity"]), Decimal(line["unit_price"]))
        for line in body.get("lines", [])
    )
    return PurchaseOrder(number, str(body["currency"]), lines)


def load_policy() -> DisputePolicy:
    """The dispute policy finance set, else the default."""
    found = store.get_document("POLICY#disputes")
    if found is None:
        return DEFAULT_DISPUTE_POLICY
    body = found[0]
    limits = {c: Money.parse(v, c) for c, v in body.get("auto_credit_max", {}).items()}
    return replace(
        DEFAULT_DISPUTE_POLICY,
        auto_credit_max=limits or DEFAULT_DISPUTE_POLICY.auto_credit_max,
        duplicate_window_days=int(
            body.get("duplicate_window_days", DEFAULT_DISPUTE_POLICY.duplicate_window_days)
        ),
    )


# --- opening ------------------------------------------------------------------------------------
def dispute_id_for(invoice_id: str, n: int) -> str:
    """The ``n``-th dispute of an invoice: two racing opens of the same one collide."""
    return "dsp_" + hashlib.sha256(f"{invoice_id}#{n}".encode()).hexdigest()[:24]


def open_dispute_on(
    invoice_id: str,
    source: Source,
    reason: Reason,
    opened_by: str,
    clock: Clock,
    *,
    amount: Money | None = None,
    lines: Sequence[DisputedLine] = (),
    comment: str = "",
    attachments: Sequence[str] = (),
    chargeback_id: str | None = None,
) -> tuple[Dispute, bool]:
    """Open a dispute of the invoice (or return the one already open): (dispute, created).

    The invoice goes under dispute in the same transaction, which pauses its dunning.
    """
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            raise DisputeNotFoundError(f"no invoice {invoice_id}")
        ids = store.invoice_dispute_ids(invoice_id)
        if ids:
            # The n-th dispute by its derived id: the listing's order among disputes opened in
            # the same millisecond is the hash's, and a closed one could hide an open one.
            latest = store.get_dispute(dispute_id_for(invoice_id, len(ids)))
            if latest is not None and not latest.final:
                return latest, False
        _validate(invoice, source, amount, lines)
        now = iso_timestamp(clock.now())
        dispute = Dispute(
            dispute_id_for(invoice_id, len(ids) + 1),
            invoice_id,
            invoice.customer_id,
            source,
            reason,
            now,
            opened_by,
            amount,
            tuple(lines),
            comment.strip()[:2000],
            tuple(attachments),
            chargeback_id=chargeback_id,
            version=1,
            updated_at=now,
        )
        data: dict[str, Any] = {
            "dispute_id": dispute.dispute_id,
            "invoice_id": invoice_id,
            "number": invoice.number,
        }
        data |= {"customer_id": invoice.customer_id, "source": source.value, "reason": reason.value}
        data["amount"] = amount.to_decimal_string() if amount else None
        creation = store.Creation.dispute(
            dispute, AuditEvent(dispute.dispute_id, 1, "DisputeOpened", now, opened_by, data)
        )
        changes: list[tuple[Any, AuditEvent]] = []
        # A chargeback's invoices are put under dispute by the payments side, with the money.
        if source is not Source.CHARGEBACK and invoice.status in COLLECTIBLE:
            disputed = replace(open_dispute(invoice), version=invoice.version + 1, updated_at=now)
            changes.append(
                (disputed, AuditEvent(invoice_id, disputed.version, "InvoiceDisputed", now, opened_by, data))
            )
        try:
            store.apply_changes(changes, creations=[creation])
        except store.ConcurrentChangeError:
            continue
        return dispute, True
    raise store.StoreError(f"dispute of {invoice_id}: too much contention, try again")


def _validate(invoice: Invoice, source: Source, amount: Money | None, lines: Sequence[DisputedLine]) -> None:
    errors: list[FieldError] = []
    if source is not Source.CHARGEBACK and invoice.status not in (*COLLECTIBLE, InvoiceStatus.DISPUTED):
        errors.append(FieldError("invoice", f"is {invoice.status.value}: there is nothing to dispute"))
    if amount is not None and (
        amount.currency != invoice.currency or not 0 < amount.minor <= invoice.payable.minor
    ):
        errors.append(FieldError("amount", f"must be more than zero and at most {invoice.payable}"))
    known = {line.line_id for line in invoice.lines}
    for n, line in enumerate(lines):
        if line.line_id not in known:
            errors.append(
                FieldError(f"lines[{n}].line_id", f"invoice {invoice.number} has no line {line.line_id}")
            )
    if errors:
        raise InvalidRequestError(errors)


# --- the workflow's steps -------------------------------------------------------------------------
def _fresh(dispute_id: str) -> tuple[Dispute, Invoice]:
    dispute = store.get_dispute(dispute_id)
    if dispute is None:
        raise DisputeNotFoundError(f"no dispute {dispute_id}")
    invoice = store.get_invoice(dispute.invoice_id)
    if invoice is None:
        raise DisputeNotFoundError(f"dispute {dispute_id}: no invoice {dispute.invoice_id}")
    return dispute, invoice


def dispute_event(dispute: Dispute, kind: str, now: str, actor: str, **data: Any) -> AuditEvent:
    """The dispute's next audit event."""
    body = {
        "dispute_id": dispute.dispute_id,
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
    }
    return AuditEvent(dispute.dispute_id, dispute.version + 1, kind, now, actor, body | data)


def next_version(dispute: Dispute, now: str, **changes: Any) -> Dispute:
    """The dispute changed, one version on."""
    return replace(dispute, version=dispute.version + 1, updated_at=now, **changes)


def gather_facts(invoice: Invoice) -> Facts:
    """What the rules look at, read fresh: the customer's invoices, payments, terms and the PO."""
    from receivables.customers.requirements import po_from_erp

    def as_issued(found: Invoice) -> Invoice:
        # A PO number given after ingest is not the ERP's: the rules see the invoice without it.
        if not found.po_number or po_from_erp(found, store.invoice_events(found.invoice_id)):
            return found
        return replace(found, po_number=None)

    invoice = as_issued(invoice)
    others = tuple(
        as_issued(d) if d.po_number and d.total == invoice.total else d
        for d in store.customer_documents(invoice.customer_id)
        if isinstance(d, Invoice)
    )
    payments = tuple(store.customer_payments(invoice.customer_id))
    terms = load_terms(invoice.customer_id)
    return Facts(
        invoice, others, payments, terms, load_purchase_order(invoice.customer_id, invoice.po_number)
    )


def analyse_dispute(dispute_id: str, clock: Clock, execution_arn: str | None = None) -> dict[str, Any]:
    """Run the rules, keep the itemised findings on the dispute; say what can be settled."""
    for _ in range(MAX_ATTEMPTS):
        dispute, invoice = _fresh(dispute_id)
        if execution_arn and dispute.execution_arn not in (None, execution_arn):
            # The bus delivered DisputeOpened twice: the first execution owns the dispute.
            return {"dispute_id": dispute_id, "claimed": False, "proposal": None}
        if dispute.final:
            return {
                "dispute_id": dispute_id,
                "claimed": True,
                "status": dispute.status.value,
                "proposal": None,
            }
        policy = load_policy()
        findings = analyse(gather_facts(invoice), policy)
        settled = proposal(dispute, invoice, findings, policy)
        now = iso_timestamp(clock.now())
        confirmed = [f.rule for f in findings if f.confirmed]
        changed = next_version(
            dispute,
            now,
            status=Status.ANALYSING,
            findings=findings,
            execution_arn=execution_arn or dispute.execution_arn,
        )
        event = dispute_event(
            dispute,
            "DisputeAnalysed",
            now,
            ACTOR,
            confirmed=confirmed,
            proposal=settled.action if settled else None,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return {
            "dispute_id": dispute_id,
            "claimed": True,
            "source": dispute.source.value,
            "status": changed.status.value,
            "proposal": settled.action if settled else None,
        }
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def settle_dispute(dispute_id: str, clock: Clock) -> dict[str, Any]:
    """Carry out what the analysis proposes (void the duplicate, apply the payment, confirm paid,
    credit a small amount) and end the dispute; ``settled`` False when finance must decide."""
    from receivables.payments.allocation import apply_payment_to_invoice

    for _ in range(MAX_ATTEMPTS):
        dispute, invoice = _fresh(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "settled": dispute.status is Status.SETTLED}
        settled = proposal(dispute, invoice, dispute.findings, load_policy())
        if settled is None:
            return {"dispute_id": dispute_id, "settled": False}
        now = iso_timestamp(clock.now())
        if settled.action == "apply_payment":
            # The payment's own transaction (with its audit events); the dispute ends after it.
            apply_payment_to_invoice(str(settled.facts["payment_id"]), invoice.invoice_id, clock)
            dispute, invoice = _fresh(dispute_id)
        resolution = Resolution(
            settled.action, ACTOR, now, settled.credit, "settled from the findings", settled.facts
        )
        try:
            _resolve(dispute, invoice, Status.SETTLED, resolution, now, ACTOR)
        except store.ConcurrentChangeError:
            continue
        except LedgerError:
            return {"dispute_id": dispute_id, "settled": False}
        return {"dispute_id": dispute_id, "settled": True, "action": settled.action}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def await_finance(
    dispute_id: str, task_token: str, clock: Clock, reminder: int = 0, escalated: bool = False
) -> dict[str, Any]:
    """Keep the workflow's task token on the dispute and tell finance (the audit event goes on the
    bus); a reminder or an escalation to the manager when it has waited too long."""
    for _ in range(MAX_ATTEMPTS):
        dispute, _ = _fresh(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "waiting": False}
        now = iso_timestamp(clock.now())
        kind = (
            "DisputeEscalated" if escalated else ("FinanceReminded" if reminder else "DisputeAwaitingFinance")
        )
        data: dict[str, Any] = {"reminder": reminder}
        if escalated:
            data["to"] = load_policy().manager
        changed = next_version(dispute, now, status=Status.AWAITING_FINANCE, task_token=task_token)
        try:
            store.apply_changes([(changed, dispute_event(dispute, kind, now, ACTOR, **data))])
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "waiting": True}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def decide(dispute_id: str, body: dict[str, Any], by: str, clock: Clock) -> tuple[Dispute, str]:
    """Finance's decision, validated and recorded: (the dispute, the task token to release the
    workflow with). Raises `InvalidRequestError` for a bad decision and `DisputeError` when the
    dispute is not waiting for one."""
    dispute, invoice = _fresh(dispute_id)
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
        dispute, invoice = _fresh(dispute_id)
        if dispute.final:
            return {"dispute_id": dispute_id, "status": dispute.status.value}
        if dispute.resolution is None:
            raise DisputeError(f"dispute {dispute_id} has no decision to apply")
        status = {"accept": Status.ACCEPTED, "reject": Status.REJECTED, "reissue": Status.REISSUED}[
            dispute.resolution.action
        ]
        now = iso_timestamp(clock.now())
        try:
            _resolve(dispute, invoice, status, dispute.resolution, now, dispute.resolution.by)
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "status": status.value}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def _resolve(
    dispute: Dispute, invoice: Invoice, status: Status, resolution: Resolution, now: str, actor: str
) -> None:
    """One transaction: the ledger change the resolution calls for, the invoice out of dispute,
    the dispute ended; each with its audit event."""
    changes: list[tuple[Any, AuditEvent]] = []
    creations: list[store.Creation] = []
    extra: list[store.LedgerRecord] = []
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
        creations.append(store.credit_note_creation(note, note_event))
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
    updates: list[tuple[store.LedgerRecord, Any]] = []
    if dispute.source is Source.DEDUCTION:
        from receivables.disputes.deductions import resolution_update

        updates, records = resolution_update(dispute, resolution, now)
        extra.extend(records)
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
    store.apply_changes(changes, creations=creations, extra=extra, updates=updates)
    if resolution.action == "reissue":
        _reissue(invoice, resolution, now, actor)


def credit_note_for(
    invoice: Invoice, amount: Money, suffix: str, cause: str, now: str
) -> tuple[CreditNote, Invoice, store.LedgerRecord]:
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
    allocation = store.allocation_record(
        Allocation(f"alloc_{note_id}", "credit_note", note_id, invoice.invoice_id, applied, now)
    )
    return note, changed, allocation


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


def dispute_view(dispute: Dispute) -> dict[str, Any]:
    """The finance view of a dispute: itself (without the task token), its history."""
    body = dispute_to_json(dispute)
    body.pop("task_token", None)
    body["history"] = [
        {"seq": e.seq, "type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
        for e in store.audit_events(store.dispute_pk(dispute.dispute_id))
    ]
    return body


def reasons_by_customer(customer_id: str) -> dict[str, int]:
    """How often the customer disputed, per reason: recurring causes show."""
    counts: dict[str, int] = {}
    for dispute in store.customer_disputes(customer_id):
        counts[dispute.reason.value] = counts.get(dispute.reason.value, 0) + 1
    return dict(sorted(counts.items()))


def record_failure(dispute_id: str, error: Any, clock: Clock) -> dict[str, Any]:
    """A workflow task failed for good: the error goes on the dispute, where finance sees it."""
    for _ in range(MAX_ATTEMPTS):
        dispute = store.get_dispute(dispute_id)
        if dispute is None:
            return {"dispute_id": dispute_id, "recorded": False}
        now = iso_timestamp(clock.now())
        detail = error if isinstance(error, dict) else {"Error": str(error)}
        data = {"error": str(detail.get("Error", "")), "cause": str(detail.get("Cause", ""))[:1000]}
        try:
            store.apply_changes(
                [
                    (
                        next_version(dispute, now),
                        dispute_event(dispute, "DisputeWorkflowFailed", now, ACTOR, **data),
                    )
                ]
            )
        except store.ConcurrentChangeError:
            continue
        return {"dispute_id": dispute_id, "recorded": True}
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def notify_customer(
    dispute_id: str, clock: Clock, send: Callable[[Dispute, Invoice, Customer], str]
) -> dict[str, Any]:
    """Tell the customer how their dispute ended, once (an audit event marks it sent)."""
    dispute, invoice = _fresh(dispute_id)
    if not dispute.final or dispute.source is Source.CHARGEBACK:
        return {"dispute_id": dispute_id, "told": False}
    pk = store.dispute_pk(dispute_id)
    if store.marker_exists(pk, "customer-told"):
        return {"dispute_id": dispute_id, "told": True}
    customer = store.get_customer(dispute.customer_id)
    if customer is None or not customer.email:
        return {"dispute_id": dispute_id, "told": False, "why": "no email address"}
    message_id = send(dispute, invoice, customer)
    now = iso_timestamp(clock.now())
    for _ in range(MAX_ATTEMPTS):
        fresh = store.get_dispute(dispute_id)
        assert fresh is not None
        event = dispute_event(
            fresh, "CustomerToldOfOutcome", now, ACTOR, to=customer.email, message_id=message_id
        )
        try:
            store.apply_changes(
                [(next_version(fresh, now), event)], extra=[store.marker(pk, "customer-told", now)]
            )
        except store.ConcurrentChangeError:
            if store.marker_exists(pk, "customer-told"):
                break
            continue
        break
    return {"dispute_id": dispute_id, "told": True, "message_id": message_id}


def parse_lines(
    invoice: Invoice, amount_text: object, raw_lines: object, errors: list[FieldError]
) -> tuple[Money | None, list[DisputedLine]]:
    """The contested amount and lines as a form or JSON body gives them; problems go to
    ``errors`` (the amount and the line ids are checked against the invoice when opening)."""
    from decimal import InvalidOperation

    amount: Money | None = None
    if amount_text not in (None, ""):
        try:
            amount = Money.parse(str(amount_text), invoice.currency)
        except ValueError:
            errors.append(FieldError("amount", f"must be an amount in {invoice.currency}, such as 120.00"))
    lines: list[DisputedLine] = []
    if raw_lines in (None, ""):
        return amount, lines
    if not isinstance(raw_lines, list):
        errors.append(FieldError("lines", "must be a list of {line_id, quantity, unit_price}"))
        return amount, lines
    for n, raw in enumerate(raw_lines):
        if not isinstance(raw, dict) or not raw.get("line_id"):
            errors.append(FieldError(f"lines[{n}]", "must name a line_id"))
            continue
        try:
            quantity = None if raw.get("quantity") in (None, "") else bounded_decimal(raw["quantity"])
            price = None if raw.get("unit_price") in (None, "") else bounded_decimal(raw["unit_price"])
        except InvalidOperation:
            errors.append(FieldError(f"lines[{n}]", "quantity and unit_price must be decimal strings"))
            continue
        lines.append(DisputedLine(str(raw["line_id"]), quantity, price))
    return amount, lines


def dispute_summary(dispute: Dispute) -> dict[str, Any]:
    """A dispute in a list: who, what, where it stands."""
    return {
        "dispute_id": dispute.dispute_id,
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
        "source": dispute.source.value,
        "reason": dispute.reason.value,
        "status": dispute.status.value,
        "opened_at": dispute.opened_at,
        "amount": dispute.amount.to_decimal_string() if dispute.amount else None,
        "confirmed": [f.rule for f in dispute.findings if f.confirmed],
    }


def open_dispute_of(invoice_id: str) -> Dispute | None:
    """The invoice's dispute that has not ended, if any."""
    ids = store.invoice_dispute_ids(invoice_id)
    latest = store.get_dispute(ids[-1]) if ids else None
    return latest if latest is not None and not latest.final else None


def add_attachment(dispute_id: str, key: str, size: int, kind: str, clock: Clock) -> Dispute:
    """Keep a checked document on the dispute (once, however often the upload page is reloaded)."""
    for _ in range(MAX_ATTEMPTS):
        dispute = store.get_dispute(dispute_id)
        if dispute is None:
            raise DisputeNotFoundError(f"no dispute {dispute_id}")
        if key in dispute.attachments:
            return dispute
        now = iso_timestamp(clock.now())
        changed = next_version(dispute, now, attachments=(*dispute.attachments, key))
        event = dispute_event(
            dispute,
            "DisputeDocumentAdded",
            now,
            f"customer:{dispute.customer_id}",
            key=key,
            size=size,
            content_type=kind,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return changed
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


# --- what finance files: a customer's terms and purchase orders -------------------------------------
def save_terms(customer_id: str, body: dict[str, Any], actor: str, clock: Clock) -> dict[str, Any]:
    """Replace the customer's terms: ``{"requires_po": true, "price_list": {"item": "12.00"}}``."""
    document = terms_document(body)
    _put_filed(f"TERMS#{customer_id}", store.HEAD, document, "CustomerTermsFiled", actor, clock)
    return document


def terms_document(body: dict[str, Any]) -> dict[str, Any]:
    """The terms ``body`` asks for, checked (`InvalidRequestError` names each bad field) and
    normalised as they are stored: item descriptions folded, prices as decimal strings."""
    from decimal import InvalidOperation

    errors: list[FieldError] = []
    requires = body.get("requires_po", False)
    if not isinstance(requires, bool):
        errors.append(FieldError("requires_po", "must be true or false"))
    prices = body.get("price_list", {})
    clean: dict[str, str] = {}
    if not isinstance(prices, dict):
        errors.append(FieldError("price_list", "must map item descriptions to unit prices"))
        prices = {}
    for item, price in prices.items():
        try:
            value = bounded_decimal(price)
            if value < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError(f"price_list.{item}", "must be a decimal string, such as 12.50"))
            continue
        clean[" ".join(str(item).casefold().split())] = str(value)
    if errors:
        raise InvalidRequestError(errors)
    return {"requires_po": bool(requires), "price_list": dict(sorted(clean.items()))}


def save_purchase_order(
    customer_id: str, number: str, body: dict[str, Any], actor: str, clock: Clock
) -> dict[str, Any]:
    """File the customer's PO ``number``: ``{"currency": "EUR", "lines": [{"description",
    "quantity", "unit_price"}]}`` (decimal strings)."""
    document = purchase_order_document(number, body)
    _put_filed(po_pk(customer_id, number), store.HEAD, document, "PurchaseOrderFiled", actor, clock)
    return document


def purchase_order_document(number: str, body: dict[str, Any]) -> dict[str, Any]:
    """The PO ``body`` describes, checked (`InvalidRequestError` names each bad field) and
    normalised as it is stored."""
    from decimal import InvalidOperation

    from receivables.kernel.money import MoneyError, normalise_currency

    errors: list[FieldError] = []
    currency = ""
    try:
        currency = normalise_currency(str(body.get("currency", "")))
    except MoneyError:
        errors.append(FieldError("currency", "must be an ISO 4217 code, such as EUR"))
    lines: list[dict[str, str]] = []
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError("lines", "must be a non-empty list of {description, quantity, unit_price}"))
        raw_lines = []
    for n, raw in enumerate(raw_lines):
        if not isinstance(raw, dict) or not str(raw.get("description") or "").strip():
            errors.append(FieldError(f"lines[{n}].description", "is required"))
            continue
        try:
            quantity, price = bounded_decimal(raw.get("quantity")), bounded_decimal(raw.get("unit_price"))
            if not (quantity.is_finite() and price.is_finite()) or quantity <= 0 or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(
                FieldError(f"lines[{n}]", "quantity and unit_price must be positive decimal strings")
            )
            continue
        lines.append(
            {
                "description": str(raw["description"]).strip(),
                "quantity": str(quantity),
                "unit_price": str(price),
            }
        )
    if not number.strip() or len(number) > 64:
        errors.append(FieldError("number", "must be a PO number of at most 64 characters"))
    if errors:
        raise InvalidRequestError(errors)
    return {"currency": currency, "lines": lines}


def _put_filed(pk: str, sk: str, document: dict[str, Any], kind: str, actor: str, clock: Clock) -> None:
    for _ in range(MAX_ATTEMPTS):
        found = store.get_document(pk, sk)
        version = (found[1] if found else 0) + 1
        now = iso_timestamp(clock.now())
        event = AuditEvent(f"{pk}/{sk}", version, kind, now, actor, {"document": document})
        try:
            store.put_document(pk, document, version, now, event, sk=sk)
        except store.ConcurrentChangeError:
            continue
        return
    raise store.StoreError(f"{pk}: too much contention, try again")


def deliver_decision(dispute: Dispute, token: str, send_task_success: Callable[..., Any]) -> None:
    """Hand finance's decision to the dispute's workflow (its waiting task's ``token``); a
    `ConflictError` when the wait timed out just now (a reminder took over with a new token)."""
    from botocore.exceptions import ClientError

    resolution = dispute.resolution
    assert resolution is not None
    output = {"decision": resolution.action, "by": resolution.by}
    try:
        send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        logger.warning("decision not delivered", extra={"dispute_id": dispute.dispute_id, "code": code})
        raise ConflictError(f"the dispute workflow moved on ({code}): send the decision again") from None
    logger.info("dispute decided", extra={"dispute_id": dispute.dispute_id, "decision": resolution.action})
