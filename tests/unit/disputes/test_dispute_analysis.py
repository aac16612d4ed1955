"""The dispute analysis rules and what they settle without a person, as pure logic."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from receivables.disputes.analysis import (
    DEFAULT_DISPUTE_POLICY,
    Facts,
    PoLine,
    PurchaseOrder,
    Terms,
    already_paid,
    analyse,
    billed_twice,
    price_or_quantity,
    proposal,
    purchase_order,
)
from receivables.kernel.money import Money
from receivables.ledger.disputes import Dispute, Reason, Source
from receivables.ledger.model import InvoiceLine, InvoiceStatus, Payment
from tests.unit.ledger.test_ledger import make_invoice

LINES = (
    InvoiceLine("1", "Pallet  wrap", Decimal(10), "EA", Decimal("12.50"), Money(12500, "EUR"), Decimal(20)),
    InvoiceLine("2", "Freight", Decimal(1), "EA", Decimal("80.00"), Money(8000, "EUR"), Decimal(20)),
)
INVOICE = make_invoice(24600, number="INV-2026-1001", po_number="PO-77", lines=LINES)


def payment(unapplied: int, reference: str | None, currency: str = "EUR") -> Payment:
    return Payment(
        "pay_1",
        "cus_test",
        Money(unapplied, currency),
        "2026-11-01",
        "bank_transfer",
        reference,
        Money(unapplied, currency),
        Money.zero(currency),
    )


def dispute(reason: Reason = Reason.PRICING, amount: int | None = None) -> Dispute:
    return Dispute(
        "dsp_1",
        INVOICE.invoice_id,
        "cus_test",
        Source.CUSTOMER,
        reason,
        "2026-11-05T10:00:00Z",
        "customer",
        Money(amount, "EUR") if amount is not None else None,
    )


@pytest.mark.parametrize(
    ("invoice", "payments", "confirmed", "payment_id"),
    [
        (INVOICE, [], False, None),
        (replace(INVOICE, balance=Money.zero("EUR"), paid=Money(24600, "EUR")), [], True, None),
        (INVOICE, [payment(24600, "wire from Acme")], True, "pay_1"),  # exactly what is owed
        (INVOICE, [payment(30000, "Acme inv 2026/1001")], True, "pay_1"),  # names the invoice
        (INVOICE, [payment(30000, "Acme, several invoices")], False, None),
        (INVOICE, [payment(10000, "INV-2026-1001")], False, None),  # not enough
        (INVOICE, [payment(24600, "INV-2026-1001", "USD")], False, None),  # another currency
    ],
)
def test_already_paid(
    invoice: object, payments: list[Payment], confirmed: bool, payment_id: str | None
) -> None:
    finding = already_paid(invoice, payments)  # type: ignore[arg-type]
    assert finding.confirmed is confirmed
    assert finding.facts.get("payment_id") == payment_id


@pytest.mark.parametrize(
    ("other_changes", "confirmed"),
    [
        ({}, True),
        ({"issue_date": date(2026, 12, 1)}, False),  # 61 days later: outside the 45-day window
        ({"po_number": "PO-78"}, False),
        ({"total": Money(24700, "EUR")}, False),
        ({"lines": LINES[:1]}, False),
        ({"status": InvoiceStatus.VOID}, False),
    ],
)
def test_billed_twice(other_changes: dict[str, object], confirmed: bool) -> None:
    other = replace(INVOICE, invoice_id="inv_other", number="INV-2026-1002", issue_date=date(2026, 10, 9))
    other = replace(other, **other_changes)  # type: ignore[arg-type]
    finding = billed_twice(INVOICE, [INVOICE, other], 45)
    assert finding.confirmed is confirmed
    if confirmed:
        assert finding.facts["duplicate_id"] == "inv_other", "the later invoice is the duplicate"


def test_price_and_quantity_against_the_po_and_the_price_list() -> None:
    po = PurchaseOrder(
        "PO-77",
        "EUR",
        (PoLine("pallet wrap", Decimal(8), Decimal("12.00")), PoLine("Freight", Decimal(1), Decimal(80))),
    )
    against_po = price_or_quantity(INVOICE, po, Terms())
    against_list = price_or_quantity(INVOICE, None, Terms(price_list={"pallet wrap": Decimal("12.00")}))
    nothing = price_or_quantity(INVOICE, None, Terms())

    # PO: 0.50 too much on 10 units, and 2 units too many at 12.00: (5.00 + 24.00) * 1.2 = 34.80.
    assert against_po.confirmed and against_po.facts["overbilled"] == "34.80"
    assert [d["kind"] for d in against_po.facts["differences"]] == ["price", "quantity"]
    # Price list: prices only, 0.50 * 10 * 1.2 = 6.00.
    assert against_list.confirmed and against_list.facts["overbilled"] == "6.00"
    assert not nothing.confirmed and "no PO or price list" in nothing.detail


@pytest.mark.parametrize(
    ("requires", "po_number", "on_file", "confirmed"),
    [
        (False, None, False, False),
        (True, None, False, True),
        (True, "PO-77", False, True),
        (True, "PO-77", True, False),
    ],
)
def test_a_required_po_must_be_named_and_on_file(
    requires: bool, po_number: str | None, on_file: bool, confirmed: bool
) -> None:
    po = PurchaseOrder("PO-77", "EUR", ()) if on_file else None
    finding = purchase_order(replace(INVOICE, po_number=po_number), Terms(requires_po=requires), po)
    assert finding.confirmed is confirmed


def facts(**changes: object) -> Facts:
    base = Facts(INVOICE, (), (), Terms(), None)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_duplicate_is_voided_before_anything_else() -> None:
    other = replace(INVOICE, invoice_id="inv_later", number="INV-2026-1009", issue_date=date(2026, 10, 3))
    findings = analyse(facts(others=(other,), payments=(payment(24600, "x"),)))
    assert [f.rule for f in findings if f.confirmed] == ["already_paid", "billed_twice"]
    settled = proposal(dispute(Reason.BILLED_TWICE), INVOICE, findings)
    assert settled is not None and settled.action == "void_duplicate"
    assert settled.facts["duplicate_id"] == "inv_later"


def test_an_unapplied_payment_is_applied() -> None:
    findings = analyse(facts(payments=(payment(24600, "INV-2026-1001"),)))
    settled = proposal(dispute(Reason.ALREADY_PAID), INVOICE, findings)
    assert settled is not None and (settled.action, settled.facts["payment_id"]) == ("apply_payment", "pay_1")


@pytest.mark.parametrize(
    ("reason", "amount", "po", "action", "credit"),
    [
        (Reason.QUALITY, 3000, None, "credit", 3000),  # under the 50.00 EUR threshold
        (Reason.QUALITY, 6000, None, None, None),  # over it: finance decides
        (Reason.PRICING, None, "po", "credit", 3480),  # the computed overbilling, claimed in full
        (Reason.PRICING, 2000, "po", "credit", 2000),  # the customer asks less than computed
        (Reason.PRICING, None, None, None, None),  # the whole balance: far over the threshold
        (Reason.PO_MISSING_OR_WRONG, 1000, None, None, None),  # not a matter of money
    ],
)
def test_small_amounts_are_credited_and_the_rest_goes_to_finance(
    reason: Reason, amount: int | None, po: str | None, action: str | None, credit: int | None
) -> None:
    order = (
        PurchaseOrder("PO-77", "EUR", (PoLine("Pallet wrap", Decimal(8), Decimal("12.00")),)) if po else None
    )
    findings = analyse(facts(purchase_order=order))
    settled = proposal(dispute(reason, amount), INVOICE, findings, DEFAULT_DISPUTE_POLICY)
    assert (settled.action if settled else None) == action
    assert (settled.credit.minor if settled and settled.credit else None) == credit


def test_a_monthly_invoice_like_the_last_is_not_voided_without_a_person() -> None:
    # The same retainer, PO and lines a month later: the finding is shown, a person decides.
    later = replace(INVOICE, invoice_id="inv_next", number="INV-2026-1100", issue_date=date(2026, 10, 31))
    findings = analyse(facts(others=(later,)))
    assert [f.rule for f in findings if f.confirmed] == ["billed_twice"]
    assert proposal(dispute(Reason.BILLED_TWICE), later, findings) is None


def test_invoices_without_lines_are_never_duplicates_by_their_totals_alone() -> None:
    bare = replace(INVOICE, lines=())
    twin = replace(bare, invoice_id="inv_twin", number="INV-2026-1002", issue_date=date(2026, 10, 2))
    findings = analyse(facts(invoice=bare, others=(twin,)))
    assert "billed_twice" not in [f.rule for f in findings if f.confirmed]


def test_small_disputes_one_after_another_earn_one_small_credit_per_invoice() -> None:
    credited = replace(INVOICE, credited=Money(3000, "EUR"), balance=Money(21600, "EUR"))
    again = proposal(dispute(Reason.QUALITY, amount=3000), credited, analyse(facts(invoice=credited)))
    assert again is None, "30.00 credited before and 30.00 more is over the 50.00 a dispute earns alone"


def test_a_credit_finance_asks_for_is_a_controllers_decision() -> None:
    asked = replace(dispute(Reason.QUALITY, amount=1000), source=Source.FINANCE)
    assert proposal(asked, INVOICE, analyse(facts())) is None


def test_a_weekly_delivery_like_last_weeks_is_not_voided_without_a_person() -> None:
    next_week = replace(INVOICE, invoice_id="inv_week", number="INV-2026-1010", issue_date=date(2026, 10, 8))
    findings = analyse(facts(others=(next_week,)))
    assert proposal(dispute(Reason.BILLED_TWICE), next_week, findings) is None
