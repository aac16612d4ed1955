"""Cash application: allocation, refunds, matching, and the money invariants under any sequence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, InvoiceStatus
from receivables.ledger.rules import apply_credit, apply_payment, reverse_payment
from receivables.payments.cash import (
    candidate_numbers,
    match_receipt,
    mentioned_invoices,
    plan_allocation,
    plan_refund,
)
from tests.unit.ledger.test_ledger import make_invoice

S = InvoiceStatus


def invoice(
    n: int, balance: int, due_day: int = 1, currency: str = "EUR", number: str | None = None
) -> Invoice:
    return replace(
        make_invoice(balance, currency),
        invoice_id=f"inv_{n}",
        number=number or f"INV-2026-{1000 + n}",
        due_date=date(2026, 10, 1) + timedelta(days=due_day),
    )


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_an_exact_payment_settles_its_invoice() -> None:
    plan = plan_allocation(eur(10000), [invoice(1, 10000)])
    assert plan.allocations == (("inv_1", eur(10000)),) and plan.unapplied.is_zero()
    paid, used = apply_payment(invoice(1, 10000), eur(10000))
    assert (paid.status, paid.balance, used) == (S.PAID, eur(0), eur(10000))


def test_a_partial_payment_leaves_the_invoice_partially_paid() -> None:
    paid, used = apply_payment(invoice(1, 10000), eur(4000))
    assert (paid.status, paid.balance, paid.paid, used) == (S.PARTIALLY_PAID, eur(6000), eur(4000), eur(4000))


def test_an_overpayment_pays_the_customers_other_invoices_oldest_first_then_waits() -> None:
    target = invoice(1, 10000, due_day=20)
    older, newer = invoice(2, 3000, due_day=5), invoice(3, 5000, due_day=10)

    plan = plan_allocation(eur(16000), [target], [newer, older, target])

    assert plan.allocations == (("inv_1", eur(10000)), ("inv_2", eur(3000)), ("inv_3", eur(3000)))
    assert plan.unapplied.is_zero()
    rest = plan_allocation(eur(20000), [target], [older])
    assert rest.unapplied == eur(7000)


def test_a_refund_takes_the_unused_part_first_then_the_newest_allocation() -> None:
    plan = plan_refund(eur(5000), eur(1000), [("inv_1", eur(6000)), ("inv_2", eur(3000))])
    assert plan.from_unapplied == eur(1000)
    assert plan.reversals == (("inv_2", eur(3000)), ("inv_1", eur(1000)))


def test_a_refund_reopens_a_paid_invoice() -> None:
    paid, _ = apply_payment(invoice(1, 10000), eur(10000))
    reopened = reverse_payment(paid, eur(10000))
    assert (reopened.status, reopened.balance, reopened.paid) == (S.OPEN, eur(10000), eur(0))
    partly = reverse_payment(paid, eur(2500))
    assert (partly.status, partly.balance) == (S.PARTIALLY_PAID, eur(2500))


def test_remittance_text_names_invoices_however_it_punctuates_them() -> None:
    invoices = [invoice(1, 100), invoice(2, 100), invoice(3, 100, number="A1")]
    assert [i.invoice_id for i in mentioned_invoices("Payment inv 2026/1001 and INV20261002", invoices)] == [
        "inv_1",
        "inv_2",
    ]
    assert mentioned_invoices("ref A1", invoices) == []  # too short to tell from other figures


def test_the_numbers_looked_up_for_an_unknown_payer_include_the_capitalised_form() -> None:
    looked_up = candidate_numbers("Daifuku payment inv 2026 1004")
    assert "inv-2026-1004" in looked_up and "INV-2026-1004" in looked_up
    assert looked_up.index("INV-2026-1004") == looked_up.index("inv-2026-1004") + 1


def test_a_transfer_naming_its_invoices_is_applied() -> None:
    invoices = [invoice(1, 10000), invoice(2, 5000, due_day=3), invoice(3, 7000, due_day=9)]

    match = match_receipt(
        eur(15000), "Remittance: INV-2026-1001, INV-2026-1002", invoices, customer_known=True
    )

    assert match.matched_by == "reference"
    assert match.plan is not None
    assert dict(match.plan.allocations) == {"inv_1": eur(10000), "inv_2": eur(5000)}


def test_a_transfer_of_exactly_one_open_amount_is_applied_for_a_known_customer() -> None:
    invoices = [invoice(1, 10000), invoice(2, 5000)]
    match = match_receipt(eur(5000), "thanks", invoices, customer_known=True)
    assert (match.matched_by, match.plan and match.plan.allocations) == ("amount", (("inv_2", eur(5000)),))


def test_an_uncertain_transfer_is_left_for_a_person_with_ranked_candidates() -> None:
    invoices = [invoice(1, 5000), invoice(2, 5000, due_day=4), invoice(3, 7000, due_day=2)]

    match = match_receipt(eur(5000), "payment", invoices, customer_known=True)

    assert match.plan is None and match.matched_by is None
    assert [c.invoice_id for c in match.candidates] == ["inv_1", "inv_2", "inv_3"]
    assert match.candidates[0].reasons == ("same amount", "same customer")
    unknown = match_receipt(eur(5000), "payment", invoices, customer_known=False)
    assert unknown.plan is None, "an unknown payer's transfer is never applied on amount alone"


# --- the invariants, over any sequence of payments, refunds and duplicates ---------------------
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 3), st.integers(1, 30000), st.integers(0, 5)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 30000), st.just(0)),
        st.tuples(st.just("credit"), st.integers(0, 3), st.integers(1, 10000), st.just(0)),
    ),
    max_size=25,
)


@dataclass
class _Receipt:
    amount: int
    unapplied: Money
    allocations: list[tuple[str, Money]]
    refunded: int = 0

    @property
    def held(self) -> int:
        return self.unapplied.minor + sum(a.minor for _, a in self.allocations)


@settings(max_examples=300)
@given(balances=st.lists(st.integers(1, 20000), min_size=1, max_size=4), ops=operations)
def test_no_cent_is_created_or_lost(balances: list[int], ops: list[tuple[str, int, int, int]]) -> None:
    invoices = {f"inv_{n}": invoice(n, b, due_day=n) for n, b in enumerate(balances)}
    receipts: list[_Receipt] = []
    delivered: set[tuple[int, int]] = set()
    credited = dict.fromkeys(invoices, 0)
    for kind, target, amount, delivery in ops:
        if kind == "pay":
            if (target, amount + delivery) in delivered:
                continue  # a duplicate delivery of a payment already applied
            delivered.add((target, amount + delivery))
            target_invoice = invoices.get(f"inv_{target}")
            plan = plan_allocation(eur(amount), [target_invoice] if target_invoice else [], invoices.values())
            for invoice_id, part in plan.allocations:
                invoices[invoice_id], used = apply_payment(invoices[invoice_id], part)
                assert used == part
            receipts.append(_Receipt(amount, plan.unapplied, list(plan.allocations)))
        elif kind == "refund" and receipts:
            receipt = receipts[target % len(receipts)]
            if receipt.held == 0:
                continue
            refunded = min(amount, receipt.held)
            refund = plan_refund(eur(refunded), receipt.unapplied, receipt.allocations)
            receipt.unapplied = receipt.unapplied - refund.from_unapplied
            remaining = dict(receipt.allocations)
            for invoice_id, part in refund.reversals:
                invoices[invoice_id] = reverse_payment(invoices[invoice_id], part)
                remaining[invoice_id] = remaining[invoice_id] - part
            receipt.allocations = [
                (i, remaining[i]) for i, _ in receipt.allocations if not remaining[i].is_zero()
            ]
            receipt.refunded += refunded
        elif kind == "credit":
            invoice_id = f"inv_{target}"
            if invoice_id in invoices and invoices[invoice_id].balance.minor > 0:
                invoices[invoice_id], used = apply_credit(invoices[invoice_id], eur(amount))
                credited[invoice_id] += used.minor

    for receipt in receipts:
        allocated = sum(a.minor for _, a in receipt.allocations)
        assert allocated <= receipt.amount
        assert receipt.amount - receipt.refunded == allocated + receipt.unapplied.minor  # received - refunded
    for invoice_id, inv in invoices.items():
        allocated_here = sum(a.minor for r in receipts for i, a in r.allocations if i == invoice_id)
        assert inv.balance.minor == inv.payable.minor - credited[invoice_id] - allocated_here
        assert inv.paid.minor == allocated_here
        assert inv.balance.minor >= 0
        assert (inv.status is S.PAID) == (inv.balance.minor == 0 and inv.paid.minor > 0)
