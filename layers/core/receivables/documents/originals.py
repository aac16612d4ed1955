"""An e-invoice as it was received, and the files embedded in it.

A UBL invoice is one document per file, so the file itself is the customer's (a CSV or JSON file
holds other customers' invoices too, and is never handed out). After ingest the file lives under
``processed/``; since a later upload may reuse the name, the file is parsed again and its
fingerprint compared with the invoice's before anything of it is shown.

Files travel inside a UBL invoice as ``cac:AdditionalDocumentReference`` with an embedded
``cbc:EmbeddedDocumentBinaryObject`` (base64, with ``mimeCode`` and ``filename``). The first PDF
is, by Peppol practice, the invoice's own image: it is what "download the invoice" gives. Parsing
goes through defusedxml, as ingest does.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.ingest.documents import fingerprint
from receivables.ingest.model import FileRejectedError, ParsedDocument
from receivables.ingest.ubl import parse_ubl

if TYPE_CHECKING:
    from receivables.ledger.model import CreditNote, Invoice

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
PROCESSED = "processed/"
INBOX = "inbox/"
# What an attachment is served as; anything else is a download of unknown type.
SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """One embedded file: its position among the embedded files, name, type and bytes."""

    index: int
    name: str
    mime: str
    description: str | None
    data: bytes


def original_location(invoice: Invoice | CreditNote) -> tuple[str, str] | None:
    """Where the invoice's (or credit note's) own file is kept after ingest (bucket, key), or
    None when the file was a CSV or JSON export of many documents."""
    source = invoice.source
    if source.format != "ubl" or source.location != "document" or not source.key.startswith(INBOX):
        return None
    return source.bucket, PROCESSED + source.key.removeprefix(INBOX)


def is_original(data: bytes, invoice: Invoice | CreditNote) -> bool:
    """Whether ``data`` still is the document the invoice (or credit note) was made from (same
    fingerprint)."""

    try:
        parsed = parse_ubl(data)
    except FileRejectedError:
        return False
    if not isinstance(parsed, ParsedDocument):
        return False
    return fingerprint(parsed) == invoice.fingerprint


def _safe_name(name: str, index: int, mime: str) -> str:
    cleaned = re.sub(r"[^\w.-]", "_", name)[:80].strip("._")
    if cleaned:
        return cleaned
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(mime, ".bin")
    return f"attachment-{index}{extension}"


def embedded(data: bytes) -> list[Attachment]:
    """The files embedded in a UBL document, in document order (external references, which
    are only addresses, are left out)."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    found: list[Attachment] = []
    for reference in root.findall(f"{CAC}AdditionalDocumentReference"):
        binary = reference.find(f"{CAC}Attachment/{CBC}EmbeddedDocumentBinaryObject")
        if binary is None or not (binary.text or "").strip():
            continue
        try:
            content = base64.b64decode("".join((binary.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        mime = (binary.get("mimeCode") or "application/octet-stream").strip().lower()
        description = reference.findtext(f"{CBC}DocumentDescription")
        name = binary.get("filename") or reference.findtext(f"{CBC}ID") or ""
        index = len(found) + 1
        found.append(Attachment(index, _safe_name(name, index, mime), mime, description, content))
    return found


def invoice_image(attachments: list[Attachment]) -> Attachment | None:
    """The invoice's own PDF among its embedded files (the first PDF), if it came with one."""
    return next((a for a in attachments if a.mime == "application/pdf" and a.data.startswith(b"%PDF")), None)
