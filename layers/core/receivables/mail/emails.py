"""The invoice email, in the customer's language: subject, plain text and HTML.

Templates are data, one per locale (en, fr, de); a customer without a known language gets
English. Every value placed in the HTML is escaped; amounts and dates are written the way the
locale writes them (1,190.00 / 1 190,00 / 1.190,00). Where we have a bank account in the
invoice's currency, the email says how to pay by transfer, after the pay link: our account, the
invoice's ``RF`` creditor reference and the request to quote it
(`receivables.documents.transfer`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template
from typing import TYPE_CHECKING, Any

from receivables.documents.transfer import transfer_lines
from receivables.documents.words import language_of
from receivables.kernel.money import Money

if TYPE_CHECKING:
    from datetime import date

    from receivables.documents.transfer import Transfer


DEFAULT_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class _Locale:
    group: str
    decimal: str
    date_format: str
    subject: Template
    body: Template  # plain text; the HTML is built from the same lines
    button: str


LOCALES: dict[str, _Locale] = {
    "en": _Locale(
        ",",
        ".",
        "%d %B %Y",
        Template("Invoice $number from $seller: $amount due $due"),
        Template(
            "Hello $customer,\n\n"
            "Please find invoice $number for $amount, due on $due.\n\n"
            "You can pay it online: $pay_url\n\n"
            "Something wrong with it? Tell us here: $dispute_url\n\n"
            "All your invoices and your statement: $account_url\n\n"
            "Questions about this invoice? Write to $contact.\n\n"
            "Thank you,\n$seller"
        ),
        "Pay invoice",
    ),
    "fr": _Locale(
        "\u202f",
        ",",
        "%d/%m/%Y",
        Template("Facture $number de $seller : $amount à payer le $due"),
        Template(
            "Bonjour $customer,\n\n"
            "Veuillez trouver la facture $number d'un montant de $amount, à régler le $due.\n\n"
            "Vous pouvez la payer en ligne : $pay_url\n\n"
            "Un problème avec cette facture ? Signalez-le ici : $dispute_url\n\n"
            "Toutes vos factures et votre relevé de compte : $account_url\n\n"
            "Une question sur cette facture ? Écrivez à $contact.\n\n"
            "Merci,\n$seller"
        ),
        "Payer la facture",
    ),
    "de": _Locale(
        ".",
        ",",
        "%d.%m.%Y",
        Template("Rechnung $number von $seller: $amount fällig am $due"),
        Template(
            "Guten Tag $customer,\n\n"
            "anbei die Rechnung $number über $amount, fällig am $due.\n\n"
            "Sie können sie online bezahlen: $pay_url\n\n"
            "Stimmt etwas nicht? Melden Sie es hier: $dispute_url\n\n"
            "Alle Ihre Rechnungen und Ihr Kontoauszug: $account_url\n\n"
            "Fragen zu dieser Rechnung? Schreiben Sie an $contact.\n\n"
            "Vielen Dank\n$seller"
        ),
        "Rechnung bezahlen",
    ),
}


def locale_for(language: str | None) -> str:
    """The template locale for a customer's language ("fr-BE" → "fr"), English by default."""
    code = (language or "").lower().replace("_", "-").split("-")[0]
    return code if code in LOCALES else DEFAULT_LOCALE


def format_money(amount: Money, locale: str) -> str:
    """``amount`` as ``locale`` writes it, with its currency code: ``1.190,00 EUR``."""
    spec = LOCALES[locale_for(locale)]
    whole, _, fraction = amount.to_decimal_string().lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", spec.group)
    sign = "-" if amount.minor < 0 else ""
    return f"{sign}{grouped}{spec.decimal + fraction if fraction else ''} {amount.currency}"


@dataclass(frozen=True, slots=True)
class InvoiceEmail:
    """A rendered email."""

    subject: str
    text: str
    html: str
    locale: str


def render_invoice_email(
    *,
    number: str,
    amount: Money,
    due: date,
    customer_name: str | None,
    seller_name: str,
    contact: str,
    pay_url: str,
    dispute_url: str,
    account_url: str,
    language: str | None,
    transfer: Transfer | None = None,
) -> InvoiceEmail:
    """The invoice email for one invoice, in the customer's language, with its pay link, the
    link where the customer can dispute it and the link to their account on the portal; with
    ``transfer``, the bank-transfer instructions as a paragraph after the pay link."""
    locale = locale_for(language)
    spec = LOCALES[locale]
    body = spec.body
    values = {
        "number": number,
        "amount": format_money(amount, locale),
        "due": format_date(due, locale),
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": pay_url,
        "dispute_url": dispute_url,
        "account_url": account_url,
    }
    if transfer is not None:
        values["transfer"] = "\n".join(transfer_lines(transfer, language_of(locale)))
        body = _after_paragraph(body, "$pay_url", "$transfer")
    return render(spec.subject, body, spec.button, values, locale)


