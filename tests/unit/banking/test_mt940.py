"""MT940 through the mt-940 library: German structured :86:, slash-keyed :86:, plain :86:,
several statements in a file, reversals and returns, bad lines among good ones."""

from __future__ import annotations

from datetime import date

import pytest

from receivables.banking.mt940 import read_mt940
from receivables.banking.reading import ReadResult, StatementFileError
from receivables.banking.statement import Direction, Party, Statement
from receivables.kernel.money import Money
from tests.unit.banking.builders import OUR_IBAN, PAYER_IBAN, fixture

LIMIT = 10 * 1024 * 1024


def read(name: str) -> ReadResult:
    return read_mt940(fixture(name), max_bytes=LIMIT)


def only_statement(name: str) -> Statement:
    result = read(name)
    assert result.problems == ()
    (statement,) = result.statements
    return statement


def signed_sum(statement: Statement) -> int:
    return sum(
        e.amount.minor if e.direction is Direction.CREDIT else -e.amount.minor for e in statement.entries
    )


@pytest.mark.parametrize("name", ["mt940-german-sepa.sta", "mt940-two-statements.sta", "mt940-ing-style.sta"])
def test_each_dialect_reads_balances_that_its_entries_reconcile(name: str) -> None:
    for statement in read(name).statements:
        assert statement.format == "mt940"
        assert statement.problems == ()
        assert statement.opening is not None
        assert statement.closing is not None
        assert statement.opening.amount.minor + signed_sum(statement) == statement.closing.amount.minor


def test_a_german_statement_in_its_swift_envelope_reads_the_blz_account_as_an_iban() -> None:
    statement = only_statement("mt940-german-sepa.sta")

    assert (statement.statement_id, statement.sequence) == ("STARTUMSE", "00061/001")
    assert (statement.account_iban, statement.currency) == (OUR_IBAN, "EUR")
    assert statement.opening is not None
    assert statement.closing is not None
    assert (statement.opening.kind, statement.opening.amount, statement.opening.on) == (
        "OPBD",
        Money(1250000, "EUR"),
        date(2024, 2, 29),
    )
    assert (statement.closing.kind, statement.closing.amount) == ("CLBD", Money(1626510, "EUR"))
    assert len(statement.entries) == 5


def test_the_german_structured_details_give_payer_remittance_and_references() -> None:
    # Given a SEPA credit with ?00 posting text, ?20-?23 purpose (EREF+, KREF+, SVWZ+ across
    # lines), ?30 BIC, ?31 IBAN and ?32 name in ISO 8859-1
    credit = only_statement("mt940-german-sepa.sta").entries[0]

    assert credit.position == ":20:[1]/:61:[1]"
    assert (credit.amount, credit.direction, credit.reversal) == (
        Money(119000, "EUR"),
        Direction.CREDIT,
        False,
    )
    assert (credit.value_date, credit.booking_date) == (date(2024, 3, 1), date(2024, 3, 1))
    assert credit.bank_reference == "2024030100012345"
    assert credit.counterparty == Party("Müller & Söhne KG", PAYER_IBAN, "RHBKDEDDXXX")
    assert credit.remittance.unstructured == ("INV-2024-0042 Rechnung vom 12.02.2024",)
    assert credit.remittance.end_to_end_id == "MS-2024-0311"
    assert credit.bank_transaction_code == "NTRF/166"
    assert credit.additional_info == "SEPA-GUTSCHRIFT"


def test_a_german_return_reads_its_reason_from_the_purpose_or_from_field_34() -> None:
    entries = only_statement("mt940-german-sepa.sta").entries
    direct_debit, transfer = entries[1], entries[2]

    # A Rücklastschrift whose SVWZ+ says "RTRN MD06" (?34 holds the bank's own 901)
    assert (direct_debit.direction, direct_debit.return_reason) == (Direction.DEBIT, "MD06")
    assert direct_debit.counterparty.name == "Weber Maschinenbau GmbH"
    assert direct_debit.remittance.end_to_end_id == "NL-COLL-2024-0007"
    # A Retoure of our transfer, AC04 in ?34
    assert (transfer.direction, transfer.return_reason) == (Direction.CREDIT, "AC04")
    assert transfer.remittance.end_to_end_id == "REFUND-2024-0003"


