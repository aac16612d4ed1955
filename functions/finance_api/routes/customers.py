"""Customers: the list, one, the statement, the risk score, credit hold, links, contacts, terms and
purchase orders.
"""

from __future__ import annotations

from receivables.collections import finance
from receivables.credit import risk
from receivables.customers.approvals import change_contact, change_purchase_order, change_terms
from receivables.customers.contact_changes import contact_change_errors
from receivables.disputes.evidence import purchase_order_document, terms_document
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.observability import logger
from receivables.reporting.aggregates import links_sent
from receivables.storage import store
from receivables.web.portal.service import link_recipient

from . import wiring
from .api import Resource, Response, caller_role, json_body, listing, params, plain, reply

bp = Resource(__name__)


@bp.route("/customers", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_customers(who: str) -> Response:
    """Customers by name; ``limit``, ``cursor``, ``format=csv``."""
    query = params()
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()
    customers, next_position = store.customers_by_name(limit, position)
    return listing("customers", [finance.customer_json(c) for c in customers], next_position, query)


@bp.route("/customers/{customer_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_customer(who: str, customer_id: str) -> Response:
    """One customer, with the links they were sent (one per email) and when one last opened the
    portal."""
    body = finance.customer_json(finance.customer_or_404(customer_id))
    return reply({"customer": {**body, "links_sent": links_sent(customer_id)}})


@bp.route("/customers/{customer_id}/statement", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def customer_statement(who: str, customer_id: str) -> Response:
    """The customer's statement in one currency (``?currency=``, required): invoices, payments,
    credits and write-offs in date order with the running balance; ``format=csv`` exports."""
    query = params("currency")
    currency = query.currency()
    if currency is None and "currency" not in query.raw:
        query.errors.append(FieldError("currency", "is required"))
    query.done()
    assert currency is not None
    _, clock = wiring.context()
    body = finance.statement(customer_id, currency, clock.now().date())
    if query.raw.get("format") == "csv":
        return listing("statement", body["lines"], None, query)
    return reply(body)


@bp.route("/customers/{customer_id}/risk", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def customer_risk_score(who: str, customer_id: str) -> Response:
    """The customer's risk score now, each factor with its value, its points and why, the
    dunning variant its class sets; and the daily points of its history, for a trend line."""
    customer = finance.customer_or_404(customer_id)
    today = wiring.context()[1].now().date()
    return reply(
        {
            "customer_id": customer_id,
            "risk": risk.current(customer, today).to_json(),
            "history": risk.history(customer_id, today),
        }
    )


@bp.route("/customers/{customer_id}/credit-hold", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.CONTROLLER)
def customer_credit_hold(who: str, customer_id: str) -> Response:
    """Put the customer on credit hold or lift it (controller): ``{"on": true, "reason": "..."}``."""
    body = json_body("reason")
    if not isinstance(body.get("on"), bool):
        raise InvalidRequestError([FieldError("on", "is required: true or false")])
    _, clock = wiring.context()
    changed = finance.set_credit_hold(customer_id, body["on"], body["reason"], f"finance:{who}", clock)
    return reply({"customer": finance.customer_json(changed)})


@bp.route("/customers/{customer_id}/links/revoke", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def revoke_customer_links(who: str, customer_id: str) -> Response:
    """Revoke every link sent to the customer, and the portal sessions they opened (collector):
    ``{"reason": "..."}``. Links sent from now on work."""
    reason = json_body("reason")["reason"]
    changed = finance.revoke_links(customer_id, reason, f"finance:{who}", wiring.context()[1])
    logger.info("links revoked", extra={"customer_id": customer_id, "by": who})
    return reply({"customer": finance.customer_json(changed)})


@bp.route("/customers/{customer_id}/links", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def resend_customer_link(who: str, customer_id: str) -> Response:
    """Mail the customer a fresh link to their account on the portal (collector): to their email
    on file, or ``{"email": "..."}``, one of their known contacts."""
    customer = finance.customer_or_404(customer_id)
    given = json_body().get("email")
    if given is not None and not isinstance(given, str):
        raise InvalidRequestError([FieldError("email", "is not a known contact of this customer")])
    address = link_recipient(customer, given)
    message_id = wiring.link_sender()(customer, address)
    logger.info("portal link sent", extra={"customer_id": customer_id, "by": who})
    return reply(
        {"customer": finance.customer_json(customer), "sent_to": address, "message_id": message_id}, 202
    )


@bp.route("/customers/{customer_id}/contacts/remove", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def remove_customer_contact(who: str, customer_id: str) -> Response:
    """``{"email": "..."}`` is no longer a contact of the customer (collector): it cannot ask the
    portal for a link any more. The email on file can only be replaced (409)."""
    address = json_body("email")["email"]
    changed = finance.remove_contact(customer_id, address, f"finance:{who}", wiring.context()[1])
    return reply({"customer": finance.customer_json(changed)})


@bp.route("/customers/{customer_id}/contact", methods=["PATCH"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
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
    body = plain(json_body())
    errors = contact_change_errors(body)
    if errors:
        raise InvalidRequestError(errors)
    _, clock = wiring.context()
    customer = finance.customer_or_404(customer_id)
    changed, proposal = change_contact(customer, body, caller_role(), who, f"finance:{who}", clock)
    if proposal is not None:
        return reply({"approval": proposal.to_json(), "customer": finance.customer_json(customer)}, 202)
    return reply({"customer": finance.customer_json(changed)})


@bp.route("/customers/{customer_id}/terms", methods=["PUT"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def file_customer_terms(who: str, customer_id: str) -> Response:
    """File the customer's terms: ``{"requires_po": true, "price_list": {"Pallet wrap":
    "12.00"}}``; the dispute analysis and the deduction checks use them. A price list decides
    which short payments are credited, so under the approval policy a collector's terms are a
    proposal (202) a controller approves."""
    _, clock = wiring.context()
    finance.customer_or_404(customer_id)
    terms = terms_document(plain(json_body()))
    saved, proposal = change_terms(customer_id, terms, caller_role(), who, f"finance:{who}", clock)
    if proposal is not None:
        return reply({"customer_id": customer_id, "approval": proposal.to_json()}, 202)
    return reply({"customer_id": customer_id, "terms": saved})


@bp.route(
    "/customers/{customer_id}/purchase-orders/{number}", methods=["PUT"], content_types=["application/json"]
)
@bp.endpoint(Role.COLLECTOR)
def file_purchase_order(who: str, customer_id: str, number: str) -> Response:
    """File one of the customer's purchase orders: ``{"currency": "EUR", "lines":
    [{"description": "Pallet wrap", "quantity": "10", "unit_price": "12.00"}]}``. Its prices
    decide pricing deductions, so under the approval policy a collector's PO is a proposal
    (202) a controller approves."""
    _, clock = wiring.context()
    finance.customer_or_404(customer_id)
    order = purchase_order_document(number, plain(json_body()))
    saved, proposal = change_purchase_order(
        customer_id, number, order, caller_role(), who, f"finance:{who}", clock
    )
    if proposal is not None:
        return reply({"customer_id": customer_id, "number": number, "approval": proposal.to_json()}, 202)
    return reply({"customer_id": customer_id, "number": number, "purchase_order": saved})
