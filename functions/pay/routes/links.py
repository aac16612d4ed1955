"""The customer's signed links: pay (to Stripe Checkout, and back), promise to pay, dispute (with
documents uploaded to S3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Response

from receivables.kernel.observability import logger
from receivables.web.checkout import PayLinkSettings, Redirect, after_checkout, open_pay_link
from receivables.web.dispute_link import attached, dispute_form, submit_dispute
from receivables.web.promise_link import promise_form, submit_promise

from . import wiring
from .pages import Pages, form_body, page, query

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.web.pages import Page

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


def _checks() -> tuple[bytes, Clock, PayLinkSettings]:
    """What a signed link is checked and answered with: the signing key, the clock, the settings."""
    deps = wiring.default_dependencies()
    return deps.link_key(), deps.clock, deps.settings


def _taken(shown: Page, status: int, message: str) -> Response:
    """The page a posted form got; ``message`` is logged when its status says it was taken."""
    if shown.status == status:
        logger.info(message)
    return page(shown)


@bp.page_route("/pay/{token}/done", methods=["GET"])
def pay_done(token: str) -> Response:
    """Where Checkout sends the customer after paying."""
    return page(after_checkout(token, *_checks(), paid=True))


@bp.page_route("/pay/{token}/cancelled", methods=["GET"])
def pay_cancelled(token: str) -> Response:
    """Where Checkout sends the customer who goes back without paying."""
    return page(after_checkout(token, *_checks(), paid=False))


@bp.page_route("/promise/{token}", methods=["GET"])
def promise_link(token: str) -> Response:
    """The promise-to-pay form of an overdue reminder."""
    return page(promise_form(token, *_checks()))


@bp.page_route("/promise/{token}", methods=["POST"], content_types=FORM)
def promise_submitted(token: str) -> Response:
    """The customer's promise, posted from that form."""
    return _taken(submit_promise(token, form_body(), *_checks()), 200, "promise to pay recorded")


@bp.page_route("/dispute/{token}", methods=["GET"])
def dispute_link(token: str) -> Response:
    """The dispute form of an invoice (or its open dispute, with its documents)."""
    return page(dispute_form(token, *_checks(), wiring.attachments()))


@bp.page_route("/dispute/{token}", methods=["POST"], content_types=FORM)
def dispute_submitted(token: str) -> Response:
    """The customer's dispute, posted from that form."""
    shown = submit_dispute(token, form_body(), *_checks(), wiring.attachments())
    return _taken(shown, 201, "dispute opened by the customer")


@bp.page_route("/dispute/{token}/attached", methods=["GET"])
def dispute_attached(token: str) -> Response:
    """Where S3 sends the customer after uploading a document."""
    return page(attached(token, query().get("key", ""), *_checks(), wiring.attachments()))
