"""A customer's risk score that explains itself: each factor's value, the points it adds, and why.

The score (0 to 100, higher is riskier) is the sum of these contributions, capped at 100:

=====================  ======  ===============================================================
factor                 up to   points
=====================  ======  ===============================================================
days_beyond_terms      30      30 x min(D / T, 1), D = days paid after the due date, averaged
                               over what was paid, each amount weighted by recency (half-life
                               90 days), T = the customer's payment terms (the median days
                               from issue to due of their invoices; 30 without any, 7 at least)
trend                  10      10 x min(max(R - E, 0) / T, 1): R, E the same average over the
                               last 90 days and over the 275 days before (paying later lately)
late_share             25      25 x the share of paid invoices paid after their due date
broken_promises        10      10 x min(broken, 3) / 3
disputes_chargebacks   10      10 x min(2 x disputes / invoices + chargebacks / 4, 1)
failed_debits          10      10 x min(failed, 4) / 4
utilisation            10      10 x min(max(U - 50, 0) / 50, 1), U = exposure as % of the limit
overdue_share          10      10 x the overdue share of the open balance
external_rating        15      15 x (100 - rating) / 100, for an imported rating (100: safest)
=====================  ======  ===============================================================

Lateness counts in multiples of the customer's own terms (15 days late is half a term on 30-day
terms, a whole one on 15-day terms), and the share of invoices paid late weighs most: of the
factors, it ranks customers best by how late they pay next (the back-test).

Its class, ``low`` (under 25), ``medium`` (under 55) or ``high``, sets the customer's dunning
variant (reliable, standard, risky), which also weighs their invoices on the collector worklist.
The thresholds are set by the portfolio, not by hand: they are the 40th and 75th percentiles of
the scores of the back-test's portfolio (`class_thresholds` with `CLASS_SHARES`: two in five
customers low, one in four high), so that a class says where a customer stands among the others.
Finance sets thresholds of their own in the credit policy (``risk_classes``), for instance those
`class_thresholds` finds on their own portfolio's scores.
The back-test (`tests/benchmarks/test_risk_backtest.py`) checks that those classed high pay late
at least twice as often afterwards as those classed low.

The stream keeps it current (`rescore`): the aggregates function counts each broken promise,
failed debit, dispute and chargeback once (`receivables.reporting.aggregates`) and re-scores the customers
a batch touched; a day's last score is kept as that day's point of the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import change_customer
from receivables.credit.limits import RISK_CLASSES, exposure, load_policy
from receivables.kernel.clock import iso_timestamp
from receivables.ledger.model import Invoice, InvoiceStatus, PartyId
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer, Payment

HALF_LIFE_DAYS = 90
RECENT_DAYS = 90
EARLIER_DAYS = 365
CLASSES = (("low", RISK_CLASSES[0]), ("medium", RISK_CLASSES[1]), ("high", 101))
CLASS_SHARES = (0.4, 0.35, 0.25)  # the target shares of low, medium and high the thresholds came from
MIN_HISTORY = 3  # paid invoices before a low score makes a customer "reliable"
VARIANT = {"low": "reliable", "medium": "standard", "high": "risky"}
ACTOR = "risk"
HISTORY_DAYS = 400
DEFAULT_TERMS_DAYS = 30
MIN_TERMS_DAYS = 7  # cash on delivery still gives a week's scale to the lateness


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor: its ``value`` as people read it, the ``points`` it adds (of ``most``)."""

    name: str
    value: str
    points: Decimal
    most: int
    why: str

    def to_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "factor": self.name,
            "value": self.value,
            "points": str(self.points),
            "of": self.most,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """The score, its class and the factors that make it."""

    score: int
    risk_class: str
    factors: tuple[Factor, ...]
    invoices: int
    paid_invoices: int = 0

    @property
    def variant(self) -> str:
        """The dunning variant the class calls for; a customer with too little history to be
        trusted stays ``standard`` until they are found risky."""
        if self.risk_class == "low" and self.paid_invoices < MIN_HISTORY:
            return "standard"
        return VARIANT[self.risk_class]

    def to_json(self) -> dict[str, Any]:
        """As the API shows it: the factors largest first."""
        return {
            "score": self.score,
            "class": self.risk_class,
            "dunning_variant": self.variant,
            "invoices": self.invoices,
            "paid_invoices": self.paid_invoices,
            "factors": [f.to_json() for f in sorted(self.factors, key=lambda f: -f.points)],
        }


