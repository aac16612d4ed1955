"""Disputes: what a customer (or their bank) contests about an invoice, and how it ends.

A dispute is opened by the customer (signed link), by finance (API) or by a Stripe chargeback.
It carries the reason, the contested lines and amount, the customer's comment and the keys of
their attachments; the workflow adds the itemised findings of the analysis, what was settled
automatically or decided by finance, and the task token while it waits for finance. Its history
is its audit events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from receivables.kernel.money import Money

if TYPE_CHECKING:
    from decimal import Decimal


class Reason(StrEnum):
    """Why the invoice is contested (what the customer picks on the form)."""

    PRICING = "pricing"
    QUANTITY = "quantity"
    QUALITY = "quality"
    NOT_RECEIVED = "not_received"
    ALREADY_PAID = "already_paid"
    BILLED_TWICE = "billed_twice"
    PO_MISSING_OR_WRONG = "po_missing_or_wrong"
    OTHER = "other"


class Source(StrEnum):
    """Who opened the dispute."""

    CUSTOMER = "customer"
    FINANCE = "finance"
    CHARGEBACK = "chargeback"
    DEDUCTION = "deduction"  # a short payment whose reason no check could decide


class Status(StrEnum):
    """Where a dispute stands. ``settled``, ``accepted``, ``rejected``, ``reissued``, ``won`` and
    ``lost`` are final."""

    OPEN = "open"  # recorded; the workflow has not picked it up yet
    ANALYSING = "analysing"
    AWAITING_FINANCE = "awaiting_finance"
    SETTLED = "settled"  # settled automatically from the findings
    ACCEPTED = "accepted"  # finance credited the customer, fully or in part
    REJECTED = "rejected"
    REISSUED = "reissued"  # finance voided the invoice and issued a corrected one
    WON = "won"  # a chargeback the bank decided for us
    LOST = "lost"


FINAL = frozenset(
    {Status.SETTLED, Status.ACCEPTED, Status.REJECTED, Status.REISSUED, Status.WON, Status.LOST}
)


@dataclass(frozen=True, slots=True)
class DisputedLine:
    """One contested invoice line, with what the customer says it should be (when they say)."""

    line_id: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """What one analysis rule found: ``confirmed`` (the facts bear the reason out), with a
    sentence for people and the facts themselves for machines."""

    rule: str
    confirmed: bool
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolution:
    """How the dispute ended: ``action`` (void_duplicate, apply_payment, credit, confirm_paid,
    reject, reissue, chargeback_won, chargeback_lost), by whom, the credit given, and why."""

    action: str
    by: str
    at: str
    credit: Money | None = None
    reason: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dispute:
    """One dispute of one invoice (see the module docstring)."""

    dispute_id: str
    invoice_id: str
    customer_id: str
    source: Source
    reason: Reason
    opened_at: str
    opened_by: str
    amount: Money | None = None  # what the customer contests; None: the whole balance
    lines: tuple[DisputedLine, ...] = ()
    comment: str = ""
    attachments: tuple[str, ...] = ()  # S3 keys under disputes/<dispute id>/
    status: Status = Status.OPEN
    findings: tuple[Finding, ...] = ()
    resolution: Resolution | None = None
    task_token: str | None = None  # while it waits for finance
    execution_arn: str | None = None
    chargeback_id: str | None = None  # the Stripe dispute, for a chargeback
    version: int = 0
    updated_at: str = ""

    @property
    def final(self) -> bool:
        """Nothing more will happen to it."""
        return self.status in FINAL


def _money_json(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": money.to_decimal_string(), "currency": money.currency}


def _money_from(raw: dict[str, str] | None) -> Money | None:

    return None if raw is None else Money.parse(raw["amount"], raw["currency"])


def dispute_to_json(dispute: Dispute) -> dict[str, Any]:
    """The dispute as the store keeps it and the API shows it (amounts as decimal strings)."""
    resolution = dispute.resolution
    return {
        "dispute_id": dispute.dispute_id,
        "invoice_id": dispute.invoice_id,
        "customer_id": dispute.customer_id,
        "source": dispute.source.value,
        "reason": dispute.reason.value,
        "opened_at": dispute.opened_at,
        "opened_by": dispute.opened_by,
        "amount": _money_json(dispute.amount),
        "lines": [
            {
                "line_id": line.line_id,
                "quantity": None if line.quantity is None else str(line.quantity),
                "unit_price": None if line.unit_price is None else str(line.unit_price),
            }
            for line in dispute.lines
        ],
        "comment": dispute.comment,
        "attachments": list(dispute.attachments),
        "status": dispute.status.value,
        "findings": [
            {"rule": f.rule, "confirmed": f.confirmed, "detail": f.detail, "facts": f.facts}
            for f in dispute.findings
        ],
        "resolution": None
        if resolution is None
        else {
            "action": resolution.action,
            "by": resolution.by,
            "at": resolution.at,
            "credit": _money_json(resolution.credit),
            "reason": resolution.reason,
            "facts": resolution.facts,
        },
        "task_token": dispute.task_token,
        "execution_arn": dispute.execution_arn,
        "chargeback_id": dispute.chargeback_id,
        "version": dispute.version,
        "updated_at": dispute.updated_at,
    }


def dispute_from_json(raw: dict[str, Any]) -> Dispute:
    """The inverse of `dispute_to_json`."""
    from decimal import Decimal

    resolution = raw.get("resolution")
    return Dispute(
        dispute_id=raw["dispute_id"],
        invoice_id=raw["invoice_id"],
        customer_id=raw["customer_id"],
        source=Source(raw["source"]),
        reason=Reason(raw["reason"]),
        opened_at=raw["opened_at"],
        opened_by=raw["opened_by"],
        amount=_money_from(raw.get("amount")),
        lines=tuple(
            DisputedLine(
                line["line_id"],
                None if line.get("quantity") is None else Decimal(line["quantity"]),
                None if line.get("unit_price") is None else Decimal(line["unit_price"]),
            )
            for line in raw.get("lines", [])
        ),
        comment=raw.get("comment", ""),
        attachments=tuple(raw.get("attachments", [])),
        status=Status(raw["status"]),
        findings=tuple(
            Finding(f["rule"], bool(f["confirmed"]), f["detail"], dict(f.get("facts", {})))
            for f in raw.get("findings", [])
        ),
        resolution=None
        if resolution is None
        else Resolution(
            resolution["action"],
            resolution["by"],
            resolution["at"],
            _money_from(resolution.get("credit")),
            resolution.get("reason", ""),
            dict(resolution.get("facts", {})),
        ),
        task_token=raw.get("task_token"),
        execution_arn=raw.get("execution_arn"),
        chargeback_id=raw.get("chargeback_id"),
        version=int(raw.get("version", 0)),
        updated_at=raw.get("updated_at", ""),
    )
