"""DynamoDB storage: one table, PynamoDB records, and the repository functions the logic calls.

PynamoDB records never leave this module: callers get and give the plain objects of
`receivables.ledger.model`.

Keys (one table; ``HEAD`` is an aggregate's current state, ``EVT#nnnnnnnn`` its audit trail):

======================  ==========================  =====================================
item                    pk / sk                     indexes
======================  ==========================  =====================================
invoice                 INV#<id> / HEAD             gsi1 CUST#<customer> / INV#<issued>#<id>
                                                    gsi2 DUE#<shard> / <due>#<id> (sparse:
                                                    only while collectible)
credit note             CN#<id> / HEAD              gsi1 CUST#<customer> / CN#<issued>#<id>
customer                CUS#<id> / HEAD
customer identifier     CKEY#<scheme>:<value> / KEY
audit event             <aggregate pk> / EVT#<seq>
allocation              INV#<id> / ALLOC#<source type>#<allocation id>
dispute                 DSP#<id> / HEAD             gsi1 CUST#<customer> / DSP#<opened>#<id>
                                                    gsi2 DISPUTES#open / <opened>#<id> (sparse:
                                                    until it ends)
dispute of an invoice   INV#<id> / DSP#<dispute id>
(listings)                                          gsi3 ISSUED#<yyyy-mm> / <issued>#<id> (invoices),
                                                    RECEIVED#<yyyy-mm> / <at>#<id> (payments),
                                                    CUSTOMERS / <name>#<id> (customers)
======================  ==========================  =====================================

Access patterns: invoice by id (GetItem); invoice by (seller, number) (GetItem: the id is
derived from them, `receivables.ledger.rules.document_id`); a customer's documents (Query gsi1);
collectible invoices by due date for the sweep (Query gsi2, one query per shard); an aggregate's
audit events in order (Query pk, sk begins_with EVT#). Nothing scans.

Every change is a transaction: the head's write is conditional on its version (optimistic
locking), and the audit event numbered with the new version is put beside it.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import QueryError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, ReceivablesError
from receivables.kernel.money import Money
from receivables.ledger.disputes import Dispute, dispute_from_json, dispute_to_json
from receivables.ledger.model import (
    Allocation,
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
from receivables.ledger.rules import COLLECTIBLE, OPEN_RECEIVABLE

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

DUE_SHARDS = 8  # write-sharding of the sparse due-date index: no hot partition at any volume
MAX_TRANSACTION_ITEMS = 100


class StoreError(ReceivablesError):
    """A storage operation that failed for a reason other than a refused condition."""


class ConcurrentChangeError(ConflictError, StoreError):
    """Someone else changed the aggregate since it was read (optimistic locking)."""


# --- records ------------------------------------------------------------------------------------
class IntegerAttribute(Attribute[int]):
    """A DynamoDB number that is always a Python int: minor units, versions, counters.

    PynamoDB's NumberAttribute goes through float typing; money must never meet a float.
    """

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an int, got {type(value).__name__}")
        return str(value)

    def deserialize(self, value: str) -> int:
        return int(value)


class Gsi1(GlobalSecondaryIndex["LedgerRecord"]):
    """A customer's documents, newest last."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["LedgerRecord"]):
    """Collectible invoices by due date (sparse; sharded)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["LedgerRecord"]):
    """Listings: invoices by issue month, payments by month received, customers by name."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class LedgerRecord(Model):
    """The one table. Subclasses are the item types, told apart by ``kind``."""

    class Meta:
        table_name = "receivables"
        region = "us-east-1"
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()


class LineMap(MapAttribute[str, Any]):
    line_id = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    quantity = UnicodeAttribute(null=True)
    unit_code = UnicodeAttribute(null=True)
    unit_price = UnicodeAttribute(null=True)
    net = IntegerAttribute()
    tax_percent = UnicodeAttribute(null=True)


class SourceMap(MapAttribute[str, Any]):
    bucket = UnicodeAttribute()
    key = UnicodeAttribute()
    format = UnicodeAttribute()
    location = UnicodeAttribute()


class InvoiceRecord(LedgerRecord, discriminator="invoice"):
    invoice_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    number = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    issue_date = UnicodeAttribute()
    due_date = UnicodeAttribute()
    due_date_source = UnicodeAttribute()
    total = IntegerAttribute()
    tax = IntegerAttribute()
    prepaid = IntegerAttribute()
    payable = IntegerAttribute()
    balance = IntegerAttribute()
    paid = IntegerAttribute()
    credited = IntegerAttribute()
    written_off = IntegerAttribute()
    status = UnicodeAttribute()
    lines = ListAttribute(of=LineMap)
    fingerprint = UnicodeAttribute()
    source = SourceMap()
    po_number = UnicodeAttribute(null=True)
    buyer_reference = UnicodeAttribute(null=True)
    contract_reference = UnicodeAttribute(null=True)
    payment_terms = UnicodeAttribute(null=True)  # as the document wrote them ("2/10 net 30")
    documents = UnicodeAttribute(null=True)  # JSON list of InvoiceDocument (see `_documents_json`)
    version = IntegerAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    fees = IntegerAttribute(null=True)
    dunning = UnicodeAttribute(null=True)  # JSON of DunningState; absent until dunning starts


