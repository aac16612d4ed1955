"""What every finance API route shares: `Resource`, the blueprint whose `endpoint` checks the
caller's role and turns the kernel's errors into responses (the one place: `http_error`), and the
parsing of queries and bodies, the replies and the listings."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request
from chalice.app import Response as Response  # the routes answer it: they import it from here

from receivables.collections.finance import event_json, invoice_json
from receivables.kernel.access import Role, require, role_of
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, ReceivablesError
from receivables.kernel.money import normalise_currency
from receivables.kernel.validation import parse_json
from receivables.reporting.csv_export import to_csv
from receivables.storage import store
from receivables.web.http_errors import http_error

from . import wiring

if TYPE_CHECKING:
    from collections.abc import Iterable

    from receivables.ledger.model import Invoice

View = Callable[..., Response]
_request: ContextVar[Request] = ContextVar("request")


def reply(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer."""
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


class Resource(Blueprint):
    """The routes of one resource. Every route goes through `endpoint`: the caller's role first,
    then the view; an error of the kernel's hierarchy becomes its status and body
    (`http_error`), anything else stays a 500."""

    def endpoint(self, needed: Role) -> Callable[[View], View]:
        """Wrap a view: authenticate and authorise, bind the store, map errors to responses.
        The view gets the caller's identity as its first argument."""

        def wrap(view: View) -> View:
            @functools.wraps(view)
            def run(**path: str) -> Response:
                request = self.current_request
                token = _request.set(request)
                try:
                    who = require(request.context, needed)
                    wiring.context()
                    return view(who, **path)
                except ReceivablesError as exc:
                    answer = http_error(exc)
                    if answer is None:
                        raise
                    return reply(answer[1], answer[0])
                finally:
                    _request.reset(token)

            return run

        return wrap

    def add(self, method: str, path: str, needed: Role, view: View) -> None:
        """Serve ``view`` at ``method path`` (a body is JSON) through `endpoint`: what the
        ``route`` and ``endpoint`` decorators do, for a view built rather than written."""
        self.route(path, methods=[method], content_types=["application/json"])(self.endpoint(needed)(view))

    def decisions(self, path: str, decide: Callable[[str, str, bool, str], Response]) -> None:
        """A controller's two decisions on what ``path`` names (``/approvals/{approval_id}``):
        ``POST <path>/approve`` with ``{"note": "..."}`` (optional: how it was checked) and ``POST
        <path>/reject`` with ``{"reason": "..."}`` (required). Each answers ``decide(who, <the
        path's id>, approve, note)``; the body is read before ``decide`` looks the id up."""
        for verdict, approve in (("approve", True), ("reject", False)):
            self.add("POST", f"{path}/{verdict}", Role.CONTROLLER, _decision(decide, approve, verdict))


def _decision(decide: Callable[[str, str, bool, str], Response], approve: bool, verdict: str) -> View:
    def view(who: str, **path: str) -> Response:
        (target,) = path.values()
        return decide(who, target, approve, decision_note(approve))

    view.__name__ = view.__qualname__ = f"{verdict}_{decide.__name__.strip('_')}"
    return view


def current_request() -> Request:
    """The request the route being run answers."""
    return _request.get()


def caller_role() -> Role | None:
    """The caller's highest role (already checked by `endpoint` for the route's minimum)."""
    return role_of(current_request().context)[1]


EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class Query:
    """The request's query parameters, validated one by one; `done` raises for every bad one."""

    def __init__(self, known: Iterable[str]) -> None:
        self.raw: dict[str, str] = dict(current_request().query_params or {})
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
        # Its shape is the listing's to check (`store.CursorError`, a 400).
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
        headers: dict[str, str | list[str]] = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{key}.csv"',
        }
        if next_cursor is not None:
            headers["X-Next-Cursor"] = cursor_text(next_cursor) or ""
        return Response(body=to_csv(rows), status_code=200, headers=headers)
    return reply({key: rows, "next_cursor": cursor_text(next_cursor)})


def json_value() -> Any:
    """The request's JSON, parsed the one strict way (`parse_json`: exact decimals, no duplicate
    keys, bounded size and depth); an empty body is an empty object."""
    raw = current_request().raw_body or b"{}"
    return parse_json(raw)


def json_body(*required: str) -> dict[str, Any]:
    """The JSON object body, with every ``required`` field a non-empty string (else a 400)."""
    body = json_value()
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


def plain(value: Any) -> Any:
    """``value`` with exact decimals as strings, to be stored as JSON as it was sent."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def replace_policy(
    parse: Callable[[Any], Any], save: Callable[[Any, int], tuple[int, dict[str, Any]]]
) -> Response:
    """A policy PUT: ``{"version": <the version read>, "policy": {...}}``; each bad field named
    under ``policy.``, a 409 if it changed since it was read; the saved version and policy."""
    body = json_body()
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
    return reply({"version": version, "policy": saved})


def invoice_reply(changed: Invoice) -> Response:
    """The changed invoice, as of today."""
    _, clock = wiring.context()
    return reply({"invoice": invoice_json(changed, clock.now().date())})


def with_history(key: str, item: Any, pk: str) -> Response:
    """``item`` (its ``to_json()``) under ``key``, with the audit events kept under ``pk``, oldest
    first."""
    history = [event_json(e) for e in store.audit_events(pk)]
    return reply({key: item.to_json(), "history": history})


def decision_note(approve: bool) -> str:
    """What the body of a maker-checker decision says: an approval's ``note`` (optional: how it
    was checked), a rejection's ``reason`` (required)."""
    return str(json_body().get("note") or "") if approve else json_body("reason")["reason"]
