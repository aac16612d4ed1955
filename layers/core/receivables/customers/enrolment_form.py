"""The customer self-enrolment form: every field checked, every mistake explained in the customer's language.

The form is plain HTML, so what arrives is a flat mapping of field name to text (plus the list of
ticked ``requirements`` checkboxes). `parse_enrolment` turns it into `EnrolmentDetails` and a list
of `FieldError`s, one per wrong field, all at once, in the order the fields appear on the form.

Two modes, one set of rules:

- ``complete=False`` saves a draft. Empty fields are fine; a field that is filled in must be valid.
  A wrong field is reported *and* left out (``None``) of the details, so a stored draft only ever
  holds good values and can be re-parsed without surprises.
- ``complete=True`` submits. On top of the draft rules, the fields a company must give are required:
  legal name, country, billing address, at least one contact of which one works in accounts
  payable, how invoices are delivered, the time zone, the VAT id in the EU VAT area, and the Peppol
  endpoint when invoices are to arrive as e-invoices.

Groups of fields are all-or-nothing: a contact row (``contact_0_*`` .. ``contact_2_*``) that is
entirely empty is skipped, a partly filled one is an error on each missing field; the standing
purchase order's number, amount and validity date are given together or not at all. Both hold in
drafts too, since a half contact or half order cannot be stored.

Identifiers are checked with python-stdnum: VAT and company numbers through
`receivables.kernel.company_ids` (which decides the scheme per country and returns the compact form),
IBANs with ``stdnum.iban``, Peppol endpoints with the check of their scheme where one is known (GLN,
Norwegian and Belgian company numbers, VAT-based schemes ...). `company_ids` explains in English; here
the *cause* of a refusal (check digit, length, format, component) is looked up once more from
stdnum's exception class and phrased from our own catalogue instead.

The catalogue (`MESSAGES`) has one dict per language (en, fr, de) with the same keys and the same
``{placeholders}``; a unit test holds them to that. Every reason says what is wrong and what to do.

Text is normalised before it is checked: Unicode NFC, whitespace trimmed and collapsed to single
spaces; control characters (other than tabs and line breaks, which count as spaces) and
bidirectional overrides are refused, since they are invisible in a form and in a PDF. Money is never
a float: the standing order's amount is parsed from its decimal string into `Money` exactly, and an
amount with more decimals than the customer's currency has is refused, not rounded.

Pure logic: no AWS, no I/O (the time-zone list is read once from the tz database and cached).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from receivables.kernel.company_ids import (
    LONGEST_UNCHECKED,
    REGISTRATION_SCHEMES,
    VAT_PREFIX,
    check_registration,
    check_vat,
)
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError, currency_exponent, normalise_currency
from receivables.ledger.model import StandingPo

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

ROLES = ("accounts_payable", "billing", "finance_manager", "other")
LANGUAGES = ("en", "fr", "de")
INVOICE_DELIVERIES = ("email_pdf", "email_einvoice", "portal_only")
PAYMENT_METHODS = ("card", "sepa_debit", "us_bank_account", "bank_transfer")
REQUIREMENTS = ("po_number", "delivery_note", "timesheet", "contract_reference")
MAX_CONTACTS = 3
CONTACT_PARTS = ("name", "email", "role", "language")

LONGEST_LEGAL_NAME = 200
LONGEST_ADDRESS_LINE = 200
LONGEST_CITY = 100
LONGEST_POSTCODE = 20
LONGEST_CONTACT_NAME = 100
LONGEST_EMAIL = 254
LONGEST_EMAIL_LOCAL = 64
LONGEST_PO_NUMBER = 100
LONGEST_PEPPOL_ID = 50
LONGEST_TIME_ZONE = 64
LONGEST_CHOICE = 100  # longer than any option: a wrong choice is "not a choice", not "too long"
LONGEST_ID = 50  # VAT ids, company numbers, IBANs: far longer than any real one
LARGEST_AMOUNT_DIGITS = 12  # integer digits of a standing order's amount

# The form's fields, in the order they appear (errors are reported in this order).
FIELD_ORDER: tuple[str, ...] = (
    "legal_name",
    "country",
    "registration_id",
    "vat_id",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    *(f"contact_{i}_{part}" for i in range(MAX_CONTACTS) for part in CONTACT_PARTS),
    "invoice_delivery",
    "peppol_endpoint",
    "preferred_method",
    "bank_iban",
    "requirements",
    "standing_po_number",
    "standing_po_amount",
    "standing_po_valid_until",
    "time_zone",
)

# The EU VAT area: the 27 member states (Greece's VAT ids carry the prefix EL, see company_ids).
EU_VAT_AREA = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)

# ISO 3166-1 alpha-2, plus XK (Kosovo, user-assigned but used by banks and tax offices alike).
COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW XK
    """.split()
)
# VAT id prefixes that are not the ISO code of their country.
_VAT_PREFIX_COUNTRY = {prefix: country for country, prefix in VAT_PREFIX.items()} | {"XI": "GB"}