class CreditNoteRecord(LedgerRecord, discriminator="credit_note"):
    credit_note_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    number = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    issue_date = UnicodeAttribute()
    amount = IntegerAttribute()
    applied = IntegerAttribute()
    invoice_reference = UnicodeAttribute(null=True)
    applied_invoice_id = UnicodeAttribute(null=True)
    fingerprint = UnicodeAttribute()
    source = SourceMap()
    version = IntegerAttribute()
    created_at = UnicodeAttribute()


class CustomerRecord(LedgerRecord, discriminator="customer"):
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    identifiers = ListAttribute(of=UnicodeAttribute)
    email = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    payment_terms_days = IntegerAttribute(null=True)
    needs_contact_details = IntegerAttribute()  # 1/0: a flag the finance API filters on
    version = IntegerAttribute()
    created_at = UnicodeAttribute()
    risk = UnicodeAttribute(null=True)
    credit_hold = IntegerAttribute(null=True)  # 1/0
    collector = UnicodeAttribute(null=True)
    link_generation = IntegerAttribute(null=True)
    portal_last_used_at = UnicodeAttribute(null=True)
    partial_payments = IntegerAttribute(null=True)  # 1/0
    preferred_method = UnicodeAttribute(null=True)
    stripe_customer_id = UnicodeAttribute(null=True)
    autopay = UnicodeAttribute(null=True)  # JSON: the consent (see `_autopay_json`)
    invoice_delivery = UnicodeAttribute(null=True)
    document_requirements = ListAttribute(of=UnicodeAttribute, null=True)
    # JSON: the standing PO, account owner, documentation settings and enrolment profile
    # (see `_customer_extras_json`)
    extras = UnicodeAttribute(null=True)


class CustomerKeyRecord(LedgerRecord, discriminator="customer_key"):
    customer_id = UnicodeAttribute()


class EventRecord(LedgerRecord, discriminator="event"):
    aggregate_id = UnicodeAttribute()
    seq = IntegerAttribute()
    type = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    data = UnicodeAttribute()  # JSON: strings and integers only, never floats


class AllocatedMap(MapAttribute[str, Any]):
    invoice_id = UnicodeAttribute()
    amount = IntegerAttribute()


class PaymentRecord(LedgerRecord, discriminator="payment"):
    payment_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    amount = IntegerAttribute()
    unapplied = IntegerAttribute()
    refunded = IntegerAttribute()
    received_at = UnicodeAttribute()
    method = UnicodeAttribute()
    reference = UnicodeAttribute(null=True)
    matched_by = UnicodeAttribute(null=True)
    allocations = ListAttribute(of=AllocatedMap)
    version = IntegerAttribute()


class DocumentRecord(LedgerRecord, discriminator="document"):
    """A versioned JSON document (the dunning policy, a day's KPI snapshot)."""

    body = UnicodeAttribute()  # JSON: strings and integers only
    version = IntegerAttribute()
    updated_at = UnicodeAttribute()


class DisputeRecord(LedgerRecord, discriminator="dispute"):
    """A dispute (`receivables.ledger.disputes`), kept as its JSON."""

    body = UnicodeAttribute()
    version = IntegerAttribute()
    status = UnicodeAttribute()


class MarkerRecord(LedgerRecord, discriminator="marker"):
    """An item whose existence records that something happened once (a refund id, say)."""

    at = UnicodeAttribute()


class AllocationRecord(LedgerRecord, discriminator="allocation"):
    allocation_id = UnicodeAttribute()
    source_type = UnicodeAttribute()
    source_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    amount = IntegerAttribute()
    currency = UnicodeAttribute()
    at = UnicodeAttribute()


RECORD_TYPES: tuple[type[LedgerRecord], ...] = (
    InvoiceRecord,
    CreditNoteRecord,
    CustomerRecord,
    CustomerKeyRecord,
    EventRecord,
    AllocationRecord,
    PaymentRecord,
    MarkerRecord,
    DocumentRecord,
    DisputeRecord,
)


# --- binding ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Binding:
    table_name: str = "receivables"
    region: str = "us-east-1"
    host: str | None = None
    connection: Connection | None = None


_binding = _Binding()


def bind(table_name: str, region: str, host: str | None = None) -> None:
    """Point every record type at ``table_name`` (call once per cold start, or per test)."""
    records: tuple[type[Model], ...] = (LedgerRecord, *RECORD_TYPES)
    for record in records:
        meta: Any = record.Meta
        meta.table_name, meta.region, meta.host = table_name, region, host
        record._connection = None
    _binding.table_name, _binding.region, _binding.host = table_name, region, host
    _binding.connection = None


def binding() -> tuple[str, str, str | None]:
    """The table, region and endpoint the records are bound to (to bind them back later)."""
    return _binding.table_name, _binding.region, _binding.host


def _connection() -> Connection:
    if _binding.connection is None:
        _binding.connection = Connection(region=_binding.region, host=_binding.host)
    return _binding.connection


def create_table() -> None:
    """Create the table from the records' own schema (tests and tools; AWS uses template.yaml)."""
    if not LedgerRecord.exists():
        LedgerRecord.create_table(wait=True)


# --- keys ---------------------------------------------------------------------------------------
def invoice_pk(invoice_id: str) -> str:
    return f"INV#{invoice_id}"


def credit_note_pk(credit_note_id: str) -> str:
    return f"CN#{credit_note_id}"


def payment_pk(payment_id: str) -> str:
    return f"PAY#{payment_id}"


def customer_pk(customer_id: str) -> str:
    return f"CUS#{customer_id}"


