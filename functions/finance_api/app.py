"""Finance API function: what finance staff do through the authenticated HTTP API.

Payments (record a transfer, the unapplied queue, list), dunning (the policy, the sweep now, a
promise to pay), disputes (open, list, decide), invoices (list with filters and cursors, history,
void, write-off, note, collector), customers (list, statement, risk, credit hold, contact, terms,
purchase orders) and the reports (aging, KPIs, worklist); every list also as CSV. Every route
needs an authenticated caller (Cognito JWT authorizer on AWS, the local token locally) with a
role (`receivables.kernel.access`), checked by `endpoint`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables.collections.finance import customer_or_404, invoice_or_404
from receivables.kernel.access import Role, require, role_of
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.errors import (
    ConflictError,
    FieldError,
    InvalidRequestError,
    NotFoundError,
    ReceivablesError,
)
from receivables.kernel.money import normalise_currency
from receivables.kernel.observability import logger
from receivables.kernel.settings import Settings
from receivables.kernel.validation import parse_json
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.payments.allocation import reallocate, record_receipt
from receivables.payments.manual import allocations_from_request, receipt_from_request
from receivables.storage import store
from receivables.web.http_errors import http_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from receivables.adapters.attachments import Attachments
    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import Customer, Invoice, Payment

app = Chalice(app_name="receivables-finance")


@cache
def context() -> tuple[Settings, Clock]:
    """Settings and clock, bound once per cold start."""
    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    return settings, clock_from_env(os.environ)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def _role() -> Role | None:
    """The caller's highest role (already checked by `endpoint` for the route's minimum)."""
    request = app.current_request
    assert request is not None
    return role_of(request.context)[1]


def _caller(needed: Role) -> str:
    request = app.current_request
    assert request is not None
    return require(request.context, needed)


# --- every route goes through `endpoint`: the caller's role first, then the view; an error of the
# kernel's hierarchy becomes its status and body (`http_error`), anything else stays a 500.
def endpoint(needed: Role) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Wrap a view: authenticate and authorise, bind the store, map errors to status codes.
    The view gets the caller's identity as its first argument."""

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def run(**path: str) -> Response:
            try:
                who = _caller(needed)
                context()
                return view(who, **path)
            except ReceivablesError as exc:
                answer = http_error(exc)
                if answer is None:
                    raise
                return _json(answer[1], answer[0])

        return run

    return wrap


class Query:
    """The request's query parameters, validated one by one; `done` raises for every bad one."""

    def __init__(self, known: Iterable[str]) -> None:
        request = app.current_request
        assert request is not None
        self.raw: dict[str, str] = dict(request.query_params or {})
        self.known = {*known, "format", "cursor", "limit"}
        self.errors: list[FieldError] = []

    def text(self, name: str, max_length: int = 200) -> str | None:
        value = self.raw.get(name)
        if value is not None and not (0 < len(value) <= max_length):
            self.errors.append(FieldError(name, f"must be 1 to {max_length} characters"))
            return None
        return value

    def choice(self, name: str, choices: Iterable[str]) -> str | None:
        value = self.raw.get(name)
        allowed = sorted(choices)
        if value is not None and value not in allowed:
            self.errors.append(FieldError(name, f"must be one of {', '.join(allowed)}"))
            return None
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(name)
        if value is None:
            return default
        # isascii: str.isdigit() is true of "²" and "①", which int() refuses.
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            self.errors.append(FieldError(name, f"must be a whole number from {low} to {high}"))
            return default
        return int(value)

    def day(self, name: str) -> date | None:
        value = self.raw.get(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors.append(FieldError(name, "must be a date, YYYY-MM-DD"))
            return None
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            self.errors.append(FieldError(name, f"must be from {EARLIEST_DAY} to {LATEST_DAY}"))
            return None
        return day

    def currency(self, name: str = "currency") -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        try:
            return normalise_currency(value)
        except ValueError:
            self.errors.append(FieldError(name, "must be an ISO 4217 code"))
            return None

    def flag(self, name: str) -> bool | None:
        return {"true": True, "false": False, None: None}.get(self.choice(name, ("true", "false")))

    def cursor(self) -> store.Cursor | None:
        value = self.raw.get("cursor")
        if value is None:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(value.encode() + b"=="))
        except (ValueError, binascii.Error):
            decoded = None
        # Its shape is the listing's to check (`store.CursorError`, a 400 from `endpoint`).
        if len(value) > 2048 or not isinstance(decoded, dict):
            self.errors.append(FieldError("cursor", "is not a cursor this API gave"))
            return None
        return decoded

    def done(self) -> None:
        unknown = set(self.raw) - self.known
        self.errors.extend(FieldError(name, "is not a parameter of this route") for name in sorted(unknown))
        if self.errors:
            raise InvalidRequestError(self.errors)


def params(*known: str) -> Query:
    """The query parameters of this request; any not in ``known`` (nor ``format``, ``cursor``,
    ``limit``) is reported as unknown."""
    return Query(known)


def cursor_text(position: store.Cursor | None) -> str | None:
    """An opaque cursor for the next page."""
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def listing(key: str, rows: list[dict[str, Any]], next_cursor: store.Cursor | None, query: Query) -> Response:
    """A list as JSON (``{key: rows, "next_cursor": ...}``) or, with ``?format=csv``, as CSV."""
    if query.raw.get("format") == "csv":
        from receivables.reporting.csv_export import to_csv

        headers: dict[str, str | list[str]] = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{key}.csv"',
        }
        if next_cursor is not None:
            headers["X-Next-Cursor"] = cursor_text(next_cursor) or ""
        return Response(body=to_csv(rows), status_code=200, headers=headers)
    return _json({key: rows, "next_cursor": cursor_text(next_cursor)})


EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_PERIOD_MONTHS = 121  # ten years and a month: a listing reads one index partition a month


def _months(first: date, last: date, field: str = "from") -> list[str]:
    """The months from ``last`` back to ``first`` (``YYYY-MM``), at most `MAX_PERIOD_MONTHS`;
    a longer or reversed period is a 400 naming ``field``."""
    span = (last.year - first.year) * 12 + last.month - first.month
    if not 0 <= span < MAX_PERIOD_MONTHS:
        raise InvalidRequestError(
            [
                FieldError(
                    field, f"must start at most {MAX_PERIOD_MONTHS - 1} months before the end, not after it"
                )
            ]
        )
    months, month = [], last.replace(day=1)
    while month >= first.replace(day=1):
        months.append(month.isoformat()[:7])
        month = (month - timedelta(days=1)).replace(day=1)
    return months


def _json_value() -> Any:
    """The request's JSON, parsed the one strict way (`parse_json`: exact decimals, no duplicate
    keys, bounded size and depth); an empty body is an empty object."""
    request = app.current_request
    assert request is not None
    raw = request.raw_body or b"{}"
    return parse_json(raw)


def _body(*required: str) -> dict[str, Any]:
    """The JSON object body, with every ``required`` field a non-empty string (else a 400)."""
    body = _json_value()
    if not isinstance(body, dict):
        raise InvalidRequestError([FieldError("body", "must be a JSON object")])
    errors = [
        FieldError(name, "is required: a non-empty string of at most 2000 characters")
        for name in required
        if not isinstance(body.get(name), str) or not 0 < len(body[name].strip()) <= 2000
    ]
    if errors:
        raise InvalidRequestError(errors)
    return body


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
        "version": payment.version,
    }