# Peppol participant identifier schemes (the EAS / ICD code list) in use.
_VAT_SCHEME_COUNTRY = {
    "0211": "IT",
    "0213": "FI",
    "9914": "AT",
    "9920": "ES",
    "9922": "AD",
    "9923": "AL",
    "9924": "BA",
    "9925": "BE",
    "9926": "BG",
    "9927": "CH",
    "9928": "CY",
    "9929": "CZ",
    "9930": "DE",
    "9931": "EE",
    "9932": "GB",
    "9933": "GR",
    "9934": "HR",
    "9935": "IE",
    "9936": "LI",
    "9937": "LT",
    "9938": "LU",
    "9939": "LV",
    "9940": "MC",
    "9941": "ME",
    "9942": "MK",
    "9943": "MT",
    "9944": "NL",
    "9945": "PL",
    "9946": "PT",
    "9947": "RO",
    "9948": "RS",
    "9949": "SI",
    "9950": "SK",
    "9951": "SM",
    "9952": "TR",
    "9953": "VA",
    "9955": "SE",
    "9957": "FR",
}
# Schemes with a check python-stdnum knows (a module under ``stdnum``; "gln" is 13 digits + EAN check).
_SCHEME_CHECK = {
    "0002": "fr.siren",
    "0007": "se.orgnr",
    "0009": "fr.siret",
    "0088": "gln",
    "0184": "dk.cvr",
    "0192": "no.orgnr",
    "0208": "be.vat",
    "9959": "us.ein",
}
PEPPOL_SCHEMES = frozenset(
    """
    0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0147 0151 0154 0158 0170 0177
    0183 0184 0188 0190 0191 0192 0193 0194 0195 0196 0198 0199 0200 0201 0202 0203 0204 0205
    0208 0209 0210 0211 0212 0213 0215 0216 0217 0218 0221 0225 0230 0235 0240 0244
    9901 9910 9913 9914 9915 9918 9919 9920
    """.split()
) | frozenset(str(code) for code in range(9922, 9960))

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_AMOUNT = re.compile(rf"\d{{1,{LARGEST_AMOUNT_DIGITS}}}(?:\.\d+)?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_PEPPOL = re.compile(r"(\d{4}):(\S+)", re.ASCII)
_TIME_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_DOMAIN_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?(?<!-)", re.UNICODE)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_QUOTED_ONLY = frozenset('<>()[]\\,;:"')  # legal in an address's local part only when quoted

# --- messages ---------------------------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "required": "Please fill in this field.",
        "too_long": "This is too long: please shorten it to at most {max} characters.",
        "control_characters": (
            "This contains invisible control characters (often left over from copying and pasting): "
            "please type it again."
        ),
        "not_a_choice": "Please choose one of the options offered.",
        "country_invalid": "Please choose your country from the list (a two-letter code such as DE).",
        "vat_needs_country": "Please choose the country first: the VAT number is checked against it.",
        "vat_checksum": (
            "The check digits of this VAT number do not match, so a digit is probably mistyped: "
            "please compare it with your VAT registration."
        ),
        "vat_length": (
            "This VAT number has the wrong number of characters for {country}: "
            "please check for a missing or extra digit."
        ),
        "vat_format": (
            "This is not how a VAT number from {country} is written: "
            "please copy it from your VAT registration or an invoice you issued."
        ),
        "vat_component": "Part of this VAT number cannot exist in {country}: please check it.",
        "vat_invalid": "This is not a valid VAT number for {country}: please check it.",
        "vat_other_country": (
            "This VAT number is from {other}, but the company's country is {country}: "
            "please enter the VAT number for {country}, or correct the country."
        ),
        "vat_required": "Companies in {country} must give their VAT number: please enter it.",
        "registration_needs_country": (
            "Please choose the country first: the company number is checked against it."
        ),
        "registration_checksum": (
            "The check digits of this company number do not match, so a digit is probably mistyped: "
            "please compare it with your registration."
        ),
        "registration_length": (
            "This company number has the wrong number of characters for {country}: "
            "please check for a missing or extra digit."
        ),
        "registration_format": (
            "This is not how a company number from {country} is written: "
            "please copy it from your registration certificate."
        ),
        "registration_component": "Part of this company number cannot exist in {country}: please check it.",
        "registration_invalid": "This is not a valid company number for {country}: please check it.",
        "email_invalid": "Please enter an email address such as name@example.com (one @, no spaces).",
        "contact_incomplete": "Please fill in this field too, or empty the whole contact row.",
        "contact_required": "Please give at least one contact person.",
        "contact_accounts_payable_required": (
            "At least one contact must have the role \u201caccounts payable\u201d: please choose it for "
            "the person who handles invoices."
        ),
        "peppol_format": (
            "Please write the Peppol address as scheme:identifier, for example 0088:5790000435975."
        ),
        "peppol_scheme_unknown": (
            "{scheme} is not a Peppol identifier scheme: please use the four-digit code your "
            "e-invoicing provider gave you (for example 0088 for a GLN)."
        ),
        "peppol_id_too_long": "The identifier after the colon is too long: it has at most {max} characters.",
        "peppol_checksum": (
            "The check digit of this Peppol identifier does not match, so a digit is probably mistyped: "
            "please check it with your e-invoicing provider."
        ),
        "peppol_id_invalid": (
            "This identifier is not valid for the Peppol scheme {scheme}: "
            "please check it with your e-invoicing provider."
        ),
        "peppol_required": (
            "E-invoices need your Peppol address: please enter it, or choose another way to receive invoices."
        ),
        "iban_checksum": (
            "The check digits of this IBAN do not match, so a character is probably mistyped: "
            "please copy it from your bank statement."
        ),
        "iban_invalid": "This is not a valid IBAN: please copy it from your bank statement.",
        "standing_po_incomplete": (
            "A standing purchase order needs its number, amount and end date: "
            "please fill in this field too, or leave all three empty."
        ),
        "amount_format": (
            "Please write the amount with digits and, if needed, a decimal point, for example 12500.00 "
            "(no spaces, no thousands separators)."
        ),
        "amount_decimals": (
            "{currency} amounts have at most {decimals} decimal place(s): please correct the amount."
        ),
        "amount_not_positive": "The amount must be more than zero.",
        "date_invalid": "Please enter a real date as YYYY-MM-DD, for example 2026-12-31.",
        "time_zone_invalid": "Please choose your time zone from the list, for example Europe/Berlin.",
    },
    "fr": {
        "required": "Veuillez remplir ce champ.",
        "too_long": "Ce texte est trop long : veuillez le raccourcir à {max} caractères au plus.",
        "control_characters": (
            "Ce texte contient des caractères de contrôle invisibles "
            "(souvent laissés par un copier-coller) : "
            "veuillez le saisir à nouveau."
        ),
        "not_a_choice": "Veuillez choisir l\u2019une des options proposées.",
        "country_invalid": "Veuillez choisir votre pays dans la liste (un code à deux lettres comme FR).",
        "vat_needs_country": (
            "Veuillez d\u2019abord choisir le pays : le numéro de TVA est vérifié selon ce pays."
        ),
        "vat_checksum": (
            "La clé de contrôle de ce numéro de TVA ne correspond pas, un chiffre est sans doute mal saisi : "
            "veuillez le comparer avec votre attestation d\u2019immatriculation à la TVA."
        ),
        "vat_length": (
            "Ce numéro de TVA n\u2019a pas le bon nombre de caractères pour {country} : "
            "veuillez vérifier qu\u2019il ne manque pas de chiffre ni n\u2019en a pas un de trop."
        ),
        "vat_format": (
            "Un numéro de TVA de {country} ne s\u2019écrit pas ainsi : "
            "veuillez le recopier depuis votre attestation de TVA ou une facture que vous avez émise."
        ),
        "vat_component": (
            "Une partie de ce numéro de TVA ne peut pas exister pour {country} : veuillez le vérifier."
        ),
        "vat_invalid": "Ce numéro de TVA n\u2019est pas valable pour {country} : veuillez le vérifier.",
        "vat_other_country": (
            "Ce numéro de TVA est de {other}, mais le pays de l\u2019entreprise est {country} : "
            "veuillez saisir le numéro de TVA pour {country}, ou corriger le pays."
        ),
        "vat_required": (
            "Les entreprises de {country} doivent indiquer leur numéro de TVA : veuillez le saisir."
        ),
        "registration_needs_country": (
            "Veuillez d\u2019abord choisir le pays : le numéro d\u2019entreprise est vérifié selon ce pays."
        ),
        "registration_checksum": (
            "La clé de contrôle de ce numéro d\u2019entreprise ne correspond pas, un chiffre est sans doute "
            "mal saisi : veuillez le comparer avec votre immatriculation."
        ),
        "registration_length": (
            "Ce numéro d\u2019entreprise n\u2019a pas le bon nombre de caractères pour {country} : "
            "veuillez vérifier qu\u2019il ne manque pas de chiffre ni n\u2019en a pas un de trop."
        ),
        "registration_format": (
            "Un numéro d\u2019entreprise de {country} ne s\u2019écrit pas ainsi : "
            "veuillez le recopier depuis votre extrait d\u2019immatriculation."
        ),
        "registration_component": (
            "Une partie de ce numéro d\u2019entreprise ne peut pas exister pour {country} : "
            "veuillez le vérifier."
        ),
        "registration_invalid": (
            "Ce numéro d\u2019entreprise n\u2019est pas valable pour {country} : veuillez le vérifier."
        ),
        "email_invalid": (
            "Veuillez saisir une adresse e-mail comme nom@exemple.fr (un seul @, sans espaces)."
        ),
        "contact_incomplete": "Veuillez remplir aussi ce champ, ou vider toute la ligne de ce contact.",
        "contact_required": "Veuillez indiquer au moins une personne de contact.",
        "contact_accounts_payable_required": (
            "Au moins un contact doit avoir le rôle \u00ab\u00a0comptabilité fournisseurs\u00a0\u00bb : "
            "veuillez le choisir pour la personne qui traite les factures."
        ),
        "peppol_format": (
            "Veuillez écrire l\u2019adresse Peppol sous la forme schéma:identifiant, par exemple "
            "0088:5790000435975."
        ),
        "peppol_scheme_unknown": (
            "{scheme} n\u2019est pas un schéma d\u2019identifiant Peppol : "
            "veuillez utiliser le code à quatre chiffres donné par votre prestataire "
            "de facturation électronique (par exemple 0088 pour un GLN)."
        ),
        "peppol_id_too_long": (
            "L\u2019identifiant après les deux-points est trop long : il compte au plus {max} caractères."
        ),
        "peppol_checksum": (
            "La clé de contrôle de cet identifiant Peppol ne correspond pas, un chiffre est sans doute mal "
            "saisi : veuillez le vérifier auprès de votre prestataire de facturation électronique."
        ),
        "peppol_id_invalid": (
            "Cet identifiant n\u2019est pas valable pour le schéma Peppol {scheme} : "
            "veuillez le vérifier auprès de votre prestataire de facturation électronique."
        ),
        "peppol_required": (
            "Les factures électroniques nécessitent votre adresse Peppol : veuillez la saisir, "
            "ou choisir un autre mode de réception des factures."
        ),
        "iban_checksum": (
            "La clé de contrôle de cet IBAN ne correspond pas, un caractère est sans doute mal saisi : "
            "veuillez le recopier depuis votre relevé bancaire."
        ),
        "iban_invalid": (
            "Cet IBAN n\u2019est pas valable : veuillez le recopier depuis votre relevé bancaire."
        ),
        "standing_po_incomplete": (
            "Un bon de commande permanent a besoin de son numéro, de son montant et de sa date de fin : "
            "veuillez remplir aussi ce champ, ou laisser les trois vides."
        ),
        "amount_format": (
            "Veuillez écrire le montant avec des chiffres et, si besoin, un point décimal, par exemple "
            "12500.00 (sans espaces ni séparateurs de milliers)."
        ),
        "amount_decimals": (
            "Les montants en {currency} ont au plus {decimals} décimale(s) : veuillez corriger le montant."
        ),
        "amount_not_positive": "Le montant doit être supérieur à zéro.",
        "date_invalid": "Veuillez saisir une date réelle au format AAAA-MM-JJ, par exemple 2026-12-31.",
        "time_zone_invalid": "Veuillez choisir votre fuseau horaire dans la liste, par exemple Europe/Paris.",
    },
    "de": {
        "required": "Bitte füllen Sie dieses Feld aus.",
        "too_long": "Dieser Text ist zu lang: Bitte kürzen Sie ihn auf höchstens {max} Zeichen.",
        "control_characters": (
            "Dieser Text enthält unsichtbare Steuerzeichen (oft Reste vom Kopieren und Einfügen): "
            "Bitte tippen Sie ihn neu ein."
        ),
        "not_a_choice": "Bitte wählen Sie eine der angebotenen Möglichkeiten.",
        "country_invalid": "Bitte wählen Sie Ihr Land aus der Liste (ein Code aus zwei Buchstaben wie DE).",
        "vat_needs_country": "Bitte wählen Sie zuerst das Land: Die USt-IdNr. wird danach geprüft.",
        "vat_checksum": (
            "Die Prüfziffern dieser USt-IdNr. stimmen nicht, wahrscheinlich ist eine Ziffer vertippt: "
            "Bitte vergleichen Sie sie mit Ihrer Bestätigung vom Finanzamt."
        ),
        "vat_length": (
            "Diese USt-IdNr. hat für {country} die falsche Anzahl Zeichen: "
            "Bitte prüfen Sie, ob eine Ziffer fehlt oder zu viel ist."
        ),
        "vat_format": (
            "So wird eine USt-IdNr. aus {country} nicht geschrieben: "
            "Bitte übernehmen Sie sie aus Ihrer Bestätigung vom Finanzamt oder einer eigenen Rechnung."
        ),
        "vat_component": "Ein Teil dieser USt-IdNr. kann es in {country} nicht geben: Bitte prüfen Sie sie.",
        "vat_invalid": "Dies ist keine gültige USt-IdNr. für {country}: Bitte prüfen Sie sie.",
        "vat_other_country": (
            "Diese USt-IdNr. stammt aus {other}, das Land des Unternehmens ist aber {country}: "
            "Bitte geben Sie die USt-IdNr. für {country} ein oder korrigieren Sie das Land."
        ),
        "vat_required": "Unternehmen in {country} müssen ihre USt-IdNr. angeben: Bitte tragen Sie sie ein.",
        "registration_needs_country": (
            "Bitte wählen Sie zuerst das Land: Die Registernummer wird danach geprüft."
        ),
        "registration_checksum": (
            "Die Prüfziffern dieser Registernummer stimmen nicht, wahrscheinlich ist eine Ziffer vertippt: "
            "Bitte vergleichen Sie sie mit Ihrem Registerauszug."
        ),
        "registration_length": (
            "Diese Registernummer hat für {country} die falsche Anzahl Zeichen: "
            "Bitte prüfen Sie, ob eine Ziffer fehlt oder zu viel ist."
        ),
        "registration_format": (
            "So wird eine Registernummer aus {country} nicht geschrieben: "
            "Bitte übernehmen Sie sie aus Ihrem Registerauszug."
        ),
        "registration_component": (
            "Ein Teil dieser Registernummer kann es in {country} nicht geben "
            "(etwa das Registergericht): Bitte prüfen Sie sie."
        ),
        "registration_invalid": "Dies ist keine gültige Registernummer für {country}: Bitte prüfen Sie sie.",
        "email_invalid": (
            "Bitte geben Sie eine E-Mail-Adresse wie name@beispiel.de ein (ein @, keine Leerzeichen)."
        ),
        "contact_incomplete": "Bitte füllen Sie auch dieses Feld aus oder leeren Sie die ganze Kontaktzeile.",
        "contact_required": "Bitte nennen Sie mindestens eine Kontaktperson.",
        "contact_accounts_payable_required": (
            "Mindestens ein Kontakt muss die Rolle \u201eKreditorenbuchhaltung\u201c haben: Bitte wählen Sie "
            "sie für die Person, die die Rechnungen bearbeitet."
        ),
        "peppol_format": (
            "Bitte schreiben Sie die Peppol-Adresse als Schema:Kennung, zum Beispiel 0088:5790000435975."
        ),
        "peppol_scheme_unknown": (
            "{scheme} ist kein Peppol-Kennungsschema: Bitte verwenden Sie den vierstelligen Code Ihres "
            "E-Rechnungs-Dienstleisters (zum Beispiel 0088 für eine GLN)."
        ),
        "peppol_id_too_long": (
            "Die Kennung nach dem Doppelpunkt ist zu lang: Sie hat höchstens {max} Zeichen."
        ),
        "peppol_checksum": (
            "Die Prüfziffer dieser Peppol-Kennung stimmt nicht, wahrscheinlich ist eine Ziffer vertippt: "
            "Bitte prüfen Sie sie mit Ihrem E-Rechnungs-Dienstleister."
        ),
        "peppol_id_invalid": (
            "Diese Kennung ist für das Peppol-Schema {scheme} nicht gültig: "
            "Bitte prüfen Sie sie mit Ihrem E-Rechnungs-Dienstleister."
        ),
        "peppol_required": (
            "Für E-Rechnungen brauchen wir Ihre Peppol-Adresse: Bitte tragen Sie sie ein oder wählen Sie "
            "einen anderen Weg, Rechnungen zu erhalten."
        ),
        "iban_checksum": (
            "Die Prüfziffern dieser IBAN stimmen nicht, wahrscheinlich ist ein Zeichen vertippt: "
            "Bitte übernehmen Sie sie von Ihrem Kontoauszug."
        ),
        "iban_invalid": "Dies ist keine gültige IBAN: Bitte übernehmen Sie sie von Ihrem Kontoauszug.",
        "standing_po_incomplete": (
            "Eine Dauerbestellung braucht Nummer, Betrag und Enddatum: Bitte füllen Sie auch dieses Feld "
            "aus oder lassen Sie alle drei leer."
        ),
        "amount_format": (
            "Bitte schreiben Sie den Betrag mit Ziffern und, falls nötig, einem Dezimalpunkt, zum Beispiel "
            "12500.00 (ohne Leerzeichen und Tausendertrennzeichen)."
        ),
        "amount_decimals": (
            "Beträge in {currency} haben höchstens {decimals} Nachkommastelle(n): Bitte korrigieren Sie "
            "den Betrag."
        ),
        "amount_not_positive": "Der Betrag muss größer als null sein.",
        "date_invalid": "Bitte geben Sie ein gültiges Datum als JJJJ-MM-TT ein, zum Beispiel 2026-12-31.",
        "time_zone_invalid": "Bitte wählen Sie Ihre Zeitzone aus der Liste, zum Beispiel Europe/Berlin.",
    },
}


