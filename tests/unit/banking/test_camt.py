"""camt.053 and camt.054, every version from .001.02: the hand-written files, the differences
between versions, batches, returns, pending entries, bad entries, hostile XML and a large file."""

from __future__ import annotations

import tracemalloc
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.banking.camt import read_camt
from receivables.banking.reading import ReadResult, StatementFileError
from receivables.banking.statement import Direction, Party, Statement, StatementKind
from receivables.kernel.money import Money, currency_exponent
from tests.unit.banking.builders import OUR_IBAN, PAYER_IBAN, CamtEntry, camt, fixture

LIMIT = 10 * 1024 * 1024


def read(name: str) -> ReadResult:
    return read_camt(fixture(name), max_bytes=LIMIT)


def only_statement(name: str) -> Statement:
    result = read(name)
    assert result.problems == ()
    (statement,) = result.statements
    return statement


def signed_sum(statement: Statement) -> int:
    return sum(
        e.amount.minor if e.direction is Direction.CREDIT else -e.amount.minor for e in statement.entries
    )


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("camt053-v02-statement.xml", "camt.053.001.02"),
        ("camt053-v04-two-accounts.xml", "camt.053.001.04"),
        ("camt053-v08-statement.xml", "camt.053.001.08"),
        ("camt053-v10-statement.xml", "camt.053.001.10"),
    ],
)
def test_each_statement_version_reads_balances_that_its_entries_reconcile(name: str, fmt: str) -> None:
    for statement in read(name).statements:
        assert statement.format == fmt
        assert statement.kind is StatementKind.STATEMENT
        assert statement.problems == ()
        assert statement.opening is not None
        assert statement.closing is not None
        assert statement.opening.amount.minor + signed_sum(statement) == statement.closing.amount.minor


def test_a_v02_statement_reads_account_balances_and_the_payer_without_a_party_wrapper() -> None:
    statement = only_statement("camt053-v02-statement.xml")

    assert (statement.statement_id, statement.sequence) == ("STMT-20240301-0061", "61")
    assert (statement.account_iban, statement.account_bic, statement.currency) == (
        OUR_IBAN,
        "BSPKDEHHXXX",
        "EUR",
    )
    assert statement.created_at == "2024-03-01T18:30:00+01:00"
    assert (statement.from_date, statement.to_date) == (date(2024, 3, 1), date(2024, 3, 1))
    assert statement.opening is not None
    assert statement.closing is not None
    assert (statement.opening.kind, statement.opening.amount, statement.opening.on) == (
        "PRCD",
        Money(1250000, "EUR"),
        date(2024, 2, 29),
    )
    assert (statement.closing.kind, statement.closing.amount) == ("CLBD", Money(1486750, "EUR"))
    first = statement.entries[0]
    assert first.position == "Stmt[1]/Ntry[1]"
    assert (first.amount, first.direction) == (Money(119000, "EUR"), Direction.CREDIT)
    assert (first.booking_date, first.value_date) == (date(2024, 3, 1), date(2024, 3, 1))
    assert first.bank_reference == "2024030100012345"
    assert first.counterparty == Party("Müller & Söhne KG", PAYER_IBAN, "RHBKDEDDXXX")
    assert first.remittance.unstructured == ("INV-2024-0042 Rechnung vom 12.02.2024",)
    assert first.remittance.end_to_end_id == "MS-2024-0311"
    assert first.bank_transaction_code == "PMNT-RCDT-ESCT"
    assert first.additional_info == "SEPA-GUTSCHRIFT"


def test_the_iso_11649_example_reference_is_read_as_a_structured_reference_without_its_spaces() -> None:
    entry = only_statement("camt053-v02-statement.xml").entries[1]

    assert entry.remittance.structured == ("RF18539007547034",)
    assert entry.remittance.end_to_end_id is None  # NOTPROVIDED
    assert entry.value_date == date(2024, 2, 29)


def test_a_returned_direct_debit_is_a_debit_with_its_reason_and_the_original_payer() -> None:
    returned = only_statement("camt053-v02-statement.xml").entries[2]

    assert (returned.direction, returned.return_reason) == (Direction.DEBIT, "MD06")
    # The file names us as creditor: the counterparty is the other side, the payer who asked
    # for the refund.
    assert returned.counterparty.name == "Weber Maschinenbau GmbH"
    assert returned.remittance.end_to_end_id == "NL-COLL-2024-0007"
    assert returned.additional_info == "Rueckgabe auf Verlangen des Zahlers"


