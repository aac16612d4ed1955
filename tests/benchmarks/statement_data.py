"""The statement benchmark's data: `tests.unit.banking.generated`'s day of bank lines against its
ledger, with the ledger's own invoice ids, written as a camt.053.001.08 file, and the ledger
loaded into the store.

- **Ids.** The generator draws random ``inv_…`` ids, but on a ledger an invoice's id is derived
  from its seller and number (`receivables.ledger.rules.document_id`: intake finds a number by
  GetItem on that id) and its ``RF`` reference encodes the id. So every invoice takes its
  ledger id, and the references the lines carry (structured, or printed in the text), the direct
  debits' invoices and the truth follow.
- **IBANs.** The generator's IBANs are valid (a statement reader refuses others,
  `receivables.banking.reading.iban_or_none`); `statement_day` checks that they are.
- **The file.** One ``Stmt`` per currency (a EUR account and a USD account: a bank keeps one
  currency per account), written entry by entry (`write_camt053` yields the file in pieces).
  Every entry carries the bank's reference ``AcctSvcrRef`` ``B000001`` …, numbered in the
  generator's order, which is how a line read back from the file finds its truth. The
  generator's debits are written as what they stand for: every other one a returned direct debit
  (``PMNT-RDDT-UPDD`` with its ISO reason code and the customer it came back from), the others
  bank charges (``ACMT-MDOP-CHRG``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from stdnum import iban as stdnum_iban

from receivables.banking.creditor_reference import compact, creditor_reference
from receivables.banking.creditor_reference import format as printed
from receivables.banking.lines import iban_identifier
from receivables.banking.statement import Direction, Entry, Remittance
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, Customer, DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from tests.unit.banking.generated import Generated, Truth, generate

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

ACCOUNTS = {"EUR": "DE53200505500001234567", "USD": "DE02200505500009876543"}
STATEMENT_DAY = date(2027, 6, 1)
LOADED_AT = datetime(2027, 5, 31, 18, 0, tzinfo=UTC)
RETURN_REASONS = ("AC04", "MD06", "AM04", "MS02")
OPENINGS = dict.fromkeys(ACCOUNTS, 1_000_000_00)  # minor units: 1,000,000.00 each


@dataclass(slots=True)
class StatementDay:
    """The generated ledger and lines (ledger ids), and each line's truth by its bank reference.
    ``first`` is the index in the generated stream of the first of ``data.entries``."""

    data: Generated
    truth_by_reference: dict[str, Truth]
    first: int = 0

    def slice(self, start: int, stop: int) -> StatementDay:
        """Lines ``start`` to ``stop`` (not included) of the stream, over the same ledger: the
        generator pays each invoice at most once, so any run of its lines is a day of its own,
        and two runs never pay the same invoice."""
        entries = self.data.entries[start:stop]
        truth = {e.position: self.data.truth[e.position] for e in entries}
        return StatementDay(replace(self.data, entries=entries, truth=truth), self.truth_by_reference, start)

    def as_read(self, entries: Iterable[Entry]) -> Generated:
        """The generated day with the lines as read back from a file (their positions in it) and
        their truth under those positions: what `tests.unit.banking.generated.measure` reads."""
        read = list(entries)
        truth = {e.position: self.truth_by_reference[e.bank_reference or ""] for e in read}
        return replace(self.data, entries=read, truth=truth)

    def closing(self, opening: Mapping[str, int]) -> dict[str, int]:
        """Each account's closing balance (minor units, by currency) after these lines."""
        closing = dict(opening)
        for entry in self.data.entries:
            sign = 1 if entry.direction is Direction.CREDIT else -1
            closing[entry.amount.currency] = closing.get(entry.amount.currency, 0) + sign * entry.amount.minor
        return closing


def bank_reference(index: int) -> str:
    """The bank's reference (``AcctSvcrRef``) of the ``index``-th line (from 0)."""
    return f"B{index + 1:06d}"


def valid_iban(iban: str) -> str:
    """``iban``, checked valid (the generator computes the check digits)."""
    assert stdnum_iban.is_valid(iban), iban
    return iban


