"""What a customer's accounts-payable desk needs on every invoice before it can pay it.

A customer may require, on each invoice:

- ``po_number``: their purchase order number. A standing (blanket) PO on the customer covers
  invoices issued until it expires, while the invoices carrying it total no more than its amount;
- ``contract_reference``: the contract the work was done under;
- ``delivery_note`` and ``timesheet``: documents attached to the invoice (PDF, PNG or JPEG).

An invoice that lacks what its customer requires is *held*: the invoice email is not sent (the
mailer asks here first, so no event order can let it out), an ``InvoiceHeld`` audit event names
what is missing (on the bus: the documentation request; the mailer writes to the account owner
and, where the customer is configured for it, to their AP with a portal link), the invoice is
listed among the open documentation requests (one item in the ``DOCREQ`` partition: finance's
list, the reminders and the dashboard read it with a Query), and dunning reminds nothing while it
is held (`receivables.collections.dunning.planner`); the aging still counts from the due date. The daily sweep
reminds open requests every `reminder_days`. When what was missing arrives (a reference on the
portal or through the API, a new version of the invoice carrying the PO number, an upload), the
invoice is complete: ``InvoiceReleased`` follows, and the mailer sends it with its documents.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError
from receivables.ledger.model import Invoice
from receivables.storage import store
from receivables.storage.changes import Change, change_invoice

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import AuditEvent, Customer, InvoiceDocument

REFERENCES = ("po_number", "contract_reference")  # given as text
DOCUMENTS = ("delivery_note", "timesheet")  # uploaded as files
REQUIREMENTS = (*REFERENCES, *DOCUMENTS)
LONGEST_REFERENCE = 100
MAX_DOCUMENTS = 10  # per invoice
ACTOR = "requirements"


class RequirementError(ConflictError, ValueError):
    """A reference or document that cannot be taken, with the reason to show."""


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """A held invoice, as finance's list of open documentation requests shows it."""

    invoice: Invoice
    missing: tuple[str, ...]
    since: str
    requested_at: str | None
    reminders: int


def provided(invoice: Invoice, requirement: str) -> bool:
    """Whether ``invoice`` carries ``requirement``."""
    if requirement == "po_number":
        return bool(invoice.po_number)
    if requirement == "contract_reference":
        return bool(invoice.contract_reference)
    return any(d.kind == requirement for d in invoice.documents)


def missing(invoice: Invoice, customer: Customer | None) -> tuple[str, ...]:
    """What ``customer`` requires that ``invoice`` lacks (a PO number a valid standing PO could
    give is still missing here: `hold_if_incomplete` gives it first)."""
    required = customer.document_requirements if customer is not None else ()
    return tuple(r for r in REQUIREMENTS if r in required and not provided(invoice, r))


def standing_po_for(invoice: Invoice, customer: Customer) -> str | None:
    """The customer's standing PO number if it covers ``invoice``: issued before it expired, in
    its currency, and within what is left of its amount (the invoices carrying it, other than
    this one, count against it)."""
    po = customer.standing_po
    if po is None or invoice.po_number or invoice.issue_date > po.valid_until:
        return None
    if invoice.currency != po.amount.currency:
        return None

    used = sum(
        other.payable.minor
        for other in store.customer_documents(customer.customer_id)
        if isinstance(other, Invoice)
        and other.po_number == po.number
        and other.invoice_id != invoice.invoice_id
    )
    return po.number if used + invoice.payable.minor <= po.amount.minor else None


def _request_item(invoice: Invoice, lacking: tuple[str, ...], at: str) -> store.Write:
    body = {
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "missing": list(lacking),
        "since": at,
    }
    return store.new_document(store.DOCUMENT_REQUESTS_PK, invoice.invoice_id, body, 1, at)