def _after_paragraph(body: Template, marker: str, paragraph: str) -> Template:
    """``body`` with ``paragraph`` inserted after the paragraph holding ``marker``."""
    paragraphs = body.template.split("\n\n")
    at = next(n for n, p in enumerate(paragraphs) if marker in p) + 1
    return Template("\n\n".join([*paragraphs[:at], paragraph, *paragraphs[at:]]))


def format_date(day: date, locale: str) -> str:
    """``day`` as ``locale`` writes it (English spells the month)."""
    if locale_for(locale) == "en":
        return f"{day.day} {day.strftime('%B %Y')}"
    return day.strftime(LOCALES[locale_for(locale)].date_format)


def render(
    subject: Template, body: Template, button: str, values: dict[str, str], locale: str
) -> InvoiceEmail:
    """Subject, text and HTML from templates: the HTML escapes every value, turns the line
    holding ``$pay_url`` into a button and any other ``$..._url`` into a link."""
    text = body.substitute(values)
    escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
    for key, value in escaped.items():
        if key.endswith("_url") and key != "pay_url":
            escaped[key] = f'<a href="{value}">{value}</a>'
    paragraphs = body.substitute({**escaped, "pay_url": "\x00"}).split("\n\n")
    link = (
        f'<a href="{escaped["pay_url"]}" style="display:inline-block;padding:12px 20px;'
        f'background:#1a56db;color:#fff;text-decoration:none;border-radius:6px">{html.escape(button)}</a>'
    )
    content = "".join(f"<p>{p.replace(chr(10), '<br>').replace(chr(0), link)}</p>" for p in paragraphs)
    page = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject.substitute(values))}</title></head>"
        f'<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">{content}</body></html>'
    )
    return InvoiceEmail(subject.substitute(values), text, page, locale)


# The portal link a customer asks for on the portal's start page: (subject, body, button).
ACCOUNT_EMAILS: dict[str, tuple[Template, Template, str]] = {
    "en": (
        Template("Your account with $seller"),
        Template(
            "Hello $customer,\n\n"
            "Here is the link to your account with $seller: your invoices, payments and statement.\n\n"
            "$pay_url\n\n"
            "The link works for $days days. If you did not ask for it, you can ignore this email.\n\n"
            "Questions? Write to $contact.\n\n"
            "$seller"
        ),
        "Open your account",
    ),
    "fr": (
        Template("Votre compte chez $seller"),
        Template(
            "Bonjour $customer,\n\n"
            "Voici le lien vers votre compte chez $seller : vos factures, paiements et relevé.\n\n"
            "$pay_url\n\n"
            "Le lien est valable $days jours. Si vous ne l'avez pas demandé, ignorez ce message.\n\n"
            "Des questions ? Écrivez à $contact.\n\n"
            "$seller"
        ),
        "Ouvrir votre compte",
    ),
    "de": (
        Template("Ihr Konto bei $seller"),
        Template(
            "Guten Tag $customer,\n\n"
            "Hier ist der Link zu Ihrem Konto bei $seller: Rechnungen, Zahlungen und Kontoauszug.\n\n"
            "$pay_url\n\n"
            "Der Link gilt $days Tage. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.\n\n"
            "Fragen? Schreiben Sie an $contact.\n\n"
            "$seller"
        ),
        "Konto öffnen",
    ),
}


def render_account_email(
    *,
    customer_name: str | None,
    seller_name: str,
    contact: str,
    account_url: str,
    days: int,
    language: str | None,
) -> InvoiceEmail:
    """The email with a fresh link to the customer's account, in their language."""
    locale = locale_for(language)
    subject, body, button = ACCOUNT_EMAILS[locale]
    values = {
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": account_url,
        "days": str(days),
    }
    return render(subject, body, button, values, locale)


