"""Reconciliation: do the books balance right now? Five checks over the whole table, for an auditor.

1. **money_in**: every payment keeps ``amount - refunded = allocated + unapplied`` (nothing
   negative, nothing allocated beyond what it holds), and per currency what the payments
   allocated is what the invoices show as paid.
2. **invoice_balance**: every invoice keeps ``balance = payable + fees - credited - paid -
   written off`` (a void invoice owes nothing), its ``paid`` is the sum of its payment
   allocations (the lettering under the invoice, reversals included) and its ``credited`` the
   sum of its credit-note allocations; per currency what the credit notes applied is what the
   invoices show as credited.
3. **allocations**: every allocation's two sides agree: the payment (or credit note) and the
   invoice belong to the same customer and currency, and the payment's allocation to the
   invoice is what the invoice's lettering from that payment adds up to.
4. **aging_aggregates**: the running totals the stream keeps (`receivables.reporting.aggregates`: per
   currency and due date, per customer, per issue day) are what the invoices add up to now,
   and every invoice's stored contribution is what its current version contributes. The
   stream updates them asynchronously, so run this when it has caught up (in the local
   runtime, once it is idle).
5. **audit_trail**: every version of an invoice, credit note and payment has its audit event:
   the head at version *n* has exactly the events numbered 1 … *n* under it (`store` writes
   each change on condition of its version with the event numbered with the new version).

This is an offline audit job, not a request path: it reads the whole table with a paginated
Scan (the heads' keys only) and one consistent, paginated Query per head (its events, its
lettering, its aggregate share), plus batched GetItems for the other side of each allocation.
It streams: memory holds one aggregate's items at a time, the expected aggregate counters
(which grow with due dates, customers and issue days, as the aggregates themselves do, never
with invoices) and at most `MAX_BREAKS_KEPT` breaks per check (all are counted). A head whose
checks break is read once more before its breaks are reported, so a change committed between
the reads of one aggregate is not reported as a break.

Every break names the items involved, with amounts as decimal strings and their currency, and
says what was expected and what was found (`receivables.reporting.reconcile_report`). The checking
functions are pure (given items, the breaks: checks 1 to 3 in `reconcile_money`, 4 and 5 in
`reconcile_trail`); `reconcile` feeds them from a `LedgerReader`, by default the bound table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from receivables.ledger.model import Allocation, AuditEvent, CreditNote, Invoice, Payment
from receivables.reporting import aggregates
from receivables.reporting.aggregates import Share
from receivables.reporting.reconcile_money import (
    credit_note_breaks,
    currency_breaks,
    invoice_allocation_breaks,
    invoice_breaks,
    letter_source,
    payment_allocation_breaks,
    payment_breaks,
)
from receivables.reporting.reconcile_report import (
    AGING_AGGREGATES,
    ALLOCATIONS,
    AUDIT_TRAIL,
    INVOICE_BALANCE,
    MONEY_IN,
    Break,
    Report,
    credit_note_name,
    invoice_name,
    payment_name,
)
from receivables.reporting.reconcile_trail import AgingTally, audit_breaks, share_breaks
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

PartitionItem = Invoice | CreditNote | Payment | AuditEvent | Allocation | dict[str, Any]


# --- reading the table ----------------------------------------------------------------------------
class LedgerReader(Protocol):
    """Where the reconciliation reads from (`StoreReader` in production, a fake in tests)."""

    def head_keys(self) -> Iterable[str]:
        """The partition key of every invoice, credit note and payment head."""
        ...

    def partition(self, pk: str) -> Iterable[PartitionItem]:
        """Every item of partition ``pk`` (`receivables.storage.store.ledger_partition`)."""
        ...

    def invoices(self, invoice_ids: Iterable[str]) -> Mapping[str, Invoice]:
        """Invoices by id (absent ones left out)."""
        ...

    def sources(self, source_ids: Iterable[str]) -> Mapping[str, Payment | CreditNote]:
        """Payments (``pay_…``) and credit notes (``cn_…``) by id (absent ones left out)."""
        ...

    def currencies(self) -> Iterable[str]:
        """The currencies the aggregates were ever kept in."""
        ...

    def aggregate_items(self, pk: str) -> Iterable[dict[str, Any]]:
        """Every item of the aggregate partition ``pk`` (one of
        `receivables.storage.store.counter_partitions`), as the table holds it."""
        ...


class StoreReader:
    """The bound table (`receivables.storage.store.bind`)."""

    def head_keys(self) -> Iterable[str]:
        """A Scan of the heads' keys (an offline audit's read)."""

        return store.ledger_head_keys()

    def partition(self, pk: str) -> Iterable[PartitionItem]:
        """One consistent, paginated Query."""

        return store.ledger_partition(pk)

    def invoices(self, invoice_ids: Iterable[str]) -> Mapping[str, Invoice]:
        """Batched GetItems."""

        heads = store.get_heads([i for i in invoice_ids if i.startswith("inv_")])
        return {i: h for i, h in heads.items() if isinstance(h, Invoice)}

    def sources(self, source_ids: Iterable[str]) -> Mapping[str, Payment | CreditNote]:
        """Batched GetItems."""

        ids = list(source_ids)
        found: dict[str, Payment | CreditNote] = dict(
            store.get_payments(i for i in ids if i.startswith("pay_"))
        )
        for note_id, head in store.get_heads([i for i in ids if i.startswith("cn_")]).items():
            if isinstance(head, CreditNote):
                found[note_id] = head
        return found

    def currencies(self) -> Iterable[str]:
        """The aggregates' currency index."""

        return aggregates.currencies(aggregates.Reads())

    def aggregate_items(self, pk: str) -> Iterable[dict[str, Any]]:
        """A paginated Query of the partition."""

        return store.aggregate_items(pk, aggregates.Reads())


