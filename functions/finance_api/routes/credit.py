"""Credit: a customer's limit, open orders and exposure, the credit policy, the check an ERP calls,
the cash forecast and the agencies' ratings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.collections.finance import change_customer, customer_json, customer_or_404
from receivables.credit import limits
from receivables.credit.forecast import WEEKS, ledger_forecast
from receivables.credit.risk import import_ratings
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError, normalise_currency

from . import wiring
from .api import Query, Resource, Response, current_request, json_body, replace_policy, reply

bp = Resource(__name__)


def _money_field(body: dict[str, Any], name: str, currency: str, errors: list[FieldError]) -> Any:
    """``body[name]`` as Money in ``currency`` (a decimal string), None when absent or null."""
    raw = body.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        errors.append(FieldError(name, f"must be a decimal string in {currency}"))
        return None
    try:
        amount = wiring.context()[0].amount_limits.check(Money.parse(raw, currency))
    except MoneyError as exc:
        errors.append(FieldError(name, f"must be a decimal string in {currency}: {exc}"))
        return None
    if amount.minor < 0:
        errors.append(FieldError(name, "must not be negative"))
    return amount


def _currency_field(body: dict[str, Any], errors: list[FieldError]) -> str:
    try:
        return normalise_currency(str(body.get("currency", "")))
    except ValueError:
        errors.append(FieldError("currency", "must be an ISO 4217 code, e.g. EUR"))
        return "EUR"


def _amount_of(body: dict[str, Any]) -> Any:
    """The body's required ``amount`` in its ``currency``, as Money; a 400 naming what is wrong."""
    errors: list[FieldError] = []
    currency = _currency_field(body, errors)
    amount = _money_field(body, "amount", currency, errors)
    if amount is None and not errors:
        errors.append(FieldError("amount", "is required"))
    if errors:
        raise InvalidRequestError(errors)
    return amount


