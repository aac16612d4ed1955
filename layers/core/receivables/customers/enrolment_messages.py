"""The enrolment form's catalogue of messages: one dict per language (en, fr, de) with the same keys
and the same ``{placeholders}`` (a unit test holds them to that). Every reason says what is wrong
and what to do.
"""

from __future__ import annotations

import re

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
    return MESSAGES[language_code(language)][key].format(**params)


def language_code(language: str) -> str:
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return code if code in MESSAGES else "en"
