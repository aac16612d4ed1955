"""SWIFT MT940 customer statements, read with the maintained ``mt-940`` library into `Statement`
values: German banks' structured ``:86:`` (``?00``…``?34`` with the SEPA keywords ``EREF+``,
``KREF+``, ``MREF+``, ``SVWZ+``, ``ABWA+``), the slash-keyed ``:86:`` of Dutch and Belgian banks
(``/EREF/…/CNTP/…/REMI/…``) and the plain text of the others.

The library parses the tags; this module decides what they mean for us. It is driven through
`mt940.models.Transactions` directly, one statement (``:20:`` block) at a time, never through
``mt940.parse``, which reads a file when the text it is given happens to name one. Its opt-in
fixes are all on (the IBAN of ``?31`` under its own key, ``RC`` signed as a debit, details not cut
after nine lines, a ``None`` never replacing a value another tag gave), and its ``:61:`` tag is
wrapped so that a line it cannot read becomes an `EntryProblem` (``:20:[1]/:61:[3]``) instead of
failing the whole file.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import InvalidOperation
from typing import Any

import mt940

from receivables.banking.reading import (
    NARRATIVE_REASON,
    RETURN_REASON_CODES,
    ReadProblem,
    ReadResult,
    StatementFileError,
    account_id,
    bic_or_none,
    clean_text,
    compact,
    german_iban,
    iban_or_none,
)
from receivables.banking.statement import (
    Balance,
    Direction,
    Entry,
    EntryProblem,
    Party,
    Remittance,
    Statement,
    StatementKind,
)
from receivables.kernel.money import Money, MoneyError, normalise_currency

FORMAT = "mt940"
OPTIONS = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=True,
    unbounded_details=True,
    non_swift_free_text=True,
    strip_bom=True,
    gvc_leading_text=True,
)
# C credit, D debit, RC reversal of a credit (money out), RD reversal of a debit (money in).
_MARKS = {
    "C": (Direction.CREDIT, False),
    "D": (Direction.DEBIT, False),
    "RC": (Direction.DEBIT, True),
    "RD": (Direction.CREDIT, True),
}
_OPENINGS = (
    ("final_opening_balance", "OPBD"),
    ("intermediate_opening_balance", "ITBD"),
    ("opening_balance", "OPBD"),
)
_CLOSINGS = (
    ("final_closing_balance", "CLBD"),
    ("intermediate_closing_balance", "ITBD"),
    ("closing_balance", "CLBD"),
)
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}
_STATEMENT_START = re.compile(r"(?m)^(?=:20:)")
# The SWIFT envelope around a message: basic, application and user header blocks, the start of
# the text block, its end and the trailer.
_ENVELOPE = re.compile(r"\{[123]:(?:[^{}]|\{[^{}]*\})*\}|\{4:|^-\}|\{5:(?:[^{}]|\{[^{}]*\})*\}", re.MULTILINE)
_CLOSING_TAG = re.compile(r"(?m)^:62[FM]?:")
_TRAILING_86 = re.compile(r"(?ms)^:86:.*?(?=^:[0-9]{2}[A-Z]?:|\Z)")
# The keys of a slash-keyed :86: (ING, Rabobank, ABN AMRO, Belgian banks): /KEY/value/...
_SLASH_KEYS = (
    "ADDR BENM BIC BUSP CHGS CNTP CSID EREF EXCH IBAN ISDT MARF NAME OCMT ORDP PREF PURP REMI "
    "RTRN SVCL TRCD TRTP ULTB ULTC ULTD"
).split()
_SLASH_FIELD = re.compile(r"/(" + "|".join(_SLASH_KEYS) + r")/")
_RETURN_WORDS = re.compile(
    r"RTRN|RETURN|RETOURE|R[UÜ]E?CK(?:LASTSCHRIFT|[UÜ]E?BERWEISUNG|GABE|BELASTUNG)", re.IGNORECASE
)
_REASON = re.compile(r"(?<![A-Z0-9])(" + "|".join(sorted(RETURN_REASON_CODES)) + r")(?![A-Z0-9])")


def read_mt940(data: bytes, *, max_bytes: int) -> ReadResult:
    """Read every statement (``:20:`` block) of an MT940 file, with or without its SWIFT
    envelope (``{1:…}{2:…}{4:`` … ``-}``).

    A statement the library cannot read (a malformed balance, no ``:25:``) is a `ReadProblem`
    at ``:20:[n]`` and the other statements still go through; a ``:61:`` it cannot read is an
    `EntryProblem` of its statement. Raise `StatementFileError` for a file larger than
    ``max_bytes`` or one without any ``:20:``.
    """
    if len(data) > max_bytes:
        raise StatementFileError(
            "file_too_large", f"{len(data)} bytes; statements are read up to {max_bytes}"
        )
    text = decode_mt940(data)
    blocks = [b for b in _STATEMENT_START.split(text) if b.startswith(":20:")]
    if not blocks:
        raise StatementFileError("unsupported_format", "text without an MT940 :20: tag")
    statements: list[Statement] = []
    problems: list[ReadProblem] = []
    for index, block in enumerate(blocks, start=1):
        try:
            statements.append(_read_block(block, f":20:[{index}]"))
        except StatementFileError as exc:
            problems.append(exc.problem)
        except (RuntimeError, ValueError, ArithmeticError, LookupError, TypeError) as exc:
            problems.append(ReadProblem(f":20:[{index}]", "unreadable_statement", _why(exc)))
    return ReadResult(tuple(statements), tuple(problems))


def _why(exc: Exception) -> str:
    """What the library could not read: it raises RuntimeError(message, tag, value) for a tag
    that does not match its pattern, ValueError or InvalidOperation for a date or an amount."""
    if isinstance(exc, RuntimeError) and len(exc.args) == 3 and isinstance(exc.args[1], mt940.tags.Tag):
        tag, value = exc.args[1], str(exc.args[2])
        return f"the :{tag.id}: tag cannot be read: {clean_text(value[:80])!r}"
    if isinstance(exc, InvalidOperation):
        return "an amount is not a number"
    return f"the statement cannot be read ({type(exc).__name__}: {clean_text(str(exc)[:200])})"


def decode_mt940(data: bytes) -> str:
    """The text of an MT940 file without its SWIFT envelope: UTF-8 when it is, else ISO 8859-1
    (which German banks use; the library itself would fall back to code page 852, which reads
    their umlauts wrong)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return without_envelope(text)