@app.route("/payments", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def record_payment(who: str) -> Response:
    """Record a manual payment; 201 when new, 200 when it was recorded before."""
    settings, clock = context()
    receipt = receipt_from_request(
        _json_value(), seller_id=settings.default_seller_id, limits=settings.amount_limits
    )
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


@app.route("/payments/unapplied", methods=["GET"])
@endpoint(Role.VIEWER)
def unapplied_queue(who: str) -> Response:
    """Payments with money waiting to be applied, oldest first, in one currency (``?currency=``)."""
    request = app.current_request
    assert request is not None
    raw = dict(request.query_params or {}).get("currency", "")
    try:
        currency = normalise_currency(raw)
    except ValueError:
        raise InvalidRequestError([FieldError("currency", "must be an ISO 4217 code")]) from None
    return _json({"payments": [payment_json(p) for p in store.unapplied_payments(currency)]})


@app.route("/payments/{payment_id}/allocations", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def reallocate_payment(who: str, payment_id: str) -> Response:
    """Re-allocate a payment: the body's ``allocations`` are the invoices it should pay and how
    much of each (any other it paid gets its part back; the rest waits as unapplied). ``version``,
    if given, must be the payment's, so a change made meanwhile is not overwritten (409)."""
    settings, clock = context()
    payment = store.get_payment(payment_id) if payment_id.startswith("pay_") else None
    if payment is None:
        raise NotFoundError(f"no payment {payment_id}")
    targets, version = allocations_from_request(
        _body(), payment.amount.currency, seller_id=settings.default_seller_id
    )
    moved, changed = reallocate(payment_id, targets, clock, actor=who, expected_version=version)
    logger.info("payment re-allocated", extra={"payment_id": payment_id, "by": who, "changed": changed})
    return _json({"payment": payment_json(moved), "changed": changed})


@app.route("/payments/{payment_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_payment(who: str, payment_id: str) -> Response:
    """One payment."""
    payment = store.get_payment(payment_id) if payment_id.startswith("pay_") else None
    if payment is None:
        raise NotFoundError(f"no payment {payment_id}")
    return _json({"payment": payment_json(payment)})


# --- dunning -------------------------------------------------------------------------------------
@app.route("/dunning/policy", methods=["GET"])
@endpoint(Role.VIEWER)
def get_dunning_policy(who: str) -> Response:
    """The dunning policy in force (the default until finance sets one), with its version."""
    from receivables.collections.dunning.policy import policy_to_json
    from receivables.collections.dunning.service import load_policy

    policy = load_policy()
    return _json({"version": policy.version, "policy": policy_to_json(policy)})


@app.route("/dunning/policy", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def put_dunning_policy(who: str) -> Response:
    """Replace the policy: ``{"version": <the version read>, "policy": {...}}`` (controller)."""
    from receivables.collections.dunning.policy import policy_from_json, policy_to_json
    from receivables.collections.dunning.service import save_policy

    _, clock = context()

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        saved = save_policy(policy, version, who, clock)
        return saved.version, policy_to_json(saved)

    return _replace_policy(policy_from_json, save)


def _replace_policy(
    parse: Callable[[Any], Any], save: Callable[[Any, int], tuple[int, dict[str, Any]]]
) -> Response:
    """A policy PUT: ``{"version": <the version read>, "policy": {...}}``; each bad field named
    under ``policy.``, a 409 if it changed since it was read; the saved version and policy."""
    body = _body()
    if isinstance(body.get("version"), bool) or not isinstance(body.get("version"), int):
        raise InvalidRequestError([FieldError("version", "the version you read is required")])
    try:
        policy = parse(body.get("policy"))
    except InvalidRequestError as exc:
        raise InvalidRequestError([FieldError(f"policy.{e.field}", e.reason) for e in exc.errors]) from None
    try:
        version, saved = save(policy, int(body["version"]))
    except store.ConcurrentChangeError:
        raise ConflictError("the policy changed since you read it: read it again") from None
    return _json({"version": version, "policy": saved})


@app.route("/dunning/sweep", methods=["POST"])
@endpoint(Role.COLLECTOR)
def sweep_now(who: str) -> Response:
    """Start the dunning sweep now (it runs asynchronously, as the daily one does)."""
    from receivables.adapters.events import EventPublisher

    settings, _ = context()
    if not settings.event_bus_name:
        return _json({"message": "no event bus configured"}, 500)
    publisher = EventPublisher(settings.event_bus_name, endpoint_url=settings.endpoint_url)
    publisher.publish("DunningSweepRequested", {"by": who}, source="receivables.finance")
    return _json({"requested": True}, 202)


@app.route("/invoices/{invoice_id}/promise", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def promise_to_pay(who: str, invoice_id: str) -> Response:
    """Record the customer's promise to pay ``{"date": "2026-12-01", "amount": "500.00"}``:
    dunning waits until then (collector)."""
    from receivables.collections.dunning.service import parse_promise, record_promise

    _, clock = context()
    invoice = invoice_or_404(invoice_id)
    body = _body()
    day, amount = parse_promise(invoice, body.get("date"), body.get("amount"))
    changed = record_promise(invoice_id, day, amount, f"finance:{who}", clock)
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
def _dispute_or_404(dispute_id: str) -> Dispute:
    dispute = store.get_dispute(dispute_id) if dispute_id.startswith("dsp_") else None
    if dispute is None:
        raise NotFoundError(f"no dispute {dispute_id}")
    return dispute


@app.route("/invoices/{invoice_id}/disputes", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def open_invoice_dispute(who: str, invoice_id: str) -> Response:
    """Open a dispute for the customer (collector): ``{"reason": "pricing", "amount": "120.00",
    "lines": [{"line_id": "1", "quantity": "8"}], "comment": "..."}``; 201, or 200 with the
    dispute already open."""
    from receivables.disputes.service import dispute_view, open_dispute_on, parse_lines
    from receivables.ledger.disputes import Reason, Source

    _, clock = context()
    invoice = invoice_or_404(invoice_id)
    body = _body()
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
    return _json({"dispute": dispute_view(dispute)}, 201 if created else 200)


@app.route("/disputes", methods=["GET"])
@endpoint(Role.VIEWER)
def disputes_open(who: str) -> Response:
    """Disputes that have not ended, oldest first (viewer): finance's queue."""
    from receivables.disputes.service import dispute_summary

    return _json({"disputes": [dispute_summary(d) for d in store.open_disputes()]})


@app.route("/disputes/{dispute_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def dispute_detail(who: str, dispute_id: str) -> Response:
    """One dispute: its findings, resolution, documents and history (viewer)."""
    from receivables.disputes.service import dispute_view

    return _json({"dispute": dispute_view(_dispute_or_404(dispute_id))})


@app.route("/disputes/{dispute_id}/decision", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def dispute_decision(who: str, dispute_id: str) -> Response:
    """Finance decides a dispute that waits for it (controller): ``{"decision": "accept",
    "credit": "120.00"}``, ``{"decision": "reject", "reason": "..."}`` or ``{"decision":
    "reissue", "corrected_total": "1080.00"}``; the workflow then applies it (202)."""
    from botocore.exceptions import ClientError

    from receivables.disputes.service import decide, dispute_view

    _, clock = context()
    _dispute_or_404(dispute_id)
    dispute, token = decide(dispute_id, _body(), f"finance:{who}", clock)
    resolution = dispute.resolution
    assert resolution is not None
    output = {"decision": resolution.action, "by": resolution.by}
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
@endpoint(Role.VIEWER)
def customer_dispute_history(who: str, customer_id: str) -> Response:
    """A customer's disputes and how often each reason came up (viewer)."""
    from receivables.disputes.service import dispute_summary, reasons_by_customer

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
@endpoint(Role.COLLECTOR)
def file_customer_terms(who: str, customer_id: str) -> Response:
    """File the customer's terms: ``{"requires_po": true, "price_list": {"Pallet wrap":
    "12.00"}}``; the dispute analysis and the deduction checks use them. A price list decides
    which short payments are credited, so under the approval policy a collector's terms are a
    proposal (202) a controller approves."""
    from receivables.customers.approvals import load_policy, propose
    from receivables.disputes.service import save_terms, terms_document

    _, clock = context()
    customer_or_404(customer_id)
    terms = terms_document(_plain(_body()))
    if load_policy().needs_approval("terms_change", _role()):
        prices = ", ".join(f"{item} {price}" for item, price in list(terms["price_list"].items())[:20])
        summary = f"requires_po {terms['requires_po']}; price list: {prices or 'none'}"
        proposal = propose("terms_change", customer_id, terms, summary, who, clock)
        return _json({"customer_id": customer_id, "approval": proposal.to_json()}, 202)
    saved = save_terms(customer_id, terms, f"finance:{who}", clock)
    return _json({"customer_id": customer_id, "terms": saved})


@app.route(
    "/customers/{customer_id}/purchase-orders/{number}", methods=["PUT"], content_types=["application/json"]
)
@endpoint(Role.COLLECTOR)
def file_purchase_order(who: str, customer_id: str, number: str) -> Response:
    """File one of the customer's purchase orders: ``{"currency": "EUR", "lines":
    [{"description": "Pallet wrap", "quantity": "10", "unit_price": "12.00"}]}``. Its prices
    decide pricing deductions, so under the approval policy a collector's PO is a proposal
    (202) a controller approves."""
    from receivables.customers.approvals import load_policy, propose
    from receivables.disputes.service import purchase_order_document, save_purchase_order

    _, clock = context()
    customer_or_404(customer_id)
    order = purchase_order_document(number, _plain(_body()))
    if load_policy().needs_approval("purchase_order", _role()):
        summary = f"PO {number}: {len(order['lines'])} line(s) in {order['currency']}, " + ", ".join(
            f"{line['description']} {line['quantity']} x {line['unit_price']}" for line in order["lines"][:5]
        )
        proposal = propose(
            "purchase_order", customer_id, {"number": number, "order": order}, summary, who, clock
        )
        return _json({"customer_id": customer_id, "number": number, "approval": proposal.to_json()}, 202)
    saved = save_purchase_order(customer_id, number, order, f"finance:{who}", clock)
    return _json({"customer_id": customer_id, "number": number, "purchase_order": saved})


# --- the finance workbench: invoices, customers, reports ------------------------------------------
INVOICE_STATUSES = ("open", "partially_paid", "paid", "disputed", "credited", "written_off", "void")


@app.route("/invoices", methods=["GET"])
@endpoint(Role.VIEWER)
def list_invoices(who: str) -> Response:
    """Invoices, filtered: ``status``, ``customer``, ``overdue=true``, ``due_from``/``due_to``,
    ``issued_from``/``issued_to`` (default: the last 12 months), ``currency``, ``number`` (under
    every seller invoices were issued by, or the one ``seller`` names);
    ``limit`` (1-200) and ``cursor`` page; ``format=csv`` exports. Each filter picks an index:
    a customer's (gsi1), the open invoices by due date (gsi2) or the issue months (gsi3)."""
    from receivables.collections.finance import invoice_json
    from receivables.ledger.model import DocumentType
    from receivables.ledger.rules import document_id

    query = params(
        "status",
        "customer",
        "overdue",
        "due_from",
        "due_to",
        "issued_from",
        "issued_to",
        "currency",
        "number",
        "seller",
    )
    settings, clock = context()
    today = clock.now().date()
    status = query.choice("status", INVOICE_STATUSES)
    customer = query.text("customer")
    overdue = query.flag("overdue")
    due_from, due_to = query.day("due_from"), query.day("due_to")
    issued_to = query.day("issued_to") or today
    issued_from = query.day("issued_from") or (issued_to - timedelta(days=365))
    currency = query.currency()
    number = query.text("number")
    seller = query.text("seller")
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()

    def wanted(invoice: Invoice) -> bool:
        return (
            (status is None or invoice.status.value == status)
            and (currency is None or invoice.currency == currency)
            and (customer is None or invoice.customer_id == customer)
            and (
                overdue is None or (invoice.status in OPEN_RECEIVABLE and invoice.due_date < today) == overdue
            )
            and (due_from is None or invoice.due_date >= due_from)
            and (due_to is None or invoice.due_date <= due_to)
        )

    next_position: store.Cursor | None
    if number is not None:
        # The number is the seller's: look under each seller invoices were ever issued by (or
        # the one ``seller`` names), one GetItem each.
        from receivables.reporting.aggregates import Reads, sellers

        issuers = [seller] if seller else dict.fromkeys([settings.default_seller_id, *sellers(Reads())])
        found_all = (store.get_invoice(document_id(s, DocumentType.INVOICE, number)) for s in issuers)
        invoices, next_position = [i for i in found_all if i is not None], None
    elif customer is not None:
        invoices, next_position = store.customer_invoices(customer, limit, position)
    elif overdue or due_from or due_to or status in ("open", "partially_paid", "disputed"):
        last_due = min(due_to or date.max, today - timedelta(days=1)) if overdue else due_to
        if position is not None and (set(position) != {"after"} or not isinstance(position["after"], str)):
            raise store.CursorError("not a position of this listing")
        after = position["after"] if position else None
        invoices, last = store.open_invoices_by_due(limit, after, due_from, last_due)
        next_position = {"after": last} if last else None
    else:
        invoices, next_position = store.invoices_issued(
            _months(issued_from, issued_to, "issued_from"), limit, position
        )
    rows = [invoice_json(i, today) for i in invoices if wanted(i)]
    return listing("invoices", rows, next_position, query)


@app.route("/invoices/{invoice_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_invoice(who: str, invoice_id: str) -> Response:
    """One invoice with its full history (audit events, oldest first) and its disputes."""
    from receivables.collections.finance import event_json, invoice_json

    _, clock = context()
    invoice = invoice_or_404(invoice_id)
    return _json(
        {
            "invoice": invoice_json(invoice, clock.now().date()),
            "history": [event_json(e) for e in store.invoice_events(invoice_id)],
            "disputes": store.invoice_dispute_ids(invoice_id),
        }
    )


def _invoice_reply(changed: Invoice) -> Response:
    from receivables.collections.finance import invoice_json

    _, clock = context()
    return _json({"invoice": invoice_json(changed, clock.now().date())})


@app.route("/invoices/{invoice_id}/void", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def void_invoice(who: str, invoice_id: str) -> Response:
    """Cancel an invoice issued in error (controller): ``{"reason": "..."}``; 409 once money is on it."""
    from receivables.collections.finance import void_invoice

    reason = _body("reason")["reason"]
    return _invoice_reply(void_invoice(invoice_id, reason, f"finance:{who}", context()[1]))


@app.route("/invoices/{invoice_id}/write-off", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def write_off_invoice(who: str, invoice_id: str) -> Response:
    """Write off what is left of an invoice (controller): ``{"reason": "..."}``."""
    from receivables.collections.finance import write_off_invoice

    reason = _body("reason")["reason"]
    return _invoice_reply(write_off_invoice(invoice_id, reason, f"finance:{who}", context()[1]))


@app.route("/invoices/{invoice_id}/notes", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def add_invoice_note(who: str, invoice_id: str) -> Response:
    """Put a note on the invoice's history (collector): ``{"text": "..."}``."""
    from receivables.collections.finance import add_note

    text = _body("text")["text"]
    return _invoice_reply(add_note(invoice_id, text, f"finance:{who}", context()[1]))


@app.route("/invoices/{invoice_id}/collector", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def assign_invoice_collector(who: str, invoice_id: str) -> Response:
    """Assign the person who works this invoice (collector): ``{"collector": "..."}``."""
    from receivables.collections.finance import assign_collector

    collector = _body("collector")["collector"]
    return _invoice_reply(assign_collector(invoice_id, collector, f"finance:{who}", context()[1]))


# --- credit -------------------------------------------------------------------------------------
def _money_field(body: dict[str, Any], name: str, currency: str, errors: list[FieldError]) -> Any:
    """``body[name]`` as Money in ``currency`` (a decimal string), None when absent or null."""
    from receivables.kernel.money import Money, MoneyError

    raw = body.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        errors.append(FieldError(name, f"must be a decimal string in {currency}"))
        return None
    try:
        amount = context()[0].amount_limits.check(Money.parse(raw, currency))
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


@app.route("/customers/{customer_id}/credit-limit", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def set_credit_limit(who: str, customer_id: str) -> Response:
    """Set the customer's credit limit (controller only): ``{"limit": "50000.00", "currency":
    "EUR", "insured_amount": "30000.00", "insured_until": "2027-12-31"}`` (the insurance is
    optional; a null limit removes it). ``CreditLimitChanged``; the credit level is reviewed at once."""
    from receivables.collections.finance import change_customer, customer_json
    from receivables.credit.limits import review

    body = _body()
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
    _, clock = context()
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
    reviewed = review(customer_id, clock)
    assert reviewed is not None
    return _json({"customer": customer_json(reviewed)})


@app.route("/customers/{customer_id}/open-orders", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def report_open_orders(who: str, customer_id: str) -> Response:
    """What the customer has ordered and is not invoiced yet, as the ERP reports it (collector):
    ``{"amount": "1200.00", "currency": "EUR"}``; it counts in the exposure where the policy says."""
    from receivables.collections.finance import change_customer, customer_json
    from receivables.credit.limits import review

    amount = _amount_of(_body())
    customer_or_404(customer_id)
    _, clock = context()
    change_customer(
        customer_id,
        lambda c: replace(c, open_orders=amount),
        "OpenOrdersReported",
        {"amount": amount.to_decimal_string(), "currency": amount.currency},
        f"finance:{who}",
        clock,
    )
    reviewed = review(customer_id, clock)
    assert reviewed is not None
    return _json({"customer": customer_json(reviewed)})


@app.route("/customers/{customer_id}/exposure", methods=["GET"])
@endpoint(Role.VIEWER)
def customer_exposure(who: str, customer_id: str) -> Response:
    """The customer's exposure against their limit (``?currency=``, default the limit's)."""
    from receivables.credit.limits import exposure, load_policy

    query = Query(["currency"])
    customer = customer_or_404(customer_id)
    default = customer.credit_limit.currency if customer.credit_limit else "EUR"
    currency = query.currency("currency") or default
    query.done()
    _, clock = context()
    seen = exposure(customer, currency, clock.now().date(), load_policy())
    return _json(
        {"customer_id": customer_id, "credit_level": customer.credit_level, "exposure": seen.to_json()}
    )


@app.route("/credit/policy", methods=["GET"])
@endpoint(Role.VIEWER)
def get_credit_policy(who: str) -> Response:
    """The credit policy (thresholds, automatic hold, open orders counted, overdue days that
    refer or decline) and its version, for a change."""
    from receivables.credit.limits import policy_and_version

    policy, version = policy_and_version()
    return _json({"version": version, "policy": policy.to_json()})


@app.route("/credit/policy", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def put_credit_policy(who: str) -> Response:
    """Replace the credit policy (controller): ``{"version": <the version read>, "policy":
    {...}}``; ``CreditPolicyChanged``. A 409 if it changed since it was read."""
    from receivables.credit.limits import policy_from_json, save_policy

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        return save_policy(policy, version, f"finance:{who}", context()[1]), policy.to_json()

    return _replace_policy(policy_from_json, save)


@app.route("/deductions", methods=["GET"])
@endpoint(Role.VIEWER)
def list_deductions(who: str) -> Response:
    """Deductions (short payments above the tolerance) and small balances written off, newest
    first: ``status`` (open, resolved, written_off), ``customer``, ``since`` (a day; default 90
    days ago; the open ones are listed however old). Each with its parts by reason, what the
    checks or the owner found, the owner and the dispute that routes it."""
    from receivables.disputes.deductions import deductions

    query = params("status", "customer", "since")
    status = query.choice("status", ("open", "resolved", "written_off"))
    customer = query.text("customer")
    first = query.day("since") or (context()[1].now().date() - timedelta(days=90))
    limit = query.integer("limit", 200, 1, 1000)
    query.done()
    return _json({"deductions": deductions(status, customer, since=first.isoformat())[:limit]})


@app.route("/deductions/report", methods=["GET"])
@endpoint(Role.VIEWER)
def deductions_report(who: str) -> Response:
    """Per currency: open deductions aged, days deductions outstanding over ``days`` (default 90),
    amounts taken, valid, invalid, written off and open, by reason and by customer."""
    from receivables.disputes.deductions import report

    query = params("days")
    days = query.integer("days", 90, 1, 730)
    query.done()
    return _json(report(context()[1].now().date(), days))


@app.route("/deductions/policy", methods=["GET"])
@endpoint(Role.VIEWER)
def get_deduction_policy(who: str) -> Response:
    """The deduction policy (tolerance per currency, the customers' reason codes, the default
    reason, the owners by reason and customer) and its version, for a change."""
    from receivables.disputes.deductions import policy_and_version

    policy, version = policy_and_version()
    return _json({"version": version, "policy": policy.to_json()})


@app.route("/deductions/policy", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def put_deduction_policy(who: str) -> Response:
    """Replace the deduction policy (controller): ``{"version", "policy"}``;
    ``DeductionPolicyChanged``. A 409 if it changed since it was read."""
    from receivables.disputes.deduction_rules import policy_from_json
    from receivables.disputes.deductions import save_policy

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        return save_policy(policy, version, f"finance:{who}", context()[1]), policy.to_json()

    return _replace_policy(policy_from_json, save)


@app.route("/deductions/{deduction_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_one_deduction(who: str, deduction_id: str) -> Response:
    """One deduction and its history (taken, routed, resolved)."""
    from receivables.disputes.deductions import deduction_pk, get_deduction

    found = get_deduction(deduction_id)
    if found is None:
        raise NotFoundError(f"no deduction {deduction_id}")
    history = [
        {"type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
        for e in store.audit_events(deduction_pk(deduction_id))
    ]
    return _json({**found[0], "version": found[1], "history": history})


@app.route("/credit/check", methods=["POST"], content_types=["application/json"])
@endpoint(Role.VIEWER)
def credit_check(who: str) -> Response:
    """May this customer have an order of this amount? ``{"customer_id", "amount", "currency"}``:
    ``approve``, ``refer`` or ``decline`` with each reason (hold, limit, insurance, overdue,
    score) and the exposure. Two reads, whatever the customer's history: for an ERP to call
    before it ships."""
    from receivables.credit.limits import check, load_policy

    body = _body("customer_id")
    amount = _amount_of(body)
    customer = customer_or_404(str(body["customer_id"]))
    _, clock = context()
    decided = check(customer, amount, clock.now().date(), load_policy())
    return _json(
        {"customer_id": customer.customer_id, "amount": amount.to_decimal_string(), **decided.to_json()}
    )


@app.route("/forecast", methods=["GET"])
@endpoint(Role.VIEWER)
def cash_forecast(who: str) -> Response:
    """Expected collections per week for the next 13 weeks (``?weeks=`` 1 to 26), per currency,
    with what comes from invoices already overdue apart: each open invoice's predicted payment
    date from its customer's behaviour (the population's for a new customer)."""
    from receivables.credit.forecast import WEEKS, ledger_forecast

    query = Query(["weeks"])
    weeks = query.integer("weeks", WEEKS, 1, 26)
    query.done()
    _, clock = context()
    return _json(ledger_forecast(clock.now().date(), weeks))


# --- approvals: maker and checker ---------------------------------------------------------------
@app.route("/approvals", methods=["GET"])
@endpoint(Role.VIEWER)
def list_approvals(who: str) -> Response:
    """Changes proposed for a second person's approval: ``?status=pending`` (the default),
    ``approved``, ``rejected`` or ``all``."""
    from receivables.customers.approvals import STATUSES, list_proposals

    query = params("status")
    status = query.choice("status", (*STATUSES, "all")) or "pending"
    query.done()
    found = list_proposals(None if status == "all" else status)
    return _json({"approvals": [p.to_json() for p in found], "count": len(found)})


def _proposal_or_404(approval_id: str) -> Any:
    from receivables.customers.approvals import get_proposal

    found = get_proposal(approval_id)
    if found is None:
        raise NotFoundError(f"no approval {approval_id}")
    return found


@app.route("/approvals/policy", methods=["GET"])
@endpoint(Role.VIEWER)
def get_approval_policy(who: str) -> Response:
    """Which changes need a second person (per action: ``controller`` or ``four_eyes``) and the
    largest pricing credit a deduction earns without a controller, per currency."""
    from receivables.customers.approvals import load_policy

    policy = load_policy()
    return _json({"version": policy.version, "policy": policy.to_json()})


@app.route("/approvals/policy", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def put_approval_policy(who: str) -> Response:
    """Replace the approval policy (controller): ``{"version", "policy": {"modes": {...},
    "auto_credit": {"EUR": "250.00", "*": "250"}}}``."""
    from receivables.customers.approvals import policy_from_json, save_policy

    _, clock = context()

    def save(policy: Any, version: int) -> tuple[int, dict[str, Any]]:
        return save_policy(policy, version, who, clock), policy.to_json()

    return _replace_policy(lambda raw: policy_from_json(_plain(raw)), save)


@app.route("/approvals/{approval_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_approval(who: str, approval_id: str) -> Response:
    """One proposal, with its history."""
    from receivables.collections.finance import event_json

    proposal = _proposal_or_404(approval_id)
    history = [event_json(e) for e in store.audit_events(f"APPROVAL#{approval_id}")]
    return _json({"approval": proposal.to_json(), "history": history})


@app.route("/approvals/{approval_id}/approve", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def approve_change(who: str, approval_id: str) -> Response:
    """Approve a proposal (a controller other than its maker): the change is applied.
    ``{"note": "..."}`` (optional) says how it was checked."""
    return _decide_proposal(who, approval_id, approve=True, note=str(_body().get("note") or ""))


@app.route("/approvals/{approval_id}/reject", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def reject_change(who: str, approval_id: str) -> Response:
    """Reject a proposal (a controller other than its maker): ``{"reason": "..."}``."""
    return _decide_proposal(who, approval_id, approve=False, note=_body("reason")["reason"])


def _decide_proposal(who: str, approval_id: str, *, approve: bool, note: str) -> Response:
    from receivables.customers.approvals import decide

    _proposal_or_404(approval_id)
    decided = decide(approval_id, approve, note, who, context()[1])
    logger.info("change decided", extra={"approval_id": approval_id, "approved": approve, "by": who})
    return _json({"approval": decided.to_json()})


# --- enrolment ----------------------------------------------------------------------------------
MAX_INVITATIONS = 100


@cache
def invitation_sender() -> Callable[[Any], str]:
    """Mails an enrolment invitation through SES (built on first use)."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    from receivables.adapters.ses import ses_sender
    from receivables.customers.links import link_keys
    from receivables.mail.mailer import MailSettings, send_enrolment_invitation

    settings, _ = context()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    key_name = os.environ["LINK_SIGNING_KEY_NAME"]

    def send(enrolment: Any) -> str:
        key = link_keys(str(get_secret(key_name, max_age=300)))
        return send_enrolment_invitation(enrolment, mail, key, send_raw)

    return send


def _enrolment_reply(enrolment: Any, status: int = 200) -> Response:
    return _json({"enrolment": enrolment.to_json()}, status)


def _is_contact_of(customer: Customer, address: Any) -> bool:
    """Whether ``address`` is the customer's email on file or one of their known contacts."""
    from receivables.ledger.model import PartyId

    if not isinstance(address, str) or "@" not in address:
        return False
    wanted = address.strip().lower()
    if customer.email and customer.email.strip().lower() == wanted:
        return True
    contact = PartyId("email", wanted)
    return store.customers_by_identifier([contact]).get(contact) == customer.customer_id


def _invitees(body: dict[str, Any]) -> tuple[list[tuple[Any, Any, str | None]], list[FieldError]]:
    """The (customer, prospect, email) to invite, from ``customers`` and ``prospects``."""
    errors: list[FieldError] = []
    wanted: list[tuple[Any, Any, str | None]] = []
    customers, prospects = body.get("customers", []), body.get("prospects", [])
    if not isinstance(customers, list) or not isinstance(prospects, list):
        return [], [FieldError("body", "customers and prospects are lists")]
    if (not customers and not prospects) or len(customers) + len(prospects) > MAX_INVITATIONS:
        errors.append(FieldError("body", f"names 1 to {MAX_INVITATIONS} customers or prospects"))
    for n, item in enumerate(customers):
        item = {"customer_id": item} if isinstance(item, str) else item
        email = item.get("email") if isinstance(item, dict) else None
        customer = store.get_customer(str(item.get("customer_id", ""))) if isinstance(item, dict) else None
        if customer is None:
            errors.append(FieldError(f"customers[{n}]", "is not a customer"))
        elif not (email or customer.email):
            errors.append(FieldError(f"customers[{n}].email", "is needed: the customer has no email on file"))
        elif email is not None and not _is_contact_of(customer, email):
            # The link opens the customer's billing details: it goes only where their mail goes.
            errors.append(
                FieldError(
                    f"customers[{n}].email",
                    "is not a known contact of this customer: change their contact first",
                )
            )
        else:
            wanted.append((customer, None, email))
    for n, item in enumerate(prospects):
        name = item.get("company_name") if isinstance(item, dict) else None
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
            errors.append(FieldError(f"prospects[{n}].company_name", "must be 1 to 200 characters"))
        elif not isinstance(email, str) or "@" not in email or " " in email.strip() or len(email) > 254:
            errors.append(FieldError(f"prospects[{n}].email", "must be an email address"))
        else:
            wanted.append((None, (name.strip(), email.strip()), None))
    return wanted, errors


@app.route("/enrolments", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def invite_to_enrol(who: str) -> Response:
    """Invite customers, or prospects, to give their billing details (collector): ``{"customers":
    ["cus_…" | {"customer_id", "email"}], "prospects": [{"company_name", "email"}], "language"}``.
    Each gets a signed link by email (valid 14 days); one already invited is reminded. Nothing is
    sent unless every invitee is valid."""
    from receivables.customers.enrolment import invite

    body = _body()
    language = body.get("language")
    wanted, errors = _invitees(body)
    if language is not None and language not in ("en", "fr", "de"):
        errors.append(FieldError("language", "must be one of en, fr, de"))
    if errors:
        raise InvalidRequestError(errors)
    _, clock = context()
    done = []
    for customer, prospect, email in wanted:
        enrolment, outcome = invite(
            customer, prospect, language, f"finance:{who}", clock, invitation_sender(), email
        )
        done.append({"outcome": outcome, "enrolment": enrolment.to_json()})
    logger.info("enrolment invitations", extra={"count": len(done), "by": who})
    return _json({"invitations": done}, 201)


@app.route("/enrolments", methods=["GET"])
@endpoint(Role.VIEWER)
def list_enrolments(who: str) -> Response:
    """Every enrolment and its state (``?state=invited|opened|submitted|approved|rejected``)."""
    from receivables.customers.enrolment import STATES, list_enrolments

    query = Query(["state"])
    state = query.raw.get("state")
    if state is not None and state not in STATES:
        query.errors.append(FieldError("state", f"must be one of {', '.join(STATES)}"))
    query.done()
    found = list_enrolments(state)
    return _json({"enrolments": [e.to_json() for e in found], "count": len(found)})


def _enrolment_or_404(enrolment_id: str) -> Any:
    from receivables.customers.enrolment import get_enrolment

    found = get_enrolment(enrolment_id)
    if found is None:
        raise NotFoundError(f"no enrolment {enrolment_id}")
    return found


@app.route("/enrolments/{enrolment_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_enrolment(who: str, enrolment_id: str) -> Response:
    """One enrolment: its state, the details given, what waits for approval, and its history."""
    from receivables.collections.finance import event_json

    enrolment = _enrolment_or_404(enrolment_id)
    history = [event_json(e) for e in store.audit_events(f"ENROL#{enrolment_id}")]
    return _json({"enrolment": enrolment.to_json(), "history": history})


@app.route("/enrolments/{enrolment_id}/remind", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def remind_enrolment(who: str, enrolment_id: str) -> Response:
    """Send an open invitation again, with a fresh link (collector)."""
    from receivables.customers.enrolment import remind

    done = remind(_enrolment_or_404(enrolment_id), f"finance:{who}", context()[1], invitation_sender())
    return _enrolment_reply(done)


@app.route("/enrolments/{enrolment_id}/approve", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def approve_enrolment(who: str, enrolment_id: str) -> Response:
    """Apply the changes a submitted enrolment holds for approval (controller): a new AP email
    address, a new bank account. ``{"note": "..."}`` (optional) says how they were checked."""
    return _decide(who, enrolment_id, approve=True, note=str(_body().get("note") or ""))


@app.route("/enrolments/{enrolment_id}/reject", methods=["POST"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def reject_enrolment(who: str, enrolment_id: str) -> Response:
    """Refuse the changes a submitted enrolment holds (controller): ``{"reason": "..."}``; the
    customer record keeps what it had."""
    return _decide(who, enrolment_id, approve=False, note=_body("reason")["reason"])


def _decide(who: str, enrolment_id: str, *, approve: bool, note: str) -> Response:
    from receivables.customers.enrolment import decide

    _enrolment_or_404(enrolment_id)
    decided = decide(enrolment_id, approve, note, f"finance:{who}", context()[1])
    return _enrolment_reply(decided)


# --- document requirements ----------------------------------------------------------------------
@cache
def invoice_files() -> Attachments:
    """The documents kept with invoices, in the bucket the template names."""
    from receivables.adapters.attachments import s3_attachments

    settings, _ = context()
    return s3_attachments(os.environ["DOCUMENTS_BUCKET"], settings.endpoint_url)


@app.route("/document-requests", methods=["GET"])
@endpoint(Role.VIEWER)
def document_requests(who: str) -> Response:
    """The open documentation requests: invoices held until their customer's AP has what it
    requires (oldest first), with what each lacks, since when, and the reminders sent."""
    from receivables.customers.requirements import open_requests

    rows = [
        {
            "invoice_id": r.invoice.invoice_id,
            "number": r.invoice.number,
            "customer_id": r.invoice.customer_id,
            "missing": list(r.missing),
            "since": r.since,
            "last_requested_at": r.requested_at,
            "reminders": r.reminders,
            "balance": r.invoice.balance.to_decimal_string(),
            "currency": r.invoice.currency,
        }
        for r in open_requests()
    ]
    return _json({"requests": rows, "count": len(rows)})


@app.route("/invoices/{invoice_id}/references", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def give_invoice_references(who: str, invoice_id: str) -> Response:
    """The PO number and/or contract reference the customer's AP needs on the invoice
    (collector): ``{"po_number": "...", "contract_reference": "..."}``; a held invoice is
    released (and mailed) once it lacks nothing more."""
    from receivables.customers.requirements import REFERENCES, provide_reference

    body = _body()
    given = {k: v for k, v in body.items() if k in REFERENCES}
    errors = [
        FieldError(k, "is not a reference an invoice carries") for k in sorted(set(body) - set(REFERENCES))
    ]
    errors += [FieldError(k, "must be a string") for k, v in given.items() if not isinstance(v, str)]
    if errors or not given:
        raise InvalidRequestError(errors or [FieldError("body", "names no reference")])
    invoice = invoice_or_404(invoice_id)
    for what, value in given.items():
        invoice = provide_reference(invoice_id, what, value, f"finance:{who}", context()[1])
    return _invoice_reply(invoice)


@app.route("/invoices/{invoice_id}/documents", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def upload_invoice_document(who: str, invoice_id: str) -> Response:
    """Start an upload of a document the customer's AP requires with the invoice (collector):
    ``{"kind": "delivery_note" | "timesheet"}``. The answer is a presigned POST (``url`` and
    ``fields``; the file goes last, as ``file``, PDF, PNG or JPEG up to 10 MB) and the ``key``
    to confirm with ``POST /invoices/{id}/documents/confirm`` once S3 has it."""
    import secrets

    from receivables.customers.requirements import DOCUMENTS
    from receivables.web.portal.requests import KEY_PREFIX

    kind = _body("kind")["kind"]
    if kind not in DOCUMENTS:
        raise InvalidRequestError([FieldError("kind", f"must be one of {', '.join(DOCUMENTS)}")])
    invoice = invoice_or_404(invoice_id)
    key = f"{KEY_PREFIX}{invoice.invoice_id}/{kind}/{secrets.token_hex(8)}"
    confirm = f"/invoices/{invoice_id}/documents/confirm"
    url, fields = invoice_files().presign(key, "")  # no redirect: S3 answers 204 to a program
    return _json({"upload": {"url": url, "fields": fields, "key": key}, "confirm": confirm}, 201)


@app.route("/invoices/{invoice_id}/documents/confirm", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def confirm_invoice_document(who: str, invoice_id: str) -> Response:
    """Keep an uploaded document with the invoice (collector): ``{"key": "..."}`` from the
    upload. Its first bytes must show a PDF, PNG or JPEG and it must be at most 10 MB; anything
    else is deleted and refused with the reason (400)."""
    from receivables.web.portal.requests import keep_upload

    key = _body("key")["key"]
    invoice = invoice_or_404(invoice_id)
    problem, kept = keep_upload(invoice, key, invoice_files(), f"finance:{who}", context()[1])
    if problem or kept is None:
        raise InvalidRequestError([FieldError("key", DOCUMENT_REFUSALS.get(problem, problem))])
    return _invoice_reply(kept)


DOCUMENT_REFUSALS = {
    "upload_missing": "no object was uploaded at this key",
    "upload_too_large": "the document is larger than 10 MB",
    "upload_wrong_type": "only PDF, PNG and JPEG documents are taken (by their content)",
    "upload_not_ours": "this key is not an upload of this invoice",
    "upload_too_many": "the invoice keeps no more documents",
}


@app.route("/invoices/{invoice_id}/documents/{index}", methods=["GET"])
@endpoint(Role.VIEWER)
def invoice_document(who: str, invoice_id: str, index: str) -> Response:
    """A document kept with the invoice (1-based ``index``): a download link valid five minutes,
    which makes the browser save it as the type its bytes showed."""
    invoice = invoice_or_404(invoice_id)
    n = int(index) if index.isascii() and index.isdigit() else 0
    if not 0 < n <= len(invoice.documents):
        raise NotFoundError(f"invoice {invoice_id} has no document {index}")
    document = invoice.documents[n - 1]
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[document.content_type]
    link = invoice_files().link
    assert link is not None
    url = link(document.key, document.content_type, f"{document.kind}-{n}.{extension}")
    return _json(
        {
            "kind": document.kind,
            "content_type": document.content_type,
            "size": document.size,
            "added_at": document.added_at,
            "added_by": document.added_by,
            "url": url,
        }
    )


@app.route("/customers", methods=["GET"])
@endpoint(Role.VIEWER)
def list_customers(who: str) -> Response:
    """Customers by name; ``limit``, ``cursor``, ``format=csv``."""
    from receivables.collections.finance import customer_json

    query = params()
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()
    customers, next_position = store.customers_by_name(limit, position)
    return listing("customers", [customer_json(c) for c in customers], next_position, query)


@app.route("/customers/{customer_id}", methods=["GET"])
@endpoint(Role.VIEWER)
def get_customer(who: str, customer_id: str) -> Response:
    """One customer, with the links they were sent (one per email) and when one last opened the
    portal."""
    from receivables.collections.finance import customer_json
    from receivables.reporting.aggregates import links_sent

    body = customer_json(customer_or_404(customer_id))
    return _json({"customer": {**body, "links_sent": links_sent(customer_id)}})


@app.route("/customers/{customer_id}/statement", methods=["GET"])
@endpoint(Role.VIEWER)
def customer_statement(who: str, customer_id: str) -> Response:
    """The customer's statement in one currency (``?currency=``, required): invoices, payments,
    credits and write-offs in date order with the running balance; ``format=csv`` exports."""
    from receivables.collections.finance import statement

    query = params("currency")
    currency = query.currency()
    if currency is None and "currency" not in query.raw:
        query.errors.append(FieldError("currency", "is required"))
    query.done()
    assert currency is not None
    _, clock = context()
    body = statement(customer_id, currency, clock.now().date())
    if query.raw.get("format") == "csv":
        return listing("statement", body["lines"], None, query)
    return _json(body)


@app.route("/customers/{customer_id}/risk", methods=["GET"])
@endpoint(Role.VIEWER)
def customer_risk_score(who: str, customer_id: str) -> Response:
    """The customer's risk score now, each factor with its value, its points and why, the
    dunning variant its class sets; and the daily points of its history, for a trend line."""
    from receivables.credit.risk import current, history

    customer = customer_or_404(customer_id)
    today = context()[1].now().date()
    return _json(
        {
            "customer_id": customer_id,
            "risk": current(customer, today).to_json(),
            "history": history(customer_id, today),
        }
    )


@app.route("/risk/ratings", methods=["POST"], content_types=["text/csv"])
@endpoint(Role.CONTROLLER)
def import_risk_ratings(who: str) -> Response:
    """Import an agency's ratings (controller), a CSV body: ``customer,rating,agency,rated_on``
    (customer id or identifier such as ``vat:DE136695976``; rating 0 to 100, 100 the safest).
    Counts imported and unchanged, and each rejected row with its number, field and reason; the
    stream scores the customers again."""
    from receivables.credit.risk import import_ratings

    request = app.current_request
    assert request is not None
    raw = request.raw_body or b""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidRequestError([FieldError("body", "must be UTF-8 CSV")]) from None
    return _json(import_ratings(text, f"finance:{who}", context()[1]))


@app.route("/customers/{customer_id}/credit-hold", methods=["PUT"], content_types=["application/json"])
@endpoint(Role.CONTROLLER)
def customer_credit_hold(who: str, customer_id: str) -> Response:
    """Put the customer on credit hold or lift it (controller): ``{"on": true, "reason": "..."}``."""
    from receivables.collections.finance import change_customer, customer_json

    body = _body("reason")
    if not isinstance(body.get("on"), bool):
        raise InvalidRequestError([FieldError("on", "is required: true or false")])
    on: bool = body["on"]
    _, clock = context()
    changed = change_customer(
        customer_id,
        lambda c: replace(c, credit_hold=on),
        "CreditHoldSet" if on else "CreditHoldLifted",
        {"reason": body["reason"]},
        f"finance:{who}",
        clock,
    )
    return _json({"customer": customer_json(changed)})


@app.route("/customers/{customer_id}/links/revoke", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def revoke_customer_links(who: str, customer_id: str) -> Response:
    """Revoke every link sent to the customer, and the portal sessions they opened (collector):
    ``{"reason": "..."}``. Links sent from now on work."""
    from receivables.collections.finance import customer_json, revoke_links

    reason = _body("reason")["reason"]
    changed = revoke_links(customer_id, reason, f"finance:{who}", context()[1])
    logger.info("links revoked", extra={"customer_id": customer_id, "by": who})
    return _json({"customer": customer_json(changed)})


@cache
def link_sender() -> Callable[[Customer, str], str]:
    """Mails a customer's contact a fresh portal link, through SES (built on first use)."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    from receivables.adapters.ses import ses_sender
    from receivables.customers.links import link_keys
    from receivables.mail.mailer import MailSettings, send_account_link

    settings, clock = context()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    key_name = os.environ["LINK_SIGNING_KEY_NAME"]

    def send(customer: Customer, address: str) -> str:
        key = link_keys(str(get_secret(key_name, max_age=300)))
        return send_account_link(customer, address, mail, key, send_raw, clock)

    return send


@app.route("/customers/{customer_id}/links", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def resend_customer_link(who: str, customer_id: str) -> Response:
    """Mail the customer a fresh link to their account on the portal (collector): to their email
    on file, or ``{"email": "..."}``, one of their known contacts."""
    from receivables.collections.finance import customer_json
    from receivables.web.portal.service import known_contact

    customer = customer_or_404(customer_id)
    body = _body()
    address = body.get("email") if body.get("email") is not None else customer.email
    if not isinstance(address, str) or not address.strip():
        raise ConflictError("the customer has no email address on file: set their contact first")
    address = address.strip().lower()
    contact = known_contact(address)
    if contact is None or contact.customer_id != customer_id:
        raise InvalidRequestError([FieldError("email", "is not a known contact of this customer")])
    message_id = link_sender()(customer, address)
    logger.info("portal link sent", extra={"customer_id": customer_id, "by": who})
    return _json({"customer": customer_json(customer), "sent_to": address, "message_id": message_id}, 202)


@app.route("/customers/{customer_id}/contacts/remove", methods=["POST"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def remove_customer_contact(who: str, customer_id: str) -> Response:
    """``{"email": "..."}`` is no longer a contact of the customer (collector): it cannot ask the
    portal for a link any more. The email on file can only be replaced (409)."""
    from receivables.collections.finance import customer_json, remove_contact

    address = _body("email")["email"]
    changed = remove_contact(customer_id, address, f"finance:{who}", context()[1])
    return _json({"customer": customer_json(changed)})


@app.route("/customers/{customer_id}/contact", methods=["PATCH"], content_types=["application/json"])
@endpoint(Role.COLLECTOR)
def customer_contact(who: str, customer_id: str) -> Response:
    """Change the customer's contact details and preferences (collector): any of ``email``,
    ``name``, ``language`` (en, fr, de), ``country`` (ISO 3166 alpha-2), ``partial_payments``
    (may they pay part of what they select on the portal), ``preferred_method`` (offered
    first on the portal and the pay link), ``invoice_delivery`` (``email_pdf``,
    ``email_einvoice``, ``portal_only``: what the invoice email carries), ``vat_id`` (checked
    with the country's check digits, then one of the ids ingest finds the customer by), what
    their AP requires on every invoice (``document_requirements``: ``po_number``,
    ``contract_reference``, ``delivery_note``, ``timesheet``), a ``standing_po`` (``{number,
    amount, valid_until}``, or null), the ``account_owner`` documentation requests go to, and
    whether their AP is asked too (``ask_customer_for_documents``).

    A change to a field that redirects mail (email, name, VAT id, country, invoice delivery)
    needs a controller under the approval policy: anyone else's is a proposal (202) that a
    second person approves (`POST /approvals/{id}/approve`)."""
    from receivables.collections.finance import customer_json
    from receivables.customers.approvals import load_policy, propose
    from receivables.customers.contact_changes import (
        SENSITIVE,
        apply_contact_change,
        contact_change_errors,
        prepare_contact_change,
    )

    body = _plain(_body())
    errors = contact_change_errors(body)
    if errors:
        raise InvalidRequestError(errors)
    _, clock = context()
    customer = customer_or_404(customer_id)
    if SENSITIVE & set(body) and load_policy().needs_approval("contact_change", _role()):
        prepare_contact_change(customer, body)  # every bad field is named now, not at approval
        summary = "; ".join(f"{k}: {customer_field(customer, k)!r} -> {body[k]!r}" for k in sorted(body))
        proposal = propose("contact_change", customer_id, body, summary, who, clock)
        logger.info("contact change proposed", extra={"customer_id": customer_id, "by": who})
        return _json({"approval": proposal.to_json(), "customer": customer_json(customer)}, 202)
    changed = apply_contact_change(customer_id, body, f"finance:{who}", clock)
    return _json({"customer": customer_json(changed)})


def customer_field(customer: Customer, name: str) -> Any:
    """What the customer record says of contact field ``name`` now (for a proposal's summary)."""
    if name == "vat_id":
        return next((i.value for i in customer.identifiers if i.scheme == "vat"), None)
    return getattr(customer, name, None)


def _plain(value: Any) -> Any:
    """``value`` with exact decimals as strings, to be stored as JSON as it was sent."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@app.route("/payments", methods=["GET"])
@endpoint(Role.VIEWER)
def list_payments(who: str) -> Response:
    """Payments received, newest first: ``received_from``/``received_to`` (default: the last
    90 days), ``currency``, ``customer``; ``limit``, ``cursor``, ``format=csv``."""
    query = params("received_from", "received_to", "currency", "customer")
    _, clock = context()
    last = query.day("received_to") or clock.now().date()
    first = query.day("received_from") or (last - timedelta(days=90))
    currency = query.currency()
    customer = query.text("customer")
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()
    payments, next_position = store.payments_received(_months(first, last, "received_from"), limit, position)
    rows = [
        payment_json(p)
        for p in payments
        if (currency is None or p.amount.currency == currency)
        and (customer is None or p.customer_id == customer)
        and first.isoformat() <= p.received_at[:10] <= last.isoformat()
    ]
    return listing("payments", rows, next_position, query)


@app.route("/reports/aging", methods=["GET"])
@endpoint(Role.VIEWER)
def aging(who: str) -> Response:
    """The aging report, per currency and per customer (``?currency=`` for one), from the
    stream's aggregates; ``format=csv`` exports one row per customer and currency."""
    from receivables.reporting.service import aging_report

    query = params("currency")
    currency = query.currency()
    query.done()
    _, clock = context()
    report = aging_report(clock.now().date(), currency)
    if query.raw.get("format") == "csv":
        rows = [
            {
                "currency": c["currency"],
                **{k: v for k, v in customer.items() if k != "buckets"},
                **customer["buckets"],
            }
            for c in report.to_json()["currencies"]
            for customer in c["customers"]
        ]
        return listing("aging", rows, None, query)
    return _json({**report.to_json(), "items_read": report.reads.items})


@app.route("/kpis", methods=["GET"])
@endpoint(Role.VIEWER)
def kpis(who: str) -> Response:
    """DSO (standard and countback), best possible DSO, average days delinquent, CEI, overdue
    ratio and dispute rate over ``days`` (default 30) per currency, with the daily trend over
    ``trend_days`` (default 30) from the sweep's snapshots."""
    from receivables.reporting import aggregates
    from receivables.reporting.service import kpis as figures
    from receivables.reporting.service import trend

    query = params("currency", "days", "trend_days")
    currency = query.currency()
    days = query.integer("days", 30, 1, 365)
    trend_days = query.integer("trend_days", 30, 1, 366)
    query.done()
    _, clock = context()
    today = clock.now().date()
    codes = [currency] if currency else aggregates.currencies(aggregates.Reads())
    return _json(
        {
            "as_of": today.isoformat(),
            "currencies": [
                {
                    "currency": code,
                    **figures(code, today, days).to_json(),
                    "trend": trend(code, today, trend_days),
                }
                for code in codes
            ],
        }
    )


@app.route("/worklist", methods=["GET"])
@endpoint(Role.VIEWER)
def work(who: str) -> Response:
    """Overdue invoices by expected loss (balance x days late x risk weight), highest first;
    ``currency``, ``limit`` (1-200), ``format=csv``. The daily sweep ranks them; the invoices it
    ranked are read fresh and ranked again as of today (``ranked_on`` says which day's ranking)."""
    from receivables.collections.finance import ranked_worklist

    query = params("currency")
    currency = query.currency()
    limit = query.integer("limit", 50, 1, 200)
    query.done()
    _, clock = context()
    rows, ranked_on = ranked_worklist(clock.now().date(), currency, limit)
    if query.raw.get("format") == "csv":
        return listing("worklist", rows, None, query)
    return _json({"worklist": rows, "ranked_on": ranked_on, "next_cursor": None})


@app.route("/dashboard", methods=["GET"])
@endpoint(Role.VIEWER)
def dashboard(who: str) -> Response:
    """The finance dashboard, one HTML page: aging bars per currency, the DSO trend, the top
    overdue customers, the worklist, disputes waiting for a decision, the emails and payments of
    the last days. ``?format=json`` gives the figures it is drawn from."""
    from receivables.web.dashboard import dashboard_data, render
    from receivables.web.security_headers import dashboard_headers

    query = params()
    wanted = query.choice("format", ("html", "json"))
    query.done()
    _, clock = context()
    data = dashboard_data(clock.now().date())
    if wanted == "json":
        return _json(data)
    page = render(data)
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", **dashboard_headers()}
    return Response(body=page, status_code=200, headers=headers)
