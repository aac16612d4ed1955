"""The reconciliation on the real store (moto): after a realistic run of the books (ingest with a
credit note, card and bank payments, a partial one, an overpayment, a refund, a lost
chargeback, a late fee, a small balance written off under the tolerance and an uncollectable one
written off) and the stream's aggregates, the books balance; an item corrupted directly with
boto3 is reported, and only it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.collections.finance import write_off_invoice
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, DocumentType
from receivables.ledger.rules import charge_fee, document_id
from receivables.payments.allocation import (
    Receipt,
    payment_id_for,
    record_receipt,
    refund_to,
)
from receivables.payments.chargebacks import Chargeback, record_chargeback
from receivables.reporting.reconcile import reconcile
from receivables.reporting.reconcile_report import (
    AGING_AGGREGATES,
    ALLOCATIONS,
    AUDIT_TRAIL,
    INVOICE_BALANCE,
    MONEY_IN,
    Break,
)
from receivables.storage import store
from receivables_local.functions import load_function
from tests.conftest import SAMPLES
from tests.integration.conftest import REGION, TABLE

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

HEADER = "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount\n"
MORE = HEADER + (
    "R-1,2026-10-10,2026-11-09,EUR,C-R,ap@r.example,300.00\n"
    "R-2,2026-10-11,2026-11-10,EUR,C-R,ap@r.example,1000.00\n"
    "R-3,2026-10-12,2026-11-11,EUR,C-R,ap@r.example,80.00\n"
    "R-4,2026-10-13,2026-11-12,EUR,C-S,ap@s.example,400.00\n"
    "R-5,2026-09-01,2026-10-01,EUR,C-T,ap@t.example,250.00\n"
    "R-6,2026-10-14,2026-11-13,USD,C-S,ap@s.example,120.00\n"
)
AT = "2026-11-02T09:00:00.000Z"


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def money(text: str, currency: str = "EUR") -> Money:
    return Money.parse(text, currency)


def card(external_id: str, amount: Money, number: str, aws: Aws) -> None:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    receipt = Receipt(
        "stripe",
        external_id,
        amount,
        AT,
        "card",
        customer_id=invoice.customer_id,
        target_invoice_ids=(invoice.invoice_id,),
    )
    record_receipt(receipt, aws.clock)


def bank(external_id: str, amount: Money, reference: str, aws: Aws, **more: Any) -> None:
    record_receipt(
        Receipt("bank", external_id, amount, AT, "bank_transfer", reference=reference, **more), aws.clock
    )


def aggregate(aws: Aws) -> None:
    """Let the stream catch up: every record so far through the aggregates function."""
    response = load_function("aggregates").handle({"Records": aws.stream().read()})
    assert response == {"batchItemFailures": []}


@pytest.fixture
def books(aws: Aws) -> Aws:
    assert aws.drop("inbox/a.csv", (SAMPLES / "invoices.csv").read_bytes())["created"] == 5
    # a GBP invoice and a credit note that reduces INV-2026-1001 by 119.00 EUR
    assert aws.drop("inbox/b.json", (SAMPLES / "invoices.json").read_bytes())["credit_notes_applied"] == 1
    assert aws.drop("inbox/c.csv", MORE)["created"] == 6
    card("pi_1001", money("1071.00"), "INV-2026-1001", aws)  # what the credit note left: paid
    bank("B-1005", money("500.000", "KWD"), "Invoice INV-2026-1005 part payment", aws, on_account=True)
    bank("B-R4", money("500.00"), "payment R-4", aws)  # over by 100.00: the customer's credit
    card("pi_r1", money("300.00"), "R-1", aws)
    refund_to("stripe", "pi_r1", money("120.00"), aws.clock)  # R-1 owes 120.00 again
    bank("B-R2", money("996.50"), "R-2 bank charges", aws)  # 3.50 written off under the tolerance
    card("pi_r3", money("80.00"), "R-3", aws)
    payment = store.get_payment(payment_id_for("stripe", "pi_r3"))
    assert payment is not None
    for status in ("needs_response", "lost"):
        record_chargeback(
            Chargeback("stripe", "pi_r3", "dp_r3", money("80.00"), "fraudulent", status), aws.clock
        )
    overdue = store.get_invoice(inv("R-5"))
    assert overdue is not None
    fee = replace(charge_fee(overdue, money("15.00")), version=overdue.version + 1)
    event = AuditEvent(fee.invoice_id, fee.version, "LateFeeCharged", AT, "test", {"fee": "15.00"})
    store.apply_changes([(fee, event)])
    write_off_invoice(inv("R-6"), "the customer is gone", "controller@seller.example", aws.clock)
    aggregate(aws)
    return aws


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def key(pk: str, sk: str = "HEAD") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def bump(pk: str, sk: str, attribute: str, by: int) -> None:
    """Corrupt one number of one item, behind the ledger's back."""
    dynamodb().update_item(
        TableName=TABLE,
        Key=key(pk, sk),
        UpdateExpression="ADD #a :n",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":n": {"N": str(by)}},
    )


