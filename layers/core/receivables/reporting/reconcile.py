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
says what was expected and what was found. The checking functions are pure (given items, the
breaks); `reconcile` feeds them from a `LedgerReader`, by default the bound table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from receivables.kernel.money import Money
from receivables.ledger.model import Allocation, AuditEvent, CreditNote, Invoice, InvoiceStatus, Payment
from receivables.reporting.aggregates import DUE_PREFIX, SHARE_SK, Share

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

MONEY_IN = "money_in"
INVOICE_BALANCE = "invoice_balance"
ALLOCATIONS = "allocations"
AGING_AGGREGATES = "aging_aggregates"
AUDIT_TRAIL = "audit_trail"
CHECKS: dict[str, str] = {
    MONEY_IN: "money in = allocated + unapplied + refunded",
    INVOICE_BALANCE: "invoice balance = payable + fees - credited - paid - written off",
    ALLOCATIONS: "each allocation's payment and invoice: one customer, one amount",
    AGING_AGGREGATES: "aging aggregates = the open invoices",
    AUDIT_TRAIL: "every ledger version has its audit event",
}
MAX_BREAKS_KEPT = 200
# Lettering source types that move what an invoice has been paid (the others credit it).
PAYMENT_LETTERS = frozenset({"payment", "refund", "reallocation"})
# Statuses in which nothing is owed any more.
SETTLED = frozenset(
    {InvoiceStatus.PAID, InvoiceStatus.CREDITED, InvoiceStatus.WRITTEN_OFF, InvoiceStatus.VOID}
)
# The aggregate counters that hold minor units (the others count invoices).
MONEY_COUNTERS = frozenset({"open", "disputed", "sales"})
AGGREGATE_PREFIXES = ("AR#", "ARC#", "SALES#")

PartitionItem = Invoice | CreditNote | Payment | AuditEvent | Allocation | dict[str, Any]


# --- the report -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Break:
    """One thing that does not balance: the items involved (``invoice inv_… (INV-1)``), what is
    wrong, and what was expected against what was found (amounts as ``1190.00 EUR``)."""

    check: str
    items: tuple[str, ...]
    what: str
    expected: str
    found: str

    def line(self) -> str:
        """The break as one line of text."""
        return f"{', '.join(self.items)}: {self.what}: expected {self.expected}, found {self.found}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "check": self.check,
            "items": list(self.items),
            "what": self.what,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(slots=True)
class CheckResult:
    """One check's outcome: how many things it examined, how many breaks it found, and the first
    `MAX_BREAKS_KEPT` of them."""

    name: str
    examined: int = 0
    count: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def title(self) -> str:
        """What the check asserts, in a few words."""
        return CHECKS[self.name]

    def add(self, found: Break) -> None:
        """Count ``found``, and keep it while fewer than `MAX_BREAKS_KEPT` are kept."""
        self.count += 1
        if len(self.breaks) < MAX_BREAKS_KEPT:
            self.breaks.append(found)

    def summary(self) -> str:
        """``money_in: 0 breaks in 12 payments and 3 currencies (money in = …)``."""
        outcome = "clean" if not self.count else f"{self.count} break{'s' if self.count != 1 else ''}"
        return f"{self.name}: {outcome}, {self.examined} examined ({self.title})"


