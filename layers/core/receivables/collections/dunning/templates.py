"""Reminder emails, one template per step kind and locale (en, fr, de), from friendly to final.

The tone rises with the level: ``friendly`` (before the due date), ``reminder_soft`` (the
reliable payer's only reminder), ``reminder``, ``reminder_firm`` and ``final_notice`` (which says
what happens next). Values are the invoice's, written the way the locale writes them.
"""

from __future__ import annotations

from string import Template
from typing import TYPE_CHECKING

from receivables.mail.emails import LOCALES, InvoiceEmail, format_date, format_money, locale_for, render

if TYPE_CHECKING:
    from datetime import date

    from receivables.kernel.money import Money

T = Template
_TEXTS: dict[tuple[str, str], tuple[Template, Template]] = {
    ("friendly", "en"): (
        T("Invoice $number is due on $due"),
        T(
            "Hello $customer,\n\nA friendly reminder: invoice $number for $amount is due on $due.\n\n"
            "You can pay it online: $pay_url\n\nAlready paid? Then please ignore this email. "
            "Questions? Write to $contact.\n\nThank you,\n$seller"
        ),
    ),
    ("reminder_soft", "en"): (
        T("A reminder about invoice $number"),
        T(
            "Hello $customer,\n\nInvoice $number for $amount was due on $due; perhaps it slipped through. "
            "We would be grateful if you could settle it.\n\nPay online: $pay_url\n\n"
            "Cannot pay it all today? Tell us when you will: $promise_url\n\n"
            "Questions? Write to $contact.\n\nKind regards,\n$seller"
        ),
    ),
    ("reminder", "en"): (
        T("Reminder: invoice $number is overdue"),
        T(
            "Hello $customer,\n\nInvoice $number for $amount was due on $due and is now $days_late days "
            "overdue. Please pay it at your earliest convenience.\n\nPay online: $pay_url\n\n"
            "Cannot pay it all today? Tell us when you will: $promise_url\n\n"
            "If you have already paid, or if something is wrong with the invoice, write to $contact.\n\n"
            "Regards,\n$seller"
        ),
    ),
    ("reminder_firm", "en"): (
        T("Second reminder: invoice $number is $days_late days overdue"),
        T(
            "Hello $customer,\n\nWe have not yet received payment of invoice $number for $amount, due on "
            "$due. Please pay it now.\n\nPay online: $pay_url\n\n"
            "Cannot pay it all today? Tell us when you will: $promise_url\n\n"
            "If there is a problem with this invoice, tell us at $contact.\n\nRegards,\n$seller"
        ),
    ),
    ("final_notice", "en"): (
        T("Final notice: invoice $number"),
        T(
            "Hello $customer,\n\nInvoice $number for $amount has been overdue since $due. This is our final "
            "notice: if it is not paid, your account will be put on credit hold and handed to our "
            "collections team.\n\nPay online now: $pay_url\n\n"
            "Cannot pay it all today? Tell us when you will: $promise_url\n\n"
            "To discuss it, write to $contact.\n\n$seller"
        ),
    ),
    ("friendly", "fr"): (
        T("La facture $number arrive à échéance le $due"),
        T(
            "Bonjour $customer,\n\nPetit rappel : la facture $number d'un montant de $amount arrive à "
            "échéance le $due.\n\nVous pouvez la payer en ligne : $pay_url\n\n"
            "Déjà réglée ? Ignorez ce message. Une question ? Écrivez à $contact.\n\nMerci,\n$seller"
        ),
    ),
    ("reminder_soft", "fr"): (
        T("Rappel concernant la facture $number"),
        T(
            "Bonjour $customer,\n\nLa facture $number d'un montant de $amount était due le $due ; elle vous "
            "a peut-être échappé. Merci de bien vouloir la régler.\n\nPaiement en ligne : $pay_url\n\n"
            "Impossible de tout régler aujourd'hui ? Dites-nous quand vous paierez : $promise_url\n\n"
            "Une question ? Écrivez à $contact.\n\nCordialement,\n$seller"
        ),
    ),
    ("reminder", "fr"): (
        T("Rappel : la facture $number est échue"),
        T(
            "Bonjour $customer,\n\nLa facture $number d'un montant de $amount était due le $due et présente "
            "un retard de $days_late jours. Merci de la régler dès que possible.\n\n"
            "Paiement en ligne : $pay_url\n\n"
            "Impossible de tout régler aujourd'hui ? Dites-nous quand vous paierez : $promise_url\n\n"
            "Déjà payée, ou un problème avec la facture ? "
            "Écrivez à $contact.\n\nCordialement,\n$seller"
        ),
    ),
    ("reminder_firm", "fr"): (
        T("Deuxième rappel : facture $number en retard de $days_late jours"),
        T(
            "Bonjour $customer,\n\nNous n'avons pas encore reçu le paiement de la facture $number d'un "
            "montant de $amount, échue le $due. Merci de la régler sans délai.\n\n"
            "Paiement en ligne : $pay_url\n\n"
            "Impossible de tout régler aujourd'hui ? Dites-nous quand vous paierez : $promise_url\n\n"
            "Un problème avec cette facture ? Écrivez à $contact.\n\n"
            "Cordialement,\n$seller"
        ),
    ),
    ("final_notice", "fr"): (
        T("Dernier avis : facture $number"),
        T(
            "Bonjour $customer,\n\nLa facture $number d'un montant de $amount est échue depuis le $due. "
            "Ceci est notre dernier avis : sans paiement, votre compte sera bloqué et transmis à notre "
            "service de recouvrement.\n\nPayer en ligne : $pay_url\n\n"
            "Impossible de tout régler aujourd'hui ? Dites-nous quand vous paierez : $promise_url\n\n"
            "Pour en parler : $contact.\n\n$seller"
        ),
    ),
    ("friendly", "de"): (
        T("Rechnung $number ist am $due fällig"),
        T(
            "Guten Tag $customer,\n\neine freundliche Erinnerung: Rechnung $number über $amount ist am $due "
            "fällig.\n\nSie können sie online bezahlen: $pay_url\n\nBereits bezahlt? Dann betrachten Sie "
            "diese E-Mail als gegenstandslos. Fragen? Schreiben Sie an $contact.\n\nVielen Dank\n$seller"
        ),
    ),
    ("reminder_soft", "de"): (
        T("Erinnerung zu Rechnung $number"),
        T(
            "Guten Tag $customer,\n\nRechnung $number über $amount war am $due fällig; vielleicht ist sie "
            "untergegangen. Wir wären für einen Ausgleich dankbar.\n\nOnline bezahlen: $pay_url\n\n"
            "Heute keine volle Zahlung möglich? Sagen Sie uns, wann Sie zahlen: $promise_url\n\n"
            "Fragen? Schreiben Sie an $contact.\n\nFreundliche Grüße\n$seller"
        ),
    ),
    ("reminder", "de"): (
        T("Zahlungserinnerung: Rechnung $number ist überfällig"),
        T(
            "Guten Tag $customer,\n\nRechnung $number über $amount war am $due fällig und ist seit "
            "$days_late Tagen überfällig. Bitte begleichen Sie sie baldmöglichst.\n\n"
            "Online bezahlen: $pay_url\n\n"
            "Heute keine volle Zahlung möglich? Sagen Sie uns, wann Sie zahlen: $promise_url\n\n"
            "Bereits bezahlt oder stimmt etwas nicht? Schreiben Sie an "
            "$contact.\n\nFreundliche Grüße\n$seller"
        ),
    ),
    ("reminder_firm", "de"): (
        T("1. Mahnung: Rechnung $number ist $days_late Tage überfällig"),
        T(
            "Guten Tag $customer,\n\nwir haben die Zahlung der Rechnung $number über $amount, fällig am "
            "$due, noch nicht erhalten. Bitte zahlen Sie jetzt.\n\nOnline bezahlen: $pay_url\n\n"
            "Heute keine volle Zahlung möglich? Sagen Sie uns, wann Sie zahlen: $promise_url\n\n"
            "Gibt es ein Problem mit der Rechnung? Schreiben Sie an $contact.\n\nFreundliche Grüße\n$seller"
        ),
    ),
    ("final_notice", "de"): (
        T("Letzte Mahnung: Rechnung $number"),
        T(
            "Guten Tag $customer,\n\nRechnung $number über $amount ist seit dem $due überfällig. Dies ist "
            "unsere letzte Mahnung: Ohne Zahlung wird Ihr Konto gesperrt und an unser Inkasso-Team "
            "übergeben.\n\nJetzt online bezahlen: $pay_url\n\n"
            "Heute keine volle Zahlung möglich? Sagen Sie uns, wann Sie zahlen: $promise_url\n\n"
            "Zur Klärung: $contact.\n\n$seller"
        ),
    ),
}