# What a customer's AP may need on an invoice (`receivables.customers.requirements`), by language.
REQUIREMENT_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "po_number": "your purchase order number",
        "contract_reference": "your contract reference",
        "delivery_note": "the signed delivery note",
        "timesheet": "the approved timesheet",
    },
    "fr": {
        "po_number": "votre numéro de bon de commande",
        "contract_reference": "votre référence de contrat",
        "delivery_note": "le bon de livraison signé",
        "timesheet": "la feuille de temps validée",
    },
    "de": {
        "po_number": "Ihre Bestellnummer",
        "contract_reference": "Ihre Vertragsreferenz",
        "delivery_note": "den unterschriebenen Lieferschein",
        "timesheet": "den freigegebenen Stundenzettel",
    },
}

# The request to the customer's AP for what an invoice lacks: (subject, body, button).
DOCUMENT_REQUEST_EMAILS: dict[str, tuple[Template, Template, str]] = {
    "en": (
        Template("Invoice $number from $seller: we need $missing"),
        Template(
            "Hello $customer,\n\n"
            "Invoice $number for $amount is ready, and your accounts-payable team needs $missing "
            "on it before they can pay it. Please give it to us here:\n\n"
            "$pay_url\n\n"
            "We will send the invoice as soon as we have it.\n\n"
            "Questions? Write to $contact.\n\n"
            "$seller"
        ),
        "Complete the invoice",
    ),
    "fr": (
        Template("Facture $number de $seller : il nous manque $missing"),
        Template(
            "Bonjour $customer,\n\n"
            "La facture $number d'un montant de $amount est prête, et votre service comptable "
            "fournisseurs a besoin de $missing pour la payer. Merci de nous le transmettre ici :\n\n"
            "$pay_url\n\n"
            "Nous vous enverrons la facture dès réception.\n\n"
            "Des questions ? Écrivez à $contact.\n\n"
            "$seller"
        ),
        "Compléter la facture",
    ),
    "de": (
        Template("Rechnung $number von $seller: uns fehlt $missing"),
        Template(
            "Guten Tag $customer,\n\n"
            "die Rechnung $number über $amount ist fertig, und Ihre Kreditorenbuchhaltung braucht "
            "$missing, um sie zu bezahlen. Bitte geben Sie es uns hier:\n\n"
            "$pay_url\n\n"
            "Wir senden die Rechnung, sobald wir es haben.\n\n"
            "Fragen? Schreiben Sie an $contact.\n\n"
            "$seller"
        ),
        "Rechnung vervollständigen",
    ),
}


