"""Reads by key and by index: aggregates by id (consistent GetItem, batched BatchGetItem), a
customer's documents, payments and disputes (gsi1), collectible invoices by due date (gsi2,
one Query per shard), audit trails, markers and JSON documents. Nothing scans."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from receivables.ledger.rules import COLLECTIBLE
from receivables.storage.keys import (
    DUE_SHARDS,
    HEAD,
    credit_note_pk,
    customer_key_pk,
    customer_pk,
    dispute_pk,
    invoice_pk,
    payment_pk,
)
from receivables.storage.mapping import (
    credit_note_from_record,
    customer_from_record,
    dispute_from_record,
    event_from_record,
    invoice_from_record,
    payment_from_record,
)
from receivables.storage.records import (
    CreditNoteRecord,
    CustomerKeyRecord,
    CustomerRecord,
    DisputeRecord,
    DocumentRecord,
    EventRecord,
    InvoiceRecord,
    LedgerRecord,
    MarkerRecord,
    PaymentRecord,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import date

    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import (
        AuditEvent,
        CreditNote,
        Customer,
        Invoice,
        PartyId,
        Payment,
    )


# --- reads --------------------------------------------------------------------------------------
def get_invoice(invoice_id: str) -> Invoice | None:
    """The invoice ``invoice_id``, or None."""
    if not _fits(invoice_id):
        return None
    try:
        record = InvoiceRecord.get(invoice_pk(invoice_id), HEAD, consistent_read=True)
    except InvoiceRecord.DoesNotExist:
        return None
    return invoice_from_record(record)


def get_credit_note(credit_note_id: str) -> CreditNote | None:
    """The credit note ``credit_note_id``, or None."""
    if not _fits(credit_note_id):
        return None
    try:
        record = CreditNoteRecord.get(credit_note_pk(credit_note_id), HEAD, consistent_read=True)
    except CreditNoteRecord.DoesNotExist:
        return None
    return credit_note_from_record(record)


def get_payment(payment_id: str) -> Payment | None:
    """The payment ``payment_id``, or None."""
    if not _fits(payment_id):
        return None
    try:
        record = PaymentRecord.get(payment_pk(payment_id), HEAD, consistent_read=True)
    except PaymentRecord.DoesNotExist:
        return None
    return payment_from_record(record)


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
        payment_from_record(record)
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
    return customer_from_record(record)


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
            found[record.invoice_id] = invoice_from_record(record)
        elif isinstance(record, CreditNoteRecord):
            found[record.credit_note_id] = credit_note_from_record(record)
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
        record.customer_id: customer_from_record(record)
        for record in _batch_get((customer_pk(c), HEAD) for c in customer_ids)
        if isinstance(record, CustomerRecord)
    }


def audit_events(aggregate_pk: str) -> list[AuditEvent]:
    """The audit trail of an aggregate, oldest first (``aggregate_pk`` as `invoice_pk` gives)."""
    return [
        event_from_record(record)
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
        payment_from_record(record)
        for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}", LedgerRecord.gsi1sk.startswith("PAY#"))
        if isinstance(record, PaymentRecord)
    ]


def customer_documents(customer_id: str) -> list[Invoice | CreditNote]:
    """A customer's invoices and credit notes, by issue date (Query on gsi1)."""
    out: list[Invoice | CreditNote] = []
    for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}"):
        if isinstance(record, InvoiceRecord):
            out.append(invoice_from_record(record))
        elif isinstance(record, CreditNoteRecord):
            out.append(credit_note_from_record(record))
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
                found.append(invoice_from_record(record))
    found.sort(key=lambda inv: (inv.due_date, inv.invoice_id))
    return found


def get_dispute(dispute_id: str) -> Dispute | None:
    """A dispute by id (a consistent GetItem)."""
    if not _fits(dispute_id):
        return None
    try:
        return dispute_from_record(DisputeRecord.get(dispute_pk(dispute_id), HEAD, consistent_read=True))
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
        dispute_from_record(record)
        for record in LedgerRecord.gsi1.query(f"CUST#{customer_id}", LedgerRecord.gsi1sk.startswith("DSP#"))
        if isinstance(record, DisputeRecord)
    ]


def open_disputes(limit: int = 200) -> list[Dispute]:
    """Disputes that have not ended, oldest first (Query gsi2): finance's queue."""
    return [
        dispute_from_record(record)
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


def invoice_from_stream_image(image: dict[str, Any]) -> Invoice | None:
    """The invoice a stream record's NewImage (DynamoDB's attribute-value form) holds, or None
    when the item is not an invoice head."""
    if image.get("kind", {}).get("S") != "invoice" or image.get("sk", {}).get("S") != HEAD:
        return None
    record = LedgerRecord.from_raw_data(image)
    return invoice_from_record(record) if isinstance(record, InvoiceRecord) else None


def get_payments(payment_ids: Iterable[str]) -> dict[str, Payment]:
    """Payments by id, fetched in batches."""
    return {
        record.payment_id: payment_from_record(record)
        for record in _batch_get((payment_pk(p), HEAD) for p in payment_ids)
        if isinstance(record, PaymentRecord)
    }
