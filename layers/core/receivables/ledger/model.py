"""The entities of the receivables ledger, as plain typed objects (storage knows how to persist them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal


class InvoiceStatus(StrEnum):
    """Where an invoice stands; `receivables.ledger.rules` is the one place that changes it."""

    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    DISPUTED = "disputed"
    CREDITED = "credited"
    WRITTEN_OFF = "written_off"
    VOID = "void"


class DocumentType(StrEnum):
    """The two kinds of billing document that reach the inbox."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class DueDateSource(StrEnum):
    """Where an invoice's due date came from, most to least authoritative."""

    DOCUMENT = "document"
    PAYMENT_TERMS = "payment_terms"
    CUSTOMER_TERMS = "customer_terms"
    DEFAULT_TERMS = "default_terms"


@dataclass(frozen=True, slots=True, order=True)
class PartyId:
    """One identifier of a trading party: ``scheme`` is ``vat``, ``legal``, ``endpoint``,
    ``erp`` (the seller's own customer number) or ``email``."""

    scheme: str
    value: str

    def key(self) -> str:
        """The canonical text form used in storage keys: ``vat:SE4598375937``."""
        return f"{self.scheme}:{self.value}"


@dataclass(frozen=True, slots=True)
class Buyer:
    """The customer as a document names it, before it is matched to a `Customer`."""

    name: str | None
    identifiers: tuple[PartyId, ...]
    email: str | None = None
    country: str | None = None
    language: str | None = None
    postal_address: tuple[str, ...] = ()  # the lines of the address, as on an envelope


@dataclass(slots=True)
class Customer:
    """A party that owes us money."""

    customer_id: str
    name: str | None
    identifiers: tuple[PartyId, ...]
    email: str | None
    country: str | None = None
    language: str | None = None
    payment_terms_days: int | None = None
    version: int = 0
    created_at: str = ""
    risk: str = "standard"  # dunning variant: "reliable", "standard" or "risky"
    credit_hold: bool = False  # no new orders or credit until the overdue balance is settled
    collector: str | None = None  # the person (or team) the customer was handed to
    # Every link we send the customer carries this; finance raising it revokes every older link
    # (and the portal sessions they opened).
    link_generation: int = 0
    portal_last_used_at: str | None = None  # when one of the customer's links last opened the portal
    partial_payments: bool = False  # finance lets them pay part of what they select, on the portal
    preferred_method: str | None = None  # "card", "sepa_debit", "us_bank_account" or "bank_transfer"
    stripe_customer_id: str | None = None  # the Stripe Customer their saved payment method belongs to
    autopay: Autopay | None = None  # their consent to be charged on due dates
    # "email_pdf" (None), "email_einvoice", "portal_only" or "paper" (`receivables.mail.delivery`)
    invoice_delivery: str | None = None
    # What their AP needs on every invoice: "po_number", "contract_reference" (references on the
    # invoice), "delivery_note", "timesheet" (documents attached to it).
    document_requirements: tuple[str, ...] = ()
    standing_po: StandingPo | None = None  # a blanket PO that covers their invoices while it lasts
    account_owner: str | None = None  # our person for this account (email): documentation requests
    ask_customer_for_documents: bool = False  # also ask their AP, through the portal, for what is missing
    profile: dict[str, Any] | None = None  # what they gave on the enrolment form (address, contacts, …)
    credit_limit: Money | None = None  # set by a controller
    insured_amount: Money | None = None  # credit-insurance cover
    insured_until: date | None = None
    open_orders: Money | None = None  # ordered, not invoiced yet, as the ERP last reported
    credit_level: int = 0  # the highest threshold (% of the limit) the exposure has reached
    over_insured: bool = False  # the exposure is over the insured amount in force
    # An agency's rating finance imported: {"score": 0-100 (100 safest), "agency", "rated_on"}.
    external_rating: dict[str, Any] | None = None
    postal_address: tuple[str, ...] = ()  # the lines of the address, as on an envelope (paper invoices)

    @property
    def needs_contact_details(self) -> bool:
        """Neither an email nor a postal address on file: nobody can be sent the invoice yet."""
        return not self.email and not self.postal_address


@dataclass(frozen=True, slots=True)
class StandingPo:
    """A blanket purchase order: invoices issued until ``valid_until`` (inclusive) carry its
    ``number`` while the invoices already carrying it total no more than ``amount``."""

    number: str
    amount: Money
    valid_until: date


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """A document the customer's AP needs with an invoice (a delivery note, a timesheet), as
    uploaded: its object ``key``, its ``size`` and its ``content_type`` as sniffed from its bytes
    (PDF, PNG or JPEG; never what the uploader claimed)."""

    kind: str
    key: str
    size: int
    content_type: str
    added_at: str
    added_by: str


@dataclass(frozen=True, slots=True)
class Autopay:
    """A customer's consent to be charged on due dates with a saved payment method
    (``payment_method``, a Stripe ``pm_…`` of ``method`` type, ``label`` such as "Visa ···· 4242"),
    each invoice at most ``max_per_invoice`` (None: no limit)."""

    payment_method: str
    method: str
    label: str
    consented_at: str
    consented_by: str  # the contact address whose session gave consent
    max_per_invoice: Money | None = None


@dataclass(frozen=True, slots=True)
class Processing:
    """A debit (or another asynchronous payment) of ``amount`` towards the invoice that the
    bank has not confirmed yet: the invoice is not paid, and dunning waits for the outcome."""

    payment_intent: str
    amount: Money
    method: str
    since: str


