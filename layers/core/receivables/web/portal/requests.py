"""What a held invoice asks of the customer on the portal, and what they give.

An invoice whose customer's AP requires something it lacks (`receivables.customers.requirements`) shows,
on its page, a field for each missing reference (PO number, contract reference) and an upload
form for each missing document (delivery note, timesheet). A document goes straight to S3 with a
presigned POST for exactly one key (``documents/<invoice>/<kind>/<random>``, at most
`MAX_ATTACHMENT_BYTES`), and S3 sends the browser back to ``…/uploaded``. There the
object is checked before it is kept: its size, and its first bytes (a PDF, PNG or JPEG, whatever
the browser claimed). Anything else is deleted and the customer is told why. A kept document is
served back only as a download, with the type its bytes showed, never rendered in our origin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.adapters.attachments import MAX_ATTACHMENT_BYTES, SIGNATURES
from receivables.customers.requirements import DOCUMENTS, RequirementError, attach_document
from receivables.kernel.clock import iso_timestamp
from receivables.ledger.model import InvoiceDocument

if TYPE_CHECKING:
    from receivables.adapters.attachments import Attachments
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Invoice

KEY_PREFIX = "documents/"


@dataclass(frozen=True, slots=True)
class UploadForm:
    """One presigned upload of a missing document, for the invoice page."""

    kind: str
    url: str
    fields: dict[str, str]


def sniffed_type(head: bytes) -> str | None:
    """The type the first bytes of a file show (PDF, PNG or JPEG), or None."""
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def upload_forms(invoice: Invoice, files: Attachments | None, base_url: str) -> list[UploadForm]:
    """A presigned upload for each document the held invoice lacks."""

    if files is None:
        return []
    forms = []
    for kind in (k for k in invoice.dunning.awaiting if k in DOCUMENTS):
        key = f"{KEY_PREFIX}{invoice.invoice_id}/{kind}/{secrets.token_hex(8)}"
        redirect = f"{base_url.rstrip('/')}/portal/invoices/{invoice.invoice_id}/uploaded"
        url, fields = files.presign(key, redirect)
        forms.append(UploadForm(kind, url, fields))
    return forms


def refusal(peeked: tuple[int, bytes] | None) -> str:
    """Why an uploaded object is not kept (the message key), or "" to keep it."""
    if peeked is None:
        return "upload_missing"
    size, head = peeked
    if size > MAX_ATTACHMENT_BYTES:
        return "upload_too_large"
    if size == 0 or sniffed_type(head) is None:
        return "upload_wrong_type"
    return ""


def kind_of_key(invoice: Invoice, key: str) -> str | None:
    """The document kind an upload key of ``invoice`` names, if it is one of its keys."""

    parts = key.split("/")
    if len(parts) != 4 or ".." in key or f"{parts[0]}/" != KEY_PREFIX or parts[1] != invoice.invoice_id:
        return None
    kind, name = parts[2], parts[3]
    if kind not in DOCUMENTS or len(name) != 16 or not all(c in "0123456789abcdef" for c in name):
        return None
    return kind


def keep_upload(
    invoice: Invoice, key: str, files: Attachments, actor: str, clock: Clock
) -> tuple[str, Invoice | None]:
    """Check the object S3 took at ``key`` and keep it with the invoice: ("", the invoice) or
    (the refusal's message key, None). A refused object is deleted."""

    kind = kind_of_key(invoice, key)
    if kind is None:
        return "upload_not_ours", None
    peeked = files.peek(key)
    problem = refusal(peeked)
    if problem:
        if peeked is not None:
            files.delete(key)
        return problem, None
    assert peeked is not None
    document = InvoiceDocument(
        kind, key, peeked[0], sniffed_type(peeked[1]) or "", iso_timestamp(clock.now()), actor
    )
    try:
        return "", attach_document(invoice.invoice_id, document, clock)
    except RequirementError:
        files.delete(key)
        return "upload_too_many", None
