"""What the portal's payment forms decide (`receivables.web.portal.service`): the part of the
selection's total a payer typed, the autopay maximum, the customer's credit applied before paying,
and the way chosen remembered as the preferred one."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from receivables.collections.finance import change_customer
from receivables.kernel.money import Money
from receivables.ledger.model import Invoice
from receivables.payments.allocation import apply_payment_to_invoice
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer


def part_to_pay(customer: Customer, invoices: list[Invoice], text: str) -> tuple[Money | None, str | None]:
    """The part of the selection's total the payer typed (None: all of it), or what is wrong:
    not allowed for this customer, not an amount, not more than zero and less than the total."""
    if not text.strip():
        return None, None
    if not customer.partial_payments:
        return None, "partial_not_allowed"
    total = Money.zero(invoices[0].currency)
    for invoice in invoices:
        total = total + invoice.balance
    try:
        part = Money.parse(text.strip().replace(",", "."), total.currency)
    except (ValueError, ArithmeticError):
        return None, "bad_amount"
    if part.minor <= 0 or part > total:
        return None, "bad_amount"
    return (None, None) if part == total else (part, None)


def autopay_limit(text: str, currencies: list[str]) -> tuple[Money | None, str | None]:
    """The autopay maximum per invoice the customer typed (None: no limit), in their currency;
    or what is wrong with it."""
    if not text.strip():
        return None, None
    if len(currencies) != 1:
        return None, "bad_limit"
    try:
        limit = Money.parse(text.strip().replace(",", "."), currencies[0])
    except (ValueError, ArithmeticError):
        return None, "bad_limit"
    return (limit, None) if limit.minor > 0 else (None, "bad_limit")


def apply_credit(customer: Customer, invoices: list[Invoice], clock: Clock) -> list[Invoice]:
    """Apply the customer's credit (what their payments left unapplied, oldest first) to the
    selected invoices, oldest due first; the invoices that still owe something, read fresh."""

    ordered = sorted(invoices, key=lambda i: (i.due_date, i.number))
    credits = sorted(
        (p for p in store.customer_payments(customer.customer_id) if p.unapplied.minor > 0),
        key=lambda p: p.received_at,
    )
    for payment in credits:
        if payment.unapplied.currency != ordered[0].currency:
            continue
        for invoice in ordered:
            apply_payment_to_invoice(payment.payment_id, invoice.invoice_id, clock)
    fresh = store.get_heads(i.invoice_id for i in ordered)
    return [
        i
        for i in (fresh.get(o.invoice_id) for o in ordered)
        if isinstance(i, Invoice) and i.balance.minor > 0
    ]


def remember_method(customer: Customer, method: str, clock: Clock) -> None:
    """The way the payer chose becomes the customer's preferred one (offered first next time)."""

    if customer.preferred_method == method:
        return
    change_customer(
        customer.customer_id,
        lambda c: replace(c, preferred_method=method),
        "PreferredMethodChanged",
        {"preferred_method": method, "before": customer.preferred_method},
        "customer:portal",
        clock,
    )
