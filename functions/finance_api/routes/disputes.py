"""Disputes: open one for the customer, finance's queue, one, the decision, a customer's history."""

from __future__ import annotations

from receivables.collections.finance import invoice_or_404
from receivables.disputes.deciding import decide, deliver_decision
from receivables.disputes.opening import open_dispute_on, parse_lines
from receivables.disputes.service import dispute_summary, dispute_view, reasons_by_customer
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from receivables.ledger.disputes import Dispute, Reason, Source
from receivables.storage import store

from . import wiring
from .api import Resource, Response, json_body, reply

bp = Resource(__name__)


def _dispute_or_404(dispute_id: str) -> Dispute:
    dispute = store.get_dispute(dispute_id) if dispute_id.startswith("dsp_") else None
    if dispute is None:
        raise NotFoundError(f"no dispute {dispute_id}")
    return dispute


@bp.route("/invoices/{invoice_id}/disputes", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def open_invoice_dispute(who: str, invoice_id: str) -> Response:
    """Open a dispute for the customer (collector): ``{"reason": "pricing", "amount": "120.00",
    "lines": [{"line_id": "1", "quantity": "8"}], "comment": "..."}``; 201, or 200 with the
    dispute already open."""
    _, clock = wiring.context()
    invoice = invoice_or_404(invoice_id)
    body = json_body()
    errors: list[FieldError] = []
    try:
        reason = Reason(str(body.get("reason")))
    except ValueError:
        errors.append(FieldError("reason", f"must be one of {', '.join(r.value for r in Reason)}"))
    amount, lines = parse_lines(invoice, body.get("amount"), body.get("lines"), errors)
    if errors:
        raise InvalidRequestError(errors)
    dispute, created = open_dispute_on(
        invoice_id,
        Source.FINANCE,
        reason,
        f"finance:{who}",
        clock,
        amount=amount,
        lines=lines,
        comment=str(body.get("comment") or ""),
    )
    return reply({"dispute": dispute_view(dispute)}, 201 if created else 200)


@bp.route("/disputes", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def disputes_open(who: str) -> Response:
    """Disputes that have not ended, oldest first (viewer): finance's queue."""
    return reply({"disputes": [dispute_summary(d) for d in store.open_disputes()]})


@bp.route("/disputes/{dispute_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def dispute_detail(who: str, dispute_id: str) -> Response:
    """One dispute: its findings, resolution, documents and history (viewer)."""
    return reply({"dispute": dispute_view(_dispute_or_404(dispute_id))})


@bp.route("/disputes/{dispute_id}/decision", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def dispute_decision(who: str, dispute_id: str) -> Response:
    """Finance decides a dispute that waits for it (controller): ``{"decision": "accept",
    "credit": "120.00"}``, ``{"decision": "reject", "reason": "..."}`` or ``{"decision":
    "reissue", "corrected_total": "1080.00"}``; the workflow then applies it (202)."""
    _, clock = wiring.context()
    _dispute_or_404(dispute_id)
    dispute, token = decide(dispute_id, json_body(), f"finance:{who}", clock)
    deliver_decision(dispute, token, wiring.states().send_task_success)
    return reply({"dispute": dispute_view(dispute)}, 202)


@bp.route("/customers/{customer_id}/disputes", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def customer_dispute_history(who: str, customer_id: str) -> Response:
    """A customer's disputes and how often each reason came up (viewer)."""
    disputes = store.customer_disputes(customer_id)
    return reply(
        {
            "customer_id": customer_id,
            "reasons": reasons_by_customer(customer_id),
            "disputes": [dispute_summary(d) for d in disputes],
        }
    )
