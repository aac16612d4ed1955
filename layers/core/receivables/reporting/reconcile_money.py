"""The reconciliation's checks of money (`receivables.reporting.reconcile`, checks 1 to 3): money
in, invoice balances and allocations. Pure: given items, their breaks."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from receivables.kernel.money import Money
from receivables.ledger.model import Allocation, CreditNote, Invoice, InvoiceStatus, Payment
from receivables.reporting.reconcile_report import (
    ALLOCATIONS,
    INVOICE_BALANCE,
    MONEY_IN,
    Break,
    CurrencyTotals,
    amount_text,
    credit_note_name,
    customer_name,
    invoice_name,
    payment_name,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Lettering source types that move what an invoice has been paid (the others credit it).
PAYMENT_LETTERS = frozenset({"payment", "refund", "reallocation"})
# Statuses in which nothing is owed any more.
SETTLED = frozenset(
    {InvoiceStatus.PAID, InvoiceStatus.CREDITED, InvoiceStatus.WRITTEN_OFF, InvoiceStatus.VOID}
)


# --- 1. money in ----------------------------------------------------------------------------------
def payment_breaks(payment: Payment) -> list[Break]:
    """What does not add up in one payment: ``amount - refunded = allocated + unapplied``, and
    no part negative or allocated twice to one invoice.

    >>> from receivables.kernel.money import Money
    >>> eur = lambda minor: Money(minor, "EUR")
    >>> allocations = (("inv_1", eur(90)),)
    >>> p = Payment("pay_1", "cus_1", eur(100), "2026-11-02", "card", None, eur(10), eur(0), allocations)
    >>> payment_breaks(p)
    []
    """
    cur = payment.amount.currency
    name = (payment_name(payment),)
    found: list[Break] = []
    allocated = sum(a.minor for _, a in payment.allocations)
    kept = payment.amount.minor - payment.refunded.minor
    if kept != allocated + payment.unapplied.minor:
        found.append(
            Break(
                MONEY_IN,
                name,
                f"received {payment.amount} less refunded {payment.refunded} is not allocated "
                f"{amount_text(allocated, cur)} plus unapplied {payment.unapplied}",
                amount_text(kept, cur),
                amount_text(allocated + payment.unapplied.minor, cur),
            )
        )
    for label, value in (("unapplied", payment.unapplied), ("refunded", payment.refunded)):
        if value.minor < 0:
            found.append(Break(MONEY_IN, name, f"{label} is negative", f"0 {cur} or more", str(value)))
    if payment.refunded.minor > payment.amount.minor:
        found.append(
            Break(
                MONEY_IN,
                name,
                "more refunded than received",
                f"at most {payment.amount}",
                str(payment.refunded),
            )
        )
    seen: set[str] = set()
    for invoice_id, part in payment.allocations:
        if part.minor <= 0 or part.currency != cur:
            found.append(
                Break(
                    MONEY_IN,
                    (*name, f"invoice {invoice_id}"),
                    "an allocation that is not a positive amount of the payment's currency",
                    f"more than 0 {cur}",
                    str(part),
                )
            )
        if invoice_id in seen:
            found.append(
                Break(
                    MONEY_IN,
                    (*name, f"invoice {invoice_id}"),
                    "the invoice is allocated twice",
                    "one allocation per invoice",
                    "two or more",
                )
            )
        seen.add(invoice_id)
    return found


def currency_breaks(totals: CurrencyTotals) -> list[Break]:
    """What does not add up over one currency: what the payments allocated against what the
    invoices show as paid, and what the credit notes applied against what they show as credited."""
    cur, found = totals.currency, []
    if totals.allocated != totals.paid:
        found.append(
            Break(
                MONEY_IN,
                (f"every {cur} payment and invoice",),
                "what the payments allocated is not what the invoices show as paid",
                amount_text(totals.allocated, cur),
                amount_text(totals.paid, cur),
            )
        )
    if totals.credit_notes_applied != totals.credited:
        found.append(
            Break(
                INVOICE_BALANCE,
                (f"every {cur} credit note and invoice",),
                "what the credit notes applied is not what the invoices show as credited",
                amount_text(totals.credit_notes_applied, cur),
                amount_text(totals.credited, cur),
            )
        )
    return found


# --- 2. invoice balance ---------------------------------------------------------------------------
def expected_balance(invoice: Invoice) -> Money:
    """What ``invoice`` should owe by its amounts: ``payable + fees - credited - paid - written
    off`` (the identity the ledger keeps), nothing once void."""
    if invoice.status is InvoiceStatus.VOID:
        return Money.zero(invoice.currency)
    fees = invoice.fees.minor if invoice.fees is not None else 0
    minor = (
        invoice.payable.minor + fees - invoice.credited.minor - invoice.paid.minor - invoice.written_off.minor
    )
    return Money(minor, invoice.currency)


def invoice_breaks(invoice: Invoice, letters: Sequence[Allocation] = ()) -> list[Break]:
    """What does not add up in one invoice: its balance against its amounts (`expected_balance`),
    its ``paid`` against its payment lettering (allocations, reversals and re-allocations under
    it), its ``credited`` against its credit-note lettering, and a settled status that still owes."""
    cur, name = invoice.currency, (invoice_name(invoice),)
    found: list[Break] = []
    expected = expected_balance(invoice)
    if invoice.balance != expected:
        fees = invoice.fees or Money.zero(cur)
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                f"the balance is not payable {invoice.payable} + fees {fees} - credited {invoice.credited} "
                f"- paid {invoice.paid} - written off {invoice.written_off} ({invoice.status.value})",
                str(expected),
                str(invoice.balance),
            )
        )
    for label, value in (
        ("balance", invoice.balance),
        ("paid", invoice.paid),
        ("credited", invoice.credited),
        ("written off", invoice.written_off),
    ):
        if value.minor < 0:
            found.append(Break(INVOICE_BALANCE, name, f"{label} is negative", f"0 {cur} or more", str(value)))
    if invoice.status in SETTLED and invoice.balance.minor != 0:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                f"a {invoice.status.value} invoice still owes",
                f"0 {cur}",
                str(invoice.balance),
            )
        )
    paid = sum(a.amount.minor for a in letters if a.source_type in PAYMENT_LETTERS)
    if paid != invoice.paid.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "paid is not the sum of its payment allocations",
                amount_text(paid, cur),
                str(invoice.paid),
            )
        )
    credited = sum(a.amount.minor for a in letters if a.source_type == "credit_note")
    if credited != invoice.credited.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "credited is not the sum of its credit-note allocations",
                amount_text(credited, cur),
                str(invoice.credited),
            )
        )
    return found


def credit_note_breaks(note: CreditNote) -> list[Break]:
    """What does not add up in one credit note: applied between nothing and its amount, and an
    applied credit names the invoice it reduced."""
    name, cur = (credit_note_name(note),), note.currency
    found: list[Break] = []
    if not 0 <= note.applied.minor <= note.amount.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "applied is not between nothing and the note's amount",
                f"0 to {note.amount}",
                str(note.applied),
            )
        )
    if note.applied.minor and not note.applied_invoice_id:
        found.append(
            Break(
                INVOICE_BALANCE, name, "an applied credit names no invoice", "the invoice it reduced", "none"
            )
        )
    if note.amount.currency != cur:
        found.append(
            Break(INVOICE_BALANCE, name, "the amount is in another currency", cur, note.amount.currency)
        )
    return found


# --- 3. allocations -------------------------------------------------------------------------------
def letter_source(letter: Allocation) -> str:
    """The payment or credit note a lettering item is of (a reversal's and a re-allocation's
    source is ``<payment id>#<payment version>``)."""
    return letter.source_id.split("#", 1)[0]


def payment_allocation_breaks(payment: Payment, invoices: Mapping[str, Invoice]) -> list[Break]:
    """Each allocation of ``payment`` against its invoice (``invoices`` by id; a missing one is a
    break): it exists, is in the payment's currency and belongs to the payment's customer."""
    found: list[Break] = []
    if payment.allocations and not payment.customer_id:
        found.append(
            Break(
                ALLOCATIONS,
                (payment_name(payment),),
                "an allocated payment has no customer",
                "the invoices' customer",
                "none",
            )
        )
    for invoice_id, part in payment.allocations:
        invoice = invoices.get(invoice_id)
        items = (payment_name(payment), f"invoice {invoice_id}", f"allocation {part}")
        if invoice is None:
            found.append(
                Break(ALLOCATIONS, items, "the allocated invoice is not in the ledger", "an invoice", "none")
            )
            continue
        items = (payment_name(payment), invoice_name(invoice), f"allocation {part}")
        if payment.customer_id and invoice.customer_id != payment.customer_id:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the payment and the invoice it pays belong to different customers",
                    customer_name(payment.customer_id),
                    customer_name(invoice.customer_id),
                )
            )
        if invoice.currency != payment.amount.currency:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the payment pays an invoice in another currency",
                    payment.amount.currency,
                    invoice.currency,
                )
            )
    return found


