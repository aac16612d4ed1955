"""Finance API function: what finance staff do through the authenticated HTTP API.

Payments today: ``POST /payments`` records a bank transfer or cheque (matched to invoices by
the numbers in its remittance text, its amount and its customer, or left unapplied with ranked
candidates), ``GET /payments/unapplied`` is the queue a person works, ``GET /payments/{id}``
one payment. Every route needs an authenticated caller (Cognito JWT authorizer on AWS, the local
token locally) with a role (`receivables.access`).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables import store
from receivables.access import AccessDeniedError, Role, require
from receivables.clock import Clock, clock_from_env
from receivables.manual_payments import receipt_from_request
from receivables.money import normalise_currency
from receivables.observability import logger
from receivables.payments import record_receipt
from receivables.settings import Settings
from receivables.validation import FieldError, RequestInvalidError

if TYPE_CHECKING:
    from receivables.domain import Payment

app = Chalice(app_name="receivables-finance")


@cache
def context() -> tuple[Settings, Clock]:
    """Settings and clock, bound once per cold start."""
    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    return settings, clock_from_env(os.environ)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def _caller(needed: Role) -> str:
    request = app.current_request
    assert request is not None
    return require(request.context, needed)


def payment_json(payment: Payment) -> dict[str, Any]:
    """A payment as the API shows it: decimal strings for money."""
    return {
        "payment_id": payment.payment_id,
        "customer_id": payment.customer_id,
        "amount": payment.amount.to_decimal_string(),
        "currency": payment.amount.currency,
        "received_at": payment.received_at,
        "method": payment.method,
        "reference": payment.reference,
        "matched_by": payment.matched_by,
        "allocations": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in payment.allocations],
        "unapplied": payment.unapplied.to_decimal_string(),
        "refunded": payment.refunded.to_decimal_string(),
    }


@app.route("/payments", methods=["POST"], content_types=["application/json"])
def record_payment() -> Response:
    """Record a manual payment; 201 when new, 200 when it was recorded before."""
    try:
        who = _caller(Role.COLLECTOR)
        settings, clock = context()
        request = app.current_request
        assert request is not None
        try:
            body = request.json_body
        except Exception:  # noqa: BLE001 - Chalice raises its own BadRequestError subclasses
            return _json({"errors": [{"field": "body", "reason": "is not valid JSON"}]}, 400)
        receipt = receipt_from_request(body, seller_id=settings.default_seller_id)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _json({"errors": [{"field": e.field, "reason": e.reason} for e in exc.errors]}, 400)
    outcome = record_receipt(receipt, clock, sellers=(settings.default_seller_id,))
    logger.info(
        "manual payment",
        extra={"payment_id": outcome.payment.payment_id, "by": who, "duplicate": outcome.duplicate},
    )
    return _json(
        {
            "payment": payment_json(outcome.payment),
            "duplicate": outcome.duplicate,
            "settled": list(outcome.settled),
            "candidates": [
                {
                    "invoice_id": c.invoice_id,
                    "number": c.number,
                    "balance": c.balance.to_decimal_string(),
                    "score": c.score,
                    "reasons": list(c.reasons),
                }
                for c in outcome.candidates
            ],
        },
        200 if outcome.duplicate else 201,
    )


@app.route("/payments/unapplied", methods=["GET"])
def unapplied_queue() -> Response:
    """Payments with money waiting to be applied, oldest first, in one currency (``?currency=``)."""
    try:
        _caller(Role.VIEWER)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    context()
    request = app.current_request
    assert request is not None
    params: dict[str, str] = dict(request.query_params or {})
    raw = params.get("currency", "")
    try:
        currency = normalise_currency(raw)
    except ValueError:
        return _json({"errors": [{"field": "currency", "reason": "must be an ISO 4217 code"}]}, 400)
    return _json({"payments": [payment_json(p) for p in store.unapplied_payments(currency)]})


@app.route("/payments/{payment_id}", methods=["GET"])
def get_payment(payment_id: str) -> Response:
    """One payment."""
    try:
        _caller(Role.VIEWER)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    context()
    payment = store.get_payment(payment_id) if payment_id.startswith("pay_") else None
    if payment is None:
        return _json({"message": f"no payment {payment_id}"}, 404)
    return _json({"payment": payment_json(payment)})


# --- dunning -------------------------------------------------------------------------------------
@app.route("/dunning/policy", methods=["GET"])
def get_dunning_policy() -> Response:
    """The dunning policy in force (the default until finance sets one), with its version."""
    from receivables.dunning.policy import policy_to_json
    from receivables.dunning.service import load_policy

    try:
        _caller(Role.VIEWER)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    context()
    policy = load_policy()
    return _json({"version": policy.version, "policy": policy_to_json(policy)})


@app.route("/dunning/policy", methods=["PUT"], content_types=["application/json"])
def put_dunning_policy() -> Response:
    """Replace the policy: ``{"version": <the version read>, "policy": {...}}`` (controller)."""
    from receivables.dunning.policy import policy_from_json, policy_to_json
    from receivables.dunning.service import save_policy

    try:
        who = _caller(Role.CONTROLLER)
        _, clock = context()
        request = app.current_request
        assert request is not None
        body = request.json_body
        if (
            not isinstance(body, dict)
            or isinstance(body.get("version"), bool)
            or not isinstance(body.get("version"), int)
        ):
            return _json(
                {"errors": [{"field": "version", "reason": "the version you read is required"}]}, 400
            )
        policy = policy_from_json(body.get("policy"))
        saved = save_policy(policy, int(body["version"]), who, clock)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _json(
            {"errors": [{"field": f"policy.{e.field}", "reason": e.reason} for e in exc.errors]}, 400
        )
    except store.ConcurrentChangeError:
        return _json({"message": "the policy changed since you read it: read it again"}, 409)
    return _json({"version": saved.version, "policy": policy_to_json(saved)})


@app.route("/dunning/sweep", methods=["POST"])
def sweep_now() -> Response:
    """Start the dunning sweep now (it runs asynchronously, as the daily one does)."""
    from receivables.adapters.events import EventPublisher

    try:
        who = _caller(Role.COLLECTOR)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    settings, _ = context()
    if not settings.event_bus_name:
        return _json({"message": "no event bus configured"}, 500)
    publisher = EventPublisher(settings.event_bus_name, endpoint_url=settings.endpoint_url)
    publisher.publish("DunningSweepRequested", {"by": who}, source="receivables.finance")
    return _json({"requested": True}, 202)


@app.route("/invoices/{invoice_id}/promise", methods=["POST"], content_types=["application/json"])
def promise_to_pay(invoice_id: str) -> Response:
    """Record the customer's promise to pay ``{"date": "2026-12-01", "amount": "500.00"}``:
    dunning waits until then (collector)."""
    from receivables.dunning.service import DunningError, parse_promise, record_promise

    try:
        who = _caller(Role.COLLECTOR)
        _, clock = context()
        invoice = store.get_invoice(invoice_id) if invoice_id.startswith("inv_") else None
        if invoice is None:
            return _json({"message": f"no invoice {invoice_id}"}, 404)
        request = app.current_request
        assert request is not None
        body = request.json_body if isinstance(request.json_body, dict) else {}
        day, amount = parse_promise(invoice, body.get("date"), body.get("amount"))
        changed = record_promise(invoice_id, day, amount, f"finance:{who}", clock)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _json({"errors": [{"field": e.field, "reason": e.reason} for e in exc.errors]}, 400)
    except DunningError as exc:
        return _json({"message": str(exc)}, 404)
    promise = changed.dunning.promise
    assert promise is not None
    return _json(
        {
            "invoice_id": invoice_id,
            "promise": {"date": promise.date, "amount": promise.amount.to_decimal_string()},
        },
        201,
    )


# --- disputes -----------------------------------------------------------------------------------
def _body() -> dict[str, Any]:
    request = app.current_request
    assert request is not None
    try:
        body = request.json_body
    except Exception:  # noqa: BLE001 - Chalice raises its own BadRequestError subclasses
        raise RequestInvalidError([FieldError("body", "is not valid JSON")]) from None
    if not isinstance(body, dict):
        raise RequestInvalidError([FieldError("body", "must be a JSON object")])
    return body


def _errors(exc: RequestInvalidError) -> Response:
    return _json({"errors": [{"field": e.field, "reason": e.reason} for e in exc.errors]}, 400)


@app.route("/invoices/{invoice_id}/disputes", methods=["POST"], content_types=["application/json"])
def open_invoice_dispute(invoice_id: str) -> Response:
    """Open a dispute for the customer (collector): ``{"reason": "pricing", "amount": "120.00",
    "lines": [{"line_id": "1", "quantity": "8"}], "comment": "..."}``; 201, or 200 with the
    dispute already open."""
    from receivables.disputes.model import Reason, Source
    from receivables.disputes.service import DisputeError, dispute_view, open_dispute_on, parse_lines

    try:
        who = _caller(Role.COLLECTOR)
        _, clock = context()
        invoice = store.get_invoice(invoice_id) if invoice_id.startswith("inv_") else None
        if invoice is None:
            return _json({"message": f"no invoice {invoice_id}"}, 404)
        body = _body()
        errors: list[FieldError] = []
        try:
            reason = Reason(str(body.get("reason")))
        except ValueError:
            errors.append(FieldError("reason", f"must be one of {', '.join(r.value for r in Reason)}"))
        amount, lines = parse_lines(invoice, body.get("amount"), body.get("lines"), errors)
        if errors:
            raise RequestInvalidError(errors)
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
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _errors(exc)
    except DisputeError as exc:
        return _json({"message": str(exc)}, 404)
    return _json({"dispute": dispute_view(dispute)}, 201 if created else 200)


@app.route("/disputes", methods=["GET"])
def disputes_open() -> Response:
    """Disputes that have not ended, oldest first (viewer): finance's queue."""
    from receivables.disputes.service import dispute_summary

    try:
        _caller(Role.VIEWER)
        context()
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    return _json({"disputes": [dispute_summary(d) for d in store.open_disputes()]})