def test_pending_entries_are_skipped_and_counted_in_old_and_new_status_forms() -> None:
    old = only_statement("camt053-v02-statement.xml")
    new = only_statement("camt053-v08-statement.xml")

    assert (old.pending_skipped, [e.position for e in old.entries][-1]) == (1, "Stmt[1]/Ntry[5]")
    assert "Stmt[1]/Ntry[4]" not in [e.position for e in old.entries]
    assert new.pending_skipped == 1
    assert len(new.entries) == 3


def test_bank_charges_without_details_are_one_entry_with_the_banks_words() -> None:
    charges = only_statement("camt053-v02-statement.xml").entries[-1]

    assert (charges.amount, charges.direction) == (Money(1250, "EUR"), Direction.DEBIT)
    assert charges.counterparty == Party()
    assert charges.bank_transaction_code == "ACMT-MDOP-CHRG"
    assert charges.additional_info == "Kontofuehrung Februar 2024"


def test_several_statements_in_one_message_are_several_statements() -> None:
    eur, usd = read("camt053-v04-two-accounts.xml").statements

    assert (eur.statement_id, eur.currency, eur.sequence) == ("STMT-20240304-EUR", "EUR", "62")
    assert (usd.statement_id, usd.currency, usd.account_iban) == (
        "STMT-20240304-USD",
        "USD",
        "DE26200505500001234568",
    )
    assert usd.opening is not None
    assert usd.opening.amount == Money(-25000, "USD")  # a debit balance is negative
    assert usd.entries[0].position == "Stmt[2]/Ntry[1]"
    assert usd.entries[0].remittance.unstructured == ("Invoice INV-2024-0058", "PO 77812")
    assert usd.entries[0].counterparty == Party("Fjordline Logistics AS", None, None)  # Othr, no IBAN


def test_v04_reads_bicfi_datetimes_referred_invoices_and_a_spaced_account_iban() -> None:
    eur = read("camt053-v04-two-accounts.xml").statements[0]
    entry = eur.entries[0]

    assert eur.account_iban == OUR_IBAN  # written with spaces
    assert eur.account_bic == "BSPKDEHHXXX"
    assert entry.booking_date == date(2024, 3, 4)  # BookgDt/DtTm
    assert entry.counterparty == Party("Van Dijk Installatie B.V.", "NL44RABO0123456789", "KNALNL2AXXX")
    assert entry.remittance.structured == ("RF74INV20240042",)
    assert entry.remittance.unstructured == ("INV-2024-0042",)  # RfrdDocInf/Nb
    assert entry.bank_reference == "2024030400020001"


def test_a_batch_booked_without_its_details_stays_one_entry() -> None:
    batch = read("camt053-v04-two-accounts.xml").statements[0].entries[1]

    assert (batch.position, batch.amount) == ("Stmt[1]/Ntry[2]", Money(255000, "EUR"))
    assert batch.bank_transaction_code == "PMNT-IDDT-ESDD"


def test_v08_reads_parties_inside_pty_and_marks_a_reversal() -> None:
    statement = only_statement("camt053-v08-statement.xml")
    transfer, reversal, returned = statement.entries

    assert transfer.counterparty == Party(
        "Brasserie Lumière SARL", "FR9130004008220001234567855", "LUMIFRPPXXX"
    )
    assert (reversal.direction, reversal.reversal, reversal.return_reason) == (Direction.DEBIT, True, None)
    assert reversal.additional_info == "STORNO DOPPELTE GUTSCHRIFT"
    assert (returned.return_reason, returned.counterparty.name) == ("AC04", "Østergaard ApS")
    assert statement.created_at == "2024-03-05T18:45:10.123+01:00"


def test_v10_reads_a_proprietary_code_two_rf_references_and_a_returned_transfer_of_ours() -> None:
    transfer, returned = only_statement("camt053-v10-statement.xml").entries

    assert transfer.bank_transaction_code == "NTRF+166+9310"
    assert transfer.remittance.structured == ("RF47INV20240043", "RF1720240077")
    assert transfer.additional_info == "SEPA Credit Transfer"
    # A credit that returns our transfer: the counterparty is the payee it did not reach.
    assert (returned.direction, returned.return_reason) == (Direction.CREDIT, "AC04")
    assert returned.counterparty == Party("Alpenblick Handels AG", "AT721200011122233344", "ALPBATWWXXX")
    assert returned.additional_info == "Account closed"


