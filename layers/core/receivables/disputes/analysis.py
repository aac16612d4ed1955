"""The analysis of a dispute, as pure functions over the facts the workflow gathers.

Every rule runs on every dispute (finance sees all the findings, whatever reason the customer
picked) and says whether the facts bear its case out:

- *already paid*: the ledger shows the invoice paid, or one of the customer's payments with
  money unapplied covers it (its remittance names the invoice, or the amount is exactly owed);
- *billed twice*: another invoice of the same customer with the same PO, amount and lines was
  issued within the policy's window;
- *price or quantity off*: lines disagree with the customer's PO (prices and quantities) or
  price list (prices), when one is on file; the overbilled amount is computed, tax included;
- *missing or invalid PO*: the customer requires a PO and the invoice names none, or one that is
  not on file.

`proposal` then says what can be settled without a person: void the duplicate, apply the
payment, confirm the invoice as paid, or credit an amount under the policy's threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.disputes import Finding, Reason, Source
from receivables.ledger.model import InvoiceStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import Invoice, InvoiceLine, Payment

ALREADY_PAID = "already_paid"
BILLED_TWICE = "billed_twice"
PRICE_OR_QUANTITY = "price_or_quantity"
PURCHASE_ORDER = "purchase_order"
# Reasons a small amount may be credited for without a person: the others have their own rule.
CREDITABLE = frozenset({Reason.PRICING, Reason.QUANTITY, Reason.QUALITY, Reason.NOT_RECEIVED, Reason.OTHER})


@dataclass(frozen=True, slots=True)
class DisputePolicy:
    """How far automatic settlement goes, and how long finance may take."""

    duplicate_window_days: int = 45
    # A duplicate is voided without a person only when issued this close to its original (an
    # export run twice): a weekly delivery or a monthly retainer repeats its lines and is none.
    auto_void_within_days: int = 3
    auto_credit_max: dict[str, Money] = field(
        default_factory=lambda: {
            "EUR": Money(5000, "EUR"),
            "USD": Money(5000, "USD"),
            "GBP": Money(4000, "GBP"),
            "CHF": Money(5000, "CHF"),
        }
    )
    remind_finance_after_hours: int = 48
    escalate_after_reminders: int = 2
    manager: str = "finance-managers"


DEFAULT_DISPUTE_POLICY = DisputePolicy()


@dataclass(frozen=True, slots=True)
class PoLine:
    """One line of a purchase order: what was ordered, how many, at what unit price."""

    description: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """A customer's purchase order, as finance filed it."""

    number: str
    currency: str
    lines: tuple[PoLine, ...]


@dataclass(frozen=True, slots=True)
class Terms:
    """What the customer agreed: whether invoices need a PO, and a price list (unit prices by
    item description)."""

    requires_po: bool = False
    price_list: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the rules look at, gathered fresh by the workflow."""

    invoice: Invoice
    others: tuple[Invoice, ...]  # the customer's other invoices
    payments: tuple[Payment, ...]  # the customer's payments
    terms: Terms
    purchase_order: PurchaseOrder | None  # the PO the invoice names, if on file


@dataclass(frozen=True, slots=True)
class Proposal:
    """What can be settled without a person: ``action`` and what it needs."""

    action: str  # void_duplicate, apply_payment, confirm_paid, credit
    credit: Money | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def item_key(description: str | None) -> str:
    """How a line is matched with a PO line or a price-list entry: its words, case-folded."""
    return " ".join((description or "").casefold().split())


def _compact(text: str) -> str:
    """Letters and digits only, case-folded: "INV-2026/1001" and "inv 2026 1001" meet."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _money(value: Decimal, currency: str) -> Money:
    exponent = Money.zero(currency).exponent
    return Money.from_decimal(value.quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_EVEN), currency)