@app.route("/disputes/{dispute_id}", methods=["GET"])
def dispute_detail(dispute_id: str) -> Response:
    """One dispute: its findings, resolution, documents and history (viewer)."""
    from receivables.disputes.service import dispute_view

    try:
        _caller(Role.VIEWER)
        context()
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    dispute = store.get_dispute(dispute_id) if dispute_id.startswith("dsp_") else None
    if dispute is None:
        return _json({"message": f"no dispute {dispute_id}"}, 404)
    return _json({"dispute": dispute_view(dispute)})


@app.route("/disputes/{dispute_id}/decision", methods=["POST"], content_types=["application/json"])
def dispute_decision(dispute_id: str) -> Response:
    """Finance decides a dispute that waits for it (controller): ``{"decision": "accept",
    "credit": "120.00"}``, ``{"decision": "reject", "reason": "..."}`` or ``{"decision":
    "reissue", "corrected_total": "1080.00"}``; the workflow then applies it (202)."""
    import json

    from receivables.disputes.service import DisputeError, decide, dispute_view

    try:
        who = _caller(Role.CONTROLLER)
        _, clock = context()
        if not dispute_id.startswith("dsp_") or store.get_dispute(dispute_id) is None:
            return _json({"message": f"no dispute {dispute_id}"}, 404)
        dispute, token = decide(dispute_id, _body(), f"finance:{who}", clock)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _errors(exc)
    except DisputeError as exc:
        return _json({"message": str(exc)}, 409)
    resolution = dispute.resolution
    assert resolution is not None
    output = {"decision": resolution.action, "by": resolution.by}
    from botocore.exceptions import ClientError

    try:
        states().send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        # The wait timed out just now (a reminder took over with a new token): decide again.
        code = exc.response.get("Error", {}).get("Code", "")
        logger.warning("decision not delivered", extra={"dispute_id": dispute_id, "code": code})
        return _json({"message": f"the dispute workflow moved on ({code}): send the decision again"}, 409)
    logger.info("dispute decided", extra={"dispute_id": dispute_id, "decision": resolution.action})
    return _json({"dispute": dispute_view(dispute)}, 202)


