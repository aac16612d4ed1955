"""One ``Stmt`` (camt.053) or ``Ntfctn`` (camt.054) read child by child as the stream delivers
it: its id, account, balances and entries, in any version from ``.001.02``.

The differences between versions are read both ways: ``Sts`` as a code (``.02`` to ``.07``) or
``Sts/Cd`` (later), ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``, ``FinInstnId/BIC`` or ``BICFI``, dates as
``Dt`` or ``DtTm``, a transaction's amount as ``TxDtls/Amt`` or ``AmtDtls/TxAmt/Amt``. A batch
entry with several ``TxDtls`` becomes one entry per transaction; an entry that cannot be read is
an `EntryProblem` with its position and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from receivables.banking.reading import (
    NARRATIVE_REASON,
    ReadProblem,
    account_id,
    bic_or_none,
    clean_text,
    compact,
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
)
from receivables.kernel.money import Money, MoneyError, normalise_currency

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from receivables.banking.statement import StatementKind

BOOKED = "BOOK"
_DIRECTIONS = {"CRDT": Direction.CREDIT, "DBIT": Direction.DEBIT}
# xs:decimal as ISO 20022 amounts use it (18 digits, at most 5 after the point); no sign.
_AMOUNT = re.compile(r"\d{1,18}(?:\.\d{0,5})?|\.\d{1,5}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_PROVIDED = "NOTPROVIDED"


class _EntryError(Exception):
    def __init__(self, position: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = EntryProblem(position, reason, code)


@dataclass
class ReportReader:
    """One ``Stmt`` or ``Ntfctn`` being read: `take` each child as it ends, then `finish`."""

    format: str
    kind: StatementKind
    prefix: str  # where the report is: Stmt[2]
    created_at: str | None
    statement_id: str | None = None
    sequence: str | None = None
    legal_sequence: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    iban: str | None = None
    bic: str | None = None
    currency: str | None = None
    balances: list[Balance] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)
    pending_skipped: int = 0
    entry_count: int = 0
    balance_count: int = 0

    def take(self, element: Element) -> None:
        """Read one child of the report as it ends (its tag already a local name)."""
        name = element.tag
        if name == "Ntry":
            self.entry_count += 1
            self.entry(element, f"{self.prefix}/Ntry[{self.entry_count}]")
        elif name == "Bal":
            self.balance_count += 1
            self.balance(element, f"{self.prefix}/Bal[{self.balance_count}]")
        elif name == "Id":
            self.statement_id = clean_text(element.text)
        elif name == "ElctrncSeqNb":
            self.sequence = clean_text(element.text)
        elif name == "LglSeqNb":
            self.legal_sequence = clean_text(element.text)
        elif name == "CreDtTm":
            self.created_at = clean_text(element.text) or self.created_at
        elif name == "FrToDt":
            self.from_date = _date_or_none(text_at(element, "FrDtTm"))
            self.to_date = _date_or_none(text_at(element, "ToDtTm"))
        elif name == "Acct":
            self.account(element)

    def account(self, element: Element) -> None:
        """Our account: its IBAN (or the bank's own id), servicer BIC and currency."""
        raw = text_at(element, "Id/IBAN") or text_at(element, "Id/Othr/Id")
        if raw:
            self.iban = account_id(raw)[0]
        self.bic = _bic(element.find("Svcr"))
        currency = text_at(element, "Ccy")
        if currency:
            try:
                self.currency = normalise_currency(currency)
            except MoneyError:
                self.currency = None

    def balance(self, element: Element, where: str) -> None:
        """A ``Bal``, signed; one that cannot be read is a problem of the statement."""
        kind = compact(text_at(element, "Tp/CdOrPrtry/Cd") or text_at(element, "Tp/CdOrPrtry/Prtry"))
        try:
            amount = self.money(element, "Amt", where)
            on = _date(element, "Dt", where, "the balance date")
            sign = _direction(element, where)
        except _EntryError as exc:
            self.problems.append(EntryProblem(where, exc.problem.reason, "invalid_balance"))
            return
        signed = amount if sign is Direction.CREDIT else -amount
        self.balances.append(Balance(kind or "UNKNOWN", signed, on))

    def money(self, element: Element, path: str, where: str) -> Money:
        """The amount at ``path``, in the account's currency (the first amount read sets it when
        the account names none)."""
        found = element.find(path)
        raw = (found.text or "").strip() if found is not None else ""
        if found is None or not raw:
            raise _EntryError(where, "missing_amount", f"{path}: the amount is missing")
        currency = (found.get("Ccy") or "").strip().upper()
        if not currency:
            raise _EntryError(where, "missing_currency", f"{path}: the amount has no Ccy")
        if self.currency is None:
            try:
                self.currency = normalise_currency(currency)
            except MoneyError as exc:
                raise _EntryError(where, "invalid_currency", f"{path}: {exc}") from None
        if currency != self.currency:
            raise _EntryError(
                where,
                "currency_mismatch",
                f"{path}: an amount in {currency} on an account in {self.currency}",
            )
        if not _AMOUNT.fullmatch(raw):
            raise _EntryError(where, "invalid_amount", f"{path}: {raw[:40]!r} is not an amount")
        try:
            return Money.from_decimal(Decimal(raw), currency)
        except MoneyError as exc:
            raise _EntryError(where, "invalid_amount", f"{path}: {exc}") from None

    def entry(self, ntry: Element, where: str) -> None:
        """An ``Ntry``: booked, it becomes one entry or one per transaction of its batch; not
        booked (pending, information, future) it is skipped and counted."""
        status = text_at(ntry, "Sts/Cd") or text_at(ntry, "Sts/Prtry") or text_at(ntry, "Sts")
        if not status:
            self.problems.append(EntryProblem(where, "Sts: the entry has no status", "missing_status"))
            return
        if status.upper() != BOOKED:
            self.pending_skipped += 1  # a later statement books it
            return
        try:
            self.entries.extend(self._entries_of(ntry, where))
        except _EntryError as exc:
            self.problems.append(exc.problem)

    def _entries_of(self, ntry: Element, where: str) -> list[Entry]:
        amount = self.money(ntry, "Amt", where)
        direction = _direction(ntry, where)
        head = _EntryHead(
            booking_date=_date(ntry, "BookgDt", where, "the booking date"),
            value_date=_optional_date(ntry, "ValDt", where),
            reference=clean_text(text_at(ntry, "AcctSvcrRef")),
            reversal=text_at(ntry, "RvslInd").lower() in ("true", "1"),
            code=_transaction_code(ntry.find("BkTxCd")),
            info=clean_text(text_at(ntry, "AddtlNtryInf")),
        )
        details = ntry.findall("NtryDtls/TxDtls")
        if len(details) <= 1:
            tx = details[0] if details else None
            return [self._entry(where, amount, direction, head, tx, head.reference)]
        split: list[Entry] = []
        signed_total = 0
        for index, tx in enumerate(details, start=1):
            at = f"{where}/TxDtls[{index}]"
            path = "Amt" if tx.find("Amt") is not None else "AmtDtls/TxAmt/Amt"
            tx_amount = self.money(tx, path, at)
            tx_direction = _direction(tx, at) if text_at(tx, "CdtDbtInd") else direction
            signed_total += tx_amount.minor if tx_direction is Direction.CREDIT else -tx_amount.minor
            # Each transaction needs an identity of its own: its reference, else the entry's numbered.
            own = clean_text(text_at(tx, "Refs/AcctSvcrRef"))
            reference = own or (f"{head.reference}/{index}" if head.reference else None)
            split.append(self._entry(at, tx_amount, tx_direction, head, tx, reference))
        booked_total = amount.minor if direction is Direction.CREDIT else -amount.minor
        if signed_total != booked_total:
            total = Money(abs(signed_total), amount.currency)
            raise _EntryError(
                where,
                "batch_mismatch",
                f"the {len(details)} transactions of the batch add up to {total} "
                f"{'credit' if signed_total >= 0 else 'debit'}, the entry books {amount}",
            )
        return split

    def _entry(
        self,
        where: str,
        amount: Money,
        direction: Direction,
        head: _EntryHead,
        tx: Element | None,
        reference: str | None,
    ) -> Entry:
        if tx is None:
            return Entry(
                position=where,
                amount=amount,
                direction=direction,
                booking_date=head.booking_date,
                value_date=head.value_date,
                bank_reference=reference,
                bank_transaction_code=head.code,
                additional_info=head.info,
                reversal=head.reversal,
            )
        if reference is None:
            reference = clean_text(text_at(tx, "Refs/AcctSvcrRef"))
        return_reason = _return_reason(tx)
        info = [head.info, clean_text(text_at(tx, "AddtlTxInf")), clean_text(text_at(tx, "RtrInf/AddtlInf"))]
        return Entry(
            position=where,
            amount=amount,
            direction=direction,
            booking_date=head.booking_date,
            value_date=head.value_date,
            bank_reference=reference,
            counterparty=self._counterparty(tx, direction, returned=return_reason is not None),
            remittance=_remittance(tx),
            return_reason=return_reason,
            bank_transaction_code=_transaction_code(tx.find("BkTxCd")) or head.code,
            additional_info="; ".join(dict.fromkeys(i for i in info if i)) or None,
            reversal=head.reversal,
        )

    def _counterparty(self, tx: Element, direction: Direction, *, returned: bool) -> Party:
        """The other side: the debtor of money in, the creditor of money out; a return is the
        other way round (the payer of the collection that came back). Where the file names our
        account on one side, the other side is the counterparty whatever the direction."""
        debtor_iban = _account(tx, "RltdPties/DbtrAcct")
        creditor_iban = _account(tx, "RltdPties/CdtrAcct")
        if self.iban and creditor_iban == self.iban:
            side = "Dbtr"
        elif self.iban and debtor_iban == self.iban:
            side = "Cdtr"
        else:
            side = "Dbtr" if (direction is Direction.CREDIT) != returned else "Cdtr"
        party = tx.find(f"RltdPties/{side}")
        name = None
        if party is not None:
            name = clean_text(text_at(party, "Pty/Nm") or text_at(party, "Nm"))
        return Party(
            name=name,
            iban=debtor_iban if side == "Dbtr" else creditor_iban,
            bic=_bic(tx.find(f"RltdAgts/{side}Agt")),
        )

    def finish(self) -> Statement | ReadProblem:
        """The statement read, or why it could not be (no id, no account, no currency)."""
        if self.statement_id is None or self.iban is None or self.currency is None:
            missing = [
                what
                for what, value in (
                    ("an Id", self.statement_id),
                    ("an account (Acct/Id)", self.iban),
                    ("a currency (Acct/Ccy or an amount's Ccy)", self.currency),
                )
                if not value
            ]
            return ReadProblem(
                self.prefix, "incomplete_statement", f"the statement has no {' and no '.join(missing)}"
            )
        return Statement(
            format=self.format,
            kind=self.kind,
            statement_id=self.statement_id,
            account_iban=self.iban,
            currency=self.currency,
            entries=tuple(self.entries),
            sequence=self.sequence or self.legal_sequence,
            created_at=self.created_at,
            from_date=self.from_date,
            to_date=self.to_date,
            # PRCD (previously closed) is how some banks give the opening balance.
            opening=_first(self.balances, ("OPBD", "PRCD", "ITBD")),
            closing=_first(self.balances, ("CLBD",)),
            problems=tuple(self.problems),
            account_bic=self.bic,
            pending_skipped=self.pending_skipped,
        )


@dataclass(frozen=True, slots=True)
class _EntryHead:
    """What an entry says for all its transactions."""

    booking_date: date
    value_date: date | None
    reference: str | None
    reversal: bool
    code: str | None
    info: str | None


def text_at(element: Element, path: str) -> str:
    """The stripped text of the element at ``path`` below ``element``; "" when there is none."""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _first(balances: list[Balance], kinds: tuple[str, ...]) -> Balance | None:
    for kind in kinds:
        for balance in balances:
            if balance.kind == kind:
                return balance
    return None


def _date_or_none(raw: str) -> date | None:
    """The date of an ISO date or date-time (as the bank wrote it, its local date)."""
    if not _DATE.match(raw):
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _date(element: Element, path: str, where: str, what: str) -> date:
    raw = text_at(element, f"{path}/Dt") or text_at(element, f"{path}/DtTm")
    if not raw:
        raise _EntryError(where, "missing_date", f"{path}: {what} is missing")
    found = _date_or_none(raw)
    if found is None:
        raise _EntryError(where, "invalid_date", f"{path}: {raw[:40]!r} is not a date")
    return found


def _optional_date(element: Element, path: str, where: str) -> date | None:
    if element.find(path) is None:
        return None
    return _date(element, path, where, "the date")


def _direction(element: Element, where: str) -> Direction:
    raw = text_at(element, "CdtDbtInd")
    if raw not in _DIRECTIONS:
        code = "missing_direction" if not raw else "invalid_direction"
        raise _EntryError(where, code, f"CdtDbtInd: {raw[:10]!r} is neither CRDT nor DBIT")
    return _DIRECTIONS[raw]


def _transaction_code(element: Element | None) -> str | None:
    """``PMNT-RCDT-ESCT`` from ``Domn/Cd``, ``Fmly/Cd`` and ``Fmly/SubFmlyCd``; else the
    proprietary ``Prtry/Cd`` as given."""
    if element is None:
        return None
    parts = [text_at(element, p) for p in ("Domn/Cd", "Domn/Fmly/Cd", "Domn/Fmly/SubFmlyCd")]
    if all(parts):
        return "-".join(parts)
    return clean_text(text_at(element, "Prtry/Cd"))


def _bic(element: Element | None) -> str | None:
    if element is None:
        return None
    return bic_or_none(text_at(element, "FinInstnId/BICFI") or text_at(element, "FinInstnId/BIC"))


def _account(tx: Element, path: str) -> str | None:
    return iban_or_none(text_at(tx, f"{path}/Id/IBAN"))


def _return_reason(tx: Element) -> str | None:
    info = tx.find("RtrInf")
    if info is None:
        return None
    code = compact(text_at(info, "Rsn/Cd") or text_at(info, "Rsn/Prtry"))
    return code[:35] or NARRATIVE_REASON


def _remittance(tx: Element) -> Remittance:
    """Free lines (``Ustrd``), creditor references (``Strd/CdtrRefInf/Ref``, compact, so an RF
    reference reads the same however it was spaced) and the end-to-end id. Numbers of referred
    documents (``Strd/RfrdDocInf/Nb``, the invoices paid) are added to the free lines, where the
    invoice-number rule looks for them."""
    lines = [clean_text(u.text) for u in tx.findall("RmtInf/Ustrd")]
    structured: list[str] = []
    for strd in tx.findall("RmtInf/Strd"):
        reference = compact(text_at(strd, "CdtrRefInf/Ref"))
        if reference:
            structured.append(reference[:35])
        lines.extend(clean_text(nb.text) for nb in strd.findall("RfrdDocInf/Nb"))
    end_to_end = clean_text(text_at(tx, "Refs/EndToEndId"))
    return Remittance(
        unstructured=tuple(line for line in lines if line),
        structured=tuple(structured),
        end_to_end_id=None if end_to_end is None or end_to_end.upper() == _NOT_PROVIDED else end_to_end,
    )
