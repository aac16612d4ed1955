"""Receipts into the ledger: record a payment once, apply it to invoices, take refunds back.

Every operation is idempotent and order-independent, because Stripe and the bank deliver
twice and out of order:

- a payment's id is derived from its source and the source's own id, so a second delivery finds
  it and changes nothing;
- a refund is applied as the difference between the refunded total the source reports and what
  the ledger has already refunded, so an old or repeated refund event changes nothing.

Each operation is one transaction: the payment, every invoice it touches (conditional on the
version read) and their audit events. A concurrent change makes it read again and retry.

A payment only ever pays its own customer's invoices: a target of another customer (or one the
ledger does not hold) is refused, and the money stays unapplied on the payer, the refusal and
its reason in the payment's ``PaymentReceived`` event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from receivables.banking.creditor_reference import find_references, invoice_id_of
from receivables.disputes.deductions import take_shortfalls
from receivables.disputes.paid import Ended, ended_by_payment
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import Money
from receivables.ledger.model import Allocation, AuditEvent, DocumentType, Invoice, InvoiceStatus, Payment
from receivables.ledger.rules import (
    COLLECTIBLE,
    LedgerError,
    apply_payment,
    document_id,
    reverse_payment,
)
from receivables.payments.cash import (
    AllocationPlan,
    Candidate,
    candidate_numbers,
    match_receipt,
    plan_allocation,
    plan_refund,
)
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from receivables.disputes.deduction_rules import RemittanceLine
    from receivables.kernel.clock import Clock

# One transaction holds at most 100 items: the payment and its event, then three per invoice
# (head, event, allocation). What a receipt could pay beyond this stays as credit.
MAX_INVOICES_PER_RECEIPT = 30
MAX_ATTEMPTS = 5

# The largest receipt taken, in minor units: beyond any real payment, far inside DynamoDB's 38
# digits. (A local bound until `receivables.kernel.money` has one of its own per currency.)
MAX_RECEIPT_MINOR = 10**15
# When money can plausibly have been received: not before 2000, nor more than ten years before
# now (a typo of the year), nor more than a day ahead of now (time zones, a bank's value date).
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)
RECEIPT_YEARS_BACK = 10
RECEIPT_AHEAD = timedelta(days=1)


class PaymentError(ConflictError):
    """A receipt or refund the ledger cannot take (more refunded than paid, say)."""


class UnknownPaymentError(NotFoundError, PaymentError):
    """The payment is not in the ledger (yet: a refund may overtake its payment)."""


def payment_id_for(source: str, external_id: str) -> str:
    """The ledger id of a receipt: ``pay_`` and a digest of (source, the source's own id)."""
    return "pay_" + hashlib.sha256(f"{source}\x1f{external_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Receipt:
    """Money received, as the source reports it."""

    source: str  # "stripe", "bank", "cheque"
    external_id: str  # the payment intent id, the bank's transaction id…
    amount: Money
    received_at: str
    method: str
    customer_id: str | None = None
    reference: str | None = None  # remittance text
    target_invoice_ids: tuple[str, ...] = ()  # known targets (a Checkout Session's metadata)
    # The remittance advice's explanation of what it pays short (reason codes, amounts).
    deductions: tuple[RemittanceLine, ...] = ()
    on_account: bool = False  # a part payment the payer means as such (an instalment): no deduction
    # The bank line's lettering code (`receivables.banking`), on every allocation it makes.
    lettering: str | None = None
    # False when the source matched it already (a bank line's rules): the remittance is kept
    # for the record, never matched again here.
    match_remittance: bool = True
    # Whether money left after the targets pays the customer's other open invoices (True) or
    # stays on account (a bank line's matching said what it pays).
    excess_to_others: bool = True
    # Typed in by finance (POST /payments), not reported by a source: its date may be a typo, so
    # it is held to a window around the clock (`receipt_problems`).
    entered_by_hand: bool = False


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    """What recording a receipt did."""

    payment: Payment
    duplicate: bool
    settled: tuple[str, ...] = ()  # ids of invoices the receipt paid in full
    candidates: tuple[Candidate, ...] = ()  # for a person, when nothing was certain
    deductions: tuple[dict[str, Any], ...] = ()  # what it paid short: write-offs and deductions


def receipt_problems(receipt: Receipt, now: datetime) -> list[FieldError]:
    """What makes ``receipt`` one the ledger does not take, field by field: an amount of zero or
    less or above `MAX_RECEIPT_MINOR`, a ``received_at`` that is not an ISO instant or is before
    `EARLIEST_RECEIPT`; for a receipt `entered_by_hand`, also one more than `RECEIPT_YEARS_BACK`
    years before ``now`` (from 1 January) or more than `RECEIPT_AHEAD` after it, a typo."""
    problems: list[FieldError] = []
    if not 0 < receipt.amount.minor <= MAX_RECEIPT_MINOR:
        problems.append(
            FieldError("amount", f"must be more than zero and at most {MAX_RECEIPT_MINOR} minor units")
        )
    try:
        at: datetime | None = datetime.fromisoformat(receipt.received_at.replace("Z", "+00:00"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        problems.append(FieldError("received_at", "must be an ISO timestamp with a zone"))
        return problems
    earliest, latest = EARLIEST_RECEIPT, None
    if receipt.entered_by_hand:
        earliest = max(earliest, datetime(now.year - RECEIPT_YEARS_BACK, 1, 1, tzinfo=UTC))
        latest = now + RECEIPT_AHEAD
    if at < earliest or (latest is not None and at > latest):
        since = f"from {earliest.date().isoformat()}"
        if latest is not None:
            since = f"between {earliest.date().isoformat()} and {latest.isoformat()} (a day ahead at most)"
        problems.append(FieldError("received_at", f"must be {since}"))
    return problems


def record_receipt(receipt: Receipt, clock: Clock, *, sellers: tuple[str, ...] = ("self",)) -> ReceiptOutcome:
    """Record ``receipt`` once and apply it: to its targets, else by matching its remittance text
    and amount; an excess pays the customer's other open invoices, oldest first, and the rest
    waits as credit (or, for an unknown payer, in the unapplied queue). A target that is not the
    payer's invoice is refused (see the module's docstring).

    Raises `InvalidRequestError` naming ``amount`` or ``received_at`` for a receipt
    `receipt_problems` finds implausible: nothing is recorded.
    """
    problems = receipt_problems(receipt, clock.now())
    if problems:
        raise InvalidRequestError(problems)
    payment_id = payment_id_for(receipt.source, receipt.external_id)
    for _ in range(MAX_ATTEMPTS):
        existing = store.get_payment(payment_id)
        if existing is not None:
            # A redelivery finishes what the first delivery may have left half done.
            taken = _shortfalls(receipt, existing, clock)
            return ReceiptOutcome(existing, duplicate=True, deductions=taken)
        try:
            outcome = _apply_new_receipt(payment_id, receipt, clock, sellers)
        except store.ConcurrentChangeError:
            continue
        taken = _shortfalls(receipt, outcome.payment, clock)
        if taken:
            # A write-off, or a deduction found valid in full, settles its invoice.
            settled = {
                d["invoice_id"] for d in taken if d["status"] == "written_off" or d["valid"] == d["amount"]
            }
            outcome = replace(outcome, deductions=taken, settled=tuple(sorted({*outcome.settled, *settled})))
        return outcome
    raise store.StoreError(f"payment {receipt.external_id}: too much contention, try again")


def _shortfalls(receipt: Receipt, payment: Payment, clock: Clock) -> tuple[dict[str, Any], ...]:
    """The write-offs and deductions of what ``payment`` paid short (`receivables.disputes.deductions`);
    none for a Stripe payment, which pays what the customer chose (and keeps the webhook's cold
    start free of the deduction rules)."""
    if receipt.source == "stripe":
        return ()

    return tuple(take_shortfalls(receipt, payment, clock))


def _open_invoices(customer_id: str | None) -> list[Invoice]:
    if customer_id is None:
        return []
    return [d for d in store.customer_documents(customer_id) if isinstance(d, Invoice)]


def received_day(received_at: str) -> date | None:
    """The day of a payment's ``received_at`` (an ISO timestamp or date), None when unreadable."""
    try:
        return date.fromisoformat(received_at[:10])
    except ValueError:
        return None


def _invoices_named(text: str, sellers: tuple[str, ...]) -> list[Invoice]:
    """The invoices a remittance text names: by their numbers written verbatim, or by the ``RF``
    creditor reference printed on them (ISO 11649, which encodes the invoice's id), found by
    GetItem on each number or reference it may hold (no scan)."""
    ids = [document_id(s, DocumentType.INVOICE, n) for s in sellers for n in candidate_numbers(text)[:100]]
    by_reference = (invoice_id_of(r) for r in find_references(text)[:100])
    ids += [i for i in by_reference if i is not None and i not in ids]
    return [h for h in store.get_heads(ids).values() if isinstance(h, Invoice) and h.seller_id in sellers]


def _apply_new_receipt(
    payment_id: str, receipt: Receipt, clock: Clock, sellers: tuple[str, ...]
) -> ReceiptOutcome:
    customer_id, targets, refused = _own_targets(receipt)
    named = (
        _invoices_named(receipt.reference, sellers)
        if receipt.reference and receipt.match_remittance and not targets and not refused
        else []
    )
    payers = {i.customer_id for i in named}
    if customer_id is None and len(payers) == 1:  # an unknown payer, identified by what it pays
        customer_id = payers.pop()
    open_invoices = _open_invoices(customer_id)
    candidates: tuple[Candidate, ...] = ()
    matched_by: str | None
    if refused:
        # What was meant for a refused target waits on the payer for a person, never guessed on.
        plan = plan_allocation(receipt.amount, targets, [], _holdbacks(receipt, targets))
        matched_by = "target" if plan.allocations else None
    elif targets:
        holdbacks = _holdbacks(receipt, targets)
        others = open_invoices if receipt.excess_to_others else []
        plan, matched_by = plan_allocation(receipt.amount, targets, others, holdbacks), "target"
    elif not receipt.match_remittance:
        plan, matched_by = AllocationPlan((), receipt.amount), None
    else:
        match = match_receipt(
            receipt.amount,
            receipt.reference or "",
            open_invoices,
            customer_known=customer_id is not None,
            named_ids=[i.invoice_id for i in named if i.customer_id == customer_id],
        )
        plan = match.plan or AllocationPlan((), receipt.amount)
        named_here = [i for i in named if i.customer_id == customer_id]
        if match.matched_by == "reference" and receipt.deductions and named_here:
            plan = plan_allocation(receipt.amount, named_here, open_invoices, _holdbacks(receipt, named_here))
        matched_by, candidates = match.matched_by, match.candidates
    if len(plan.allocations) > MAX_INVOICES_PER_RECEIPT:
        kept = plan.allocations[:MAX_INVOICES_PER_RECEIPT]
        dropped = plan.allocations[MAX_INVOICES_PER_RECEIPT:]
        plan = AllocationPlan(
            kept, plan.unapplied + sum((a for _, a in dropped), Money.zero(receipt.amount.currency))
        )

    now = iso_timestamp(clock.now())
    by_id = {i.invoice_id: i for i in (*targets, *open_invoices)}
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    consequences: list[Ended] = []  # the disputes the payment ends (`ended_by_payment`)
    extra: list[store.Write] = []
    settled: list[str] = []
    for invoice_id, part in plan.allocations:
        invoice = by_id[invoice_id]
        changed, used = apply_payment(invoice, part, received_day(receipt.received_at))
        if used != part:  # the invoice changed since it was read
            raise store.ConcurrentChangeError(f"invoice {invoice.number} changed")
        changed.version, changed.updated_at = invoice.version + 1, now
        processing = changed.dunning.processing
        if processing is not None and processing.payment_intent == receipt.external_id:
            changed = replace(changed, dunning=replace(changed.dunning, processing=None))  # it arrived
        if changed.status is InvoiceStatus.PAID:
            settled.append(invoice_id)
        event = _invoice_event(changed, invoice, "PaymentApplied", payment_id, part, now, receipt.lettering)
        changes.append((changed, event))
        consequences.append(ended_by_payment(invoice, changed, payment_id, now, "payments"))
        allocation_id = f"alloc_{payment_id}_{invoice_id}"
        extra.append(
            store.allocation(
                Allocation(allocation_id, "payment", payment_id, invoice_id, part, now, receipt.lettering)
            )
        )
    payment = Payment(
        payment_id=payment_id,
        customer_id=customer_id,
        amount=receipt.amount,
        received_at=receipt.received_at,
        method=receipt.method,
        reference=receipt.reference,
        unapplied=plan.unapplied,
        refunded=Money.zero(receipt.amount.currency),
        allocations=plan.allocations,
        matched_by=matched_by,
        version=1,
    )
    received = AuditEvent(
        payment_id,
        1,
        "PaymentReceived",
        now,
        receipt.source,
        {
            "payment_id": payment_id,
            "source": receipt.source,
            "external_id": receipt.external_id,
            "customer_id": customer_id,
            "amount": receipt.amount.to_decimal_string(),
            "currency": receipt.amount.currency,
            "method": receipt.method,
            "matched_by": matched_by,
            "allocations": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in plan.allocations],
            "unapplied": plan.unapplied.to_decimal_string(),
            **({"lettering": receipt.lettering} if receipt.lettering and plan.allocations else {}),
            **({"refused_targets": [{"invoice_id": i, "reason": r} for i, r in refused]} if refused else {}),
        },
    )
    store.apply_changes_with(
        changes,
        creations=[store.Creation.payment(payment, received)],
        writes=extra,
        consequences=consequences,
    )
    return ReceiptOutcome(payment, duplicate=False, settled=tuple(settled), candidates=candidates)


def _own_targets(receipt: Receipt) -> tuple[str | None, list[Invoice], list[tuple[str, str]]]:
    """The payer, the targets it may pay, and the targets refused with why. The payer is the
    receipt's customer (when the ledger knows it), else the customer of the first target; a
    target of any other customer, or one the ledger does not hold, is refused."""
    refused: list[tuple[str, str]] = []
    customer_id = receipt.customer_id
    if customer_id is not None and store.get_customer(customer_id) is None:
        refused += [
            (t, f"the payer {customer_id} is not a customer of the ledger")
            for t in receipt.target_invoice_ids
        ]
        return None, [], refused
    targets: list[Invoice] = []
    for target in receipt.target_invoice_ids:
        invoice = store.get_invoice(target)
        if invoice is None:
            refused.append((target, "no such invoice"))
            continue
        customer_id = customer_id or invoice.customer_id
        if invoice.customer_id != customer_id:
            refused.append((target, f"an invoice of {invoice.customer_id}, not of the payer {customer_id}"))
        else:
            targets.append(invoice)
    return customer_id, targets, refused


def _holdbacks(receipt: Receipt, invoices: list[Invoice]) -> dict[str, Money]:
    """What the remittance says is deducted from each invoice it names, by invoice id."""
    by_number = {i.number: i for i in invoices}
    held: dict[str, Money] = {}
    for line in receipt.deductions:
        invoice = by_number.get((line.invoice or "").strip())
        if invoice is not None and line.amount is not None and line.amount.currency == invoice.currency:
            held[invoice.invoice_id] = (
                held.get(invoice.invoice_id, Money.zero(invoice.currency)) + line.amount
            )
    return held


def _invoice_event(
    changed: Invoice,
    before: Invoice,
    kind: str,
    payment_id: str,
    amount: Money,
    at: str,
    lettering: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        changed.invoice_id,
        changed.version,
        kind,
        at,
        "payments",
        {
            "invoice_id": changed.invoice_id,
            "number": changed.number,
            "customer_id": changed.customer_id,
            "payment_id": payment_id,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "balance": changed.balance.to_decimal_string(),
            "status_from": before.status.value,
            "status_to": changed.status.value,
            # Dunning listens for this: a settled invoice ends its dunning.
            "settled": changed.status is InvoiceStatus.PAID,
            **({"lettering": lettering} if lettering else {}),
        },
    )


def refund_to(source: str, external_id: str, total_refunded: Money, clock: Clock) -> Payment:
    """Bring the ledger's refunds of a payment up to ``total_refunded`` (the source's cumulative
    figure, e.g. a charge's ``amount_refunded``): the unused part is taken first, then
    allocations newest first, and each invoice it touches reopens. Nothing happens when the
    ledger already shows as much refunded."""
    payment_id = payment_id_for(source, external_id)
    for _ in range(MAX_ATTEMPTS):
        payment = store.get_payment(payment_id)
        if payment is None:
            raise UnknownPaymentError(f"no payment {external_id} from {source} in the ledger")
        if total_refunded.currency != payment.amount.currency:
            raise PaymentError(
                f"a refund in {total_refunded.currency} of payment {external_id} in {payment.amount.currency}"
            )
        delta = total_refunded - payment.refunded
        if delta.minor <= 0:
            return payment
        if delta.minor > (payment.unapplied + payment.allocated).minor:
            raise PaymentError(f"{total_refunded} refunded is more than payment {external_id} holds")
        try:
            return apply_refund(payment, delta, clock)
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"refund of {external_id}: too much contention, try again")


def apply_refund(
    payment: Payment,
    amount: Money,
    clock: Clock,
    kind: str = "PaymentRefunded",
    once: str | None = None,
    reason: str | None = None,
) -> Payment:
    """Take ``amount`` of ``payment`` back (a refund, a chargeback lost, a bank's return): from
    what waits unapplied first, then off the invoices it paid, which are owed again; ``once``
    names a marker that makes it happen once only, ``reason`` (a return's reason) goes on the
    payment's and the invoices' events. One transaction."""
    because = {"reason": reason} if reason else {}
    now = iso_timestamp(clock.now())
    plan = plan_refund(amount, payment.unapplied, payment.allocations)
    remaining = dict(payment.allocations)
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    extra: list[store.Write] = []
    for invoice_id, part in plan.reversals:
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            raise PaymentError(f"invoice {invoice_id} of payment {payment.payment_id} is missing")
        changed = reverse_payment(invoice, part)
        changed.version, changed.updated_at = invoice.version + 1, now
        reversed_event = _invoice_event(changed, invoice, "PaymentReversed", payment.payment_id, part, now)
        changes.append((changed, replace(reversed_event, data={**reversed_event.data, **because})))
        remaining[invoice_id] = remaining[invoice_id] - part
        # The lettering history keeps the reversal as a negative allocation of this refund.
        reversal_id = f"{payment.payment_id}#{payment.version}"
        extra.append(
            store.allocation(Allocation(f"rev_{reversal_id}", "refund", reversal_id, invoice_id, -part, now))
        )
    refunded = replace(
        payment,
        unapplied=payment.unapplied - plan.from_unapplied,
        refunded=payment.refunded + amount,
        allocations=tuple((i, remaining[i]) for i, _ in payment.allocations if not remaining[i].is_zero()),
        version=payment.version + 1,
    )
    event = AuditEvent(
        payment.payment_id,
        refunded.version,
        kind,
        now,
        "payments",
        {
            "payment_id": payment.payment_id,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "refunded_total": refunded.refunded.to_decimal_string(),
            "reversed": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in plan.reversals],
            **because,
        },
    )
    if once is not None:
        extra.append(store.marker(store.payment_pk(payment.payment_id), once, now))
    store.apply_changes([*changes, (refunded, event)], writes=extra)
    return refunded


def invoices_paid_by(payment_id: str) -> list[str]:
    """The invoices a payment paid at some time (its audit trail), including reversed ones."""
    found: list[str] = []
    for event in store.audit_events(store.payment_pk(payment_id)):
        found.extend(str(a["invoice_id"]) for a in event.data.get("allocations", []))
        found.extend(str(r["invoice_id"]) for r in event.data.get("reversed", []))
    return found


@dataclass(frozen=True, slots=True)
class CreditApplied:
    """Part of a payment's unused money (the customer's credit) applied to an invoice."""

    payment_id: str
    invoice_id: str
    amount: Money


def apply_customer_credit(customer_id: str, clock: Clock) -> list[CreditApplied]:
    """Apply the customer's credit (what their payments have left unused, an overpayment say) to
    their open invoices, oldest payment to oldest invoice first. Running it again after it did
    everything changes nothing: the ledger, not the event that triggered it, says what is left."""

    applied: list[CreditApplied] = []
    for payment in store.customer_payments(customer_id):
        if payment.unapplied.minor <= 0:
            continue
        for _ in range(MAX_ATTEMPTS):
            fresh = store.get_payment(payment.payment_id)
            if fresh is None or fresh.unapplied.minor <= 0:
                break
            collectible = [i for i in _open_invoices(customer_id) if i.status in COLLECTIBLE]
            plan = plan_allocation(fresh.unapplied, [], collectible)
            if not plan.allocations:
                break
            try:
                applied.extend(_apply_credit_plan(fresh, plan, collectible, clock))
                break
            except store.ConcurrentChangeError:
                continue
    return applied


def apply_payment_to_invoice(payment_id: str, invoice_id: str, clock: Clock) -> Money:
    """Apply what ``payment_id`` has unapplied to ``invoice_id`` (a dispute found the customer
    had paid it); returns the amount applied (zero if there was nothing to apply)."""
    for _ in range(MAX_ATTEMPTS):
        payment = store.get_payment(payment_id)
        invoice = store.get_invoice(invoice_id)
        if payment is None or invoice is None or payment.unapplied.minor <= 0:
            return Money.zero(invoice.currency if invoice else "EUR")
        if payment.customer_id != invoice.customer_id or payment.unapplied.currency != invoice.currency:
            raise LedgerError(f"payment {payment_id} cannot pay invoice {invoice.number}")
        part = min(payment.unapplied, invoice.balance)
        if part.minor <= 0:
            return Money.zero(invoice.currency)
        plan = AllocationPlan(allocations=((invoice_id, part),), unapplied=payment.unapplied - part)
        try:
            _apply_credit_plan(payment, plan, [invoice], clock)
        except store.ConcurrentChangeError:
            continue
        return part
    raise store.StoreError(f"payment {payment_id}: too much contention, try again")


def _apply_credit_plan(
    payment: Payment, plan: AllocationPlan, invoices: list[Invoice], clock: Clock
) -> list[CreditApplied]:
    now = iso_timestamp(clock.now())
    by_id = {i.invoice_id: i for i in invoices}
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    consequences: list[Ended] = []  # the disputes the payment ends (`ended_by_payment`)
    extra: list[store.Write] = []
    allocations = dict(payment.allocations)
    done: list[CreditApplied] = []
    for invoice_id, part in plan.allocations[:MAX_INVOICES_PER_RECEIPT]:
        invoice = by_id[invoice_id]
        changed, used = apply_payment(invoice, part, received_day(payment.received_at))
        if used != part:
            raise store.ConcurrentChangeError(f"invoice {invoice.number} changed")
        changed.version, changed.updated_at = invoice.version + 1, now
        changes.append(
            (changed, _invoice_event(changed, invoice, "PaymentApplied", payment.payment_id, part, now))
        )
        consequences.append(ended_by_payment(invoice, changed, payment.payment_id, now, "payments"))
        extra.append(
            store.allocation(
                Allocation(
                    f"alloc_{payment.payment_id}_{invoice_id}_{payment.version}",
                    "payment",
                    payment.payment_id,
                    invoice_id,
                    part,
                    now,
                )
            )
        )
        allocations[invoice_id] = allocations.get(invoice_id, Money.zero(part.currency)) + part
        done.append(CreditApplied(payment.payment_id, invoice_id, part))
    used_total = sum((c.amount for c in done), Money.zero(payment.amount.currency))
    changed_payment = replace(
        payment,
        unapplied=payment.unapplied - used_total,
        allocations=tuple(allocations.items()),
        version=payment.version + 1,
    )
    event = AuditEvent(
        payment.payment_id,
        changed_payment.version,
        "PaymentCreditApplied",
        now,
        "payments",
        {
            "payment_id": payment.payment_id,
            "customer_id": payment.customer_id,
            "allocations": [
                {"invoice_id": c.invoice_id, "amount": c.amount.to_decimal_string()} for c in done
            ],
            "currency": payment.amount.currency,
            "unapplied": changed_payment.unapplied.to_decimal_string(),
        },
    )
    store.apply_changes_with([*changes, (changed_payment, event)], writes=extra, consequences=consequences)
    return done


def reallocate(
    payment_id: str,
    targets: Mapping[str, Money],
    clock: Clock,
    *,
    actor: str,
    expected_version: int | None = None,
    lettering: str | None = None,
    unlettered: str | None = None,
    customer_id: str | None = None,
) -> tuple[Payment, bool]:
    """Move a payment's money so that it pays exactly ``targets`` (invoice id to amount; an
    invoice it paid that is left out gets its part back), what is left waiting as unapplied.
    ``lettering`` is the code of the new matched set (a bank line lettered by hand), on its
    allocations and events; ``unlettered`` the code of the set this undoes; ``customer_id``
    whose account the payment is on (a receipt from an unknown payer put on account by hand).

    Finance's correction of a wrong match, or the allocation of a payment from the unapplied
    queue (which then takes the invoices' customer). The targets are the end state, so sending
    them again changes nothing: returns the payment and whether it changed. Raises `LedgerError`
    for what cannot be (other customer or currency, more than the payment holds, more than an
    invoice owes, a stale ``expected_version``) and `UnknownPaymentError`.
    """
    for _ in range(MAX_ATTEMPTS):
        payment = store.get_payment(payment_id)
        if payment is None:
            raise UnknownPaymentError(f"no payment {payment_id} in the ledger")
        if expected_version is not None and payment.version != expected_version:
            raise LedgerError(
                f"payment {payment_id} is at version {payment.version}, not {expected_version}: read it again"
            )
        try:
            return _reallocate(payment, targets, clock, actor, (lettering, unlettered), customer_id)
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"payment {payment_id}: too much contention, try again")


