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
from receivables.invoice_changes import change_invoice

if TYPE_CHECKING:
    from receivables.clock import Clock
    from receivables.domain import Customer, Invoice

REQUIREMENTS = ("po_number",)
LONGEST_PO = 100


def missing(invoice: Invoice, customer: Customer | None) -> tuple[str, ...]:
    """What ``customer`` requires that ``invoice`` lacks."""
    required = customer.document_requirements if customer is not None else ()
    return tuple(r for r in required if r == "po_number" and not invoice.po_number)


def hold_if_incomplete(invoice_id: str, clock: Clock) -> tuple[str, ...]:
    """Hold the invoice if it lacks what its customer requires; what it lacks (empty: complete).
    Holding twice records nothing new."""
    lacking: list[tuple[str, ...]] = [()]

    def hold(invoice: Invoice) -> tuple[Invoice, str, dict[str, Any]] | None:
        lacking[0] = missing(invoice, store.get_customer(invoice.customer_id))
        if not lacking[0] or invoice.dunning.awaiting == lacking[0]:
            return None
        held = replace(invoice, dunning=replace(invoice.dunning, awaiting=lacking[0]))
        return held, "InvoiceHeld", {"missing": list(lacking[0])}

    change_invoice(invoice_id, hold, "requirements", clock)
    return lacking[0]


def provide_po_number(invoice_id: str, po_number: str, actor: str, clock: Clock) -> Invoice:
    """The PO number of a held invoice: recorded (``PurchaseOrderGiven``), and the invoice
    released (``InvoiceReleased``) once it lacks nothing more. Raises ValueError for an empty or
    overlong number, or an invoice that already has one."""
    number = " ".join(po_number.split())
    if not 0 < len(number) <= LONGEST_PO:
        raise ValueError(f"the PO number must be 1 to {LONGEST_PO} characters")

    def give(invoice: Invoice) -> tuple[Invoice, str, dict[str, Any]]:
        if invoice.po_number:
            raise ValueError(f"the invoice already carries PO {invoice.po_number}")
        given = replace(invoice, po_number=number)
        lacking = missing(given, store.get_customer(invoice.customer_id))
        released = bool(invoice.dunning.awaiting) and not lacking
        kind = "InvoiceReleased" if released else "PurchaseOrderGiven"
        return replace(given, dunning=replace(invoice.dunning, awaiting=lacking)), kind, {"po_number": number}

    if not change_invoice(invoice_id, give, actor, clock):
        raise ValueError("no such invoice")
    fresh = store.get_invoice(invoice_id)
    assert fresh is not None
    return fresh
