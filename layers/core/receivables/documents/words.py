"""The words of what customers read, in their language (en, fr, de): the portal's pages, the PDFs
of an invoice and a statement, and the bank-transfer instructions the invoice email carries
(`receivables.documents.transfer`). Amounts and dates are written the way the customer's locale
writes them (Babel)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from receivables.kernel.money import Money

LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "account": "Your account",
        "open_invoices": "Open invoices",
        "invoice": "Invoice",
        "issued": "Issued",
        "due": "Due",
        "status": "Status",
        "amount_due": "Amount due",
        "days_late": "Days late",
        "nothing_open": "Nothing is open: thank you.",
        "credits": "Credits available",
        "no_credits": "No credit available.",
        "payments": "Recent payments",
        "no_payments": "No payment yet.",
        "received": "Received",
        "amount": "Amount",
        "reference": "Reference",
        "in_progress": "Disputes and promises in progress",
        "none_in_progress": "None.",
        "dispute": "Dispute",
        "promise": "Promise to pay",
        "statement": "Statement",
        "from": "From",
        "to": "To",
        "currency": "Currency",
        "show": "Show",
        "download_csv": "Download CSV",
        "opening": "Opening balance",
        "closing": "Closing balance",
        "balance": "Balance",
        "date": "Date",
        "kind_invoice": "Invoice",
        "kind_credit_note": "Credit note",
        "kind_payment": "Payment",
        "language": "Language",
        "change": "Change",
        "sign_out": "Sign out",
        "signed_out": "You are signed out",
        "denied_title": "Please open the link in your email",
        "no_session": "To see your account, open the link in any email we sent you.",
        "expired": "Your session has ended. Open the link in your email again.",
        "revoked": "This link is no longer valid. Please ask us for a new one.",
        "invalid": "This link is not valid. Please use it exactly as you received it.",
        "csrf": "The form has expired. Please reload the page and try again.",
        "back": "Back to your account",
        "status_open": "Open",
        "status_partially_paid": "Partially paid",
        "status_disputed": "Under review",
        "status_paid": "Paid",
        "start_intro": (
            "Enter the email address we send your invoices to, and we will email you a link to your account."
        ),
        "email": "Email address",
        "send_link": "Email me a link",
        "link_sent": (
            "If this address is one of our customers' contacts, a link to the "
            "account is on its way. It works for a few weeks."
        ),
        "slow_down": "Too many requests from here. Please try again in an hour.",
        "total": "Total",
        "tax": "Tax",
        "download_pdf": "PDF",
        "not_found": "There is no such invoice on your account.",
        "use_credit": "Use my credit first",
        "part_amount": "Amount to pay now",
        "all_of_it": "all of it",
        "partial_not_allowed": "Please pay the selected invoices in full.",
        "bad_amount": "Please enter an amount above zero and no more than the selected invoices add up to.",
        "select": "Pay",
        "pay_selected": "Pay the selected invoices",
        "cannot_pay": (
            "Please tick one or more of your open invoices, all in one currency and none under review."
        ),
        "too_many": "Please pay at most 15 invoices at once.",
        "paid_notice": "Thank you: your payment is being processed. The invoices will show as paid shortly.",
        "bad_range": "Please give a start date on or before the end date, within 3 years.",
        "pay_by_card": "Pay by card",
        "pay_by_sepa_debit": "Pay by SEPA Direct Debit",
        "pay_by_us_bank_account": "Pay by ACH debit (US bank account)",
        "pay_by_bank_transfer": "Pay by bank transfer",
        "method_not_offered": "This way to pay is not available for these invoices.",
        "bank_transfer_intro": (
            "Please transfer the amount below to our account, quoting the reference exactly "
            "as shown, so that your payment is matched to these invoices when it arrives."
        ),
        "account_details": "Our account",
        "payment_reference": "Payment reference",
        "quote_reference": (
            "Please quote this reference with your transfer so that it is matched to this invoice."
        ),
        "transfer_to_account": "Please transfer the amount below to our account.",
        "processing": "Payment processing",
        "payment_failed": "Last payment failed",
        "autopay": "Automatic payment",
        "autopay_offer": "Let us charge a saved card or bank account on each due date.",
        "autopay_max": "At most per invoice (optional)",
        "autopay_consent": (
            "I authorise the charge of this payment method for each of my invoices on its due "
            "date, until I turn automatic payment off."
        ),
        "autopay_set_up": "Set up automatic payment",
        "autopay_on": "Automatic payment is on with",
        "autopay_per_invoice": "at most per invoice",
        "autopay_turn_off": "Turn automatic payment off",
        "autopay_done": "Automatic payment is on. Each invoice will be charged on its due date.",
        "autopay_stopped": "Automatic payment is off. Nothing more will be charged automatically.",
        "autopay_consent_needed": "Please tick the authorisation to set up automatic payment.",
        "autopay_failed": "Automatic payment could not be set up. Please try again.",
        "bad_limit": "Please enter a maximum above zero in the currency of your invoices, or leave it empty.",
        "downloads": "Downloads",
        "original_xml": "E-invoice as received (XML)",
        "attachment": "Attachment",
        "what_next": "Something wrong, or need more time?",
        "dispute_action": "Question or dispute this invoice",
        "promise_action": "Promise to pay by a date",
        "lines": "Lines",
        "description": "Description",
        "quantity": "Quantity",
        "net": "Net",
        "po_needed": (
            "Your accounts-payable team needs a purchase order number on this invoice before "
            "it can be paid. Please give it here:"
        ),
        "po_number": "PO number",
        "send": "Send",
        "po_received": "Thank you: the PO number is recorded and the invoice is on its way to you.",
        "documents_needed": (
            "Your accounts-payable team needs the following with this invoice "
            "before it can be paid. Please give it here; we send the invoice as "
            "soon as it is complete."
        ),
        "contract_reference": "Contract reference",
        "delivery_note": "Signed delivery note",
        "timesheet": "Approved timesheet",
        "upload": "Upload",
        "upload_types": "PDF, PNG or JPEG, up to 10 MB",
        "upload_received": "Thank you: the document is kept with the invoice.",
        "upload_missing": "The upload did not arrive; please try again.",
        "upload_too_large": "This document was not kept: it is larger than 10 MB.",
        "upload_wrong_type": "This document was not kept: only PDF, PNG and JPEG files are taken.",
        "upload_not_ours": "This upload is not one this invoice asked for.",
        "upload_too_many": "This invoice already has as many documents as it can keep.",
        "reference_received": "Thank you: that is recorded. The invoice still needs what is shown below.",
        "held": "Waiting for a document from you",
    },
    "fr": {
        "account": "Votre compte",
        "open_invoices": "Factures ouvertes",
        "invoice": "Facture",
        "issued": "Émise le",
        "due": "Échéance",
        "status": "Statut",
        "amount_due": "Montant dû",
        "days_late": "Jours de retard",
        "nothing_open": "Aucune facture ouverte : merci.",
        "credits": "Avoirs disponibles",
        "no_credits": "Aucun avoir disponible.",
        "payments": "Paiements récents",
        "no_payments": "Aucun paiement pour l'instant.",
        "received": "Reçu le",
        "amount": "Montant",
        "reference": "Référence",
        "in_progress": "Contestations et promesses en cours",
        "none_in_progress": "Aucune.",
        "dispute": "Contestation",
        "promise": "Promesse de paiement",
        "statement": "Relevé de compte",
        "from": "Du",
        "to": "Au",
        "currency": "Devise",
        "show": "Afficher",
        "download_csv": "Télécharger en CSV",
        "opening": "Solde d'ouverture",
        "closing": "Solde de clôture",
        "balance": "Solde",
        "date": "Date",
        "kind_invoice": "Facture",
        "kind_credit_note": "Avoir",
        "kind_payment": "Paiement",
        "language": "Langue",
        "change": "Changer",
        "sign_out": "Se déconnecter",
        "signed_out": "Vous êtes déconnecté",
        "denied_title": "Veuillez ouvrir le lien reçu par e-mail",
        "no_session": "Pour voir votre compte, ouvrez le lien de l'un de nos e-mails.",
        "expired": "Votre session a expiré. Ouvrez à nouveau le lien de votre e-mail.",
        "revoked": "Ce lien n'est plus valable. Demandez-nous-en un nouveau.",
        "invalid": "Ce lien n'est pas valable. Utilisez-le tel que vous l'avez reçu.",
        "csrf": "Le formulaire a expiré. Rechargez la page et recommencez.",
        "back": "Retour à votre compte",
        "status_open": "Ouverte",
        "status_partially_paid": "Partiellement payée",
        "status_disputed": "En cours d'examen",
        "status_paid": "Payée",
        "start_intro": (
            "Saisissez l'adresse à laquelle nous envoyons vos factures : nous vous "
            "enverrons un lien vers votre compte."
        ),
        "email": "Adresse e-mail",
        "send_link": "Recevoir un lien",
        "link_sent": (
            "Si cette adresse est celle d'un de nos clients, un lien vers le "
            "compte vous est envoyé. Il reste valable quelques semaines."
        ),
        "slow_down": "Trop de demandes depuis cet endroit. Réessayez dans une heure.",
        "total": "Total",
        "tax": "TVA",
        "download_pdf": "PDF",
        "not_found": "Cette facture ne figure pas sur votre compte.",
        "use_credit": "Utiliser d'abord mon avoir",
        "part_amount": "Montant à payer maintenant",
        "all_of_it": "la totalité",
        "partial_not_allowed": "Veuillez régler les factures choisies en totalité.",
        "bad_amount": "Indiquez un montant positif, au plus égal au total des factures choisies.",
        "select": "Payer",
        "pay_selected": "Payer les factures cochées",
        "cannot_pay": (
            "Cochez une ou plusieurs de vos factures ouvertes, dans une même "
            "devise et sans contestation en cours."
        ),
        "too_many": "Payez au plus 15 factures à la fois.",
        "paid_notice": (
            "Merci : votre paiement est en cours de traitement. Les factures "
            "apparaîtront bientôt comme payées."
        ),
        "bad_range": "Indiquez une date de début antérieure à la date de fin, sur 3 ans au plus.",
        "pay_by_card": "Payer par carte",
        "pay_by_sepa_debit": "Payer par prélèvement SEPA",
        "pay_by_us_bank_account": "Payer par prélèvement ACH (compte bancaire américain)",
        "pay_by_bank_transfer": "Payer par virement",
        "method_not_offered": "Ce moyen de paiement n'est pas disponible pour ces factures.",
        "bank_transfer_intro": (
            "Merci de virer le montant ci-dessous sur notre compte, avec la référence "
            "exactement comme indiquée, afin que votre paiement soit rapproché de ces "
            "factures."
        ),
        "account_details": "Notre compte",
        "payment_reference": "Référence de paiement",
        "quote_reference": (
            "Merci d'indiquer cette référence avec votre virement afin qu'il soit rapproché de cette facture."
        ),
        "transfer_to_account": "Merci de virer le montant ci-dessous sur notre compte.",
        "processing": "Paiement en cours",
        "payment_failed": "Dernier paiement refusé",
        "autopay": "Paiement automatique",
        "autopay_offer": "Nous débitons une carte ou un compte enregistré à chaque échéance.",
        "autopay_max": "Au plus par facture (facultatif)",
        "autopay_consent": (
            "J'autorise le débit de ce moyen de paiement pour chacune de mes factures à son "
            "échéance, jusqu'à ce que je désactive le paiement automatique."
        ),
        "autopay_set_up": "Activer le paiement automatique",
        "autopay_on": "Le paiement automatique est activé avec",
        "autopay_per_invoice": "au plus par facture",
        "autopay_turn_off": "Désactiver le paiement automatique",
        "autopay_done": "Le paiement automatique est activé. Chaque facture sera débitée à son échéance.",
        "autopay_stopped": "Le paiement automatique est désactivé. Plus rien ne sera débité automatiquement.",
        "autopay_consent_needed": "Merci de cocher l'autorisation pour activer le paiement automatique.",
        "autopay_failed": "Le paiement automatique n'a pas pu être activé. Merci de réessayer.",
        "bad_limit": (
            "Merci d'indiquer un maximum supérieur à zéro dans la devise de vos factures, ou "
            "de le laisser vide."
        ),
        "downloads": "Téléchargements",
        "original_xml": "Facture électronique reçue (XML)",
        "attachment": "Pièce jointe",
        "what_next": "Un problème, ou besoin de plus de temps ?",
        "dispute_action": "Contester cette facture ou poser une question",
        "promise_action": "Promettre de payer à une date",
        "lines": "Lignes",
        "description": "Désignation",
        "quantity": "Quantité",
        "net": "Net",
        "po_needed": (
            "Votre service comptable a besoin d'un numéro de bon de commande sur cette "
            "facture avant de la payer. Merci de l'indiquer ici :"
        ),
        "po_number": "Numéro de bon de commande",
        "send": "Envoyer",
        "po_received": "Merci : le numéro de commande est enregistré et la facture vous est envoyée.",
        "documents_needed": (
            "Votre service comptable a besoin des éléments suivants avec cette "
            "facture avant de la payer. Merci de nous les transmettre ici ; nous "
            "envoyons la facture dès qu'elle est complète."
        ),
        "contract_reference": "Référence du contrat",
        "delivery_note": "Bon de livraison signé",
        "timesheet": "Feuille de temps validée",
        "upload": "Envoyer le fichier",
        "upload_types": "PDF, PNG ou JPEG, 10 Mo au plus",
        "upload_received": "Merci : le document est conservé avec la facture.",
        "upload_missing": "Le fichier n'est pas arrivé ; merci de réessayer.",
        "upload_too_large": "Ce document n'a pas été conservé : il dépasse 10 Mo.",
        "upload_wrong_type": (
            "Ce document n'a pas été conservé : seuls les fichiers PDF, PNG et JPEG sont acceptés."
        ),
        "upload_not_ours": "Cet envoi ne correspond à aucune demande pour cette facture.",
        "upload_too_many": "Cette facture a déjà autant de documents qu'elle peut en conserver.",
        "reference_received": (
            "Merci, c'est enregistré. La facture attend encore ce qui est indiqué ci-dessous."
        ),
        "held": "En attente d'un document de votre part",
    },
    "de": {
        "account": "Ihr Konto",
        "open_invoices": "Offene Rechnungen",
        "invoice": "Rechnung",
        "issued": "Ausgestellt",
        "due": "Fällig",
        "status": "Status",
        "amount_due": "Offener Betrag",
        "days_late": "Tage überfällig",
        "nothing_open": "Nichts offen: vielen Dank.",
        "credits": "Verfügbare Guthaben",
        "no_credits": "Kein Guthaben verfügbar.",
        "payments": "Letzte Zahlungen",
        "no_payments": "Noch keine Zahlung.",
        "received": "Eingegangen",
        "amount": "Betrag",
        "reference": "Referenz",
        "in_progress": "Laufende Reklamationen und Zahlungszusagen",
        "none_in_progress": "Keine.",
        "dispute": "Reklamation",
        "promise": "Zahlungszusage",
        "statement": "Kontoauszug",
        "from": "Von",
        "to": "Bis",
        "currency": "Währung",
        "show": "Anzeigen",
        "download_csv": "Als CSV herunterladen",
        "opening": "Anfangssaldo",
        "closing": "Schlusssaldo",
        "balance": "Saldo",
        "date": "Datum",
        "kind_invoice": "Rechnung",
        "kind_credit_note": "Gutschrift",
        "kind_payment": "Zahlung",
        "language": "Sprache",
        "change": "Ändern",
        "sign_out": "Abmelden",
        "signed_out": "Sie sind abgemeldet",
        "denied_title": "Bitte öffnen Sie den Link aus Ihrer E-Mail",
        "no_session": "Um Ihr Konto zu sehen, öffnen Sie den Link in einer unserer E-Mails.",
        "expired": "Ihre Sitzung ist abgelaufen. Öffnen Sie den Link aus Ihrer E-Mail erneut.",
        "revoked": "Dieser Link ist nicht mehr gültig. Bitte fordern Sie einen neuen an.",
        "invalid": "Dieser Link ist ungültig. Bitte verwenden Sie ihn genau so, wie Sie ihn erhalten haben.",
        "csrf": "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
        "back": "Zurück zu Ihrem Konto",
        "status_open": "Offen",
        "status_partially_paid": "Teilweise bezahlt",
        "status_disputed": "In Prüfung",
        "status_paid": "Bezahlt",
        "start_intro": (
            "Geben Sie die E-Mail-Adresse ein, an die wir Ihre Rechnungen senden: "
            "Wir schicken Ihnen einen Link zu Ihrem Konto."
        ),
        "email": "E-Mail-Adresse",
        "send_link": "Link senden",
        "link_sent": (
            "Wenn diese Adresse zu einem unserer Kunden gehört, ist ein Link zum "
            "Konto unterwegs. Er gilt einige Wochen."
        ),
        "slow_down": "Zu viele Anfragen von hier. Bitte versuchen Sie es in einer Stunde erneut.",
        "total": "Gesamt",
        "tax": "Steuer",
        "download_pdf": "PDF",
        "not_found": "Diese Rechnung gibt es in Ihrem Konto nicht.",
        "use_credit": "Zuerst mein Guthaben verwenden",
        "part_amount": "Jetzt zu zahlender Betrag",
        "all_of_it": "alles",
        "partial_not_allowed": "Bitte bezahlen Sie die ausgewählten Rechnungen vollständig.",
        "bad_amount": "Bitte einen Betrag über null und höchstens die Summe der ausgewählten Rechnungen.",
        "select": "Zahlen",
        "pay_selected": "Ausgewählte Rechnungen bezahlen",
        "cannot_pay": (
            "Bitte wählen Sie eine oder mehrere offene Rechnungen in einer Währung "
            "und ohne laufende Reklamation."
        ),
        "too_many": "Bitte höchstens 15 Rechnungen auf einmal bezahlen.",
        "paid_notice": (
            "Vielen Dank: Ihre Zahlung wird verarbeitet. Die Rechnungen erscheinen in Kürze als bezahlt."
        ),
        "bad_range": "Bitte ein Anfangsdatum vor dem Enddatum angeben, höchstens 3 Jahre.",
        "pay_by_card": "Mit Karte bezahlen",
        "pay_by_sepa_debit": "Per SEPA-Lastschrift bezahlen",
        "pay_by_us_bank_account": "Per ACH-Lastschrift (US-Bankkonto) bezahlen",
        "pay_by_bank_transfer": "Per Überweisung bezahlen",
        "method_not_offered": "Diese Zahlungsart ist für diese Rechnungen nicht verfügbar.",
        "bank_transfer_intro": (
            "Bitte überweisen Sie den folgenden Betrag auf unser Konto, mit dem "
            "Verwendungszweck genau wie angegeben, damit Ihre Zahlung diesen Rechnungen "
            "zugeordnet wird."
        ),
        "account_details": "Unser Konto",
        "payment_reference": "Zahlungsreferenz",
        "quote_reference": (
            "Bitte geben Sie diese Referenz bei Ihrer Überweisung an, damit Ihre Zahlung dieser "
            "Rechnung zugeordnet wird."
        ),
        "transfer_to_account": "Bitte überweisen Sie den folgenden Betrag auf unser Konto.",
        "processing": "Zahlung in Bearbeitung",
        "payment_failed": "Letzte Zahlung fehlgeschlagen",
        "autopay": "Automatische Zahlung",
        "autopay_offer": "Wir belasten eine hinterlegte Karte oder ein Bankkonto zu jedem Fälligkeitstermin.",
        "autopay_max": "Höchstens pro Rechnung (optional)",
        "autopay_consent": (
            "Ich ermächtige die Belastung dieses Zahlungsmittels für jede meiner Rechnungen "
            "am Fälligkeitstag, bis ich die automatische Zahlung abschalte."
        ),
        "autopay_set_up": "Automatische Zahlung einrichten",
        "autopay_on": "Die automatische Zahlung ist aktiv mit",
        "autopay_per_invoice": "höchstens pro Rechnung",
        "autopay_turn_off": "Automatische Zahlung abschalten",
        "autopay_done": "Die automatische Zahlung ist aktiv. Jede Rechnung wird am Fälligkeitstag belastet.",
        "autopay_stopped": (
            "Die automatische Zahlung ist abgeschaltet. Es wird nichts mehr automatisch belastet."
        ),
        "autopay_consent_needed": (
            "Bitte bestätigen Sie die Ermächtigung, um die automatische Zahlung einzurichten."
        ),
        "autopay_failed": (
            "Die automatische Zahlung konnte nicht eingerichtet werden. Bitte versuchen Sie es erneut."
        ),
        "bad_limit": (
            "Bitte geben Sie einen Höchstbetrag über null in der Währung Ihrer Rechnungen an "
            "oder lassen Sie das Feld leer."
        ),
        "downloads": "Downloads",
        "original_xml": "E-Rechnung wie empfangen (XML)",
        "attachment": "Anhang",
        "what_next": "Stimmt etwas nicht, oder brauchen Sie mehr Zeit?",
        "dispute_action": "Rechnung beanstanden oder eine Frage stellen",
        "promise_action": "Zahlung zu einem Datum zusagen",
        "lines": "Positionen",
        "description": "Beschreibung",
        "quantity": "Menge",
        "net": "Netto",
        "po_needed": (
            "Ihre Kreditorenbuchhaltung benötigt für diese Rechnung eine Bestellnummer, bevor "
            "sie bezahlt werden kann. Bitte geben Sie sie hier an:"
        ),
        "po_number": "Bestellnummer",
        "send": "Senden",
        "po_received": "Danke: Die Bestellnummer ist erfasst, und die Rechnung ist unterwegs zu Ihnen.",
        "documents_needed": (
            "Ihre Kreditorenbuchhaltung braucht zu dieser Rechnung Folgendes, bevor "
            "sie bezahlt werden kann. Bitte geben Sie es hier an; wir senden die "
            "Rechnung, sobald sie vollständig ist."
        ),
        "contract_reference": "Vertragsreferenz",
        "delivery_note": "Unterschriebener Lieferschein",
        "timesheet": "Freigegebener Stundenzettel",
        "upload": "Hochladen",
        "upload_types": "PDF, PNG oder JPEG, höchstens 10 MB",
        "upload_received": "Danke: Das Dokument ist bei der Rechnung abgelegt.",
        "upload_missing": "Die Datei ist nicht angekommen; bitte versuchen Sie es erneut.",
        "upload_too_large": "Dieses Dokument wurde nicht behalten: Es ist größer als 10 MB.",
        "upload_wrong_type": (
            "Dieses Dokument wurde nicht behalten: Nur PDF-, PNG- und JPEG-Dateien werden angenommen."
        ),
        "upload_not_ours": "Dieser Upload gehört zu keiner Anforderung dieser Rechnung.",
        "upload_too_many": "Diese Rechnung hat bereits so viele Dokumente, wie sie aufnehmen kann.",
        "reference_received": "Danke, das ist erfasst. Die Rechnung braucht noch, was unten steht.",
        "held": "Wartet auf ein Dokument von Ihnen",
    },
}


def language_of(preferred: str | None) -> str:
    """The portal language for a customer's preference ("fr-BE" → "fr"), English by default."""
    code = (preferred or "").lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def labelled(label: str, value: str, language: str) -> str:
    """``label: value`` as the language writes it: French puts a (no-break) space before the colon.

    >>> labelled("Notre compte", "IBAN FR76", "fr")
    'Notre compte\xa0: IBAN FR76'
    """
    return f"{label}\u00a0: {value}" if language == "fr" else f"{label}: {value}"


def money(amount: Money, language: str) -> str:
    """``amount`` as the language's locale writes it: 1,190.00 € / 1 190,00 € / 1.190,00 €."""
    from babel.numbers import format_currency

    return str(format_currency(amount.to_decimal(), amount.currency, locale=language))


def day(value: date, language: str) -> str:
    """``value`` as the language's locale writes it (medium form: 31 Oct 2026 / 31 oct. 2026)."""
    from babel.dates import format_date

    return str(format_date(value, format="medium", locale=language))