@dataclass(slots=True)
class CurrencyTotals:
    """What the ledger holds in one currency, in minor units."""

    currency: str
    payments: int = 0
    received: int = 0
    refunded: int = 0
    allocated: int = 0
    unapplied: int = 0
    invoices: int = 0
    invoiced: int = 0  # payable + fees
    paid: int = 0
    credited: int = 0
    written_off: int = 0
    balance: int = 0
    credit_notes_applied: int = 0

    def money(self, minor: int) -> str:
        """``minor`` as ``1190.00 EUR``."""
        return str(Money(minor, self.currency))

    def line(self) -> str:
        """The currency's totals as one line of text."""
        m = self.money
        return (
            f"{self.currency}: {self.payments} payments received {m(self.received)}, refunded "
            f"{m(self.refunded)}, allocated {m(self.allocated)}, unapplied {m(self.unapplied)}; "
            f"{self.invoices} invoices owed {m(self.invoiced)}, paid {m(self.paid)}, credited "
            f"{m(self.credited)}, written off {m(self.written_off)}, open {m(self.balance)}"
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; amounts as decimal strings."""
        amounts = (
            "received",
            "refunded",
            "allocated",
            "unapplied",
            "invoiced",
            "paid",
            "credited",
            "written_off",
            "balance",
            "credit_notes_applied",
        )
        return {
            "currency": self.currency,
            "payments": self.payments,
            "invoices": self.invoices,
            **{a: Money(getattr(self, a), self.currency).to_decimal_string() for a in amounts},
        }


@dataclass(slots=True)
class Report:
    """The reconciliation's outcome: per check its breaks, per currency the totals."""

    checks: dict[str, CheckResult] = field(
        default_factory=lambda: {name: CheckResult(name) for name in CHECKS}
    )
    currencies: dict[str, CurrencyTotals] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when no check found a break."""
        return self.break_count == 0

    @property
    def break_count(self) -> int:
        """How many breaks were found, over every check."""
        return sum(check.count for check in self.checks.values())

    def breaks(self) -> Iterator[Break]:
        """The breaks kept, check by check."""
        for check in self.checks.values():
            yield from check.breaks

    def add(self, found: Iterable[Break]) -> None:
        """Count breaks into their checks."""
        for each in found:
            self.checks[each.check].add(each)

    def totals(self, currency: str) -> CurrencyTotals:
        """The totals of ``currency`` (created empty on first use)."""
        if currency not in self.currencies:
            self.currencies[currency] = CurrencyTotals(currency)
        return self.currencies[currency]

    def summary_lines(self) -> list[str]:
        """A line per check, a line per currency, and the verdict."""
        lines = [check.summary() for check in self.checks.values()]
        lines += [self.currencies[c].line() for c in sorted(self.currencies)]
        verdict = (
            "the books balance" if self.clean else f"{self.break_count} breaks: the books do not balance"
        )
        return [*lines, f"reconciliation: {verdict}"]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: ``clean``, ``breaks`` (the count), per check its count and kept breaks,
        per currency its totals."""
        return {
            "clean": self.clean,
            "breaks": self.break_count,
            "checks": {
                name: {
                    "title": check.title,
                    "examined": check.examined,
                    "breaks": check.count,
                    "kept": [b.to_json() for b in check.breaks],
                }
                for name, check in self.checks.items()
            },
            "currencies": {c: self.currencies[c].to_json() for c in sorted(self.currencies)},
        }


# --- naming things in a break ---------------------------------------------------------------------
def _amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def _invoice_name(invoice: Invoice) -> str:
    return f"invoice {invoice.invoice_id} ({invoice.number})"


def _payment_name(payment: Payment) -> str:
    return f"payment {payment.payment_id}"


def _credit_note_name(note: CreditNote) -> str:
    return f"credit note {note.credit_note_id} ({note.number})"


def _customer(customer_id: str | None) -> str:
    return f"customer {customer_id}" if customer_id else "no customer"


# --- 1. money in ----------------------------------------------------------------------------------
def payment_breaks(payment: Payment) -> list[Break]:
    """What does not add up in one payment: ``amount - refunded = allocated + unapplied``, and
    no part negative or allocated twice to one invoice.

    >>> from receivables.kernel.money import Money
    >>> eur = lambda minor: Money(minor, "EUR")
    >>> allocations = (("inv_1", eur(90)),)
    >>> p = Payment("pay_1", "cus_1", eur(100), "2026-11-02", "card", None, eur(10), eur(0), allocations)
    >>> payment_breaks(p)
    []
    """
    cur = payment.amount.currency
    name = (_payment_name(payment),)
    found: list[Break] = []
    allocated = sum(a.minor for _, a in payment.allocations)
    kept = payment.amount.minor - payment.refunded.minor
    if kept != allocated + payment.unapplied.minor:
        found.append(
            Break(
                MONEY_IN,
                name,
                f"received {payment.amount} less refunded {payment.refunded} is not allocated "
                f"{_amount(allocated, cur)} plus unapplied {payment.unapplied}",
                _amount(kept, cur),
                _amount(allocated + payment.unapplied.minor, cur),
            )
        )
    for label, value in (("unapplied", payment.unapplied), ("refunded", payment.refunded)):
        if value.minor < 0:
            found.append(Break(MONEY_IN, name, f"{label} is negative", f"0 {cur} or more", str(value)))
    if payment.refunded.minor > payment.amount.minor:
        found.append(
            Break(
                MONEY_IN,
                name,
                "more refunded than received",
                f"at most {payment.amount}",
                str(payment.refunded),
            )
        )
    seen: set[str] = set()
    for invoice_id, part in payment.allocations:
        if part.minor <= 0 or part.currency != cur:
            found.append(
                Break(
                    MONEY_IN,
                    (*name, f"invoice {invoice_id}"),
                    "an allocation that is not a positive amount of the payment's currency",
                    f"more than 0 {cur}",
                    str(part),
                )
            )
        if invoice_id in seen:
            found.append(
                Break(
                    MONEY_IN,
                    (*name, f"invoice {invoice_id}"),
                    "the invoice is allocated twice",
                    "one allocation per invoice",
                    "two or more",
                )
            )
        seen.add(invoice_id)
    return found


def currency_breaks(totals: CurrencyTotals) -> list[Break]:
    """What does not add up over one currency: what the payments allocated against what the
    invoices show as paid, and what the credit notes applied against what they show as credited."""
    cur, found = totals.currency, []
    if totals.allocated != totals.paid:
        found.append(
            Break(
                MONEY_IN,
                (f"every {cur} payment and invoice",),
                "what the payments allocated is not what the invoices show as paid",
                _amount(totals.allocated, cur),
                _amount(totals.paid, cur),
            )
        )
    if totals.credit_notes_applied != totals.credited:
        found.append(
            Break(
                INVOICE_BALANCE,
                (f"every {cur} credit note and invoice",),
                "what the credit notes applied is not what the invoices show as credited",
                _amount(totals.credit_notes_applied, cur),
                _amount(totals.credited, cur),
            )
        )
    return found


# --- 2. invoice balance ---------------------------------------------------------------------------
def expected_balance(invoice: Invoice) -> Money:
    """What ``invoice`` should owe by its amounts: ``payable + fees - credited - paid - written
    off`` (the identity the ledger keeps), nothing once void."""
    if invoice.status is InvoiceStatus.VOID:
        return Money.zero(invoice.currency)
    fees = invoice.fees.minor if invoice.fees is not None else 0
    minor = (
        invoice.payable.minor + fees - invoice.credited.minor - invoice.paid.minor - invoice.written_off.minor
    )
    return Money(minor, invoice.currency)


def invoice_breaks(invoice: Invoice, letters: Sequence[Allocation] = ()) -> list[Break]:
    """What does not add up in one invoice: its balance against its amounts (`expected_balance`),
    its ``paid`` against its payment lettering (allocations, reversals and re-allocations under
    it), its ``credited`` against its credit-note lettering, and a settled status that still owes."""
    cur, name = invoice.currency, (_invoice_name(invoice),)
    found: list[Break] = []
    expected = expected_balance(invoice)
    if invoice.balance != expected:
        fees = invoice.fees or Money.zero(cur)
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                f"the balance is not payable {invoice.payable} + fees {fees} - credited {invoice.credited} "
                f"- paid {invoice.paid} - written off {invoice.written_off} ({invoice.status.value})",
                str(expected),
                str(invoice.balance),
            )
        )
    for label, value in (
        ("balance", invoice.balance),
        ("paid", invoice.paid),
        ("credited", invoice.credited),
        ("written off", invoice.written_off),
    ):
        if value.minor < 0:
            found.append(Break(INVOICE_BALANCE, name, f"{label} is negative", f"0 {cur} or more", str(value)))
    if invoice.status in SETTLED and invoice.balance.minor != 0:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                f"a {invoice.status.value} invoice still owes",
                f"0 {cur}",
                str(invoice.balance),
            )
        )
    paid = sum(a.amount.minor for a in letters if a.source_type in PAYMENT_LETTERS)
    if paid != invoice.paid.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "paid is not the sum of its payment allocations",
                _amount(paid, cur),
                str(invoice.paid),
            )
        )
    credited = sum(a.amount.minor for a in letters if a.source_type == "credit_note")
    if credited != invoice.credited.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "credited is not the sum of its credit-note allocations",
                _amount(credited, cur),
                str(invoice.credited),
            )
        )
    return found


