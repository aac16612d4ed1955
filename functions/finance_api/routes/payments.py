"""Payments: record a transfer, the unapplied queue, re-allocate, one, the list."""

from __future__ import annotations

from datetime import timedelta

from receivables.collections import listings
from receivables.collections.finance import customer_named
from receivables.collections.listings import payment_json
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import normalise_currency
from receivables.kernel.observability import logger
from receivables.payments.allocation import reallocate, record_receipt
from receivables.payments.manual import allocations_from_request, receipt_from_request
from receivables.storage import store

from . import wiring
from .api import Resource, Response, current_request, json_body, json_value, listing, params, reply

bp = Resource(__name__)


@bp.route("/payments", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def record_payment(who: str) -> Response:
    """Record a manual payment; 201 when new, 200 when it was recorded before."""
    settings, clock = wiring.context()
    receipt = receipt_from_request(
        json_value(), seller_id=settings.default_seller_id, limits=settings.amount_limits
    )
    outcome = record_receipt(receipt, clock, sellers=(settings.default_seller_id,))
    logger.info(
        "manual payment",
        extra={"payment_id": outcome.payment.payment_id, "by": who, "duplicate": outcome.duplicate},
    )
    return reply(
        {
            "payment": payment_json(outcome.payment),
            "duplicate": outcome.duplicate,
            "settled": list(outcome.settled),
            "deductions": list(outcome.deductions),
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


@bp.route("/payments/unapplied", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def unapplied_queue(who: str) -> Response:
    """Payments with money waiting to be applied, oldest first, in one currency (``?currency=``)."""
    request = current_request()
    assert request is not None
    raw = dict(request.query_params or {}).get("currency", "")
    try:
        currency = normalise_currency(raw)
    except ValueError:
        raise InvalidRequestError([FieldError("currency", "must be an ISO 4217 code")]) from None
    return reply({"payments": [payment_json(p) for p in store.unapplied_payments(currency)]})


@bp.route("/payments/{payment_id}/allocations", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def reallocate_payment(who: str, payment_id: str) -> Response:
    """Re-allocate a payment: the body's ``allocations`` are the invoices it should pay and how
    much of each (any other it paid gets its part back; the rest waits as unapplied). ``version``,
    if given, must be the payment's, so a change made meanwhile is not overwritten (409)."""
    settings, clock = wiring.context()
    payment = store.get_payment(payment_id) if payment_id.startswith("pay_") else None
    if payment is None:
        raise NotFoundError(f"no payment {payment_id}")
    targets, version = allocations_from_request(
        json_body(), payment.amount.currency, seller_id=settings.default_seller_id
    )
    moved, changed = reallocate(payment_id, targets, clock, actor=who, expected_version=version)
    logger.info("payment re-allocated", extra={"payment_id": payment_id, "by": who, "changed": changed})
    return reply({"payment": payment_json(moved), "changed": changed})


@bp.route("/payments/{payment_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_payment(who: str, payment_id: str) -> Response:
    """One payment."""
    payment = store.get_payment(payment_id) if payment_id.startswith("pay_") else None
    if payment is None:
        raise NotFoundError(f"no payment {payment_id}")
    return reply({"payment": payment_json(payment)})


@bp.route("/payments", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_payments(who: str) -> Response:
    """Payments received, newest first: ``received_from``/``received_to`` (default: the last
    90 days), ``currency``, ``customer``; ``limit``, ``cursor``, ``format=csv``."""
    query = params("received_from", "received_to", "currency", "customer")
    _, clock = wiring.context()
    last = query.day("received_to") or clock.now().date()
    first = query.day("received_from") or (last - timedelta(days=90))
    currency = query.currency()
    customer = query.text("customer")
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()
    customer = None if customer is None else customer_named(customer)
    rows, next_position = listings.list_payments(first, last, currency, customer, limit, position)
    return listing("payments", rows, next_position, query)
