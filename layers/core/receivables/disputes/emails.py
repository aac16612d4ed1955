"""The email that tells a customer how their dispute ended, in their language (en, fr, de)."""

from __future__ import annotations

from string import Template
from typing import TYPE_CHECKING

from receivables.mail.emails import LOCALES, InvoiceEmail, format_money, locale_for, render

if TYPE_CHECKING:
    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import Customer, Invoice

T = Template
_SUBJECT = {
    "en": T("Your dispute of invoice $number"),
    "fr": T("Votre contestation de la facture $number"),
    "de": T("Ihr Einspruch zu Rechnung $number"),
}
_BODY = {
    "en": T(
        "Hello $customer,\n\nWe have looked into your dispute of invoice $number: $outcome\n\n$balance\n\n"
        "Pay online: $pay_url\n\nQuestions? Write to $contact.\n\nKind regards,\n$seller"
    ),
    "fr": T(
        "Bonjour $customer,\n\nNous avons examiné votre contestation de la facture $number : $outcome\n\n"
        "$balance\n\nPaiement en ligne : $pay_url\n\n"
        "Une question ? Écrivez à $contact.\n\nCordialement,\n$seller"
    ),
    "de": T(
        "Guten Tag $customer,\n\nwir haben Ihren Einspruch zu Rechnung $number geprüft: $outcome\n\n"
        "$balance\n\n"
        "Online bezahlen: $pay_url\n\nFragen? Schreiben Sie an $contact.\n\nFreundliche Grüße\n$seller"
    ),
}
_OUTCOMES = {
    "void_duplicate": {
        "en": "it repeated an earlier invoice, and the duplicate is cancelled.",
        "fr": "elle reprenait une facture antérieure, et le doublon est annulé.",
        "de": "sie wiederholte eine frühere Rechnung; das Duplikat ist storniert.",
    },
    "apply_payment": {
        "en": "we found your payment and applied it to the invoice.",
        "fr": "nous avons retrouvé votre paiement et l'avons imputé à la facture.",
        "de": "wir haben Ihre Zahlung gefunden und der Rechnung zugeordnet.",
    },
    "confirm_paid": {
        "en": "our records show it paid in full.",
        "fr": "nos comptes la montrent intégralement réglée.",
        "de": "sie ist laut unseren Unterlagen vollständig bezahlt.",
    },
    "paid_in_full": {
        "en": "the invoice has since been paid in full, which closes the dispute.",
        "fr": "la facture a depuis été intégralement réglée, ce qui clôt la contestation.",
        "de": "die Rechnung ist inzwischen vollständig bezahlt; der Einspruch ist damit erledigt.",
    },
    "credit": {
        "en": "we have credited you $credit.",
        "fr": "nous vous avons accordé un avoir de $credit.",
        "de": "wir haben Ihnen $credit gutgeschrieben.",
    },
    "reissue": {
        "en": "we have cancelled it and are issuing a corrected invoice.",
        "fr": "nous l'avons annulée et émettons une facture corrigée.",
        "de": "wir haben sie storniert und stellen eine korrigierte Rechnung aus.",
    },
    "reject": {
        "en": "we could not accept it. $reason",
        "fr": "nous ne pouvons pas l'accepter. $reason",
        "de": "wir können ihn nicht annehmen. $reason",
    },
}
_BALANCE = {
    "en": ("$balance is still owed on it.", "Nothing is owed on it any more."),
    "fr": ("Il reste $balance à régler.", "Plus rien n'est dû sur cette facture."),
    "de": ("Offen sind noch $balance.", "Auf die Rechnung ist nichts mehr offen."),
}


def render_outcome(
    dispute: Dispute, invoice: Invoice, customer: Customer, *, seller_name: str, contact: str, pay_url: str
) -> InvoiceEmail:
    """The outcome email of ``dispute``, with the invoice as it stands now."""
    locale = locale_for(customer.language)
    resolution = dispute.resolution
    action = resolution.action if resolution is not None else "reject"
    action = "credit" if action == "accept" else action
    credit = format_money(resolution.credit, locale) if resolution and resolution.credit else ""
    outcome = Template(_OUTCOMES[action][locale]).substitute(
        credit=credit, reason=resolution.reason if resolution else ""
    )
    owed, nothing = _BALANCE[locale]
    balance = (
        Template(owed).substitute(balance=format_money(invoice.balance, locale))
        if invoice.balance.minor > 0
        else nothing
    )
    values = {
        "number": invoice.number,
        "customer": customer.name or "",
        "outcome": outcome.strip(),
        "balance": balance,
        "seller": seller_name,
        "contact": contact,
        "pay_url": pay_url,
    }
    return render(_SUBJECT[locale], _BODY[locale], LOCALES[locale].button, values, locale)
