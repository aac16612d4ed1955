"""An invoice's bank-transfer instructions (issue 22): its ISO 11649 RF reference, derived from
its id, printed in groups of four with our account in its currency and the request to quote it,
in every language the customer may read; on the invoice's PDF too."""

from __future__ import annotations

import pytest

from receivables.banking.creditor_reference import compact, creditor_reference, invoice_id_of, is_valid
from receivables.documents.pdf import invoice_pdf
from receivables.documents.transfer import Transfer, payment_reference, transfer_for, transfer_lines
from receivables.documents.words import LANGUAGES, WORDS
from receivables.ledger.model import Customer
from tests.pdf_text import pdf_text
from tests.unit.ledger.test_ledger import make_invoice

INVOICE = make_invoice(invoice_id="inv_0123456789abcdef01234567", number="INV-2026-1001")
ACCOUNTS = {"EUR": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"}
CUSTOMER = Customer("cus_test", "Acme GmbH", (), "ap@acme.example")
PHRASES = ("payment_reference", "quote_reference", "transfer_to_account")


def test_every_language_has_the_transfer_phrases_in_its_own_words() -> None:
    for language in LANGUAGES:
        for key in PHRASES:
            assert WORDS[language][key].strip(), (language, key)
            if language != "en":
                assert WORDS[language][key] != WORDS["en"][key], (language, key)


def test_the_printed_reference_is_the_invoices_rf_reference_in_groups_of_four() -> None:
    printed = payment_reference(INVOICE)

    assert compact(printed) == creditor_reference(INVOICE.invoice_id)
    assert is_valid(printed) and invoice_id_of(printed) == INVOICE.invoice_id
    groups = printed.split(" ")
    assert groups[0].startswith("RF") and all(len(g) == 4 for g in groups[:-1]) and len(groups[-1]) <= 4


def test_a_transfer_is_offered_only_where_we_have_an_account_in_the_currency() -> None:
    assert transfer_for(INVOICE, ACCOUNTS) == Transfer(ACCOUNTS["EUR"], payment_reference(INVOICE))
    assert transfer_for(make_invoice(currency="USD"), ACCOUNTS) is None
    assert transfer_for(INVOICE, {}) is None and transfer_for(INVOICE, None) is None


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Payment reference: "), ("fr", "Référence de paiement\u00a0: "), ("de", "Zahlungsreferenz: ")],
)
def test_the_lines_name_the_account_and_the_reference_and_ask_to_quote_it(language: str, label: str) -> None:
    transfer = transfer_for(INVOICE, ACCOUNTS)
    assert transfer is not None
    heading, account, reference, quote = transfer_lines(transfer, language)
    assert heading == WORDS[language]["pay_by_bank_transfer"]
    assert account.endswith(ACCOUNTS["EUR"]) and reference == label + payment_reference(INVOICE)
    assert quote == WORDS[language]["quote_reference"]


@pytest.mark.parametrize(
    ("language", "asks"),
    [
        ("en", "Please quote this reference with your transfer"),
        ("de", "Bitte geben Sie diese Referenz bei Ihrer Überweisung an"),
        ("fr", "Merci d'indiquer cette référence avec votre virement"),
    ],
)
def test_the_invoice_pdf_prints_the_reference_with_our_account(language: str, asks: str) -> None:
    text = pdf_text(invoice_pdf(INVOICE, CUSTOMER, "Seller", language, transfer_for(INVOICE, ACCOUNTS)))
    shown = text.split("\n")

    assert f"{WORDS[language]['invoice']} INV-2026-1001" in shown
    at = shown.index(WORDS[language]["payment_reference"])
    assert shown[at + 1] == payment_reference(INVOICE) and is_valid(shown[at + 1])
    assert ACCOUNTS["EUR"] in shown and WORDS[language]["pay_by_bank_transfer"] in shown
    assert asks in text


def test_without_an_account_the_pdf_prints_no_transfer() -> None:
    text = pdf_text(invoice_pdf(INVOICE, CUSTOMER, "Seller", "en"))
    assert "INV-2026-1001" in text and "RF" not in text and "Pay by bank transfer" not in text