@dataclass(frozen=True, slots=True)
class Rating:
    """An external rating finance imported: 0 (worst) to 100 (safest)."""

    score: int
    agency: str
    rated_on: date


def _points(most: int, share: Decimal) -> Decimal:
    bounded = min(max(share, Decimal(0)), Decimal(1))
    return (most * bounded).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def _lateness(
    invoices: Mapping[str, Invoice], payments: Iterable[Payment], today: date, window: tuple[int, int] | None
) -> tuple[Decimal | None, int, int]:
    """(recency-weighted average days late, invoices paid, paid late) over payments received
    ``window`` (days ago: from, to) or all."""
    weighted = Decimal(0)
    weights = Decimal(0)
    paid: dict[str, bool] = {}
    for payment in payments:
        received = date.fromisoformat(payment.received_at[:10])
        age = (today - received).days
        if window is not None and not window[0] <= age < window[1]:
            continue
        recency = Decimal(math.pow(0.5, max(age, 0) / HALF_LIFE_DAYS))
        for invoice_id, amount in payment.allocations:
            invoice = invoices.get(invoice_id)
            if invoice is None:
                continue
            late = max((received - invoice.due_date).days, 0)
            weight = recency * amount.minor
            weighted += weight * late
            weights += weight
            paid[invoice_id] = paid.get(invoice_id, False) or late > 0
    average = weighted / weights if weights else None
    return average, len(paid), sum(paid.values())