@dataclass(slots=True)
class _Outcome:
    """What one aggregate's partition contributes: its breaks, and what it adds to the totals
    and the aging tally (committed only once its reading is final)."""

    breaks: list[Break] = field(default_factory=list)
    payment: Payment | None = None
    invoice: Invoice | None = None
    credit_note: CreditNote | None = None
    share: Share | None = None


def _check_partition(items: Iterable[PartitionItem], reader: LedgerReader) -> _Outcome:
    head: Invoice | CreditNote | Payment | None = None
    events: list[AuditEvent] = []
    letters: list[Allocation] = []
    share: Share | None = None
    for item in items:
        if isinstance(item, AuditEvent):
            events.append(item)
        elif isinstance(item, Allocation):
            letters.append(item)
        elif isinstance(item, Invoice | CreditNote | Payment):
            head = item
        elif (stored := store.share_in(item)) is not None:
            share = Share.stored(stored)
    outcome = _Outcome()
    if head is None:  # deleted between the scan and the query
        return outcome
    if isinstance(head, Payment):
        outcome.payment = head
        outcome.breaks += payment_breaks(head)
        invoices = reader.invoices(i for i, _ in head.allocations)
        outcome.breaks += payment_allocation_breaks(head, invoices)
        outcome.breaks += audit_breaks(payment_name(head), head.payment_id, head.version, events)
    elif isinstance(head, CreditNote):
        outcome.credit_note = head
        outcome.breaks += credit_note_breaks(head)
        outcome.breaks += audit_breaks(credit_note_name(head), head.credit_note_id, head.version, events)
    else:
        outcome.invoice = head
        outcome.breaks += invoice_breaks(head, letters)
        sources = reader.sources({letter_source(letter) for letter in letters})
        outcome.breaks += invoice_allocation_breaks(head, letters, sources)
        outcome.breaks += share_breaks(head, share)
        outcome.share = Share.of(head, share)
        outcome.breaks += audit_breaks(invoice_name(head), head.invoice_id, head.version, events)
    return outcome


def _commit(outcome: _Outcome, report: Report, tally: AgingTally) -> None:
    report.add(outcome.breaks)
    if (payment := outcome.payment) is not None:
        totals = report.totals(payment.amount.currency)
        totals.payments += 1
        totals.received += payment.amount.minor
        totals.refunded += payment.refunded.minor
        totals.allocated += sum(a.minor for _, a in payment.allocations)
        totals.unapplied += payment.unapplied.minor
        for name in (MONEY_IN, ALLOCATIONS, AUDIT_TRAIL):
            report.checks[name].examined += 1
    if (note := outcome.credit_note) is not None:
        report.totals(note.currency).credit_notes_applied += note.applied.minor
        for name in (INVOICE_BALANCE, AUDIT_TRAIL):
            report.checks[name].examined += 1
    if (invoice := outcome.invoice) is not None:
        totals = report.totals(invoice.currency)
        totals.invoices += 1
        totals.invoiced += invoice.payable.minor + (invoice.fees.minor if invoice.fees is not None else 0)
        totals.paid += invoice.paid.minor
        totals.credited += invoice.credited.minor
        totals.written_off += invoice.written_off.minor
        totals.balance += invoice.balance.minor
        for name in (INVOICE_BALANCE, ALLOCATIONS, AGING_AGGREGATES, AUDIT_TRAIL):
            report.checks[name].examined += 1
    if outcome.share is not None:
        tally.add(outcome.share)


def reconcile(reader: LedgerReader | None = None) -> Report:
    """Run the five checks over the whole ledger and return the report (see the module's
    docstring). An offline audit: it reads every item of the table once or twice, page by page.

    ``reader`` defaults to the bound table; bind it first (`receivables.storage.store.bind`)::

        store.bind("receivables-Table-1A2B", "eu-west-1")
        report = reconcile()
        for line in report.summary_lines():
            print(line)
    """
    source: LedgerReader = reader or StoreReader()
    report, tally = Report(), AgingTally()
    for pk in source.head_keys():
        outcome = _check_partition(source.partition(pk), source)
        if outcome.breaks:
            # A change committed between the reads of this aggregate looks like a break: read it
            # again, and report what the second reading finds.
            outcome = _check_partition(source.partition(pk), source)
        _commit(outcome, report, tally)
    for totals in report.currencies.values():
        report.add(currency_breaks(totals))
    currencies = sorted({*source.currencies(), *tally.currencies})
    stored = (
        item
        for cur in currencies
        for pk in store.counter_partitions(cur)
        for item in source.aggregate_items(pk)
    )
    report.add(tally.breaks(_counted(stored, report)))
    return report


def _counted(items: Iterable[dict[str, Any]], report: Report) -> Iterator[dict[str, Any]]:
    for item in items:
        report.checks[AGING_AGGREGATES].examined += 1
        yield item