@app.route("/customers/{customer_id}/disputes", methods=["GET"])
def customer_dispute_history(customer_id: str) -> Response:
    """A customer's disputes and how often each reason came up (viewer)."""
    from receivables.disputes.service import dispute_summary, reasons_by_customer

    try:
        _caller(Role.VIEWER)
        context()
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    disputes = store.customer_disputes(customer_id)
    return _json(
        {
            "customer_id": customer_id,
            "reasons": reasons_by_customer(customer_id),
            "disputes": [dispute_summary(d) for d in disputes],
        }
    )


@cache
def states() -> Any:
    """The Step Functions client (built on first use: only decisions need it)."""
    import boto3

    settings, _ = context()
    return boto3.client("stepfunctions", endpoint_url=settings.endpoint_url)


@app.route("/customers/{customer_id}/terms", methods=["PUT"], content_types=["application/json"])
def file_customer_terms(customer_id: str) -> Response:
    """File the customer's terms (collector): ``{"requires_po": true, "price_list": {"Pallet
    wrap": "12.00"}}``; the dispute analysis checks invoices against them."""
    from receivables.disputes.service import save_terms

    try:
        who = _caller(Role.COLLECTOR)
        _, clock = context()
        if not customer_id.startswith("cus_") or store.get_customer(customer_id) is None:
            return _json({"message": f"no customer {customer_id}"}, 404)
        terms = save_terms(customer_id, _body(), f"finance:{who}", clock)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _errors(exc)
    return _json({"customer_id": customer_id, "terms": terms})


@app.route(
    "/customers/{customer_id}/purchase-orders/{number}", methods=["PUT"], content_types=["application/json"]
)
def file_purchase_order(customer_id: str, number: str) -> Response:
    """File one of the customer's purchase orders (collector): ``{"currency": "EUR", "lines":
    [{"description": "Pallet wrap", "quantity": "10", "unit_price": "12.00"}]}``."""
    from receivables.disputes.service import save_purchase_order

    try:
        who = _caller(Role.COLLECTOR)
        _, clock = context()
        if not customer_id.startswith("cus_") or store.get_customer(customer_id) is None:
            return _json({"message": f"no customer {customer_id}"}, 404)
        order = save_purchase_order(customer_id, number, _body(), f"finance:{who}", clock)
    except AccessDeniedError as exc:
        return _json({"message": str(exc)}, exc.status)
    except RequestInvalidError as exc:
        return _errors(exc)
    return _json({"customer_id": customer_id, "number": number, "purchase_order": order})
