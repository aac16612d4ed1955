"""The customer portal: the account link, asking for a link, the account, the statement, the
invoices with their downloads, references and documents, paying, automatic payment, the
language and signing out. Each route hands the request to `receivables.web.portal.service`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import wiring
from .pages import AUTOPAY_UNAVAILABLE, Pages, answer, cookies, current_request, form_body, query

if TYPE_CHECKING:
    from chalice.app import Response

bp = Pages(__name__)
FORM = ["application/x-www-form-urlencoded"]


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
    return answer(wiring.portal().home(cookies(), query()))


@bp.page_route("/portal/statement", methods=["GET"])
def portal_statement() -> Response:
    """The statement for a date range (``?from=&to=``), as a page or ``format=csv``."""
    return answer(wiring.portal().statement(cookies(), query()))


@bp.page_route("/portal/invoices/{invoice_id}/pdf", methods=["GET"])
def portal_invoice_pdf(invoice_id: str) -> Response:
    """One of the customer's invoices, as a PDF."""
    return answer(wiring.portal().invoice_document(cookies(), invoice_id))


@bp.page_route("/portal/invoices/{invoice_id}", methods=["GET"])
def portal_invoice(invoice_id: str) -> Response:
    """One of the customer's invoices: its lines, downloads, and the dispute and promise forms."""
    return answer(wiring.portal().invoice_page(cookies(), invoice_id))


@bp.page_route("/portal/invoices/{invoice_id}/po", methods=["POST"], content_types=FORM)
def portal_invoice_po(invoice_id: str) -> Response:
    """The PO number (or contract reference) a held invoice waits for."""
    return answer(wiring.portal().give_reference(cookies(), invoice_id, form_body()))


@bp.page_route("/portal/invoices/{invoice_id}/uploaded", methods=["GET"])
def portal_document_attached(invoice_id: str) -> Response:
    """Where S3 sends the browser after a document upload (``?key=`` names the object)."""
    return answer(wiring.portal().document_attached(cookies(), invoice_id, query().get("key", "")))


@bp.page_route("/portal/invoices/{invoice_id}/documents/{index}", methods=["GET"])
def portal_invoice_upload(invoice_id: str, index: str) -> Response:
    """A document kept with the invoice (a delivery note, a timesheet), as a download."""
    return answer(wiring.portal().invoice_upload(cookies(), invoice_id, index))


@bp.page_route("/portal/invoices/{invoice_id}/original", methods=["GET"])
def portal_invoice_original(invoice_id: str) -> Response:
    """The e-invoice exactly as it was received."""
    return answer(wiring.portal().invoice_original(cookies(), invoice_id))


@bp.page_route("/portal/invoices/{invoice_id}/attachments/{index}", methods=["GET"])
def portal_invoice_attachment(invoice_id: str, index: str) -> Response:
    """A file embedded in the e-invoice (a timesheet, a delivery note)."""
    return answer(wiring.portal().invoice_attachment(cookies(), invoice_id, index))


@bp.page_route("/portal/language", methods=["POST"], content_types=FORM)
def portal_language() -> Response:
    """The customer picks their language."""
    return answer(wiring.portal().change_language(cookies(), form_body()))


@bp.page_route("/portal/pay", methods=["POST"], content_types=FORM)
def portal_pay() -> Response:
    """Pay the ticked invoices in one Stripe Checkout Session."""
    return answer(wiring.portal().pay(cookies(), form_body()))


@bp.page_route("/portal/autopay", methods=["POST"], content_types=FORM, unavailable=AUTOPAY_UNAVAILABLE)
def portal_autopay() -> Response:
    """Set up automatic payment: consent, then Checkout in setup mode saves the method."""
    return answer(wiring.portal().autopay_start(cookies(), form_body()))


@bp.page_route("/portal/autopay/done", methods=["GET"], unavailable=AUTOPAY_UNAVAILABLE)
def portal_autopay_done() -> Response:
    """Where Checkout sends the customer back after saving a payment method."""
    return answer(wiring.portal().autopay_done(cookies(), query()))


@bp.page_route("/portal/autopay/off", methods=["POST"], content_types=FORM)
def portal_autopay_off() -> Response:
    """Turn automatic payment off."""
    return answer(wiring.portal().autopay_off(cookies(), form_body()))


@bp.page_route("/portal/logout", methods=["POST"], content_types=FORM)
def portal_logout() -> Response:
    """Sign out: the session cookie is cleared."""
    return answer(wiring.portal().sign_out(cookies(), form_body()))