def hold_if_incomplete(invoice_id: str, clock: Clock) -> tuple[str, ...]:
    """Give the invoice its customer's standing PO where one covers it; then hold it if it still
    lacks what its customer requires. What it lacks (empty: complete). Holding twice records
    nothing new; a held invoice whose customer no longer requires what it lacked is released."""
    lacking: list[tuple[str, ...]] = [()]

    def hold(invoice: Invoice) -> Change | None:
        customer = store.get_customer(invoice.customer_id)
        lacking[0] = missing(invoice, customer)
        if not lacking[0] and invoice.dunning.awaiting:  # the customer no longer requires it
            return _release(invoice, invoice, {"given": "no longer required"}, clock)
        if not lacking[0] or invoice.dunning.awaiting:
            return None  # complete, or held already (what it lacks changes only by `_give`)
        number = standing_po_for(invoice, customer) if "po_number" in lacking[0] and customer else None
        if number is not None:
            given = replace(invoice, po_number=number)
            lacking[0] = missing(given, customer)
            if not lacking[0]:
                return Change(given, "PurchaseOrderGiven", {"po_number": number, "standing": True})
            invoice = given
        at = iso_timestamp(clock.now())
        dunning = replace(invoice.dunning, awaiting=lacking[0], awaiting_since=at, documents_requested_at=at)
        data = {"missing": list(lacking[0]), "amount": invoice.balance.to_decimal_string()}
        if number is not None:
            data["po_number"] = number
        return Change(
            replace(invoice, dunning=dunning),
            "InvoiceHeld",
            data,
            writes=(_request_item(invoice, lacking[0], at),),
        )

    change_invoice(invoice_id, hold, ACTOR, clock)
    return lacking[0]


def _give(invoice_id: str, what: str, data: dict[str, Any], actor: str, clock: Clock, apply: Any) -> Invoice:
    """Record what arrived (``apply`` makes the changed invoice, or raises RequirementError) and
    release the invoice if it lacks nothing more."""

    def give(invoice: Invoice) -> Change:
        given = apply(invoice)
        customer = store.get_customer(invoice.customer_id)
        lacking = missing(given, customer)
        held = bool(invoice.dunning.awaiting)
        if held and not lacking:
            return _release(invoice, given, {**data, "given": what}, clock)
        kept = replace(given, dunning=replace(invoice.dunning, awaiting=lacking if held else ()))
        return Change(kept, f"{_event_kind(what)}", data)

    if not change_invoice(invoice_id, give, actor, clock):
        raise RequirementError("no such invoice")
    fresh = store.get_invoice(invoice_id)
    assert fresh is not None
    return fresh


def _release(held: Invoice, given: Invoice, data: dict[str, Any], clock: Clock) -> Change:
    """``InvoiceReleased`` for a held invoice (``given`` as it now is): its open request closed,
    and how long it waited."""
    released = replace(
        given,
        dunning=replace(
            held.dunning, awaiting=(), awaiting_since=None, documents_requested_at=None, documents_reminders=0
        ),
    )
    waited = _waited(held.dunning.awaiting_since, clock)
    removal = store.document_removal(store.DOCUMENT_REQUESTS_PK, held.invoice_id)
    return Change(released, "InvoiceReleased", {**data, "waited_hours": waited}, writes=(removal,))


def _event_kind(what: str) -> str:
    return {
        "po_number": "PurchaseOrderGiven",
        "contract_reference": "ContractReferenceGiven",
    }.get(what, "DocumentAttached")