@dataclass(frozen=True, slots=True)
class Promise:
    """A promise to pay ``amount`` by ``date`` (ISO), made by the customer or taken by finance;
    ``balance_then`` is what was owed when it was made (kept means paid down by ``amount``)."""

    date: str
    amount: Money
    made_at: str
    made_by: str
    balance_then: Money


@dataclass(frozen=True, slots=True)
class DunningState:
    """Where an invoice's dunning stands: the running execution, the levels already done (sent,
    or skipped because a later one was due; each happens once), a promise to pay, a pause finance
    set, and the last error a task recorded."""

    execution_arn: str | None = None
    run: int = 0  # executions started so far; the next execution's name carries run + 1
    status: str = ""  # "", "running", "completed" (every step done), "stopped" (settled), "failed"
    levels_done: tuple[str, ...] = ()
    last_mail_at: str | None = None
    promise: Promise | None = None
    paused_until: str | None = None  # ISO date: finance put dunning on hold until then
    last_error: str | None = None
    started_at: str | None = None
    collector: str | None = None  # the finance user who works this invoice
    processing: Processing | None = None  # a debit on its way: dunning waits
    payment_failure: str | None = None  # why the last debit or autopay charge failed, and when
    autopay_attempts: int = 0  # off-session charges tried for this invoice (the next key's number)
    awaiting: tuple[str, ...] = ()  # what the customer's AP needs and the invoice lacks: held till then
    awaiting_since: str | None = None  # when the invoice was held (ISO instant)
    documents_requested_at: str | None = None  # the last documentation request or reminder
    documents_reminders: int = 0  # reminders sent for the current hold


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: quantities and prices are exact decimals, the net amount is money."""

    line_id: str
    description: str | None
    quantity: Decimal | None
    unit_code: str | None
    unit_price: Decimal | None
    net: Money
    tax_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a document came from: the object and, for CSV, the row(s) or, for JSON, the index."""

    bucket: str
    key: str
    format: str
    location: str  # "row 12", "rows 12-14", "item 3", "document"


@dataclass(slots=True)
class Invoice:
    """A receivable: what a customer owes on one issued invoice."""

    invoice_id: str
    seller_id: str
    number: str
    customer_id: str
    currency: str
    issue_date: date
    due_date: date
    due_date_source: DueDateSource
    total: Money  # tax inclusive
    tax: Money
    prepaid: Money
    payable: Money  # what was owed when issued: total - prepaid (+ rounding)
    balance: Money  # what is still owed
    paid: Money
    credited: Money
    written_off: Money
    status: InvoiceStatus
    lines: tuple[InvoiceLine, ...]
    fingerprint: str
    source: SourceRef
    po_number: str | None = None
    buyer_reference: str | None = None
    contract_reference: str | None = None
    payment_terms: str | None = None  # as the document wrote them: early-payment discounts are read there
    documents: tuple[InvoiceDocument, ...] = ()  # what the customer's AP needs with it, uploaded
    version: int = 0
    created_at: str = ""
    updated_at: str = ""
    fees: Money | None = None  # late fees and interest charged (None: none yet)
    dunning: DunningState = field(default_factory=DunningState)
    # The day the money that paid it in full was received (value date, not when it was recorded);
    # None while it is not paid, or when a payment that did not say when settled it.
    paid_on: date | None = None


@dataclass(slots=True)
class CreditNote:
    """A document that reduces what a customer owes, on one invoice or as an unapplied credit."""

    credit_note_id: str
    seller_id: str
    number: str
    customer_id: str
    currency: str
    issue_date: date
    amount: Money
    applied: Money
    invoice_reference: str | None
    fingerprint: str
    source: SourceRef
    applied_invoice_id: str | None = None
    version: int = 0
    created_at: str = ""

    @property
    def unapplied(self) -> Money:
        """The part of the credit that no invoice has absorbed yet."""
        return self.amount - self.applied


@dataclass(slots=True)
class Payment:
    """Money received from a customer (a Stripe payment, a bank transfer, a cheque) and where it
    went: ``allocations`` to invoices, ``unapplied`` as the customer's credit (or, for an unknown
    payer, in the queue for a person), ``refunded`` back to the payer."""

    payment_id: str
    customer_id: str | None
    amount: Money
    received_at: str
    method: str  # "card", "sepa_debit", "bank_transfer", "cheque", …
    reference: str | None  # remittance text, or the Stripe object id
    unapplied: Money
    refunded: Money
    allocations: tuple[tuple[str, Money], ...] = ()
    matched_by: str | None = None  # "target", "reference", "amount", or None (left for a person)
    version: int = 0

    @property
    def allocated(self) -> Money:
        """What invoices hold of this payment."""
        total = Money.zero(self.amount.currency)
        for _, amount in self.allocations:
            total = total + amount
        return total


@dataclass(frozen=True, slots=True)
class Allocation:
    """A part of a payment or credit note matched to one invoice (lettering)."""

    allocation_id: str
    source_type: str  # "payment" | "credit_note"
    source_id: str
    invoice_id: str
    amount: Money
    at: str
    # The lettering code of the matched set it belongs to (a bank line, its invoices and
    # amounts), unique per customer account: what the accounting export carries.
    lettering: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An immutable record of one change to an aggregate, numbered in order from 1."""

    aggregate_id: str
    seq: int
    type: str
    at: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
