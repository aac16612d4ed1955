"""Whole-table reads for offline audits (`receivables.reporting.reconcile`): never on a request
path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import (
    Allocation,
    AuditEvent,
    CreditNote,
    Invoice,
    Payment,
)
from receivables.storage.connection import dispatch
from receivables.storage.keys import HEAD
from receivables.storage.mapping import (
    credit_note_from_record,
    event_from_record,
    invoice_from_record,
    payment_from_record,
)
from receivables.storage.records import (
    AllocationRecord,
    CreditNoteRecord,
    EventRecord,
    InvoiceRecord,
    LedgerRecord,
    PaymentRecord,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

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
        return event_from_record(record)
    if isinstance(record, AllocationRecord):
        amount = Money(int(record.amount), record.currency)
        return Allocation(
            record.allocation_id,
            record.source_type,
            record.source_id,
            record.invoice_id,
            amount,
            record.at,
            record.lettering,
        )
    if isinstance(record, InvoiceRecord):
        return invoice_from_record(record)
    if isinstance(record, CreditNoteRecord):
        return credit_note_from_record(record)
    if isinstance(record, PaymentRecord):
        return payment_from_record(record)
    return item
