"""Deductions: the list, the report, the policy, one with its history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from receivables.collections.finance import customer_named
from receivables.disputes import deductions
from receivables.disputes.deduction_rules import policy_from_json
from receivables.kernel.access import Role
from receivables.kernel.errors import NotFoundError
from receivables.storage import store

from . import wiring
from .api import Resource, Response, params, replace_policy, reply

bp = Resource(__name__)


@bp.route("/deductions", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_deductions(who: str) -> Response:
    """Deductions (short payments above the tolerance) and small balances written off, newest
    first: ``status`` (open, resolved, written_off), ``customer``, ``since`` (a day; default 90
    days ago; the open ones are listed however old). Each with its parts by reason, what the
    checks or the owner found, the owner and the dispute that routes it."""
    query = params("status", "customer", "since")
    status = query.choice("status", ("open", "resolved", "written_off"))
    customer = query.text("customer")
    first = query.day("since") or (wiring.context()[1].now().date() - timedelta(days=90))
    limit = query.integer("limit", 200, 1, 1000)
    query.done()
    customer = None if customer is None else customer_named(customer)
    return reply({"deductions": deductions.deductions(status, customer, since=first.isoformat())[:limit]})


@bp.route("/deductions/report", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def deductions_report(who: str) -> Response:
    """Per currency: open deductions aged, days deductions outstanding over ``days`` (default 90),
    amounts taken, valid, invalid, written off and open, by reason and by customer."""
    query = params("days")
    days = query.integer("days", 90, 1, 730)
    query.done()
    return reply(deductions.report(wiring.context()[1].now().date(), days))


@bp.route("/deductions/policy", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_deduction_policy(who: str) -> Response:
    """The deduction policy (tolerance per currency, the customers' reason codes, the default
    reason, the owners by reason and customer) and its version, for a change."""
    policy, version = deductions.policy_and_version()
    return reply({"version": version, "policy": policy.to_json()})


@bp.route("/deductions/policy", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def put_deduction_policy(who: str) -> Response:
    """Replace the deduction policy (controller): ``{"version", "policy"}``;
    ``DeductionPolicyChanged``. A 409 if it changed since it was read."""

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        saved = deductions.save_policy(policy, version, f"finance:{who}", wiring.context()[1])
        return saved, policy.to_json()

    return replace_policy(policy_from_json, save)


@bp.route("/deductions/{deduction_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_one_deduction(who: str, deduction_id: str) -> Response:
    """One deduction and its history (taken, routed, resolved)."""
    found = deductions.get_deduction(deduction_id)
    if found is None:
        raise NotFoundError(f"no deduction {deduction_id}")
    history = [
        {"type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
        for e in store.audit_events(store.deduction_pk(deduction_id))
    ]
    return reply({**found[0], "version": found[1], "history": history})
