"""From parsed documents to ledger entries: customers matched or created, due dates settled,
invoices and credit notes written exactly once, duplicates told apart from conflicts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from receivables.customers.requirements import RequirementError, missing, provide_reference
from receivables.disputes.opening import open_dispute_on
from receivables.ingest.model import ParsedDocument, Problem, ProblemLog
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.disputes import Source
from receivables.ledger.model import (
    Allocation,
    AuditEvent,
    CreditNote,
    Customer,
    DocumentType,
    DueDateSource,
    Invoice,
    InvoiceStatus,
    PartyId,
    SourceRef,
)
from receivables.ledger.rules import apply_credit, customer_id_for, document_id
from receivables.ledger.terms import PaymentTerms, parse_payment_terms
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from receivables.kernel.clock import Clock

ACTOR = "ingest"
# The strongest identifier names a new customer and wins when a document's identifiers disagree.
IDENTIFIER_STRENGTH = ("erp", "vat", "legal", "endpoint", "email", "name")
MAX_CREDIT_ATTEMPTS = 4
# A DynamoDB item holds at most 400 KB; an invoice whose stored form would not fit is refused
# here, as a problem of its own, rather than failing its whole batch's write on every retry.
MAX_DOCUMENT_BYTES = 300_000


def fingerprint(doc: ParsedDocument) -> str:
    """A digest of what makes a document financially what it is.

    Two deliveries of the same invoice (another key, another export run, a re-sent e-invoice with
    an extra order reference) share it; a document that differs in amounts, dates, currency or
    lines does not, and is a conflict under the same number.
    """
    canonical = {
        "type": doc.doc_type.value,
        "seller": doc.seller_id,
        "number": doc.number,
        "currency": doc.currency,
        "issued": doc.issue_date.isoformat(),
        "due": doc.due_date.isoformat() if doc.due_date else None,
        "total": doc.total.minor,
        "tax": doc.tax.minor,
        "prepaid": doc.prepaid.minor,
        "payable": doc.payable.minor,
        "lines": [[line.net.minor, str(line.quantity)] for line in doc.lines],
        "reference": doc.billing_reference,
    }
    payload = json.dumps(canonical, separators=(",", ":"), sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()


def _strength(identifier: PartyId) -> int:
    try:
        return IDENTIFIER_STRENGTH.index(identifier.scheme)
    except ValueError:
        return len(IDENTIFIER_STRENGTH)


@dataclass(slots=True)
class Outcome:
    """What happened to the documents of one input, for its report."""

    created: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    problems: ProblemLog = field(default_factory=ProblemLog)
    credit_notes_applied: int = 0
    customers_created: int = 0
    needs_contact_details: set[str] = field(default_factory=set)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    completed: list[dict[str, str]] = field(default_factory=list)
    disputes_opened: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    doc: ParsedDocument
    doc_id: str
    fingerprint: str


class DocumentWriter:
    """Writes the documents of one input file, in batches, exactly once each.

    Feed it parsed documents with `add`; call `finish` at the end. Invoices are written as they
    come (in transactions of many); credit notes wait for the end of the file, so that one that
    follows its invoice in the same file finds it.
    """

    def __init__(
        self,
        source: tuple[str, str, str],
        clock: Clock,
        *,
        default_terms_days: int,
        batch_size: int = 500,
    ) -> None:
        self.bucket, self.key, self.format = source
        self.clock = clock
        self.default_terms = PaymentTerms(default_terms_days)
        self.batch_size = batch_size
        self.outcome = Outcome()
        self._batch: list[_Pending] = []
        self._credit_notes: list[_Pending] = []
        self._seen: dict[str, tuple[str, str]] = {}  # doc id → (fingerprint, location) in this file
        self._customer_of: dict[PartyId, str] = {}
        self._customers: dict[str, Customer] = {}

    # --- intake -------------------------------------------------------------------------------
    def add(self, doc: ParsedDocument) -> None:
        """Take one parsed document; writes happen when a batch is full."""
        doc_id = document_id(doc.seller_id, doc.doc_type, doc.number)
        digest = fingerprint(doc)
        seen = self._seen.get(doc_id)
        if seen is not None:
            if seen[0] == digest:
                self.outcome.duplicates.append(
                    {
                        "number": doc.number,
                        "location": doc.location,
                        "id": doc_id,
                        "same_as": seen[1],
                    }
                )
            else:
                self.outcome.problems.append(
                    Problem(
                        doc.location,
                        "conflict",
                        f"{doc.doc_type.value} {doc.number} appears twice in this file with different "
                        f"content: {seen[1]} and {doc.location}; the first was kept",
                        number=doc.number,
                    )
                )
            return
        self._seen[doc_id] = (digest, doc.location)
        size = len(repr(doc).encode())  # what the stored item carries, and a little more
        if size > MAX_DOCUMENT_BYTES:
            self.outcome.problems.append(
                Problem(
                    doc.location,
                    "too_large",
                    f"{doc.doc_type.value} {doc.number} is about {size} bytes once stored, more than "
                    f"the {MAX_DOCUMENT_BYTES} one invoice may take: split it, or shorten its lines",
                    number=doc.number,
                )
            )
            return
        pending = _Pending(doc, doc_id, digest)
        if doc.doc_type is DocumentType.CREDIT_NOTE:
            self._credit_notes.append(pending)
            return
        self._batch.append(pending)
        if len(self._batch) >= self.batch_size:
            self._flush()

    def finish(self) -> Outcome:
        """Write what is left, credit notes last, and return the outcome."""
        self._flush()
        for start in range(0, len(self._credit_notes), self.batch_size):
            chunk = self._credit_notes[start : start + self.batch_size]
            self._resolve_customers([p.doc for p in chunk])
            for pending in chunk:
                self._write_credit_note(pending)
        return self.outcome

    # --- customers ----------------------------------------------------------------------------
    def _resolve_customers(self, docs: Sequence[ParsedDocument]) -> None:
        unknown = {i for d in docs for i in d.buyer.identifiers if i not in self._customer_of}
        if unknown:
            self._customer_of.update(store.customers_by_identifier(unknown))
        wanted = {self._customer_of[i] for d in docs for i in d.buyer.identifiers if i in self._customer_of}
        missing = wanted - self._customers.keys()
        if missing:
            self._customers.update(store.get_customers(missing))
        new: dict[str, Customer] = {}
        learned: dict[str, Customer] = {}
        for doc in docs:
            ids = sorted(doc.buyer.identifiers, key=_strength)
            known = [i for i in ids if i in self._customer_of]
            if not known:
                customer = self._new_customer(doc, ids)
                new.setdefault(customer.customer_id, customer)
                for identifier in ids:
                    self._customer_of[identifier] = customer.customer_id
                continue
            customer_id = self._customer_of[known[0]]
            current = learned.get(customer_id) or self._customers.get(customer_id)
            if current is None or customer_id in new:
                continue
            enriched = self._learn(current, doc, ids)
            if enriched is not None:
                learned[customer_id] = enriched
        self._create_customers(list(new.values()))
        for customer in learned.values():
            self._save_learned(customer)

    def _new_customer(self, doc: ParsedDocument, ids: list[PartyId]) -> Customer:
        customer_id = customer_id_for(ids[0].key())
        customer = Customer(
            customer_id=customer_id,
            name=doc.buyer.name,
            identifiers=tuple(ids),
            email=doc.buyer.email,
            country=doc.buyer.country,
            language=doc.buyer.language,
            postal_address=doc.buyer.postal_address,
            version=1,
            created_at=iso_timestamp(self.clock.now()),
        )
        self._customers[customer_id] = customer
        return customer

    def _learn(self, customer: Customer, doc: ParsedDocument, ids: list[PartyId]) -> Customer | None:
        """Identifiers the customer does not have yet, and an email or a postal address where it
        has none."""
        unclaimed = [i for i in ids if i not in self._customer_of]
        email = customer.email or doc.buyer.email
        address = customer.postal_address or doc.buyer.postal_address
        if not unclaimed and email == customer.email and address == customer.postal_address:
            return None
        for identifier in unclaimed:
            self._customer_of[identifier] = customer.customer_id
        return replace(
            customer, identifiers=(*customer.identifiers, *unclaimed), email=email, postal_address=address
        )

    def _create_customers(self, customers: list[Customer]) -> None:
        if not customers:
            return
        now = iso_timestamp(self.clock.now())
        creations = [
            store.Creation.customer(
                c,
                AuditEvent(
                    c.customer_id,
                    1,
                    "CustomerCreated",
                    now,
                    ACTOR,
                    {
                        "customer_id": c.customer_id,
                        "name": c.name,
                        "identifiers": [i.key() for i in c.identifiers],
                        "needs_contact_details": c.needs_contact_details,
                        "source": f"s3://{self.bucket}/{self.key}",
                    },
                ),
            )
            for c in customers
        ]
        refused = store.create_all(creations)
        self.outcome.customers_created += len(creations) - len(refused)
        if refused:
            # Created meanwhile by another file's ingestion: adopt what is stored.
            for creation in refused:
                self._customers.pop(creation.aggregate_id, None)
            lost = [i for c in customers for i in c.identifiers]
            for identifier in lost:
                self._customer_of.pop(identifier, None)
            self._customer_of.update(store.customers_by_identifier(lost))
            self._customers.update(
                store.get_customers(set(self._customer_of.values()) - self._customers.keys())
            )

    def _save_learned(self, customer: Customer) -> None:
        stored = self._customers[customer.customer_id]
        added = [i for i in customer.identifiers if i not in stored.identifiers]
        event = AuditEvent(
            customer.customer_id,
            stored.version + 1,
            "CustomerDetailsLearned",
            iso_timestamp(self.clock.now()),
            ACTOR,
            {
                "identifiers_added": [i.key() for i in added],
                "email_added": customer.email if customer.email != stored.email else None,
                "postal_address_added": customer.postal_address != stored.postal_address or None,
                "source": f"s3://{self.bucket}/{self.key}",
            },
        )
        keys = [store.customer_key(customer.customer_id, i) for i in added]
        try:
            store.apply_changes([(customer, event)], writes=keys)
        except store.ConcurrentChangeError:
            return  # someone else changed this customer: learning can wait for the next file
        customer.version = event.seq
        self._customers[customer.customer_id] = customer

    def _customer_for(self, doc: ParsedDocument) -> Customer:
        ids = sorted(doc.buyer.identifiers, key=_strength)
        customer_id = next(self._customer_of[i] for i in ids if i in self._customer_of)
        return self._customers[customer_id]

    # --- invoices -----------------------------------------------------------------------------
    def _due_date(self, doc: ParsedDocument, customer: Customer) -> tuple[date, DueDateSource]:
        if doc.due_date is not None:
            return doc.due_date, DueDateSource.DOCUMENT
        terms = parse_payment_terms(doc.payment_terms)
        if terms is not None:
            return terms.due_date(doc.issue_date), DueDateSource.PAYMENT_TERMS
        if customer.payment_terms_days is not None:
            return PaymentTerms(customer.payment_terms_days).due_date(
                doc.issue_date
            ), DueDateSource.CUSTOMER_TERMS
        return self.default_terms.due_date(doc.issue_date), DueDateSource.DEFAULT_TERMS

    def _source(self, doc: ParsedDocument) -> SourceRef:
        return SourceRef(self.bucket, self.key, self.format, doc.location)

    def _invoice(self, pending: _Pending) -> tuple[Invoice, AuditEvent]:
        doc = pending.doc
        customer = self._customer_for(doc)
        due_date, due_source = self._due_date(doc, customer)
        now = iso_timestamp(self.clock.now())
        zero = Money.zero(doc.currency)
        invoice = Invoice(
            invoice_id=pending.doc_id,
            seller_id=doc.seller_id,
            number=doc.number,
            customer_id=customer.customer_id,
            currency=doc.currency,
            issue_date=doc.issue_date,
            due_date=due_date,
            due_date_source=due_source,
            total=doc.total,
            tax=doc.tax,
            prepaid=doc.prepaid,
            payable=doc.payable,
            balance=doc.payable,
            paid=zero,
            credited=zero,
            written_off=zero,
            status=InvoiceStatus.OPEN if doc.payable.minor > 0 else InvoiceStatus.PAID,
            lines=doc.lines,
            fingerprint=pending.fingerprint,
            source=self._source(doc),
            po_number=doc.po_number,
            buyer_reference=doc.buyer_reference,
            contract_reference=doc.contract_reference,
            payment_terms=(doc.payment_terms or "")[:200] or None,
            version=1,
            created_at=now,
            updated_at=now,
        )
        event = AuditEvent(
            invoice.invoice_id,
            1,
            "InvoiceIngested",
            now,
            ACTOR,
            {
                "invoice_id": invoice.invoice_id,
                "number": invoice.number,
                "seller_id": invoice.seller_id,
                "customer_id": invoice.customer_id,
                "currency": invoice.currency,
                "po_number": invoice.po_number,  # the ERP's: see requirements.po_from_erp
                "amount_due": invoice.balance.to_decimal_string(),
                "amount_due_minor": invoice.balance.minor,
                "issue_date": invoice.issue_date.isoformat(),
                "due_date": invoice.due_date.isoformat(),
                "due_date_source": invoice.due_date_source.value,
                "customer_email": customer.email,
                "needs_contact_details": customer.needs_contact_details,
                "source": {"bucket": self.bucket, "key": self.key, "location": doc.location},
            },
        )
        if customer.needs_contact_details:
            self.outcome.needs_contact_details.add(customer.customer_id)
        return invoice, event

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        self._resolve_customers([p.doc for p in batch])
        creations = {}
        invoices = {}
        for pending in batch:
            invoice, event = self._invoice(pending)
            invoices[pending.doc_id] = invoice
            creations[pending.doc_id] = store.Creation.invoice(invoice, event)
        refused = {c.aggregate_id for c in store.create_all(list(creations.values()))}
        existing = store.get_heads(refused) if refused else {}
        for pending in batch:
            if pending.doc_id in refused:
                self._already_stored(pending, existing.get(pending.doc_id))
            else:
                self.outcome.created.append(
                    {
                        "number": pending.doc.number,
                        "id": pending.doc_id,
                        "location": pending.doc.location,
                    }
                )
                self._note_blocked(invoices[pending.doc_id], pending)
                self._open_marked_dispute(pending, new=True)

    def _note_blocked(self, invoice: Invoice, pending: _Pending) -> None:
        """List a new invoice its customer's AP would refuse: the mailer holds it (the report
        says why it was not sent)."""

        lacking = missing(invoice, self._customers.get(invoice.customer_id))
        if lacking:
            customer = self._customers[invoice.customer_id]
            covered = (
                customer.standing_po is not None
                and lacking == ("po_number",)
                and invoice.issue_date <= customer.standing_po.valid_until
            )
            self.outcome.blocked.append(
                {
                    "number": pending.doc.number,
                    "id": pending.doc_id,
                    "location": pending.doc.location,
                    "missing": list(lacking),
                    "reason": (
                        f"the standing PO {customer.standing_po.number} is given if it covers the amount"
                        if covered and customer.standing_po is not None
                        else f"awaiting document: {customer.name or customer.customer_id}'s AP requires "
                        f"{', '.join(lacking)} on every invoice; not sent until given"
                    ),
                }
            )

    def _open_marked_dispute(self, pending: _Pending, *, new: bool) -> None:
        """The file marks the invoice disputed: open a dispute on it with that reason. A re-sent
        invoice gets one only if it never had any, so a dispute already decided is not reopened
        by the ERP still marking it."""
        reason = pending.doc.disputed
        if reason is None or pending.doc.doc_type is not DocumentType.INVOICE:
            return
        if not new and store.invoice_dispute_ids(pending.doc_id):
            return
        dispute, created = open_dispute_on(
            pending.doc_id,
            Source.FINANCE,
            reason,
            ACTOR,
            self.clock,
            comment=f"marked disputed in s3://{self.bucket}/{self.key} ({pending.doc.location})",
        )
        if created:
            self.outcome.disputes_opened.append(
                {
                    "number": pending.doc.number,
                    "id": pending.doc_id,
                    "location": pending.doc.location,
                    "dispute_id": dispute.dispute_id,
                    "reason": reason.value,
                }
            )

    def _complete_stored(self, pending: _Pending, stored: Invoice) -> bool:
        """A re-sent invoice that carries the PO number (or contract reference) the stored one
        lacks: the stored one takes it (and is released if that was all it lacked)."""

        given = False
        for what, value, current in (
            ("po_number", pending.doc.po_number, stored.po_number),
            ("contract_reference", pending.doc.contract_reference, stored.contract_reference),
        ):
            if value and not current:
                try:
                    provide_reference(stored.invoice_id, what, value, ACTOR, self.clock)
                except RequirementError:
                    continue
                given = True
                self.outcome.completed.append(
                    {
                        "number": pending.doc.number,
                        "id": stored.invoice_id,
                        "location": pending.doc.location,
                        what: value,
                    }
                )
        return given

    def _already_stored(self, pending: _Pending, stored: Invoice | CreditNote | None) -> None:
        doc = pending.doc
        same = stored is not None and stored.fingerprint == pending.fingerprint
        if same and isinstance(stored, Invoice) and self._complete_stored(pending, stored):
            return
        if stored is not None and stored.fingerprint == pending.fingerprint:
            self._open_marked_dispute(pending, new=False)
            self.outcome.duplicates.append(
                {
                    "number": doc.number,
                    "location": doc.location,
                    "id": pending.doc_id,
                    "same_as": f"s3://{stored.source.bucket}/{stored.source.key} ({stored.source.location})",
                }
            )
            return
        existing: dict[str, Any] = {"id": pending.doc_id}
        if stored is not None:
            amount = stored.payable if isinstance(stored, Invoice) else stored.amount
            existing.update(
                source=f"s3://{stored.source.bucket}/{stored.source.key} ({stored.source.location})",
                issue_date=stored.issue_date.isoformat(),
                amount=str(amount),
                customer_id=stored.customer_id,
            )
        incoming = {
            "source": f"s3://{self.bucket}/{self.key} ({doc.location})",
            "issue_date": doc.issue_date.isoformat(),
            "amount": str(doc.payable),
        }
        self.outcome.problems.append(
            Problem(
                doc.location,
                "conflict",
                f"{doc.doc_type.value} {doc.number} of seller {doc.seller_id} already exists with "
                f"different content; the stored version is kept. Stored: {json.dumps(existing)}. "
                f"This file: {json.dumps(incoming)}",
                number=doc.number,
            )
        )

    # --- credit notes -------------------------------------------------------------------------
    def _write_credit_note(self, pending: _Pending) -> None:
        for _ in range(MAX_CREDIT_ATTEMPTS):
            stored = store.get_credit_note(pending.doc_id)
            if stored is not None:
                self._already_stored(pending, stored)
                return
            try:
                self._create_credit_note(pending)
                return
            except store.ConcurrentChangeError:
                continue  # the invoice changed, or the note was just created: look again
        raise store.StoreError(f"credit note {pending.doc.number}: too much contention, try again")

    def _create_credit_note(self, pending: _Pending) -> None:
        doc = pending.doc
        customer = self._customer_for(doc)
        now = iso_timestamp(self.clock.now())
        invoice = None
        if doc.billing_reference:
            invoice = store.get_invoice(
                document_id(doc.seller_id, DocumentType.INVOICE, doc.billing_reference)
            )
        applied = Money.zero(doc.currency)
        changes: list[tuple[Invoice | CreditNote | Customer, AuditEvent]] = []
        extra = []
        note = ""
        if invoice is None:
            note = (
                "no invoice referenced"
                if not doc.billing_reference
                else (f"invoice {doc.billing_reference} is not in the ledger")
            )
        elif invoice.customer_id != customer.customer_id or invoice.currency != doc.currency:
            note = f"invoice {doc.billing_reference} belongs to another customer or currency"
        else:
            changed, applied = apply_credit(invoice, doc.payable)
            if applied.is_zero():
                note = f"invoice {doc.billing_reference} is {invoice.status}: nothing to reduce"
            else:
                changed.version = invoice.version + 1
                changed.updated_at = now
                changes.append(
                    (
                        changed,
                        AuditEvent(
                            invoice.invoice_id,
                            changed.version,
                            "CreditApplied",
                            now,
                            ACTOR,
                            {
                                "credit_note_id": pending.doc_id,
                                "credit_note_number": doc.number,
                                "amount": applied.to_decimal_string(),
                                "amount_minor": applied.minor,
                                "currency": applied.currency,
                                "balance": changed.balance.to_decimal_string(),
                                "status_from": invoice.status.value,
                                "status_to": changed.status.value,
                            },
                        ),
                    )
                )
                extra.append(
                    store.allocation(
                        Allocation(
                            f"alloc_{pending.doc_id}",
                            "credit_note",
                            pending.doc_id,
                            invoice.invoice_id,
                            applied,
                            now,
                        )
                    )
                )
        credit_note = CreditNote(
            credit_note_id=pending.doc_id,
            seller_id=doc.seller_id,
            number=doc.number,
            customer_id=customer.customer_id,
            currency=doc.currency,
            issue_date=doc.issue_date,
            amount=doc.payable,
            applied=applied,
            invoice_reference=doc.billing_reference,
            fingerprint=pending.fingerprint,
            source=self._source(doc),
            applied_invoice_id=invoice.invoice_id if invoice is not None and applied.minor else None,
            version=1,
            created_at=now,
        )
        event = AuditEvent(
            credit_note.credit_note_id,
            1,
            "CreditNoteIngested",
            now,
            ACTOR,
            {
                "credit_note_id": credit_note.credit_note_id,
                "number": doc.number,
                "customer_id": customer.customer_id,
                "currency": doc.currency,
                "amount": doc.payable.to_decimal_string(),
                "applied": applied.to_decimal_string(),
                "unapplied": credit_note.unapplied.to_decimal_string(),
                "invoice_id": credit_note.applied_invoice_id,
                "note": note or None,
            },
        )
        store.apply_changes(changes, creations=[store.Creation.credit_note(credit_note, event)], writes=extra)
        if applied.minor:
            self.outcome.credit_notes_applied += 1
        self.outcome.created.append(
            {
                "number": doc.number,
                "id": pending.doc_id,
                "location": doc.location,
                "type": "credit_note",
            }
        )