def credit_note_breaks(note: CreditNote) -> list[Break]:
    """What does not add up in one credit note: applied between nothing and its amount, and an
    applied credit names the invoice it reduced."""
    name, cur = (_credit_note_name(note),), note.currency
    found: list[Break] = []
    if not 0 <= note.applied.minor <= note.amount.minor:
        found.append(
            Break(
                INVOICE_BALANCE,
                name,
                "applied is not between nothing and the note's amount",
                f"0 to {note.amount}",
                str(note.applied),
            )
        )
    if note.applied.minor and not note.applied_invoice_id:
        found.append(
            Break(
                INVOICE_BALANCE, name, "an applied credit names no invoice", "the invoice it reduced", "none"
            )
        )
    if note.amount.currency != cur:
        found.append(
            Break(INVOICE_BALANCE, name, "the amount is in another currency", cur, note.amount.currency)
        )
    return found


# --- 3. allocations -------------------------------------------------------------------------------
def letter_source(letter: Allocation) -> str:
    """The payment or credit note a lettering item is of (a reversal's and a re-allocation's
    source is ``<payment id>#<payment version>``)."""
    return letter.source_id.split("#", 1)[0]


def payment_allocation_breaks(payment: Payment, invoices: Mapping[str, Invoice]) -> list[Break]:
    """Each allocation of ``payment`` against its invoice (``invoices`` by id; a missing one is a
    break): it exists, is in the payment's currency and belongs to the payment's customer."""
    found: list[Break] = []
    if payment.allocations and not payment.customer_id:
        found.append(
            Break(
                ALLOCATIONS,
                (_payment_name(payment),),
                "an allocated payment has no customer",
                "the invoices' customer",
                "none",
            )
        )
    for invoice_id, part in payment.allocations:
        invoice = invoices.get(invoice_id)
        items = (_payment_name(payment), f"invoice {invoice_id}", f"allocation {part}")
        if invoice is None:
            found.append(
                Break(ALLOCATIONS, items, "the allocated invoice is not in the ledger", "an invoice", "none")
            )
            continue
        items = (_payment_name(payment), _invoice_name(invoice), f"allocation {part}")
        if payment.customer_id and invoice.customer_id != payment.customer_id:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the payment and the invoice it pays belong to different customers",
                    _customer(payment.customer_id),
                    _customer(invoice.customer_id),
                )
            )
        if invoice.currency != payment.amount.currency:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the payment pays an invoice in another currency",
                    payment.amount.currency,
                    invoice.currency,
                )
            )
    return found


