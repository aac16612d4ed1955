"""Statement files made in the tests: camt documents of any version and size, from a few lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATEMENTS = Path(__file__).resolve().parents[2] / "fixtures" / "statements"
OUR_IBAN = "DE53200505500001234567"
PAYER_IBAN = "DE21300501100987654321"

MESSAGE = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}


def fixture(name: str) -> bytes:
    """The bytes of a hand-written file of tests/fixtures/statements."""
    return (STATEMENTS / name).read_bytes()


@dataclass(frozen=True)
class CamtEntry:
    """One entry to write: its amount as the decimal string the file carries."""

    amount: str
    direction: str = "CRDT"
    currency: str | None = None  # the account's when None
    status: str = "BOOK"
    booked: str = "2024-03-01"
    reference: str | None = None
    payer: str = "Müller &amp; Söhne KG"
    remittance: str = "INV-2024-0042"


def camt(
    entries: list[CamtEntry] | tuple[CamtEntry, ...],
    *,
    message: str = "053",
    version: int = 8,
    currency: str = "EUR",
    statement_id: str = "STMT-GENERATED",
) -> bytes:
    """A camt.053 or camt.054 document of ``version`` with ``entries``, written the way that
    version writes them (``Sts`` as a code before .08, ``Sts/Cd`` from it; parties inside ``Pty``
    from .08; ``BIC`` in .02 and .03, ``BICFI`` after)."""
    container, report = MESSAGE[message]
    body = "".join(_entry(e, version, currency, i) for i, e in enumerate(entries, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version:02d}">'
        f"<{container}><GrpHdr><MsgId>GEN-1</MsgId><CreDtTm>2024-03-01T18:00:00</CreDtTm></GrpHdr>"
        f"<{report}><Id>{statement_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>"
        f"<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f"{body}</{report}></{container}></Document>"
    ).encode()


def _entry(entry: CamtEntry, version: int, account_currency: str, index: int) -> str:
    currency = entry.currency or account_currency
    status = f"<Sts><Cd>{entry.status}</Cd></Sts>" if version >= 8 else f"<Sts>{entry.status}</Sts>"
    name = f"<Pty><Nm>{entry.payer}</Nm></Pty>" if version >= 8 else f"<Nm>{entry.payer}</Nm>"
    bic = "BICFI" if version >= 4 else "BIC"
    reference = entry.reference or f"GEN-{index:06d}"
    return (
        f'<Ntry><Amt Ccy="{currency}">{entry.amount}</Amt><CdtDbtInd>{entry.direction}</CdtDbtInd>'
        f"{status}<BookgDt><Dt>{entry.booked}</Dt></BookgDt><ValDt><Dt>{entry.booked}</Dt></ValDt>"
        f"<AcctSvcrRef>{reference}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{index:06d}</EndToEndId></Refs>"
        f"<RltdPties><Dbtr>{name}</Dbtr><DbtrAcct><Id><IBAN>{PAYER_IBAN}</IBAN></Id></DbtrAcct></RltdPties>"
        f"<RltdAgts><DbtrAgt><FinInstnId><{bic}>RHBKDEDDXXX</{bic}></FinInstnId></DbtrAgt></RltdAgts>"
        f"<RmtInf><Ustrd>{entry.remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
