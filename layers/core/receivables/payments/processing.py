"""Payments the bank has not confirmed yet: SEPA Direct Debit, ACH debit, off-session charges.

A debit is confirmed by the customer at once but settles days later, or fails. In between, each
invoice it is for carries a `Processing` note: the portal says "payment processing", dunning waits
(`receivables.collections.dunning.planner`), and nothing counts as paid. When the money arrives the receipt is
recorded as any other (`receivables.payments.allocation.record_receipt`, which clears the note in the same
transaction); when the debit fails the note is cleared, the reason is kept on the invoice and a
``PaymentFailed`` audit event (published on the bus) tells finance, and dunning resumes.

Stripe delivers the events at least once and in any order. So a note is only put on an invoice
that is still owed and whose payment has not been recorded yet (read after the invoice, so a
receipt recorded in between changes the invoice's version and refuses the write), and a failure
only ends a note of the same PaymentIntent, or is recorded once per PaymentIntent.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, Processing
from receivables.ledger.rules import COLLECTIBLE
from receivables.payments.allocation import payment_id_for
from receivables.storage import store
from receivables.storage.changes import change_invoice

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from receivables.kernel.clock import Clock

FAILED = "FAILED"
DEBITS = frozenset({"sepa_debit", "us_bank_account"})
METHOD_NAMES = {
    "card": "card",
    "sepa_debit": "SEPA Direct Debit",
    "us_bank_account": "ACH debit",
    "bank_transfer": "bank transfer",
}


def _update(
    invoice_id: str, change: Callable[[Invoice], tuple[Invoice, str, dict[str, Any]] | None], clock: Clock
) -> bool:
    return change_invoice(invoice_id, change, "payments", clock)


def mark_processing(
    payment_intent: str, amount: Money, method: str, invoice_ids: Sequence[str], clock: Clock
) -> list[str]:
    """Note a debit of ``amount`` on the invoices it pays (oldest due first, each up to its
    balance); the invoices noted now. Nothing is noted once the payment itself is recorded."""
    heads = store.get_heads(invoice_ids)
    ordered = sorted(
        (h for h in heads.values() if isinstance(h, Invoice)), key=lambda i: (i.due_date, i.number)
    )
    marked: list[str] = []
    remaining = amount
    for invoice in ordered:
        written, part = _note(invoice.invoice_id, payment_intent, remaining, method, clock)
        remaining = remaining - part
        if written:
            marked.append(invoice.invoice_id)
    return marked


def _note(
    invoice_id: str, payment_intent: str, remaining: Money, method: str, clock: Clock
) -> tuple[bool, Money]:
    """Note the debit's part on one invoice: whether it was written, and the part it takes (the
    part already noted, for a repeated event)."""

    payment_id = payment_id_for("stripe", payment_intent)
    taken = [Money.zero(remaining.currency)]

    def note(invoice: Invoice) -> tuple[Invoice, str, dict[str, Any]] | None:
        taken[0] = Money.zero(remaining.currency)
        current = invoice.dunning.processing
        if current is not None and current.payment_intent == payment_intent:
            taken[0] = current.amount
            return None
        if current is not None:  # another debit is on its way: its note stays, so its outcome lands
            return None
        if invoice.status not in COLLECTIBLE or invoice.balance.minor <= 0:
            return None
        if invoice.currency != remaining.currency or remaining.minor <= 0:
            return None
        # Read after the invoice (a receipt or a failure recorded meanwhile changes its version):
        # a debit that already arrived, or already failed, is not on its way any more.
        if store.get_payment(payment_id) is not None or failed_already(payment_intent):
            return None
        part = min(invoice.balance, remaining)
        taken[0] = part
        since = iso_timestamp(clock.now())
        state = replace(
            invoice.dunning, processing=Processing(payment_intent, part, method, since), payment_failure=None
        )
        data = {"payment_intent": payment_intent, "amount": part.to_decimal_string(), "method": method}
        return replace(invoice, dunning=state), "PaymentProcessing", data

    written = _update(invoice_id, note, clock)
    return written, taken[0]


def failed_already(payment_intent: str) -> bool:
    """Whether a failure of ``payment_intent`` was recorded (its marker)."""
    return store.marker_exists(store.payment_intent_pk(payment_intent), FAILED)


def record_failure(
    payment_intent: str,
    invoice_ids: Sequence[str],
    reason: str,
    clock: Clock,
    *,
    method: str | None = None,
    only_if_processing: bool = True,
) -> list[str]:
    """A debit or an off-session charge failed: each invoice it was for is owed again as before
    (its processing note ended), keeps the reason, and finance gets a ``PaymentFailed`` event;
    the invoices this changed. With ``only_if_processing`` (a webhook that may be about a card
    the payer simply retried on Checkout) a card failure changes only invoices noted as
    processing it; a debit's failure is recorded even if its processing event has not come yet.

    Once per PaymentIntent: a marker is written after the invoices (a failure delivered again
    finds it and does nothing; `mark_processing` finds it and notes nothing, so a processing
    event that comes late cannot leave a note that nothing would end)."""
    changed_ids: list[str] = []
    day = iso_timestamp(clock.now())[:10]
    if failed_already(payment_intent):
        return changed_ids

    def fail(invoice: Invoice) -> tuple[Invoice, str, dict[str, Any]] | None:
        current = invoice.dunning.processing
        ours = current is not None and current.payment_intent == payment_intent
        if only_if_processing and not ours and method not in DEBITS:
            return None
        if invoice.status not in COLLECTIBLE and not ours:
            return None
        if not ours and payment_intent in (invoice.dunning.payment_failure or ""):
            return None  # recorded already
        used = method or (current.method if current is not None and ours else "card")
        note = f"{METHOD_NAMES.get(used, used)} {payment_intent} failed on {day}: {reason}"
        state = replace(invoice.dunning, processing=None if ours else current, payment_failure=note)
        data = {
            "payment_intent": payment_intent,
            "method": used,
            "reason": reason,
            "amount": current.amount.to_decimal_string() if current is not None and ours else None,
            "balance": invoice.balance.to_decimal_string(),
        }
        return replace(invoice, dunning=state), "PaymentFailed", data

    for invoice_id in invoice_ids:
        if _update(invoice_id, fail, clock):
            changed_ids.append(invoice_id)
    marker = store.marker(store.payment_intent_pk(payment_intent), FAILED, iso_timestamp(clock.now()))
    with suppress(store.ConcurrentChangeError):  # another delivery of the same failure wrote it
        store.apply_changes([], writes=[marker])
    return changed_ids


def end_processing(payment_intent: str, invoice_ids: Sequence[str], clock: Clock) -> list[str]:
    """After the payment was recorded: end any note of it that its allocation did not reach
    (an invoice paid otherwise meanwhile); the invoices changed."""

    def end(invoice: Invoice) -> tuple[Invoice, str, dict[str, Any]] | None:
        current = invoice.dunning.processing
        if current is None or current.payment_intent != payment_intent:
            return None
        state = replace(invoice.dunning, processing=None)
        return replace(invoice, dunning=state), "PaymentProcessingEnded", {"payment_intent": payment_intent}

    return [i for i in invoice_ids if _update(i, end, clock)]
