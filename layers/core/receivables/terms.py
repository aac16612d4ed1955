"""Payment terms: reading them from free text and turning them into a due date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

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


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """Days after the issue date (or after the end of its month) that payment is due."""

    days: int
    end_of_month: bool = False

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

    >>> parse_payment_terms("Payment within 10 days, 2% discount")
    PaymentTerms(days=10, end_of_month=False)
    >>> parse_payment_terms("Net 45 EOM")
    PaymentTerms(days=45, end_of_month=True)
    """
    if not text:
        return None
    end_of_month = bool(_END_OF_MONTH.search(text))
    # With a cash-discount period beside the net period ("8 days 2 %, 30 days net") the
    # longest period is the one the invoice falls due at.
    periods = [int(m.group("days")) for m in (*_DAYS.finditer(text), *_NET.finditer(text))]
    if periods:
        return PaymentTerms(max(periods), end_of_month)
    if _IMMEDIATE.search(text):
        return PaymentTerms(0, end_of_month)
    if end_of_month:
        return PaymentTerms(0, True)
    return None
