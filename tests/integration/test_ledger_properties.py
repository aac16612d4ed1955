"""The ledger's invariants on the real store, over any sequence of card payments (with their
duplicates), bank transfers, refunds (stale and repeated ones too), chargebacks, credit
application and re-allocation by finance. Hypothesis draws the sequences; each example runs on a
fresh table in moto."""

from __future__ import annotations

import contextlib
import itertools
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import LedgerError, document_id
from receivables.payments.allocation import (
    PaymentError,
    Receipt,
    apply_customer_credit,
    payment_id_for,
    reallocate,
    record_receipt,
    refund_to,
)
from receivables.payments.chargebacks import Chargeback, record_chargeback
from receivables.storage import store
from tests.integration.conftest import REGION

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

NUMBERS = ("H-1", "H-2", "H-3")
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount\n"
    "H-1,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,100.00\n"
    "H-2,2026-10-02,2026-11-01,EUR,C1,ap@c1.example,50.00\n"
    "H-3,2026-10-03,2026-11-02,EUR,C1,ap@c1.example,30.00\n"
)
_tables = itertools.count()

operation = st.one_of(
    # a card payment of one invoice: external id from a small set, so duplicates happen
    st.tuples(st.just("card"), st.integers(0, 4), st.integers(1, 20000), st.integers(0, 2)),
    # a bank transfer naming an invoice
    st.tuples(st.just("transfer"), st.integers(0, 4), st.integers(1, 20000), st.integers(0, 2)),
    # a refund event reporting a cumulative refunded total (maybe stale, maybe repeated)
    st.tuples(st.just("refund"), st.integers(0, 4), st.integers(1, 20000), st.just(0)),
    # a chargeback opened, won or lost
    st.tuples(st.just("chargeback"), st.integers(0, 4), st.integers(1, 20000), st.integers(0, 2)),
    st.tuples(st.just("credit"), st.just(0), st.just(0), st.just(0)),
    # finance re-allocates a payment: part to one invoice, the rest to the next (maybe too much)
    st.tuples(st.just("reallocate"), st.integers(0, 4), st.integers(0, 20000), st.integers(0, 2)),
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def check_invariants(payment_ids: set[str]) -> None:
    payments = [p for p in (store.get_payment(i) for i in sorted(payment_ids)) if p is not None]
    paid_to: dict[str, int] = {}
    for payment in payments:
        allocated = sum(a.minor for _, a in payment.allocations)
        assert allocated <= payment.amount.minor, "a payment allocates at most its amount"
        assert payment.amount.minor - payment.refunded.minor == allocated + payment.unapplied.minor
        assert payment.unapplied.minor >= 0 and payment.refunded.minor >= 0
        for invoice_id, amount in payment.allocations:
            paid_to[invoice_id] = paid_to.get(invoice_id, 0) + amount.minor
    for number in NUMBERS:
        invoice = store.get_invoice(inv(number))
        assert invoice is not None
        # A short payment under the deduction tolerance writes the small balance off.
        assert invoice.balance.minor == (
            invoice.payable.minor - invoice.credited.minor - invoice.paid.minor - invoice.written_off.minor
        )
        assert invoice.paid.minor == paid_to.get(invoice.invoice_id, 0), (
            "amount due = total - credits - allocations"
        )
        assert invoice.balance.minor >= 0
        if invoice.status is not InvoiceStatus.DISPUTED:
            assert (invoice.status is InvoiceStatus.PAID) == (invoice.balance.minor == 0)
    # No cent created or lost: what came in and stayed is on invoices or waiting as credit.
    kept = sum(p.amount.minor - p.refunded.minor for p in payments)
    assert kept == sum(paid_to.values()) + sum(p.unapplied.minor for p in payments)


@pytest.mark.xdist_group("ledger_properties")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_no_cent_is_created_or_lost_on_the_store(aws: Aws, ops: list[tuple[str, int, int, int]]) -> None:
    n = next(_tables)
    store.bind(f"ledger-{n}", REGION)
    store.create_table()
    aws.drop(f"inbox/props-{n}.csv", LEDGER)
    customer = store.get_invoice(inv("H-1"))
    assert customer is not None
    payment_ids: set[str] = set()
    cards: list[str] = []
    for kind, target, amount, variant in ops:
        number = NUMBERS[target % len(NUMBERS)]
        if kind == "card":
            external = f"pi_{target}_{variant}"
            receipt = Receipt(
                "stripe",
                external,
                Money(amount, "EUR"),
                "2026-11-02T10:00:00.000Z",
                "card",
                customer_id=customer.customer_id,
                target_invoice_ids=(inv(number),),
            )
            record_receipt(receipt, aws.clock)
            payment_ids.add(payment_id_for("stripe", external))
            cards.append(external)
        elif kind == "transfer":
            external = f"bank_{target}_{variant}"
            receipt = Receipt(
                "bank",
                external,
                Money(amount, "EUR"),
                "2026-11-02T10:00:00.000Z",
                "bank_transfer",
                reference=f"paid {number} thanks",
            )
            record_receipt(receipt, aws.clock)
            payment_ids.add(payment_id_for("bank", external))
        elif kind == "refund" and cards:
            external = cards[target % len(cards)]
            payment = store.get_payment(payment_id_for("stripe", external))
            assert payment is not None
            total = min(amount, payment.amount.minor)
            # More than the payment still holds (a chargeback took it) is refused and changes nothing.
            with contextlib.suppress(PaymentError):
                refund_to("stripe", external, Money(total, "EUR"), aws.clock)
        elif kind == "chargeback" and cards:
            external = cards[target % len(cards)]
            payment = store.get_payment(payment_id_for("stripe", external))
            assert payment is not None
            status = ("needs_response", "won", "lost")[variant]
            record_chargeback(
                Chargeback("stripe", external, f"dp_{external}", payment.amount, "fraudulent", status),
                aws.clock,
            )
        elif kind == "credit":
            apply_customer_credit(customer.customer_id, aws.clock)
        elif kind == "reallocate" and payment_ids:
            payment = store.get_payment(sorted(payment_ids)[target % len(payment_ids)])
            assert payment is not None
            holds = payment.amount.minor - payment.refunded.minor
            first, rest = min(amount, holds), max(holds - amount, 0)
            targets = {inv(number): Money(first, "EUR"), inv(NUMBERS[(variant + 1) % 3]): Money(rest, "EUR")}
            # An invoice that owes less, or a chargeback's hold on the money, is refused whole.
            with contextlib.suppress(LedgerError):
                reallocate(payment.payment_id, targets, aws.clock, actor="finance")
        check_invariants(payment_ids)
