"""A customer's timeline: one list, newest first, of everything their audit trails hold.

The customer's own events (notes, calls, contacts, terms, risk, credit hold, links) and each of
their invoices' (received, emailed and bounced, reminded, paid and lettered, promised, disputed,
credited, noted, assigned), as the unit of work wrote them with each change: nothing is kept
twice for the console. Bounded: the customer's latest `MAX_INVOICES` invoices, one Query each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.storage import store

if TYPE_CHECKING:
    from receivables.ledger.model import AuditEvent, Invoice

MAX_INVOICES = 50
MAX_EVENTS = 300
# What the details column shows of an event's data, in this order (the rest stays in the API).
SHOWN = (
    "outcome",
    "text",
    "amount",
    "currency",
    "date",
    "reason",
    "collector",
    "level",
    "step",
    "kind",
    "method",
    "email",
    "to",
    "status",
)
LABELS = {
    "NoteAdded": "Note",
    "CallLogged": "Call",
    "InvoiceIngested": "Invoice received",
    "CollectorAssigned": "Collector assigned",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline."""

    at: str
    kind: str  # the audit event's type
    label: str
    about: str  # "account" or the invoice's number
    details: str
    actor: str


def label_of(kind: str) -> str:
    """``PromiseRecorded`` → ``Promise recorded`` (or the label `LABELS` gives).

    >>> label_of("PaymentApplied")
    'Payment applied'
    """
    if kind in LABELS:
        return LABELS[kind]
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", kind) or [kind]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _details(data: dict[str, Any]) -> str:
    parts = []
    if data.get("mentioned"):
        parts.append("told " + ", ".join(str(a) for a in data["mentioned"]))
    for name in SHOWN:
        value = data.get(name)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict | list):
            continue
        parts.append(str(value).replace("_", " ") if name == "outcome" else str(value))
    return " · ".join(parts)


def _actor(actor: str) -> str:
    return actor.removeprefix("finance:")


def entry(event: AuditEvent, about: str) -> Entry:
    """The timeline's line for ``event`` (of the account, or of the invoice numbered ``about``)."""
    return Entry(event.at, event.type, label_of(event.type), about, _details(event.data), _actor(event.actor))


def customer_timeline(customer_id: str, invoices: list[Invoice]) -> list[Entry]:
    """The customer's timeline, newest first (at most `MAX_EVENTS` lines)."""
    entries = [entry(e, "account") for e in store.audit_events(store.customer_pk(customer_id))]
    for invoice in invoices[:MAX_INVOICES]:
        entries.extend(entry(e, invoice.number) for e in store.invoice_events(invoice.invoice_id))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:MAX_EVENTS]
