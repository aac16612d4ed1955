"""Dunning: the policy, the sweep now, a promise to pay."""

from __future__ import annotations

from typing import Any

from receivables.adapters.events import EventPublisher
from receivables.collections.dunning.policy import policy_from_json, policy_to_json
from receivables.collections.dunning.service import load_policy, parse_promise, record_promise, save_policy
from receivables.collections.finance import invoice_or_404
from receivables.kernel.access import Role

from . import wiring
from .api import Resource, Response, json_body, replace_policy, reply

bp = Resource(__name__)


@bp.route("/dunning/policy", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_dunning_policy(who: str) -> Response:
    """The dunning policy in force (the default until finance sets one), with its version."""
    policy = load_policy()
    return reply({"version": policy.version, "policy": policy_to_json(policy)})


@bp.route("/dunning/policy", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def put_dunning_policy(who: str) -> Response:
    """Replace the policy: ``{"version": <the version read>, "policy": {...}}`` (controller)."""
    _, clock = wiring.context()

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        saved = save_policy(policy, version, who, clock)
        return saved.version, policy_to_json(saved)

    return replace_policy(policy_from_json, save)


@bp.route("/dunning/sweep", methods=["POST"])
@bp.endpoint(Role.COLLECTOR)
def sweep_now(who: str) -> Response:
    """Start the dunning sweep now (it runs asynchronously, as the daily one does)."""
    settings, _ = wiring.context()
    if not settings.event_bus_name:
        return reply({"message": "no event bus configured"}, 500)
    publisher = EventPublisher(settings.event_bus_name, endpoint_url=settings.endpoint_url)
    publisher.publish("DunningSweepRequested", {"by": who}, source="receivables.finance")
    return reply({"requested": True}, 202)


@bp.route("/invoices/{invoice_id}/promise", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def promise_to_pay(who: str, invoice_id: str) -> Response:
    """Record the customer's promise to pay ``{"date": "2026-12-01", "amount": "500.00"}``:
    dunning waits until then (collector)."""
    _, clock = wiring.context()
    invoice = invoice_or_404(invoice_id)
    body = json_body()
    day, amount = parse_promise(invoice, body.get("date"), body.get("amount"))
    changed = record_promise(invoice_id, day, amount, f"finance:{who}", clock)
    promise = changed.dunning.promise
    assert promise is not None
    return reply(
        {
            "invoice_id": invoice_id,
            "promise": {"date": promise.date, "amount": promise.amount.to_decimal_string()},
        },
        201,
    )
