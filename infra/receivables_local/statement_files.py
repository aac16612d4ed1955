"""Bank statement files written for the demo and the tests: camt.053 and camt.054 (version
.001.08), from the ISO 20022 message definitions, with as many entries as a story needs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

OUR_IBAN = "DE53200505500001234567"


@dataclass(frozen=True)
class Line:
    """One entry: ``amount`` a decimal string, credit unless ``debit``."""

    amount: str
    name: str | None = None
    iban: str | None = None
    text: str | None = None  # unstructured remittance
    reference: str | None = None  # structured creditor reference (RF…)
    end_to_end: str | None = None
    bank_ref: str | None = None
    debit: bool = False
    booked: str = "2027-03-05"
    return_reason: str | None = None


def _entry(line: Line) -> str:
    indicator = "DBIT" if line.debit else "CRDT"
    party = ""
    if line.name or line.iban:
        # a return repeats the parties of the transfer it gives back: the payer is its debtor
        outgoing = line.debit and not line.return_reason
        role, account = ("Cdtr", "CdtrAcct") if outgoing else ("Dbtr", "DbtrAcct")
        party = "<RltdPties>"
        if line.name:
            party += f"<{role}><Pty><Nm>{escape(line.name)}</Nm></Pty></{role}>"
        if line.iban:
            party += f"<{account}><Id><IBAN>{line.iban}</IBAN></Id></{account}>"
        party += "</RltdPties>"
    remittance = ""
    if line.text or line.reference:
        remittance = "<RmtInf>"
        if line.text:
            remittance += f"<Ustrd>{escape(line.text)}</Ustrd>"
        if line.reference:
            remittance += (
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{line.reference}</Ref></CdtrRefInf></Strd>"
            )
        remittance += "</RmtInf>"
    refs = f"<Refs><EndToEndId>{line.end_to_end or 'NOTPROVIDED'}</EndToEndId></Refs>"
    returned = f"<RtrInf><Rsn><Cd>{line.return_reason}</Cd></Rsn></RtrInf>" if line.return_reason else ""
    bank_ref = f"<AcctSvcrRef>{line.bank_ref}</AcctSvcrRef>" if line.bank_ref else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{line.amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{line.booked}</Dt></BookgDt>"
        f"<ValDt><Dt>{line.booked}</Dt></ValDt>{bank_ref}"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f'<NtryDtls><TxDtls>{refs}<Amt Ccy="EUR">{line.amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"{party}{remittance}{returned}</TxDtls></NtryDtls></Ntry>"
    )


def _balance(code: str, amount: Decimal, day: str) -> str:
    indicator = "CRDT" if amount >= 0 else "DBIT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{abs(amount):.2f}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def camt053(
    lines: list[Line],
    *,
    statement_id: str = "STMT-2027-03-05",
    sequence: str = "64",
    opening: str = "1000.00",
    day: str = "2027-03-05",
    previous_day: str = "2027-03-04",
    account: str = OUR_IBAN,
) -> bytes:
    """A camt.053.001.08 statement of ``lines``, its closing balance their sum from ``opening``."""
    start = Decimal(opening)
    moved = sum((Decimal(x.amount) * (-1 if x.debit else 1) for x in lines), Decimal(0))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>{day}T18:00:00+01:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb>"
        f"<CreDtTm>{day}T18:00:00+01:00</CreDtTm>"
        f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{_balance('OPBD', start, previous_day)}{_balance('CLBD', start + moved, day)}"
        + "".join(_entry(x) for x in lines)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def camt054(
    lines: list[Line], *, notification_id: str = "NTFCN-2027-03-05-1", day: str = "2027-03-05"
) -> bytes:
    """A camt.054.001.08 credit notification of ``lines`` (no balances: a notification has none)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>MSG-{notification_id}</MsgId><CreDtTm>{day}T12:00:00+01:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>{notification_id}</Id><CreDtTm>{day}T12:00:00+01:00</CreDtTm>"
        f"<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(_entry(x) for x in lines)
        + "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()