def customer_key_pk(identifier: PartyId) -> str:
    return f"CKEY#{identifier.key()}"


def customer_key_record(customer_id: str, identifier: PartyId) -> LedgerRecord:
    """The item that finds ``customer_id`` by ``identifier`` (put on condition it is new)."""
    return CustomerKeyRecord(pk=customer_key_pk(identifier), sk="KEY", customer_id=customer_id)


def customer_key_removal(customer_id: str, identifier: PartyId) -> tuple[LedgerRecord, Any]:
    """The deletion of that item, on condition it still finds ``customer_id``."""
    return customer_key_record(customer_id, identifier), CustomerKeyRecord.customer_id == customer_id


def event_sk(seq: int) -> str:
    return f"EVT#{seq:08d}"


def due_shard(invoice_id: str) -> str:
    return f"DUE#{zlib.crc32(invoice_id.encode()) % DUE_SHARDS}"


HEAD = "HEAD"


# --- conversion ---------------------------------------------------------------------------------
def _opt_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _invoice_record(inv: Invoice) -> InvoiceRecord:
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


def _invoice(rec: InvoiceRecord) -> Invoice:
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


def _credit_note_record(cn: CreditNote) -> CreditNoteRecord:
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


def _credit_note(rec: CreditNoteRecord) -> CreditNote:
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


def _customer_record(c: Customer) -> CustomerRecord:
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


def _customer(rec: CustomerRecord) -> Customer:
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
    }


def _money_pair(money: Money | None) -> list[Any] | None:
    return None if money is None else [money.minor, money.currency]


def _money_of(pair: list[Any] | None) -> Money | None:
    return None if not pair else Money(int(pair[0]), str(pair[1]))


def _payment_record(p: Payment) -> PaymentRecord:
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


def _payment(rec: PaymentRecord) -> Payment:
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


def _event_record(pk: str, event: AuditEvent) -> EventRecord:
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


def event_record(pk: str, event: AuditEvent) -> LedgerRecord:
    """An audit event of aggregate ``pk``, to create within a transaction (`apply_changes`
    ``extra``): for documents, whose events `apply_changes` does not write by itself."""
    return _event_record(pk, event)


def _event(rec: EventRecord) -> AuditEvent:
    return AuditEvent(
        aggregate_id=rec.aggregate_id,
        seq=int(rec.seq),
        type=rec.type,
        at=rec.at,
        actor=rec.actor,
        data=json.loads(rec.data),
    )


# --- writes -------------------------------------------------------------------------------------
@dataclass(slots=True)
class Creation:
    """A new aggregate: its head, its first audit event and any items that belong to it.

    Every item is put on condition that it does not exist yet, so a creation that was already
    made (a redelivery) or that clashes (another document under the same key) is refused whole.
    """

    aggregate_id: str
    records: list[LedgerRecord]

    @classmethod
    def invoice(cls, invoice: Invoice, event: AuditEvent) -> Creation:
        pk = invoice_pk(invoice.invoice_id)
        return cls(invoice.invoice_id, [_invoice_record(invoice), _event_record(pk, event)])

    @classmethod
    def payment(cls, payment: Payment, event: AuditEvent) -> Creation:
        pk = payment_pk(payment.payment_id)
        return cls(payment.payment_id, [_payment_record(payment), _event_record(pk, event)])

    @classmethod
    def dispute(cls, dispute: Dispute, event: AuditEvent) -> Creation:
        pk = dispute_pk(dispute.dispute_id)
        pointer = MarkerRecord(
            pk=invoice_pk(dispute.invoice_id), sk=f"DSP#{dispute.dispute_id}", at=dispute.opened_at
        )
        return cls(dispute.dispute_id, [_dispute_record(dispute), _event_record(pk, event), pointer])

    @classmethod
    def customer(cls, customer: Customer, event: AuditEvent) -> Creation:
        pk = customer_pk(customer.customer_id)
        keys: list[LedgerRecord] = [
            CustomerKeyRecord(pk=customer_key_pk(i), sk="KEY", customer_id=customer.customer_id)
            for i in customer.identifiers
        ]
        return cls(customer.customer_id, [_customer_record(customer), _event_record(pk, event), *keys])


def create_all(creations: Sequence[Creation], *, max_items: int = MAX_TRANSACTION_ITEMS) -> list[Creation]:
    """Write each creation atomically, packing several into each transaction.

    Returns the creations that were refused because one of their items already exists; all the
    others are written. A refused creation never blocks the rest of its transaction: the
    transaction is retried without it.
    """
    refused: list[Creation] = []
    group: list[Creation] = []
    size = 0
    for creation in creations:
        if len(creation.records) > max_items:
            raise StoreError(
                f"{creation.aggregate_id} needs {len(creation.records)} items in one transaction"
            )
        if size + len(creation.records) > max_items:
            refused.extend(_create_group(group))
            group, size = [], 0
        group.append(creation)
        size += len(creation.records)
    refused.extend(_create_group(group))
    return refused