@bp.route("/customers/{customer_id}/credit-limit", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def set_credit_limit(who: str, customer_id: str) -> Response:
    """Set the customer's credit limit (controller only): ``{"limit": "50000.00", "currency":
    "EUR", "insured_amount": "30000.00", "insured_until": "2027-12-31"}`` (the insurance is
    optional; a null limit removes it). ``CreditLimitChanged``; the credit level is reviewed at once."""
    body = json_body()
    errors: list[FieldError] = []
    currency = _currency_field(body, errors)
    limit = _money_field(body, "limit", currency, errors)
    insured = _money_field(body, "insured_amount", currency, errors)
    until = None
    if body.get("insured_until") is not None:
        try:
            until = date.fromisoformat(str(body["insured_until"]))
        except ValueError:
            errors.append(FieldError("insured_until", "must be an ISO date"))
    if "limit" not in body:
        errors.append(FieldError("limit", "is required (null removes the limit)"))
    if errors:
        raise InvalidRequestError(errors)
    customer = customer_or_404(customer_id)
    _, clock = wiring.context()
    before = customer.credit_limit
    data = {
        "limit": None if limit is None else limit.to_decimal_string(),
        "currency": currency,
        "before": None if before is None else f"{before.to_decimal_string()} {before.currency}",
        "insured_amount": None if insured is None else insured.to_decimal_string(),
        "insured_until": None if until is None else until.isoformat(),
    }
    change_customer(
        customer_id,
        lambda c: replace(c, credit_limit=limit, insured_amount=insured, insured_until=until, credit_level=0),
        "CreditLimitChanged",
        data,
        f"finance:{who}",
        clock,
    )
    reviewed = limits.review(customer_id, clock)
    assert reviewed is not None
    return reply({"customer": customer_json(reviewed)})


@bp.route("/customers/{customer_id}/open-orders", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def report_open_orders(who: str, customer_id: str) -> Response:
    """What the customer has ordered and is not invoiced yet, as the ERP reports it (collector):
    ``{"amount": "1200.00", "currency": "EUR"}``; it counts in the exposure where the policy says."""
    amount = _amount_of(json_body())
    customer_or_404(customer_id)
    _, clock = wiring.context()
    change_customer(
        customer_id,
        lambda c: replace(c, open_orders=amount),
        "OpenOrdersReported",
        {"amount": amount.to_decimal_string(), "currency": amount.currency},
        f"finance:{who}",
        clock,
    )
    reviewed = limits.review(customer_id, clock)
    assert reviewed is not None
    return reply({"customer": customer_json(reviewed)})


@bp.route("/customers/{customer_id}/exposure", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def customer_exposure(who: str, customer_id: str) -> Response:
    """The customer's exposure against their limit (``?currency=``, default the limit's)."""
    query = Query(["currency"])
    customer = customer_or_404(customer_id)
    default = customer.credit_limit.currency if customer.credit_limit else "EUR"
    currency = query.currency("currency") or default
    query.done()
    _, clock = wiring.context()
    seen = limits.exposure(customer, currency, clock.now().date(), limits.load_policy())
    return reply(
        {"customer_id": customer_id, "credit_level": customer.credit_level, "exposure": seen.to_json()}
    )


@bp.route("/credit/policy", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_credit_policy(who: str) -> Response:
    """The credit policy (thresholds, automatic hold, open orders counted, overdue days that
    refer or decline) and its version, for a change."""
    policy, version = limits.policy_and_version()
    return reply({"version": version, "policy": policy.to_json()})


@bp.route("/credit/policy", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def put_credit_policy(who: str) -> Response:
    """Replace the credit policy (controller): ``{"version": <the version read>, "policy":
    {...}}``; ``CreditPolicyChanged``. A 409 if it changed since it was read."""

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        return limits.save_policy(policy, version, f"finance:{who}", wiring.context()[1]), policy.to_json()

    return replace_policy(limits.policy_from_json, save)


@bp.route("/credit/check", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.VIEWER)
def credit_check(who: str) -> Response:
    """May this customer have an order of this amount? ``{"customer_id", "amount", "currency"}``:
    ``approve``, ``refer`` or ``decline`` with each reason (hold, limit, insurance, overdue,
    score) and the exposure. Two reads, whatever the customer's history: for an ERP to call
    before it ships."""
    body = json_body("customer_id")
    amount = _amount_of(body)
    customer = customer_or_404(str(body["customer_id"]))
    _, clock = wiring.context()
    decided = limits.check(customer, amount, clock.now().date(), limits.load_policy())
    return reply(
        {"customer_id": customer.customer_id, "amount": amount.to_decimal_string(), **decided.to_json()}
    )


@bp.route("/forecast", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def cash_forecast(who: str) -> Response:
    """Expected collections per week for the next 13 weeks (``?weeks=`` 1 to 26; the first from
    today), per currency, with what comes from invoices already overdue apart and the run-rate of
    invoices not issued yet in its own field: each open invoice's predicted payment date from its
    customer's lateness distribution (docs/forecast-and-risk.md). ``?invoices=true`` lists each
    open invoice's predicted payment day and interval."""
    query = Query(["weeks", "invoices"])
    weeks = query.integer("weeks", WEEKS, 1, 26)
    detail = bool(query.flag("invoices"))
    query.done()
    _, clock = wiring.context()
    return reply(ledger_forecast(clock.now().date(), weeks, detail=detail))


@bp.route("/risk/ratings", methods=["POST"], content_types=["text/csv"])
@bp.endpoint(Role.CONTROLLER)
def import_risk_ratings(who: str) -> Response:
    """Import an agency's ratings (controller), a CSV body: ``customer,rating,agency,rated_on``
    (customer id or identifier such as ``vat:DE136695976``; rating 0 to 100, 100 the safest).
    Counts imported and unchanged, and each rejected row with its number, field and reason; the
    stream scores the customers again."""
    request = current_request()
    assert request is not None
    raw = request.raw_body or b""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidRequestError([FieldError("body", "must be UTF-8 CSV")]) from None
    return reply(import_ratings(text, f"finance:{who}", wiring.context()[1]))
