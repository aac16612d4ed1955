"""Deduction rules: reasons from remittances, the split, the checks, the owner's decision; and,
over generated short payments, that no cent is created or lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.disputes.deduction_rules import (
    DeductionPolicy,
    OwnerRule,
    Part,
    RemittanceLine,
    check_discount,
    check_pricing,
    decide_open,
    lines_in_text,
    policy_from_json,
    reason_in_text,
    says_on_account,
    split,
    total,
)
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.rules import apply_credit, apply_payment, write_off_small_balance
from receivables.ledger.terms import CashDiscount
from tests.unit.ledger.test_ledger import make_invoice


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("less 2% Skonto", "early_payment_discount"),
        ("escompte 2 %", "early_payment_discount"),
        ("cash discount taken", "early_payment_discount"),
        ("price difference", "pricing"),
        ("Preisdifferenz", "pricing"),
        ("2 cartons damaged", "short_delivery"),
        ("Fehlmenge 3 Stk", "short_delivery"),
        ("freight charged in error", "freight"),
        ("returned goods RMA 5", "returns"),
        ("co-op advertising allowance", "promotion"),
        ("INV-2026-1001", None),
    ],
)
def test_reasons_are_read_from_the_remittance_text(text: str, reason: str | None) -> None:
    assert reason_in_text(text) == reason


@pytest.mark.parametrize(
    ("text", "on_account"),
    [
        ("Invoice INV-2026-1005 part payment", True),
        ("partial payment 1 of 3", True),
        ("2nd instalment INV-9", True),
        ("Teilzahlung RE 4711", True),
        ("acompte facture 12", True),
        ("INV-9 less damaged goods", False),
        ("INV-9", False),
    ],
)
def test_a_remittance_calling_itself_a_part_payment_is_on_account(text: str, on_account: bool) -> None:
    assert says_on_account(text) is on_account


def test_the_customers_own_codes_come_before_everyone_elses() -> None:
    policy = DeductionPolicy(reason_codes={"cus_a": {"PD": "freight"}, "*": {"Z9": "returns"}})
    assert policy.reason_for("cus_a", "pd") == "freight"  # their mapping, whatever the case
    assert policy.reason_for("cus_b", "PD") == "pricing"  # the common code
    assert policy.reason_for("cus_b", "Z9") == "returns"  # everyone's mapping
    assert policy.reason_for("cus_b", "Q1", "damaged on arrival") == "short_delivery"  # the words
    assert policy.reason_for("cus_b", "Q1") is None


def test_amounts_beside_reasons_in_free_text_become_lines() -> None:
    lines = lines_in_text("INV-7: Skonto 47,60; damaged 1.120,00 EUR; paid 2332.40", "EUR")
    assert [(line.note, line.amount) for line in lines] == [
        ("Skonto", eur("47.60")),
        ("damaged", eur("1120.00")),
    ]
    assert lines_in_text("short shipped", "EUR") == [RemittanceLine(note="short shipped")]
    assert lines_in_text("INV-7 4471", "EUR") == []


def test_one_shortfall_is_split_by_reason_and_the_rest_takes_the_first_named() -> None:
    policy = DeductionPolicy()
    lines = [
        RemittanceLine(amount=eur("40.00"), code="PD"),
        RemittanceLine(amount=eur("15.00"), note="freight"),
        RemittanceLine(amount=eur("10.00"), code="PD"),
    ]
    parts = split(eur("100.00"), lines, "cus_a", policy)
    assert [(p.reason, p.amount) for p in parts] == [
        ("pricing", eur("50.00")),
        ("freight", eur("15.00")),
        ("pricing", eur("35.00")),
    ]
    # Lines claiming more than the shortfall are cut to it; nothing named: the default reason.
    assert [(p.reason, p.amount) for p in split(eur("30.00"), lines, "cus_a", policy)] == [
        ("pricing", eur("30.00"))
    ]
    assert [(p.reason, p.amount) for p in split(eur("9.99"), [], "cus_a", policy)] == [("other", eur("9.99"))]


def test_an_early_payment_discount_is_valid_only_in_its_period_and_up_to_its_amount() -> None:
    discount = CashDiscount(Decimal(2), 10)
    part = Part("early_payment_discount", eur("47.60"))
    issued, payable = date(2026, 10, 28), eur("2380.00")
    (valid,) = check_discount(part, discount, issued, date(2026, 11, 7), payable)
    assert valid.validity == "valid"
    (late,) = check_discount(part, discount, issued, date(2026, 11, 8), payable)
    assert late.validity == "invalid" and "1 day(s) after" in late.check
    greedy = check_discount(replace(part, amount=eur("60.00")), discount, issued, date(2026, 11, 1), payable)
    assert [(p.amount, p.validity) for p in greedy] == [(eur("47.60"), "valid"), (eur("12.40"), "invalid")]
    (none,) = check_discount(part, None, issued, date(2026, 11, 1), payable)
    assert none.validity == "invalid" and "grant no early-payment discount" in none.check
    # A cent of rounding is let through.
    (rounded,) = check_discount(
        replace(part, amount=eur("47.61")), discount, issued, date(2026, 11, 1), payable
    )
    assert rounded.validity == "valid"


def test_a_pricing_claim_is_valid_up_to_what_the_lines_are_overbilled() -> None:
    part = Part("pricing", eur("80.00"))
    assert [(p.amount, p.validity) for p in check_pricing(part, eur("50.00"), "the price list")] == [
        (eur("50.00"), "valid"),
        (eur("30.00"), "invalid"),
    ]
    assert check_pricing(part, eur("0.00"), "PO 7")[0].check == "every line agrees with PO 7"
    assert check_pricing(part, None, "")[0].validity == "open"


def test_owners_are_chosen_by_the_most_specific_rule() -> None:
    policy = DeductionPolicy(
        owners=(
            OwnerRule("*", "*", "ar@s.example"),
            OwnerRule("short_delivery", "*", "logistics@s.example"),
            OwnerRule("*", "cus_big", "kam@s.example"),
        )
    )
    assert policy.owner_for("pricing", "cus_a") == "ar@s.example"
    assert policy.owner_for("short_delivery", "cus_a") == "logistics@s.example"
    assert policy.owner_for("short_delivery", "cus_big") == "kam@s.example"
    assert DeductionPolicy().owner_for("pricing", "cus_a") is None


def test_the_policy_round_trips_and_names_each_bad_field() -> None:
    policy = DeductionPolicy(
        tolerance={"EUR": eur("2.50"), "JPY": Money(300, "JPY")},
        reason_codes={"*": {"Z1": "freight"}},
        owners=(OwnerRule("pricing", "*", "p@s.example"),),
    )
    assert policy_from_json(policy.to_json()) == policy
    with pytest.raises(InvalidRequestError) as bad:
        policy_from_json(
            {
                "tolerance": {"EUR": "-1.00"},
                "default_reason": "weather",
                "reason_codes": {"cus_a": {"Z1": "luck"}},
                "owners": [{"reason": "pricing"}],
                "colour": "red",
            }
        )
    assert [e.field for e in bad.value.errors] == [
        "colour",
        "tolerance.EUR",
        "default_reason",
        "reason_codes.cus_a.Z1",
        "owners[0]",
    ]


# --- conservation, over generated short payments ------------------------------------------------
amounts = st.integers(min_value=1, max_value=10_000_000)


@st.composite
def short_payments(draw: st.DrawFn) -> tuple[int, int, list[RemittanceLine], int | None, int]:
    payable = draw(st.integers(min_value=2, max_value=10_000_000))
    paid = draw(st.integers(min_value=1, max_value=payable - 1))
    lines = [
        RemittanceLine(
            amount=draw(st.one_of(st.none(), amounts.map(lambda m: Money(m, "EUR")))),
            code=draw(st.sampled_from([None, "PD", "CD", "SH", "FR", "RT", "XX"])),
            note=draw(st.sampled_from(["", "damaged", "skonto", "freight"])),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    credit = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=payable)))
    tolerance = draw(st.integers(min_value=0, max_value=1000))
    return payable, paid, lines, credit, tolerance


@given(short_payments(), st.integers(min_value=-5, max_value=40))
def test_deductions_never_create_or_lose_a_cent(
    case: tuple[int, int, list[RemittanceLine], int | None, int], days_late: int
) -> None:
    payable, paid, lines, credit, tolerance_minor = case
    policy = DeductionPolicy(tolerance={"EUR": Money(tolerance_minor, "EUR")})
    invoice, _ = apply_payment(make_invoice(payable), Money(paid, "EUR"))
    shortfall = invoice.balance
    if shortfall <= policy.tolerance_in("EUR"):
        invoice = write_off_small_balance(invoice)
        assert invoice.balance.is_zero() and invoice.written_off == shortfall
    else:
        parts = split(shortfall, lines, "cus_a", policy)
        assert total(parts, "EUR") == shortfall
        checked: list[Part] = []
        for part in parts:
            if part.reason == "early_payment_discount":
                pieces = check_discount(
                    part,
                    CashDiscount(Decimal(2), 10),
                    date(2026, 10, 1),
                    date(2026, 10, 11) + timedelta(days=days_late),
                    invoice.payable,
                )
            elif part.reason == "pricing":
                pieces = check_pricing(part, Money(credit or 0, "EUR"), "the price list")
            else:
                pieces = [part]
            assert total(pieces, "EUR") == part.amount
            checked.extend(pieces)
        decided = decide_open(checked, None if credit is None else Money(credit, "EUR"), "owner")
        assert total(decided, "EUR") == shortfall
        assert all(p.validity in ("valid", "invalid") for p in decided)
        valid = total(decided, "EUR", "valid")
        if valid.minor:
            invoice, applied = apply_credit(invoice, valid)
            assert applied == valid
        # What is not valid is still owed on the invoice: deducted = valid + invalid.
        assert invoice.balance == total(decided, "EUR", "invalid")
    # invoice = paid + deducted (credited, or still open) + written off
    assert invoice.payable == invoice.paid + invoice.credited + invoice.written_off + invoice.balance
