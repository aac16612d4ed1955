"""The invoice email per locale: figures written as the locale writes them, HTML escaped."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from receivables.kernel.money import Money
from receivables.mail.emails import InvoiceEmail, format_money, locale_for, render_invoice_email

if TYPE_CHECKING:
    from string import Template


@pytest.mark.parametrize(
    ("amount", "locale", "text"),
    [
        (Money(119000, "EUR"), "en", "1,190.00 EUR"),
        (Money(119000, "EUR"), "fr", "1\u202f190,00 EUR"),
        (Money(119000, "EUR"), "de", "1.190,00 EUR"),
        (Money(330000, "JPY"), "en", "330,000 JPY"),
        (Money(1250750, "KWD"), "de", "1.250,750 KWD"),
    ],
)
def test_amounts_are_written_as_the_locale_writes_them(amount: Money, locale: str, text: str) -> None:
    assert format_money(amount, locale) == text


@pytest.mark.parametrize(("language", "locale"), [("fr-BE", "fr"), ("de", "de"), ("it", "en"), (None, "en")])
def test_the_customers_language_picks_the_template(language: str | None, locale: str) -> None:
    assert locale_for(language) == locale


def render(language: str | None, name: str = "Acme GmbH") -> InvoiceEmail:
    return render_invoice_email(
        number="INV-2026-1001",
        amount=Money(119000, "EUR"),
        due=date(2026, 10, 31),
        customer_name=name,
        seller_name="Receivables Demo Ltd",
        contact="billing@seller.example",
        pay_url="https://pay.example/pay/tok?x=1&y=2",
        dispute_url="https://pay.example/dispute/tok",
        account_url="https://pay.example/portal/link/tok",
        language=language,
    )


def test_the_email_says_number_amount_due_date_pay_link_and_contact() -> None:
    email = render("de")
    assert (
        email.subject == "Rechnung INV-2026-1001 von Receivables Demo Ltd: 1.190,00 EUR fällig am 31.10.2026"
    )
    for text in (
        "INV-2026-1001",
        "1.190,00 EUR",
        "31.10.2026",
        "https://pay.example/pay/tok?x=1&y=2",
        "https://pay.example/dispute/tok",
        "billing@seller.example",
    ):
        assert text in email.text
    assert 'href="https://pay.example/pay/tok?x=1&amp;y=2"' in email.html
    assert '<a href="https://pay.example/dispute/tok">' in email.html
    assert '<a href="https://pay.example/portal/link/tok">' in email.html
    assert "Alle Ihre Rechnungen und Ihr Kontoauszug" in email.text
    assert "Rechnung bezahlen" in email.html


def test_values_are_escaped_in_the_html() -> None:
    email = render("en", name='<script>alert("x")</script>')
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html


def test_english_and_french_render() -> None:
    assert render(None).subject.endswith("1,190.00 EUR due 31 October 2026")
    assert "à régler le 31/10/2026" in render("fr").text


@pytest.mark.parametrize("locale", ["en", "fr", "de"])
@pytest.mark.parametrize(
    "template", ["friendly", "reminder_soft", "reminder", "reminder_firm", "final_notice"]
)
def test_every_overdue_reminder_offers_the_promise_link(template: str, locale: str) -> None:
    from receivables.collections.dunning.templates import render_reminder

    mail = render_reminder(
        template,
        number="R-1",
        amount=Money(10000, "EUR"),
        due=date(2026, 10, 31),
        days_late=9,
        customer_name="Acme & Co",
        seller_name="Seller",
        contact="ar@seller.example",
        pay_url="https://pay.example/pay/tok",
        promise_url="https://pay.example/promise/tok?a=1&b=2",
        language=locale,
        account_url="https://pay.example/portal/link/acct",
    )

    account, signature = mail.text.rstrip().rsplit("\n\n", 2)[-2:]
    assert account.endswith(": https://pay.example/portal/link/acct") and signature.endswith("Seller")
    assert '<a href="https://pay.example/portal/link/acct">' in mail.html
    offered = "https://pay.example/promise/tok?a=1&b=2" in mail.text
    assert offered is (template != "friendly"), "before the due date there is nothing to promise"
    assert offered is ('<a href="https://pay.example/promise/tok?a=1&amp;b=2">' in mail.html)
    assert "Acme &amp; Co" in mail.html and "$" not in mail.text


def test_the_deduction_email_says_in_each_language_what_was_refused_and_why() -> None:
    from receivables.mail.emails import (
        DEDUCTION_EMAILS,
        DEDUCTION_FINDINGS,
        DEDUCTION_REASONS,
        render_deduction_email,
    )

    def names(template: Template) -> set[str]:
        return {
            m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)
        } - {None}

    for locale in ("fr", "de"):
        assert DEDUCTION_FINDINGS[locale].keys() == DEDUCTION_FINDINGS["en"].keys()
        assert DEDUCTION_REASONS[locale].keys() == DEDUCTION_REASONS["en"].keys()
        for key, template in DEDUCTION_FINDINGS["en"].items():
            assert names(DEDUCTION_FINDINGS[locale][key]) == names(template), (locale, key)
        assert names(DEDUCTION_EMAILS[locale][1]) == names(DEDUCTION_EMAILS["en"][1])
    parts = [
        {
            "reason": "early_payment_discount",
            "amount": "47.60",
            "validity": "invalid",
            "finding": "discount_late",
            "facts": {"paid_on": "2026-11-20", "deadline": "2026-11-07", "percent": "2"},
        },
        {
            "reason": "pricing",
            "amount": "50.00",
            "validity": "valid",
            "finding": "pricing_valid",
            "facts": {},
        },
    ]
    german = render_deduction_email(
        number="RE-7",
        currency="EUR",
        short="97.60",
        invalid="47.60",
        parts=parts,
        customer_name="Müller GmbH",
        seller_name="Seller",
        contact="ar@seller.example",
        pay_url="https://p.example/portal/link/t",
        language="de-AT",
    )
    assert german.subject == "Ihre Zahlung zu Rechnung RE-7: 47,60 EUR noch offen"
    assert "- Skonto, 47,60 EUR: nicht anerkannt, bezahlt am 20.11.2026" in german.text
    assert "- Preisdifferenz, 50,00 EUR: anerkannt." in german.text
    assert 'href="https://p.example/portal/link/t"' in german.html


# The invoice's RF reference as the email prints it (issue 22): a ledger id, encoded.
INVOICE_ID = "inv_0123456789abcdef01234567"
ACCOUNT = "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"
QUOTE = {
    "en": "Please quote this reference with your transfer so that it is matched to this invoice.",
    "fr": "Merci d'indiquer cette référence avec votre virement afin qu'il soit rapproché de cette facture.",
    "de": "Bitte geben Sie diese Referenz bei Ihrer Überweisung an, damit Ihre Zahlung dieser Rechnung "
    "zugeordnet wird.",
}
LABELS = {"en": "Payment reference: ", "fr": "Référence de paiement\u00a0: ", "de": "Zahlungsreferenz: "}


def with_transfer(language: str) -> InvoiceEmail:
    from receivables.banking.creditor_reference import creditor_reference, format
    from receivables.documents.transfer import Transfer

    reference = format(creditor_reference(INVOICE_ID))
    return render_invoice_email(
        number="INV-2026-1001",
        amount=Money(119000, "EUR"),
        due=date(2026, 10, 31),
        customer_name="Acme GmbH",
        seller_name="Receivables Demo Ltd",
        contact="billing@seller.example",
        pay_url="https://pay.example/pay/tok",
        dispute_url="https://pay.example/dispute/tok",
        account_url="https://pay.example/portal/link/tok",
        language=language,
        transfer=Transfer(ACCOUNT, reference),
    )


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_the_email_gives_our_account_and_the_invoices_rf_reference_to_quote(language: str) -> None:
    from receivables.banking.creditor_reference import (
        creditor_reference,
        find_references,
        format,
        invoice_id_of,
        is_valid,
    )

    email = with_transfer(language)
    reference = format(creditor_reference(INVOICE_ID))

    assert reference.startswith("RF") and " " in reference, "printed in groups of four"
    assert is_valid(reference) and invoice_id_of(reference) == INVOICE_ID
    paragraphs = email.text.split("\n\n")
    pay_at = next(n for n, p in enumerate(paragraphs) if "https://pay.example/pay/tok" in p)
    heading, account, quoted, asked = paragraphs[pay_at + 1].split("\n")
    assert account.endswith(ACCOUNT) and quoted == LABELS[language] + reference and asked == QUOTE[language]
    assert (
        heading
        == {"en": "Pay by bank transfer", "fr": "Payer par virement", "de": "Per Überweisung bezahlen"}[
            language
        ]
    )
    assert f"{LABELS[language]}{reference}<br>{QUOTE[language].replace(chr(39), '&#x27;')}" in email.html
    # What a payer copies from the email into the transfer is what the matching reads back.
    assert find_references(email.text) == [creditor_reference(INVOICE_ID)]


def test_without_an_account_in_the_currency_the_email_is_as_before() -> None:
    email = render("en")
    assert "RF" not in email.text and "Payment reference" not in email.html
    assert len(email.text.split("\n\n")) == len(with_transfer("en").text.split("\n\n")) - 1
