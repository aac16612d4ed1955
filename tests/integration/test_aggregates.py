"""The aggregates kept from the table's stream: the aging they give is the aging the invoices
give, whatever order and however often the stream delivers."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from receivables.collections.dunning.sweep import snapshot
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, DocumentType
from receivables.ledger.rules import document_id, open_dispute, void
from receivables.payments.allocation import Receipt, record_receipt
from receivables.reporting.aggregates import Reads, activity, compact
from receivables.reporting.service import SNAPSHOT_PK, aging_report, kpis
from receivables.storage import store
from receivables.storage.projections import aggregate_items as query
from receivables_local.functions import load_function

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.integration.conftest import Aws

HEADER = "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount\n"
TODAY = date(2026, 11, 2)  # the fixture's clock


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def change(number: str, how: Callable[[Any], Any], kind: str, at: str) -> None:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    changed = replace(how(invoice), version=invoice.version + 1)
    store.apply_changes([(changed, AuditEvent(invoice.invoice_id, changed.version, kind, at, "test", {}))])


def rows() -> str:
    def line(number: str, due_in: int, currency: str, ref: str, amount: str) -> str:
        due = TODAY + timedelta(days=due_in)
        return (
            f"{number},{due - timedelta(days=30)},{due},{currency},{ref},ap@{ref.lower()}.example,{amount}\n"
        )

    return HEADER + "".join(
        (
            line("AG-1", 10, "EUR", "ALPHA", "100.00"),  # current
            line("AG-2", -5, "EUR", "ALPHA", "200.00"),  # 1-30, half paid below
            line("AG-3", -45, "EUR", "BRAVO", "300.00"),  # 31-60, disputed below
            line("AG-4", -75, "EUR", "BRAVO", "400.00"),  # 61-90, voided below
            line("AG-5", -120, "EUR", "CHARLIE", "500.00"),  # 90+
            line("AG-6", -1, "USD", "ALPHA", "70.00"),
        )
    )


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    result = aws.drop("inbox/aging.csv", rows())
    assert (result["outcome"], result["created"]) == ("processed", 6), result
    at = iso_timestamp(aws.clock.now())
    record_receipt(
        Receipt(
            "bank",
            "B-1",
            Money(10000, "EUR"),
            at,
            "bank_transfer",
            target_invoice_ids=(inv("AG-2"),),
            on_account=True,  # half paid, as agreed: not a deduction
        ),
        aws.clock,
    )
    change("AG-3", open_dispute, "DisputeOpened", at)
    change("AG-4", void, "InvoiceVoided", at)
    return aws


def aggregate(records: list[dict[str, Any]]) -> dict[str, Any]:
    response: dict[str, Any] = load_function("aggregates").handle({"Records": records})
    return response


def test_the_aggregated_aging_is_the_aging_of_the_invoices(ledger: Aws) -> None:
    assert aggregate(ledger.stream().read()) == {"batchItemFailures": []}

    report = aging_report(TODAY)
    from_invoices = snapshot(store.open_receivables_due_by(date.max), TODAY)["currencies"]
    for currency, aging in report.currencies.items():
        assert aging.buckets == from_invoices[currency]["buckets"]
        assert aging.total == from_invoices[currency]["open"]
        assert aging.disputed == from_invoices[currency]["disputed"]
    eur = report.currencies["EUR"]
    assert eur.buckets == {"current": 10000, "1-30": 10000, "31-60": 30000, "61-90": 0, "90+": 50000}
    assert eur.disputed_invoices == 1 and eur.invoices == 4
    by_customer = {c.customer_id: c.aging for c in report.customers["EUR"]}
    assert len(by_customer) == 3
    first = report.customers["EUR"][0]
    assert first.aging.overdue == 50000, "the most overdue customer comes first"
    assert sorted(a.total for a in by_customer.values()) == [20000, 30000, 50000]
    assert report.currencies["USD"].buckets["1-30"] == 7000


def test_replays_and_late_records_change_nothing(ledger: Aws) -> None:
    records = ledger.stream().read()
    aggregate(records)
    once = aging_report(TODAY).to_json()

    shuffled = records * 2
    random.Random(7).shuffle(shuffled)
    assert aggregate(shuffled) == {"batchItemFailures": []}

    assert aging_report(TODAY).to_json() == once


def test_records_out_of_order_end_at_the_latest_version(ledger: Aws) -> None:
    records = ledger.stream().read()
    aggregate(list(reversed(records)))  # the newest version of each invoice comes first
    report = aging_report(TODAY)
    assert report.currencies["EUR"].buckets["1-30"] == 10000
    assert report.currencies["EUR"].buckets["61-90"] == 0


def test_sales_and_disputes_feed_the_kpis(ledger: Aws) -> None:
    aggregate(ledger.stream().read())
    figures = kpis("EUR", TODAY, 90)
    # Issued in the 90 days: AG-1 (Oct 13), AG-2 (Sep 28), AG-3 (Aug 19); AG-5 (Jun 5) is older
    # and the void AG-4 is no sale.
    assert figures.credit_sales == 10000 + 20000 + 30000
    assert str(figures.dispute_rate) == "33.3"  # AG-3 of the three
    # AR 1,000.00 (100 + 100 left of 200 + 300 + 500), of which 100 current.
    assert str(figures.dso_standard) == "150.0"  # 1000 / 600 x 90
    assert str(figures.best_possible_dso) == "15.0"  # 100 / 600 x 90
    assert str(figures.average_days_delinquent) == "135.0"
    assert str(figures.overdue_ratio) == "90.0"
    # Countback from 1,000: Nov 1-2 no sales (2 days), Oct 100 (31), Sep 200 (30), Aug 300 (31),
    # Jul nothing (31), then Jun's 500 covers the 400 left: 4/5 x 30 = 24. 2+31+30+31+31+24 = 149.
    assert str(figures.dso_countback) == "149.0"
    assert figures.cei is None and "snapshot" in figures.missing["cei"]
    # The history starts with AG-5 (Jun 5): a year's KPIs say they cover less.
    assert "the history on 2026-06-05" in kpis("EUR", TODAY, 365).flags["period"]

    # A sweep that missed the period's first day: the snapshot of two days before stands in.
    first = TODAY - timedelta(days=89)
    earlier = (first - timedelta(days=2)).isoformat()
    body = {"date": earlier, "currencies": {"EUR": {"open": 120000}}, "worklist": []}
    store.put_document(SNAPSHOT_PK, body, 1, iso_timestamp(ledger.clock.now()), None, sk=earlier)
    again = kpis("EUR", TODAY, 90)
    assert again.cei is not None and "cei" not in again.missing
    assert f"the snapshot of {earlier}, the nearest before" in again.flags["cei"]


def test_the_days_emails_and_payments_are_counted_once(ledger: Aws) -> None:
    at = iso_timestamp(ledger.clock.now())
    change("AG-5", lambda invoice: invoice, "ReminderSent", at)
    change("AG-2", lambda invoice: invoice, "FinalNoticeSent", at)
    records = ledger.stream().read()
    doubled = records * 2
    random.Random(3).shuffle(doubled)
    assert aggregate(doubled) == {"batchItemFailures": []}

    reads = Reads()
    days = activity(TODAY.isoformat(), TODAY.isoformat(), reads)
    assert [day.to_json() for day in days] == [
        {
            "date": TODAY.isoformat(),
            "emails": {"reminder": 1, "final_notice": 1},
            "emails_total": 2,
            "payments": {"EUR": {"count": 1, "amount": "100.00"}},
        }
    ]
    assert reads.items == 1
    assert activity("2026-10-01", "2026-10-31", Reads()) == []


def test_a_void_invoice_was_issued_all_the_same(ledger: Aws) -> None:
    aggregate(ledger.stream().read())
    # Over 120 days: AG-1, AG-2, AG-3 and the voided AG-4 (105 days ago) were issued; AG-3 disputed.
    figures = kpis("EUR", TODAY, 120)
    assert str(figures.dispute_rate) == "25.0"
    assert figures.credit_sales == 10000 + 20000 + 30000, "a void invoice is no sale"


def test_compaction_removes_what_holds_nothing_and_changes_no_figure(ledger: Aws) -> None:
    aggregate(ledger.stream().read())
    before = aging_report(TODAY)
    # The voided AG-4 left a due date with nothing on it, and a zero due date on BRAVO.
    assert compact("EUR") == 2
    after = aging_report(TODAY)
    assert after.to_json() == before.to_json()
    assert after.reads.items == before.reads.items - 1, "the empty due date is read no more"
    for customer in query("ARC#EUR", Reads()):
        assert all(int(v["N"]) for k, v in customer.items() if k.startswith("d_")), customer
    assert compact("EUR") == 0, "nothing left to remove"
    # A contribution after compaction recreates what it needs.
    change("AG-5", lambda invoice: invoice, "NoteAdded", iso_timestamp(ledger.clock.now()))
    aggregate(ledger.stream().read())
    assert aging_report(TODAY).to_json() == before.to_json()
