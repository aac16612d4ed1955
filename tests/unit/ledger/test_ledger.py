"""The ledger's rules: the status machine, document identities, credits against a balance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, DueDateSource, Invoice, InvoiceStatus, SourceRef
from receivables.ledger.rules import (
    ALLOWED_TRANSITIONS,
    InvalidTransitionError,
    LedgerError,
    apply_credit,
    customer_id_for,
    document_id,
    transition,
)

S = InvoiceStatus


def make_invoice(payable: int = 10000, currency: str = "EUR", **changes: object) -> Invoice:
    zero = Money.zero(currency)
    invoice = Invoice(
        invoice_id="inv_test",
        seller_id="self",
        number="INV-1",
        customer_id="cus_test",
        currency=currency,
        issue_date=date(2026, 10, 1),
        due_date=date(2026, 10, 31),
        due_date_source=DueDateSource.DOCUMENT,
        total=Money(payable, currency),
        tax=zero,
        prepaid=zero,
        payable=Money(payable, currency),
        balance=Money(payable, currency),
        paid=zero,
        credited=zero,
        written_off=zero,
        status=S.OPEN,
        lines=(),
        fingerprint="f",
        source=SourceRef("b", "inbox/x.csv", "csv", "row 2"),
    )
    return replace(invoice, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "target"), list(product(S, S)))
def test_every_transition_is_either_allowed_or_refused(current: S, target: S) -> None:
    if target == current or target in ALLOWED_TRANSITIONS[current]:
        assert transition(current, target) is target
    else:
        with pytest.raises(InvalidTransitionError, match=f"{current} cannot become {target}"):
            transition(current, target)


@pytest.mark.parametrize("terminal", [S.VOID, S.CREDITED])
def test_void_and_credited_are_terminal(terminal: S) -> None:
    assert ALLOWED_TRANSITIONS[terminal] == frozenset()


def test_a_paid_invoice_can_reopen_but_not_be_voided() -> None:
    assert transition(S.PAID, S.OPEN) is S.OPEN
    with pytest.raises(InvalidTransitionError):
        transition(S.PAID, S.VOID)


def test_document_ids_are_derived_from_seller_type_and_number() -> None:
    first = document_id("vat:GB1232434", DocumentType.INVOICE, "Snippet1")
    assert first == document_id("vat:GB1232434", DocumentType.INVOICE, " Snippet1 ")
    assert first.startswith("inv_")
    assert first != document_id("vat:GB1232434", DocumentType.CREDIT_NOTE, "Snippet1")
    assert first != document_id("vat:GB9999999", DocumentType.INVOICE, "Snippet1")
    assert customer_id_for("vat:SE1") != customer_id_for("vat:SE2")


def test_a_partial_credit_reduces_the_balance_and_keeps_the_invoice_open() -> None:
    changed, applied = apply_credit(make_invoice(10000), Money(2500, "EUR"))
    assert applied == Money(2500, "EUR")
    assert changed.balance == Money(7500, "EUR")
    assert changed.credited == Money(2500, "EUR")
    assert changed.status is S.OPEN


def test_a_full_credit_makes_the_invoice_credited() -> None:
    changed, applied = apply_credit(make_invoice(10000), Money(10000, "EUR"))
    assert (changed.balance.minor, changed.status, applied.minor) == (0, S.CREDITED, 10000)


def test_a_credit_never_takes_the_balance_below_zero() -> None:
    changed, applied = apply_credit(make_invoice(10000), Money(15000, "EUR"))
    assert applied == Money(10000, "EUR")
    assert changed.balance.is_zero()


def test_a_credit_after_a_partial_payment_leaves_it_partially_paid_or_paid() -> None:
    partly_paid = make_invoice(
        10000, paid=Money(4000, "EUR"), balance=Money(6000, "EUR"), status=S.PARTIALLY_PAID
    )
    changed, _ = apply_credit(partly_paid, Money(1000, "EUR"))
    assert changed.status is S.PARTIALLY_PAID
    settled, _ = apply_credit(partly_paid, Money(6000, "EUR"))
    assert settled.status is S.PAID


def test_a_disputed_invoice_stays_disputed_while_something_is_owed() -> None:
    changed, _ = apply_credit(make_invoice(10000, status=S.DISPUTED), Money(1000, "EUR"))
    assert changed.status is S.DISPUTED


def test_a_void_invoice_absorbs_no_credit() -> None:
    changed, applied = apply_credit(make_invoice(10000, status=S.VOID), Money(1000, "EUR"))
    assert applied.is_zero()
    assert changed.balance == Money(10000, "EUR")


def test_credits_in_another_currency_or_not_positive_are_refused() -> None:
    with pytest.raises(LedgerError, match="USD"):
        apply_credit(make_invoice(10000), Money(100, "USD"))
    with pytest.raises(LedgerError, match="positive"):
        apply_credit(make_invoice(10000), Money(0, "EUR"))


@given(
    payable=st.integers(min_value=1, max_value=10**9),
    credits=st.lists(st.integers(min_value=1, max_value=10**9), max_size=8),
)
def test_credits_conserve_money(payable: int, credits: list[int]) -> None:
    invoice = make_invoice(payable)
    absorbed = 0
    for credit in credits:
        invoice, applied = apply_credit(invoice, Money(credit, "EUR"))
        absorbed += applied.minor
        assert applied.minor <= credit
    assert invoice.balance.minor >= 0
    assert invoice.balance.minor + invoice.credited.minor == payable
    assert invoice.credited.minor == absorbed
    assert (invoice.status is S.CREDITED) == (invoice.balance.minor == 0)


def test_a_small_balance_written_off_is_owed_again_when_its_payment_is_taken_back() -> None:
    from receivables.ledger.rules import apply_payment, reverse_payment, write_off_small_balance

    paid, _ = apply_payment(make_invoice(10000), Money(9996, "EUR"))
    settled = write_off_small_balance(paid)
    assert (settled.status, settled.balance, settled.written_off) == (
        S.PAID,
        Money(0, "EUR"),
        Money(4, "EUR"),
    )
    refunded = reverse_payment(settled, Money(9996, "EUR"))
    assert (refunded.status, refunded.balance, refunded.written_off) == (
        S.OPEN,
        Money(10000, "EUR"),
        Money(0, "EUR"),
    )
    # A bad-debt write-off is another thing: nothing was paid, so nothing is taken back.
    with pytest.raises(LedgerError):
        write_off_small_balance(settled)
