"""Invoices: the list with its filters, one with its history, void, write-off, note, collector; the
documentation requests, references and documents a customer's AP requires.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from receivables.collections import finance
from receivables.collections.listings import INVOICE_STATUSES, InvoiceFilters
from receivables.collections.listings import list_invoices as find_invoices
from receivables.customers.requirements import DOCUMENTS, REFERENCES, open_requests, provide_reference
from receivables.kernel.access import Role
from receivables.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from receivables.storage import store
from receivables.web.portal.requests import KEY_PREFIX, keep_upload

from . import wiring
from .api import Resource, Response, View, invoice_reply, json_body, listing, params, reply

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Invoice

bp = Resource(__name__)


@bp.route("/invoices", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def list_invoices(who: str) -> Response:
    """Invoices, filtered: ``status``, ``customer``, ``overdue=true``, ``due_from``/``due_to``,
    ``issued_from``/``issued_to`` (default: the last 12 months), ``currency``, ``number`` (under
    every seller invoices were issued by, or the one ``seller`` names);
    ``limit`` (1-200) and ``cursor`` page; ``format=csv`` exports. Each filter picks an index:
    a customer's (gsi1), the open invoices by due date (gsi2) or the issue months (gsi3)."""
    query = params(
        "status",
        "customer",
        "overdue",
        "due_from",
        "due_to",
        "issued_from",
        "issued_to",
        "currency",
        "number",
        "seller",
    )
    settings, clock = wiring.context()
    today = clock.now().date()
    # Each parameter in turn: a 400 names the bad ones in this order.
    status = query.choice("status", INVOICE_STATUSES)
    customer = query.text("customer")
    overdue = query.flag("overdue")
    due_from, due_to = query.day("due_from"), query.day("due_to")
    issued_to = query.day("issued_to") or today
    issued_from = query.day("issued_from") or (issued_to - timedelta(days=365))
    filters = InvoiceFilters(
        issued_from,
        issued_to,
        status,
        customer,
        overdue,
        due_from,
        due_to,
        query.currency(),
        query.text("number"),
        query.text("seller"),
    )
    limit = query.integer("limit", 50, 1, 200)
    position = query.cursor()
    query.done()
    if customer is not None:  # our id, or the ERP reference, VAT id or email finance knows it by
        filters = replace(filters, customer=finance.customer_named(customer))
    rows, next_position = find_invoices(filters, limit, position, today, settings.default_seller_id)
    return listing("invoices", rows, next_position, query)