def analyse(facts: Facts, policy: DisputePolicy = DEFAULT_DISPUTE_POLICY) -> tuple[Finding, ...]:
    """Every rule's finding, in a fixed order."""
    return (
        already_paid(facts.invoice, facts.payments),
        billed_twice(facts.invoice, facts.others, policy.duplicate_window_days),
        price_or_quantity(facts.invoice, facts.purchase_order, facts.terms),
        purchase_order(facts.invoice, facts.terms, facts.purchase_order),
    )


def already_paid(invoice: Invoice, payments: Iterable[Payment]) -> Finding:
    """Paid in full on the ledger, or covered by one of the customer's unapplied payments."""
    if invoice.balance.minor <= 0 and invoice.paid.minor > 0:
        return Finding(
            ALREADY_PAID, True, f"the ledger shows {invoice.number} paid in full", {"paid": str(invoice.paid)}
        )
    number = _compact(invoice.number)
    for payment in payments:
        if payment.unapplied.currency != invoice.currency or payment.unapplied < invoice.balance:
            continue
        named = bool(number) and number in _compact(payment.reference or "")
        if named or payment.unapplied == invoice.balance:
            how = "names the invoice" if named else "is exactly what is owed"
            return Finding(
                ALREADY_PAID,
                True,
                f"payment {payment.payment_id} has {payment.unapplied} unapplied and {how}",
                {"payment_id": payment.payment_id, "unapplied": str(payment.unapplied), "named": named},
            )
    return Finding(ALREADY_PAID, False, "no payment or unapplied receipt of the customer matches")


def _signature(lines: Sequence[InvoiceLine]) -> tuple[tuple[str, str, str, int], ...]:
    return tuple(
        sorted(
            (item_key(line.description), str(line.quantity), str(line.unit_price), line.net.minor)
            for line in lines
        )
    )


def billed_twice(invoice: Invoice, others: Iterable[Invoice], window_days: int) -> Finding:
    """Another invoice of the customer with the same PO, amount and lines, within the window.
    Invoices without lines are never found the same: two totals alike say nothing."""
    gone = {InvoiceStatus.VOID, InvoiceStatus.CREDITED}
    for other in others:
        if other.invoice_id == invoice.invoice_id or other.status in gone:
            continue
        if (
            invoice.lines
            and other.total == invoice.total
            and other.po_number == invoice.po_number
            and abs((other.issue_date - invoice.issue_date).days) <= window_days
            and _signature(other.lines) == _signature(invoice.lines)
        ):
            # The later one is the duplicate (by issue date, then by number).
            later = max((invoice, other), key=lambda i: (i.issue_date, i.number))
            earlier = other if later is invoice else invoice
            return Finding(
                BILLED_TWICE,
                True,
                f"{later.number} repeats {earlier.number}: same PO, amount and lines, "
                f"{abs((other.issue_date - invoice.issue_date).days)} days apart",
                {
                    "duplicate_id": later.invoice_id,
                    "duplicate_number": later.number,
                    "original_id": earlier.invoice_id,
                    "days_apart": str(abs((other.issue_date - invoice.issue_date).days)),
                },
            )
    return Finding(
        BILLED_TWICE, False, f"no other invoice with the same PO, amount and lines within {window_days} days"
    )