@pytest.mark.parametrize(
    ("name", "amounts", "references"),
    [
        (
            "camt054-v02-batch.xml",
            [100000, 125000, 75000],
            ["2024030700050001/1", "2024030700050001/2", "2024030700050001/3"],
        ),
        (
            "camt054-v08-batch.xml",
            [48000, 102050, 9950],
            ["2024030800060001-1", "2024030800060001-2", "2024030800060001-3"],
        ),
    ],
)
def test_a_notified_batch_of_three_becomes_three_entries_with_their_own_amounts(
    name: str, amounts: list[int], references: list[str]
) -> None:
    notification = only_statement(name)
    batch = notification.entries[:3]

    assert notification.kind is StatementKind.NOTIFICATION
    assert notification.format == f"camt.054.001.{name[9:11]}"
    assert [e.position for e in batch] == [f"Ntfctn[1]/Ntry[1]/TxDtls[{i}]" for i in (1, 2, 3)]
    assert [e.amount.minor for e in batch] == amounts
    # Each keeps an identity of its own: the transaction's reference, or the entry's numbered.
    assert [e.bank_reference for e in batch] == references
    assert len({e.counterparty.name for e in batch}) == 3
    assert {e.direction for e in batch} == {Direction.CREDIT}


def test_a_notified_return_without_our_account_takes_the_debtor_as_counterparty() -> None:
    returned = only_statement("camt054-v08-batch.xml").entries[3]

    assert (returned.direction, returned.return_reason) == (Direction.DEBIT, "MS03")
    assert returned.counterparty.name == "Müller & Söhne KG"


def test_bad_entries_are_named_with_their_reasons_and_the_good_ones_still_go_through() -> None:
    statement = only_statement("camt053-v06-bad-entries.xml")

    assert [e.position for e in statement.entries] == [
        "Stmt[1]/Ntry[1]",
        "Stmt[1]/Ntry[4]",
        "Stmt[1]/Ntry[8]",
    ]
    assert [(p.position, p.code) for p in statement.problems] == [
        ("Stmt[1]/Bal[2]", "invalid_balance"),
        ("Stmt[1]/Ntry[2]", "missing_amount"),
        ("Stmt[1]/Ntry[3]", "invalid_date"),
        ("Stmt[1]/Ntry[5]", "currency_mismatch"),
        ("Stmt[1]/Ntry[6]", "invalid_amount"),
        ("Stmt[1]/Ntry[7]", "invalid_direction"),
        ("Stmt[1]/Ntry[9]", "batch_mismatch"),
        ("Stmt[1]/Ntry[10]", "invalid_amount"),
        ("Stmt[1]/Ntry[11]", "missing_status"),
    ]
    assert all(p.reason for p in statement.problems)
    assert statement.closing is None  # unreadable, and reported


@pytest.mark.parametrize("message", ["053", "054"])
@pytest.mark.parametrize("version", range(2, 14))
def test_every_version_from_02_to_13_reads_alike_and_records_its_version(message: str, version: int) -> None:
    data = camt([CamtEntry("1234.56"), CamtEntry("0.01", "DBIT")], message=message, version=version)

    (statement,) = read_camt(data, max_bytes=LIMIT).statements

    assert statement.format == f"camt.{message}.001.{version:02d}"
    assert [(e.amount.minor, e.direction) for e in statement.entries] == [
        (123456, Direction.CREDIT),
        (1, Direction.DEBIT),
    ]
    assert statement.entries[0].counterparty == Party("Müller & Söhne KG", PAYER_IBAN, "RHBKDEDDXXX")


def test_an_account_without_a_currency_takes_the_first_amounts() -> None:
    data = camt([CamtEntry("10.00", currency="CHF")]).replace(b"<Ccy>EUR</Ccy>", b"")

    (statement,) = read_camt(data, max_bytes=LIMIT).statements

    assert (statement.currency, statement.entries[0].amount) == ("CHF", Money(1000, "CHF"))


