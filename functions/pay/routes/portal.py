"""The customer portal: the account link, asking for a link, the account, the statement, the
invoices with their downloads, references and documents, paying, automatic payment, the
language and signing out. Each route hands the request to `receivables.web.portal.service`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.web.portal.service import Answer, Portal

from . import wiring
from .pages import (
    AUTOPAY_UNAVAILABLE,
    PAYMENT_UNAVAILABLE,
    Pages,
    answer,
    cookies,
    current_request,
    form_body,
    query,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalice.app import Response

bp = Pages(__name__)
FORM = ["application/x-www-form-urlencoded"]


def _signed_in(act: Callable[..., Answer], *given: Any) -> Response:
    """The portal's answer to the signed-in customer: ``act`` with the session cookie, then what
    the route read from the request."""
    return answer(act(wiring.portal(), cookies(), *given))


@bp.page_route("/portal/link/{token}", methods=["GET"])
def portal_link(token: str) -> Response:
    """The account link of an email: opens a session, then the customer's account."""
    return answer(wiring.portal().open_link(token))


@bp.page_route("/portal/start", methods=["GET"])
def portal_start() -> Response:
    """Ask for a fresh link to one's account (an expired link, a new contact)."""
    return answer(wiring.portal().start(query().get("lang")))


@bp.page_route("/portal/start", methods=["POST"], content_types=FORM)
def portal_request_link() -> Response:
    """The address asked for: a link is mailed if it is a known contact (same answer either way)."""
    client = str((current_request().context or {}).get("identity", {}).get("sourceIp") or "unknown")
    return answer(wiring.portal().request_link(form_body(), client))


@bp.page_route("/portal", methods=["GET"])
def portal_home() -> Response:
    """The customer's account: open invoices, credits, payments, disputes and promises."""
    return _signed_in(Portal.home, query())


@bp.page_route("/portal/statement", methods=["GET"])
def portal_statement() -> Response:
    """The statement for a date range (``?from=&to=``), as a page or ``format=csv``."""
    return _signed_in(Portal.statement, query())


@bp.page_route("/portal/invoices/{invoice_id}/pdf", methods=["GET"])
def portal_invoice_pdf(invoice_id: str) -> Response:
    """One of the customer's invoices, as a PDF."""
    return _signed_in(Portal.invoice_document, invoice_id)


@bp.page_route("/portal/invoices/{invoice_id}", methods=["GET"])
def portal_invoice(invoice_id: str) -> Response:
    """One of the customer's invoices: its lines, downloads, and the dispute and promise forms."""
    return _signed_in(Portal.invoice_page, invoice_id)


@bp.page_route("/portal/invoices/{invoice_id}/po", methods=["POST"], content_types=FORM)
def portal_invoice_po(invoice_id: str) -> Response:
    """The PO number (or contract reference) a held invoice waits for."""
    return _signed_in(Portal.give_reference, invoice_id, form_body())


@bp.page_route("/portal/invoices/{invoice_id}/uploaded", methods=["GET"])
def portal_document_attached(invoice_id: str) -> Response:
    """Where S3 sends the browser after a document upload (``?key=`` names the object)."""
    return _signed_in(Portal.document_attached, invoice_id, query().get("key", ""))


@bp.page_route("/portal/invoices/{invoice_id}/documents/{index}", methods=["GET"])
def portal_invoice_upload(invoice_id: str, index: str) -> Response:
    """A document kept with the invoice (a delivery note, a timesheet), as a download."""
    return _signed_in(Portal.invoice_upload, invoice_id, index)


@bp.page_route("/portal/invoices/{invoice_id}/original", methods=["GET"])
def portal_invoice_original(invoice_id: str) -> Response:
    """The e-invoice exactly as it was received."""
    return _signed_in(Portal.invoice_original, invoice_id)


@bp.page_route("/portal/invoices/{invoice_id}/attachments/{index}", methods=["GET"])
def portal_invoice_attachment(invoice_id: str, index: str) -> Response:
    """A file embedded in the e-invoice (a timesheet, a delivery note)."""
    return _signed_in(Portal.invoice_attachment, invoice_id, index)


@bp.page_route("/portal/autopay/done", methods=["GET"], unavailable=AUTOPAY_UNAVAILABLE)
def portal_autopay_done() -> Response:
    """Where Checkout sends the customer back after saving a payment method."""
    return _signed_in(Portal.autopay_done, query())


def _form(act: Callable[[Portal, str | None, bytes], Answer]) -> Callable[[], Response]:
    """The route of a form the signed-in customer posts: ``act`` with the session cookie and the
    form."""

    def view() -> Response:
        return _signed_in(act, form_body())

    view.__name__ = view.__qualname__ = f"portal_{act.__name__}"
    return view


# The forms the signed-in customer posts: the language picked, the ticked invoices paid in one
# Stripe Checkout Session, automatic payment set up (consent, then Checkout in setup mode saves
# the method) or turned off, signing out (the session cookie is cleared).
for path, act, unavailable in (
    ("/portal/language", Portal.change_language, PAYMENT_UNAVAILABLE),
    ("/portal/pay", Portal.pay, PAYMENT_UNAVAILABLE),
    ("/portal/autopay", Portal.autopay_start, AUTOPAY_UNAVAILABLE),
    ("/portal/autopay/off", Portal.autopay_off, PAYMENT_UNAVAILABLE),
    ("/portal/logout", Portal.sign_out, PAYMENT_UNAVAILABLE),
):
    bp.page_route(path, unavailable, methods=["POST"], content_types=FORM)(_form(act))
