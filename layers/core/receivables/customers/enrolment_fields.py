"""The enrolment form's fields: which there are, in the order they appear, how long each may be,
the choices offered, the countries, and `Form`, which reads the raw text of a field (normalised:
Unicode NFC, whitespace trimmed and collapsed; control characters and bidirectional overrides
refused) and collects the errors, each explained from the catalogue (`enrolment_messages`).

`receivables.customers.enrolment_form` checks the form with these.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from receivables.customers.enrolment_messages import message
from receivables.kernel.errors import FieldError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ROLES = ("accounts_payable", "billing", "finance_manager", "other")
LANGUAGES = ("en", "fr", "de")
INVOICE_DELIVERIES = ("email_pdf", "email_einvoice", "portal_only", "paper")
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

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Form:
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
