"""Returned transfers: a debit line that gives back a customer's earlier credit (a SEPA return
with its reason code, ``AC04`` closed account, ``MD06`` refund requested…, or a reversal) finds
that credit and takes its money back off the invoices it paid, which are owed again with the
reason on their events.

The original is found by the EndToEndId the return repeats, else as the one earlier credit from
the same payer IBAN for exactly this amount that still holds the money. When neither is certain
the return waits for a person, with the credits it may return (`return_line`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from receivables.banking.lines import iban_key
from receivables.payments.allocation import apply_refund
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.banking.statement import Entry
    from receivables.kernel.clock import Clock
    from receivables.kernel.money import Money
    from receivables.ledger.model import Payment

# SEPA lets a payer's bank take a transfer back for up to 13 months (an unauthorised debit)
RETURN_WINDOW = timedelta(days=400)
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Original:
    """What the search for a return's original found: the credit line's document when it is
    certain, else the credits it may be (possibly none), and how, in words."""

    original: dict[str, Any] | None
    basis: str
    candidates: tuple[dict[str, Any], ...] = ()


def original_of(entry: Entry, account: str) -> Original:
    """The credit line the return ``entry`` gives back, on our ``account``."""
    e2e = entry.remittance.end_to_end_id
    if e2e:
        pointer = store.get_document(store.bank_line_by_end_to_end_pk(account, e2e))
        found = store.get_document(store.bank_line_pk(str(pointer[0]["line_id"]))) if pointer else None
        if found is not None:
            return Original(found[0], f"its EndToEndId {e2e}")
    iban = entry.counterparty.iban
    if not iban:
        return Original(None, "a return naming neither a known EndToEndId nor the payer's IBAN")
    held = credits_still_held(entry, account, iban_key(iban))
    if len(held) == 1:
        return Original(
            held[0], f"the payer's IBAN and the amount (the one credit of {entry.amount} from it)"
        )
    if not held:
        return Original(None, f"a return: no earlier credit of {entry.amount} from {iban_key(iban)} holds it")
    return Original(
        None,
        f"a return of one of {len(held)} credits of {entry.amount} from the same IBAN: say which",
        tuple(held[:MAX_CANDIDATES]),
    )


def credits_still_held(entry: Entry, account: str, iban: str) -> list[dict[str, Any]]:
    """The credit lines from ``iban`` of exactly the return's amount, booked within
    `RETURN_WINDOW` before it, whose receipt still holds that amount; the latest first."""
    listing = store.payer_amount_listing(account, iban, entry.amount.currency, entry.amount.minor)
    since = (entry.booking_date - RETURN_WINDOW).isoformat()
    held: list[dict[str, Any]] = []
    for pointer, _ in reversed(store.listed_documents(listing, None, since)):
        if pointer["booking_date"] > entry.booking_date.isoformat():
            continue
        found = store.get_document(store.bank_line_pk(str(pointer["line_id"])))
        if found is not None and _holds(found[0], entry.amount):
            held.append(found[0])
    return held


def _holds(credit: dict[str, Any], amount: Money) -> bool:
    payment = store.get_payment(str(credit.get("payment_id")))
    return (
        payment is not None
        and payment.amount.currency == amount.currency
        and payment.unapplied + payment.allocated >= amount
    )


def take_back(
    credit: dict[str, Any], amount: Money, line_id: str, reason: str, clock: Clock
) -> Payment | None:
    """Take ``amount`` (at most what it still holds) back off the receipt of the credit line
    ``credit``, once per return line ``line_id``: its invoices are owed again, ``reason`` on
    their events. The receipt as it is after, or None when the ledger has no such receipt."""
    payment = store.get_payment(str(credit.get("payment_id")))
    if payment is None or payment.amount.currency != amount.currency:
        return None
    taken = min(amount, payment.unapplied + payment.allocated)
    once = f"returned#{line_id}"
    if taken.minor > 0 and not store.marker_exists(store.payment_pk(payment.payment_id), once):
        apply_refund(payment, taken, clock, kind="PaymentReturned", once=once, reason=reason)
    return payment


def evidence(credit: dict[str, Any], basis: str, reason: str) -> str:
    """The words on a return's line: which credit it gives back, how it was found, and why."""
    return f"returns bank line {credit['line_id']}, found by {basis} ({reason}): its invoices are owed again"


def candidate_json(credit: dict[str, Any]) -> dict[str, Any]:
    """A credit a waiting return may give back, as the review queue shows it."""
    return {
        "rule": "return",
        "line_id": credit["line_id"],
        "booking_date": credit.get("booking_date"),
        "amount": credit.get("amount"),
        "payment_id": credit.get("payment_id"),
        "customer_id": credit.get("customer_id"),
        "invoices": credit.get("invoices", []),
        "evidence": f"a credit of {credit.get('amount')} {credit.get('currency')} from the same IBAN",
    }
