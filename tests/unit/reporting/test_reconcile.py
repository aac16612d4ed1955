"""The reconciliation's checks on items given in memory: a ledger that balances is clean, and each
kind of corruption (an invoice, a payment, an allocation, an aggregate, a missing audit event)
is found, naming the items involved with what was expected and what was found."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import (
    Allocation,
    AuditEvent,
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    SourceRef,
)
from receivables.reporting.aggregates import Share
from receivables.reporting.reconcile import reconcile
from receivables.reporting.reconcile_money import expected_balance
from receivables.reporting.reconcile_report import (
    AGING_AGGREGATES,
    ALLOCATIONS,
    AUDIT_TRAIL,
    INVOICE_BALANCE,
    MONEY_IN,
    Break,
    Report,
)
from receivables.reporting.reconcile_trail import audit_breaks
from tests.unit.ledger.test_ledger import make_invoice

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from receivables.reporting.reconcile import PartitionItem


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def events(aggregate_id: str, version: int) -> list[AuditEvent]:
    return [
        AuditEvent(aggregate_id, seq, "Changed", "2026-11-02T09:00:00.000Z", "test")
        for seq in range(1, version + 1)
    ]


def letter(source_type: str, source_id: str, invoice_id: str, minor: int) -> Allocation:
    return Allocation(f"alloc_{source_id}", source_type, source_id, invoice_id, eur(minor), "2026-11-02")


@dataclass
class Books:
    """A small ledger that balances: invoice INV-1 of 100.00 EUR, credited 20.00 by CN-1 and paid
    60.00 by a payment of 80.00 (20.00 of it unapplied); and the aggregates the stream made."""

    invoice: Invoice = field(
        default_factory=lambda: make_invoice(
            10000,
            balance=eur(2000),
            paid=eur(6000),
            credited=eur(2000),
            status=InvoiceStatus.PARTIALLY_PAID,
            version=3,
        )
    )
    payment: Payment = field(
        default_factory=lambda: Payment(
            "pay_1",
            "cus_test",
            eur(8000),
            "2026-11-02",
            "bank_transfer",
            "INV-1",
            eur(2000),
            eur(0),
            (("inv_test", eur(6000)),),
            version=1,
        )
    )
    note: CreditNote = field(
        default_factory=lambda: CreditNote(
            "cn_1",
            "self",
            "CN-1",
            "cus_test",
            "EUR",
            make_invoice().issue_date,
            eur(2000),
            eur(2000),
            "INV-1",
            "f",
            SourceRef("b", "inbox/x.json", "json", "item 1"),
            applied_invoice_id="inv_test",
            version=1,
        )
    )
    letters: list[Allocation] = field(
        default_factory=lambda: [
            letter("credit_note", "cn_1", "inv_test", 2000),
            letter("payment", "pay_1", "inv_test", 6000),
        ]
    )
    invoice_events: list[AuditEvent] | None = None
    share: Share | None = None
    counters: dict[tuple[str, str], dict[str, int]] | None = None

    def __post_init__(self) -> None:
        if self.invoice_events is None:
            self.invoice_events = events("inv_test", self.invoice.version)
        if self.share is None:
            self.share = Share.of(self.invoice)
        if self.counters is None:
            self.counters = {}
            for key, attribute, amount in self.share.counters(1):
                self.counters.setdefault(key, {})[attribute] = amount


@dataclass
class FakeReader:
    """`LedgerReader` over `Books`; ``stale`` serves the first reading of the invoice's partition
    from another invoice (a change committed between two reads)."""

    books: Books
    stale: Invoice | None = None
    reads: int = 0

    def head_keys(self) -> Iterable[str]:
        return ["INV#inv_test", "CN#cn_1", "PAY#pay_1"]

    def partition(self, pk: str) -> Iterable[PartitionItem]:
        b = self.books
        if pk == "PAY#pay_1":
            return [*events("pay_1", b.payment.version), b.payment]
        if pk == "CN#cn_1":
            return [*events("cn_1", b.note.version), b.note]
        self.reads += 1
        head = self.stale if self.stale is not None and self.reads == 1 else b.invoice
        share = [b.share.to_item("inv_test")] if b.share is not None else []
        return [*share, *b.letters, *(b.invoice_events or []), head]

    def invoices(self, invoice_ids: Iterable[str]) -> Mapping[str, Invoice]:
        return {i: self.books.invoice for i in invoice_ids if i == "inv_test"}

    def sources(self, source_ids: Iterable[str]) -> Mapping[str, Payment | CreditNote]:
        known: dict[str, Payment | CreditNote] = {"pay_1": self.books.payment, "cn_1": self.books.note}
        return {i: known[i] for i in source_ids if i in known}

    def currencies(self) -> Iterable[str]:
        return ["EUR"]

    def aggregate_items(self, pk: str) -> Iterable[dict[str, Any]]:
        counters = self.books.counters or {}
        return [
            {"pk": {"S": k[0]}, "sk": {"S": k[1]}, **{a: {"N": str(n)} for a, n in attributes.items()}}
            for k, attributes in sorted(counters.items())
            if k[0] == pk
        ]


def breaks(report: Report, check: str) -> list[Break]:
    return [b for b in report.breaks() if b.check == check]


def test_given_books_that_balance_then_every_check_is_clean() -> None:
    report = reconcile(FakeReader(Books()))

    assert report.clean, [b.line() for b in report.breaks()]
    assert report.summary_lines()[-1] == "reconciliation: the books balance"
    eur_totals = report.currencies["EUR"]
    assert (eur_totals.received, eur_totals.allocated, eur_totals.unapplied, eur_totals.paid) == (
        8000,
        6000,
        2000,
        6000,
    )
    assert report.to_json()["currencies"]["EUR"]["credited"] == "20.00"


def test_a_corrupted_invoice_balance_is_found() -> None:
    books = Books()
    books.invoice = replace(books.invoice, balance=eur(2500))

    report = reconcile(FakeReader(books))

    (found,) = breaks(report, INVOICE_BALANCE)
    assert found.items == ("invoice inv_test (INV-1)",)
    assert (found.expected, found.found) == ("20.00 EUR", "25.00 EUR")
    assert "payable 100.00 EUR + fees 0.00 EUR - credited 20.00 EUR - paid 60.00 EUR" in found.what


def test_late_fees_and_written_off_money_are_part_of_the_balance() -> None:
    fined = make_invoice(10000, fees=eur(1500), written_off=eur(300), balance=eur(11200))

    assert expected_balance(fined) == eur(11200)
    assert expected_balance(replace(fined, status=InvoiceStatus.VOID, balance=eur(0))) == eur(0)


def test_an_invoice_paid_more_than_its_payment_allocations_is_found() -> None:
    books = Books()
    books.letters = [books.letters[0], letter("payment", "pay_1", "inv_test", 5000)]

    report = reconcile(FakeReader(books))

    assert any(
        "paid is not the sum of its payment allocations" in b.what for b in breaks(report, INVOICE_BALANCE)
    )
    (mismatch,) = breaks(report, ALLOCATIONS)
    assert mismatch.items == ("payment pay_1", "invoice inv_test (INV-1)")
    assert (mismatch.expected, mismatch.found) == ("50.00 EUR", "60.00 EUR")


def test_a_corrupted_payment_that_loses_a_cent_is_found() -> None:
    books = Books()
    books.payment = replace(books.payment, unapplied=eur(1999))

    (found,) = breaks(reconcile(FakeReader(books)), MONEY_IN)

    assert found.items == ("payment pay_1",)
    assert (found.expected, found.found) == ("80.00 EUR", "79.99 EUR")


def test_a_refund_is_money_that_left_and_balances() -> None:
    books = Books()
    books.payment = replace(books.payment, refunded=eur(2000), unapplied=eur(0))

    assert not breaks(reconcile(FakeReader(books)), MONEY_IN)


def test_an_allocation_to_another_customers_invoice_is_found() -> None:
    books = Books()
    books.payment = replace(books.payment, customer_id="cus_other")

    (found,) = breaks(reconcile(FakeReader(books)), ALLOCATIONS)

    assert found.items == ("payment pay_1", "invoice inv_test (INV-1)", "allocation 60.00 EUR")
    assert (found.expected, found.found) == ("customer cus_other", "customer cus_test")


def test_a_credit_note_of_another_customer_is_found() -> None:
    books = Books()
    books.note = replace(books.note, customer_id="cus_other")

    (found,) = breaks(reconcile(FakeReader(books)), ALLOCATIONS)

    assert found.items == ("credit note cn_1 (CN-1)", "invoice inv_test (INV-1)")


def test_a_corrupted_aggregate_is_found() -> None:
    books = Books()
    assert books.counters is not None
    books.counters[("AR#EUR", "DUE#2026-10-31")]["open"] -= 1

    (found,) = breaks(reconcile(FakeReader(books)), AGING_AGGREGATES)

    assert found.items == ("aggregate AR#EUR / DUE#2026-10-31",)
    assert (found.what, found.expected, found.found) == (
        "open is not what the invoices add up to",
        "20.00 EUR",
        "19.99 EUR",
    )


def test_an_invoice_the_stream_never_aggregated_is_found_with_its_missing_counters() -> None:
    books = Books()
    books.share, books.counters = None, {}

    found = breaks(reconcile(FakeReader(books)), AGING_AGGREGATES)

    assert found[0].what == "the stream never added the invoice to the aggregates"
    assert ("aggregate ARC#EUR / cus_test",) in {b.items for b in found}


def test_an_older_version_that_contributed_the_same_is_no_break() -> None:
    books = Books()
    assert books.share is not None
    books.share = replace(books.share, version=2)  # dunning wrote version 3: no money moved

    assert reconcile(FakeReader(books)).clean


def test_a_missing_audit_event_is_found() -> None:
    books = Books()
    assert books.invoice_events is not None
    del books.invoice_events[1]

    (found,) = breaks(reconcile(FakeReader(books)), AUDIT_TRAIL)

    assert found.items == ("invoice inv_test (INV-1)",)
    assert (found.expected, found.found) == ("events 1 to 3", "none for 2")


def test_audit_events_beyond_the_version_and_twice_numbered_are_found() -> None:
    trail = [*events("inv_1", 3), *events("inv_1", 1), *events("inv_1", 5)[3:]]

    found = audit_breaks("invoice inv_1", "inv_1", 3, trail)

    assert [(b.what, b.found) for b in found] == [
        ("audit events of versions the head never reached", "events 4-5"),
        ("more than one event with one number", "events 1"),
    ]


def test_a_break_a_second_reading_does_not_confirm_is_not_reported() -> None:
    books = Books()
    # The first reading caught the head before the payment's transaction, the events after it.
    reader = FakeReader(books, stale=replace(books.invoice, version=2))

    report = reconcile(reader)

    assert report.clean and reader.reads == 2


def test_the_reconcile_function_publishes_the_breaks_it_found() -> None:
    from receivables.kernel.observability import metrics
    from receivables_local.functions import load_function

    books = Books()
    books.payment = replace(books.payment, unapplied=eur(1999))
    handler = load_function("reconcile")

    summary = handler.handle({"detail-type": "Scheduled Event"}, FakeReader(books))

    assert (summary["clean"], summary["breaks"], summary["checks"][MONEY_IN]["breaks"]) == (False, 1, 1)
    assert metrics.metric_set["ReconciliationBreaks"]["Value"] == [1.0]
    metrics.clear_metrics()