def _create_group(group: list[Creation]) -> list[Creation]:
    refused: list[Creation] = []
    attempts = 0
    while group:
        try:
            with TransactWrite(connection=_connection()) as transaction:
                for creation in group:
                    for record in creation.records:
                        transaction.save(record, condition=LedgerRecord.pk.does_not_exist())
            return refused
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons
            failed_positions = {
                index
                for index, reason in enumerate(reasons)
                if reason and reason.code == "ConditionalCheckFailed"
            }
            if not failed_positions:
                attempts += 1
                if attempts > 5 or not reasons:
                    raise StoreError(f"transaction failed: {exc.cause_response_message}") from exc
                # A transient conflict with another writer (TransactionConflict): back off, retry.
                time.sleep(0.05 * 2**attempts)
                continue
            kept: list[Creation] = []
            position = 0
            for creation in group:
                span = range(position, position + len(creation.records))
                position += len(creation.records)
                (refused if failed_positions.intersection(span) else kept).append(creation)
            group = kept
    return refused


def apply_changes(
    changes: Sequence[tuple[Invoice | CreditNote | Customer | Payment | Dispute, AuditEvent]],
    creations: Sequence[Creation] = (),
    extra: Sequence[LedgerRecord] = (),
    removals: Sequence[tuple[LedgerRecord, Any]] = (),
    updates: Sequence[tuple[LedgerRecord, Any]] = (),
) -> None:
    """Save changed aggregates (each with its audit event), new items and ``updates`` (each on
    its condition, see `document_update`), and delete ``removals`` (each on its condition), in
    one transaction.

    Each aggregate is written on condition that its stored version is the one it was read at
    (``event.seq - 1``); raises `ConcurrentChangeError` if anyone changed it meanwhile.
    """
    with_condition: list[tuple[LedgerRecord, Any]] = []
    for aggregate, event in changes:
        expected = event.seq - 1
        record: LedgerRecord
        if isinstance(aggregate, Invoice):
            record, pk = _invoice_record(aggregate), invoice_pk(aggregate.invoice_id)
        elif isinstance(aggregate, CreditNote):
            record, pk = _credit_note_record(aggregate), credit_note_pk(aggregate.credit_note_id)
        elif isinstance(aggregate, Payment):
            record, pk = _payment_record(aggregate), payment_pk(aggregate.payment_id)
        elif isinstance(aggregate, Dispute):
            record, pk = _dispute_record(aggregate), dispute_pk(aggregate.dispute_id)
        else:
            record, pk = _customer_record(aggregate), customer_pk(aggregate.customer_id)
        record.version = event.seq
        version_attribute: IntegerAttribute = type(record).version
        with_condition.append((record, version_attribute == expected))
        with_condition.append((_event_record(pk, event), LedgerRecord.pk.does_not_exist()))
    for creation in creations:
        with_condition.extend((r, LedgerRecord.pk.does_not_exist()) for r in creation.records)
    with_condition.extend((r, LedgerRecord.pk.does_not_exist()) for r in extra)
    with_condition.extend(updates)
    _transact(with_condition, removals)


def _transact(
    with_condition: Sequence[tuple[LedgerRecord, Any]], removals: Sequence[tuple[LedgerRecord, Any]] = ()
) -> None:
    """Put every record on its condition, and delete every removal on its own, all or none."""
    if len(with_condition) + len(removals) > MAX_TRANSACTION_ITEMS:
        raise StoreError("too many items for one transaction")
    try:
        with TransactWrite(connection=_connection()) as transaction:
            for record, condition in with_condition:
                transaction.save(record, condition=condition)
            for record, condition in removals:
                transaction.delete(record, condition=condition)
    except TransactWriteError as exc:
        if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
            raise ConcurrentChangeError("changed by someone else; read it again and retry") from exc
        raise StoreError(f"transaction failed: {exc.cause_response_message}") from exc


def allocation_record(allocation: Allocation) -> LedgerRecord:
    """The item that records one allocation under its invoice."""
    return AllocationRecord(
        pk=invoice_pk(allocation.invoice_id),
        # One item per allocation: a payment applied to the same invoice again later (its credit,
        # after a refund or a re-allocation) is another allocation, never the first one again.
        sk=f"ALLOC#{allocation.source_type}#{allocation.allocation_id}",
        allocation_id=allocation.allocation_id,
        source_type=allocation.source_type,
        source_id=allocation.source_id,
        invoice_id=allocation.invoice_id,
        amount=allocation.amount.minor,
        currency=allocation.amount.currency,
        at=allocation.at,
    )


def credit_note_creation(credit_note: CreditNote, event: AuditEvent) -> Creation:
    """The creation of a credit note with its first audit event."""
    pk = credit_note_pk(credit_note.credit_note_id)
    return Creation(credit_note.credit_note_id, [_credit_note_record(credit_note), _event_record(pk, event)])


# --- reads --------------------------------------------------------------------------------------
def get_invoice(invoice_id: str) -> Invoice | None:
    """The invoice ``invoice_id``, or None."""
    if not _fits(invoice_id):
        return None
    try:
        record = InvoiceRecord.get(invoice_pk(invoice_id), HEAD, consistent_read=True)
    except InvoiceRecord.DoesNotExist:
        return None
    return _invoice(record)


def get_credit_note(credit_note_id: str) -> CreditNote | None:
    """The credit note ``credit_note_id``, or None."""
    if not _fits(credit_note_id):
        return None
    try:
        record = CreditNoteRecord.get(credit_note_pk(credit_note_id), HEAD, consistent_read=True)
    except CreditNoteRecord.DoesNotExist:
        return None
    return _credit_note(record)