@bp.route("/invoices/{invoice_id}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def get_invoice(who: str, invoice_id: str) -> Response:
    """One invoice with its full history (audit events, oldest first) and its disputes."""
    _, clock = wiring.context()
    invoice = finance.invoice_or_404(invoice_id)
    return reply(
        {
            "invoice": finance.invoice_json(invoice, clock.now().date()),
            "history": [finance.event_json(e) for e in store.invoice_events(invoice_id)],
            "disputes": store.invoice_dispute_ids(invoice_id),
        }
    )


def _changing(change: Callable[[str, str, str, Clock], Invoice], field: str) -> View:
    """The route of an invoice change that takes one text ``field`` of the body (required): the
    changed invoice, as of today."""

    def view(who: str, invoice_id: str) -> Response:
        value = json_body(field)[field]
        return invoice_reply(change(invoice_id, value, f"finance:{who}", wiring.context()[1]))

    view.__name__ = view.__qualname__ = change.__name__
    return view


# The changes to an invoice that take one text field: cancel one issued in error (controller,
# ``{"reason"}``; 409 once money is on it), write off what is left (controller, ``{"reason"}``),
# put a note on its history (collector, ``{"text"}``), assign the person who works it
# (collector, ``{"collector"}``).
for method, action, needed, field, change in (
    ("POST", "void", Role.CONTROLLER, "reason", finance.void_invoice),
    ("POST", "write-off", Role.CONTROLLER, "reason", finance.write_off_invoice),
    ("POST", "notes", Role.COLLECTOR, "text", finance.add_note),
    ("PUT", "collector", Role.COLLECTOR, "collector", finance.assign_collector),
):
    bp.add(method, f"/invoices/{{invoice_id}}/{action}", needed, _changing(change, field))


@bp.route("/document-requests", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def document_requests(who: str) -> Response:
    """The open documentation requests: invoices held until their customer's AP has what it
    requires (oldest first), with what each lacks, since when, and the reminders sent."""
    rows = [
        {
            "invoice_id": r.invoice.invoice_id,
            "number": r.invoice.number,
            "customer_id": r.invoice.customer_id,
            "missing": list(r.missing),
            "since": r.since,
            "last_requested_at": r.requested_at,
            "reminders": r.reminders,
            "balance": r.invoice.balance.to_decimal_string(),
            "currency": r.invoice.currency,
        }
        for r in open_requests()
    ]
    return reply({"requests": rows, "count": len(rows)})


@bp.route("/invoices/{invoice_id}/references", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def give_invoice_references(who: str, invoice_id: str) -> Response:
    """The PO number and/or contract reference the customer's AP needs on the invoice
    (collector): ``{"po_number": "...", "contract_reference": "..."}``; a held invoice is
    released (and mailed) once it lacks nothing more."""
    body = json_body()
    given = {k: v for k, v in body.items() if k in REFERENCES}
    errors = [
        FieldError(k, "is not a reference an invoice carries") for k in sorted(set(body) - set(REFERENCES))
    ]
    errors += [FieldError(k, "must be a string") for k, v in given.items() if not isinstance(v, str)]
    if errors or not given:
        raise InvalidRequestError(errors or [FieldError("body", "names no reference")])
    invoice = finance.invoice_or_404(invoice_id)
    for what, value in given.items():
        invoice = provide_reference(invoice_id, what, value, f"finance:{who}", wiring.context()[1])
    return invoice_reply(invoice)


@bp.route("/invoices/{invoice_id}/documents", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def upload_invoice_document(who: str, invoice_id: str) -> Response:
    """Start an upload of a document the customer's AP requires with the invoice (collector):
    ``{"kind": "delivery_note" | "timesheet"}``. The answer is a presigned POST (``url`` and
    ``fields``; the file goes last, as ``file``, PDF, PNG or JPEG up to 10 MB) and the ``key``
    to confirm with ``POST /invoices/{id}/documents/confirm`` once S3 has it."""
    kind = json_body("kind")["kind"]
    if kind not in DOCUMENTS:
        raise InvalidRequestError([FieldError("kind", f"must be one of {', '.join(DOCUMENTS)}")])
    invoice = finance.invoice_or_404(invoice_id)
    key = f"{KEY_PREFIX}{invoice.invoice_id}/{kind}/{secrets.token_hex(8)}"
    confirm = f"/invoices/{invoice_id}/documents/confirm"
    url, fields = wiring.invoice_files().presign(key, "")  # no redirect: S3 answers 204 to a program
    return reply({"upload": {"url": url, "fields": fields, "key": key}, "confirm": confirm}, 201)


@bp.route("/invoices/{invoice_id}/documents/confirm", methods=["POST"], content_types=["application/json"])
@bp.endpoint(Role.COLLECTOR)
def confirm_invoice_document(who: str, invoice_id: str) -> Response:
    """Keep an uploaded document with the invoice (collector): ``{"key": "..."}`` from the
    upload. Its first bytes must show a PDF, PNG or JPEG and it must be at most 10 MB; anything
    else is deleted and refused with the reason (400)."""
    key = json_body("key")["key"]
    invoice = finance.invoice_or_404(invoice_id)
    problem, kept = keep_upload(invoice, key, wiring.invoice_files(), f"finance:{who}", wiring.context()[1])
    if problem or kept is None:
        raise InvalidRequestError([FieldError("key", DOCUMENT_REFUSALS.get(problem, problem))])
    return invoice_reply(kept)


DOCUMENT_REFUSALS = {
    "upload_missing": "no object was uploaded at this key",
    "upload_too_large": "the document is larger than 10 MB",
    "upload_wrong_type": "only PDF, PNG and JPEG documents are taken (by their content)",
    "upload_not_ours": "this key is not an upload of this invoice",
    "upload_too_many": "the invoice keeps no more documents",
}


@bp.route("/invoices/{invoice_id}/documents/{index}", methods=["GET"])
@bp.endpoint(Role.VIEWER)
def invoice_document(who: str, invoice_id: str, index: str) -> Response:
    """A document kept with the invoice (1-based ``index``): a download link valid five minutes,
    which makes the browser save it as the type its bytes showed."""
    invoice = finance.invoice_or_404(invoice_id)
    n = int(index) if index.isascii() and index.isdigit() else 0
    if not 0 < n <= len(invoice.documents):
        raise NotFoundError(f"invoice {invoice_id} has no document {index}")
    document = invoice.documents[n - 1]
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[document.content_type]
    link = wiring.invoice_files().link
    assert link is not None
    url = link(document.key, document.content_type, f"{document.kind}-{n}.{extension}")
    return reply(
        {
            "kind": document.kind,
            "content_type": document.content_type,
            "size": document.size,
            "added_at": document.added_at,
            "added_by": document.added_by,
            "url": url,
        }
    )