def without_envelope(text: str) -> str:
    """``text`` with Unix line ends and without the SWIFT blocks around the message text
    (``{1:…}{2:…}{3:…}{4:`` before, ``-}{5:…}`` after) or the SOH/ETX bytes of a transmission."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x01", "\n").replace("\x03", "\n")
    return _ENVELOPE.sub("\n", text)


def _read_block(block: str, where: str) -> Statement:
    # A :86: after the closing balance is about the statement (ING's summary, say); the library
    # would add it to the last transaction's details.
    closing = _CLOSING_TAG.search(block)
    if closing:
        block = block[: closing.end()] + _TRAILING_86.sub("", block[closing.end() :])
    line_tag = _StatementLine()
    transactions = mt940.models.Transactions(
        processors={"pre_statement_line": [_fix_date], "post_statement_line": []},
        tags={line_tag.id: line_tag},
        options=OPTIONS,
    )
    transactions.parse(block)
    data = transactions.data
    statement_id = clean_text(data.get("transaction_reference"))
    account_raw = clean_text(data.get("account_identification"))
    if not statement_id or not account_raw:
        what = ":20: (the statement's reference)" if not statement_id else ":25: (the account)"
        raise StatementFileError("incomplete_statement", f"the statement has no {what}", where)
    iban, bic = account_id(account_raw)
    opening = _balance(data, _OPENINGS, where)
    closing_balance = _balance(data, _CLOSINGS, where)
    currency = transactions.currency or ""
    try:
        currency = normalise_currency(currency)
    except MoneyError:
        raise StatementFileError(
            "incomplete_statement", "the statement has no balance (:60F:) with a currency", where
        ) from None
    entries: list[Entry] = []
    problems: list[EntryProblem] = []
    for transaction in transactions:
        try:
            entries.append(_entry(transaction.data, currency, where))
        except _LineError as exc:
            problems.append(exc.problem)
    number, sequence = data.get("statement_number"), data.get("sequence_number")
    created = data.get("date")
    return Statement(
        format=FORMAT,
        kind=StatementKind.STATEMENT,
        statement_id=statement_id,
        account_iban=iban,
        currency=currency,
        entries=tuple(entries),
        sequence=f"{number}/{sequence}" if number and sequence else number,
        created_at=created.isoformat() if created is not None else None,
        opening=opening,
        closing=closing_balance,
        problems=tuple(problems),
        account_bic=bic,
    )


class _LineError(Exception):
    def __init__(self, position: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = EntryProblem(position, reason, code)


class _StatementLine(mt940.tags.Statement):
    """The library's ``:61:``, numbering each line and keeping the one it cannot read as a
    problem rather than failing the statement. Every line gets a non-empty ``id`` (the
    library's sign of a complete transaction), so a line without a transaction type code is not
    merged into the one before it; the code itself is kept as ``type_code``. Its own customer
    reference is kept apart from the ``KREF+`` of the ``:86:``, which the library would append
    to it."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def parse(self, transactions: mt940.models.Transactions, value: str) -> dict[str, str | None]:
        """The line's fields, or ``{"unreadable": value}`` (without the library's error log)."""
        if self.re.match(value) is None:
            return {"unreadable": value}
        return super().parse(transactions, value)

    def __call__(self, transactions: mt940.models.Transactions, value: dict[str, Any]) -> dict[str, Any]:
        """The library's transaction data, or the reason the line could not be read."""
        self.count += 1
        if "unreadable" in value:
            shown = clean_text(value["unreadable"]) or ""
            return {
                "id": "?",
                "line": self.count,
                "problem": ("unreadable_line", f"not a :61: line: {shown[:80]!r}"),
            }
        try:
            data = super().__call__(transactions, value)
        except InvalidOperation:
            problem = ("invalid_amount", f"the amount {value.get('amount')!r} is not a number")
            return {"id": "?", "line": self.count, "problem": problem}
        except ValueError as exc:
            problem = ("invalid_date", f"the :61: line's dates cannot be read: {exc}")
            return {"id": "?", "line": self.count, "problem": problem}
        data["type_code"] = data.get("id")
        data["id"] = data.get("id") or "-"
        data["line"] = self.count
        data["line_customer_reference"] = data.pop("customer_reference", None)
        return data


def _fix_date(transactions: Any, tag: Any, tag_dict: dict[str, Any], *args: Any) -> dict[str, Any]:
    """The library's own fix of a 30 February (German banks' interest value date), for a line it
    could read."""
    if "unreadable" in tag_dict:
        return tag_dict
    return mt940.processors.date_fixup_pre_processor(transactions, tag, tag_dict, *args)


def _balance(data: dict[str, Any], tags: tuple[tuple[str, str], ...], where: str) -> Balance | None:
    for key, kind in tags:
        found = data.get(key)
        if found is None:
            continue
        amount = found.amount
        if not isinstance(amount, mt940.models.Amount) or found.date is None or amount.currency is None:
            raise StatementFileError(
                "invalid_balance", f"the balance {key} has no amount, currency or date", where
            )
        try:
            money = Money.from_decimal(abs(amount.amount), amount.currency)
        except MoneyError as exc:
            raise StatementFileError("invalid_balance", f"the balance {key}: {exc}", where) from None
        signed = -money if (found.status or "").upper() == "D" else money
        return Balance(kind, signed, _plain(found.date))
    return None


def _entry(data: dict[str, Any], currency: str, where: str) -> Entry:
    position = f"{where}/:61:[{data.get('line', '?')}]"
    if "problem" in data:
        code, reason = data["problem"]
        raise _LineError(position, code, reason)
    mark = (data.get("status") or "").upper()
    if mark not in _MARKS:
        raise _LineError(position, "invalid_direction", f"{mark!r} is not a debit/credit mark (C, D, RC, RD)")
    direction, reversal = _MARKS[mark]
    amount = data["amount"]
    try:
        money = Money.from_decimal(abs(amount.amount), currency)
    except MoneyError as exc:
        raise _LineError(position, "invalid_amount", str(exc)) from None
    value_date = _plain(data["date"])
    entry_date = data.get("entry_date")
    details = _details(data)
    bank_reference = _reference(data.get("bank_reference"))
    type_code = data.get("type_code")
    gvc = data.get("transaction_code")
    code = "/".join(str(c) for c in (type_code, gvc) if c) or None
    return Entry(
        position=position,
        amount=money,
        direction=direction,
        booking_date=_plain(entry_date) if entry_date is not None else value_date,
        value_date=value_date,
        bank_reference=bank_reference,
        counterparty=details.party,
        remittance=details.remittance,
        return_reason=details.return_reason,
        bank_transaction_code=code,
        additional_info=details.info,
        reversal=reversal,
    )


class _Details:
    """What the ``:86:`` of a line says, in whichever dialect the bank wrote it."""

    def __init__(
        self,
        party: Party,
        remittance: Remittance,
        info: list[str | None],
        *,
        texts: tuple[str | None, ...] = (),
        return_code: str | None = None,
    ) -> None:
        self.party = party
        self.remittance = remittance
        self.return_reason = _return_reason(texts, return_code)
        self.info = "; ".join(dict.fromkeys(i for i in info if i)) or None


def _details(data: dict[str, Any]) -> _Details:
    supplementary = clean_text(data.get("extra_details"))
    raw = data.get("transaction_details")
    if raw is None and any(
        data.get(k) for k in ("purpose", "applicant_name", "posting_text", "end_to_end_reference")
    ):
        return _german(data, supplementary)
    if raw and _SLASH_FIELD.search(raw.replace("\n", "")) and raw.lstrip().startswith("/"):
        return _slash_keyed(raw, supplementary)
    lines = tuple(line for line in (clean_text(x) for x in (raw or "").split("\n")) if line)
    return _Details(Party(), Remittance(unstructured=lines), [supplementary], texts=(" ".join(lines),))


def _german(data: dict[str, Any], supplementary: str | None) -> _Details:
    """The structured ``:86:`` of the German banks' format (DK): ``?00`` posting text, ``?10``
    primanota, ``?20`` to ``?29`` purpose with its SEPA keywords, ``?30`` bank (BIC or BLZ),
    ``?31`` account (IBAN or account number), ``?32``/``?33`` name, ``?34`` return code."""
    bank = compact(data.get("applicant_bin"))
    account = compact(data.get("applicant_iban"))
    iban = iban_or_none(account) or german_iban(bank, account)
    party = Party(name=clean_text(data.get("applicant_name")), iban=iban, bic=bic_or_none(bank))
    end_to_end = _reference(data.get("end_to_end_reference"))
    purpose = clean_text(data.get("purpose"))
    additional = clean_text(data.get("additional_purpose"))
    remittance = Remittance(
        unstructured=tuple(p for p in (purpose, additional) if p),
        end_to_end_id=end_to_end,
    )
    posting = clean_text(data.get("posting_text"))
    on_behalf = clean_text(data.get("deviate_applicant"))
    info = [posting, supplementary, f"ultimate debtor (ABWA+): {on_behalf}" if on_behalf else None]
    return_field = compact(data.get("return_debit_notes"))
    return _Details(
        party,
        remittance,
        info,
        texts=(posting, purpose, additional),
        return_code=return_field if return_field in RETURN_REASON_CODES else None,
    )


def _slash_keyed(raw: str, supplementary: str | None) -> _Details:
    """``/EREF/ref//CNTP/iban/bic/name/city///REMI/USTD//text/`` (ING), ``/NAME/…/IBAN/…/REMI/``
    (Rabobank, ABN AMRO); ``/REMI/STRD/CUR/ref/`` is a structured creditor reference,
    ``/RTRN/MS03/`` a return with its reason."""
    text = raw.replace("\n", "")  # lines are cut at 65 characters, anywhere
    fields: dict[str, str] = {}
    matches = list(_SLASH_FIELD.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        fields.setdefault(match.group(1), text[match.end() : end].strip("/"))
    name = fields.get("NAME")
    iban = iban_or_none(fields.get("IBAN"))
    bic = bic_or_none(fields.get("BIC"))
    if "CNTP" in fields:
        parts = [*fields["CNTP"].split("/"), "", "", ""]
        iban, bic, name = iban or iban_or_none(parts[0]), bic or bic_or_none(parts[1]), name or parts[2]
    unstructured: tuple[str, ...] = ()
    structured: tuple[str, ...] = ()
    remi = fields.get("REMI", "")
    if remi.startswith("STRD/"):
        body = remi.removeprefix("STRD/")
        issuer, slash, reference = body.partition("/")
        structured = (compact(reference if slash else issuer)[:35],) if (reference or issuer) else ()
    elif remi:
        line = clean_text(remi.removeprefix("USTD/").strip("/"))
        unstructured = (line,) if line else ()
    remittance = Remittance(unstructured, structured, _reference(fields.get("EREF")))
    party = Party(name=clean_text(name), iban=iban, bic=bic)
    info = [clean_text(fields.get("TRTP")), supplementary]
    if "RTRN" in fields:  # a return, whatever its words
        return_code = compact(fields["RTRN"].partition("/")[0])[:35] or NARRATIVE_REASON
        return _Details(party, remittance, info, return_code=return_code)
    return _Details(party, remittance, info, texts=(remi,))


def _return_reason(texts: tuple[str | None, ...], code: str | None) -> str | None:
    """The ISO reason code of a SEPA return: ``code`` when the bank gave one in its own field
    (``?34``, ``/RTRN/``); else, when the bank describes a return in words (``RTRN``,
    ``Retoure``, ``Rücklastschrift``…), the first known code in those words, ``NARR`` when none
    is given; None for anything else."""
    if code:
        return code
    joined = " ".join(t for t in texts if t)
    if not _RETURN_WORDS.search(joined):
        return None
    found = _REASON.search(joined.upper())
    return found.group(1) if found else NARRATIVE_REASON


def _plain(day: date) -> date:
    """The library's `mt940.models.Date` as a plain `datetime.date` (a value of ours)."""
    return date(day.year, day.month, day.day)


def _reference(raw: object) -> str | None:
    value = clean_text(raw if isinstance(raw, str) else None)
    return None if value is None or value.upper() in _NO_REFERENCE else value
