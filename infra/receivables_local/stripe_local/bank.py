"""Bank accounts for the debit payment methods: SEPA Direct Debit (an IBAN) and ACH Direct Debit
(a US routing and account number), checked as the payment form checks them, and Stripe's test
numbers with what each does once it is debited.

A debit is never refused on the page: the account is accepted (``processing``) and the bank
answers later, when the debit settles (`DebitOutcome`). Stripe's documented test numbers
(docs.stripe.com/testing, "Bank debits"):

- SEPA: ``DE89370400440532013000`` and ``AT611904300234573201`` succeed (as do the "delayed"
  ``DE08…013003`` and ``AT32…473204``, and any other valid IBAN); ``DE62370400440532013001`` and
  ``AT861904300235473202`` (and the delayed ``DE78…013004``, ``AT05…473205``) fail;
  ``DE65370400440002222227`` and ``AT981904300002222227`` fail for insufficient funds;
  ``DE35370400440532013002`` and ``AT591904300235473203`` succeed and are then disputed.
- ACH, routing number ``110000000``: account ``000123456789`` succeeds (as does any other),
  ``000111111113`` fails (account closed), ``000111111116`` fails (no account), ``000222222227``
  fails (insufficient funds), ``000333333335`` fails (debit not authorized), ``000555555559``
  succeeds and is then disputed.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from typing import Any, ClassVar

ACH_TEST_ROUTING_NUMBER = "110000000"
ACH_TEST_BANK_NAME = "STRIPE TEST BANK"
# Currencies each debit method can be charged in (Stripe: sepa_debit eur, us_bank_account usd).
DEBIT_CURRENCIES: dict[str, tuple[str, ...]] = {"sepa_debit": ("eur",), "us_bank_account": ("usd",)}

# IBAN length of every country of the SEPA scheme.
SEPA_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GI": 23,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "VA": 22,
}
# Where the bank and branch codes sit in the BBAN (after the country and check digits): skip,
# bank code length, branch code length.
_BBAN_CODES: dict[str, tuple[int, int, int]] = {
    "AT": (0, 5, 0),
    "BE": (0, 3, 0),
    "DE": (0, 8, 0),
    "ES": (0, 4, 4),
    "FR": (0, 5, 5),
    "IE": (0, 4, 6),
    "IT": (1, 5, 5),
    "LU": (0, 3, 0),
    "NL": (0, 4, 0),
    "PT": (0, 4, 4),
}
_FINGERPRINT_ALPHABET = string.ascii_letters + string.digits


class BankInputError(ValueError):
    """Bank details the payment form refuses before anything is debited (the form's messages)."""


@dataclass(frozen=True, slots=True)
class DebitFailure:
    """Why the bank refused a debit: the charge's ``failure_code`` and ``failure_message``."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class DebitOutcome:
    """What the bank does with a debit when it settles: pays it (and maybe disputes it later)
    or refuses it."""

    failure: DebitFailure | None = None
    dispute_reason: str | None = None


_PAYS = DebitOutcome()
_COULD_NOT_PROCESS = DebitOutcome(
    DebitFailure("generic_could_not_process", "This payment could not be processed.")
)
_INSUFFICIENT_FUNDS = DebitOutcome(
    DebitFailure("insufficient_funds", "The customer's account has insufficient funds to cover this payment.")
)
SEPA_TEST_IBANS: dict[str, DebitOutcome] = {
    "DE89370400440532013000": _PAYS,
    "DE08370400440532013003": _PAYS,
    "DE62370400440532013001": _COULD_NOT_PROCESS,
    "DE78370400440532013004": _COULD_NOT_PROCESS,
    "DE35370400440532013002": DebitOutcome(dispute_reason="general"),
    "DE65370400440002222227": _INSUFFICIENT_FUNDS,
    "AT611904300234573201": _PAYS,
    "AT321904300235473204": _PAYS,
    "AT861904300235473202": _COULD_NOT_PROCESS,
    "AT051904300235473205": _COULD_NOT_PROCESS,
    "AT591904300235473203": DebitOutcome(dispute_reason="general"),
    "AT981904300002222227": _INSUFFICIENT_FUNDS,
}
ACH_TEST_ACCOUNTS: dict[str, DebitOutcome] = {
    "000123456789": _PAYS,
    "000111111113": DebitOutcome(
        DebitFailure("account_closed", "The customer's bank account has been closed.")
    ),
    "000111111116": DebitOutcome(
        DebitFailure("no_account", "The customer's bank account could not be located.")
    ),
    "000222222227": _INSUFFICIENT_FUNDS,
    "000333333335": DebitOutcome(
        DebitFailure(
            "debit_not_authorized", "The customer has notified their bank that this payment was unauthorized."
        )
    ),
    "000555555559": DebitOutcome(dispute_reason="debit_not_authorized"),
}


def fingerprint(*parts: str) -> str:
    """A stable 16-character fingerprint of an account (the same account, the same fingerprint)."""
    digest = int.from_bytes(hashlib.sha256("|".join(parts).encode("utf-8")).digest(), "big")
    chars = []
    for _ in range(16):
        digest, index = divmod(digest, len(_FINGERPRINT_ALPHABET))
        chars.append(_FINGERPRINT_ALPHABET[index])
    return "".join(chars)


def iban_checksum_valid(iban: str) -> bool:
    """The ISO 13616 check (mod 97) of an IBAN in upper case without spaces."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def aba_checksum_valid(routing_number: str) -> bool:
    """The ABA checksum of a 9-digit routing number (weights 3, 7, 1)."""
    digits = [int(char) for char in routing_number]
    total = sum(weight * digit for weight, digit in zip((3, 7, 1) * 3, digits, strict=True))
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class SepaAccount:
    """An IBAN from the SEPA Direct Debit form, checked."""

    iban: str
    kind: ClassVar[str] = "sepa_debit"

    @property
    def country(self) -> str:
        """The IBAN's country (its first two letters)."""
        return self.iban[:2]

    @property
    def last4(self) -> str:
        """The last four characters of the IBAN."""
        return self.iban[-4:]

    @property
    def outcome(self) -> DebitOutcome:
        """What the bank does when this account is debited."""
        return SEPA_TEST_IBANS.get(self.iban, _PAYS)

    def _codes(self) -> tuple[str, str]:
        skip, bank, branch = _BBAN_CODES.get(self.country, (0, 0, 0))
        bban = self.iban[4 + skip :]
        return bban[:bank], bban[bank : bank + branch]

    def payment_method_details(self) -> dict[str, Any]:
        """The ``sepa_debit`` hash of the PaymentMethod."""
        bank_code, branch_code = self._codes()
        return {
            "bank_code": bank_code,
            "branch_code": branch_code,
            "country": self.country,
            "fingerprint": fingerprint("sepa_debit", self.iban),
            "generated_from": {"charge": None, "setup_attempt": None},
            "last4": self.last4,
        }

    def charge_details(self, mandate: str | None) -> dict[str, Any]:
        """The ``sepa_debit`` hash of a Charge's ``payment_method_details``."""
        details = self.payment_method_details()
        del details["generated_from"]
        return {**details, "mandate": mandate}


@dataclass(frozen=True, slots=True)
class UsBankAccount:
    """A US bank account (routing and account number) from the ACH Direct Debit form, checked."""

    routing_number: str
    account_number: str
    kind: ClassVar[str] = "us_bank_account"

    @property
    def last4(self) -> str:
        """The last four digits of the account number."""
        return self.account_number[-4:]

    @property
    def bank_name(self) -> str | None:
        """The bank's name (Stripe's test bank for the test routing number)."""
        return ACH_TEST_BANK_NAME if self.routing_number == ACH_TEST_ROUTING_NUMBER else None

    @property
    def outcome(self) -> DebitOutcome:
        """What the bank does when this account is debited."""
        if self.routing_number != ACH_TEST_ROUTING_NUMBER:
            return _PAYS
        return ACH_TEST_ACCOUNTS.get(self.account_number, _PAYS)

    def payment_method_details(self) -> dict[str, Any]:
        """The ``us_bank_account`` hash of the PaymentMethod."""
        return {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": self.bank_name,
            "financial_connections_account": None,
            "fingerprint": fingerprint("us_bank_account", self.routing_number, self.account_number),
            "last4": self.last4,
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": self.routing_number,
            "status_details": None,
        }

    def charge_details(self, mandate: str | None) -> dict[str, Any]:
        """The ``us_bank_account`` hash of a Charge's ``payment_method_details``."""
        return {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": self.bank_name,
            "fingerprint": fingerprint("us_bank_account", self.routing_number, self.account_number),
            "last4": self.last4,
            "mandate": mandate,
            "payment_reference": None,
            "routing_number": self.routing_number,
        }


BankAccount = SepaAccount | UsBankAccount


def read_iban(text: str) -> SepaAccount:
    """Check an IBAN typed in the form (spaces ignored, any case): a SEPA country, that
    country's length, the mod-97 checksum; `BankInputError` says what is wrong."""
    iban = re.sub(r"\s+", "", text).upper()
    if not iban:
        raise BankInputError("Your IBAN is incomplete.")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", iban) or iban[:2] not in SEPA_IBAN_LENGTHS:
        raise BankInputError("Your IBAN is invalid.")
    expected = SEPA_IBAN_LENGTHS[iban[:2]]
    if len(iban) < expected:
        raise BankInputError("Your IBAN is incomplete.")
    if len(iban) > expected or not iban_checksum_valid(iban):
        raise BankInputError("Your IBAN is invalid.")
    return SepaAccount(iban)


def read_us_bank_account(routing_number: str, account_number: str) -> UsBankAccount:
    """Check a routing number (9 digits with the ABA checksum) and an account number (4 to 17
    digits) typed in the form (spaces ignored); `BankInputError` says what is wrong."""
    routing = re.sub(r"\s+", "", routing_number)
    account = re.sub(r"\s+", "", account_number)
    if not routing:
        raise BankInputError("Your routing number is incomplete.")
    if not routing.isdigit() or len(routing) > 9:
        raise BankInputError("Your routing number is invalid.")
    if len(routing) < 9:
        raise BankInputError("Your routing number is incomplete.")
    if not aba_checksum_valid(routing):
        raise BankInputError("Your routing number is invalid.")
    if not account:
        raise BankInputError("Your account number is incomplete.")
    if not account.isdigit() or not 4 <= len(account) <= 17:
        raise BankInputError("Your account number is invalid.")
    return UsBankAccount(routing, account)