def _reallocate(
    payment: Payment,
    targets: Mapping[str, Money],
    clock: Clock,
    actor: str,
    codes: tuple[str | None, str | None] = (None, None),
    account: str | None = None,
) -> tuple[Payment, bool]:
    lettering, unlettered = codes
    if account is not None and payment.customer_id not in (None, account):
        raise LedgerError(f"payment {payment.payment_id} is on the account of another customer")
    currency = payment.amount.currency
    zero = Money.zero(currency)
    if any(a.currency != currency or a.minor < 0 for a in targets.values()):
        raise LedgerError(f"each amount must be zero or more {currency}, the payment's currency")
    wanted = {i: a for i, a in targets.items() if a.minor > 0}
    total = sum(wanted.values(), zero)
    holds = payment.amount - payment.refunded
    if total > holds:
        raise LedgerError(f"the allocations add up to {total}; payment {payment.payment_id} holds {holds}")
    current = dict(payment.allocations)
    deltas = {
        i: wanted.get(i, zero) - current.get(i, zero)
        for i in {*current, *wanted}
        if wanted.get(i, zero) != current.get(i, zero)
    }
    invoices = store.get_heads(list(deltas))
    missing = sorted(set(deltas) - {i for i, h in invoices.items() if isinstance(h, Invoice)})
    if missing:
        raise LedgerError(f"no invoice {', '.join(missing)}")
    customers = {h.customer_id for i, h in invoices.items() if i in wanted and isinstance(h, Invoice)}
    customer_id = payment.customer_id or account or (customers.pop() if len(customers) == 1 else None)
    if customers - {customer_id} or (wanted and customer_id is None):
        raise LedgerError(f"payment {payment.payment_id} can pay the invoices of one customer only")
    if len(deltas) > MAX_INVOICES_PER_RECEIPT:
        raise LedgerError(f"a re-allocation changes at most {MAX_INVOICES_PER_RECEIPT} invoices at once")
    if not deltas and customer_id == payment.customer_id:
        return payment, False

    now = iso_timestamp(clock.now())
    version = payment.version + 1
    changes: list[tuple[Invoice | Payment, AuditEvent]] = []
    consequences: list[Ended] = []  # the disputes the payment ends (`ended_by_payment`)
    extra: list[store.Write] = []
    for invoice_id, delta in sorted(deltas.items()):
        invoice = invoices[invoice_id]
        assert isinstance(invoice, Invoice)
        if delta.minor > 0:
            changed, used = apply_payment(invoice, delta, received_day(payment.received_at))
            if used != delta:
                raise LedgerError(f"invoice {invoice.number} can take {used} of this payment, not {delta}")
            kind = "PaymentApplied"
        else:
            changed, kind = reverse_payment(invoice, -delta), "PaymentReversed"
        changed.version, changed.updated_at = invoice.version + 1, now
        code = lettering if delta.minor > 0 else None
        amount = delta if delta.minor > 0 else -delta
        changes.append(
            (changed, _invoice_event(changed, invoice, kind, payment.payment_id, amount, now, code))
        )
        consequences.append(ended_by_payment(invoice, changed, payment.payment_id, now, actor))
        source = f"{payment.payment_id}#{version}"
        extra.append(
            store.allocation(
                Allocation(f"realloc_{source}", "reallocation", source, invoice_id, delta, now, code)
            )
        )
    order = [i for i, _ in payment.allocations if i in wanted] + [i for i in wanted if i not in current]
    moved = replace(
        payment,
        customer_id=customer_id,
        allocations=tuple((i, wanted[i]) for i in order),
        unapplied=holds - total,
        matched_by="finance",
        version=version,
    )
    event = AuditEvent(
        payment.payment_id,
        version,
        "PaymentReallocated",
        now,
        actor,
        {
            "payment_id": payment.payment_id,
            "customer_id": customer_id,
            "currency": currency,
            "before": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in payment.allocations],
            "allocations": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in moved.allocations],
            "unapplied": moved.unapplied.to_decimal_string(),
            **({"lettering": lettering} if lettering else {}),
            **({"unlettered": unlettered} if unlettered else {}),
        },
    )
    store.apply_changes_with([*changes, (moved, event)], writes=extra, consequences=consequences)
    return moved, True
