"""What the invoice email carries, as each customer's accounts-payable desk needs it.

``Customer.invoice_delivery`` says how they want invoices:
- ``email_pdf`` (the default): the email with the invoice's PDF attached: the PDF their
  e-invoice came with when it did (as received), else one rendered from the invoice's data (with
  the transfer instructions and the invoice's RF reference where we have an account in its
  currency);
- ``email_einvoice``: the PDF and the invoice as a Peppol BIS Billing 3.0 UBL file, for AP
  systems that read e-invoices from a mailbox: the e-invoice as received when it came as one,
  else one built from the invoice (`receivables.mail.einvoice`) when the seller's Peppol identity is
  configured;
- ``portal_only``: the email without attachments; the invoice is on the portal;
- ``paper``: the invoice's PDF (our rendering carries the postal address) and the documents
  their AP requires, queued for print and post under ``print/queue/<day>/<invoice id>/`` with a
  manifest of the address (`receivables.mail.mailer.queue_for_print`). A customer with a postal
  address and no email gets paper without choosing it.

Whatever the channel, the documents their AP requires with each invoice (a delivery note, a
timesheet: `receivables.customers.requirements`) are attached as they were uploaded, except for
``portal_only``.

Each attachment is named in the ``InvoiceEmailed`` audit event with the channel, so finance can
see what the customer was sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.documents.originals import embedded, invoice_image, is_original, original_location
from receivables.documents.pdf import invoice_pdf
from receivables.documents.transfer import transfer_for
from receivables.documents.words import language_of
from receivables.mail.einvoice import Seller, build_invoice

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from receivables.ledger.model import Customer, Invoice

DELIVERIES = ("email_pdf", "email_einvoice", "portal_only", "paper")
DEFAULT_DELIVERY = "email_pdf"


def delivery_of(customer: Customer) -> str:
    """How the customer gets invoices: what they chose, else on paper when we have their postal
    address but no email, else by email with the PDF."""
    if customer.invoice_delivery:
        return customer.invoice_delivery
    return "paper" if customer.postal_address and not customer.email else DEFAULT_DELIVERY


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file of the email."""

    name: str
    mime: str
    data: bytes
    origin: str  # "received" (the document as it came) or "rendered" / "built" from the data


def seller_from_env(env: Mapping[str, str]) -> Seller | None:
    """The seller's Peppol identity (``SELLER_COUNTRY``, ``SELLER_ENDPOINT`` as ``scheme:id``,
    optionally ``SELLER_VAT_ID``), or None when it is not configured."""

    country = (env.get("SELLER_COUNTRY") or "").strip().upper()
    endpoint = (env.get("SELLER_ENDPOINT") or "").strip()
    scheme, _, endpoint_id = endpoint.partition(":")
    if len(country) != 2 or not scheme or not endpoint_id:
        return None
    name = env.get("SELLER_NAME") or env.get("SENDER_EMAIL") or "Seller"
    return Seller(name, country, scheme, endpoint_id, vat_id=(env.get("SELLER_VAT_ID") or "").strip() or None)


def _file_name(number: str, extension: str) -> str:
    safe = re.sub(r"[^\w.-]", "_", number)[:80]
    return f"invoice-{safe}.{extension}"


def attachments(
    invoice: Invoice,
    customer: Customer,
    seller_name: str,
    seller: Seller | None,
    read_object: Callable[[str, str], bytes | None] | None,
    bank_accounts: Mapping[str, str] | None = None,
) -> list[Attachment]:
    """The files the invoice email carries for ``customer`` (see the module docstring);
    ``bank_accounts`` (currency -> our account) puts the transfer instructions on a rendered PDF."""

    delivery = delivery_of(customer)
    if delivery == "portal_only":
        return []
    original: bytes | None = None
    location = original_location(invoice)
    if location is not None and read_object is not None:
        data = read_object(*location)
        original = data if data is not None and is_original(data, invoice) else None
    image = invoice_image(embedded(original)) if original is not None else None
    files: list[Attachment]
    if image is not None:
        files = [Attachment(_file_name(invoice.number, "pdf"), "application/pdf", image.data, "received")]
    else:
        language = language_of(customer.language)
        transfer = transfer_for(invoice, bank_accounts)
        rendered = invoice_pdf(invoice, customer, seller_name, language, transfer)
        files = [Attachment(_file_name(invoice.number, "pdf"), "application/pdf", rendered, "rendered")]
    if delivery == "email_einvoice":
        if original is not None:
            files.append(
                Attachment(_file_name(invoice.number, "xml"), "application/xml", original, "received")
            )
        elif seller is not None:
            built = build_invoice(invoice, customer, seller)
            files.append(Attachment(_file_name(invoice.number, "xml"), "application/xml", built, "built"))
    return files + _documents(invoice, read_object)


def _documents(invoice: Invoice, read_object: Callable[[str, str], bytes | None] | None) -> list[Attachment]:
    """The documents the customer's AP required with the invoice, as uploaded (they live beside
    the invoice's file, under ``documents/``)."""
    files = []
    for n, document in enumerate(invoice.documents, start=1):
        data = read_object(invoice.source.bucket, document.key) if read_object is not None else None
        if data is None:
            continue
        extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[document.content_type]
        name = f"{document.kind.replace('_', '-')}-{n}-{_file_name(invoice.number, extension)}"
        files.append(Attachment(name, document.content_type, data, "uploaded"))
    return files