def _waited(since: str | None, clock: Clock) -> int | None:
    if not since:
        return None
    return int((clock.now() - datetime.fromisoformat(since)).total_seconds() // 3600)


def clean_reference(text: str, what: str) -> str:
    """``text`` with its whitespace collapsed; RequirementError when empty or too long."""
    value = " ".join(text.split())
    label = "PO number" if what == "po_number" else "contract reference"
    if not 0 < len(value) <= LONGEST_REFERENCE:
        raise RequirementError(f"the {label} must be 1 to {LONGEST_REFERENCE} characters")
    if any(ord(c) < 32 for c in value):
        raise RequirementError(f"the {label} has control characters")
    return value


def po_from_erp(invoice: Invoice, events: Sequence[AuditEvent]) -> bool:
    """Whether the invoice's PO number is the one it came with from the ERP (``events``, its
    audit trail): a number given afterwards, by the customer's AP on the portal or by a
    collector, releases a held invoice but is one person's word, never a ground for a credit or
    a void. An invoice ingested before the ingest event named its PO counts as from the ERP
    unless a later event gave one."""
    if not invoice.po_number:
        return False
    ingested = next((e for e in events if e.type == "InvoiceIngested"), None)
    if ingested is not None and "po_number" in ingested.data:
        return bool(ingested.data["po_number"] == invoice.po_number)
    return not any(e.data.get("po_number") for e in events if e.type != "InvoiceIngested")


def provide_reference(invoice_id: str, what: str, text: str, actor: str, clock: Clock) -> Invoice:
    """The PO number or contract reference (``what``) of an invoice: recorded, and the invoice
    released once it lacks nothing more. RequirementError for an empty or overlong value, or an
    invoice that already has one."""
    if what not in REFERENCES:
        raise RequirementError(f"{what} is not a reference an invoice carries")
    value = clean_reference(text, what)

    def apply(invoice: Invoice) -> Invoice:
        current = invoice.po_number if what == "po_number" else invoice.contract_reference
        if current:
            raise RequirementError(f"the invoice already carries {current}")
        if what == "po_number":
            return replace(invoice, po_number=value)
        return replace(invoice, contract_reference=value)

    return _give(invoice_id, what, {what: value}, actor, clock, apply)


def provide_po_number(invoice_id: str, po_number: str, actor: str, clock: Clock) -> Invoice:
    """`provide_reference` for the PO number."""
    return provide_reference(invoice_id, "po_number", po_number, actor, clock)


def attach_document(invoice_id: str, document: InvoiceDocument, clock: Clock) -> Invoice:
    """Keep an uploaded document with the invoice (once per object key), and release the invoice
    once it lacks nothing more."""
    if document.kind not in DOCUMENTS:
        raise RequirementError(f"{document.kind} is not a document we keep with invoices")

    def apply(invoice: Invoice) -> Invoice:
        if any(d.key == document.key for d in invoice.documents):
            raise _AlreadyAttachedError
        if len(invoice.documents) >= MAX_DOCUMENTS:
            raise RequirementError(f"an invoice keeps at most {MAX_DOCUMENTS} documents")
        return replace(invoice, documents=(*invoice.documents, document))

    data = {"kind": document.kind, "size": document.size, "content_type": document.content_type}
    try:
        return _give(invoice_id, document.kind, data, document.added_by, clock, apply)
    except _AlreadyAttachedError:
        fresh = store.get_invoice(invoice_id)
        assert fresh is not None
        return fresh


class _AlreadyAttachedError(ConflictError):
    """The same upload, seen again (a reloaded page, a retried confirmation)."""


def open_requests(limit: int = 500) -> list[OpenRequest]:
    """The held invoices, oldest request first (a Query of the ``DOCREQ`` partition and a
    batch read of the invoices)."""

    held = [sk for sk, _ in store.documents(store.DOCUMENT_REQUESTS_PK, "inv_", "inv_~")][:limit]
    heads = store.get_heads(held)
    found = []
    for invoice_id in held:
        invoice = heads.get(invoice_id)
        if not isinstance(invoice, Invoice) or not invoice.dunning.awaiting:
            continue  # released between the two reads
        state = invoice.dunning
        found.append(
            OpenRequest(
                invoice,
                state.awaiting,
                state.awaiting_since or "",
                state.documents_requested_at,
                state.documents_reminders,
            )
        )
    return sorted(found, key=lambda r: r.since)


def remind_open_requests(reminder_days: int, clock: Clock) -> list[str]:
    """Remind each open request last sent ``reminder_days`` or more ago (``DocumentsReminded``:
    the mailer writes again); the invoice ids reminded. A request whose customer no longer
    requires what it waits for is closed instead (the invoice is released, then mailed)."""
    now = clock.now()
    reminded = []
    for request in open_requests():
        customer = store.get_customer(request.invoice.customer_id)
        if not missing(request.invoice, customer):
            hold_if_incomplete(request.invoice.invoice_id, clock)  # releases it
            continue
        last = datetime.fromisoformat(request.requested_at or request.since)
        if now - last >= timedelta(days=reminder_days) and change_invoice(
            request.invoice.invoice_id, _reminder(request.requested_at, iso_timestamp(now)), ACTOR, clock
        ):
            reminded.append(request.invoice.invoice_id)
    return reminded


def _reminder(requested_at: str | None, at: str) -> Callable[[Invoice], Change | None]:
    def remind(invoice: Invoice) -> Change | None:
        state = invoice.dunning
        if not state.awaiting or state.documents_requested_at != requested_at:
            return None  # released, or reminded meanwhile
        count = state.documents_reminders + 1
        changed = replace(
            invoice, dunning=replace(state, documents_requested_at=at, documents_reminders=count)
        )
        return Change(changed, "DocumentsReminded", {"missing": list(state.awaiting), "reminder": count})

    return remind