def invoice_allocation_breaks(
    invoice: Invoice, letters: Sequence[Allocation], sources: Mapping[str, Payment | CreditNote]
) -> list[Break]:
    """The lettering under ``invoice`` against its sources (``sources`` by id: the payments and
    credit notes it names): each source exists, a payment's allocation to the invoice is what its
    lettering adds up to, and a credit note belongs to the invoice's customer and its applied
    amount is its lettering."""
    found: list[Break] = []
    nets: dict[str, int] = defaultdict(int)
    for letter in letters:
        nets[letter_source(letter)] += letter.amount.minor
    cur = invoice.currency
    for source_id, net in sorted(nets.items()):
        source = sources.get(source_id)
        if source is None:
            found.append(
                Break(
                    ALLOCATIONS,
                    (invoice_name(invoice), f"source {source_id}"),
                    "the invoice is lettered to a payment or credit note that is not in the ledger",
                    "its source",
                    "none",
                )
            )
            continue
        if isinstance(source, Payment):
            name = payment_name(source)
            held = sum(a.minor for i, a in source.allocations if i == invoice.invoice_id)
            what = "the payment's allocation to the invoice is not what its lettering from it adds up to"
        else:
            name = credit_note_name(source)
            held = source.applied.minor if source.applied_invoice_id == invoice.invoice_id else 0
            what = "the credit note's applied amount is not what the invoice's lettering from it adds up to"
        items = (name, invoice_name(invoice))
        if held != net:
            found.append(Break(ALLOCATIONS, items, what, amount_text(net, cur), amount_text(held, cur)))
        # A payment's customer is checked from the payment's side (`payment_allocation_breaks`).
        if isinstance(source, CreditNote) and source.customer_id != invoice.customer_id:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the invoice and what pays or credits it belong to different customers",
                    customer_name(invoice.customer_id),
                    customer_name(source.customer_id),
                )
            )
    return found