def statement_day(lines: int, invoices: int, customers: int, *, seed: int = 22) -> StatementDay:
    """`generate`'s day of ``lines`` bank lines against ``invoices`` of ``customers``, every
    invoice under its ledger id (see the module)."""
    data = generate(lines=lines, invoices=invoices, customers=customers, seed=seed)
    ledger_id = {i.invoice_id: document_id("self", DocumentType.INVOICE, i.number) for i in data.invoices}
    compact_refs = {
        compact(creditor_reference(old)): compact(creditor_reference(new)) for old, new in ledger_id.items()
    }
    printed_refs = {printed(old): printed(new) for old, new in compact_refs.items()}
    printed_ref = re.compile(r"RF\d\d(?: [0-9A-Z]{1,4})+")

    def retext(text: str) -> str:
        return printed_ref.sub(lambda m: printed_refs.get(m.group(0), m.group(0)), text)

    def rereference(entry: Entry) -> Entry:
        r, payer = entry.remittance, entry.counterparty
        remittance = Remittance(
            tuple(retext(t) for t in r.unstructured),
            tuple(compact_refs.get(compact(s), s) for s in r.structured),
            r.end_to_end_id,
        )
        payer = replace(payer, iban=valid_iban(payer.iban)) if payer.iban else payer
        return replace(entry, remittance=remittance, counterparty=payer)

    invoices_of = [replace(i, invoice_id=ledger_id[i.invoice_id], version=1) for i in data.invoices]
    entries = [rereference(e) for e in data.entries]
    truth = {
        position: Truth(t.kind, frozenset(ledger_id[i] for i in t.invoice_ids))
        for position, t in data.truth.items()
    }
    issued = {ref: tuple(ledger_id[i] for i in ids) for ref, ids in data.issued.items()}
    known = {valid_iban(iban): customer_id for iban, customer_id in data.known_ibans.items()}
    moved = Generated(invoices_of, data.customer_names, known, issued, entries, truth)
    by_reference = {bank_reference(n): truth[e.position] for n, e in enumerate(entries)}
    return StatementDay(moved, by_reference)