def get_payment(payment_id: str) -> Payment | None:
    """The payment ``payment_id``, or None."""
    if not _fits(payment_id):
        return None
    try:
        record = PaymentRecord.get(payment_pk(payment_id), HEAD, consistent_read=True)
    except PaymentRecord.DoesNotExist:
        return None
    return _payment(record)


def marker(pk: str, name: str, at: str) -> LedgerRecord:
    """An item that may be created once only (put on condition that it does not exist)."""
    return MarkerRecord(pk=pk, sk=f"ONCE#{name}", at=at)


def marker_exists(pk: str, name: str) -> bool:
    """Whether the once-only marker ``name`` of ``pk`` exists (a consistent GetItem)."""
    try:
        MarkerRecord.get(pk, f"ONCE#{name}", consistent_read=True)
    except MarkerRecord.DoesNotExist:
        return False
    return True


def unapplied_payments(currency: str, limit: int = 100) -> list[Payment]:
    """The queue of payments with money waiting to be applied, oldest first (Query on gsi2)."""
    return [
        _payment(record)
        for record in LedgerRecord.gsi2.query(f"UNAPPLIED#{currency}", limit=limit)
        if isinstance(record, PaymentRecord)
    ]


def get_customer(customer_id: str) -> Customer | None:
    """The customer ``customer_id``, or None."""
    if not _fits(customer_id):
        return None
    try:
        record = CustomerRecord.get(customer_pk(customer_id), HEAD, consistent_read=True)
    except CustomerRecord.DoesNotExist:
        return None
    return _customer(record)


def _fits(identifier: str) -> bool:
    """Whether ``identifier`` can be part of a key: DynamoDB refuses a partition key over 2048
    bytes with a ValidationException, which must not be what a crafted id from a request meets."""
    return len(identifier) <= 256


def _batch_get(keys: Iterable[tuple[str, str]]) -> Iterator[LedgerRecord]:
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 100):
        yield from LedgerRecord.batch_get(unique[start : start + 100], consistent_read=True)


def get_heads(document_ids: Iterable[str]) -> dict[str, Invoice | CreditNote]:
    """Invoices and credit notes by id (``inv_…``, ``cn_…``), fetched in batches."""
    keys = [
        (invoice_pk(i) if i.startswith("inv_") else credit_note_pk(i), HEAD) for i in document_ids if _fits(i)
    ]
    found: dict[str, Invoice | CreditNote] = {}
    for record in _batch_get(keys):
        if isinstance(record, InvoiceRecord):
            found[record.invoice_id] = _invoice(record)
        elif isinstance(record, CreditNoteRecord):
            found[record.credit_note_id] = _credit_note(record)
    return found


def customers_by_identifier(identifiers: Iterable[PartyId]) -> dict[PartyId, str]:
    """Map each known identifier to the id of the customer it belongs to (batched GetItems)."""
    wanted = {customer_key_pk(i): i for i in identifiers}
    return {
        wanted[record.pk]: record.customer_id
        for record in _batch_get((pk, "KEY") for pk in wanted)
        if isinstance(record, CustomerKeyRecord)
    }


def get_customers(customer_ids: Iterable[str]) -> dict[str, Customer]:
    """Customers by id, fetched in batches."""
    return {
        record.customer_id: _customer(record)
        for record in _batch_get((customer_pk(c), HEAD) for c in customer_ids)
        if isinstance(record, CustomerRecord)
    }


def audit_events(aggregate_pk: str) -> list[AuditEvent]:
    """The audit trail of an aggregate, oldest first (``aggregate_pk`` as `invoice_pk` gives)."""
    return [
        _event(record)
        for record in LedgerRecord.query(
            aggregate_pk, LedgerRecord.sk.startswith("EVT#"), consistent_read=True
        )
        if isinstance(record, EventRecord)
    ]


def invoice_events(invoice_id: str) -> list[AuditEvent]:
    """The audit trail of an invoice, oldest first."""
    return audit_events(invoice_pk(invoice_id))


def customer_payments(customer_id: str) -> list[Payment]:
    """A customer's payments, oldest first (Query on gsi1, the ``PAY#`` range)."""
    return [
        _payment(record)
        for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}", LedgerRecord.gsi1sk.startswith("PAY#"))
        if isinstance(record, PaymentRecord)
    ]


def customer_documents(customer_id: str) -> list[Invoice | CreditNote]:
    """A customer's invoices and credit notes, by issue date (Query on gsi1)."""
    out: list[Invoice | CreditNote] = []
    for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}"):
        if isinstance(record, InvoiceRecord):
            out.append(_invoice(record))
        elif isinstance(record, CreditNoteRecord):
            out.append(_credit_note(record))
    return out


def collectible_invoices_due_by(last_due_date: date) -> list[Invoice]:
    """Open and partially paid invoices due on or before ``last_due_date``, earliest first.

    One Query per shard of the sparse due-date index; the sweep of the dunning issue uses this.
    """
    return [i for i in open_receivables_due_by(last_due_date) if i.status in COLLECTIBLE]


def open_receivables_due_by(last_due_date: date) -> list[Invoice]:
    """Every open receivable (collectible or disputed) due on or before ``last_due_date``,
    earliest first: one Query per shard of the sparse due-date index."""
    found: list[Invoice] = []
    bound = f"{last_due_date.isoformat()}#\uffff"
    for shard in range(DUE_SHARDS):
        for record in LedgerRecord.gsi2.query(f"DUE#{shard}", LedgerRecord.gsi2sk <= bound):
            if isinstance(record, InvoiceRecord):
                found.append(_invoice(record))
    found.sort(key=lambda inv: (inv.due_date, inv.invoice_id))
    return found