def only(check: str) -> Break:
    report = reconcile()
    assert report.break_count == 1, [b.line() for b in report.breaks()]
    (found,) = report.breaks()
    assert found.check == check
    return found


def test_the_books_balance_after_a_realistic_run(books: Aws) -> None:
    report = reconcile()

    assert report.clean, [b.line() for b in report.breaks()]
    eur = report.currencies["EUR"]
    # 1071.00 + 500.00 + 300.00 + 996.50 + 80.00 received; 120.00 refunded, 80.00 charged back
    assert (eur.received, eur.refunded, eur.unapplied) == (294750, 20000, 10000)
    assert eur.allocated == eur.paid == 107100 + 40000 + 18000 + 99650
    assert eur.credited == eur.credit_notes_applied == 11900
    assert eur.written_off == 350
    assert report.currencies["USD"].written_off == 12000
    assert report.checks[AUDIT_TRAIL].examined == 12 + 1 + 6  # invoices, the credit note, payments
    assert report.summary_lines()[-1] == "reconciliation: the books balance"


def test_a_corrupted_invoice_is_the_one_break(books: Aws) -> None:
    bump("INV#" + inv("R-2"), "HEAD", "written_off", 1)

    found = only(INVOICE_BALANCE)

    assert found.items == (f"invoice {inv('R-2')} (R-2)",)
    assert (found.expected, found.found) == ("-0.01 EUR", "0.00 EUR")


def test_a_corrupted_payment_is_the_one_break(books: Aws) -> None:
    payment_id = payment_id_for("bank", "B-R4")
    bump("PAY#" + payment_id, "HEAD", "unapplied", 1)

    found = only(MONEY_IN)

    assert found.items == (f"payment {payment_id}",)
    assert (found.expected, found.found) == ("500.00 EUR", "500.01 EUR")


def test_a_payment_moved_to_another_customer_breaks_its_allocation(books: Aws) -> None:
    payment_id = payment_id_for("stripe", "pi_1001")
    acme = store.get_invoice(inv("INV-2026-1001"))
    other = store.get_invoice(inv("R-4"))
    assert acme is not None and other is not None
    dynamodb().update_item(
        TableName=TABLE,
        Key=key("PAY#" + payment_id),
        UpdateExpression="SET customer_id = :c",
        ExpressionAttributeValues={":c": {"S": other.customer_id}},
    )

    found = only(ALLOCATIONS)

    assert found.items == (
        f"payment {payment_id}",
        f"invoice {acme.invoice_id} (INV-2026-1001)",
        "allocation 1071.00 EUR",
    )
    assert (found.expected, found.found) == (f"customer {other.customer_id}", f"customer {acme.customer_id}")


def test_a_corrupted_aggregate_is_the_one_break(books: Aws) -> None:
    bump("AR#EUR", "DUE#2026-11-12", "open", -1)  # R-4, paid: nothing open on that day

    found = only(AGING_AGGREGATES)

    assert found.items == ("aggregate AR#EUR / DUE#2026-11-12",)
    assert (found.what, found.expected, found.found) == (
        "open is not what the invoices add up to",
        "0.00 EUR",
        "-0.01 EUR",
    )


def test_a_missing_audit_event_is_the_one_break(books: Aws) -> None:
    dynamodb().delete_item(TableName=TABLE, Key=key("INV#" + inv("R-1"), store.event_sk(2)))

    found = only(AUDIT_TRAIL)

    assert found.items == (f"invoice {inv('R-1')} (R-1)",)
    assert found.found == "none for 2"


def test_an_invoice_the_stream_has_not_reached_yet_is_a_break_until_it_has(books: Aws) -> None:
    books.drop("inbox/late.csv", HEADER + "R-9,2026-10-20,2026-11-19,EUR,C-R,ap@r.example,60.00\n")

    late = reconcile()
    aggregate(books)

    assert {b.check for b in late.breaks()} == {AGING_AGGREGATES}
    assert any("never added the invoice" in b.what for b in late.breaks())
    assert reconcile().clean