def requirement_list(missing: tuple[str, ...] | list[str], locale: str) -> str:
    """``missing`` as words of ``locale``, joined the way a sentence lists them."""
    names = REQUIREMENT_NAMES[locale_for(locale)]
    words = [names.get(m, m) for m in missing]
    glue = {"en": " and ", "fr": " et ", "de": " und "}[locale_for(locale)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + glue + words[-1]


def render_document_request_email(
    *,
    number: str,
    amount: Money,
    missing: tuple[str, ...],
    customer_name: str | None,
    seller_name: str,
    contact: str,
    invoice_url: str,
    language: str | None,
) -> InvoiceEmail:
    """The request to the customer's AP for what invoice ``number`` lacks, in their language."""
    locale = locale_for(language)
    subject, body, button = DOCUMENT_REQUEST_EMAILS[locale]
    values = {
        "number": number,
        "amount": format_money(amount, locale),
        "missing": requirement_list(missing, locale),
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": invoice_url,
    }
    return render(subject, body, button, values, locale)


# The invitation to enrol (and its reminders): (subject, body, button).
ENROLMENT_EMAILS: dict[str, tuple[Template, Template, str]] = {
    "en": (
        Template("$seller: please give us your billing details"),
        Template(
            "Hello $customer,\n\n"
            "To invoice you the way your accounts-payable team needs, we need your billing "
            "details once: your company ids, billing address, AP contacts, how you want to receive "
            "invoices and what must be on them. It takes a few minutes, and you can save and come "
            "back later.\n\n"
            "$pay_url\n\n"
            "The link works until $expires.\n\n"
            "Questions? Write to $contact.\n\n"
            "$seller"
        ),
        "Give your billing details",
    ),
    "fr": (
        Template("$seller : merci de nous indiquer vos informations de facturation"),
        Template(
            "Bonjour $customer,\n\n"
            "Pour vous facturer comme votre service comptable fournisseurs le souhaite, nous avons "
            "besoin une seule fois de vos informations de facturation : identifiants de "
            "l'entreprise, adresse de facturation, contacts comptables, mode de réception des "
            "factures et mentions obligatoires. Cela prend quelques minutes, et vous pouvez "
            "enregistrer pour reprendre plus tard.\n\n"
            "$pay_url\n\n"
            "Le lien est valable jusqu'au $expires.\n\n"
            "Des questions ? Écrivez à $contact.\n\n"
            "$seller"
        ),
        "Indiquer vos informations",
    ),
    "de": (
        Template("$seller: Bitte teilen Sie uns Ihre Rechnungsdaten mit"),
        Template(
            "Guten Tag $customer,\n\n"
            "damit wir Ihnen so Rechnungen stellen, wie Ihre Kreditorenbuchhaltung sie braucht, "
            "benötigen wir einmalig Ihre Rechnungsdaten: Firmenkennungen, Rechnungsadresse, "
            "Ansprechpartner, gewünschter Rechnungsversand und Pflichtangaben. Das dauert wenige "
            "Minuten, und Sie können zwischenspeichern und später weitermachen.\n\n"
            "$pay_url\n\n"
            "Der Link gilt bis $expires.\n\n"
            "Fragen? Schreiben Sie an $contact.\n\n"
            "$seller"
        ),
        "Rechnungsdaten angeben",
    ),
}


def render_enrolment_email(
    *,
    customer_name: str | None,
    seller_name: str,
    contact: str,
    form_url: str,
    expires: date,
    language: str | None,
) -> InvoiceEmail:
    """The invitation to enrol, in the customer's language."""
    locale = locale_for(language)
    subject, body, button = ENROLMENT_EMAILS[locale]
    values = {
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": form_url,
        "expires": format_date(expires, locale),
    }
    return render(subject, body, button, values, locale)


# A short payment's deduction, told to the customer where a check refused part of it:
# (subject, body, button). ``$parts`` lists each part and what was found.
DEDUCTION_EMAILS: dict[str, tuple[Template, Template, str]] = {
    "en": (
        Template("Your payment of invoice $number: $invalid still due"),
        Template(
            "Hello $customer,\n\n"
            "Your payment of invoice $number was $short less than the invoice. We have looked at "
            "what you deducted:\n\n$parts\n\n"
            "$invalid is still due. You can pay it online: $pay_url\n\n"
            "Questions? Write to $contact.\n\n"
            "Kind regards,\n$seller"
        ),
        "Pay the balance",
    ),
    "fr": (
        Template("Votre paiement de la facture $number : $invalid restent dus"),
        Template(
            "Bonjour $customer,\n\n"
            "Votre paiement de la facture $number était inférieur de $short à la facture. Nous "
            "avons examiné ce que vous avez déduit :\n\n$parts\n\n"
            "$invalid restent dus. Paiement en ligne : $pay_url\n\n"
            "Une question ? Écrivez à $contact.\n\n"
            "Cordialement,\n$seller"
        ),
        "Payer le solde",
    ),
    "de": (
        Template("Ihre Zahlung zu Rechnung $number: $invalid noch offen"),
        Template(
            "Guten Tag $customer,\n\n"
            "Ihre Zahlung zu Rechnung $number lag $short unter dem Rechnungsbetrag. Wir haben Ihre "
            "Abzüge geprüft:\n\n$parts\n\n"
            "$invalid sind noch offen. Online bezahlen: $pay_url\n\n"
            "Fragen? Schreiben Sie an $contact.\n\n"
            "Freundliche Grüße\n$seller"
        ),
        "Restbetrag bezahlen",
    ),
}

DEDUCTION_REASONS: dict[str, dict[str, str]] = {
    "en": {
        "pricing": "Price difference",
        "promotion": "Promotion or allowance",
        "early_payment_discount": "Early-payment discount",
        "short_delivery": "Damaged or short delivery",
        "freight": "Freight",
        "returns": "Returns",
        "other": "Other",
    },
    "fr": {
        "pricing": "Écart de prix",
        "promotion": "Promotion ou remise",
        "early_payment_discount": "Escompte pour paiement anticipé",
        "short_delivery": "Livraison endommagée ou incomplète",
        "freight": "Frais de transport",
        "returns": "Retours",
        "other": "Autre",
    },
    "de": {
        "pricing": "Preisdifferenz",
        "promotion": "Aktion oder Rabatt",
        "early_payment_discount": "Skonto",
        "short_delivery": "Beschädigte oder unvollständige Lieferung",
        "freight": "Fracht",
        "returns": "Rücksendung",
        "other": "Sonstiges",
    },
}

# What a check found, by finding (see `receivables.disputes.deduction_rules.Part`).
DEDUCTION_FINDINGS: dict[str, dict[str, Template]] = {
    "en": {
        "accepted": Template("$amount: accepted."),
        "open": Template("$amount: we are looking into it and will come back to you."),
        "discount_no_terms": Template(
            "$amount: not accepted, the invoice's terms grant no early-payment discount."
        ),
        "discount_late": Template(
            "$amount: not accepted, paid on $paid_on, after the $percent % discount period "
            "ended on $deadline."
        ),
        "discount_beyond": Template("$amount: not accepted, the discount allows $allowed."),
        "pricing_agrees": Template("$amount: not accepted, the prices invoiced are the agreed ones."),
        "pricing_beyond": Template(
            "$amount: not accepted, the prices invoiced are $overbilled over the agreed ones."
        ),
        "owner": Template("$amount: not accepted after review."),
    },
    "fr": {
        "accepted": Template("$amount : accepté."),
        "open": Template("$amount : en cours d'examen, nous revenons vers vous."),
        "discount_no_terms": Template(
            "$amount : non accepté, les conditions de la facture n'accordent pas d'escompte."
        ),
        "discount_late": Template(
            "$amount : non accepté, payé le $paid_on, après la fin du délai d'escompte "
            "de $percent % le $deadline."
        ),
        "discount_beyond": Template("$amount : non accepté, l'escompte permet $allowed."),
        "pricing_agrees": Template("$amount : non accepté, les prix facturés sont ceux convenus."),
        "pricing_beyond": Template(
            "$amount : non accepté, les prix facturés dépassent de $overbilled ceux convenus."
        ),
        "owner": Template("$amount : non accepté après examen."),
    },
    "de": {
        "accepted": Template("$amount: anerkannt."),
        "open": Template("$amount: wird geprüft, wir melden uns."),
        "discount_no_terms": Template(
            "$amount: nicht anerkannt, die Zahlungsbedingungen sehen kein Skonto vor."
        ),
        "discount_late": Template(
            "$amount: nicht anerkannt, bezahlt am $paid_on, nach Ablauf der Skontofrist "
            "($percent %) am $deadline."
        ),
        "discount_beyond": Template("$amount: nicht anerkannt, das Skonto beträgt $allowed."),
        "pricing_agrees": Template("$amount: nicht anerkannt, die berechneten Preise sind die vereinbarten."),
        "pricing_beyond": Template(
            "$amount: nicht anerkannt, die berechneten Preise liegen nur $overbilled über den vereinbarten."
        ),
        "owner": Template("$amount: nach Prüfung nicht anerkannt."),
    },
}


def deduction_part_line(part: dict[str, Any], currency: str, locale: str) -> str:
    """One part of a deduction as the customer reads it: its reason, its amount, what we found."""
    from datetime import date as day

    locale = locale_for(locale)
    facts = dict(part.get("facts") or {})
    values = {
        "amount": format_money(Money.parse(part["amount"], currency), locale),
        "paid_on": format_date(day.fromisoformat(facts["paid_on"]), locale) if "paid_on" in facts else "",
        "deadline": format_date(day.fromisoformat(facts["deadline"]), locale) if "deadline" in facts else "",
        "percent": facts.get("percent", ""),
        "allowed": format_money(Money.parse(facts["allowed"], currency), locale)
        if "allowed" in facts
        else "",
        "overbilled": format_money(Money.parse(facts["overbilled"], currency), locale)
        if "overbilled" in facts
        else "",
    }
    findings = DEDUCTION_FINDINGS[locale]
    if part["validity"] == "valid":
        key = "accepted"
    elif part["validity"] == "open":
        key = "open"
    else:
        finding = str(part.get("finding") or "")
        key = finding if finding in findings else "owner"
    reason = DEDUCTION_REASONS[locale].get(part["reason"], part["reason"])
    return f"- {reason}, {findings[key].substitute(values)}"


def render_deduction_email(
    *,
    number: str,
    currency: str,
    short: str,
    invalid: str,
    parts: list[dict[str, Any]],
    customer_name: str | None,
    seller_name: str,
    contact: str,
    pay_url: str,
    language: str | None,
) -> InvoiceEmail:
    """What we found in the customer's deduction from invoice ``number``, in their language."""

    locale = locale_for(language)
    subject, body, button = DEDUCTION_EMAILS[locale]
    values = {
        "number": number,
        "short": format_money(Money.parse(short, currency), locale),
        "invalid": format_money(Money.parse(invalid, currency), locale),
        "parts": "\n".join(deduction_part_line(p, currency, locale) for p in parts),
        "customer": customer_name or "",
        "seller": seller_name,
        "contact": contact,
        "pay_url": pay_url,
    }
    return render(subject, body, button, values, locale)
