"""Running totals of the receivables, kept current from the table's stream.

The aging report, the KPIs and the dashboard read these few items instead of the invoices, so
what they read grows with the number of currencies, due dates and customers, never with the
number of invoices. Each invoice *contributes* to them; when a new version of the invoice comes
down the stream, its new contribution replaces its old one:

===================  ===========  ==============================================
counters of a        one per      attributes (minor units, counts)
===================  ===========  ==============================================
due date             due date     open, invoices, disputed, disputed_invoices
customer             customer     open, invoices, disputed, disputed_invoices,
                                  d_<due date> (open, per date)
sales                issue date   sales, issued, disputed (invoices disputed)
index                table        currencies, sellers (string sets)
share                invoice      its contribution and the version it is of
activity             day          emails sent (invoice, reminder, final_notice),
                                  payments received (p_<cur> count, r_<cur> sum)
risk                 customer     broken_promises, promises_kept, failed_debits,
                                  chargebacks, disputes (`COUNTERS`)
links                customer     links_sent
marker               counted      this email, payment or risk event is counted
===================  ===========  ==============================================

Their keys, and the reads and conditional writes, are storage's (`receivables.storage.keys`,
`receivables.storage.projections`); this module decides what each counts.

Exactly once, in order: the stream delivers at least once and a retried batch can replay older
records after newer ones, so every contribution is written in one transaction with the counter
changes it causes, on condition that it is newer than the stored one. A replay fails that
condition and changes nothing.

Activity (the emails and payments of a day) counts things that happen once: an email's audit
event, a payment's first version. Each is counted in one transaction with a marker put beside the
item on condition that it does not exist, so a replay finds the marker and counts nothing.

Sales count an invoice on its issue date unless it is void. Every invoice counts as *issued*,
void or not (a duplicate was issued, and is often disputed), and as *disputed* once it has ever
been disputed: both on its issue date, so the dispute rate compares like with like.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money
from receivables.ledger.model import InvoiceStatus
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables.ledger.model import Invoice

DUE_PREFIX = "d_"
Key = tuple[str, str]  # a counters item, as `receivables.storage.store` names it
Reads = store.Reads  # what reading the aggregates cost (`receivables.storage.projections.Reads`)


@dataclass(frozen=True, slots=True)
class Share:
    """What one version of an invoice adds to the aggregates."""

    version: int
    currency: str
    customer_id: str
    issue_date: str
    due_date: str
    open: int  # the balance still owed (0 unless open, partially paid or disputed)
    disputed: bool  # in dispute now
    sales: int  # the total, unless void
    ever_disputed: bool

    @classmethod
    def of(cls, invoice: Invoice, before: Share | None = None) -> Share:
        """The contribution of ``invoice``; ``before`` carries what it ever was (disputed)."""
        owed = invoice.status in OPEN_RECEIVABLE and invoice.balance.minor > 0
        disputed = invoice.status is InvoiceStatus.DISPUTED
        return cls(
            version=invoice.version,
            currency=invoice.currency,
            customer_id=invoice.customer_id,
            issue_date=invoice.issue_date.isoformat(),
            due_date=invoice.due_date.isoformat(),
            open=invoice.balance.minor if owed else 0,
            disputed=disputed and owed,
            sales=0 if invoice.status is InvoiceStatus.VOID else invoice.total.minor,
            ever_disputed=disputed or (before is not None and before.ever_disputed),
        )

    @classmethod
    def stored(cls, fields: store.ShareFields) -> Share:
        """Back from `fields`, as storage gives it."""
        return cls(**fields)

    def fields(self) -> store.ShareFields:
        """The share as storage keeps it."""
        return store.ShareFields(
            version=self.version,
            currency=self.currency,
            customer_id=self.customer_id,
            issue_date=self.issue_date,
            due_date=self.due_date,
            open=self.open,
            disputed=self.disputed,
            sales=self.sales,
            ever_disputed=self.ever_disputed,
        )

    def counters(self, sign: int) -> Iterator[tuple[Key, str, int]]:
        """(item key, attribute, amount) for every counter this share adds (sign 1) or takes
        back (sign -1)."""
        cur, owed = self.currency, 1 if self.open > 0 else 0
        due = store.due_date_key(cur, self.due_date)
        yield due, "open", sign * self.open
        yield due, "invoices", sign * owed
        yield due, "disputed", sign * (self.open if self.disputed else 0)
        yield due, "disputed_invoices", sign * (owed if self.disputed else 0)
        customer = store.customer_total_key(cur, self.customer_id)
        yield customer, "open", sign * self.open
        yield customer, "invoices", sign * owed
        yield customer, "disputed", sign * (self.open if self.disputed else 0)
        yield customer, "disputed_invoices", sign * (owed if self.disputed else 0)
        yield customer, DUE_PREFIX + self.due_date, sign * self.open
        sales = store.sales_key(cur, self.issue_date)
        yield sales, "sales", sign * self.sales
        yield sales, "issued", sign  # a void invoice was issued too (and may have been disputed)
        yield sales, "disputed", sign * (1 if self.ever_disputed else 0)

    def to_item(self, invoice_id: str) -> dict[str, Any]:
        """The stored contribution, as the table holds it (`receivables.storage.store.share_item`:
        for the reconciliation's fakes and tools that write items in bulk)."""
        return store.share_item(invoice_id, self.fields())


def changes(before: Share | None, after: Share) -> dict[tuple[str, str], dict[str, int]]:
    """The counter changes that replace ``before`` by ``after``: per item, per attribute, the
    non-zero amounts to add."""
    merged: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for share, sign in ((before, -1), (after, 1)):
        if share is not None:
            for key, attribute, amount in share.counters(sign):
                merged[key][attribute] += amount
    return {
        key: {a: n for a, n in attributes.items() if n}
        for key, attributes in merged.items()
        if any(attributes.values())
    }


def apply_invoice(invoice: Invoice, attempts: int = 5) -> bool:
    """Bring the aggregates up to ``invoice`` (one version of it, from the stream).

    True when they changed; False when a newer or the same version was applied before (a
    replayed or late record). Raises `store.StoreError` when transactions keep conflicting.
    """
    for _ in range(attempts):
        stored = store.stored_share(invoice.invoice_id)
        before = Share.stored(stored) if stored is not None else None
        if before is not None and before.version >= invoice.version:
            return False
        after = Share.of(invoice, before)
        if store.write_share(
            invoice.invoice_id,
            after.fields(),
            changes(before, after),
            replacing=before.version if before is not None else None,
            index=(after.currency, invoice.seller_id) if before is None else None,
        ):
            return True
        # Cancelled: another record of this invoice, or a conflict on a counter: read again.
    raise store.StoreError(f"the aggregates of {invoice.invoice_id} kept conflicting")


# --- compaction: what the counters no longer hold -------------------------------------------------
def compact(currency: str) -> int:
    """Remove what the counters of ``currency`` no longer hold, so that what the aging reads
    stays bounded by what is open: a customer's due dates with nothing left on them, and the
    due-date and customer items that hold nothing at all. Every removal is conditional on the
    counters still being zero, so a contribution that lands meanwhile is never lost. Returns the
    number of items changed (the daily sweep runs it)."""
    changed = 0
    for key, counters in store.aging_counters(currency, Reads()):
        zero = [name for name, value in counters.items() if value == 0]
        if zero and len(zero) == len(counters):
            changed += store.delete_if_zero(key, counters)
        elif dates := [name for name in zero if name.startswith(DUE_PREFIX)]:
            changed += store.remove_if_zero(key, dates)
    return changed


# --- activity: the emails and payments of a day -----------------------------------------------
EMAIL_KINDS = {
    "InvoiceEmailed": "invoice",
    "ReminderSent": "reminder",
    "FinalNoticeSent": "final_notice",
    "PortalLinkSent": "portal_link",
}

# The risk events the stream counts per customer (credit.risk scores from these counters), and
# where: the customer's risk counters (`receivables.storage.store.risk_counts`).
COUNTERS = {
    "PromiseBroken": "broken_promises",
    "PromiseKept": "promises_kept",
    "PaymentFailed": "failed_debits",
    "ChargebackOpened": "chargebacks",
    "DisputeOpened": "disputes",
}


def risk_customer(image: dict[str, Any]) -> str | None:
    """The customer whose risk the event a stream record's NewImage holds bears on (a broken
    promise, a failed debit, a dispute, a chargeback, a rating imported), or None."""
    item = store.streamed_item(image)
    kind = item.type
    if item.kind != "event" or (kind not in COUNTERS and kind != "ExternalRatingImported"):
        return None
    customer_id = item.customer_id
    if not customer_id and (invoice_id := item.invoice_id) is not None:
        invoice = store.get_invoice(invoice_id)
        customer_id = invoice.customer_id if invoice is not None else None
    return str(customer_id) if customer_id else None


def apply_activity(image: dict[str, Any], risk_customer_id: str | None = None) -> bool:
    """Count the email or payment a stream record's NewImage holds (an email also in its
    customer's links sent), or the risk event in the risk counters of ``risk_customer_id`` (its
    customer, found by `risk_customer`); False when it is none of them or was counted before."""
    item = store.streamed_item(image)
    kind, event_type = item.kind, item.type
    if kind == "event" and event_type in COUNTERS:
        if risk_customer_id is None:
            return False
        counters = {store.risk_counts_key(risk_customer_id): {COUNTERS[event_type]: 1}}
        return store.count_once(item.marker, counters)
    if kind == "event" and event_type in EMAIL_KINDS:
        counters = {store.activity_key(item.at[:10]): {EMAIL_KINDS[event_type]: 1}}
        if customer_id := item.customer_id:
            counters[store.links_key(customer_id)] = {"links_sent": 1}
        return store.count_once(item.marker, counters)
    if kind == "payment" and item.is_head:
        currency = item.currency
        amounts = {"p_" + currency: 1, "r_" + currency: item.amount}
        return store.count_once(item.marker, {store.activity_key(item.received_at[:10]): amounts})
    return False


def links_sent(customer_id: str) -> int:
    """How many emails (each with its links) the customer was sent."""
    return store.link_counts(customer_id).get("links_sent", 0)


@dataclass(frozen=True, slots=True)
class Activity:
    """One day's emails (by kind) and payments received (count and minor units, by currency)."""

    day: str
    emails: dict[str, int]
    payments: dict[str, tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; amounts as decimal strings."""
        return {
            "date": self.day,
            "emails": self.emails,
            "emails_total": sum(self.emails.values()),
            "payments": {
                cur: {"count": count, "amount": Money(minor, cur).to_decimal_string()}
                for cur, (count, minor) in sorted(self.payments.items())
            },
        }


def activity(first: str, last: str, reads: Reads) -> list[Activity]:
    """Every day from ``first`` to ``last`` (ISO dates) that had an email or a payment, oldest first."""
    days = []
    for day, counted in store.activity_counters(first, last, reads):
        currencies = {name[2:] for name in counted if name.startswith("p_")}
        days.append(
            Activity(
                day=day,
                emails={kind: counted[kind] for kind in EMAIL_KINDS.values() if counted.get(kind, 0)},
                payments={c: (counted.get("p_" + c, 0), counted.get("r_" + c, 0)) for c in currencies},
            )
        )
    return days


# --- reading ------------------------------------------------------------------------------------
def currencies(reads: Reads) -> list[str]:
    """The currencies any invoice was ever in."""
    return store.aggregate_index(reads).currencies


def sellers(reads: Reads) -> list[str]:
    """The sellers any invoice was ever issued by (a second legal entity, a Peppol sender)."""
    return store.aggregate_index(reads).sellers


def customer_total(customer_id: str, currency: str) -> dict[str, int]:
    """A customer's running total in ``currency`` (one GetItem): ``open``, ``invoices`` and the
    open amount per due date (``d_<date>``); empty when they owe nothing in it."""
    return store.customer_total(customer_id, currency)
