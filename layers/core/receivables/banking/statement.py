"""A bank statement as the bank reports it, whatever the file format: its account, balances and
entries. Pure values; the readers (camt, MT940) build them and the matching reads them.

Amounts are `Money` (integer minor units with the account's currency); an entry's amount is
positive and its ``direction`` says which way the money went. A balance is signed (an overdrawn
account's balance is a debit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from receivables.kernel.money import Money


class Direction(StrEnum):
    """Which way the money of an entry went, seen from the account holder (us)."""

    CREDIT = "credit"  # money in: a customer's transfer, a payout, a returned debit
    DEBIT = "debit"  # money out: a return of an earlier credit, bank charges, a transfer we made


class StatementKind(StrEnum):
    """What the bank sent: an end-of-period statement (camt.053, MT940) or a notification of
    entries during the day (camt.054), which a later statement repeats."""

    STATEMENT = "statement"
    NOTIFICATION = "notification"


@dataclass(frozen=True, slots=True)
class Party:
    """The other side of an entry: for a credit, the payer (debtor); for a debit, the payee."""

    name: str | None = None
    iban: str | None = None  # upper case, no spaces
    bic: str | None = None


@dataclass(frozen=True, slots=True)
class Remittance:
    """What the payer told us about the payment.

    ``structured`` are creditor references (an ISO 11649 ``RF…`` reference, or a national one),
    ``unstructured`` the free text lines, ``end_to_end_id`` the payer's own reference carried
    end to end (SEPA ``EndToEndId``, MT940 ``EREF+``); ``NOTPROVIDED`` is None."""

    unstructured: tuple[str, ...] = ()
    structured: tuple[str, ...] = ()
    end_to_end_id: str | None = None

    @property
    def text(self) -> str:
        """Every line of the remittance, joined by spaces (what a person reads)."""
        return " ".join((*self.structured, *self.unstructured))


@dataclass(frozen=True, slots=True)
class Entry:
    """One booked movement of the account (for a batch booking, one transaction of it).

    ``position`` says where in the file it is, for the report (``Ntry[3]/TxDtls[2]``,
    ``:61:[12]``). ``bank_reference`` is the bank's own reference of it (camt ``AcctSvcrRef``,
    MT940 bank reference), None when the bank gives none. ``return_reason`` is the ISO 20022
    reason code of a returned payment (``AC04``, ``MD06``…). ``bank_transaction_code`` is the
    bank's classification (camt ``Domn/Fmly/SubFmly`` as ``PMNT-RCDT-ESCT``, or a proprietary or
    MT940 code)."""

    position: str
    amount: Money
    direction: Direction
    booking_date: date
    value_date: date | None = None
    bank_reference: str | None = None
    counterparty: Party = field(default_factory=Party)
    remittance: Remittance = field(default_factory=Remittance)
    return_reason: str | None = None
    bank_transaction_code: str | None = None
    additional_info: str | None = None  # the bank's own words on the entry (AddtlNtryInf, :86:)
    # The bank marks the entry as the reversal of an earlier one (camt ``RvslInd``, MT940
    # ``RC``/``RD``); ``direction`` is still the way this entry's money went.
    reversal: bool = False

    def identity(self, account: str) -> str:
        """How this entry is known across files: the bank's reference when it gives one, else a
        fingerprint of account, booking date, amount, direction, counterparty and remittance
        (so a notification and the statement that repeats it are the same entry)."""
        if self.bank_reference:
            return f"ref:{account}:{self.bank_reference}"
        parts = (
            account,
            self.booking_date.isoformat(),
            self.direction.value,
            self.amount.currency,
            str(self.amount.minor),
            self.counterparty.iban or "",
            (self.counterparty.name or "").casefold(),
            self.remittance.end_to_end_id or "",
            " ".join(self.remittance.text.split()).casefold(),
        )
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        return f"fp:{digest}"


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance the bank reports: ``kind`` is the ISO 20022 code (``OPBD`` opening booked,
    ``CLBD`` closing booked, ``PRCD`` previously closed, ``CLAV`` closing available, …; MT940's
    ``:60F:``/``:62F:`` are ``OPBD``/``CLBD``), ``amount`` signed (negative when a debit)."""

    kind: str
    amount: Money
    on: date


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """An entry that could not be read: where, and why (the other entries still go through).

    ``code`` says what kind of problem for machines (``missing_amount``, ``invalid_date``,
    ``currency_mismatch``…), so a report counts them and a test asserts them without reading the
    ``reason``, which is for people."""

    position: str
    reason: str
    code: str = "invalid_entry"


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement or notification, as read from a file.

    ``format`` names what it was read from (``camt.053.001.08``, ``camt.054.001.02``,
    ``mt940``); ``statement_id`` is the bank's id of the statement (camt ``Stmt/Id``/``Ntfctn/Id``,
    MT940 ``:20:``), ``sequence`` its electronic or legal sequence number when given (camt
    ``ElctrncSeqNb``/``LglSeqNb``, MT940 ``:28C:``)."""

    format: str
    kind: StatementKind
    statement_id: str
    account_iban: str
    currency: str
    entries: tuple[Entry, ...]
    sequence: str | None = None
    created_at: str | None = None  # ISO timestamp as the bank gave it
    from_date: date | None = None
    to_date: date | None = None
    opening: Balance | None = None
    closing: Balance | None = None
    problems: tuple[EntryProblem, ...] = ()
    account_bic: str | None = None
    # Entries the bank reports but has not booked (camt ``Sts`` ``PDNG``, ``INFO``, ``FUTR``):
    # skipped, a later statement books them, and counted here for the report.
    pending_skipped: int = 0
