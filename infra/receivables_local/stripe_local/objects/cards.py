"""Stripe's test cards: the payment form's checks (`read_card`) and what the issuer does with each
number (declines, disputes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from receivables_local.stripe_local.bank import fingerprint

if TYPE_CHECKING:
    from receivables_local.stripe_local.bank import BankAccount


@dataclass(frozen=True, slots=True)
class Decline:
    """How the issuer refuses a test card: the error and the charge's outcome."""

    code: str
    decline_code: str
    message: str


GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")
TEST_DECLINES: dict[str, Decline] = {
    "4000000000000002": GENERIC_DECLINE,
    "4000000000009995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": Decline("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": Decline("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}

# Cards that can be saved (a SetupIntent succeeds) but whose every charge is declined.
TEST_CHARGE_DECLINES: dict[str, Decline] = {"4000000000000341": GENERIC_DECLINE}
TEST_DISPUTES: dict[str, str] = {"4000000000000259": "fraudulent"}


class CardInputError(ValueError):
    """Card details the payment form refuses before anything is charged (Stripe.js's messages)."""


@dataclass(frozen=True, slots=True)
class Card:
    """Card details from the payment form, checked."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    kind: ClassVar[str] = "card"

    @property
    def last4(self) -> str:
        """The last four digits."""
        return self.number[-4:]

    @property
    def brand(self) -> str:
        """The network, from the number's prefix."""
        return card_brand(self.number)

    @property
    def decline(self) -> Decline | None:
        """How the issuer declines a charge of this card, or None when it pays."""
        return TEST_DECLINES.get(self.number) or TEST_CHARGE_DECLINES.get(self.number)

    @property
    def setup_decline(self) -> Decline | None:
        """How the issuer refuses to let this card be saved (a SetupIntent), or None."""
        return TEST_DECLINES.get(self.number)

    @property
    def dispute_reason(self) -> str | None:
        """The reason of the dispute that follows a payment with this card, if any."""
        return TEST_DISPUTES.get(self.number)

    def payment_method_details(self) -> dict[str, Any]:
        """The ``card`` hash of the PaymentMethod."""
        return {
            "brand": self.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "display_brand": self.brand,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": fingerprint("card", self.number),
            "funding": "credit",
            "generated_from": None,
            "last4": self.last4,
            "networks": {"available": [self.brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }

    def charge_details(self, mandate: str | None) -> dict[str, Any]:
        """The ``card`` hash of a Charge's ``payment_method_details`` (cards have no mandate)."""
        return {
            "brand": self.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": fingerprint("card", self.number),
            "funding": "credit",
            "last4": self.last4,
            "network": self.brand,
        }


Instrument: TypeAlias = "Card | BankAccount"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a card number."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(number: str) -> str:
    """Stripe's brand name for a card number: visa, mastercard, amex, discover, jcb, diners, unionpay."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3] or 0) <= 649:
        return "discover"
    if number.startswith("35"):
        return "jcb"
    if number.startswith(("36", "38", "39", "300", "301", "302", "303", "304", "305")):
        return "diners"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


def read_card(number: str, exp: str, cvc: str, now: float) -> Card:
    """Check the form's card number (spaces ignored), expiry ``MM/YY`` (or ``MM/YYYY``, not past
    at ``now``) and CVC (3 or 4 digits); `CardInputError` says what is wrong."""
    digits = number.replace(" ", "")
    if not digits:
        raise CardInputError("Your card number is incomplete.")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        raise CardInputError("Your card number is invalid.")
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", exp)
    if match is None:
        raise CardInputError("Your card's expiration date is incomplete.")
    month, year = int(match.group(1)), int(match.group(2))
    if len(match.group(2)) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise CardInputError("Your card's expiration date is invalid.")
    today = datetime.fromtimestamp(now, UTC)
    if year < today.year:
        raise CardInputError("Your card's expiration year is in the past.")
    if (year, month) < (today.year, today.month):
        raise CardInputError("Your card's expiration date is in the past.")
    if year > today.year + 50:
        raise CardInputError("Your card's expiration year is invalid.")
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        raise CardInputError("Your card's security code is incomplete.")
    return Card(digits, month, year, cvc.strip())