def test_an_ultimate_debtor_and_an_rf_reference_in_the_purpose_are_kept() -> None:
    credit = only_statement("mt940-german-sepa.sta").entries[3]

    assert credit.remittance.unstructured == ("RF18539007547034",)
    assert credit.remittance.end_to_end_id is None  # NOTPROVIDED
    assert credit.additional_info == "SEPA-GUTSCHRIFT; ultimate debtor (ABWA+): Alpenblick Holding GmbH"


def test_bank_charges_have_no_counterparty_and_no_reference() -> None:
    charges = only_statement("mt940-german-sepa.sta").entries[4]

    assert (charges.amount, charges.direction) == (Money(990, "EUR"), Direction.DEBIT)
    assert (charges.counterparty, charges.bank_reference) == (Party(), None)
    assert charges.remittance.unstructured == ("Kontofuehrung 02/2024",)


def test_two_statements_in_one_file_are_two_with_intermediate_balances_between_them() -> None:
    first, second = read("mt940-two-statements.sta").statements

    assert (first.statement_id, first.sequence, second.sequence) == ("EXPORT-0042-1", "00042/1", "00042/2")
    assert first.opening is not None
    assert first.closing is not None
    assert second.opening is not None
    assert first.opening.amount == Money(-25000, "USD")  # a debit balance
    assert (first.closing.kind, second.opening.kind) == ("ITBD", "ITBD")
    assert first.closing.amount == second.opening.amount
    assert [e.position for e in second.entries] == [":20:[2]/:61:[1]"]


def test_plain_details_are_kept_as_their_lines_and_the_entry_date_is_the_booking_date() -> None:
    first, second = read("mt940-two-statements.sta").statements

    wire = first.entries[0]
    assert wire.remittance.unstructured == (
        "Payment from Fjordline Logistics AS",
        "Invoice INV-2024-0058 PO 77812",
    )
    assert wire.bank_reference == "BK0305-0001"
    late = second.entries[0]
    assert (late.value_date, late.booking_date) == (date(2024, 3, 5), date(2024, 3, 6))
    assert late.additional_info == "INWARD WIRE"  # the :61: supplementary details
    assert late.amount == Money(98001, "USD")


def test_slash_keyed_details_give_counterparty_free_text_and_structured_reference() -> None:
    statement = only_statement("mt940-ing-style.sta")
    free, structured = statement.entries[0], statement.entries[1]

    assert (statement.account_iban, statement.sequence) == ("NL20INGB0001234567", "00012")  # EUR suffix gone
    assert free.counterparty == Party("Van Dijk Installatie B.V.", "NL44RABO0123456789", "KNALNL2A")
    assert free.remittance.unstructured == ("INV-2024-0061 en INV-2024-0062",)
    assert free.remittance.end_to_end_id == "VDIJ-2024-0311"
    assert structured.remittance.structured == ("RF47INV20240043",)
    assert structured.remittance.end_to_end_id is None


def test_a_slash_keyed_return_and_a_reversal_of_a_credit_are_debits() -> None:
    statement = only_statement("mt940-ing-style.sta")
    returned, reversal = statement.entries[2], statement.entries[3]

    assert (returned.direction, returned.return_reason, returned.reversal) == (Direction.DEBIT, "MS03", False)
    assert returned.remittance.end_to_end_id == "NL-COLL-2024-0009"
    assert (reversal.direction, reversal.reversal) == (Direction.DEBIT, True)  # RC
    assert reversal.amount == Money(7500, "EUR")
    # The statement's summary :86: after the closing balance is not taken for this line's details
    assert reversal.remittance.unstructured == ("Correctie dubbele bijschrijving 29-02",)
    assert "SUM" not in (reversal.additional_info or "")


def test_a_reversal_of_a_debit_is_a_credit() -> None:
    data = (
        b":20:RD-TEST\n:25:DE53200505500001234567\n:28C:1/1\n:60F:C240301EUR100,00\n"
        b":61:2403010301RD25,50NMSCNONREF//RD-0001\n:86:Storno Lastschrift\n:62F:C240301EUR125,50\n"
    )

    (statement,) = read_mt940(data, max_bytes=LIMIT).statements

    entry = statement.entries[0]
    assert (entry.direction, entry.reversal, entry.amount) == (Direction.CREDIT, True, Money(2550, "EUR"))


