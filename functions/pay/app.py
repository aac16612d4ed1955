"""Pay function: the customer's signed links: pay (GET /pay/{token}), promise to pay (GET|POST
/promise/{token}) and dispute (GET|POST /dispute/{token}, with documents uploaded to S3).

The link is checked first (a tampered or expired one gets a 4xx page and costs no Stripe call);
then a Stripe Checkout Session is created for the invoice's current balance and the customer is
sent there with a 303. A paid, disputed or voided invoice gets a page instead. Stripe is reached
only through the official SDK's `StripeClient`, pointed at STRIPE_API_BASE when that is set (the
local runtime's Stripe); the secret key and the link signing key come from Secrets Manager. The
promise link (in every overdue reminder) shows a form and records the customer's promise to pay.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables.adapters.stripe_api import StripeGateway, StripeUnavailableError
from receivables.kernel.clock import Clock, SystemClock, clock_from_env
from receivables.kernel.observability import logger
from receivables.kernel.settings import Settings
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings, Redirect, after_checkout, open_pay_link
from receivables.web.pages import Page
from receivables.web.security_headers import SECURITY_HEADERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.adapters.attachments import Attachments

app = Chalice(app_name="receivables-pay")
# The portal's downloads: PDFs, e-invoices as received and the files embedded in them.
app.api.binary_types.extend(
    ["application/pdf", "application/xml", "image/png", "image/jpeg", "application/octet-stream"]
)


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the pay link works with; tests build their own."""

    settings: PayLinkSettings
    link_key: Callable[[], bytes]
    create_session: Callable[[dict[str, Any], str], dict[str, Any]]
    clock: Clock
    gateway: StripeGateway | None = None  # the other Stripe calls (autopay)


def stripe_session_creator(
    api_key: Callable[[], str], api_base: str | None
) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """Create Checkout Sessions with the official client (built on first use)."""
    return StripeGateway(api_key, api_base).create_session


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    from receivables.customers.links import link_keys
    from receivables.web.security_headers import allow_checkout_at

    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    link_key_name = os.environ["LINK_SIGNING_KEY_NAME"]
    stripe_key_name = os.environ["STRIPE_API_KEY_NAME"]
    api_base = os.environ.get("STRIPE_API_BASE") or None
    gateway = StripeGateway(lambda: str(get_secret(stripe_key_name, max_age=300)), api_base)
    allow_checkout_at(api_base)
    return Dependencies(
        PayLinkSettings(os.environ["PUBLIC_BASE_URL"], os.environ.get("CONTACT_EMAIL") or "us"),
        lambda: link_keys(str(get_secret(link_key_name, max_age=300))),
        gateway.create_session,
        clock_from_env(os.environ),
        gateway,
    )