def dispute_pk(dispute_id: str) -> str:
    return f"DSP#{dispute_id}"


def _dispute_record(dispute: Dispute) -> DisputeRecord:

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


def _dispute(record: DisputeRecord) -> Dispute:

    return dispute_from_json(json.loads(record.body))


def get_dispute(dispute_id: str) -> Dispute | None:
    """A dispute by id (a consistent GetItem)."""
    if not _fits(dispute_id):
        return None
    try:
        return _dispute(DisputeRecord.get(dispute_pk(dispute_id), HEAD, consistent_read=True))
    except DisputeRecord.DoesNotExist:
        return None


def invoice_dispute_ids(invoice_id: str) -> list[str]:
    """The ids of every dispute of an invoice, oldest first (Query the invoice's ``DSP#`` items)."""
    found = LedgerRecord.query(
        invoice_pk(invoice_id), LedgerRecord.sk.startswith("DSP#"), consistent_read=True
    )
    records = sorted(found, key=lambda r: (getattr(r, "at", ""), r.sk))
    return [r.sk.removeprefix("DSP#") for r in records]


def customer_disputes(customer_id: str) -> list[Dispute]:
    """A customer's disputes, oldest first (Query gsi1, the ``DSP#`` range)."""
    return [
        _dispute(record)
        for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}", LedgerRecord.gsi1sk.startswith("DSP#"))
        if isinstance(record, DisputeRecord)
    ]


def open_disputes(limit: int = 200) -> list[Dispute]:
    """Disputes that have not ended, oldest first (Query gsi2): finance's queue."""
    return [
        _dispute(record)
        for record in LedgerRecord.gsi2.query("DISPUTES#open", limit=limit)
        if isinstance(record, DisputeRecord)
    ]


def get_document(pk: str, sk: str = HEAD) -> tuple[dict[str, Any], int] | None:
    """A JSON document and its version, or None."""
    if not (_fits(pk) and _fits(sk)):
        return None
    try:
        record = DocumentRecord.get(pk, sk, consistent_read=True)
    except DocumentRecord.DoesNotExist:
        return None
    body: dict[str, Any] = json.loads(record.body)
    return body, int(record.version)


def documents(pk: str, first_sk: str, last_sk: str) -> list[tuple[str, dict[str, Any]]]:
    """The JSON documents of partition ``pk`` with sk in [first_sk, last_sk], oldest first."""
    return [
        (record.sk, json.loads(record.body))
        for record in DocumentRecord.query(pk, DocumentRecord.sk.between(first_sk, last_sk))
        if isinstance(record, DocumentRecord)
    ]


def document_record(pk: str, sk: str, body: dict[str, Any], version: int, at: str) -> LedgerRecord:
    """A JSON document item, to create within a transaction (`apply_changes` ``extra``)."""
    return DocumentRecord(
        pk=pk, sk=sk, body=json.dumps(body, separators=(",", ":")), version=version, updated_at=at
    )


def document_update(
    pk: str,
    body: dict[str, Any],
    version: int,
    at: str,
    listing: tuple[str, str] | None = None,
    sk: str = HEAD,
    waiting: tuple[str, str] | None = None,
) -> tuple[LedgerRecord, Any]:
    """A JSON document written at ``version`` on condition that the stored one is ``version - 1``
    (absent for 1), to write within a transaction (`apply_changes` ``updates``). ``listing``
    lists it on gsi3 (`listed_documents`); ``waiting`` puts it on the sparse gsi2 while it waits
    for someone (`waiting_documents`), and a version without it takes it off."""
    record = DocumentRecord(
        pk=pk, sk=sk, body=json.dumps(body, separators=(",", ":")), version=version, updated_at=at
    )
    if listing is not None:
        record.gsi3pk, record.gsi3sk = listing
    if waiting is not None:
        record.gsi2pk, record.gsi2sk = waiting
    condition = LedgerRecord.pk.does_not_exist() if version == 1 else DocumentRecord.version == version - 1
    return record, condition


def document_removal(pk: str, sk: str) -> tuple[LedgerRecord, Any]:
    """The deletion of a JSON document item (`apply_changes` ``removals``); it must exist."""
    return DocumentRecord(pk=pk, sk=sk), LedgerRecord.pk.exists()


def put_document(
    pk: str,
    body: dict[str, Any],
    version: int,
    at: str,
    event: AuditEvent | None,
    sk: str = HEAD,
    listing: tuple[str, str] | None = None,
) -> None:
    """Write document ``pk`` at ``version`` (on condition that the stored one is ``version - 1``,
    or absent for 1), with its audit event in the same transaction; ``listing`` (partition, sort
    key) lists it on the listing index (`listed_documents`)."""
    items: list[tuple[LedgerRecord, Any]] = [document_update(pk, body, version, at, listing, sk)]
    if event is not None:
        items.append((_event_record(pk, event), LedgerRecord.pk.does_not_exist()))
    _transact(items)


def waiting_documents(partition: str, limit: int | None = None) -> list[tuple[dict[str, Any], int]]:
    """The JSON documents waiting under ``partition`` on the sparse gsi2, oldest first."""
    return [
        (json.loads(record.body), int(record.version))
        for record in LedgerRecord.gsi2.query(partition, limit=limit)
        if isinstance(record, DocumentRecord)
    ]


