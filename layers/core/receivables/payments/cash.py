"""Cash application ("lettering"): which invoices a receipt pays, and how a refund undoes it.

Pure functions over plain objects; `receivables.ledger.rules` changes the invoices, the store writes
them. The rules:

- A payment is allocated to its target invoices in order, each up to its balance (exact and
  partial payments). What is left (an overpayment) is the customer's credit: it pays the
  customer's other open invoices, oldest due first, and what remains after that waits for the
  next invoice.
- A refund first takes back what the payment has not been allocated to (it was never used), then
  reverses allocations, newest first, so the invoice paid last reopens first.
- A receipt without a machine-readable target (a bank transfer, a cheque) is matched from its
  remittance text and amount: the invoice numbers it mentions, else an open invoice of exactly
  that amount. Anything less certain is left unapplied with its candidates ranked for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.kernel.money import Money, sum_money
from receivables.ledger.model import InvoiceStatus
from receivables.ledger.rules import COLLECTIBLE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from receivables.ledger.model import Invoice


# A payment may go to an invoice that is collectible or in dispute (paying a disputed invoice
# is the customer's choice); never to a paid, credited, written-off or void one.
PAYABLE = COLLECTIBLE | {InvoiceStatus.DISPUTED}


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """How much of a receipt goes to which invoice, and what is left over."""

    allocations: tuple[tuple[str, Money], ...]
    unapplied: Money

    @property
    def allocated(self) -> Money:
        """The part of the receipt that invoices absorb."""
        return sum_money((amount for _, amount in self.allocations), self.unapplied.currency)


def oldest_first(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Collectible invoices (open, partially paid), oldest due first: the order credit pays them."""
    return sorted(
        (i for i in invoices if i.status in COLLECTIBLE and i.balance.minor > 0),
        key=lambda i: (i.due_date, i.issue_date, i.number),
    )