def invoice_allocation_breaks(
    invoice: Invoice, letters: Sequence[Allocation], sources: Mapping[str, Payment | CreditNote]
) -> list[Break]:
    """The lettering under ``invoice`` against its sources (``sources`` by id: the payments and
    credit notes it names): each source exists, a payment's allocation to the invoice is what its
    lettering adds up to, and a credit note belongs to the invoice's customer and its applied
    amount is its lettering."""
    found: list[Break] = []
    nets: dict[str, int] = defaultdict(int)
    for letter in letters:
        nets[letter_source(letter)] += letter.amount.minor
    cur = invoice.currency
    for source_id, net in sorted(nets.items()):
        source = sources.get(source_id)
        if source is None:
            found.append(
                Break(
                    ALLOCATIONS,
                    (_invoice_name(invoice), f"source {source_id}"),
                    "the invoice is lettered to a payment or credit note that is not in the ledger",
                    "its source",
                    "none",
                )
            )
            continue
        if isinstance(source, Payment):
            name = _payment_name(source)
            held = sum(a.minor for i, a in source.allocations if i == invoice.invoice_id)
            what = "the payment's allocation to the invoice is not what its lettering from it adds up to"
        else:
            name = _credit_note_name(source)
            held = source.applied.minor if source.applied_invoice_id == invoice.invoice_id else 0
            what = "the credit note's applied amount is not what the invoice's lettering from it adds up to"
        items = (name, _invoice_name(invoice))
        if held != net:
            found.append(Break(ALLOCATIONS, items, what, _amount(net, cur), _amount(held, cur)))
        # A payment's customer is checked from the payment's side (`payment_allocation_breaks`).
        if isinstance(source, CreditNote) and source.customer_id != invoice.customer_id:
            found.append(
                Break(
                    ALLOCATIONS,
                    items,
                    "the invoice and what pays or credits it belong to different customers",
                    _customer(invoice.customer_id),
                    _customer(source.customer_id),
                )
            )
    return found