def listed_documents(
    listing: str, limit: int | None = 500, since: str | None = None
) -> list[tuple[dict[str, Any], int]]:
    """The JSON documents listed under ``listing`` (Query gsi3), by their listing sort key (from
    ``since`` on, when given); ``limit`` None reads them all, page by page."""
    condition = None if since is None else LedgerRecord.gsi3sk >= since
    return [
        (json.loads(record.body), int(record.version))
        for record in LedgerRecord.gsi3.query(listing, condition, limit=limit)
        if isinstance(record, DocumentRecord)
    ]


# --- raw calls (aggregate counters) -------------------------------------------------------------
def dispatch(operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB call on the bound table, for what records cannot express: counters
    added to attributes named at run time (`receivables.reporting.aggregates`). ``TableName`` is filled in;
    the response carries ``ConsumedCapacity``."""
    calls: dict[str, Any] = {"TableName": _binding.table_name, **arguments}
    if operation == "TransactWriteItems":
        calls.pop("TableName")
        for item in calls["TransactItems"]:
            for body in item.values():
                body.setdefault("TableName", _binding.table_name)
    response: dict[str, Any] = _connection().dispatch(operation, calls)
    return response


def invoice_from_stream_image(image: dict[str, Any]) -> Invoice | None:
    """The invoice a stream record's NewImage (DynamoDB's attribute-value form) holds, or None
    when the item is not an invoice head."""
    if image.get("kind", {}).get("S") != "invoice" or image.get("sk", {}).get("S") != HEAD:
        return None
    record = LedgerRecord.from_raw_data(image)
    return _invoice(record) if isinstance(record, InvoiceRecord) else None


# --- listings (pages and cursors) ---------------------------------------------------------------
# A cursor is the plain position a listing stopped at; the API wraps it opaquely.
Cursor = dict[str, Any]
_KEY_NAMES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"})


class CursorError(InvalidRequestError, ValueError):
    """A cursor that is not a position of this listing (a client's mistake, or a forgery)."""

    def __init__(self, detail: str = "not a position of this listing") -> None:
        super().__init__([FieldError("cursor", "is not a cursor of this listing")])
        self.detail = detail


def _records(result: Any, start: Cursor | None) -> list[Any]:
    """The items of a query from ``start``: a well-shaped position DynamoDB refuses (another
    listing's) is the caller's mistake, a `CursorError`; without one the error is ours."""
    try:
        return list(result)
    except QueryError:
        if start is None:
            raise
        raise CursorError("DynamoDB refused the position") from None


def _position(start: Any, index: Any, hash_key: str) -> Cursor | None:
    """``start`` if it is a position in ``index``'s partition ``hash_key`` (``{"pk": {"S": "…"},
    …}``) or None; else `CursorError`."""
    if start is None:
        return None
    if (
        isinstance(start, dict)
        and 0 < len(start) <= 4
        and set(start) <= _KEY_NAMES
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in start.values())
        and start.get(index._hash_key_attribute().attr_name, {}).get("S") == hash_key
    ):
        return start
    raise CursorError("not a position of this listing")


def _page(
    index: Any, hash_key: str, limit: int, start: Cursor | None, condition: Any = None
) -> tuple[list[LedgerRecord], Cursor | None]:
    """One page of an index partition, newest (highest sort key) first."""
    result = index.query(
        hash_key,
        range_key_condition=condition,
        limit=limit,
        last_evaluated_key=_position(start, index, hash_key),
        scan_index_forward=False,
    )
    records = _records(result, start)
    last = result.last_evaluated_key if len(records) >= limit else None
    return records, last


def _monthly(
    prefix: str, months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[LedgerRecord], Cursor | None]:
    """Up to ``limit`` items of the gsi3 partitions ``prefix<month>``, newest month first."""
    position = cursor or {"month": months[0] if months else "", "key": None}
    if not (
        isinstance(position, dict)
        and set(position) == {"month", "key"}
        and isinstance(position["month"], str)
        and (not cursor or (len(position["month"]) == 7 and position["month"][4] == "-"))
    ):
        raise CursorError("not a position of this listing")
    out: list[LedgerRecord] = []
    for month in (m for m in months if m <= position["month"]):
        key = position["key"] if month == position["month"] else None
        records, last = _page(LedgerRecord.gsi3, prefix + month, limit - len(out), key)
        out.extend(records)
        if last is not None:
            return out, {"month": month, "key": last}
        if len(out) >= limit:
            later = [m for m in months if m < month]
            return out, ({"month": later[0], "key": None} if later else None)
    return out, None


def invoices_issued(
    months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], Cursor | None]:
    """Invoices issued in ``months`` (``YYYY-MM``, newest first), newest first (Query gsi3)."""
    records, last = _monthly("ISSUED#", months, limit, cursor)
    return [_invoice(r) for r in records if isinstance(r, InvoiceRecord)], last


def payments_received(
    months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[Payment], Cursor | None]:
    """Payments received in ``months``, newest first (Query gsi3)."""
    records, last = _monthly("RECEIVED#", months, limit, cursor)
    return [_payment(r) for r in records if isinstance(r, PaymentRecord)], last


