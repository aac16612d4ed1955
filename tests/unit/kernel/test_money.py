"""Money: exact parsing, formatting, arithmetic and rounding (examples and properties)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.kernel.money import (
    ISO_4217_CODES,
    CurrencyMismatchError,
    Money,
    MoneyError,
    currency_exponent,
    parse_decimal,
    sum_money,
)

currencies = st.sampled_from(sorted(ISO_4217_CODES))
minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("JPY", 0), ("KRW", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3), ("TND", 3), ("CLF", 4)],
)
def test_exponents_follow_iso_4217(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1656.25", "EUR", 165625),
        ("25", "EUR", 2500),
        ("0.5", "EUR", 50),
        ("330000", "JPY", 330000),
        ("1250.750", "KWD", 1250750),
        ("1,234.56", "USD", 123456),
        ("1.234,56", "EUR", 123456),
        ("1 234,56", "EUR", 123456),
        ("1'234.50", "CHF", 123450),
        ("-12.30", "EUR", -1230),
        ("12,5", "EUR", 1250),
    ],
)
def test_parse_reads_decimal_strings_exactly(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


def test_a_semicolon_file_reads_a_lone_comma_as_decimal_comma() -> None:
    assert Money.parse("1234,560", "KWD", decimal_comma=True) == Money(1234560, "KWD")
    assert Money.parse("1,23", "EUR", decimal_comma=True) == Money(123, "EUR")
    with pytest.raises(MoneyError, match="more than 2 decimal"):
        Money.parse("1,234", "EUR", decimal_comma=True)  # 1.234 EUR, not 1234 EUR


def test_a_lone_comma_before_three_digits_is_ambiguous_without_context() -> None:
    assert parse_decimal("1,234") == Decimal("1234")  # grouping, as in 1,234
    with pytest.raises(MoneyError, match="ambiguous"):
        parse_decimal("1,23,4")


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("12.345", "EUR", "more than 2 decimal"),
        ("1.5", "JPY", "more than 0 decimal"),
        ("12.3456", "KWD", "more than 3 decimal"),
        ("abc", "EUR", "not a number"),
        ("", "EUR", "empty"),
        ("NaN", "EUR", "finite"),
        ("12", "EURO", "unknown currency"),
        ("12", "XTS", "unknown currency"),
    ],
)
def test_parse_refuses_what_it_cannot_represent(text: str, currency: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        Money.parse(text, currency)


def test_floats_never_become_money() -> None:
    with pytest.raises(MoneyError, match="float"):
        Money.parse(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="int"):
        Money(1.0, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100, "EUR").times(0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(165625, "EUR"), "1656.25"),
        (Money(5, "EUR"), "0.05"),
        (Money(-5, "EUR"), "-0.05"),
        (Money(330000, "JPY"), "330000"),
        (Money(5, "KWD"), "0.005"),
    ],
)
def test_decimal_strings_at_the_edges(money: Money, text: str) -> None:
    assert money.to_decimal_string() == text


# What the edges take: under 10^15 major units, so under 10^15 minor units in every currency.
parseable_minor_units = st.integers(min_value=-(10**15 - 1), max_value=10**15 - 1)


@given(minor=parseable_minor_units, currency=currencies)
def test_decimal_string_round_trips(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.to_decimal_string(), currency) == money
    assert Money.from_decimal(money.to_decimal(), currency) == money


@given(
    major=st.integers(min_value=10**15, max_value=10**40), currency=currencies, sign=st.sampled_from([1, -1])
)
def test_an_amount_of_a_quadrillion_major_units_or_more_is_refused_never_rounded(
    major: int, currency: str, sign: int
) -> None:
    with pytest.raises(MoneyError, match="out of range"):
        Money.parse(str(sign * major), currency)


@given(a=minor_units, b=minor_units, c=minor_units, currency=currencies)
def test_addition_is_exact_associative_and_commutative(a: int, b: int, c: int, currency: str) -> None:
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert (x + y - y) == x
    assert (x + y).minor == a + b


def test_currencies_do_not_mix() -> None:
    with pytest.raises(CurrencyMismatchError):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(CurrencyMismatchError):
        assert Money(1, "EUR") < Money(2, "USD")


@given(
    minor=minor_units,
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_allocate_loses_and_creates_nothing(minor: int, weights: list[int]) -> None:
    parts = Money(minor, "EUR").allocate(weights)
    assert sum(p.minor for p in parts) == minor
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(minor) * weight / total
        assert abs(Decimal(part.minor) - exact) < 1


@pytest.mark.parametrize(
    ("minor", "rate", "expected"),
    [
        (250, Decimal(1), 2),  # 2.5 → 2 (half-even)
        (350, Decimal(1), 4),  # 3.5 → 4
        (10000, Decimal("2.5"), 250),
        (999, Decimal("10"), 100),  # 99.9 → 100
        (12345, Decimal("0.1"), 12),  # 12.345 → 12
    ],
)
def test_percent_rounds_once_half_even(minor: int, rate: Decimal, expected: int) -> None:
    assert Money(minor, "EUR").percent(rate) == Money(expected, "EUR")


@given(
    minor=st.integers(min_value=0, max_value=10**12), rate=st.decimals(min_value=0, max_value=100, places=4)
)
def test_percent_is_within_half_a_unit_of_the_exact_value(minor: int, rate: Decimal) -> None:
    result = Money(minor, "EUR").percent(rate)
    exact = Decimal(minor) * rate / 100
    assert abs(Decimal(result.minor) - exact) <= Decimal("0.5")


def test_sum_of_nothing_is_zero() -> None:
    assert sum_money([], "JPY") == Money.zero("JPY")
    assert sum_money([Money(1, "JPY"), Money(2, "JPY")], "JPY") == Money(3, "JPY")
