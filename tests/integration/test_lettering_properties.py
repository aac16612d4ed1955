"""Lettering on the real store, drawn by hypothesis: lettering by hand never puts more on
invoices than the line holds or an invoice owes, and undoing a lettering (by hand or
automatic) gives back exactly the ledger it found. Each example runs on a fresh table."""

from __future__ import annotations

import contextlib
import itertools
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receivables.banking import review
from receivables.banking.intake import import_statement_file
from receivables.disputes.deductions import deduction_id_for, get_deduction
from receivables.kernel.errors import ConflictError
from receivables.kernel.money import Money
from receivables.storage import store
from receivables_local.statement_files import Line, camt053
from tests.integration.conftest import REGION
from tests.integration.test_bank_statements import LEDGER, inv

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

WILLOW = ("B-101", "B-102", "B-103")  # one customer's invoices: 400.00, 250.00, 150.00
_tables = itertools.count()


def _fresh_ledger(aws: Aws) -> None:
    n = next(_tables)
    store.bind(f"lettering-{n}", REGION)
    store.create_table()
    aws.drop(f"inbox/lettering-{n}.csv", LEDGER)


def _ledger_state(payment_ids: list[str]) -> dict[str, Any]:
    """What the books say of Willow's invoices and of these receipts (not versions or times)."""
    state: dict[str, Any] = {}
    for number in WILLOW:
        invoice = store.get_invoice(inv(number))
        assert invoice is not None
        state[number] = (invoice.status, invoice.balance, invoice.paid, invoice.credited, invoice.written_off)
    for payment_id in payment_ids:
        payment = store.get_payment(payment_id)
        assert payment is not None
        state[payment_id] = (payment.unapplied, payment.allocations, payment.refunded, payment.amount)
    return state


def _import_one(aws: Aws, line: Line, n: int) -> review.BankLine:
    report = import_statement_file(
        camt053([line], statement_id=f"P{n}", sequence=str(n)), f"{n}.xml", aws.clock
    )
    return review.get_line(report.statements[0].lines[0].line_id)


@pytest.mark.xdist_group("lettering_properties")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    earlier=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 40000)), max_size=3),
    line_cents=st.integers(1, 90000),
    split=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 50000)), min_size=1, max_size=3),
)
def test_lettering_by_hand_is_bounded_and_unlettering_restores_the_ledger_exactly(
    aws: Aws, earlier: list[tuple[int, int]], line_cents: int, split: list[tuple[int, int]]
) -> None:
    _fresh_ledger(aws)
    # Given some of Willow's invoices partly paid already, and a transfer from an unknown payer
    for n, (target, cents) in enumerate(earlier):
        number = WILLOW[target]
        amount = Money(cents, "EUR").to_decimal_string()
        _import_one(aws, Line(amount, "Willow Foods", text=number, bank_ref=f"E{n}"), 10 + n)
    line = _import_one(
        aws, Line(Money(line_cents, "EUR").to_decimal_string(), "?", text="x", bank_ref="L"), 1
    )
    assert line.body["status"] == "review"
    payment_id = str(line.body["payment_id"])
    before = _ledger_state([payment_id])
    targets: dict[str, Money] = {}
    for target, cents in split:
        targets[inv(WILLOW[target])] = targets.get(inv(WILLOW[target]), Money(0, "EUR")) + Money(cents, "EUR")

    # When finance letters it to the drawn invoices and amounts (refused whole when too much)
    lettered = False
    with contextlib.suppress(ConflictError):
        review.letter_line(line.line_id, targets, "ana", aws.clock)
        lettered = True

    # Then no more than the line, nor than any invoice owed, went on the invoices
    after = _ledger_state([payment_id])
    if not lettered:
        assert after == before
        return
    assert sum(targets.values(), Money(0, "EUR")) <= Money(line_cents, "EUR")
    for number in WILLOW:
        assert before[number][1] - after[number][1] == targets.get(inv(number), Money(0, "EUR"))
        assert after[number][1].minor >= 0
    payment = store.get_payment(payment_id)
    assert payment is not None and payment.unapplied + payment.allocated == payment.amount

    # And undoing it gives back exactly the ledger it found
    review.unletter_line(line.line_id, "ana", aws.clock)
    assert _ledger_state([payment_id]) == before
    assert review.get_line(line.line_id).body["status"] == "review"


@pytest.mark.xdist_group("lettering_properties")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(0, 2), earlier_cents=st.integers(0, 10000), paid_cents=st.integers(1, 60000))
def test_undoing_an_automatic_lettering_leaves_the_invoices_as_before_the_line(
    aws: Aws, target: int, earlier_cents: int, paid_cents: int
) -> None:
    _fresh_ledger(aws)
    number = WILLOW[target]
    if earlier_cents:
        amount = Money(earlier_cents, "EUR").to_decimal_string()
        _import_one(aws, Line(amount, "Willow Foods", text=number, bank_ref="E"), 2)
    before = _ledger_state([])
    line = _import_one(
        aws, Line(Money(paid_cents, "EUR").to_decimal_string(), "Willow Foods", text=number, bank_ref="L"), 1
    )
    if line.body["status"] != "lettered":
        return  # the number alone did not make it certain (an amount the rule does not trust)

    payment_id = str(line.body["payment_id"])
    shortfall = get_deduction(deduction_id_for(payment_id, inv(number)))
    if shortfall is not None:
        # the short payment's rest was written off or is a deduction: decided before any undo
        with pytest.raises(ConflictError, match="reject the deduction"):
            review.unletter_line(line.line_id, "ana", aws.clock)
        return

    review.unletter_line(line.line_id, "ana", aws.clock)

    payment = store.get_payment(payment_id)
    assert payment is not None
    assert payment.allocations == () and payment.unapplied == payment.amount
    assert _ledger_state([]) == before
