"""Payment terms: reading them from free text and turning them into a due date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

# "Payment within 30 days", "30 days net", "Net 30", "N30", "30 jours fin de mois", "30 Tage",
# "zahlbar innerhalb 14 Tagen", "60 dagen", "30 días".
_DAYS = re.compile(
    r"(?P<days>\d{1,3})\s*(?:-\s*)?(?:calendar\s+)?"
    r"(?:days?|jours?|j\b|tagen?|dagen?|dage|dagar|d[ií]as|giorni|dni|p[aä]iv[aä][aä]|dn[ií])",
    re.IGNORECASE,
)
_NET = re.compile(r"\b(?:net|netto|n)\s*(?P<days>\d{1,3})\b", re.IGNORECASE)
_END_OF_MONTH = re.compile(
    r"end\s+of\s+(?:the\s+)?month|\beom\b|fin\s+de\s+mois|monatsende|ende\s+des\s+monats",
    re.IGNORECASE,
)
_IMMEDIATE = re.compile(
    r"due\s+(?:up)?on\s+receipt|immediate(?:ly)?|à\s+réception|sofort|upon\s+receipt",
    re.IGNORECASE,
)


# "2/10 net 30", "1.5/15 n45": percent / discount days, then the net period.
_SLASH = re.compile(r"(?<![\d/.,])(?P<percent>\d{1,2}(?:[.,]\d{1,2})?)\s*%?\s*/\s*(?P<days>\d{1,3})\b")
_PERCENT = re.compile(r"(?P<percent>\d{1,2}(?:[.,]\d{1,2})?)\s*%")


@dataclass(frozen=True, slots=True)
class CashDiscount:
    """An early-payment discount: ``percent`` off if paid within ``days`` of the issue date."""

    percent: Decimal
    days: int

    def deadline(self, issue_date: date) -> date:
        """The last day the discount may be taken."""
        return issue_date + timedelta(days=self.days)

    def of(self, amount_minor: int) -> int:
        """The discount on ``amount_minor`` (minor units, half-even)."""
        return int(
            (Decimal(amount_minor) * self.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        )


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """Days after the issue date (or after the end of its month) that payment is due, and an
    early-payment discount if the terms grant one."""

    days: int
    end_of_month: bool = False
    discount: CashDiscount | None = None

    def due_date(self, issue_date: date) -> date:
        """The due date for an invoice issued on ``issue_date``.

        >>> PaymentTerms(30).due_date(date(2018, 8, 30))
        datetime.date(2018, 9, 29)
        >>> PaymentTerms(30, end_of_month=True).due_date(date(2026, 1, 15))
        datetime.date(2026, 3, 2)
        """
        start = issue_date
        if self.end_of_month:
            last = calendar.monthrange(issue_date.year, issue_date.month)[1]
            start = issue_date.replace(day=last)
        return start + timedelta(days=self.days)


def parse_payment_terms(text: str | None) -> PaymentTerms | None:
    """Read payment terms out of free text; None when the text names no period.

    >>> parse_payment_terms("2/10 net 30")
    PaymentTerms(days=30, end_of_month=False, discount=CashDiscount(percent=Decimal('2'), days=10))
    >>> parse_payment_terms("Net 45 EOM")
    PaymentTerms(days=45, end_of_month=True, discount=None)
    """
    if not text:
        return None
    end_of_month = bool(_END_OF_MONTH.search(text))
    slash = _SLASH.search(text)
    if slash is not None:
        rest = text[: slash.start()] + " " + text[slash.end() :]
        net = [int(m.group("days")) for m in (*_DAYS.finditer(rest), *_NET.finditer(rest))]
        discount = CashDiscount(Decimal(slash.group("percent").replace(",", ".")), int(slash.group("days")))
        return PaymentTerms(max([*net, discount.days]), end_of_month, discount)
    # With a cash-discount period beside the net period ("8 days 2 %, 30 days net") the
    # longest period is the one the invoice falls due at, and the one nearest the percentage
    # is the discount's.
    found = [(m.start(), int(m.group("days"))) for m in (*_DAYS.finditer(text), *_NET.finditer(text))]
    if found:
        return PaymentTerms(max(d for _, d in found), end_of_month, _discount(text, found))
    if _IMMEDIATE.search(text):
        return PaymentTerms(0, end_of_month)
    if end_of_month:
        return PaymentTerms(0, True)
    return None


def _discount(text: str, periods: list[tuple[int, int]]) -> CashDiscount | None:
    """The early-payment discount a percentage in ``text`` grants, with the period nearest it."""
    percent = _PERCENT.search(text)
    if percent is None:
        return None
    nearest = min(periods, key=lambda found: abs(found[0] - percent.start()))[1]
    return CashDiscount(Decimal(percent.group("percent").replace(",", ".")), nearest)
