"""Receipts into the ledger on moto: exact, partial, over, duplicate, refund, bank transfers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from receivables.banking.creditor_reference import compact, creditor_reference
from receivables.banking.creditor_reference import format as printed_reference
from receivables.collections.finance import invoice_json
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.payments.allocation import PaymentError, Receipt, record_receipt, refund_to
from receivables.storage import store
from tests.conftest import SAMPLES

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

S = InvoiceStatus


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def card(external_id: str, amount: str, *targets: str) -> Receipt:
    return Receipt(
        source="stripe",
        external_id=external_id,
        amount=eur(amount),
        received_at="2026-11-02T10:00:00.000Z",
        method="card",
        target_invoice_ids=tuple(inv(t) for t in targets),
    )


LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount\n"
    "P-1,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,100.00\n"
    "P-2,2026-10-02,2026-11-01,EUR,C1,ap@c1.example,50.00\n"
    "P-3,2026-10-03,2026-11-02,EUR,C1,ap@c1.example,30.00\n"
    "Q-1,2026-10-03,2026-11-02,EUR,C2,ap@c2.example,75.00\n"
)


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/ledger.csv", LEDGER)
    return aws


def status(number: str) -> tuple[S, Money]:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    return invoice.status, invoice.balance


def test_an_exact_card_payment_settles_the_invoice_once(ledger: Aws) -> None:
    first = record_receipt(card("pi_1", "100.00", "P-1"), ledger.clock)
    again = record_receipt(card("pi_1", "100.00", "P-1"), ledger.clock)

    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.settled == (inv("P-1"),)
    assert status("P-1") == (S.PAID, eur("0.00"))
    events = store.invoice_events(inv("P-1"))
    assert [(e.seq, e.type) for e in events] == [(1, "InvoiceIngested"), (2, "PaymentApplied")]
    assert events[-1].data["settled"] is True


def test_a_partial_payment_leaves_the_rest_open(ledger: Aws) -> None:
    record_receipt(card("pi_2", "40.00", "P-1"), ledger.clock)

    assert status("P-1") == (S.PARTIALLY_PAID, eur("60.00"))


def test_an_overpayment_pays_the_next_invoices_oldest_first_and_keeps_the_rest_as_credit(ledger: Aws) -> None:
    outcome = record_receipt(card("pi_3", "200.00", "P-1"), ledger.clock)

    assert status("P-1") == (S.PAID, eur("0.00"))
    assert status("P-2") == (S.PAID, eur("0.00"))
    assert status("P-3") == (S.PAID, eur("0.00"))
    assert status("Q-1") == (S.OPEN, eur("75.00")), "another customer's invoice is never touched"
    assert outcome.payment.unapplied == eur("20.00")
    assert store.unapplied_payments("EUR")[0].payment_id == outcome.payment.payment_id


def test_a_refund_reopens_the_invoice_and_repeated_refund_events_change_nothing(ledger: Aws) -> None:
    record_receipt(card("pi_4", "120.00", "P-1"), ledger.clock)  # P-1 paid, 20.00 to P-2

    refund_to("stripe", "pi_4", eur("30.00"), ledger.clock)  # 20.00 back from P-2, 10.00 from P-1
    payment = refund_to("stripe", "pi_4", eur("30.00"), ledger.clock)  # the same event again

    assert payment.refunded == eur("30.00")
    assert status("P-2") == (S.OPEN, eur("50.00"))
    assert status("P-1") == (S.PARTIALLY_PAID, eur("10.00"))
    assert [e.type for e in store.invoice_events(inv("P-1"))][-1] == "PaymentReversed"
    with pytest.raises(PaymentError, match="more than"):
        refund_to("stripe", "pi_4", eur("500.00"), ledger.clock)


def test_a_bank_transfer_is_matched_from_its_remittance_text(ledger: Aws) -> None:
    transfer = Receipt(
        source="bank",
        external_id="BANK-2026-11-02-0001",
        amount=eur("80.00"),
        received_at="2026-11-02T09:00:00.000Z",
        method="bank_transfer",
        reference="SEPA CT / ACME / Inv P 2 and P-3 thank you",
    )

    outcome = record_receipt(transfer, ledger.clock)

    assert outcome.payment.matched_by == "reference"
    assert status("P-2") == (S.PAID, eur("0.00")) and status("P-3") == (S.PAID, eur("0.00"))


def test_a_transfer_is_matched_from_the_rf_reference_printed_on_the_invoice(ledger: Aws) -> None:
    printed = printed_reference(creditor_reference(inv("P-2")))  # "RFkk xxxx …", in groups
    other_creditors = "RF18 5390 0754 7034"  # valid, but not one we issued
    transfer = Receipt(
        "bank",
        "BANK-RF-1",
        eur("50.00"),
        "2026-11-02T09:00:00.000Z",
        "bank_transfer",
        reference=f"Payment {other_creditors.lower()} / {printed.lower()} thanks",
    )

    outcome = record_receipt(transfer, ledger.clock)

    assert outcome.payment.matched_by == "reference"
    assert outcome.payment.customer_id == store.get_invoice(inv("P-2")).customer_id  # type: ignore[union-attr]
    assert status("P-2") == (S.PAID, eur("0.00"))
    assert status("P-1") == (S.OPEN, eur("100.00"))


def test_a_wrong_check_digit_in_the_rf_reference_names_nothing(ledger: Aws) -> None:
    reference = compact(creditor_reference(inv("Q-1")))
    broken = reference[:2] + f"{(int(reference[2:4]) + 1) % 97:02d}" + reference[4:]
    transfer = Receipt(
        "bank", "BANK-RF-2", eur("75.00"), "2026-11-02T09:00:00.000Z", "bank_transfer", reference=broken
    )

    outcome = record_receipt(transfer, ledger.clock)

    assert outcome.payment.matched_by is None and outcome.payment.allocations == ()
    assert status("Q-1") == (S.OPEN, eur("75.00"))


def test_an_unidentifiable_transfer_waits_in_the_queue_with_nothing_applied(ledger: Aws) -> None:
    transfer = Receipt(
        "bank", "BANK-X", eur("75.00"), "2026-11-02T09:00:00.000Z", "bank_transfer", reference="?"
    )

    outcome = record_receipt(transfer, ledger.clock)

    assert outcome.payment.matched_by is None and outcome.payment.allocations == ()
    assert status("Q-1") == (S.OPEN, eur("75.00"))
    assert [p.payment_id for p in store.unapplied_payments("EUR")] == [outcome.payment.payment_id]


def test_the_sample_csv_and_a_stripe_payment_in_yen(aws: Aws) -> None:
    aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())
    receipt = Receipt(
        "stripe",
        "pi_jpy",
        Money(330000, "JPY"),
        "2026-11-02T10:00:00.000Z",
        "card",
        target_invoice_ids=(inv("INV-2026-1004"),),
    )

    record_receipt(receipt, aws.clock)

    assert status("INV-2026-1004") == (S.PAID, Money(0, "JPY"))


def test_a_paid_invoice_says_when_it_was_paid_and_how_late(ledger: Aws) -> None:
    late = Receipt(
        "bank",
        "BANK-LATE",
        eur("60.00"),
        "2026-11-20T09:00:00.000Z",
        "bank_transfer",
        target_invoice_ids=(inv("P-1"),),
    )
    record_receipt(late, ledger.clock)
    part = store.get_invoice(inv("P-1"))
    assert part is not None and part.paid_on is None  # partly paid: not paid yet

    rest = Receipt(
        "bank",
        "BANK-REST",
        eur("40.00"),
        "2026-11-25T09:00:00.000Z",
        "bank_transfer",
        target_invoice_ids=(inv("P-1"),),
    )
    record_receipt(rest, ledger.clock)
    paid = store.get_invoice(inv("P-1"))
    assert paid is not None and paid.paid_on == date(2026, 11, 25)
    shown = invoice_json(paid, date(2026, 12, 31))
    assert (shown["paid_on"], shown["days_late"]) == ("2026-11-25", 25)  # due 2026-10-31

    refund_to("bank", "BANK-REST", eur("40.00"), ledger.clock)
    reopened = store.get_invoice(inv("P-1"))
    assert reopened is not None and reopened.paid_on is None
    assert invoice_json(reopened, date(2026, 12, 31))["days_late"] == 61
