"""What a bank line's document says of it and how its payer is known: the statuses a line has
(``lettered``, waiting for ``review``, a ``duplicate`` of a line imported before, a ``debit``
listed only, a ``returned`` transfer, ``ignored`` by finance, put ``on_account`` of a
customer by hand, a Stripe ``payout`` reconciled against its balance transactions or
``payout_pending``, waiting for the payout's webhook), how a statement counts its lines
(`count_lines`) and the customer identifier that finds a customer by the IBAN it paid from.
Light on purpose: the review queue and the dashboard read lines without loading the readers or
the matching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import PartyId

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

LETTERED, REVIEW, DUPLICATE, DEBIT, RETURNED, IGNORED, ON_ACCOUNT = (
    "lettered",
    "review",
    "duplicate",
    "debit",
    "returned",
    "ignored",
    "on_account",
)
PAYOUT, PAYOUT_PENDING = "payout", "payout_pending"
IBAN_SCHEME = "iban"


def iban_key(iban: str) -> str:
    """An IBAN as looked up: capitals, no spaces."""
    return "".join(iban.split()).upper()


def iban_identifier(iban: str) -> PartyId:
    """The customer identifier that finds a customer by a payer IBAN it paid from."""
    return PartyId(IBAN_SCHEME, iban_key(iban))


def count_lines(lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A statement's counts of its lines (as their documents say): ``lines``, how many by
    status, the lettered ones by rule, and for its Stripe payouts (``payouts``) how many and
    their gross, fees and net, each a decimal string in the statement's currency."""
    by_status: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    total = 0
    payouts: dict[str, Money] = {}
    reconciled = 0
    for line in lines:
        total += 1
        status = str(line["status"])
        by_status[status] = by_status.get(status, 0) + 1
        if status == LETTERED and line.get("rule"):
            by_rule[str(line["rule"])] = by_rule.get(str(line["rule"]), 0) + 1
        payout = line.get("payout")
        if status == PAYOUT and payout:
            reconciled += 1
            currency = str(line["currency"])
            for part in ("gross", "fees", "net"):
                amount = Money.parse(str(payout[part]), currency)
                payouts[part] = payouts[part] + amount if part in payouts else amount
    counts: dict[str, Any] = {"lines": total, **by_status, "lettered_by_rule": by_rule}
    if reconciled:
        counts["payouts"] = {
            "lines": reconciled,
            **{part: amount.to_decimal_string() for part, amount in payouts.items()},
        }
    return counts