def test_bad_lines_are_named_with_their_reasons_and_the_good_ones_go_through() -> None:
    result = read("mt940-bad-lines.sta")
    (statement,) = result.statements

    assert [e.position for e in statement.entries] == [":20:[1]/:61:[1]", ":20:[1]/:61:[6]"]
    assert [(p.position, p.code) for p in statement.problems] == [
        (":20:[1]/:61:[2]", "unreadable_line"),
        (":20:[1]/:61:[3]", "invalid_date"),
        (":20:[1]/:61:[4]", "invalid_amount"),
        (":20:[1]/:61:[5]", "invalid_amount"),
    ]
    # The second statement's opening balance cannot be read: that statement is reported whole
    assert [(p.location, p.code) for p in result.problems] == [(":20:[2]", "unreadable_statement")]
    assert ":60F:" in result.problems[0].message


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("1190,00", 119000),
        ("0,01", 1),
        ("1000,", 100000),
        ("12,5", 1250),
        ("999999999999,99", 99999999999999),
    ],
)
def test_decimal_comma_amounts_become_exact_money(amount: str, minor: int) -> None:
    data = (
        f":20:AMOUNTS\n:25:{OUR_IBAN}\n:60F:C240301EUR0,00\n"
        f":61:2403010301C{amount}NTRFNONREF\n:86:x\n:62F:C240301EUR0,00\n"
    ).encode()

    (statement,) = read_mt940(data, max_bytes=LIMIT).statements

    assert statement.entries[0].amount == Money(minor, "EUR")


def test_a_line_without_a_transaction_type_is_not_merged_into_the_next() -> None:
    # The library marks a transaction complete by its type code; a line without one would
    # otherwise take the next line's data.
    data = (
        f":20:NO-TYPE\n:25:{OUR_IBAN}\n:60F:C240301EUR0,00\n"
        ":61:2403010301C10,00\n:86:first\n:61:2403010301C20,00\n:86:second\n:62F:C240301EUR30,00\n"
    ).encode()

    (statement,) = read_mt940(data, max_bytes=LIMIT).statements

    assert [(e.amount.minor, e.remittance.unstructured) for e in statement.entries] == [
        (1000, ("first",)),
        (2000, ("second",)),
    ]


def test_a_line_reference_and_a_kref_of_the_details_stay_apart() -> None:
    data = (
        f":20:KREF\n:25:{OUR_IBAN}\n:60F:C240301EUR0,00\n"
        ":61:2403010301C10,00NTRFMYREF123//BANKREF1\n"
        ":86:166?00SEPA-GUTSCHRIFT?20KREF+KUNDE-77?21SVWZ+INV-2024-0099\n:62F:C240301EUR10,00\n"
    ).encode()

    (statement,) = read_mt940(data, max_bytes=LIMIT).statements

    entry = statement.entries[0]
    assert (entry.bank_reference, entry.remittance.unstructured) == ("BANKREF1", ("INV-2024-0099",))


def test_a_utf8_file_is_read_as_utf8_and_a_bom_does_not_hide_the_first_tag() -> None:
    data = (
        "\ufeff:20:UTF8\n:25:DE53200505500001234567\n:60F:C240301EUR0,00\n"
        ":61:2403010301C10,00NTRFNONREF\n:86:166?00GUTSCHRIFT?20SVWZ+Danke?32Jørgensen Ærø\n"
        ":62F:C240301EUR10,00\n"
    ).encode()

    (statement,) = read_mt940(data, max_bytes=LIMIT).statements

    assert statement.statement_id == "UTF8"
    assert statement.entries[0].counterparty.name == "Jørgensen Ærø"


def test_text_without_a_statement_tag_and_a_file_over_the_limit_are_refused() -> None:
    with pytest.raises(StatementFileError) as no_tag:
        read_mt940(b"hello\n", max_bytes=LIMIT)
    with pytest.raises(StatementFileError) as too_large:
        read_mt940(fixture("mt940-german-sepa.sta"), max_bytes=100)

    assert (no_tag.value.problem.code, too_large.value.problem.code) == (
        "unsupported_format",
        "file_too_large",
    )


def test_a_statement_without_an_account_is_reported() -> None:
    result = read_mt940(b":20:NOACCOUNT\n:60F:C240301EUR0,00\n:62F:C240301EUR0,00\n", max_bytes=LIMIT)

    assert result.statements == ()
    assert [(p.location, p.code) for p in result.problems] == [(":20:[1]", "incomplete_statement")]
