"""Disputes against the ledger: open one, analyse it, settle it or wait for finance, apply the
decision. Each function is one step of `statemachines/dispute.asl.json` (or an API call), reads
fresh state, and changes the dispute and the invoice in one conditional transaction with their
audit events; a step that already happened (a retried task) changes nothing.

Dunning pauses by itself while the invoice is disputed (the planner's rule) and resumes when the
dispute ends and the invoice is collectible again.

The steps live by what they do: opening a dispute (`opening`), the workflow's steps from the
analysis to telling the customer (`workflow`), finance's decision and carrying it out
(`deciding`), and what a dispute is judged against: the documents the customer attaches, the
terms and purchase orders finance files, the dispute policy (`evidence`). This module keeps what
they share: `DisputeError`, a dispute read fresh with its invoice, its next version and audit
event, and the views finance reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from receivables.kernel.errors import ConflictError, NotFoundError
from receivables.ledger.disputes import Dispute, dispute_to_json
from receivables.ledger.model import AuditEvent, Invoice
from receivables.storage import store

MAX_ATTEMPTS = 5
ACTOR = "disputes"


class DisputeError(ConflictError):
    """A dispute step the dispute's state does not allow (a decision it does not wait for)."""


class DisputeNotFoundError(NotFoundError, DisputeError):
    """The dispute, or its invoice, does not exist."""


def dispute_and_invoice(dispute_id: str) -> tuple[Dispute, Invoice]:
    dispute = store.get_dispute(dispute_id)
    if dispute is None:
        raise DisputeNotFoundError(f"no dispute {dispute_id}")
    invoice = store.get_invoice(dispute.invoice_id)
    if invoice is None:
        raise DisputeNotFoundError(f"dispute {dispute_id}: no invoice {dispute.invoice_id}")
    return dispute, invoice


def dispute_event(dispute: Dispute, kind: str, now: str, actor: str, **data: Any) -> AuditEvent:
    """The dispute's next audit event."""
    body = {
        "dispute_id": dispute.dispute_id,
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
    }
    return AuditEvent(dispute.dispute_id, dispute.version + 1, kind, now, actor, body | data)


def next_version(dispute: Dispute, now: str, **changes: Any) -> Dispute:
    """The dispute changed, one version on."""
    return replace(dispute, version=dispute.version + 1, updated_at=now, **changes)


def dispute_view(dispute: Dispute) -> dict[str, Any]:
    """The finance view of a dispute: itself (without the task token), its history."""
    body = dispute_to_json(dispute)
    body.pop("task_token", None)
    body["history"] = [
        {"seq": e.seq, "type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
        for e in store.audit_events(store.dispute_pk(dispute.dispute_id))
    ]
    return body


def dispute_summary(dispute: Dispute) -> dict[str, Any]:
    """A dispute in a list: who, what, where it stands."""
    return {
        "dispute_id": dispute.dispute_id,
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
        "source": dispute.source.value,
        "reason": dispute.reason.value,
        "status": dispute.status.value,
        "opened_at": dispute.opened_at,
        "amount": dispute.amount.to_decimal_string() if dispute.amount else None,
        "confirmed": [f.rule for f in dispute.findings if f.confirmed],
    }


def reasons_by_customer(customer_id: str) -> dict[str, int]:
    """How often the customer disputed, per reason: recurring causes show."""
    counts: dict[str, int] = {}
    for dispute in store.customer_disputes(customer_id):
        counts[dispute.reason.value] = counts.get(dispute.reason.value, 0) + 1
    return dict(sorted(counts.items()))


def open_dispute_of(invoice_id: str) -> Dispute | None:
    """The invoice's dispute that has not ended, if any."""
    ids = store.invoice_dispute_ids(invoice_id)
    latest = store.get_dispute(ids[-1]) if ids else None
    return latest if latest is not None and not latest.final else None
