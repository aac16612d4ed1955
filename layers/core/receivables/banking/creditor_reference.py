"""ISO 11649 structured creditor references: the ``RF`` reference every invoice carries, printed
with the bank details, and found again in what the payer's bank sends back.

A reference is ``RF``, two check digits (ISO 7064 mod 97-10, as for an IBAN) and 1 to 21 letters
or digits. The check digits catch every single wrong character and almost every swap of two, so
a reference a payer typed wrongly is refused rather than read as another invoice's.

The check digits are python-stdnum's (`stdnum.iso11649`, `stdnum.iso7064.mod_97_10`), not
arithmetic of our own.
"""

from __future__ import annotations

import hashlib
import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The ledger's own invoice ids: "inv_" and 24 lower-case hex digits (96 bits, `document_id`).
_LEDGER_ID = re.compile(r"inv_([0-9a-f]{24})")
_ID_BODY = 19  # 36**19 > 16**24: 96 bits fit in 19 base-36 characters
_HASH_BODY = 21  # the longest body the standard allows (about 108 bits of a SHA-256)
_SHAPE = re.compile(r"RF[0-9]{2}[0-9A-Z]{1,21}")
# Where a reference may start in free text: "RF" and its two check digits, spaces tolerated.
_START = re.compile(r"(?<![0-9A-Za-z])RF(?=[ \t]?[0-9][ \t]?[0-9])", re.IGNORECASE)
_WORDS = re.compile(r"[0-9A-Za-z]+(?:[ \t]+[0-9A-Za-z]+)*")


def _base36(value: int, width: int) -> str:
    digits = []
    while value:
        value, rest = divmod(value, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def creditor_reference(invoice_id_or_number: str) -> str:
    """The ``RF`` reference of an invoice, derived from its id: the same id always gives the same
    reference, so nothing needs storing.

    How collisions are avoided: a ledger id (``inv_`` + 24 hex digits, see
    `receivables.ledger.rules.document_id`) is *encoded*, not hashed: its 96 bits written in base
    36 are a 19-character body, so two ids never share a reference (and `invoice_id_of` reads the
    id back). Any other text (an invoice number, a foreign id) is hashed: SHA-256 of it, reduced
    to a 21-character body; the chance that two of a million such references agree is about
    1 in 10**20. The two kinds cannot meet: their bodies differ in length. A collision would
    still be *detected*: the open-items view keeps every invoice per reference and a reference
    held by two invoices letters neither (see `receivables.banking.matching`).

    >>> creditor_reference("inv_000000000000000000000001")
    'RF740000000000000000001'
    """
    text = invoice_id_or_number.strip()
    if not text:
        raise ValueError("an invoice id or number is needed for a creditor reference")
    ledger = _LEDGER_ID.fullmatch(text)
    if ledger:
        body = _base36(int(ledger.group(1), 16), _ID_BODY)
    else:
        digest = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
        body = _base36(digest % 36**_HASH_BODY, _HASH_BODY)
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def invoice_id_of(reference: str) -> str | None:
    """The ledger id a reference was encoded from (`creditor_reference` of an ``inv_`` id), or
    None when it is not one of those (invalid, hashed, or another creditor's)."""
    ref = compact(reference)
    if not is_valid(ref) or len(ref) != 4 + _ID_BODY:
        return None
    value = int(ref[4:], 36)
    return f"inv_{value:024x}" if value < 16**24 else None


def compact(text: str) -> str:
    """The reference without its spaces (and dashes, dots, commas, slashes, colons), in capitals:
    ``"rf18 5390 0754 7034"`` gives ``"RF18539007547034"``."""
    return str(iso11649.compact(text))


def is_valid(text: str) -> bool:
    """Whether ``text`` (spaces allowed) is a well-formed ISO 11649 reference with right check
    digits: ``RF``, two digits and 1 to 21 ASCII letters or digits."""
    ref = compact(text)
    return bool(_SHAPE.fullmatch(ref)) and bool(iso11649.is_valid(ref))


def format(ref: str) -> str:
    """The reference in groups of four, as printed on an invoice: ``RF18 5390 0754 7034``."""
    return str(iso11649.format(ref))


def find_references(text: str) -> list[str]:
    """The valid ``RF`` references in free remittance text, compact, in the order they appear.

    A reference may be written with spaces inside, in the groups of four it is printed in
    (``RF18 5390 0754 7034``): at each ``RF`` the words that follow are joined while they look
    like those groups (at most four characters; one shorter ends it) and every join with right
    check digits is kept, the longest first. The check digits let a random join through about
    once in 97 times, so a shorter one may come with the reference: the caller looks each up
    among the references it issued, where at most one is known.

    >>> find_references("Rechnung RF18 5390 0754 7034, danke")
    ['RF18539007547034']
    """
    found: dict[str, None] = {}
    for start in _START.finditer(text):
        run = _WORDS.match(text, start.start())
        if run is None:  # pragma: no cover - _START guarantees the letters and digits
            continue
        joins: list[str] = []
        candidate = ""
        for n, word in enumerate(run.group(0).split()):
            if n and len(word) > 4:
                break
            candidate += word.upper()
            if len(candidate) > 25:
                break
            if is_valid(candidate):
                joins.append(candidate)
            if n and len(candidate) > 4 and len(word) < 4:
                break
        for join in reversed(joins):
            found.setdefault(join, None)
    return list(found)
