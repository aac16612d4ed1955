"""The reconciliation's report (`receivables.reporting.reconcile`): the five checks by name, what
each found (`Break`, `CheckResult`), the totals per currency, and how a break names the items it
involves (amounts as decimal strings with their currency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from receivables.ledger.model import CreditNote, Invoice, Payment

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

    def text_lines(self, heading: str | None = None, indent: str = "") -> list[str]:
        """The report as a person reads it: each break (check, items, what was expected and
        found), how many more a check found than it kept, then the summary lines."""
        lines = [indent + heading + ":"] if heading else []
        lines += [f"{indent}  BREAK [{found.check}] {found.line()}" for found in self.breaks()]
        lines += [
            f"{indent}  ({check.count - len(check.breaks)} more {name} breaks not shown)"
            for name, check in self.checks.items()
            if check.count > len(check.breaks)
        ]
        return lines + [f"{indent}  {line}" for line in self.summary_lines()]

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
def amount_text(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


def invoice_name(invoice: Invoice) -> str:
    return f"invoice {invoice.invoice_id} ({invoice.number})"


def payment_name(payment: Payment) -> str:
    return f"payment {payment.payment_id}"


def credit_note_name(note: CreditNote) -> str:
    return f"credit note {note.credit_note_id} ({note.number})"


def customer_name(customer_id: str | None) -> str:
    return f"customer {customer_id}" if customer_id else "no customer"
