"""ISO 11649 creditor references: the standard's examples, generation, and finding them in text."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.banking.creditor_reference import (
    compact,
    creditor_reference,
    find_references,
    format,
    invoice_id_of,
    is_valid,
)


@pytest.mark.parametrize(
    "text", ["RF18 5390 0754 7034", "RF18539007547034", "rf18 5390 0754 7034", "RF18000000000539007547034"]
)
def test_the_standards_examples_are_valid(text: str) -> None:
    assert is_valid(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("RF17 5390 0754 7034", "wrong check digits"),
        ("RF18 5390 0754 7043", "two digits swapped"),
        ("RF18 5390 0754 7035", "one digit wrong"),
        ("RF18", "no body"),
        ("RF18 5390 0754 7034 0000 0000 0", "longer than 25 characters"),
        ("XX18 5390 0754 7034", "not RF"),
        ("RF18 5390 0754 703٤", "a non-ASCII digit"),
        ("RF1X 5390 0754 7034", "check digits that are not digits"),
    ],
)
def test_a_wrong_reference_is_refused(text: str, why: str) -> None:
    assert not is_valid(text), why


def test_compact_and_format_for_print() -> None:
    assert compact(" rf18 5390 0754 7034 ") == "RF18539007547034"
    assert format("RF18539007547034") == "RF18 5390 0754 7034"
    assert format("RF18000000000539007547034") == "RF18 0000 0000 0539 0075 4703 4"


def test_a_ledger_id_is_encoded_and_reads_back() -> None:
    ref = creditor_reference("inv_0123456789abcdef01234567")
    assert is_valid(ref) and len(ref) == 23
    assert invoice_id_of(ref) == "inv_0123456789abcdef01234567"
    assert invoice_id_of(format(ref)) == "inv_0123456789abcdef01234567"
    assert creditor_reference("inv_0123456789abcdef01234567") == ref  # deterministic


def test_other_text_is_hashed_to_the_longest_body() -> None:
    ref = creditor_reference("INV-2027-014")
    assert is_valid(ref) and len(ref) == 25 and ref == creditor_reference(" INV-2027-014 ")
    assert invoice_id_of(ref) is None  # a hashed reference tells no id
    assert creditor_reference("INV-2027-015") != ref
    # Upper-case hex is not the ledger's own id: hashed, so it cannot meet its lower-case twin.
    assert creditor_reference("inv_0123456789ABCDEF01234567") != creditor_reference(
        "inv_0123456789abcdef01234567"
    )


def test_an_empty_id_has_no_reference() -> None:
    with pytest.raises(ValueError, match="needed"):
        creditor_reference("  ")


def test_ten_thousand_ids_give_ten_thousand_valid_references() -> None:
    ledger_ids = [f"inv_{secrets.token_hex(12)}" for _ in range(10_000)]
    numbers = [f"INV-2027-{n:05d}" for n in range(10_000)]
    for ids in (ledger_ids, numbers):
        refs = [creditor_reference(i) for i in ids]
        assert all(is_valid(r) for r in refs)
        assert len(set(refs)) == len(set(ids)) == 10_000


@given(st.text(min_size=1, max_size=60).filter(lambda t: t.strip()))
def test_generated_references_validate(text: str) -> None:
    ref = creditor_reference(text)
    assert is_valid(ref) and is_valid(format(ref)) and compact(format(ref)) == ref
    # The reference first; a shorter join may follow when its check digits happen to fit.
    assert find_references(f"Zahlung {format(ref)}, danke")[0] == ref
    assert find_references(f"Zahlung {ref}")[0] == ref


@given(st.integers(min_value=0, max_value=16**24 - 1))
def test_every_ledger_id_round_trips(value: int) -> None:
    invoice_id = f"inv_{value:024x}"
    assert invoice_id_of(creditor_reference(invoice_id)) == invoice_id


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Rechnung RF18 5390 0754 7034, danke", ["RF18539007547034"]),
        ("RF18539007547034", ["RF18539007547034"]),
        ("paid rf18 5390 0754 7034", ["RF18539007547034"]),
        ("RF 18 5390 0754 7034 thanks", ["RF18539007547034"]),  # a longer word is not a group
        ("REF RF18 5390 0754 7034/INV", ["RF18539007547034"]),
        (
            "two: RF18 5390 0754 7034 and RF18000000000539007547034",
            ["RF18539007547034", "RF18000000000539007547034"],
        ),
        ("RF17 5390 0754 7034", []),  # a mistyped reference is not read as another one
        ("SURF18 5390 0754 7034", []),  # RF inside a word
        ("no reference here 1234", []),
        ("", []),
    ],
)
def test_references_are_found_in_free_text(text: str, found: list[str]) -> None:
    assert find_references(text) == found
