"""Aging: open balances grouped by days past due (current, 1-30, 31-60, 61-90, 90+).

Pure: the figures come from open balances per due date, whatever produced them (the stream's
aggregates for the report, the invoices themselves for the daily snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

BUCKETS = (("current", None, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
BUCKET_NAMES = tuple(name for name, _, _ in BUCKETS)


def bucket_of(days_late: int) -> str:
    """The bucket of a balance ``days_late`` days past due (0 or less: current)."""
    for name, low, high in BUCKETS:
        if (low is None and days_late <= 0) or (
            low is not None and days_late >= low and (high is None or days_late <= high)
        ):
            return name
    raise AssertionError("the buckets cover every integer")


@dataclass(frozen=True, slots=True)
class DueBalance:
    """What is open on one due date: the balance, the invoices, and the part in dispute."""

    due: date
    open: int
    invoices: int = 0
    disputed: int = 0
    disputed_invoices: int = 0


@dataclass
class Aging:
    """One currency's (or one customer's) aging as of ``today``, in minor units."""

    currency: str
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKET_NAMES, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKET_NAMES, 0))
    disputed: int = 0
    disputed_invoices: int = 0
    oldest_due: date | None = None

    @property
    def total(self) -> int:
        """Everything still owed."""
        return sum(self.buckets.values())

    @property
    def current(self) -> int:
        """Not yet due."""
        return self.buckets["current"]

    @property
    def overdue(self) -> int:
        """Past due."""
        return self.total - self.current

    @property
    def invoices(self) -> int:
        """Open invoices."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        """Decimal strings for money, as the API shows it."""

        def text(minor: int) -> str:
            return Money(minor, self.currency).to_decimal_string()

        return {
            "currency": self.currency,
            "total": text(self.total),
            "current": text(self.current),
            "overdue": text(self.overdue),
            "disputed": text(self.disputed),
            "invoices": self.invoices,
            "disputed_invoices": self.disputed_invoices,
            "buckets": {name: text(amount) for name, amount in self.buckets.items()},
            "bucket_invoices": dict(self.counts),
            "oldest_due": self.oldest_due.isoformat() if self.oldest_due else None,
        }


def age(currency: str, balances: Iterable[DueBalance], today: date) -> Aging:
    """The aging of ``balances`` (per due date) as of ``today``."""
    aging = Aging(currency)
    for row in balances:
        if row.open == 0 and row.invoices == 0:
            continue
        name = bucket_of((today - row.due).days)
        aging.buckets[name] += row.open
        aging.counts[name] += row.invoices
        aging.disputed += row.disputed
        aging.disputed_invoices += row.disputed_invoices
        if row.open and (aging.oldest_due is None or row.due < aging.oldest_due):
            aging.oldest_due = row.due
    return aging
