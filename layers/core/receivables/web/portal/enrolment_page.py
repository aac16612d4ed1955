"""The enrolment form behind the invitation link: ``GET|POST /enrol/{token}``.

The link is the credential (signed, expiring, for one enrolment), as for the dispute and promise
forms. ``GET`` shows the form in the enrolment's language (``?lang=`` switches it), filled from the
draft or from what the customer record already says; ``POST`` with ``action=save`` keeps a draft
(the valid values; each wrong one is named), with ``action=submit`` validates everything and, when
complete, writes the customer record (`receivables.customers.enrolment.submit`). Every error names its
field, inline and in a list at the top that links to it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from receivables.customers.enrolment import (
    OPEN_STATES,
    DetailsTakenError,
    EnrolmentError,
    details_of,
    from_link,
    opened,
    save_draft,
    submit,
)
from receivables.customers.enrolment_fields import (
    COUNTRIES,
    INVOICE_DELIVERIES,
    PAYMENT_METHODS,
    REQUIREMENTS,
    ROLES,
)
from receivables.customers.links import LinkError
from receivables.documents.words import LANGUAGES
from receivables.web.portal.pages import render

if TYPE_CHECKING:
    from receivables.customers.enrolment import Enrolment
    from receivables.kernel.clock import Clock
    from receivables.kernel.errors import FieldError

MAX_FORM_BYTES = 32768

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your billing details",
        "intro": (
            "Please give us your billing details once, so that every invoice reaches your "
            "accounts-payable team the way it needs. You can save and come back later with the same link."
        ),
        "saved": "Saved. You can come back with the same link to finish.",
        "errors": "Some details need your attention:",
        "company": "Your company",
        "legal_name": "Legal name",
        "country": "Country",
        "vat_id": "VAT number",
        "registration_id": "Company registration number",
        "billing_address": "Billing address",
        "address_line1": "Street and number",
        "address_line2": "Address, second line (optional)",
        "postcode": "Postcode",
        "city": "City",
        "time_zone": "Time zone",
        "contacts": "Accounts-payable contacts",
        "contacts_help": "At least one accounts-payable contact; invoices and reminders go to the first one.",
        "contact_name": "Name",
        "contact_email": "Email",
        "contact_role": "Role",
        "contact_language": "Language",
        "role_accounts_payable": "Accounts payable",
        "role_billing": "Billing",
        "role_finance_manager": "Finance manager",
        "role_other": "Other",
        "invoices": "Invoices",
        "invoice_delivery": "How do you want to receive invoices?",
        "delivery_email_pdf": "By email, with the PDF",
        "delivery_email_einvoice": "By email, with a Peppol e-invoice (UBL)",
        "delivery_portal_only": "On the portal only",
        "delivery_paper": "On paper, by post",
        "peppol_endpoint": "Your Peppol endpoint id (scheme:id), for e-invoices",
        "requirements": "What must your AP have with every invoice?",
        "requirement_po_number": "Our purchase order number",
        "requirement_delivery_note": "A signed delivery note",
        "requirement_timesheet": "An approved timesheet",
        "requirement_contract_reference": "The contract reference",
        "standing_po_help": (
            "A standing purchase order covers your invoices until it expires or its amount is used."
        ),
        "standing_po_number": "Standing PO number",
        "standing_po_amount": "Standing PO amount",
        "standing_po_valid_until": "Standing PO valid until",
        "paying": "Paying",
        "preferred_method": "How do you prefer to pay?",
        "method_card": "Card",
        "method_sepa_debit": "SEPA Direct Debit",
        "method_us_bank_account": "ACH debit",
        "method_bank_transfer": "Bank transfer",
        "bank_iban": "Your bank account (IBAN), for refunds and direct debits",
        "bank_help": "A change of bank account or AP email address is checked by our team before it applies.",
        "choose": "Choose…",
        "save": "Save and finish later",
        "submit": "Send my details",
        "done_submitted": (
            "Thank you: your details are recorded. Our team checks a change of bank account or "
            "AP email address before it applies; we will write to you if we have a question."
        ),
        "done_approved": "Thank you: your details are recorded, and your next invoices follow them.",
        "done_rejected": "These details were not accepted. Please contact us.",
        "pending": "Waiting for our check:",
        "closed": "This form has been sent already. To change your details, please ask us for a new link.",
        "expired": "This link has expired or is not valid. Please ask us for a new one.",
        "taken": "These details are another customer's already. Please contact us.",
    },
    "fr": {
        "title": "Vos informations de facturation",
        "intro": (
            "Merci de nous indiquer une fois vos informations de facturation, pour que chaque facture "
            "parvienne à votre service comptable comme il le souhaite. Vous pouvez enregistrer et "
            "revenir plus tard avec le même lien."
        ),
        "saved": "Enregistré. Vous pouvez revenir avec le même lien pour terminer.",
        "errors": "Certaines informations sont à vérifier :",
        "company": "Votre entreprise",
        "legal_name": "Raison sociale",
        "country": "Pays",
        "vat_id": "Numéro de TVA",
        "registration_id": "Numéro d'immatriculation",
        "billing_address": "Adresse de facturation",
        "address_line1": "Numéro et rue",
        "address_line2": "Complément d'adresse (facultatif)",
        "postcode": "Code postal",
        "city": "Ville",
        "time_zone": "Fuseau horaire",
        "contacts": "Contacts comptabilité fournisseurs",
        "contacts_help": (
            "Au moins un contact comptabilité fournisseurs ; les factures et relances vont au premier."
        ),
        "contact_name": "Nom",
        "contact_email": "E-mail",
        "contact_role": "Rôle",
        "contact_language": "Langue",
        "role_accounts_payable": "Comptabilité fournisseurs",
        "role_billing": "Facturation",
        "role_finance_manager": "Responsable financier",
        "role_other": "Autre",
        "invoices": "Factures",
        "invoice_delivery": "Comment souhaitez-vous recevoir les factures ?",
        "delivery_email_pdf": "Par e-mail, avec le PDF",
        "delivery_email_einvoice": "Par e-mail, avec une facture électronique Peppol (UBL)",
        "delivery_portal_only": "Sur le portail uniquement",
        "delivery_paper": "Sur papier, par la poste",
        "peppol_endpoint": "Votre identifiant Peppol (schéma:id), pour les factures électroniques",
        "requirements": "Que doit avoir votre comptabilité avec chaque facture ?",
        "requirement_po_number": "Notre numéro de bon de commande",
        "requirement_delivery_note": "Un bon de livraison signé",
        "requirement_timesheet": "Une feuille de temps validée",
        "requirement_contract_reference": "La référence du contrat",
        "standing_po_help": (
            "Un bon de commande permanent couvre vos factures jusqu'à son échéance ou à épuisement de "
            "son montant."
        ),
        "standing_po_number": "Numéro du bon de commande permanent",
        "standing_po_amount": "Montant du bon de commande permanent",
        "standing_po_valid_until": "Valable jusqu'au",
        "paying": "Paiement",
        "preferred_method": "Comment préférez-vous payer ?",
        "method_card": "Carte",
        "method_sepa_debit": "Prélèvement SEPA",
        "method_us_bank_account": "Prélèvement ACH",
        "method_bank_transfer": "Virement",
        "bank_iban": "Votre compte bancaire (IBAN), pour les remboursements et prélèvements",
        "bank_help": (
            "Un changement de compte bancaire ou d'adresse e-mail comptable est vérifié par notre "
            "équipe avant de s'appliquer."
        ),
        "choose": "Choisir…",
        "save": "Enregistrer et terminer plus tard",
        "submit": "Envoyer mes informations",
        "done_submitted": (
            "Merci : vos informations sont enregistrées. Notre équipe vérifie un changement de compte "
            "bancaire ou d'adresse e-mail comptable avant qu'il s'applique ; nous vous écrirons en "
            "cas de question."
        ),
        "done_approved": (
            "Merci : vos informations sont enregistrées et s'appliquent à vos prochaines factures."
        ),
        "done_rejected": "Ces informations n'ont pas été acceptées. Merci de nous contacter.",
        "pending": "En attente de notre vérification :",
        "closed": (
            "Ce formulaire a déjà été envoyé. Pour modifier vos informations, demandez-nous un nouveau lien."
        ),
        "expired": "Ce lien a expiré ou n'est pas valide. Merci de nous en demander un nouveau.",
        "taken": "Ces informations sont déjà celles d'un autre client. Merci de nous contacter.",
    },
    "de": {
        "title": "Ihre Rechnungsdaten",
        "intro": (
            "Bitte geben Sie uns einmalig Ihre Rechnungsdaten, damit jede Rechnung Ihre "
            "Kreditorenbuchhaltung so erreicht, wie sie es braucht. Sie können zwischenspeichern und "
            "später mit demselben Link weitermachen."
        ),
        "saved": "Gespeichert. Sie können mit demselben Link später weitermachen.",
        "errors": "Einige Angaben brauchen Ihre Aufmerksamkeit:",
        "company": "Ihr Unternehmen",
        "legal_name": "Firmenname",
        "country": "Land",
        "vat_id": "USt-IdNr.",
        "registration_id": "Handelsregisternummer",
        "billing_address": "Rechnungsadresse",
        "address_line1": "Straße und Hausnummer",
        "address_line2": "Adresszusatz (optional)",
        "postcode": "Postleitzahl",
        "city": "Ort",
        "time_zone": "Zeitzone",
        "contacts": "Ansprechpartner Kreditorenbuchhaltung",
        "contacts_help": (
            "Mindestens ein Ansprechpartner der Kreditorenbuchhaltung; Rechnungen und Erinnerungen "
            "gehen an den ersten."
        ),
        "contact_name": "Name",
        "contact_email": "E-Mail",
        "contact_role": "Rolle",
        "contact_language": "Sprache",
        "role_accounts_payable": "Kreditorenbuchhaltung",
        "role_billing": "Rechnungswesen",
        "role_finance_manager": "Finanzleitung",
        "role_other": "Andere",
        "invoices": "Rechnungen",
        "invoice_delivery": "Wie möchten Sie Rechnungen erhalten?",
        "delivery_email_pdf": "Per E-Mail, mit PDF",
        "delivery_email_einvoice": "Per E-Mail, mit Peppol-E-Rechnung (UBL)",
        "delivery_portal_only": "Nur im Portal",
        "delivery_paper": "Auf Papier, per Post",
        "peppol_endpoint": "Ihre Peppol-Teilnehmerkennung (Schema:ID), für E-Rechnungen",
        "requirements": "Was braucht Ihre Buchhaltung zu jeder Rechnung?",
        "requirement_po_number": "Unsere Bestellnummer",
        "requirement_delivery_note": "Einen unterschriebenen Lieferschein",
        "requirement_timesheet": "Einen freigegebenen Stundenzettel",
        "requirement_contract_reference": "Die Vertragsreferenz",
        "standing_po_help": (
            "Eine Rahmenbestellung deckt Ihre Rechnungen, bis sie abläuft oder ihr Betrag aufgebraucht ist."
        ),
        "standing_po_number": "Nummer der Rahmenbestellung",
        "standing_po_amount": "Betrag der Rahmenbestellung",
        "standing_po_valid_until": "Gültig bis",
        "paying": "Bezahlen",
        "preferred_method": "Wie bezahlen Sie am liebsten?",
        "method_card": "Karte",
        "method_sepa_debit": "SEPA-Lastschrift",
        "method_us_bank_account": "ACH-Lastschrift",
        "method_bank_transfer": "Überweisung",
        "bank_iban": "Ihr Bankkonto (IBAN), für Erstattungen und Lastschriften",
        "bank_help": (
            "Eine Änderung des Bankkontos oder der E-Mail-Adresse der Buchhaltung prüft unser Team, "
            "bevor sie gilt."
        ),
        "choose": "Bitte wählen…",
        "save": "Speichern und später abschließen",
        "submit": "Meine Angaben senden",
        "done_submitted": (
            "Danke: Ihre Angaben sind erfasst. Eine Änderung des Bankkontos oder der E-Mail-Adresse "
            "der Buchhaltung prüft unser Team, bevor sie gilt; bei Fragen schreiben wir Ihnen."
        ),
        "done_approved": "Danke: Ihre Angaben sind erfasst und gelten für Ihre nächsten Rechnungen.",
        "done_rejected": "Diese Angaben wurden nicht angenommen. Bitte kontaktieren Sie uns.",
        "pending": "Wartet auf unsere Prüfung:",
        "closed": (
            "Dieses Formular wurde bereits gesendet. Um Ihre Angaben zu ändern, bitten Sie uns um einen "
            "neuen Link."
        ),
        "expired": "Dieser Link ist abgelaufen oder ungültig. Bitte fordern Sie einen neuen an.",
        "taken": "Diese Angaben gehören bereits einem anderen Kunden. Bitte kontaktieren Sie uns.",
    },
}


@cache
def _zones() -> tuple[str, ...]:
    from zoneinfo import available_timezones

    return tuple(
        sorted(
            z for z in available_timezones() if "/" in z and not z.startswith(("posix/", "right/", "Etc/"))
        )
    )


@cache
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    from babel import Locale

    names = Locale.parse(language).territories
    return tuple(sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda pair: pair[1]))


def _language(enrolment: Enrolment, query: dict[str, str]) -> str:
    wanted = query.get("lang") or enrolment.language
    return wanted if wanted in LANGUAGES else "en"


def _page(
    status: int,
    enrolment: Enrolment,
    language: str,
    action: str,
    given: dict[str, Any],
    errors: list[FieldError],
    saved: bool = False,
) -> tuple[int, str]:

    words = WORDS[language]
    chosen = given.get("requirements") or []
    body = _enrol_page(
        language,
        done=False,
        enrolment=enrolment,
        action=action,
        given={k: v for k, v in given.items() if isinstance(v, str)},
        chosen=chosen if isinstance(chosen, list) else [],
        errors=[(e.field, e.reason) for e in errors],
        failed={e.field: e.reason for e in errors},
        saved=saved,
        countries=_countries(language),
        zones=_zones(),
        roles=ROLES,
        deliveries=[(d, words[f"delivery_{d}"]) for d in INVOICE_DELIVERIES],
        methods=[(m, words[f"method_{m}"]) for m in PAYMENT_METHODS],
        requirement_options=REQUIREMENTS,
    )
    return status, body


def _message(status: int, language: str, key: str, enrolment: Enrolment | None = None) -> tuple[int, str]:
    """A page that says ``key``; for an enrolment already sent, the page that says where it
    stands (submitted, approved, rejected)."""
    words = WORDS[language]
    if enrolment is None:
        body = render(
            "message.html",
            language,
            title=words["title"],
            message=words[key],
            back=False,
            session_forms=False,
            csrf="",
        )
        return status, body
    return status, _enrol_page(language, done=True, enrolment=enrolment)


def _enrol_page(language: str, **values: Any) -> str:
    """enrol.html in ``language``: the form, or (``done``) what happens next."""
    words = WORDS[language]
    return render(
        "enrol.html",
        language,
        e=words.__getitem__,
        title=words["title"],
        session_forms=False,
        csrf="",
        **values,
    )


def show_form(token: str, query: dict[str, str], key: bytes, clock: Clock, base_url: str) -> tuple[int, str]:
    """``GET /enrol/{token}``: the form (the first open is recorded), or why it cannot be shown."""

    try:
        enrolment = from_link(token, key, clock)
    except LinkError:
        return _message(404, _fallback(query), "expired")
    language = _language(enrolment, query)
    if enrolment.state not in OPEN_STATES:
        return _message(200, language, "closed", enrolment)
    enrolment = opened(enrolment, clock)
    given = details_of(enrolment).as_fields()
    return _page(200, enrolment, language, f"{base_url.rstrip('/')}/enrol/{token}", given, [])


def _fallback(query: dict[str, str]) -> str:
    wanted = query.get("lang", "en")
    return wanted if wanted in LANGUAGES else "en"


def post_form(token: str, body: bytes, key: bytes, clock: Clock, base_url: str) -> tuple[int, str]:
    """``POST /enrol/{token}``: save the draft, or submit; the form again with its errors (400),
    or the page that says what happens next."""
    from dataclasses import replace

    try:
        enrolment = from_link(token, key, clock)
    except LinkError:
        return _message(404, "en", "expired")
    if len(body) > MAX_FORM_BYTES:
        return _message(413, enrolment.language if enrolment.language in LANGUAGES else "en", "expired")
    try:
        parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200, keep_blank_values=True)
    except ValueError:  # more fields than the form has
        return _message(413, enrolment.language if enrolment.language in LANGUAGES else "en", "expired")
    fields = {k: v[0] for k, v in parsed.items() if k not in ("requirements", "action", "lang")}
    requirements = parsed.get("requirements", [])
    language = _language(enrolment, {"lang": (parsed.get("lang") or [""])[0]})
    enrolment = replace(enrolment, language=language)
    if enrolment.state not in OPEN_STATES:
        return _message(409, language, "closed", enrolment)
    action = f"{base_url.rstrip('/')}/enrol/{token}"
    given: dict[str, Any] = {**fields, "requirements": requirements}
    try:
        if (parsed.get("action") or ["save"])[0] == "submit":
            done, errors = submit(enrolment, fields, requirements, clock)
            if not errors:
                return _message(200, language, "", done)
            return _page(400, done, language, action, given, errors)
        kept, errors = save_draft(enrolment, fields, requirements, clock)
    except DetailsTakenError:
        return _message(409, language, "taken")
    except EnrolmentError:
        return _message(409, language, "closed", enrolment)
    return _page(200, kept, language, action, given, errors, saved=True)
