"""Enrolment: the form an invitation links to, where a customer (or a prospect) gives their
billing details."""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.kernel.observability import logger
from receivables.web.portal.enrolment_page import post_form, show_form
from receivables.web.portal.service import Answer

from . import wiring
from .pages import Pages, answer, form_body, query

if TYPE_CHECKING:
    from chalice.app import Response

bp = Pages(__name__)


def _enrolment_answer(given: tuple[int, str]) -> Response:
    status, body = given
    return answer(Answer.html(status, body))


@bp.page_route("/enrol/{token}", methods=["GET"])
def enrolment_form(token: str) -> Response:
    """The enrolment form an invitation links to (``?lang=`` picks its language)."""
    deps = wiring.default_dependencies()
    base = deps.settings.public_base_url
    return _enrolment_answer(show_form(token, query(), deps.link_key(), deps.clock, base))


@bp.page_route("/enrol/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def enrolment_posted(token: str) -> Response:
    """The enrolment form, saved as a draft or submitted."""
    deps = wiring.default_dependencies()
    given = post_form(token, form_body(), deps.link_key(), deps.clock, deps.settings.public_base_url)
    if given[0] == 200:
        logger.info("enrolment form posted")
    return _enrolment_answer(given)