def test_a_statement_without_an_account_is_reported_and_not_read() -> None:
    data = camt([CamtEntry("10.00")]).replace(f"<IBAN>{OUR_IBAN}</IBAN>".encode(), b"")

    result = read_camt(data, max_bytes=LIMIT)

    assert result.statements == ()
    assert [(p.location, p.code) for p in result.problems] == [("Stmt[1]", "incomplete_statement")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.01"/>',
            "unsupported_version",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">'
            b"<BkToCstmrAcctRpt/></Document>",
            "unsupported_format",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            b"<BkToCstmrDbtCdtNtfctn/></Document>",
            "unsupported_format",
        ),
        (b"<Document><BkToCstmrStmt/></Document>", "unsupported_format"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>',
            "malformed_xml",
        ),
    ],
)
def test_xml_that_is_not_a_readable_camt_is_refused_as_a_whole(data: bytes, code: str) -> None:
    with pytest.raises(StatementFileError) as refused:
        read_camt(data, max_bytes=LIMIT)

    assert (refused.value.problem.location, refused.value.problem.code) == ("file", code)


def test_a_truncated_file_gives_nothing_not_half_a_statement() -> None:
    data = camt([CamtEntry("1.00")] * 5)

    with pytest.raises(StatementFileError) as refused:
        read_camt(data[: len(data) - 40], max_bytes=LIMIT)

    assert refused.value.problem.code == "malformed_xml"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>&lol3;</Id>
</Stmt></BkToCstmrStmt></Document>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>&xxe;</Id>
</Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["xml-bomb", "external-entity"])
def test_entities_and_dtds_are_refused_never_expanded(data: bytes) -> None:
    with pytest.raises(StatementFileError) as refused:
        read_camt(data, max_bytes=LIMIT)

    assert refused.value.problem.code == "unsafe_xml"


def test_a_file_over_the_callers_limit_is_refused_before_parsing() -> None:
    data = camt([CamtEntry("1.00")])

    with pytest.raises(StatementFileError) as refused:
        read_camt(data, max_bytes=len(data) - 1)

    assert refused.value.problem.code == "file_too_large"


@pytest.mark.slow
def test_ten_thousand_entries_are_read_as_a_stream_in_bounded_memory() -> None:
    # Given a camt.053 of 10,000 entries (about 10 MB of XML)
    entries = [
        CamtEntry(f"{i % 5000}.{i % 100:02d}", remittance=f"INV-2024-{i:05d} Rechnung", reference=f"R{i:08d}")
        for i in range(10_000)
    ]
    data = camt(entries)

    # When it is read with allocations traced
    tracemalloc.start()
    try:
        (statement,) = read_camt(data, max_bytes=len(data)).statements
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then every entry is there, and the peak stays far below what the whole file's tree takes
    # (about 48 MiB for this file; the stream peaks near 10 MiB, mostly the entries it returns)
    assert len(statement.entries) == 10_000
    assert statement.entries[-1].position == "Stmt[1]/Ntry[10000]"
    assert peak < 25 * 1024 * 1024


CURRENCIES = st.sampled_from(["EUR", "JPY", "KWD", "USD"])


@st.composite
def written_amounts(draw: st.DrawFn) -> tuple[str, list[tuple[int, str]]]:
    """A currency and amounts as a file writes them: minor units, and the decimal string with
    as many decimals as the currency has, perhaps more zeros (``12.50``, ``12.5000``, ``12``)."""
    currency = draw(CURRENCIES)
    exponent = currency_exponent(currency)
    amounts: list[tuple[int, str]] = []
    for minor in draw(st.lists(st.integers(0, 10**14 - 1), min_size=1, max_size=5)):
        text = str(Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))
        padding = draw(st.integers(0, 5 - exponent))
        if padding:
            text += ("" if "." in text else ".") + "0" * padding
        amounts.append((minor, text))
    return currency, amounts


@settings(max_examples=60, deadline=None)
@given(written_amounts())
def test_amounts_written_as_decimal_strings_round_trip_exactly_to_money(
    drawn: tuple[str, list[tuple[int, str]]],
) -> None:
    currency, amounts = drawn
    data = camt([CamtEntry(text) for _, text in amounts], currency=currency)

    (statement,) = read_camt(data, max_bytes=LIMIT).statements

    assert [e.amount for e in statement.entries] == [Money(minor, currency) for minor, _ in amounts]