# --- the file ------------------------------------------------------------------------------------
def write_camt053(
    day: StatementDay,
    *,
    statement_id: str = "STMT-2027-06-01",
    sequence: int = 152,
    opening: Mapping[str, int] | None = None,
    on: date = STATEMENT_DAY,
) -> Iterator[bytes]:
    """The day's lines as a camt.053.001.08 file, piece by piece: one ``Stmt`` per currency
    (its ``Id`` the ``statement_id`` and the currency), each balanced: its closing is its
    ``opening`` (minor units by currency, `OPENINGS` by default; dated the day before) and its
    entries."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>{on.isoformat()}T18:00:00+02:00</CreDtTm></GrpHdr>"
    ).encode()
    numbered = [(day.first + n, e) for n, e in enumerate(day.data.entries)]
    customers = sorted(day.data.customer_names.items())
    openings = dict(opening if opening is not None else OPENINGS)
    closings = day.closing(openings)
    for currency in sorted({e.amount.currency for _, e in numbered}):
        start, end = Money(openings[currency], currency), Money(closings[currency], currency)
        yield (
            f"<Stmt><Id>{statement_id}-{currency}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb>"
            f"<CreDtTm>{on.isoformat()}T18:00:00+02:00</CreDtTm>"
            f"<Acct><Id><IBAN>{ACCOUNTS[currency]}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
            f"{_balance('OPBD', start, on - timedelta(days=1))}{_balance('CLBD', end, on)}"
        ).encode()
        for n, entry in numbered:
            if entry.amount.currency == currency:
                yield _entry(n, entry, customers).encode()
        yield b"</Stmt>"
    yield b"</BkToCstmrStmt></Document>\n"


def _balance(code: str, amount: Money, on: date) -> str:
    indicator = "CRDT" if amount.minor >= 0 else "DBIT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{amount.currency}">{Money(abs(amount.minor), amount.currency).to_decimal_string()}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{on.isoformat()}</Dt></Dt></Bal>"
    )


def _entry(n: int, entry: Entry, customers: list[tuple[str, str]]) -> str:
    amount = f'<Amt Ccy="{entry.amount.currency}">{entry.amount.to_decimal_string()}</Amt>'
    credit = entry.direction is Direction.CREDIT
    indicator = "CRDT" if credit else "DBIT"
    returned = not credit and n % 2 == 0
    parties = agents = remittance = extra = ""
    if credit:
        code = ("PMNT", "RCDT", "ESCT")
        payer = entry.counterparty
        if payer.name or payer.iban:
            parties = "<RltdPties>"
            if payer.name:
                parties += f"<Dbtr><Pty><Nm>{escape(payer.name)}</Nm></Pty></Dbtr>"
            if payer.iban:
                parties += f"<DbtrAcct><Id><IBAN>{payer.iban}</IBAN></Id></DbtrAcct>"
            parties += "</RltdPties>"
        if payer.bic:
            agents = (
                f"<RltdAgts><DbtrAgt><FinInstnId><BICFI>{payer.bic}</BICFI></FinInstnId></DbtrAgt></RltdAgts>"
            )
        r = entry.remittance
        if r.unstructured or r.structured:
            remittance = "<RmtInf>" + "".join(f"<Ustrd>{escape(u)}</Ustrd>" for u in r.unstructured)
            remittance += "".join(
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{escape(s)}</Ref></CdtrRefInf></Strd>"
                for s in r.structured
            )
            remittance += "</RmtInf>"
    elif returned:  # a direct debit of ours that came back from the customer's bank
        code = ("PMNT", "RDDT", "UPDD")
        _, name = customers[n % len(customers)]
        parties = f"<RltdPties><Dbtr><Pty><Nm>{escape(name[:70])}</Nm></Pty></Dbtr></RltdPties>"
        reason = RETURN_REASONS[n % len(RETURN_REASONS)]
        extra = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>Ruecklastschrift</AddtlInf></RtrInf>"
    else:
        code = ("ACMT", "MDOP", "CHRG")
        extra = "<AddtlTxInf>Kontofuehrung und Entgelte</AddtlTxInf>"
    e2e = escape(entry.remittance.end_to_end_id or "NOTPROVIDED")
    domain, family, sub = code
    on = entry.booking_date.isoformat()
    value_on = (entry.value_date or entry.booking_date).isoformat()
    return (
        f"<Ntry>{amount}<CdtDbtInd>{indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>{on}</Dt></BookgDt><ValDt><Dt>{value_on}</Dt></ValDt>"
        f"<AcctSvcrRef>{bank_reference(n)}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{bank_reference(n)}</AcctSvcrRef><EndToEndId>{e2e}</EndToEndId></Refs>"
        f"{amount}<CdtDbtInd>{indicator}</CdtDbtInd>{parties}{agents}{remittance}{extra}</TxDtls></NtryDtls></Ntry>"
    )


def camt053_bytes(day: StatementDay, **how: Any) -> bytes:
    """The whole file (what `receivables.banking.intake.import_statement_file` takes); ``how``
    as for `write_camt053`."""
    return b"".join(write_camt053(day, **how))


# --- the ledger ----------------------------------------------------------------------------------
def load_ledger(day: StatementDay) -> tuple[int, int]:
    """Write the day's customers (their names, and the payer IBANs finance knows as their
    identifiers) and invoices to the bound store, as creations packed into transactions (what
    ingestion writes, without parsing a file). Returns (customers, invoices) written."""
    now = iso_timestamp(LOADED_AT)
    ibans: dict[str, list[str]] = {}
    for iban, customer_id in day.data.known_ibans.items():
        ibans.setdefault(customer_id, []).append(iban)
    customers = [
        Customer(
            customer_id,
            name,
            tuple(iban_identifier(i) for i in ibans.get(customer_id, ())),
            None,
            version=1,
            created_at=now,
        )
        for customer_id, name in sorted(day.data.customer_names.items())
    ]
    creations = [
        store.Creation.customer(
            c, AuditEvent(c.customer_id, 1, "CustomerCreated", now, "bench", {"customer_id": c.customer_id})
        )
        for c in customers
    ]
    creations += [
        store.Creation.invoice(
            replace(i, created_at=now, updated_at=now),
            AuditEvent(i.invoice_id, 1, "InvoiceIngested", now, "bench", {"invoice_id": i.invoice_id}),
        )
        for i in day.data.invoices
    ]
    refused = store.create_all(creations)
    assert not refused, f"{len(refused)} creations refused"
    return len(customers), len(day.data.invoices)