def terms_of(invoices: Iterable[Invoice]) -> int:
    """The customer's usual payment terms: the median days from issue to due of their invoices
    (`DEFAULT_TERMS_DAYS` without any; at least `MIN_TERMS_DAYS`)."""
    days = sorted((i.due_date - i.issue_date).days for i in invoices)
    if not days:
        return DEFAULT_TERMS_DAYS
    return max(days[len(days) // 2], MIN_TERMS_DAYS)


def score(
    invoices: Iterable[Invoice],
    payments: Iterable[Payment],
    today: date,
    *,
    counts: Mapping[str, int] | None = None,
    utilisation: Decimal | None = None,
    rating: Rating | None = None,
    classes: tuple[int, int] | None = None,
) -> Score:
    """Score a customer from their invoices and payments, the events counted on the stream
    (``counts``: broken_promises, failed_debits, disputes, chargebacks), the use of their limit
    (%), an external rating, and the class thresholds in force (``classes``: low below the
    first, high from the second; `CLASSES` without) (pure)."""
    counts = counts or {}
    by_id = {i.invoice_id: i for i in invoices if i.status is not InvoiceStatus.VOID}
    payments = list(payments)
    average, paid_count, late_count = _lateness(by_id, payments, today, None)
    terms = terms_of(by_id.values())
    recent, _, _ = _lateness(by_id, payments, today, (0, RECENT_DAYS))
    earlier, _, _ = _lateness(by_id, payments, today, (RECENT_DAYS, EARLIER_DAYS))
    two = Decimal("0.1")
    factors = [
        Factor(
            "days_beyond_terms",
            "no payments yet"
            if average is None
            else f"{average.quantize(two)} days, {average / terms:.2f} x the {terms}-day terms",
            _points(30, (average or Decimal(0)) / terms),
            30,
            "days paid after the due date, weighted by amount and recency (half-life 90 days), in "
            "multiples of the customer's payment terms; a whole term late or more is the most",
        )
    ]
    drift = None if recent is None or earlier is None else recent - earlier
    factors.append(
        Factor(
            "trend",
            "not enough history" if drift is None else f"{drift.quantize(two):+} days",
            _points(10, (drift or Decimal(0)) / terms),
            10,
            "the last 90 days against the 275 before: paying a whole term later lately is the most",
        )
    )
    late_share = Decimal(late_count) / paid_count if paid_count else Decimal(0)
    factors.append(
        Factor(
            "late_share",
            f"{late_count} of {paid_count} paid invoices",
            _points(25, late_share),
            25,
            "the share of paid invoices paid after their due date",
        )
    )
    broken = int(counts.get("broken_promises", 0))
    kept = int(counts.get("promises_kept", 0))
    factors.append(
        Factor(
            "broken_promises",
            f"{broken} broken, {kept} kept",
            _points(10, Decimal(min(broken, 3)) / 3),
            10,
            "promises to pay not kept; three or more is the most",
        )
    )
    disputes, chargebacks = int(counts.get("disputes", 0)), int(counts.get("chargebacks", 0))
    dispute_share = Decimal(disputes) / len(by_id) if by_id else Decimal(0)
    factors.append(
        Factor(
            "disputes_chargebacks",
            f"{disputes} disputes on {len(by_id)} invoices, {chargebacks} chargebacks",
            _points(10, 2 * dispute_share + Decimal(chargebacks) / 4),
            10,
            "disputes per invoice (one in two is the most) and chargebacks (four is the most)",
        )
    )
    failed = int(counts.get("failed_debits", 0))
    factors.append(
        Factor(
            "failed_debits",
            f"{failed} failed",
            _points(10, Decimal(min(failed, 4)) / 4),
            10,
            "card payments and debits that failed; four or more is the most",
        )
    )
    factors.append(
        Factor(
            "utilisation",
            "no credit limit" if utilisation is None else f"{utilisation} % of the limit",
            _points(10, ((utilisation or Decimal(0)) - 50) / 50),
            10,
            "exposure against the credit limit: nothing up to 50 %, the most at 100 %",
        )
    )
    open_ = [i for i in by_id.values() if i.status in OPEN_RECEIVABLE and i.balance.minor > 0]
    total_open = sum(i.balance.minor for i in open_)
    overdue = sum(i.balance.minor for i in open_ if i.due_date < today)
    overdue_share = Decimal(overdue) / total_open if total_open else Decimal(0)
    factors.append(
        Factor(
            "overdue_share",
            f"{(overdue_share * 100).quantize(two)} % of the open balance",
            _points(10, overdue_share),
            10,
            "the part of what is owed now that is past due",
        )
    )
    factors.append(
        Factor(
            "external_rating",
            "none imported"
            if rating is None
            else f"{rating.score} / 100 from {rating.agency} ({rating.rated_on.isoformat()})",
            Decimal(0) if rating is None else _points(15, Decimal(100 - rating.score) / 100),
            15,
            "an agency's rating finance imported (100: safest)",
        )
    )
    total = sum((f.points for f in factors), Decimal(0))
    value = min(int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), 100)
    low, high = classes if classes is not None else (CLASSES[0][1], CLASSES[1][1])
    risk_class = "low" if value < low else "medium" if value < high else "high"
    return Score(value, risk_class, tuple(factors), len(by_id), paid_count)


def class_thresholds(
    scores: Iterable[int], shares: tuple[float, float, float] = CLASS_SHARES
) -> tuple[int, int]:
    """The class thresholds (low below the first, high from the second) that split a portfolio's
    ``scores`` into ``shares`` of low, medium and high customers: how `CLASSES` was set.

    >>> class_thresholds(range(100))
    (40, 75)
    """
    ordered = sorted(scores)
    if not ordered:
        return CLASSES[0][1], CLASSES[1][1]
    low = ordered[min(int(len(ordered) * shares[0]), len(ordered) - 1)]
    high = ordered[min(int(len(ordered) * (shares[0] + shares[1])), len(ordered) - 1)]
    return low, max(high, low + 1)


# --- against the store --------------------------------------------------------------------------
def rating_of(customer: Customer) -> Rating | None:
    """The external rating on file for the customer, if any."""
    raw = customer.external_rating
    if not raw:
        return None
    return Rating(int(raw["score"]), str(raw["agency"]), date.fromisoformat(raw["rated_on"]))


def counts_of(customer_id: str) -> dict[str, int]:
    """The risk events counted on the stream for the customer."""
    return store.risk_counts(customer_id)


def current(customer: Customer, today: date) -> Score:
    """The customer's score now, from the stored history and the class thresholds of the credit
    policy (two Queries and three GetItems)."""

    invoices = [d for d in store.customer_documents(customer.customer_id) if isinstance(d, Invoice)]
    payments = store.customer_payments(customer.customer_id)
    utilisation = None
    policy = load_policy()
    if customer.credit_limit is not None:
        utilisation = exposure(customer, customer.credit_limit.currency, today, policy).utilisation()
    return score(
        invoices,
        payments,
        today,
        counts=counts_of(customer.customer_id),
        utilisation=utilisation,
        rating=rating_of(customer),
        classes=policy.risk_classes,
    )


def history(customer_id: str, today: date) -> list[dict[str, Any]]:
    """The score's daily points over the last ``HISTORY_DAYS`` days, oldest first."""
    first = date.fromordinal(today.toordinal() - HISTORY_DAYS).isoformat()
    return store.risk_points(customer_id, first, today.isoformat())


def rescore(customer_id: str, clock: Clock) -> Score | None:
    """Score the customer again and keep it: the day's point of the history, and, when the class
    changes, the customer's dunning variant (``RiskClassChanged``). None for an unknown customer."""

    customer = store.get_customer(customer_id)
    if customer is None:
        return None
    today = clock.now().date()
    scored = current(customer, today)
    now = iso_timestamp(clock.now())
    point = {"date": today.isoformat(), "score": scored.score, "class": scored.risk_class, "at": now}
    store.UnitOfWork().add(store.risk_point(customer_id, today.isoformat(), point, now)).commit()
    if customer.risk != scored.variant:
        data = {
            "customer_id": customer_id,
            "score": scored.score,
            "class": scored.risk_class,
            "variant_from": customer.risk,
            "variant_to": scored.variant,
            "factors": [f.to_json() for f in scored.factors if f.points],
        }
        change_customer(
            customer_id, lambda c: replace(c, risk=scored.variant), "RiskClassChanged", data, ACTOR, clock
        )
    return scored


# --- external ratings ----------------------------------------------------------------------------
MAX_RATING_ROWS = 1000


def import_ratings(text: str, actor: str, clock: Clock) -> dict[str, Any]:
    """Import an agency's ratings from CSV (``customer,rating,agency,rated_on``; ``customer`` is
    a customer id or an identifier such as ``vat:DE136695976``; ``rating`` 0 to 100, 100 the
    safest). Each good row is kept on its customer (``ExternalRatingImported``, which the stream
    turns into a new score); a row already on file changes nothing; each bad row is reported
    with its number, its field and why, and the good rows beside it still go in."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    header = set(rows[0]) if rows else set()
    missing = {"customer", "rating", "agency", "rated_on"} - header
    if missing:
        return {
            "imported": 0,
            "unchanged": 0,
            "rejected": [
                {"row": 1, "field": ", ".join(sorted(missing)), "reason": "the header lacks these columns"}
            ],
        }
    rejected: list[dict[str, Any]] = []
    if len(rows) > MAX_RATING_ROWS:
        rejected.append(
            {"row": MAX_RATING_ROWS + 2, "field": "", "reason": f"only {MAX_RATING_ROWS} rows a file"}
        )
        rows = rows[:MAX_RATING_ROWS]
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for n, row in enumerate(rows, start=2):
        problem, rating = _rating_row(row)
        if problem:
            rejected.append({"row": n, **problem})
            continue
        parsed.append((n, (row.get("customer") or "").strip(), rating))
    keys = [PartyId(*c.split(":", 1)) for _, c, _ in parsed if not c.startswith("cus_") and ":" in c]
    found = store.customers_by_identifier(keys)
    imported = unchanged = 0
    for n, who, rating in parsed:
        customer_id = (
            who if who.startswith("cus_") else found.get(PartyId(*who.split(":", 1))) if ":" in who else None
        )
        customer = store.get_customer(customer_id) if customer_id else None
        if customer is None:
            rejected.append({"row": n, "field": "customer", "reason": f"no customer {who}"})
            continue
        if customer.external_rating == rating:
            unchanged += 1
            continue
        data = {"customer_id": customer.customer_id, "rating": rating, "before": customer.external_rating}
        change_customer(
            customer.customer_id,
            partial(replace, external_rating=rating),
            "ExternalRatingImported",
            data,
            actor,
            clock,
        )
        imported += 1
    return {
        "imported": imported,
        "unchanged": unchanged,
        "rejected": sorted(rejected, key=lambda r: r["row"]),
    }


def _rating_row(row: dict[str, Any]) -> tuple[dict[str, str] | None, dict[str, Any]]:
    who = (row.get("customer") or "").strip()
    if not who.startswith("cus_") and ":" not in who:
        return {"field": "customer", "reason": "must be a customer id (cus_…) or an identifier (vat:…)"}, {}
    raw = (row.get("rating") or "").strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 100:
        return {"field": "rating", "reason": f"must be a whole number from 0 to 100, not {raw!r}"}, {}
    agency = (row.get("agency") or "").strip()
    if not 0 < len(agency) <= 100:
        return {"field": "agency", "reason": "must name the agency (at most 100 characters)"}, {}
    try:
        rated_on = date.fromisoformat((row.get("rated_on") or "").strip())
    except ValueError:
        return {"field": "rated_on", "reason": "must be a date, YYYY-MM-DD"}, {}
    return None, {"score": int(raw), "agency": agency, "rated_on": rated_on.isoformat()}