# --- 4. aging aggregates --------------------------------------------------------------------------
def share_breaks(invoice: Invoice, share: Share | None) -> list[Break]:
    """The invoice's stored contribution to the aggregates against what its current version
    contributes (a contribution of an older version that contributed the same is no break)."""
    name = (_invoice_name(invoice),)
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
        f"open {_amount(share.open, share.currency)}, {share.customer_id}, due {share.due_date}, "
        f"disputed {share.disputed}, sales {_amount(share.sales, share.currency)}"
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
        """The stored counter items (DynamoDB's attribute-value form, `AGGREGATE_PREFIXES`)
        against what the invoices call for; an absent counter is zero."""
        expected = {key: dict(counters) for key, counters in self.expected.items()}
        for item in stored:
            key = (item["pk"]["S"], item["sk"]["S"])
            wanted = expected.pop(key, {})
            held = {name: int(value["N"]) for name, value in item.items() if "N" in value}
            yield from _counter_breaks(key, wanted, held)
        for key, wanted in sorted(expected.items()):
            yield from _counter_breaks(key, wanted, {})


def _counter_breaks(key: tuple[str, str], wanted: dict[str, int], held: dict[str, int]) -> Iterator[Break]:
    currency = key[0].split("#", 1)[1]
    for attribute in sorted({*wanted, *held}):
        want, have = wanted.get(attribute, 0), held.get(attribute, 0)
        if want == have:
            continue
        money = attribute in MONEY_COUNTERS or attribute.startswith(DUE_PREFIX)
        text = (lambda n: _amount(n, currency)) if money else str
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
        """Every item of the aggregate partition ``pk`` (``AR#EUR``…), attribute-value form."""
        ...


class StoreReader:
    """The bound table (`receivables.storage.store.bind`)."""

    def head_keys(self) -> Iterable[str]:
        """A Scan of the heads' keys (an offline audit's read)."""
        from receivables.storage import store

        return store.ledger_head_keys()

    def partition(self, pk: str) -> Iterable[PartitionItem]:
        """One consistent, paginated Query."""
        from receivables.storage import store

        return store.ledger_partition(pk)

    def invoices(self, invoice_ids: Iterable[str]) -> Mapping[str, Invoice]:
        """Batched GetItems."""
        from receivables.storage import store

        heads = store.get_heads([i for i in invoice_ids if i.startswith("inv_")])
        return {i: h for i, h in heads.items() if isinstance(h, Invoice)}

    def sources(self, source_ids: Iterable[str]) -> Mapping[str, Payment | CreditNote]:
        """Batched GetItems."""
        from receivables.storage import store

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
        from receivables.reporting import aggregates

        return aggregates.currencies(aggregates.Reads())

    def aggregate_items(self, pk: str) -> Iterable[dict[str, Any]]:
        """A paginated Query of the partition."""
        from receivables.reporting import aggregates

        return aggregates.query(pk, aggregates.Reads())


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
        elif item.get("sk", {}).get("S") == SHARE_SK and item.get("kind", {}).get("S") == "aggregate_share":
            share = Share.from_item(item)
    outcome = _Outcome()
    if head is None:  # deleted between the scan and the query
        return outcome
    if isinstance(head, Payment):
        outcome.payment = head
        outcome.breaks += payment_breaks(head)
        invoices = reader.invoices(i for i, _ in head.allocations)
        outcome.breaks += payment_allocation_breaks(head, invoices)
        outcome.breaks += audit_breaks(_payment_name(head), head.payment_id, head.version, events)
    elif isinstance(head, CreditNote):
        outcome.credit_note = head
        outcome.breaks += credit_note_breaks(head)
        outcome.breaks += audit_breaks(_credit_note_name(head), head.credit_note_id, head.version, events)
    else:
        outcome.invoice = head
        outcome.breaks += invoice_breaks(head, letters)
        sources = reader.sources({letter_source(letter) for letter in letters})
        outcome.breaks += invoice_allocation_breaks(head, letters, sources)
        outcome.breaks += share_breaks(head, share)
        outcome.share = Share.of(head, share)
        outcome.breaks += audit_breaks(_invoice_name(head), head.invoice_id, head.version, events)
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
        for prefix in AGGREGATE_PREFIXES
        for item in source.aggregate_items(prefix + cur)
    )
    report.add(tally.breaks(_counted(stored, report)))
    return report


def _counted(items: Iterable[dict[str, Any]], report: Report) -> Iterator[dict[str, Any]]:
    for item in items:
        report.checks[AGING_AGGREGATES].examined += 1
        yield item
