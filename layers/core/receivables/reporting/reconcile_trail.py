"""The reconciliation's checks of what the ledger's changes leave beside it
(`receivables.reporting.reconcile`, checks 4 and 5): the aging aggregates the stream keeps, and
the audit trail. Pure: given items, their breaks (the stored counters decoded by
`receivables.storage.store.counters_of`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from receivables.reporting.aggregates import DUE_PREFIX, Key, Share
from receivables.reporting.reconcile_report import (
    AGING_AGGREGATES,
    AUDIT_TRAIL,
    Break,
    amount_text,
    invoice_name,
)
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from receivables.ledger.model import AuditEvent, Invoice

# The aggregate counters that hold minor units (the others count invoices).
MONEY_COUNTERS = frozenset({"open", "disputed", "sales"})


# --- 4. aging aggregates --------------------------------------------------------------------------
def share_breaks(invoice: Invoice, share: Share | None) -> list[Break]:
    """The invoice's stored contribution to the aggregates against what its current version
    contributes (a contribution of an older version that contributed the same is no break)."""
    name = (invoice_name(invoice),)
    if share is None:
        return [
            Break(
                AGING_AGGREGATES,
                name,
                "the stream never added the invoice to the aggregates",
                f"a contribution of version {invoice.version}",
                "none",
            )
        ]
    if share.version > invoice.version:
        return [
            Break(
                AGING_AGGREGATES,
                name,
                "the aggregates hold a version of the invoice it never reached",
                f"version {invoice.version} at most",
                f"version {share.version}",
            )
        ]
    # An older version that contributed the same (dunning's, delivery's versions) is no break: what
    # the aggregates add up is right whether or not the stream has passed it yet.
    expected = replace(Share.of(invoice, share), version=share.version)
    if expected != share:
        return [
            Break(
                AGING_AGGREGATES,
                name,
                f"the aggregates hold version {share.version} of the invoice, which contributed "
                f"otherwise than version {invoice.version} (has the stream caught up?)",
                _share_text(expected),
                _share_text(share),
            )
        ]
    return []


def _share_text(share: Share) -> str:
    return (
        f"open {amount_text(share.open, share.currency)}, {share.customer_id}, due {share.due_date}, "
        f"disputed {share.disputed}, sales {amount_text(share.sales, share.currency)}"
    )


@dataclass(slots=True)
class AgingTally:
    """The aggregate counters the invoices call for, added up from their contributions; then
    compared with the stored counters. Holds one entry per counter item (due date, customer,
    issue day, per currency), never one per invoice."""

    expected: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    currencies: set[str] = field(default_factory=set)

    def add(self, share: Share) -> None:
        """Count one invoice's contribution."""
        self.currencies.add(share.currency)
        for key, attribute, amount in share.counters(1):
            self.expected[key][attribute] += amount

    def breaks(self, stored: Iterable[dict[str, Any]]) -> Iterator[Break]:
        """The stored counter items (as the table holds them, from the partitions of
        `receivables.storage.store.counter_partitions`) against what the invoices call for; an
        absent counter is zero."""
        expected = {key: dict(counters) for key, counters in self.expected.items()}
        for item in stored:
            key, held = store.counters_of(item)
            wanted = expected.pop(key, {})
            yield from _counter_breaks(key, wanted, held)
        for key, wanted in sorted(expected.items()):
            yield from _counter_breaks(key, wanted, {})


def _counter_breaks(key: Key, wanted: dict[str, int], held: dict[str, int]) -> Iterator[Break]:
    currency = store.currency_of_partition(key[0])
    for attribute in sorted({*wanted, *held}):
        want, have = wanted.get(attribute, 0), held.get(attribute, 0)
        if want == have:
            continue
        money = attribute in MONEY_COUNTERS or attribute.startswith(DUE_PREFIX)
        text = (lambda n: amount_text(n, currency)) if money else str
        yield Break(
            AGING_AGGREGATES,
            (f"aggregate {key[0]} / {key[1]}",),
            f"{attribute} is not what the invoices add up to",
            text(want),
            text(have),
        )


# --- 5. audit trail -------------------------------------------------------------------------------
def audit_breaks(name: str, aggregate_id: str, version: int, events: Iterable[AuditEvent]) -> list[Break]:
    """The audit events under an aggregate (``name`` as a break names it) against its version:
    exactly one event numbered each of 1 … ``version``, each of this aggregate."""
    seqs: dict[int, int] = defaultdict(int)
    found: list[Break] = []
    for event in events:
        seqs[event.seq] += 1
        if event.aggregate_id != aggregate_id:
            found.append(
                Break(
                    AUDIT_TRAIL,
                    (name, f"event {event.seq}"),
                    "the event is of another aggregate",
                    aggregate_id,
                    event.aggregate_id,
                )
            )
    missing = [seq for seq in range(1, version + 1) if seq not in seqs]
    if missing:
        found.append(
            Break(
                AUDIT_TRAIL,
                (name,),
                f"version {version} lacks the audit event of {len(missing)} version(s)",
                f"events 1 to {version}",
                f"none for {_ranges(missing)}",
            )
        )
    beyond = sorted(seq for seq in seqs if seq > version or seq < 1)
    if beyond:
        found.append(
            Break(
                AUDIT_TRAIL,
                (name,),
                "audit events of versions the head never reached",
                f"events 1 to {version}",
                f"events {_ranges(beyond)}",
            )
        )
    twice = sorted(seq for seq, n in seqs.items() if n > 1)
    if twice:
        found.append(
            Break(
                AUDIT_TRAIL,
                (name,),
                "more than one event with one number",
                "one event per version",
                f"events {_ranges(twice)}",
            )
        )
    return found


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` as ``1-3, 7`` (at most ten ranges, then ``…``)."""
    spans: list[str] = []
    start = previous = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == previous + 1:
            previous = n
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if n is not None:
            start = previous = n
    return ", ".join(spans[:10]) + (", …" if len(spans) > 10 else "")
