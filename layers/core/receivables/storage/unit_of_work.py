"""Writes. A `UnitOfWork` takes changed aggregates with their audit events, new aggregates
(`Creation`) and the items that go with them (`Write`: allocations, markers, documents,
customer keys) and writes them as one conditional transaction: each head on condition that its
stored version is the one it was read at (optimistic locking), each new item on condition that
it does not exist. `create_all` writes many creations, packed several to a transaction, and
answers the ones refused as already there."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from receivables.ledger.disputes import Dispute
from receivables.ledger.model import (
    Allocation,
    AuditEvent,
    CreditNote,
    Customer,
    Invoice,
    PartyId,
    Payment,
)
from receivables.storage.connection import connection
from receivables.storage.errors import ConcurrentChangeError, StoreError
from receivables.storage.keys import (
    HEAD,
    credit_note_pk,
    customer_key_pk,
    customer_pk,
    dispute_pk,
    invoice_pk,
    payment_pk,
)
from receivables.storage.mapping import (
    credit_note_to_record,
    customer_to_record,
    dispute_to_record,
    event_to_record,
    invoice_to_record,
    payment_to_record,
)
from receivables.storage.records import (
    AllocationRecord,
    CustomerKeyRecord,
    DocumentRecord,
    IntegerAttribute,
    LedgerRecord,
    MarkerRecord,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_TRANSACTION_ITEMS = 100

Aggregate = Invoice | CreditNote | Customer | Payment | Dispute
"""What a unit of work saves with its audit event."""


@dataclass(frozen=True, slots=True)
class Write:
    """One item a transaction puts or deletes, on its own condition.

    Built by this module (`marker`, `allocation`, `customer_key`, `new_document`,
    `document_replacement`, `document_update`, `document_removal`, `audit_event`) and handed to
    `UnitOfWork.add`; what it holds is storage's own and never read outside the package.
    """

    _record: LedgerRecord
    _condition: Any
    _delete: bool = False


def _new(record: LedgerRecord) -> Write:
    """A put on condition that no item has the record's key yet."""
    return Write(record, LedgerRecord.pk.does_not_exist())


def _head(aggregate: Aggregate, event: AuditEvent) -> tuple[Write, Write]:
    """An existing aggregate's head, on condition that its stored version is the one it was read
    at (``event.seq - 1``), and the audit event numbered with its new version."""
    record: LedgerRecord
    if isinstance(aggregate, Invoice):
        record, pk = invoice_to_record(aggregate), invoice_pk(aggregate.invoice_id)
    elif isinstance(aggregate, CreditNote):
        record, pk = credit_note_to_record(aggregate), credit_note_pk(aggregate.credit_note_id)
    elif isinstance(aggregate, Payment):
        record, pk = payment_to_record(aggregate), payment_pk(aggregate.payment_id)
    elif isinstance(aggregate, Dispute):
        record, pk = dispute_to_record(aggregate), dispute_pk(aggregate.dispute_id)
    else:
        record, pk = customer_to_record(aggregate), customer_pk(aggregate.customer_id)
    record.version = event.seq
    version_attribute: IntegerAttribute = type(record).version
    return Write(record, version_attribute == event.seq - 1), _new(event_to_record(pk, event))