def message(key: str, language: str = "en", **params: object) -> str:
    """The sentence ``key`` of the catalogue in ``language`` (``"fr"``, ``"de-CH"`` ...; English when
    the language is not one we speak), its ``{placeholders}`` filled from ``params``."""
    return MESSAGES[_language(language)][key].format(**params)


def _language(language: str) -> str:
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return code if code in MESSAGES else "en"


# --- the details --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contact:
    """A person at the customer: their ``role`` (one of `ROLES`) and the ``language`` (one of
    `LANGUAGES`) we write to them in; ``email`` with its domain in lower case."""

    name: str
    email: str
    role: str
    language: str


@dataclass(frozen=True, slots=True)
class EnrolmentDetails:
    """What the enrolment form says, every value checked and normalised (``None``: not given, or
    given wrong in a draft). The billing address lies in ``country``; identifiers are compact."""

    legal_name: str | None = None
    country: str | None = None
    registration_id: str | None = None
    vat_id: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postcode: str | None = None
    city: str | None = None
    contacts: tuple[Contact, ...] = ()
    invoice_delivery: str | None = None
    peppol_endpoint: str | None = None
    preferred_method: str | None = None
    bank_iban: str | None = None
    requirements: tuple[str, ...] = ()
    standing_po: StandingPo | None = None
    time_zone: str | None = None

    def as_fields(self) -> dict[str, str | list[str]]:
        """The form fields that show these details again (to refill the form from a stored draft):
        every field, ``""`` where nothing is known, ``requirements`` as the list of ticked boxes.
        `parse_enrolment` of them gives these details back."""
        fields: dict[str, str | list[str]] = {
            name: _text_or_empty(getattr(self, name)) for name in _PLAIN_FIELDS
        }
        for index in range(max(MAX_CONTACTS, len(self.contacts))):
            contact = self.contacts[index] if index < len(self.contacts) else None
            for part in CONTACT_PARTS:
                fields[f"contact_{index}_{part}"] = getattr(contact, part) if contact else ""
        po = self.standing_po
        fields["standing_po_number"] = po.number if po else ""
        fields["standing_po_amount"] = po.amount.to_decimal_string() if po else ""
        fields["standing_po_valid_until"] = po.valid_until.isoformat() if po else ""
        fields["requirements"] = list(self.requirements)
        return fields

    def to_json(self) -> dict[str, Any]:
        """A plain JSON-safe dict (strings, lists, ``None``) to store a draft: money as
        ``{"amount": "12500.00", "currency": "EUR"}``, dates in ISO 8601."""
        data: dict[str, Any] = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        data["contacts"] = [
            {part: getattr(contact, part) for part in CONTACT_PARTS} for contact in self.contacts
        ]
        data["requirements"] = list(self.requirements)
        po = self.standing_po
        data["standing_po"] = (
            {
                "number": po.number,
                "amount": {"amount": po.amount.to_decimal_string(), "currency": po.amount.currency},
                "valid_until": po.valid_until.isoformat(),
            }
            if po
            else None
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnrolmentDetails:
        """The details `to_json` stored (missing keys read as not given); `ValueError` when ``data``
        is not shaped like that."""
        plain = {name: _json_str(data, name) for name in _PLAIN_FIELDS}
        contacts = tuple(
            Contact(**{part: _json_str(row, part, required=True) or "" for part in CONTACT_PARTS})
            for row in _json_list(data, "contacts", dict)
        )
        return cls(
            **plain,
            contacts=contacts,
            requirements=tuple(_json_list(data, "requirements", str)),
            standing_po=_standing_po_from_json(data.get("standing_po")),
        )


# The fields that are one text each (not a contact row, a checkbox list or the standing PO).
_PLAIN_FIELDS = tuple(
    f for f in FIELD_ORDER if not f.startswith(("contact_", "standing_po_")) and f != "requirements"
)


def _text_or_empty(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_str(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {type(value).__name__}")
    return value


def _json_list(data: Mapping[str, Any], key: str, kind: type) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
        raise ValueError(f"{key} must be a list of {kind.__name__}")
    return value


def _standing_po_from_json(value: object) -> StandingPo | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("amount"), dict):
        raise ValueError("standing_po must be an object with number, amount and valid_until")
    amount = value["amount"]
    try:
        return StandingPo(
            number=str(value["number"]),
            amount=Money.parse(str(amount["amount"]), str(amount["currency"])),
            valid_until=date.fromisoformat(str(value["valid_until"])),
        )
    except KeyError as exc:
        raise ValueError(f"standing_po lacks {exc}") from None


# --- parsing ----------------------------------------------------------------------------------------------


def parse_enrolment(
    fields: Mapping[str, str],
    requirements: Sequence[str],
    currency: str,
    *,
    complete: bool,
    language: str = "en",
) -> tuple[EnrolmentDetails, list[FieldError]]:
    """Check the enrolment form: the details it gives and what is wrong with it, each `FieldError`
    naming its form field and saying, in ``language``, what is wrong and how to put it right.

    ``fields`` maps form field names to their text (a ``requirements`` entry there is ignored: the
    ticked boxes come as ``requirements``). ``currency`` is the customer's, the standing purchase
    order's amount is in it (an unknown code is a programming error: `MoneyError`). With
    ``complete`` false (a draft) nothing is required and wrong fields come back as ``None``; with
    ``complete`` true what a submitted enrolment needs is required too.
    """
    form = _Form(fields, _language(language))
    code = normalise_currency(currency)
    country = _country(form)
    contacts = _contacts(form)
    details = EnrolmentDetails(
        legal_name=form.text("legal_name", LONGEST_LEGAL_NAME),
        country=country,
        registration_id=_registration(form, country),
        vat_id=_vat(form, country),
        address_line1=form.text("address_line1", LONGEST_ADDRESS_LINE),
        address_line2=form.text("address_line2", LONGEST_ADDRESS_LINE),
        postcode=form.text("postcode", LONGEST_POSTCODE),
        city=form.text("city", LONGEST_CITY),
        contacts=contacts,
        invoice_delivery=form.choice("invoice_delivery", INVOICE_DELIVERIES),
        peppol_endpoint=_peppol(form),
        preferred_method=form.choice("preferred_method", PAYMENT_METHODS),
        bank_iban=_iban(form),
        requirements=_requirements(form, requirements),
        standing_po=_standing_po(form, code),
        time_zone=_time_zone(form),
    )
    if complete:
        _require(form, details)
    return details, form.sorted_errors()


class _Form:
    """The raw fields, the language to explain in, and the errors found so far."""

    def __init__(self, fields: Mapping[str, str], language: str) -> None:
        self.fields = fields
        self.language = language
        self.errors: list[FieldError] = []

    def error(self, field: str, key: str, **params: object) -> None:
        self.errors.append(FieldError(field, message(key, self.language, **params)))

    def failed(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def given(self, name: str) -> bool:
        return bool(self.fields.get(name, "").strip())

    def text(self, name: str, longest: int) -> str | None:
        """The field's text, normalised; ``None`` when empty or wrong (wrong is reported)."""
        raw = self.fields.get(name, "")
        if any(_is_control(c) for c in raw):
            self.error(name, "control_characters")
            return None
        text = " ".join(unicodedata.normalize("NFC", raw).split())
        if len(text) > longest:
            self.error(name, "too_long", max=longest)
            return None
        return text or None

    def choice(self, name: str, options: Sequence[str]) -> str | None:
        text = self.text(name, LONGEST_CHOICE)
        if text is None or text in options:
            return text
        self.error(name, "not_a_choice")
        return None

    def sorted_errors(self) -> list[FieldError]:
        order = {name: index for index, name in enumerate(FIELD_ORDER)}
        return sorted(self.errors, key=lambda e: order.get(e.field, len(order)))


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def _country(form: _Form) -> str | None:
    text = form.text("country", LONGEST_CHOICE)
    if text is None:
        return None
    code = text.upper()
    if code not in COUNTRIES:
        form.error("country", "country_invalid")
        return None
    return code


# --- identifiers --------------------------------------------------------------------------------------------


def _stdnum_cause(validate: Callable[[str], object], text: str) -> str | None:
    """Why stdnum refuses ``text`` ("checksum", "length", "component", "format" or "invalid");
    ``None`` when it does not."""
    from stdnum.exceptions import (
        InvalidChecksum,
        InvalidComponent,
        InvalidFormat,
        InvalidLength,
        ValidationError,
    )

    try:
        validate(text)
    except InvalidChecksum:
        return "checksum"
    except InvalidLength:
        return "length"
    except InvalidComponent:
        return "component"
    except InvalidFormat:
        return "format"
    except ValidationError:
        return "invalid"
    return None


def _vat_module(country: str) -> Any:
    from stdnum import get_cc_module

    return get_cc_module(country.lower(), "vat")


def _vat(form: _Form, country: str | None) -> str | None:
    """The VAT id, compact with its prefix; refused when it is another country's (a French VAT id on
    a German company) even where ``country`` has no check python-stdnum knows."""
    text = form.text("vat_id", LONGEST_ID)
    if text is None:
        return None
    if country is None:
        form.error("vat_id", "vat_needs_country")
        return None
    try:
        value: str | None = check_vat(country, text)
    except InvalidRequestError:
        value = None
    other = _vat_country_of(text)
    if other is not None and other != country and (value is None or _is_vat_of(other, text)):
        form.error("vat_id", "vat_other_country", other=other, country=country)
        return None
    if value is None:
        _vat_error(form, country, text)
    return value


def _is_vat_of(country: str, text: str) -> bool:
    module = _vat_module(country)
    return module is not None and _stdnum_cause(module.validate, text) is None


def _vat_error(form: _Form, country: str, text: str) -> None:
    module = _vat_module(country)
    if module is None:  # unchecked: only its length can be wrong
        form.error("vat_id", "too_long", max=LONGEST_UNCHECKED)
    else:
        cause = _stdnum_cause(module.validate, text) or "invalid"
        form.error("vat_id", f"vat_{cause}", country=country)


def _vat_country_of(text: str) -> str | None:
    """The country a VAT id's prefix names (``EL`` is Greece, ``XI`` Northern Ireland), if any."""
    prefix = re.sub(r"[\s.\-/]", "", text)[:2].upper()
    country = _VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return country if country in COUNTRIES else None


def _registration(form: _Form, country: str | None) -> str | None:
    text = form.text("registration_id", LONGEST_ID)
    if text is None:
        return None
    if country is None:
        form.error("registration_id", "registration_needs_country")
        return None
    try:
        return check_registration(country, text)
    except InvalidRequestError:
        pass
    scheme = REGISTRATION_SCHEMES.get(country)
    if scheme is None:
        form.error("registration_id", "too_long", max=LONGEST_UNCHECKED)
    else:
        cause = _stdnum_cause(import_module(f"stdnum.{scheme}").validate, text) or "invalid"
        form.error("registration_id", f"registration_{cause}", country=country)
    return None


def _iban(form: _Form) -> str | None:
    from stdnum import iban

    text = form.text("bank_iban", LONGEST_ID)
    if text is None:
        return None
    cause = _stdnum_cause(iban.validate, text)
    if cause is None:
        return str(iban.compact(text))
    form.error(
        "bank_iban", "iban_checksum" if cause == "checksum" and _iban_shape_ok(text) else "iban_invalid"
    )
    return None


def _iban_shape_ok(text: str) -> bool:
    """Whether ``text`` would be a valid IBAN with other check digits (stdnum checks them first, so a
    missing character would otherwise read as a mistyped one)."""
    from stdnum import iban

    compact = str(iban.compact(text))
    if len(compact) < 5 or not compact.isalnum():
        return False
    fixed = compact[:2] + str(iban.calc_check_digits(compact)) + compact[4:]
    return _stdnum_cause(iban.validate, fixed) is None


def _validate_gln(text: str) -> object:
    from stdnum import ean
    from stdnum.exceptions import InvalidLength

    if len(ean.compact(text)) != 13:
        raise InvalidLength
    return ean.validate(text)


def _scheme_validator(scheme: str) -> Callable[[str], object] | None:
    """The check of a Peppol scheme's identifiers, where one is known."""
    country = _VAT_SCHEME_COUNTRY.get(scheme)
    if country is not None:
        module = _vat_module(country)
        return None if module is None else module.validate
    path = _SCHEME_CHECK.get(scheme)
    if path == "gln":
        return _validate_gln
    return None if path is None else import_module(f"stdnum.{path}").validate


def _peppol(form: _Form) -> str | None:
    text = form.text("peppol_endpoint", LONGEST_CHOICE)
    if text is None:
        return None
    match = _PEPPOL.fullmatch(text)
    if match is None:
        form.error("peppol_endpoint", "peppol_format")
        return None
    scheme, identifier = match.groups()
    if scheme not in PEPPOL_SCHEMES:
        form.error("peppol_endpoint", "peppol_scheme_unknown", scheme=scheme)
        return None
    if len(identifier) > LONGEST_PEPPOL_ID:
        form.error("peppol_endpoint", "peppol_id_too_long", max=LONGEST_PEPPOL_ID)
        return None
    validate = _scheme_validator(scheme)
    cause = None if validate is None else _stdnum_cause(validate, identifier)
    if cause is None:
        return text
    key = "peppol_checksum" if cause == "checksum" else "peppol_id_invalid"
    form.error("peppol_endpoint", key, scheme=scheme)
    return None


# --- contacts, email --------------------------------------------------------------------------------------


def _contacts(form: _Form) -> tuple[Contact, ...]:
    contacts = []
    for index in range(MAX_CONTACTS):
        contact = _contact(form, index)
        if contact is not None:
            contacts.append(contact)
    return tuple(contacts)


def _contact(form: _Form, index: int) -> Contact | None:
    """Row ``index``: ``None`` when it is empty or wrong (a missing part of a filled row is wrong)."""
    names = {part: f"contact_{index}_{part}" for part in CONTACT_PARTS}
    if not any(form.given(name) for name in names.values()):
        return None
    values = {
        "name": form.text(names["name"], LONGEST_CONTACT_NAME),
        "email": _email(form, names["email"]),
        "role": form.choice(names["role"], ROLES),
        "language": form.choice(names["language"], LANGUAGES),
    }
    for part, name in names.items():
        if values[part] is None and not form.failed(name):
            form.error(name, "contact_incomplete")
    if any(value is None for value in values.values()):
        return None
    return Contact(**{part: value or "" for part, value in values.items()})


def _email(form: _Form, name: str) -> str | None:
    """A sane email address, its domain in lower case (no attempt at the full RFC 5322 grammar)."""
    text = form.text(name, LONGEST_EMAIL)
    if text is None:
        return None
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    valid = (
        at == "@"
        and 0 < len(local) <= LONGEST_EMAIL_LOCAL
        and "@" not in local
        and " " not in text
        and not _QUOTED_ONLY.intersection(local)
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        form.error(name, "email_invalid")
        return None
    return f"{local}@{domain.lower()}"


# --- requirements, standing order, time zone --------------------------------------------------------------


def _requirements(form: _Form, ticked: Sequence[str]) -> tuple[str, ...]:
    chosen = {" ".join(item.split()) for item in ticked} - {""}
    if chosen - set(REQUIREMENTS):
        form.error("requirements", "not_a_choice")
    return tuple(r for r in REQUIREMENTS if r in chosen)


_PO_FIELDS = ("standing_po_number", "standing_po_amount", "standing_po_valid_until")


def _standing_po(form: _Form, currency: str) -> StandingPo | None:
    if not any(form.given(name) for name in _PO_FIELDS):
        return None
    number = form.text("standing_po_number", LONGEST_PO_NUMBER)
    amount = _amount(form, "standing_po_amount", currency)
    valid_until = _date(form, "standing_po_valid_until")
    for name in _PO_FIELDS:
        if not form.given(name):
            form.error(name, "standing_po_incomplete")
    if number is None or amount is None or valid_until is None:
        return None
    return StandingPo(number, amount, valid_until)


def _amount(form: _Form, name: str, currency: str) -> Money | None:
    """A positive amount written ``12500`` or ``12500.00``, exact in ``currency`` (never rounded)."""
    text = form.text(name, LONGEST_CHOICE)
    if text is None:
        return None
    if not _AMOUNT.fullmatch(text):
        form.error(name, "amount_format")
        return None
    try:
        amount = Money.from_decimal(Decimal(text), currency)
    except MoneyError:
        form.error(name, "amount_decimals", currency=currency, decimals=currency_exponent(currency))
        return None
    if amount.minor <= 0:
        form.error(name, "amount_not_positive")
        return None
    return amount


def _date(form: _Form, name: str) -> date | None:
    text = form.text(name, LONGEST_CHOICE)
    if text is None:
        return None
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    form.error(name, "date_invalid")
    return None


@cache
def _time_zones() -> dict[str, str]:
    """The tz database's zone names, by their lower-case spelling (read once: it walks the disk)."""
    return {
        name.lower(): name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    }


def _time_zone(form: _Form) -> str | None:
    """An IANA zone name as the tz database spells it (``europe/berlin`` is ``Europe/Berlin``);
    anything that looks like a path (``..``, a leading ``/``) is refused before the lookup."""
    text = form.text("time_zone", LONGEST_TIME_ZONE)
    if text is None:
        return None
    zone = _time_zones().get(text.lower()) if _TIME_ZONE.fullmatch(text) and ".." not in text else None
    if zone is None:
        form.error("time_zone", "time_zone_invalid")
    return zone


# --- what a submitted enrolment needs ---------------------------------------------------------------------


_REQUIRED = ("legal_name", "country", "address_line1", "postcode", "city", "invoice_delivery", "time_zone")


def _require(form: _Form, details: EnrolmentDetails) -> None:
    for name in _REQUIRED:
        if getattr(details, name) is None and not form.failed(name):
            form.error(name, "required")
    country = details.country
    if country in EU_VAT_AREA and details.vat_id is None and not form.failed("vat_id"):
        form.error("vat_id", "vat_required", country=country)
    if (
        details.invoice_delivery == "email_einvoice"
        and details.peppol_endpoint is None
        and not form.failed("peppol_endpoint")
    ):
        form.error("peppol_endpoint", "peppol_required")
    if any(e.field.startswith("contact_") for e in form.errors):
        return  # the rows are being corrected: judge them when they are right
    if not details.contacts:
        form.error("contact_0_name", "contact_required")
    elif all(c.role != "accounts_payable" for c in details.contacts):
        form.error("contact_0_role", "contact_accounts_payable_required")
