"""What a bank line's document says of it and how its payer is known: the statuses a line has
(``lettered``, waiting for ``review``, a ``duplicate`` of a line imported before, a ``debit``
listed only, a ``returned`` transfer, ``ignored`` by finance, put ``on_account`` of a
customer by hand) and the customer identifier that
finds a customer by the IBAN it paid from. Light on purpose: the review queue and the dashboard
read lines without loading the readers or the matching."""

from __future__ import annotations

from receivables.ledger.model import PartyId

LETTERED, REVIEW, DUPLICATE, DEBIT, RETURNED, IGNORED, ON_ACCOUNT = (
    "lettered",
    "review",
    "duplicate",
    "debit",
    "returned",
    "ignored",
    "on_account",
)
IBAN_SCHEME = "iban"


def iban_key(iban: str) -> str:
    """An IBAN as looked up: capitals, no spaces."""
    return "".join(iban.split()).upper()


def iban_identifier(iban: str) -> PartyId:
    """The customer identifier that finds a customer by a payer IBAN it paid from."""
    return PartyId(IBAN_SCHEME, iban_key(iban))
