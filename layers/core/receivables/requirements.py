"""What a customer's accounts-payable desk needs on every invoice before it can pay it.

A customer may require a purchase order number on each invoice (``po_number``). An invoice that
lacks what its customer requires is *held*: the invoice email is not sent (the mailer asks here
first, so no event order can let it out), an ``InvoiceHeld`` audit event names what is missing
(on the bus: the documentation request finance and integrations act on), and dunning reminds
nothing while it is held (`receivables.dunning.planner`); the aging still counts from the due
date. When the customer gives the PO number on the portal (or finance through the API), the
invoice is complete: ``InvoiceReleased`` follows, and the mailer sends it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables import store
from receivables.clock import iso_timestamp
from receivables.domain import AuditEvent, Customer, Invoice

if TYPE_CHECKING:
    from receivables.clock import Clock

REQUIREMENTS = ("po_number",)
LONGEST_PO = 100
MAX_ATTEMPTS = 5


def missing(invoice: Invoice, customer: Customer | None) -> tuple[str, ...]:
    """What ``customer`` requires that ``invoice`` lacks."""
    required = customer.document_requirements if customer is not None else ()
    return tuple(r for r in required if r == "po_number" and not invoice.po_number)


def _save(
    invoice: Invoice, changed: Invoice, kind: str, data: dict[str, Any], actor: str, clock: Clock
) -> None:
    now = iso_timestamp(clock.now())
    changed = replace(changed, version=invoice.version + 1, updated_at=now)
    event = AuditEvent(
        invoice.invoice_id,
        changed.version,
        kind,
        now,
        actor,
        {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "customer_id": invoice.customer_id,
            **data,
        },
    )
    store.apply_changes([(changed, event)])


def hold_if_incomplete(invoice_id: str, clock: Clock) -> tuple[str, ...]:
    """Hold the invoice if it lacks what its customer requires; what it lacks (empty: complete).
    Holding twice records nothing new."""
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            return ()
        lacking = missing(invoice, store.get_customer(invoice.customer_id))
        if not lacking or invoice.dunning.awaiting == lacking:
            return lacking
        state = replace(invoice.dunning, awaiting=lacking)
        try:
            _save(
                invoice,
                replace(invoice, dunning=state),
                "InvoiceHeld",
                {"missing": list(lacking)},
                "requirements",
                clock,
            )
        except store.ConcurrentChangeError:
            continue
        return lacking
    raise store.StoreError(f"invoice {invoice_id}: too much contention, try again")


def provide_po_number(invoice_id: str, po_number: str, actor: str, clock: Clock) -> Invoice:
    """The PO number of a held invoice: recorded (``PurchaseOrderGiven``), and the invoice
    released (``InvoiceReleased``) once it lacks nothing more. Raises ValueError for an empty or
    overlong number, or an invoice that already has one."""
    number = " ".join(po_number.split())
    if not 0 < len(number) <= LONGEST_PO:
        raise ValueError(f"the PO number must be 1 to {LONGEST_PO} characters")
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            raise ValueError("no such invoice")
        if invoice.po_number:
            raise ValueError(f"the invoice already carries PO {invoice.po_number}")
        given = replace(invoice, po_number=number)
        lacking = missing(given, store.get_customer(invoice.customer_id))
        state = replace(invoice.dunning, awaiting=lacking)
        released = bool(invoice.dunning.awaiting) and not lacking
        kind = "InvoiceReleased" if released else "PurchaseOrderGiven"
        try:
            _save(invoice, replace(given, dunning=state), kind, {"po_number": number}, actor, clock)
        except store.ConcurrentChangeError:
            continue
        fresh = store.get_invoice(invoice_id)
        assert fresh is not None
        return fresh
    raise store.StoreError(f"invoice {invoice_id}: too much contention, try again")
