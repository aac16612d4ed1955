"""The customer's signed links: pay (to Stripe Checkout, and back), promise to pay, dispute (with
documents uploaded to S3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Response

from receivables.kernel.observability import logger
from receivables.web.checkout import Redirect, after_checkout, open_pay_link
from receivables.web.dispute_link import attached, dispute_form, submit_dispute
from receivables.web.promise_link import promise_form, submit_promise

from . import wiring
from .pages import Pages, form_body, page, query

if TYPE_CHECKING:
    from .wiring import Dependencies

bp = Pages(__name__)
FORM = ["application/x-www-form-urlencoded"]


def pay(token: str, deps: Dependencies) -> Response:
    """Answer a pay link: a redirect to Checkout, or a page."""
    answer = open_pay_link(token, deps.link_key(), deps.create_session, deps.clock, deps.settings)
    if isinstance(answer, Redirect):
        logger.info("checkout session", extra={"session_id": answer.session_id})
        headers: dict[str, str | list[str]] = {"Location": answer.location, "Cache-Control": "no-store"}
        return Response(body="", status_code=303, headers=headers)
    return page(answer)


@bp.page_route("/pay/{token}", methods=["GET"])
def pay_link(token: str) -> Response:
    """The pay link in the invoice email."""
    return pay(token, wiring.default_dependencies())


@bp.page_route("/pay/{token}/done", methods=["GET"])
def pay_done(token: str) -> Response:
    """Where Checkout sends the customer after paying."""
    deps = wiring.default_dependencies()
    return page(after_checkout(token, deps.link_key(), deps.clock, deps.settings, paid=True))


@bp.page_route("/pay/{token}/cancelled", methods=["GET"])
def pay_cancelled(token: str) -> Response:
    """Where Checkout sends the customer who goes back without paying."""
    deps = wiring.default_dependencies()
    return page(after_checkout(token, deps.link_key(), deps.clock, deps.settings, paid=False))


@bp.page_route("/promise/{token}", methods=["GET"])
def promise_link(token: str) -> Response:
    """The promise-to-pay form of an overdue reminder."""
    deps = wiring.default_dependencies()
    return page(promise_form(token, deps.link_key(), deps.clock, deps.settings))


@bp.page_route("/promise/{token}", methods=["POST"], content_types=FORM)
def promise_submitted(token: str) -> Response:
    """The customer's promise, posted from that form."""
    deps = wiring.default_dependencies()
    shown = submit_promise(token, form_body(), deps.link_key(), deps.clock, deps.settings)
    if shown.status == 200:
        logger.info("promise to pay recorded")
    return page(shown)


@bp.page_route("/dispute/{token}", methods=["GET"])
def dispute_link(token: str) -> Response:
    """The dispute form of an invoice (or its open dispute, with its documents)."""
    deps = wiring.default_dependencies()
    return page(dispute_form(token, deps.link_key(), deps.clock, deps.settings, wiring.attachments()))


@bp.page_route("/dispute/{token}", methods=["POST"], content_types=FORM)
def dispute_submitted(token: str) -> Response:
    """The customer's dispute, posted from that form."""
    deps = wiring.default_dependencies()
    body = form_body()
    shown = submit_dispute(token, body, deps.link_key(), deps.clock, deps.settings, wiring.attachments())
    if shown.status == 201:
        logger.info("dispute opened by the customer")
    return page(shown)


@bp.page_route("/dispute/{token}/attached", methods=["GET"])
def dispute_attached(token: str) -> Response:
    """Where S3 sends the customer after uploading a document."""
    deps = wiring.default_dependencies()
    key = query().get("key", "")
    return page(attached(token, key, deps.link_key(), deps.clock, deps.settings, wiring.attachments()))