_ACCOUNT = {
    "en": "Your account, all your invoices and your statement",
    "fr": "Votre compte, toutes vos factures et votre relevé",
    "de": "Ihr Konto, alle Ihre Rechnungen und Ihr Kontoauszug",
}


def render_reminder(
    template: str,
    *,
    number: str,
    amount: Money,
    due: date,
    days_late: int,
    customer_name: str | None,
    seller_name: str,
    contact: str,
    pay_url: str,
    promise_url: str,
    language: str | None,
    account_url: str = "",
) -> InvoiceEmail:
    """The reminder ``template`` for one invoice, in the customer's language; past the due date
    it offers ``promise_url``, where the customer can promise a date to pay; with
    ``account_url``, the customer's account on the portal (every invoice, the statement)."""
    locale = locale_for(language)
    subject, body = _TEXTS[(template, locale)]
    if account_url:  # before the signature
        text, _, signature = body.template.rpartition("\n\n")
        body = Template(f"{text}\n\n{_ACCOUNT[locale]}: $account_url\n\n{signature}")
    values = {
        "number": number,
        "amount": format_money(amount, locale),
        "due": format_date(due, locale),
        "days_late": str(days_late),
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": pay_url,
        "promise_url": promise_url,
        "account_url": account_url,
    }
    return render(subject, body, LOCALES[locale].button, values, locale)
