"""The store's promises: optimistic locking, ordered audit trails, the sparse due-date index."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, InvoiceStatus
from receivables.ledger.rules import transition
from receivables.storage import store
from tests.unit.ledger.test_ledger import make_invoice


def event(invoice_id: str, seq: int, kind: str = "Noted") -> AuditEvent:
    return AuditEvent(invoice_id, seq, kind, f"2026-11-02T09:00:0{seq}.000Z", "test", {"n": seq})


def create(invoice_id: str, due: date, customer: str = "cus_1") -> None:
    invoice = replace(
        make_invoice(1000), invoice_id=invoice_id, due_date=due, customer_id=customer, version=1
    )
    assert store.create_all([store.Creation.invoice(invoice, event(invoice_id, 1, "InvoiceIngested"))]) == []


@pytest.mark.usefixtures("aws")
def test_a_stale_version_is_refused_and_nothing_is_written() -> None:
    create("inv_a", date(2026, 11, 1))
    current = store.get_invoice("inv_a")
    assert current is not None
    first = replace(current, status=transition(current.status, InvoiceStatus.DISPUTED))
    store.apply_changes([(first, event("inv_a", 2, "DisputeOpened"))])

    stale = replace(current, status=InvoiceStatus.VOID)
    with pytest.raises(store.ConcurrentChangeError):
        store.apply_changes([(stale, event("inv_a", 2, "Voided"))])

    stored = store.get_invoice("inv_a")
    assert stored is not None and (stored.status, stored.version) == (InvoiceStatus.DISPUTED, 2)
    assert [(e.seq, e.type) for e in store.invoice_events("inv_a")] == [
        (1, "InvoiceIngested"),
        (2, "DisputeOpened"),
    ]


@pytest.mark.usefixtures("aws")
def test_consequences_ride_along_when_they_fit_and_follow_when_they_do_not() -> None:
    create("inv_c", date(2026, 11, 1))
    current = store.get_invoice("inv_c")
    assert current is not None
    first = replace(current, version=2)
    notes = [store.audit_event("INV#inv_x", event("inv_x", n)) for n in range(1, 61)]
    more = [store.audit_event("INV#inv_y", event("inv_y", n)) for n in range(1, 41)]
    # 2 + 60 + 40 items: more than a transaction holds, so the consequence follows in its own.
    store.apply_changes_with([(first, event("inv_c", 2))], writes=notes, consequences=[([], more)])
    assert len(store.audit_events("INV#inv_x")) == 60 and len(store.audit_events("INV#inv_y")) == 40

    second = replace(first, version=3)
    fits = [store.audit_event("INV#inv_z", event("inv_z", n)) for n in range(1, 4)]
    store.apply_changes_with([(second, event("inv_c", 3))], consequences=[([], fits)])
    assert len(store.audit_events("INV#inv_z")) == 3
    stored = store.get_invoice("inv_c")
    assert stored is not None and stored.version == 3


@pytest.mark.usefixtures("aws")
def test_creating_twice_is_refused_without_blocking_the_others() -> None:
    create("inv_a", date(2026, 11, 1))
    again = replace(make_invoice(1000), invoice_id="inv_a", version=1)
    fresh = replace(make_invoice(2000), invoice_id="inv_b", version=1)

    refused = store.create_all(
        [
            store.Creation.invoice(again, event("inv_a", 1)),
            store.Creation.invoice(fresh, event("inv_b", 1)),
        ]
    )

    assert [c.aggregate_id for c in refused] == ["inv_a"]
    stored_b = store.get_invoice("inv_b")
    assert stored_b is not None and stored_b.payable == Money(2000, "EUR")


@pytest.mark.usefixtures("aws")
def test_the_sweep_finds_collectible_invoices_by_due_date_across_shards() -> None:
    for n in range(30):
        create(f"inv_{n:02d}", date(2026, 10, 1 + n))
    credited = store.get_invoice("inv_03")
    assert credited is not None
    store.apply_changes(
        [(replace(credited, status=InvoiceStatus.CREDITED, balance=Money(0, "EUR")), event("inv_03", 2))]
    )

    due = store.collectible_invoices_due_by(date(2026, 10, 10))

    assert [i.invoice_id for i in due] == [f"inv_{n:02d}" for n in range(10) if n != 3]
    assert [i.due_date for i in due] == sorted(i.due_date for i in due)


@pytest.mark.usefixtures("aws")
def test_a_customers_documents_come_by_query() -> None:
    create("inv_x", date(2026, 11, 1), customer="cus_x")
    create("inv_y", date(2026, 11, 2), customer="cus_y")

    assert [d.invoice_id for d in store.customer_documents("cus_x")] == ["inv_x"]  # type: ignore[union-attr]
