"""The normalisations every reader shares: accounts as banks write them, BICs, text."""

from __future__ import annotations

import pytest
from stdnum import iban

from receivables.banking.reading import account_id, bic_or_none, clean_text, german_iban, iban_or_none


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("DE53200505500001234567", ("DE53200505500001234567", None)),
        ("de53 2005 0550 0001 2345 67", ("DE53200505500001234567", None)),
        ("NL20INGB0001234567EUR", ("NL20INGB0001234567", None)),  # ING's :25: with the currency
        ("20050550/0001234567", ("DE53200505500001234567", None)),  # BLZ/account
        ("20050550/1234567", ("DE53200505500001234567", None)),  # account without its zeros
        ("20050550/1234567EUR", ("DE53200505500001234567", None)),
        ("BSPKDEHHXXX/DE53200505500001234567", ("DE53200505500001234567", "BSPKDEHHXXX")),
        ("BSPKDEHH/12345678", ("12345678", "BSPKDEHH")),
        ("12345678", ("12345678", None)),  # the bank's own id, kept as given
    ],
)
def test_an_account_is_read_as_the_bank_writes_it(written: str, expected: tuple[str, str | None]) -> None:
    assert account_id(written) == expected


def test_a_german_iban_is_derived_with_valid_check_digits() -> None:
    derived = german_iban("30050110", "987654321")

    assert derived == "DE21300501100987654321"
    assert iban.is_valid(derived)
    assert german_iban("3005011", "987654321") is None  # a BLZ has 8 digits
    assert german_iban("30050110", "12345678901") is None  # an account at most 10


def test_only_valid_ibans_and_well_formed_bics_are_taken() -> None:
    assert iban_or_none("DE21 3005 0110 0987 6543 21") == "DE21300501100987654321"
    assert iban_or_none("DE22300501100987654321") is None  # a check digit off
    assert iban_or_none("") is None
    assert bic_or_none("rhbkdeddxxx") == "RHBKDEDDXXX"
    assert bic_or_none("KNALNL2A") == "KNALNL2A"
    assert bic_or_none("20050550") is None  # a BLZ, not a BIC


def test_text_is_put_on_one_line_without_control_characters() -> None:
    assert clean_text("  Rechnung\r\n INV-2024-0042\x00\x1b ") == "Rechnung INV-2024-0042"
    assert clean_text(" \n ") is None
    assert clean_text(None) is None
    assert len(clean_text("x" * 5000) or "") == 1000
