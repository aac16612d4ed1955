"""Approvals, maker and checker: the proposals, the policy, one, approve, reject."""

from __future__ import annotations

from typing import Any

from receivables.customers import approvals
from receivables.kernel.access import Role
from receivables.kernel.errors import NotFoundError
from receivables.kernel.observability import logger
from receivables.storage import store

from . import wiring
from .api import (
    Resource,
    Response,
    params,
    plain,
    replace_policy,
    reply,
    with_history,
)

bp = Resource(__name__)


@bp.route("/approvals", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_approvals(who: str) -> Response:
    """Changes proposed for a second person's approval: ``?status=pending`` (the default),
    ``approved``, ``rejected`` or ``all``."""
    query = params("status")
    status = query.choice("status", (*approvals.STATUSES, "all")) or "pending"
    query.done()
    found = approvals.list_proposals(None if status == "all" else status)
    return reply({"approvals": [p.to_json() for p in found], "count": len(found)})


def _proposal_or_404(approval_id: str) -> Any:
    found = approvals.get_proposal(approval_id)
    if found is None:
        raise NotFoundError(f"no approval {approval_id}")
    return found


@bp.route("/approvals/policy", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_approval_policy(who: str) -> Response:
    """Which changes need a second person (per action: ``controller`` or ``four_eyes``) and the
    largest pricing credit a deduction earns without a controller, per currency."""
    policy = approvals.load_policy()
    return reply({"version": policy.version, "policy": policy.to_json()})


@bp.route("/approvals/policy", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def put_approval_policy(who: str) -> Response:
    """Replace the approval policy (controller): ``{"version", "policy": {"modes": {...},
    "auto_credit": {"EUR": "250.00", "*": "250"}}}``."""
    _, clock = wiring.context()

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        return approvals.save_policy(policy, version, who, clock), policy.to_json()

    return replace_policy(lambda raw: approvals.policy_from_json(plain(raw)), save)


@bp.route("/approvals/{approval_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_approval(who: str, approval_id: str) -> Response:
    """One proposal, with its history."""
    return with_history("approval", _proposal_or_404(approval_id), store.approval_pk(approval_id))


def _decide_proposal(who: str, approval_id: str, approve: bool, note: str) -> Response:
    """Approve a proposal, and the change is applied, or reject it: a controller other than its
    maker (``POST /approvals/{id}/approve`` or ``/reject``)."""
    _proposal_or_404(approval_id)
    decided = approvals.decide(approval_id, approve, note, who, wiring.context()[1])
    logger.info("change decided", extra={"approval_id": approval_id, "approved": approve, "by": who})
    return reply({"approval": decided.to_json()})


bp.decisions("/approvals/{approval_id}", _decide_proposal)
