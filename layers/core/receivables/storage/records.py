"""The PynamoDB records of the one table, its three indexes, and the integer attribute money
and versions are stored in. Private to `receivables.storage`: nothing outside reads a record."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
)
from pynamodb.constants import NUMBER
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


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
    paid_on = UnicodeAttribute(null=True)  # ISO date the money that paid it in full was received


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
    lettering = UnicodeAttribute(null=True)


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
