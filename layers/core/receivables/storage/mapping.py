"""Between the ledger's objects and their records: ``<kind>_to_record`` and
``<kind>_from_record`` for invoices, credit notes, customers, payments, disputes and audit
events. Money goes in as integer minor units with its currency, never a float."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.kernel.money import Money
from receivables.ledger.disputes import Dispute, dispute_from_json, dispute_to_json
from receivables.ledger.model import (
    AuditEvent,
    Autopay,
    CreditNote,
    Customer,
    DueDateSource,
    DunningState,
    Invoice,
    InvoiceDocument,
    InvoiceLine,
    InvoiceStatus,
    PartyId,
    Payment,
    Processing,
    Promise,
    SourceRef,
    StandingPo,
)
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.storage.keys import (
    HEAD,
    credit_note_pk,
    customer_pk,
    dispute_pk,
    due_shard,
    event_sk,
    invoice_pk,
    payment_pk,
)
from receivables.storage.records import (
    AllocatedMap,
    CreditNoteRecord,
    CustomerRecord,
    DisputeRecord,
    EventRecord,
    InvoiceRecord,
    LineMap,
    PaymentRecord,
    SourceMap,
)


# --- conversion ---------------------------------------------------------------------------------
def _opt_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def invoice_to_record(inv: Invoice) -> InvoiceRecord:
    # The due-date index holds every open receivable (disputed ones too: they are still owed).
    collectible = inv.status in OPEN_RECEIVABLE
    return InvoiceRecord(
        pk=invoice_pk(inv.invoice_id),
        sk=HEAD,
        gsi1pk=f"CUST#{inv.customer_id}",
        gsi1sk=f"INV#{inv.issue_date.isoformat()}#{inv.invoice_id}",
        gsi2pk=due_shard(inv.invoice_id) if collectible else None,
        gsi2sk=f"{inv.due_date.isoformat()}#{inv.invoice_id}" if collectible else None,
        gsi3pk=f"ISSUED#{inv.issue_date.isoformat()[:7]}",
        gsi3sk=f"{inv.issue_date.isoformat()}#{inv.invoice_id}",
        invoice_id=inv.invoice_id,
        seller_id=inv.seller_id,
        number=inv.number,
        customer_id=inv.customer_id,
        currency=inv.currency,
        issue_date=inv.issue_date.isoformat(),
        due_date=inv.due_date.isoformat(),
        due_date_source=inv.due_date_source.value,
        total=inv.total.minor,
        tax=inv.tax.minor,
        prepaid=inv.prepaid.minor,
        payable=inv.payable.minor,
        balance=inv.balance.minor,
        paid=inv.paid.minor,
        credited=inv.credited.minor,
        written_off=inv.written_off.minor,
        status=inv.status.value,
        lines=[
            LineMap(
                line_id=line.line_id,
                description=line.description,
                quantity=_opt_decimal(line.quantity),
                unit_code=line.unit_code,
                unit_price=_opt_decimal(line.unit_price),
                net=line.net.minor,
                tax_percent=_opt_decimal(line.tax_percent),
            )
            for line in inv.lines
        ],
        fingerprint=inv.fingerprint,
        source=_source_map(inv.source),
        po_number=inv.po_number,
        buyer_reference=inv.buyer_reference,
        contract_reference=inv.contract_reference,
        payment_terms=inv.payment_terms,
        documents=_documents_json(inv.documents),
        version=inv.version,
        created_at=inv.created_at,
        updated_at=inv.updated_at,
        fees=inv.fees.minor if inv.fees is not None else None,
        dunning=_dunning_json(inv.dunning),
        paid_on=None if inv.paid_on is None else inv.paid_on.isoformat(),
    )


def _documents_json(documents: tuple[InvoiceDocument, ...]) -> str | None:
    if not documents:
        return None
    return json.dumps(
        [
            {
                "kind": d.kind,
                "key": d.key,
                "size": d.size,
                "content_type": d.content_type,
                "added_at": d.added_at,
                "added_by": d.added_by,
            }
            for d in documents
        ],
        separators=(",", ":"),
    )


def _documents(text: str | None) -> tuple[InvoiceDocument, ...]:
    if not text:
        return ()
    return tuple(
        InvoiceDocument(
            str(d["kind"]),
            str(d["key"]),
            int(d["size"]),
            str(d["content_type"]),
            str(d["added_at"]),
            str(d["added_by"]),
        )
        for d in json.loads(text)
    )


def _source_map(source: SourceRef) -> SourceMap:
    return SourceMap(bucket=source.bucket, key=source.key, format=source.format, location=source.location)


def _source(record: SourceMap) -> SourceRef:
    return SourceRef(record.bucket, record.key, record.format, record.location)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def invoice_from_record(rec: InvoiceRecord) -> Invoice:
    cur = rec.currency

    def money(minor: int) -> Money:
        return Money(int(minor), cur)

    return Invoice(
        invoice_id=rec.invoice_id,
        seller_id=rec.seller_id,
        number=rec.number,
        customer_id=rec.customer_id,
        currency=cur,
        issue_date=date.fromisoformat(rec.issue_date),
        due_date=date.fromisoformat(rec.due_date),
        due_date_source=DueDateSource(rec.due_date_source),
        total=money(rec.total),
        tax=money(rec.tax),
        prepaid=money(rec.prepaid),
        payable=money(rec.payable),
        balance=money(rec.balance),
        paid=money(rec.paid),
        credited=money(rec.credited),
        written_off=money(rec.written_off),
        status=InvoiceStatus(rec.status),
        lines=tuple(
            InvoiceLine(
                line_id=line.line_id,
                description=line.description,
                quantity=_dec(line.quantity),
                unit_code=line.unit_code,
                unit_price=_dec(line.unit_price),
                net=money(line.net),
                tax_percent=_dec(line.tax_percent),
            )
            for line in rec.lines
        ),
        fingerprint=rec.fingerprint,
        source=_source(rec.source),
        po_number=rec.po_number,
        buyer_reference=rec.buyer_reference,
        contract_reference=rec.contract_reference,
        payment_terms=rec.payment_terms,
        documents=_documents(rec.documents),
        version=int(rec.version),
        created_at=rec.created_at,
        updated_at=rec.updated_at,
        fees=None if rec.fees is None else money(rec.fees),
        dunning=_dunning(rec.dunning, cur),
        paid_on=None if rec.paid_on is None else date.fromisoformat(rec.paid_on),
    )


def _dunning_json(state: DunningState) -> str | None:
    if state == DunningState():
        return None
    promise = state.promise
    processing = state.processing
    return json.dumps(
        {
            "execution_arn": state.execution_arn,
            "run": state.run,
            "status": state.status,
            "levels_done": list(state.levels_done),
            "last_mail_at": state.last_mail_at,
            "promise": None
            if promise is None
            else {
                "date": promise.date,
                "amount": promise.amount.minor,
                "made_at": promise.made_at,
                "made_by": promise.made_by,
                "balance_then": promise.balance_then.minor,
            },
            "paused_until": state.paused_until,
            "last_error": state.last_error,
            "started_at": state.started_at,
            "collector": state.collector,
            "processing": None
            if processing is None
            else {
                "payment_intent": processing.payment_intent,
                "amount": processing.amount.minor,
                "method": processing.method,
                "since": processing.since,
            },
            "payment_failure": state.payment_failure,
            "autopay_attempts": state.autopay_attempts or None,
            "awaiting": list(state.awaiting) or None,
            "awaiting_since": state.awaiting_since,
            "documents_requested_at": state.documents_requested_at,
            "documents_reminders": state.documents_reminders or None,
        },
        separators=(",", ":"),
    )


def _dunning(text: str | None, currency: str) -> DunningState:
    if not text:
        return DunningState()
    raw = json.loads(text)
    promise = raw.get("promise")
    processing = raw.get("processing")
    return DunningState(
        execution_arn=raw.get("execution_arn"),
        run=int(raw.get("run", 0)),
        status=str(raw.get("status", "")),
        levels_done=tuple(raw.get("levels_done", ())),
        last_mail_at=raw.get("last_mail_at"),
        promise=None
        if not promise
        else Promise(
            promise["date"],
            Money(int(promise["amount"]), currency),
            promise["made_at"],
            promise["made_by"],
            Money(int(promise["balance_then"]), currency),
        ),
        paused_until=raw.get("paused_until"),
        last_error=raw.get("last_error"),
        started_at=raw.get("started_at"),
        collector=raw.get("collector"),
        processing=None
        if not processing
        else Processing(
            processing["payment_intent"],
            Money(int(processing["amount"]), currency),
            processing["method"],
            processing["since"],
        ),
        payment_failure=raw.get("payment_failure"),
        autopay_attempts=int(raw.get("autopay_attempts") or 0),
        awaiting=tuple(raw.get("awaiting") or ()),
        awaiting_since=raw.get("awaiting_since"),
        documents_requested_at=raw.get("documents_requested_at"),
        documents_reminders=int(raw.get("documents_reminders") or 0),
    )


def credit_note_to_record(cn: CreditNote) -> CreditNoteRecord:
    return CreditNoteRecord(
        pk=credit_note_pk(cn.credit_note_id),
        sk=HEAD,
        gsi1pk=f"CUST#{cn.customer_id}",
        gsi1sk=f"CN#{cn.issue_date.isoformat()}#{cn.credit_note_id}",
        credit_note_id=cn.credit_note_id,
        seller_id=cn.seller_id,
        number=cn.number,
        customer_id=cn.customer_id,
        currency=cn.currency,
        issue_date=cn.issue_date.isoformat(),
        amount=cn.amount.minor,
        applied=cn.applied.minor,
        invoice_reference=cn.invoice_reference,
        applied_invoice_id=cn.applied_invoice_id,
        fingerprint=cn.fingerprint,
        source=_source_map(cn.source),
        version=cn.version,
        created_at=cn.created_at,
    )


def credit_note_from_record(rec: CreditNoteRecord) -> CreditNote:
    return CreditNote(
        credit_note_id=rec.credit_note_id,
        seller_id=rec.seller_id,
        number=rec.number,
        customer_id=rec.customer_id,
        currency=rec.currency,
        issue_date=date.fromisoformat(rec.issue_date),
        amount=Money(int(rec.amount), rec.currency),
        applied=Money(int(rec.applied), rec.currency),
        invoice_reference=rec.invoice_reference,
        fingerprint=rec.fingerprint,
        source=_source(rec.source),
        applied_invoice_id=rec.applied_invoice_id,
        version=int(rec.version),
        created_at=rec.created_at,
    )


def customer_to_record(c: Customer) -> CustomerRecord:
    return CustomerRecord(
        pk=customer_pk(c.customer_id),
        sk=HEAD,
        gsi3pk="CUSTOMERS",
        gsi3sk=f"{(c.name or '').casefold()}#{c.customer_id}",
        customer_id=c.customer_id,
        name=c.name,
        identifiers=[identifier.key() for identifier in c.identifiers],
        email=c.email,
        country=c.country,
        language=c.language,
        payment_terms_days=c.payment_terms_days,
        needs_contact_details=int(c.needs_contact_details),
        version=c.version,
        created_at=c.created_at,
        risk=None if c.risk == "standard" else c.risk,
        credit_hold=int(c.credit_hold) if c.credit_hold else None,
        collector=c.collector,
        link_generation=c.link_generation or None,
        portal_last_used_at=c.portal_last_used_at,
        partial_payments=1 if c.partial_payments else None,
        preferred_method=c.preferred_method,
        stripe_customer_id=c.stripe_customer_id,
        autopay=_autopay_json(c.autopay),
        invoice_delivery=c.invoice_delivery,
        document_requirements=list(c.document_requirements) or None,
        extras=_customer_extras_json(c),
    )


def _customer_extras_json(c: Customer) -> str | None:
    po = c.standing_po
    extras = {
        "standing_po": None
        if po is None
        else {
            "number": po.number,
            "amount": _money_pair(po.amount),
            "until": po.valid_until.isoformat(),
        },
        "account_owner": c.account_owner,
        "ask_customer_for_documents": c.ask_customer_for_documents or None,
        "profile": c.profile,
        "credit_limit": _money_pair(c.credit_limit),
        "insured_amount": _money_pair(c.insured_amount),
        "insured_until": c.insured_until.isoformat() if c.insured_until else None,
        "open_orders": _money_pair(c.open_orders),
        "credit_level": c.credit_level or None,
        "over_insured": c.over_insured or None,
        "external_rating": c.external_rating,
        "postal_address": list(c.postal_address) or None,
    }
    kept = {name: value for name, value in extras.items() if value is not None}
    return json.dumps(kept, separators=(",", ":"), sort_keys=True) if kept else None


def _autopay_json(autopay: Autopay | None) -> str | None:
    if autopay is None:
        return None
    limit = autopay.max_per_invoice
    return json.dumps(
        {
            "payment_method": autopay.payment_method,
            "method": autopay.method,
            "label": autopay.label,
            "consented_at": autopay.consented_at,
            "consented_by": autopay.consented_by,
            "max_per_invoice": None if limit is None else [limit.minor, limit.currency],
        },
        separators=(",", ":"),
    )


def _autopay(text: str | None) -> Autopay | None:
    if not text:
        return None
    raw = json.loads(text)
    limit = raw.get("max_per_invoice")
    return Autopay(
        payment_method=raw["payment_method"],
        method=raw["method"],
        label=raw["label"],
        consented_at=raw["consented_at"],
        consented_by=raw["consented_by"],
        max_per_invoice=None if not limit else Money(int(limit[0]), str(limit[1])),
    )


def _party_id(key: str) -> PartyId:
    scheme, _, value = key.partition(":")
    return PartyId(scheme, value)


def customer_from_record(rec: CustomerRecord) -> Customer:
    return Customer(
        customer_id=rec.customer_id,
        name=rec.name,
        identifiers=tuple(_party_id(str(key)) for key in rec.identifiers),
        email=rec.email,
        country=rec.country,
        language=rec.language,
        payment_terms_days=None if rec.payment_terms_days is None else int(rec.payment_terms_days),
        version=int(rec.version),
        created_at=rec.created_at,
        risk=rec.risk or "standard",
        credit_hold=bool(rec.credit_hold),
        collector=rec.collector,
        link_generation=int(rec.link_generation or 0),
        portal_last_used_at=rec.portal_last_used_at,
        partial_payments=bool(rec.partial_payments),
        preferred_method=rec.preferred_method,
        stripe_customer_id=rec.stripe_customer_id,
        autopay=_autopay(rec.autopay),
        invoice_delivery=rec.invoice_delivery,
        document_requirements=tuple(str(r) for r in rec.document_requirements or ()),
        **_customer_extras(rec.extras),
    )


def _customer_extras(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    raw = json.loads(text)
    po = raw.get("standing_po")
    return {
        "standing_po": None
        if not po
        else StandingPo(
            str(po["number"]),
            Money(int(po["amount"][0]), str(po["amount"][1])),
            date.fromisoformat(po["until"]),
        ),
        "account_owner": raw.get("account_owner"),
        "ask_customer_for_documents": bool(raw.get("ask_customer_for_documents")),
        "profile": raw.get("profile"),
        "credit_limit": _money_of(raw.get("credit_limit")),
        "insured_amount": _money_of(raw.get("insured_amount")),
        "insured_until": date.fromisoformat(raw["insured_until"]) if raw.get("insured_until") else None,
        "open_orders": _money_of(raw.get("open_orders")),
        "credit_level": int(raw.get("credit_level") or 0),
        "over_insured": bool(raw.get("over_insured")),
        "external_rating": raw.get("external_rating"),
        "postal_address": tuple(raw.get("postal_address") or ()),
    }


def _money_pair(money: Money | None) -> list[Any] | None:
    return None if money is None else [money.minor, money.currency]


def _money_of(pair: list[Any] | None) -> Money | None:
    return None if not pair else Money(int(pair[0]), str(pair[1]))


def payment_to_record(p: Payment) -> PaymentRecord:
    waiting = p.unapplied.minor > 0
    return PaymentRecord(
        pk=payment_pk(p.payment_id),
        sk=HEAD,
        gsi1pk=f"CUST#{p.customer_id}" if p.customer_id else None,
        gsi1sk=f"PAY#{p.received_at}#{p.payment_id}" if p.customer_id else None,
        # The unapplied queue: sparse, only while money waits to be applied.
        gsi2pk=f"UNAPPLIED#{p.amount.currency}" if waiting else None,
        gsi2sk=f"{p.received_at}#{p.payment_id}" if waiting else None,
        gsi3pk=f"RECEIVED#{p.received_at[:7]}",
        gsi3sk=f"{p.received_at}#{p.payment_id}",
        payment_id=p.payment_id,
        customer_id=p.customer_id,
        currency=p.amount.currency,
        amount=p.amount.minor,
        unapplied=p.unapplied.minor,
        refunded=p.refunded.minor,
        received_at=p.received_at,
        method=p.method,
        reference=p.reference,
        matched_by=p.matched_by,
        allocations=[AllocatedMap(invoice_id=i, amount=a.minor) for i, a in p.allocations],
        version=p.version,
    )


def payment_from_record(rec: PaymentRecord) -> Payment:
    cur = rec.currency
    return Payment(
        payment_id=rec.payment_id,
        customer_id=rec.customer_id,
        amount=Money(int(rec.amount), cur),
        received_at=rec.received_at,
        method=rec.method,
        reference=rec.reference,
        unapplied=Money(int(rec.unapplied), cur),
        refunded=Money(int(rec.refunded), cur),
        allocations=tuple((a.invoice_id, Money(int(a.amount), cur)) for a in rec.allocations),
        matched_by=rec.matched_by,
        version=int(rec.version),
    )


def event_to_record(pk: str, event: AuditEvent) -> EventRecord:
    return EventRecord(
        pk=pk,
        sk=event_sk(event.seq),
        aggregate_id=event.aggregate_id,
        seq=event.seq,
        type=event.type,
        at=event.at,
        actor=event.actor,
        data=json.dumps(event.data, separators=(",", ":"), sort_keys=True),
    )


def event_from_record(rec: EventRecord) -> AuditEvent:
    return AuditEvent(
        aggregate_id=rec.aggregate_id,
        seq=int(rec.seq),
        type=rec.type,
        at=rec.at,
        actor=rec.actor,
        data=json.loads(rec.data),
    )


def dispute_to_record(dispute: Dispute) -> DisputeRecord:

    waiting = not dispute.final
    return DisputeRecord(
        pk=dispute_pk(dispute.dispute_id),
        sk=HEAD,
        gsi1pk=f"CUST#{dispute.customer_id}",
        gsi1sk=f"DSP#{dispute.opened_at}#{dispute.dispute_id}",
        gsi2pk="DISPUTES#open" if waiting else None,
        gsi2sk=f"{dispute.opened_at}#{dispute.dispute_id}" if waiting else None,
        body=json.dumps(dispute_to_json(dispute), separators=(",", ":")),
        version=dispute.version,
        status=dispute.status.value,
    )


def dispute_from_record(record: DisputeRecord) -> Dispute:

    return dispute_from_json(json.loads(record.body))