@app.middleware("http")
def html_is_never_unguarded(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Any HTML answer that a route built without them gets the security headers (the pages
    set their own, with their stylesheet and form targets)."""
    response = get_response(event)
    kind = str(response.headers.get("Content-Type", ""))
    if kind.startswith("text/html") and "Content-Security-Policy" not in response.headers:
        response.headers = {**SECURITY_HEADERS, **response.headers}
    return response


def _page(page: Page) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        # The token in the address is the customer's credential: never send it on as a Referer.
        **page.security_headers(),
        **page.headers,
    }
    return Response(body=page.render(), status_code=page.status, headers=headers)


def pay(token: str, deps: Dependencies) -> Response:
    """Answer a pay link: a redirect to Checkout, or a page."""
    try:
        answer = open_pay_link(token, deps.link_key(), deps.create_session, deps.clock, deps.settings)
    except StripeUnavailableError as exc:
        logger.error("checkout session not created", extra={"reason": str(exc)})
        return _page(Page(503, "Payment is unavailable right now", ("Please try again in a few minutes.",)))
    if isinstance(answer, Redirect):
        logger.info("checkout session", extra={"session_id": answer.session_id})
        headers: dict[str, str | list[str]] = {"Location": answer.location, "Cache-Control": "no-store"}
        return Response(body="", status_code=303, headers=headers)
    return _page(answer)


@app.route("/pay/{token}", methods=["GET"])
def pay_link(token: str) -> Response:
    """The pay link in the invoice email."""
    return pay(token, default_dependencies())


@app.route("/pay/{token}/done", methods=["GET"])
def pay_done(token: str) -> Response:
    """Where Checkout sends the customer after paying."""
    deps = default_dependencies()
    return _page(after_checkout(token, deps.link_key(), deps.clock, deps.settings, paid=True))


@app.route("/pay/{token}/cancelled", methods=["GET"])
def pay_cancelled(token: str) -> Response:
    """Where Checkout sends the customer who goes back without paying."""
    deps = default_dependencies()
    return _page(after_checkout(token, deps.link_key(), deps.clock, deps.settings, paid=False))


@app.route("/promise/{token}", methods=["GET"])
def promise_link(token: str) -> Response:
    """The promise-to-pay form of an overdue reminder."""
    from receivables.web.promise_link import promise_form

    deps = default_dependencies()
    return _page(promise_form(token, deps.link_key(), deps.clock, deps.settings))


@app.route("/promise/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def promise_submitted(token: str) -> Response:
    """The customer's promise, posted from that form."""
    from receivables.web.promise_link import submit_promise

    deps = default_dependencies()
    request = app.current_request
    assert request is not None
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    page = submit_promise(token, body, deps.link_key(), deps.clock, deps.settings)
    if page.status == 200:
        logger.info("promise to pay recorded")
    return _page(page)


@cache
def attachments() -> Attachments:
    """Customers' dispute documents and the documents held invoices lack, in the bucket the
    template names."""
    from receivables.adapters.attachments import s3_attachments

    settings = Settings.from_env(os.environ)
    return s3_attachments(os.environ["ATTACHMENTS_BUCKET"], settings.endpoint_url)


@app.route("/dispute/{token}", methods=["GET"])
def dispute_link(token: str) -> Response:
    """The dispute form of an invoice (or its open dispute, with its documents)."""
    from receivables.web.dispute_link import dispute_form

    deps = default_dependencies()
    return _page(dispute_form(token, deps.link_key(), deps.clock, deps.settings, attachments()))


@app.route("/dispute/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def dispute_submitted(token: str) -> Response:
    """The customer's dispute, posted from that form."""
    from receivables.web.dispute_link import submit_dispute

    deps = default_dependencies()
    request = app.current_request
    assert request is not None
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    page = submit_dispute(token, body, deps.link_key(), deps.clock, deps.settings, attachments())
    if page.status == 201:
        logger.info("dispute opened by the customer")
    return _page(page)


@app.route("/dispute/{token}/attached", methods=["GET"])
def dispute_attached(token: str) -> Response:
    """Where S3 sends the customer after uploading a document."""
    from receivables.web.dispute_link import attached

    deps = default_dependencies()
    request = app.current_request
    assert request is not None
    params: dict[str, str] = dict(request.query_params or {})
    key = params.get("key", "")
    return _page(attached(token, key, deps.link_key(), deps.clock, deps.settings, attachments()))


# --- the customer portal -------------------------------------------------------------------------
def portal() -> Any:
    """The portal over this function's key and clock (on HTTPS unless the base URL is http)."""
    from receivables.payments.methods import parse_bank_accounts
    from receivables.web.portal.service import Portal

    deps = default_dependencies()
    base = deps.settings.public_base_url
    return Portal(
        deps.link_key(),
        deps.clock,
        secure=base.startswith("https://"),
        base_url=base,
        create_session=deps.create_session,
        send_link=link_mailer(),
        seller_name=os.environ.get("SELLER_NAME") or os.environ.get("SENDER_EMAIL", ""),
        wall=SystemClock(),
        bank_accounts=parse_bank_accounts(os.environ.get("BANK_ACCOUNTS")),
        gateway=deps.gateway,
        read_object=invoice_objects(),
        files=attachments(),
    )


# A Lambda response carries at most 6 MB, and a download travels base64-encoded (4/3 larger): a
# bigger e-invoice is not offered as such (its PDF is rendered from the invoice's data).
LARGEST_DOWNLOAD = 4 * 1024 * 1024


@cache
def invoice_objects() -> Callable[[str, str], bytes | None]:
    """Reads the e-invoices kept in the invoice bucket and the documents kept with invoices (and
    nothing else), for the portal."""
    from receivables.adapters.s3 import processed_reader

    settings = Settings.from_env(os.environ)
    return processed_reader(
        os.environ["ATTACHMENTS_BUCKET"],
        settings.endpoint_url,
        LARGEST_DOWNLOAD,
        ("processed/", "documents/"),
    )


@cache
def link_mailer() -> Callable[[Any, str], str]:
    """Mails a fresh portal link to a known contact, through SES (built on first use)."""
    from receivables.adapters.ses import ses_sender
    from receivables.mail.mailer import MailSettings, send_account_link

    deps = default_dependencies()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, Settings.from_env(os.environ).endpoint_url)
    return lambda customer, address: send_account_link(
        customer, address, mail, deps.link_key(), send_raw, deps.clock
    )


def _answer(answer: Any) -> Response:
    # A PDF answer is bytes, a binary type: Chalice sends it base64-encoded to API Gateway.
    return Response(body=answer.body, status_code=answer.status, headers=dict(answer.headers))


def _cookies() -> str | None:
    request = app.current_request
    assert request is not None
    headers: Any = request.headers or {}
    cookie: str | None = headers.get("cookie")
    return cookie


def _form_body() -> bytes:
    request = app.current_request
    assert request is not None
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


@app.route("/portal/link/{token}", methods=["GET"])
def portal_link(token: str) -> Response:
    """The account link of an email: opens a session, then the customer's account."""
    return _answer(portal().open_link(token))


@app.route("/portal/start", methods=["GET"])
def portal_start() -> Response:
    """Ask for a fresh link to one's account (an expired link, a new contact)."""
    request = app.current_request
    assert request is not None
    return _answer(portal().start(dict(request.query_params or {}).get("lang")))


@app.route("/portal/start", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_request_link() -> Response:
    """The address asked for: a link is mailed if it is a known contact (same answer either way)."""
    request = app.current_request
    assert request is not None
    client = str((request.context or {}).get("identity", {}).get("sourceIp") or "unknown")
    return _answer(portal().request_link(_form_body(), client))


@app.route("/portal", methods=["GET"])
def portal_home() -> Response:
    """The customer's account: open invoices, credits, payments, disputes and promises."""
    request = app.current_request
    assert request is not None
    return _answer(portal().home(_cookies(), dict(request.query_params or {})))


@app.route("/portal/statement", methods=["GET"])
def portal_statement() -> Response:
    """The statement for a date range (``?from=&to=``), as a page or ``format=csv``."""
    request = app.current_request
    assert request is not None
    return _answer(portal().statement(_cookies(), dict(request.query_params or {})))


@app.route("/portal/invoices/{invoice_id}/pdf", methods=["GET"])
def portal_invoice_pdf(invoice_id: str) -> Response:
    """One of the customer's invoices, as a PDF."""
    return _answer(portal().invoice_document(_cookies(), invoice_id))


@app.route("/portal/invoices/{invoice_id}", methods=["GET"])
def portal_invoice(invoice_id: str) -> Response:
    """One of the customer's invoices: its lines, downloads, and the dispute and promise forms."""
    return _answer(portal().invoice_page(_cookies(), invoice_id))


@app.route(
    "/portal/invoices/{invoice_id}/po", methods=["POST"], content_types=["application/x-www-form-urlencoded"]
)
def portal_invoice_po(invoice_id: str) -> Response:
    """The PO number (or contract reference) a held invoice waits for."""
    return _answer(portal().give_reference(_cookies(), invoice_id, _form_body()))


@app.route("/portal/invoices/{invoice_id}/uploaded", methods=["GET"])
def portal_document_attached(invoice_id: str) -> Response:
    """Where S3 sends the browser after a document upload (``?key=`` names the object)."""
    request = app.current_request
    assert request is not None
    key = dict(request.query_params or {}).get("key", "")
    return _answer(portal().document_attached(_cookies(), invoice_id, key))


@app.route("/portal/invoices/{invoice_id}/documents/{index}", methods=["GET"])
def portal_invoice_upload(invoice_id: str, index: str) -> Response:
    """A document kept with the invoice (a delivery note, a timesheet), as a download."""
    return _answer(portal().invoice_upload(_cookies(), invoice_id, index))


@app.route("/portal/invoices/{invoice_id}/original", methods=["GET"])
def portal_invoice_original(invoice_id: str) -> Response:
    """The e-invoice exactly as it was received."""
    return _answer(portal().invoice_original(_cookies(), invoice_id))


@app.route("/portal/invoices/{invoice_id}/attachments/{index}", methods=["GET"])
def portal_invoice_attachment(invoice_id: str, index: str) -> Response:
    """A file embedded in the e-invoice (a timesheet, a delivery note)."""
    return _answer(portal().invoice_attachment(_cookies(), invoice_id, index))


@app.route("/portal/language", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_language() -> Response:
    """The customer picks their language."""
    return _answer(portal().change_language(_cookies(), _form_body()))


@app.route("/portal/pay", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_pay() -> Response:
    """Pay the ticked invoices in one Stripe Checkout Session."""
    try:
        return _answer(portal().pay(_cookies(), _form_body()))
    except StripeUnavailableError as exc:
        logger.error("checkout session not created", extra={"reason": str(exc)})
        return _page(Page(503, "Payment is unavailable right now", ("Please try again in a few minutes.",)))


@app.route("/portal/autopay", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_autopay() -> Response:
    """Set up automatic payment: consent, then Checkout in setup mode saves the method."""
    try:
        return _answer(portal().autopay_start(_cookies(), _form_body()))
    except StripeUnavailableError as exc:
        logger.error("setup session not created", extra={"reason": str(exc)})
        return _page(Page(503, "Automatic payment is unavailable right now", ("Please try again later.",)))


@app.route("/portal/autopay/done", methods=["GET"])
def portal_autopay_done() -> Response:
    """Where Checkout sends the customer back after saving a payment method."""
    request = app.current_request
    assert request is not None
    try:
        return _answer(portal().autopay_done(_cookies(), dict(request.query_params or {})))
    except StripeUnavailableError as exc:
        logger.error("setup session not read", extra={"reason": str(exc)})
        return _page(Page(503, "Automatic payment is unavailable right now", ("Please try again later.",)))


@app.route("/portal/autopay/off", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_autopay_off() -> Response:
    """Turn automatic payment off."""
    return _answer(portal().autopay_off(_cookies(), _form_body()))


@app.route("/portal/logout", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def portal_logout() -> Response:
    """Sign out: the session cookie is cleared."""
    return _answer(portal().sign_out(_cookies(), _form_body()))


# --- enrolment ---------------------------------------------------------------------------------
def _enrolment_answer(answer: tuple[int, str]) -> Response:
    from receivables.web.portal.service import Answer

    status, body = answer
    return _answer(Answer.html(status, body))


@app.route("/enrol/{token}", methods=["GET"])
def enrolment_form(token: str) -> Response:
    """The enrolment form an invitation links to (``?lang=`` picks its language)."""
    from receivables.web.portal.enrolment_page import show_form

    deps = default_dependencies()
    request = app.current_request
    assert request is not None
    query = dict(request.query_params or {})
    return _enrolment_answer(
        show_form(token, query, deps.link_key(), deps.clock, deps.settings.public_base_url)
    )


@app.route("/enrol/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def enrolment_posted(token: str) -> Response:
    """The enrolment form, saved as a draft or submitted."""
    from receivables.web.portal.enrolment_page import post_form

    deps = default_dependencies()
    answer = post_form(token, _form_body(), deps.link_key(), deps.clock, deps.settings.public_base_url)
    if answer[0] == 200:
        logger.info("enrolment form posted")
    return _enrolment_answer(answer)