def plan_allocation(
    amount: Money,
    targets: Sequence[Invoice],
    others: Iterable[Invoice] = (),
    holdbacks: Mapping[str, Money] | None = None,
) -> AllocationPlan:
    """Allocate ``amount`` to ``targets`` in order, then what is left to ``others`` oldest first.

    Each invoice takes at most its balance; an invoice in another currency takes nothing. A
    target with a ``holdback`` (what the remittance says the customer deducts from it) first takes
    at most its balance less that; only money left after every target has taken its part fills
    the holdbacks, before any other invoice.

    >>> plan = plan_allocation(Money(150, "EUR"), [])
    >>> plan.unapplied
    Money(minor=150, currency='EUR')
    """
    if amount.minor < 0:
        raise ValueError("a receipt is never negative")
    held = holdbacks or {}
    left = amount
    taken: dict[str, Money] = {}
    target_ids = {t.invoice_id for t in targets}
    payable = [
        i
        for i in [*targets, *(i for i in oldest_first(others) if i.invoice_id not in target_ids)]
        if i.currency == amount.currency and i.balance.minor > 0 and i.status in PAYABLE
    ]
    rounds = [(i, held.get(i.invoice_id)) for i in payable if i.invoice_id in target_ids and held]
    rounds += [(i, None) for i in payable]
    for invoice, holdback in rounds:
        if left.is_zero():
            break
        room = invoice.balance - taken.get(invoice.invoice_id, Money.zero(amount.currency))
        if holdback is not None:
            room = room - min(holdback, room)
        used = min(left, room)
        if used.minor > 0:
            taken[invoice.invoice_id] = taken.get(invoice.invoice_id, Money.zero(amount.currency)) + used
            left = left - used
    return AllocationPlan(tuple(taken.items()), left)


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What a refund takes back: first from the unallocated part, then allocations newest first."""

    from_unapplied: Money
    reversals: tuple[tuple[str, Money], ...]


def plan_refund(amount: Money, unapplied: Money, allocations: Sequence[tuple[str, Money]]) -> RefundPlan:
    """Plan a refund of ``amount`` against a payment with ``unapplied`` left and ``allocations``
    (oldest first). Refunding more than the payment holds is refused."""
    held = unapplied + sum_money((a for _, a in allocations), amount.currency)
    if amount.minor <= 0 or amount > held:
        raise ValueError(f"cannot refund {amount}: the payment holds {held}")
    from_unapplied = min(amount, unapplied)
    left = amount - from_unapplied
    reversals: list[tuple[str, Money]] = []
    for invoice_id, allocated in reversed(allocations):
        if left.is_zero():
            break
        taken = min(left, allocated)
        reversals.append((invoice_id, taken))
        left = left - taken
    return RefundPlan(from_unapplied, tuple(reversals))


# --- matching a receipt from its remittance text ---------------------------------------------
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _normalise(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def mentioned_invoices(remittance: str, invoices: Iterable[Invoice]) -> list[Invoice]:
    """The invoices whose number the remittance text names, however it spaces or punctuates it
    ("INV 2026/1001" names INV-2026-1001). Numbers too short to be told from other figures (fewer
    than four characters, or no digit) are not searched for."""
    text = _normalise(remittance)
    found = []
    for invoice in invoices:
        number = _normalise(invoice.number)
        if len(number) >= 4 and any(c.isdigit() for c in number) and number in text:
            found.append(invoice)
    return found


_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-/.]*[0-9A-Za-z]|[0-9A-Za-z]")


def candidate_numbers(remittance: str, *, max_words: int = 3) -> list[str]:
    """Invoice numbers a remittance text may contain, for looking them up when the payer is not
    known: every run of up to ``max_words`` words that holds a digit, joined as written and with
    a dash, and in capitals ("Inv P 2" gives "P-2", "P2", "Inv-P-2", "INV-P-2"…).

    >>> candidate_numbers("paid INV-2026-1001")
    ['INV-2026-1001']
    """
    words = _TOKEN.findall(remittance)
    found: dict[str, None] = {}
    for start in range(len(words)):
        for size in range(1, max_words + 1):
            run = words[start : start + size]
            if len(run) < size or not any(c.isdigit() for c in "".join(run)):
                continue
            for joiner in ("-", "", " ", "/"):
                number = joiner.join(run)
                found.setdefault(number, None)
                # Banks often write remittance text in capitals or in small letters.
                found.setdefault(number.upper(), None)
    return [number for number in found if len(_normalise(number)) >= 2]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An invoice a person might apply an unmatched receipt to, with why it is suggested."""

    invoice_id: str
    number: str
    balance: Money
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of matching one receipt: a plan when it is certain, candidates when not."""

    plan: AllocationPlan | None
    matched_by: str | None  # "reference", "amount", or None (left for a person)
    candidates: tuple[Candidate, ...]


def match_receipt(
    amount: Money,
    remittance: str,
    open_invoices: Sequence[Invoice],
    *,
    customer_known: bool,
    named_ids: Iterable[str] = (),
) -> Match:
    """Match a bank transfer or cheque to ``open_invoices`` (the customer's, when it is known).

    Certain matches are applied: the invoices the remittance names (any excess goes on to the
    customer's other open invoices, oldest first), or, without a reference and for a known
    customer, the one open invoice of exactly that amount. ``named_ids`` are invoices the caller
    found by looking up the numbers in the text (see `candidate_numbers`): certain, however short.
    Anything else is left unapplied, with every same-currency invoice ranked for a person: same
    amount (+30), same customer (+10), then oldest due first.
    """
    same_currency = [i for i in oldest_first(open_invoices) if i.currency == amount.currency]
    looked_up = set(named_ids)  # numbers found verbatim by lookup: certain, however short
    named = [i for i in same_currency if i.invoice_id in looked_up] or mentioned_invoices(
        remittance, same_currency
    )
    if named:
        return Match(plan_allocation(amount, named, same_currency if customer_known else ()), "reference", ())
    exact = [i for i in same_currency if i.balance == amount]
    if customer_known and len(exact) == 1:
        return Match(plan_allocation(amount, exact), "amount", ())
    candidates = []
    for invoice in same_currency:
        reasons: list[str] = []
        score = 0
        if invoice.balance == amount:
            score, reasons = score + 30, [*reasons, "same amount"]
        if customer_known:
            score, reasons = score + 10, [*reasons, "same customer"]
        candidates.append(
            Candidate(invoice.invoice_id, invoice.number, invoice.balance, score, tuple(reasons))
        )
    ranked = sorted(candidates, key=lambda c: -c.score)  # stable: oldest due first among equals
    return Match(None, None, tuple(ranked))
