"""Property-based: whatever the ledger and the line, a lettering never allocates more than the
line's amount or an invoice's balance, allocations and what stays on account add up to the line
exactly, and only payable invoices of the line's currency are lettered."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.banking.creditor_reference import creditor_reference, format
from receivables.banking.matching import (
    DEFAULT_THRESHOLD,
    Decision,
    OpenItems,
    Rule,
    baseline_decide,
    decide,
)
from receivables.banking.statement import Direction, Entry, Party, Remittance
from receivables.disputes.deduction_rules import DeductionPolicy
from receivables.kernel.money import Money, sum_money
from receivables.ledger.model import Invoice, InvoiceStatus
from receivables.ledger.rules import COLLECTIBLE
from tests.unit.ledger.test_ledger import make_invoice

STATUSES = [InvoiceStatus.OPEN] * 4 + [
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.DISPUTED,
    InvoiceStatus.VOID,
]


@st.composite
def ledgers(draw: st.DrawFn) -> list[Invoice]:
    count = draw(st.integers(min_value=1, max_value=14))
    invoices = []
    for n in range(count):
        status = draw(st.sampled_from(STATUSES))
        currency = draw(st.sampled_from(["EUR"] * 5 + ["USD"]))
        # Few distinct balances, so that ties and combinations happen.
        balance = (
            0
            if status in (InvoiceStatus.PAID, InvoiceStatus.VOID)
            else draw(
                st.sampled_from([100, 2500, 9990, 10000, 25000, 40000, 123456, draw(st.integers(1, 200000))])
            )
        )
        invoices.append(
            replace(
                make_invoice(max(balance, 1), currency),
                invoice_id=f"inv_{n:024x}",
                number=f"INV-2027-{n:04d}",
                customer_id=f"cus_{draw(st.integers(0, 2))}",
                due_date=date(2027, 1, 1) + timedelta(days=draw(st.integers(0, 90))),
                balance=Money(balance, currency),
                status=status,
            )
        )
    return invoices


@st.composite
def lines(draw: st.DrawFn, invoices: list[Invoice]) -> Entry:
    words: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(invoices))
        kind = draw(st.sampled_from(["number", "rf", "rf_printed", "typo", "noise"]))
        if kind == "number":
            words.append(target.number)
        elif kind == "rf":
            words.append(creditor_reference(target.invoice_id))
        elif kind == "rf_printed":
            words.append(format(creditor_reference(target.invoice_id)))
        elif kind == "typo":
            words.append(target.number[:-1] + draw(st.sampled_from("0123456789")))
        else:
            words.append(draw(st.sampled_from(["Zahlung", "Teilzahlung", "skonto", "1234", "RF18"])))
    if draw(st.booleans()):
        minor = draw(st.integers(1, 300000))
    else:  # an amount that some invoices of the ledger make
        picked = draw(st.lists(st.integers(0, len(invoices) - 1), min_size=1, max_size=4, unique=True))
        owed = sum(invoices[i].balance.minor for i in picked)
        minor = max(1, owed - draw(st.sampled_from([0, 0, 1, 499, 600])))
    return Entry(
        position="Ntry[1]",
        amount=Money(minor, draw(st.sampled_from(["EUR"] * 5 + ["USD"]))),
        direction=draw(st.sampled_from([Direction.CREDIT] * 9 + [Direction.DEBIT])),
        booking_date=date(2027, 6, 1),
        counterparty=Party(
            draw(st.sampled_from([None, "Keller GmbH", "Dupont SAS", "Someone"])),
            draw(st.sampled_from([None, "DE00", "DE01", "DE02", "DE99"])),
        ),
        remittance=Remittance((" ".join(words),) if words else ()),
    )


def assert_sound(decision: Decision, entry: Entry, view: OpenItems, threshold: float) -> None:
    currency = entry.amount.currency
    tolerance = DeductionPolicy().tolerance_in(currency)
    for match in decision.candidates:
        ids = [invoice_id for invoice_id, _ in match.allocations]
        assert len(ids) == len(set(ids))
        for invoice_id, amount in match.allocations:
            invoice = view.invoice(invoice_id)
            assert invoice is not None and invoice.currency == currency == amount.currency
            assert invoice.status in COLLECTIBLE and 0 < amount.minor <= invoice.balance.minor
        allocated = sum_money((a for _, a in match.allocations), currency)
        assert allocated <= entry.amount and match.on_account.minor >= 0
        assert allocated + match.on_account == entry.amount
        if match.shortfall is not None:
            assert 0 < match.shortfall.minor <= tolerance.minor
    auto = decision.automatic
    if auto is not None:
        assert entry.direction is Direction.CREDIT and auto.allocations
        assert auto.rule is not Rule.PAYER_NAME and auto.confidence >= threshold
        assert auto in decision.candidates


@settings(max_examples=400, deadline=None)
@given(st.data(), ledgers(), st.sampled_from([0.5, DEFAULT_THRESHOLD, 1.0]))
def test_lettering_never_allocates_more_than_the_line_or_a_balance(
    data: st.DataObject, invoices: list[Invoice], threshold: float
) -> None:
    view = OpenItems.build(
        invoices,
        customer_names={"cus_0": "Keller GmbH", "cus_1": "Dupont SAS", "cus_2": "Keller AG"},
        ibans=[("DE00", "cus_0"), ("DE01", "cus_1"), ("DE02", "cus_1"), ("DE02", "cus_2")],
        issued={"DD-1": [invoices[0].invoice_id]},
    )
    entry = data.draw(lines(invoices))
    assert_sound(decide(entry, view, threshold), entry, view, threshold)
    assert_sound(baseline_decide(entry, view), entry, view, 1.0)