# --- creations ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Creation:
    """A new aggregate: its head, its first audit event and any items that belong to it.

    Every item is put on condition that it does not exist yet, so a creation that was already
    made (a redelivery) or that clashes (another document under the same key) is refused whole.
    """

    aggregate_id: str
    writes: tuple[Write, ...]

    @classmethod
    def invoice(cls, invoice: Invoice, event: AuditEvent) -> Creation:
        """A new invoice with its first audit event."""
        pk = invoice_pk(invoice.invoice_id)
        return cls(invoice.invoice_id, (_new(invoice_to_record(invoice)), _new(event_to_record(pk, event))))

    @classmethod
    def credit_note(cls, credit_note: CreditNote, event: AuditEvent) -> Creation:
        """A new credit note with its first audit event."""
        pk = credit_note_pk(credit_note.credit_note_id)
        head = _new(credit_note_to_record(credit_note))
        return cls(credit_note.credit_note_id, (head, _new(event_to_record(pk, event))))

    @classmethod
    def payment(cls, payment: Payment, event: AuditEvent) -> Creation:
        """A new payment with its first audit event."""
        pk = payment_pk(payment.payment_id)
        return cls(payment.payment_id, (_new(payment_to_record(payment)), _new(event_to_record(pk, event))))

    @classmethod
    def dispute(cls, dispute: Dispute, event: AuditEvent) -> Creation:
        """A new dispute with its first audit event and its pointer under the invoice."""
        pk = dispute_pk(dispute.dispute_id)
        pointer = MarkerRecord(
            pk=invoice_pk(dispute.invoice_id), sk=f"DSP#{dispute.dispute_id}", at=dispute.opened_at
        )
        writes = (_new(dispute_to_record(dispute)), _new(event_to_record(pk, event)), _new(pointer))
        return cls(dispute.dispute_id, writes)

    @classmethod
    def customer(cls, customer: Customer, event: AuditEvent) -> Creation:
        """A new customer with its first audit event and the keys that find it by identifier."""
        pk = customer_pk(customer.customer_id)
        keys = tuple(customer_key(customer.customer_id, i) for i in customer.identifiers)
        return cls(
            customer.customer_id,
            (_new(customer_to_record(customer)), _new(event_to_record(pk, event)), *keys),
        )


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
        if len(creation.writes) > max_items:
            raise StoreError(f"{creation.aggregate_id} needs {len(creation.writes)} items in one transaction")
        if size + len(creation.writes) > max_items:
            refused.extend(_create_group(group))
            group, size = [], 0
        group.append(creation)
        size += len(creation.writes)
    refused.extend(_create_group(group))
    return refused


def _create_group(group: list[Creation]) -> list[Creation]:
    refused: list[Creation] = []
    attempts = 0
    while group:
        try:
            with TransactWrite(connection=connection()) as transaction:
                for creation in group:
                    for write in creation.writes:
                        transaction.save(write._record, condition=write._condition)
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
                span = range(position, position + len(creation.writes))
                position += len(creation.writes)
                (refused if failed_positions.intersection(span) else kept).append(creation)
            group = kept
    return refused


# --- the unit of work ---------------------------------------------------------------------------
class UnitOfWork:
    """Domain changes with their audit events, written as one conditional transaction.

    ``save`` an aggregate read earlier with the event of its change (written on condition that
    nobody changed it since), ``create`` a new one, ``add`` the items that go with them
    (allocations, markers, documents, customer keys); ``commit`` writes all of it or none, and
    raises `ConcurrentChangeError` when a condition no longer holds (read again and decide again).
    """

    def __init__(self) -> None:
        self._writes: list[Write] = []

    def save(self, aggregate: Aggregate, event: AuditEvent) -> UnitOfWork:
        """The changed ``aggregate`` at version ``event.seq``, with ``event``."""
        self._writes.extend(_head(aggregate, event))
        return self

    def create(self, creation: Creation) -> UnitOfWork:
        """A new aggregate; its items must not exist yet."""
        self._writes.extend(creation.writes)
        return self

    def add(self, *writes: Write) -> UnitOfWork:
        """More items, each on its own condition."""
        self._writes.extend(writes)
        return self

    def commit(self) -> None:
        """Write everything in one transaction, all or nothing."""
        if not self._writes:
            return
        if len(self._writes) > MAX_TRANSACTION_ITEMS:
            raise StoreError("too many items for one transaction")
        try:
            with TransactWrite(connection=connection()) as transaction:
                for write in self._writes:
                    if write._delete:
                        transaction.delete(write._record, condition=write._condition)
                    else:
                        transaction.save(write._record, condition=write._condition)
        except TransactWriteError as exc:
            if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
                raise ConcurrentChangeError("changed by someone else; read it again and retry") from exc
            raise StoreError(f"transaction failed: {exc.cause_response_message}") from exc


def apply_changes(
    changes: Sequence[tuple[Aggregate, AuditEvent]],
    creations: Sequence[Creation] = (),
    writes: Sequence[Write] = (),
) -> None:
    """One `UnitOfWork` of ``changes`` (aggregates with their events), ``creations`` and
    ``writes``, committed."""
    work = UnitOfWork()
    for aggregate, event in changes:
        work.save(aggregate, event)
    for creation in creations:
        work.create(creation)
    work.add(*writes).commit()


