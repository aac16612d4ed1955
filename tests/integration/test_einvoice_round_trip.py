"""The Peppol specification's example invoices, ingested, sent back out as Peppol e-invoices and
read again by our own ingest: the same invoice (same fingerprint: seller, number, dates, currency,
totals, tax, lines), the same references and the same buyer. Its example credit note likewise: the
same credit note (number, amount, credited invoice, seller, buyer)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from receivables.ingest.documents import fingerprint
from receivables.ingest.model import ParsedDocument
from receivables.ingest.ubl import parse_ubl
from receivables.kernel.money import Money
from receivables.ledger.model import CreditNote, DocumentType, DueDateSource, Invoice
from receivables.mail.einvoice import Seller, build_credit_note, build_invoice
from receivables.storage import store
from tests.conftest import EINVOICES

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

SELLER = Seller("SupplierTradingName Ltd.", "GB", "0088", "9482348239847239874", vat_id="GB1232434")


@pytest.mark.parametrize("name", ["base-example.xml", "Allowance-example.xml", "vat-category-E.xml"])
def test_a_peppol_invoice_sent_out_reads_back_as_the_same_invoice(aws: Aws, name: str) -> None:
    assert aws.drop(f"inbox/peppol/{name}", (EINVOICES / name).read_bytes())["outcome"] == "processed"
    (invoice,) = [d for d in store_documents() if isinstance(d, Invoice)]
    customer = store.get_customer(invoice.customer_id)
    assert customer is not None

    parsed = parse_ubl(build_invoice(invoice, customer, SELLER))

    assert isinstance(parsed, ParsedDocument), parsed
    # A document that gave no due date got one from the payment terms; the one we send says it.
    received = parsed if invoice.due_date_source is DueDateSource.DOCUMENT else replace(parsed, due_date=None)
    assert fingerprint(received) == invoice.fingerprint
    assert (parsed.number, parsed.due_date, parsed.payable) == (
        invoice.number,
        invoice.due_date,
        invoice.payable,
    )
    assert (parsed.po_number, parsed.buyer_reference) == (invoice.po_number, invoice.buyer_reference)
    assert set(parsed.buyer.identifiers) <= set(customer.identifiers)
    assert parsed.buyer.name == customer.name and parsed.buyer.country == customer.country


@pytest.mark.parametrize("invoice_first", [True, False])
def test_the_peppol_credit_note_sent_out_reads_back_as_the_same_credit_note(
    aws: Aws, invoice_first: bool
) -> None:
    name = "base-creditnote-correction.xml"
    if invoice_first:  # the invoice it credits (Snippet1, 1656.25) is in the ledger
        example = (EINVOICES / "base-example.xml").read_bytes()
        assert aws.drop("inbox/peppol/base-example.xml", example)["outcome"] == "processed"
    assert aws.drop(f"inbox/peppol/{name}", (EINVOICES / name).read_bytes())["outcome"] == "processed"
    (note,) = [d for d in store_documents() if isinstance(d, CreditNote)]
    invoices = [d for d in store_documents() if isinstance(d, Invoice)]
    customer = store.get_customer(note.customer_id)
    assert customer is not None
    assert note.applied == (note.amount if invoice_first else Money.zero(note.currency))
    received = parse_ubl((EINVOICES / name).read_bytes())
    assert isinstance(received, ParsedDocument)

    parsed = parse_ubl(build_credit_note(note, customer, SELLER, invoices[0] if invoices else None))

    assert isinstance(parsed, ParsedDocument), parsed
    assert parsed.doc_type is DocumentType.CREDIT_NOTE
    assert (parsed.seller_id, parsed.number, parsed.currency, parsed.issue_date) == (
        note.seller_id,
        note.number,
        note.currency,
        note.issue_date,
    )
    assert (parsed.billing_reference, parsed.total, parsed.payable) == (
        note.invoice_reference,
        received.total,
        note.amount,
    )
    # With the invoice, the credit carries its tax (the whole invoice credited: all of it).
    assert parsed.tax == (received.tax if invoice_first else Money.zero(note.currency))
    assert set(parsed.buyer.identifiers) <= set(customer.identifiers)
    assert parsed.buyer.name == customer.name and parsed.buyer.country == customer.country


def store_documents() -> list[object]:
    customers, _ = store.customers_by_name(10, None)
    return [d for c in customers for d in store.customer_documents(c.customer_id)]
