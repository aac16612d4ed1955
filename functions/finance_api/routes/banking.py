"""Bank statements and their lines: the statements imported, uploading one, and the review queue
of the lines the matching left for a person (letter, ignore, undo)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from receivables.banking import review
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError

from . import wiring
from .api import Resource, Response, json_body, json_value, params, reply

if TYPE_CHECKING:
    from receivables.kernel.money import Money

bp = Resource(__name__)

MAX_UPLOAD_BYTES = 6 * 1024 * 1024  # what fits an API Gateway request once base64-encoded


@bp.route("/statements", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_statements(who: str) -> Response:
    """The statements imported, newest first: account, dates, balances, the lines by status and
    the lettered ones by rule, the Stripe payouts reconciled with their gross, fees and net, and
    any balance problem (a statement missing, an entry misread)."""
    query = params()
    limit = query.integer("limit", 100, 1, 500)
    query.done()
    return reply({"statements": review.list_statements(limit)})


@bp.route("/statements", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def upload_statement(who: str) -> Response:
    """Import a statement file (controller): ``{"name", "content"}``, the file's bytes in base64
    (camt.053, camt.054, MT940 or a ZIP of them). The report of what became of every line."""
    body = json_body("name")
    content = body.get("content")
    try:
        data = base64.b64decode(content if isinstance(content, str) else "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise InvalidRequestError([FieldError("content", "must be the file in base64")])
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidRequestError([FieldError("content", f"is larger than {MAX_UPLOAD_BYTES} bytes")])
    # cold start: the statement readers and the matching (mt940, rapidfuzz: about 45 ms) load
    # with the first upload, not with every finance route
    from receivables.banking.intake import import_statement_file

    settings, clock = wiring.context()
    report = import_statement_file(
        data, body["name"].strip(), clock, sellers=(settings.default_seller_id,), max_bytes=MAX_UPLOAD_BYTES
    )
    return reply(report.to_json(), 200 if report.statements else 422)


@bp.route("/statements/{statement_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_statement(who: str, statement_id: str) -> Response:
    """One statement with every line it brought, in the file's order (a Stripe payout's line
    with its payout: gross, fees, net, the charges)."""
    return reply(review.get_statement(statement_id))


@bp.route("/bank-lines", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_bank_lines(who: str) -> Response:
    """The lines waiting for a person (``status=unmatched``, the only listing), oldest booking
    first, each with its ranked candidates and their reasons."""
    query = params("status")
    query.choice("status", ("unmatched",))
    limit = query.integer("limit", 200, 1, 500)
    query.done()
    return reply({"bank_lines": review.unmatched_lines(limit)})


@bp.route("/bank-lines/{line_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_bank_line(who: str, line_id: str) -> Response:
    """One bank line: the entry as the bank gave it, what became of it, its candidates."""
    line = review.get_line(line_id)
    return reply({**line.body, "version": line.version})


@bp.route("/bank-lines/{line_id}/letter", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def letter_bank_line(who: str, line_id: str) -> Response:
    """Letter a waiting line by hand: ``{"invoices": [{"invoice": id or number, "amount"}]}``,
    the rest of the line waiting on the customer's account; or ``{"on_account": customer id}``,
    all of it on that customer's account. Remembers the payer's IBAN."""
    line = review.get_line(line_id)
    body = json_value()
    on_account = body.get("on_account") if isinstance(body, dict) else None
    if on_account is not None and not (isinstance(on_account, str) and 0 < len(on_account.strip()) <= 100):
        raise InvalidRequestError([FieldError("on_account", "must be a customer id")])
    if isinstance(body, dict) and on_account is not None and "invoices" in body:
        raise InvalidRequestError([FieldError("on_account", "name the invoices or the customer, not both")])
    targets = {} if on_account is not None else _targets(body, str(line.body["currency"]))
    return reply(
        review.letter_line(
            line_id,
            targets,
            f"finance:{who}",
            wiring.context()[1],
            on_account_of=on_account.strip() if on_account is not None else None,
        )
    )


@bp.route("/bank-lines/{line_id}/return", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def return_bank_line(who: str, line_id: str) -> Response:
    """Decide a waiting return: ``{"returns": the credit line's id}``; that credit's money comes
    off the invoices it paid, which are owed again."""
    body = json_body("returns")
    return reply(review.return_line(line_id, body["returns"].strip(), f"finance:{who}", wiring.context()[1]))


@bp.route("/bank-lines/{line_id}/ignore", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def ignore_bank_line(who: str, line_id: str) -> Response:
    """A waiting line that is not a customer's payment: ``{"reason"}``."""
    body = json_body("reason")
    return reply(review.ignore_line(line_id, body["reason"], f"finance:{who}", wiring.context()[1]))


@bp.route("/bank-lines/{line_id}/unletter", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def unletter_bank_line(who: str, line_id: str) -> Response:
    """Undo a line's lettering: its money waits unapplied again, the line back for review."""
    return reply(review.unletter_line(line_id, f"finance:{who}", wiring.context()[1]))


def _targets(body: Any, currency: str) -> dict[str, Money]:
    """The invoices and amounts of a lettering by hand, every bad one named."""
    rows = body.get("invoices") if isinstance(body, dict) else None
    return review.lettering_targets(rows, currency, wiring.context()[0].default_seller_id)
