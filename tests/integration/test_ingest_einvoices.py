"""The Peppol examples through the ingest handler: figures, duplicates, conflicts, credit notes."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, DueDateSource, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.storage import store
from tests.conftest import EINVOICES

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

SELLER = "vat:GB1232434"


def drop_fixture(aws: Aws, name: str) -> dict[str, object]:
    return aws.drop(f"inbox/peppol/{name}", (EINVOICES / name).read_bytes())


def test_given_the_base_example_when_ingested_then_one_receivable_with_its_figures(aws: Aws) -> None:
    result = drop_fixture(aws, "base-example.xml")

    assert result["outcome"] == "processed"
    assert result["destination"] == "processed/peppol/base-example.xml"
    invoice = store.get_invoice(document_id(SELLER, DocumentType.INVOICE, "Snippet1"))
    assert invoice is not None
    assert (invoice.number, invoice.currency) == ("Snippet1", "EUR")
    assert invoice.payable == invoice.balance == Money(165625, "EUR")
    assert invoice.tax == Money(33125, "EUR")
    assert (invoice.due_date, invoice.due_date_source) == (date(2017, 12, 1), DueDateSource.DOCUMENT)
    assert invoice.status is InvoiceStatus.OPEN
    customer = store.get_customer(invoice.customer_id)
    assert customer is not None
    assert (customer.name, customer.email, customer.country) == ("Buyer Official Name", "lj@buyer.se", "SE")
    assert aws.keys("inbox/") == []
    events = store.invoice_events(invoice.invoice_id)
    assert [(e.seq, e.type) for e in events] == [(1, "InvoiceIngested")]
    assert events[0].data["amount_due"] == "1656.25"


def test_given_a_resend_with_an_order_reference_then_it_is_the_same_invoice(aws: Aws) -> None:
    drop_fixture(aws, "base-example.xml")

    result = drop_fixture(aws, "sales-order-example.xml")

    assert (result["outcome"], result["created"], result["duplicates"]) == ("processed", 0, 1)
    report = aws.report(str(result["destination"]))
    assert report["duplicates"][0]["same_as"].endswith("base-example.xml (document)")


def test_given_another_document_under_the_same_number_then_a_conflict_naming_both(aws: Aws) -> None:
    drop_fixture(aws, "base-example.xml")

    result = drop_fixture(aws, "Allowance-example.xml")

    assert (result["outcome"], result["conflicts"]) == ("rejected", 1)
    assert aws.keys("rejected/") == [
        "rejected/peppol/Allowance-example.xml",
        "rejected/peppol/Allowance-example.xml.error.json",
    ]
    [problem] = aws.report(str(result["destination"]))["problems"]
    assert problem["code"] == "conflict"
    assert problem["number"] == "Snippet1"
    assert "base-example.xml" in problem["message"] and "1656.25 EUR" in problem["message"]
    assert "Allowance-example.xml" in problem["message"] and "6125.00 EUR" in problem["message"]
    stored = store.get_invoice(document_id(SELLER, DocumentType.INVOICE, "Snippet1"))
    assert stored is not None and stored.payable == Money(165625, "EUR")


def test_given_only_payment_terms_then_the_due_date_follows_them(aws: Aws) -> None:
    result = drop_fixture(aws, "vat-category-E.xml")

    assert result["outcome"] == "processed"
    invoice = store.get_invoice(document_id("vat:GB928741974", DocumentType.INVOICE, "Vat-Z"))
    assert invoice is not None
    assert (invoice.due_date, invoice.due_date_source) == (date(2018, 9, 29), DueDateSource.PAYMENT_TERMS)
    assert invoice.payable == Money(120000, "GBP")
    customer = store.get_customer(invoice.customer_id)
    assert customer is not None and customer.needs_contact_details
    assert aws.report(str(result["destination"]))["summary"]["customers_needing_contact_details"] == [
        customer.customer_id
    ]


def test_given_the_correcting_credit_note_then_the_invoice_is_credited(aws: Aws) -> None:
    drop_fixture(aws, "base-example.xml")

    result = drop_fixture(aws, "base-creditnote-correction.xml")

    assert (result["outcome"], result["credit_notes_applied"]) == ("processed", 1)
    invoice_id = document_id(SELLER, DocumentType.INVOICE, "Snippet1")
    invoice = store.get_invoice(invoice_id)
    assert invoice is not None
    assert invoice.balance == Money(0, "EUR") and invoice.credited == Money(165625, "EUR")
    assert invoice.status is InvoiceStatus.CREDITED
    assert [e.type for e in store.invoice_events(invoice_id)] == ["InvoiceIngested", "CreditApplied"]
    credit = store.get_credit_note(document_id(SELLER, DocumentType.CREDIT_NOTE, "Snippet1"))
    assert credit is not None and credit.applied == credit.amount and credit.applied_invoice_id == invoice_id
    assert store.collectible_invoices_due_by(date(2030, 1, 1)) == []


def test_given_a_credit_note_before_its_invoice_then_it_stays_an_unapplied_credit(aws: Aws) -> None:
    result = drop_fixture(aws, "base-creditnote-correction.xml")

    assert (result["outcome"], result["credit_notes_applied"]) == ("processed", 0)
    credit = store.get_credit_note(document_id(SELLER, DocumentType.CREDIT_NOTE, "Snippet1"))
    assert credit is not None
    assert credit.unapplied == Money(165625, "EUR") and credit.applied_invoice_id is None
    events = store.audit_events(store.credit_note_pk(credit.credit_note_id))
    assert events[0].data["note"] == "invoice Snippet1 is not in the ledger"


def test_all_five_examples_in_any_order_give_two_receivables_and_one_conflict(aws: Aws) -> None:
    names = [
        "vat-category-E.xml",
        "Allowance-example.xml",
        "base-creditnote-correction.xml",
        "base-example.xml",
        "sales-order-example.xml",
    ]
    outcomes = {name: drop_fixture(aws, name) for name in names}

    # The first Snippet1 to arrive (Allowance) is kept; the base example then conflicts with it.
    assert outcomes["Allowance-example.xml"]["created"] == 1
    assert outcomes["base-example.xml"]["conflicts"] == 1
    assert outcomes["sales-order-example.xml"]["conflicts"] == 1
    kept = store.get_invoice(document_id(SELLER, DocumentType.INVOICE, "Snippet1"))
    assert kept is not None and kept.payable == Money(612500, "EUR")
    customers = {kept.customer_id}
    z = store.get_invoice(document_id("vat:GB928741974", DocumentType.INVOICE, "Vat-Z"))
    assert z is not None
    customers.add(z.customer_id)
    assert len(customers) == 2
