"""Payment terms read from free text, and due dates computed from them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from receivables.ledger.terms import CashDiscount, PaymentTerms, parse_payment_terms


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Payment within 30 days", PaymentTerms(30)),
        ("Payment within 10 days, 2% discount", PaymentTerms(10, discount=CashDiscount(Decimal(2), 10))),
        ("2/10 net 30", PaymentTerms(30, discount=CashDiscount(Decimal(2), 10))),
        ("1.5/15 n45", PaymentTerms(45, discount=CashDiscount(Decimal("1.5"), 15))),
        ("2% 10 days, net 30 days", PaymentTerms(30, discount=CashDiscount(Decimal(2), 10))),
        ("net 45 EOM", PaymentTerms(45, end_of_month=True)),
        ("Net 45", PaymentTerms(45)),
        ("N30", PaymentTerms(30)),
        ("30 days net", PaymentTerms(30)),
        ("8 days 2% discount, 30 days net", PaymentTerms(30, discount=CashDiscount(Decimal(2), 8))),
        ("14 Tage 3 % Skonto, 30 Tage netto", PaymentTerms(30, discount=CashDiscount(Decimal(3), 14))),
        ("Zahlbar innerhalb 14 Tagen", PaymentTerms(14)),
        ("30 jours fin de mois", PaymentTerms(30, end_of_month=True)),
        ("Net 30 EOM", PaymentTerms(30, end_of_month=True)),
        ("60 dagen", PaymentTerms(60)),
        ("Due on receipt", PaymentTerms(0)),
        ("Pay by bank transfer", None),
        ("", None),
        (None, None),
    ],
)
def test_terms_are_read_from_text(text: str | None, terms: PaymentTerms | None) -> None:
    assert parse_payment_terms(text) == terms


def test_due_date_counts_from_the_issue_date() -> None:
    assert PaymentTerms(30).due_date(date(2018, 8, 30)) == date(2018, 9, 29)
    assert PaymentTerms(0).due_date(date(2026, 2, 1)) == date(2026, 2, 1)


def test_end_of_month_terms_count_from_the_last_day_of_the_issue_month() -> None:
    assert PaymentTerms(30, end_of_month=True).due_date(date(2026, 1, 15)) == date(2026, 3, 2)
    assert PaymentTerms(0, end_of_month=True).due_date(date(2024, 2, 10)) == date(2024, 2, 29)


def test_a_discount_has_its_deadline_and_its_amount_exactly() -> None:
    terms = parse_payment_terms("2/10 net 30")
    assert terms is not None and terms.discount is not None
    assert terms.discount.deadline(date(2026, 11, 2)) == date(2026, 11, 12)
    assert terms.discount.of(119_000) == 2_380 and terms.discount.of(25) == 0  # 0.5 rounds to even