def apply_changes_with(
    changes: Sequence[tuple[Aggregate, AuditEvent]],
    creations: Sequence[Creation] = (),
    writes: Sequence[Write] = (),
    *,
    consequences: Sequence[tuple[Sequence[tuple[Aggregate, AuditEvent]], Sequence[Write]]] = (),
) -> None:
    """`apply_changes`, with ``consequences`` (what follows from the change: each its own
    changes and writes) in the same transaction when they fit in it; else the change first, then
    each consequence in a transaction of its own."""
    work = UnitOfWork()
    for aggregate, event in changes:
        work.save(aggregate, event)
    for creation in creations:
        work.create(creation)
    work.add(*writes)
    alone = len(work._writes)
    for follow, follow_writes in consequences:
        for aggregate, event in follow:
            work.save(aggregate, event)
        work.add(*follow_writes)
    if len(work._writes) <= MAX_TRANSACTION_ITEMS:
        work.commit()
        return
    del work._writes[alone:]
    work.commit()
    for follow, follow_writes in consequences:
        apply_changes(follow, writes=follow_writes)


# --- the items that go with a change --------------------------------------------------------------
def allocation(allocation: Allocation) -> Write:
    """The item that records one allocation under its invoice."""
    return _new(
        AllocationRecord(
            pk=invoice_pk(allocation.invoice_id),
            # One item per allocation: a payment applied to the same invoice again later (its
            # credit, after a refund or a re-allocation) is another allocation, never the first.
            sk=f"ALLOC#{allocation.source_type}#{allocation.allocation_id}",
            allocation_id=allocation.allocation_id,
            source_type=allocation.source_type,
            source_id=allocation.source_id,
            invoice_id=allocation.invoice_id,
            amount=allocation.amount.minor,
            currency=allocation.amount.currency,
            at=allocation.at,
            lettering=allocation.lettering,
        )
    )


def audit_event(pk: str, event: AuditEvent) -> Write:
    """An audit event of the aggregate or document ``pk``: for documents, whose events
    `UnitOfWork.save` does not write by itself."""
    return _new(event_to_record(pk, event))


def marker(pk: str, name: str, at: str) -> Write:
    """An item that may be created once only (put on condition that it does not exist)."""
    return _new(MarkerRecord(pk=pk, sk=f"ONCE#{name}", at=at))


def customer_key(customer_id: str, identifier: PartyId) -> Write:
    """The item that finds ``customer_id`` by ``identifier`` (put on condition it is new)."""
    return _new(CustomerKeyRecord(pk=customer_key_pk(identifier), sk="KEY", customer_id=customer_id))


def customer_key_removal(customer_id: str, identifier: PartyId) -> Write:
    """The deletion of that item, on condition it still finds ``customer_id``."""
    record = CustomerKeyRecord(pk=customer_key_pk(identifier), sk="KEY", customer_id=customer_id)
    return Write(record, CustomerKeyRecord.customer_id == customer_id, _delete=True)


def _document(pk: str, sk: str, body: dict[str, Any], version: int, at: str) -> DocumentRecord:
    return DocumentRecord(
        pk=pk, sk=sk, body=json.dumps(body, separators=(",", ":")), version=version, updated_at=at
    )


def new_document(pk: str, sk: str, body: dict[str, Any], version: int, at: str) -> Write:
    """A JSON document item that must not exist yet."""
    return _new(_document(pk, sk, body, version, at))


def document_replacement(pk: str, sk: str, body: dict[str, Any], at: str) -> Write:
    """A JSON document item put whatever is stored under its key (a day's point, which a later
    one of the same day replaces)."""
    return Write(_document(pk, sk, body, 1, at), None)


def document_update(
    pk: str,
    body: dict[str, Any],
    version: int,
    at: str,
    listing: tuple[str, str] | None = None,
    sk: str = HEAD,
    waiting: tuple[str, str] | None = None,
) -> Write:
    """A JSON document written at ``version`` on condition that the stored one is ``version - 1``
    (absent for 1). ``listing`` lists it on gsi3 (`listed_documents`); ``waiting`` puts it on
    the sparse gsi2 while it waits for someone (`waiting_documents`), and a version without it
    takes it off."""
    record = _document(pk, sk, body, version, at)
    if listing is not None:
        record.gsi3pk, record.gsi3sk = listing
    if waiting is not None:
        record.gsi2pk, record.gsi2sk = waiting
    condition = LedgerRecord.pk.does_not_exist() if version == 1 else DocumentRecord.version == version - 1
    return Write(record, condition)


def document_removal(pk: str, sk: str) -> Write:
    """The deletion of a JSON document item; it must exist."""
    return Write(DocumentRecord(pk=pk, sk=sk), LedgerRecord.pk.exists(), _delete=True)


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
    work = UnitOfWork().add(document_update(pk, body, version, at, listing, sk))
    if event is not None:
        work.add(audit_event(pk, event))
    work.commit()