def price_or_quantity(invoice: Invoice, po: PurchaseOrder | None, terms: Terms) -> Finding:
    """Lines that cost more than the PO (or the price list) allows, and by how much."""
    reference: dict[str, tuple[Decimal, Decimal | None]]
    if po is not None and po.currency == invoice.currency:
        reference = {item_key(line.description): (line.unit_price, line.quantity) for line in po.lines}
        against = f"PO {po.number}"
    elif terms.price_list:
        reference = {key: (price, None) for key, price in terms.price_list.items()}
        against = "the price list"
    else:
        return Finding(PRICE_OR_QUANTITY, False, "no PO or price list on file to compare the lines with")
    over = Decimal(0)
    differences: list[dict[str, str]] = []
    for line in invoice.lines:
        found = reference.get(item_key(line.description))
        if found is None or line.quantity is None or line.unit_price is None:
            continue
        price, quantity = found
        tax = 1 + (line.tax_percent or Decimal(0)) / 100
        if line.unit_price > price:
            over += (line.unit_price - price) * line.quantity * tax
            differences.append(
                {
                    "line": line.line_id,
                    "kind": "price",
                    "invoiced": str(line.unit_price),
                    "agreed": str(price),
                }
            )
        if quantity is not None and line.quantity > quantity:
            over += (line.quantity - quantity) * min(price, line.unit_price) * tax
            differences.append(
                {
                    "line": line.line_id,
                    "kind": "quantity",
                    "invoiced": str(line.quantity),
                    "agreed": str(quantity),
                }
            )
    if not differences:
        return Finding(PRICE_OR_QUANTITY, False, f"every line agrees with {against}")
    amount = _money(over, invoice.currency)
    return Finding(
        PRICE_OR_QUANTITY,
        True,
        f"{len(differences)} difference(s) with {against}: {amount} overbilled, tax included",
        {"overbilled": amount.to_decimal_string(), "currency": invoice.currency, "differences": differences},
    )


def purchase_order(invoice: Invoice, terms: Terms, po: PurchaseOrder | None) -> Finding:
    """A required PO that the invoice does not name, or names but is not on file."""
    if not terms.requires_po:
        return Finding(PURCHASE_ORDER, False, "the customer does not require a PO")
    if not invoice.po_number:
        return Finding(PURCHASE_ORDER, True, "the customer requires a PO and the invoice names none")
    if po is None:
        return Finding(
            PURCHASE_ORDER, True, f"PO {invoice.po_number} is not on file", {"po_number": invoice.po_number}
        )
    return Finding(PURCHASE_ORDER, False, f"PO {invoice.po_number} is on file")


def proposal(
    dispute: Dispute,
    invoice: Invoice,
    findings: Sequence[Finding],
    policy: DisputePolicy = DEFAULT_DISPUTE_POLICY,
) -> Proposal | None:
    """What can be settled without finance, or None (finance decides)."""
    if dispute.source is Source.CHARGEBACK:
        return None  # the bank decides a chargeback: evidence goes to Stripe instead
    if dispute.source is Source.DEDUCTION:
        return None  # its checks ran when it was taken: what is left is for its owner
    confirmed = {f.rule: f for f in findings if f.confirmed}
    twice = confirmed.get(BILLED_TWICE)
    # A duplicate settles a "billed twice" dispute, or one of the duplicate itself; a dispute of
    # the original about something else is not answered by voiding its twin.
    if (
        twice is not None
        and (dispute.reason is Reason.BILLED_TWICE or twice.facts["duplicate_id"] == invoice.invoice_id)
        and int(twice.facts.get("days_apart", "0")) <= policy.auto_void_within_days
    ):
        return Proposal("void_duplicate", facts=twice.facts)
    paid = confirmed.get(ALREADY_PAID)
    if paid is not None and "payment_id" not in paid.facts:
        return Proposal("confirm_paid", facts=paid.facts)
    if paid is not None and dispute.reason is Reason.ALREADY_PAID:
        return Proposal("apply_payment", facts=paid.facts)
    if dispute.reason not in CREDITABLE or invoice.balance.minor <= 0:
        return None
    if dispute.source is Source.FINANCE:
        return None  # a credit finance asks for is a controller's decision (maker and checker)
    contested = dispute.amount or invoice.balance
    if PRICE_OR_QUANTITY in confirmed:
        computed = Money.parse(confirmed[PRICE_OR_QUANTITY].facts["overbilled"], invoice.currency)
        contested = computed if dispute.amount is None else min(contested, computed)
    contested = min(contested, invoice.balance)
    limit = policy.auto_credit_max.get(invoice.currency)
    # The limit is per invoice, counting what it was credited before: a customer cannot earn a
    # full credit note by opening one small dispute after another.
    if limit is not None and contested.minor > 0 and (invoice.credited + contested).minor <= limit.minor:
        return Proposal("credit", contested, {"limit": str(limit), "credited_before": str(invoice.credited)})
    return None