def customers_by_name(limit: int, cursor: Cursor | None) -> tuple[list[Customer], Cursor | None]:
    """Customers in name order (Query gsi3)."""
    result = LedgerRecord.gsi3.query(
        "CUSTOMERS", limit=limit, last_evaluated_key=_position(cursor, LedgerRecord.gsi3, "CUSTOMERS")
    )
    records = _records(result, cursor)
    last = result.last_evaluated_key if len(records) >= limit else None
    return [_customer(r) for r in records if isinstance(r, CustomerRecord)], last


def customer_invoices(
    customer_id: str, limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], Cursor | None]:
    """A customer's invoices, newest issued first (Query gsi1, the ``INV#`` range)."""
    records, last = _page(
        LedgerRecord.gsi1, f"CUST#{customer_id}", limit, cursor, LedgerRecord.gsi1sk.startswith("INV#")
    )
    return [_invoice(r) for r in records if isinstance(r, InvoiceRecord)], last


def open_invoices_by_due(
    limit: int, after: str | None = None, due_from: date | None = None, due_to: date | None = None
) -> tuple[list[Invoice], str | None]:
    """Open receivables in due-date order (oldest due first), merged over the shards of gsi2.

    ``after`` is the sort key (``<due>#<id>``) the previous page ended with; the next one is
    returned when there may be more."""
    low = after or (due_from.isoformat() if due_from else "0")
    high = (due_to.isoformat() + "#~") if due_to else "~"
    found: list[LedgerRecord] = []
    more = False
    for shard in range(DUE_SHARDS):
        condition = LedgerRecord.gsi2sk.between(low, high)
        # BETWEEN includes ``after`` itself: one more for it, one more to know if more follow.
        result = LedgerRecord.gsi2.query(f"DUE#{shard}", condition, limit=limit + 2)
        records = [r for r in result if r.gsi2sk != after]
        more = more or len(records) > limit
        found.extend(records[:limit])
    found.sort(key=lambda r: str(r.gsi2sk))
    page, rest = found[:limit], found[limit:]
    last = str(page[-1].gsi2sk) if page and (rest or more) else None
    return [_invoice(r) for r in page if isinstance(r, InvoiceRecord)], last


# --- rate limits ----------------------------------------------------------------------------------
def within_rate(key: str, window: str, limit: int, expires_at: int) -> bool:
    """Count one more request of ``key`` (a digest, never an address) in ``window``; False, and
    nothing counted, once ``limit`` requests are in. One conditional ADD; the item expires with
    the window (the table's TTL)."""
    from botocore.exceptions import ClientError

    try:
        dispatch(
            "UpdateItem",
            {
                "Key": {"pk": {"S": f"RATE#{key}"}, "sk": {"S": window}},
                "UpdateExpression": "ADD hits :one SET expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires_at)},
                },
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- offline audits (`receivables.reporting.reconcile`): whole-table reads, never a request path ----------
AUDITED_HEAD_KINDS = ("invoice", "credit_note", "payment")


def ledger_head_keys(page_size: int = 500) -> Iterator[str]:
    """The partition key of every invoice, credit note and payment head, page by page.

    A Scan (only the key is returned), so for offline audits such as the reconciliation only:
    every request path reads by key or index."""
    arguments: dict[str, Any] = {
        "ProjectionExpression": "pk",
        "FilterExpression": "sk = :head AND #kind IN (:k0, :k1, :k2)",
        "ExpressionAttributeNames": {"#kind": "kind"},
        "ExpressionAttributeValues": {
            ":head": {"S": HEAD},
            **{f":k{i}": {"S": kind} for i, kind in enumerate(AUDITED_HEAD_KINDS)},
        },
        "Limit": page_size,
    }
    while True:
        response = dispatch("Scan", arguments)
        for item in response.get("Items", []):
            yield str(item["pk"]["S"])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        arguments["ExclusiveStartKey"] = last


PartitionItem = Invoice | CreditNote | Payment | AuditEvent | Allocation | dict[str, Any]


def ledger_partition(pk: str) -> Iterator[PartitionItem]:
    """Every item of partition ``pk`` in sort-key order, page by page (a consistent Query): its
    head, audit events and allocations as domain objects; anything else (the aggregates' share,
    markers, pointers) in DynamoDB's attribute-value form."""
    arguments: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    while True:
        response = dispatch("Query", arguments)
        for item in response.get("Items", []):
            yield _partition_item(item)
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        arguments["ExclusiveStartKey"] = last


def _partition_item(item: dict[str, Any]) -> PartitionItem:
    kind = item.get("kind", {}).get("S")
    sk = item.get("sk", {}).get("S")
    if kind not in ("event", "allocation") and not (kind in AUDITED_HEAD_KINDS and sk == HEAD):
        return item
    record = LedgerRecord.from_raw_data(item)
    if isinstance(record, EventRecord):
        return _event(record)
    if isinstance(record, AllocationRecord):
        amount = Money(int(record.amount), record.currency)
        return Allocation(
            record.allocation_id, record.source_type, record.source_id, record.invoice_id, amount, record.at
        )
    if isinstance(record, InvoiceRecord):
        return _invoice(record)
    if isinstance(record, CreditNoteRecord):
        return _credit_note(record)
    if isinstance(record, PaymentRecord):
        return _payment(record)
    return item


def get_payments(payment_ids: Iterable[str]) -> dict[str, Payment]:
    """Payments by id, fetched in batches."""
    return {
        record.payment_id: _payment(record)
        for record in _batch_get((payment_pk(p), HEAD) for p in payment_ids)
        if isinstance(record, PaymentRecord)
    }
