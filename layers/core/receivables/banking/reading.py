"""What the statement readers share: the problems they report (what, where, why), what reading
one file gives, and the small normalisations of accounts, codes and text every format needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stdnum import iban as stdnum_iban

from receivables.kernel.errors import ReceivablesError

if TYPE_CHECKING:
    from receivables.banking.statement import Statement

# A text value is cut here: every field of the formats is far shorter (camt names 140, MT940
# lines 65), so only hostile input is cut, and a report or a stored entry stays small.
MAX_TEXT_CHARS = 1000

# The ISO 20022 return reasons (ExternalReturnReason1Code) that SEPA R-transactions carry (EPC
# SCT and SDD rulebooks). Free text (an MT940 ``:86:``) is searched for these only, so a word
# that happens to be four capitals is not taken for a reason.
RETURN_REASON_CODES = frozenset(
    """
    AC01 AC03 AC04 AC06 AC13 AG01 AG02 AM04 AM05 BE05 CNOR CUST DNOR DUPL FF01 FOCR FRAD LEGL
    MD01 MD02 MD06 MD07 MS02 MS03 NARR RC01 RR01 RR02 RR03 RR04 SL01 TECH TM01 UPAY
    """.split()
)
# The ISO code for "the reason is given as narrative": a return the bank marks as one without a
# code we can read.
NARRATIVE_REASON = "NARR"

_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """Something that kept a file, a statement or a balance from being read.

    ``location`` says where (``file``, ``Stmt[2]``, ``:20:[1]``), ``code`` what kind of problem
    for machines (``unsupported_format``, ``malformed_xml``, ``missing_account``…) and
    ``message`` why, for people. An entry's problems are `EntryProblem` on its statement.
    """

    location: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The problem as a report lists it."""
        return {"location": self.location, "code": self.code, "message": self.message}


class StatementFileError(ReceivablesError):
    """The whole file cannot be read: not a statement, unsafe or malformed XML, too large."""

    def __init__(self, code: str, message: str, location: str = "file") -> None:
        super().__init__(message)
        self.problem = ReadProblem(location, code, message)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What one reader got from one file: its statements, and the problems of the file or of a
    whole statement (a statement it could not read is not among ``statements``)."""

    statements: tuple[Statement, ...]
    problems: tuple[ReadProblem, ...] = ()


def clean_text(text: str | None) -> str | None:
    """``text`` on one line: control characters and runs of white space become one space, the
    ends are stripped, the length is capped; None when nothing is left.

    >>> clean_text("  Invoice\\n 42 ")
    'Invoice 42'
    """
    if text is None:
        return None
    flat = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return flat[:MAX_TEXT_CHARS] or None


def compact(text: str | None) -> str:
    """Upper case without any white space (how IBANs, BICs and references compare)."""
    return "".join((text or "").split()).upper()


def iban_or_none(text: str | None) -> str | None:
    """``text`` as a compact IBAN when its check digits and its country's format are right."""
    value = compact(text)
    return value if value and stdnum_iban.is_valid(value) else None


def bic_or_none(text: str | None) -> str | None:
    """``text`` as a BIC (8 or 11 characters, ISO 9362) or None."""
    value = compact(text)
    return value if _BIC.fullmatch(value) else None


def german_iban(bank_code: str, account: str) -> str | None:
    """The IBAN of a German account given as Bankleitzahl and account number (MT940 ``:25:``
    ``37040044/532013000``, ``:86:`` ``?30``/``?31``): ``DE``, check digits, the 8-digit bank
    code and the account number padded to 10 digits. This is the standard rule; a few banks
    convert some accounts differently (the Bundesbank's IBAN rules), which only they know.

    >>> german_iban("37040044", "532013000")
    'DE89370400440532013000'
    """
    if not (re.fullmatch(r"\d{8}", bank_code) and re.fullmatch(r"\d{1,10}", account)):
        return None
    bban = bank_code + account.zfill(10)
    check = stdnum_iban.calc_check_digits(f"DE00{bban}")
    return f"DE{check}{bban}"


def account_id(text: str | None) -> tuple[str, str | None]:
    """Our account as a statement names it: ``(IBAN or the bank's own id, BIC or None)``.

    Reads an IBAN (with a currency code after it, as some banks write MT940 ``:25:``), a German
    ``BLZ/account``, a ``BIC/IBAN`` or ``BIC/account``; any other id is kept as given (compact,
    upper case), since it is the bank's own name for the account.
    """
    raw = compact(text)
    head, slash, tail = raw.partition("/")
    if slash:
        if derived := german_iban(head, _without_currency(tail)):
            return derived, None
        if bic := bic_or_none(head):
            return iban_or_none(tail) or iban_or_none(_without_currency(tail)) or tail, bic
    found = iban_or_none(raw) or iban_or_none(_without_currency(raw))
    return found or raw, None


def _without_currency(text: str) -> str:
    return text[:-3] if len(text) > 3 and text[-3:].isalpha() and text[-4].isdigit() else text
