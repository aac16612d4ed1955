"""Enrolments: invite customers or prospects to give their billing details, the list, one, remind,
approve, reject.
"""

from __future__ import annotations

from typing import Any

from receivables.customers.enrolment import STATES, decide, invite, invitees, remind
from receivables.customers.enrolment import get_enrolment as find_enrolment
from receivables.customers.enrolment import list_enrolments as find_enrolments
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.observability import logger
from receivables.storage import store

from . import wiring
from .api import Query, Resource, Response, json_body, reply, with_history

bp = Resource(__name__)


def _enrolment_reply(enrolment: Any, status: int = 200) -> Response:
    return reply({"enrolment": enrolment.to_json()}, status)


@bp.route("/enrolments", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def invite_to_enrol(who: str) -> Response:
    """Invite customers, or prospects, to give their billing details (collector): ``{"customers":
    ["cus_…" | {"customer_id", "email"}], "prospects": [{"company_name", "email"}], "language"}``.
    Each gets a signed link by email (valid 14 days); one already invited is reminded. Nothing is
    sent unless every invitee is valid."""
    body = json_body()
    language = body.get("language")
    wanted, errors = invitees(body)
    if language is not None and language not in ("en", "fr", "de"):
        errors.append(FieldError("language", "must be one of en, fr, de"))
    if errors:
        raise InvalidRequestError(errors)
    _, clock = wiring.context()
    done = []
    for customer, prospect, email in wanted:
        enrolment, outcome = invite(
            customer, prospect, language, f"finance:{who}", clock, wiring.invitation_sender(), email
        )
        done.append({"outcome": outcome, "enrolment": enrolment.to_json()})
    logger.info("enrolment invitations", extra={"count": len(done), "by": who})
    return reply({"invitations": done}, 201)


@bp.route("/enrolments", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_enrolments(who: str) -> Response:
    """Every enrolment and its state (``?state=invited|opened|submitted|approved|rejected``)."""
    query = Query(["state"])
    state = query.raw.get("state")
    if state is not None and state not in STATES:
        query.errors.append(FieldError("state", f"must be one of {', '.join(STATES)}"))
    query.done()
    found = find_enrolments(state)
    return reply({"enrolments": [e.to_json() for e in found], "count": len(found)})


def _enrolment_or_404(enrolment_id: str) -> Any:
    found = find_enrolment(enrolment_id)
    if found is None:
        raise NotFoundError(f"no enrolment {enrolment_id}")
    return found


@bp.route("/enrolments/{enrolment_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_enrolment(who: str, enrolment_id: str) -> Response:
    """One enrolment: its state, the details given, what waits for approval, and its history."""
    return with_history("enrolment", _enrolment_or_404(enrolment_id), store.enrolment_pk(enrolment_id))


@bp.route("/enrolments/{enrolment_id}/remind", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def remind_enrolment(who: str, enrolment_id: str) -> Response:
    """Send an open invitation again, with a fresh link (collector)."""
    done = remind(
        _enrolment_or_404(enrolment_id), f"finance:{who}", wiring.context()[1], wiring.invitation_sender()
    )
    return _enrolment_reply(done)


def _decide(who: str, enrolment_id: str, approve: bool, note: str) -> Response:
    """Apply the changes a submitted enrolment holds for approval (a new AP email address, a new
    bank account), or refuse them, and the customer record keeps what it had (controller: ``POST
    /enrolments/{id}/approve`` or ``/reject``)."""
    _enrolment_or_404(enrolment_id)
    decided = decide(enrolment_id, approve, note, f"finance:{who}", wiring.context()[1])
    return _enrolment_reply(decided)


bp.decisions("/enrolments/{enrolment_id}", _decide)
