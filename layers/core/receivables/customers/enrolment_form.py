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

Identifiers are checked with python-stdnum, per country (`enrolment_ids`: VAT and company
numbers, IBANs, Peppol endpoints), and every refusal is phrased from the catalogue
(`enrolment_messages`: en, fr, de) in the form's language; the fields themselves (their order,
lengths and choices) and the reading of their raw text are `enrolment_fields`'.

Text is normalised before it is checked: Unicode NFC, whitespace trimmed and collapsed to single
spaces; control characters (other than tabs and line breaks, which count as spaces) and
bidirectional overrides are refused, since they are invisible in a form and in a PDF. Money is never
a float: the standing order's amount is parsed from its decimal string into `Money` exactly, and an
amount with more decimals than the customer's currency has is refused, not rounded.

Pure logic: no AWS, no I/O (the time-zone list is read once from the tz database and cached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from receivables.customers.enrolment_fields import (
    CONTACT_PARTS,
    COUNTRIES,
    EU_VAT_AREA,
    FIELD_ORDER,
    INVOICE_DELIVERIES,
    LANGUAGES,
    LARGEST_AMOUNT_DIGITS,
    LONGEST_ADDRESS_LINE,
    LONGEST_CHOICE,
    LONGEST_CITY,
    LONGEST_CONTACT_NAME,
    LONGEST_EMAIL,
    LONGEST_EMAIL_LOCAL,
    LONGEST_LEGAL_NAME,
    LONGEST_PO_NUMBER,
    LONGEST_POSTCODE,
    LONGEST_TIME_ZONE,
    MAX_CONTACTS,
    PAYMENT_METHODS,
    REQUIREMENTS,
    ROLES,
    Form,
)
from receivables.customers.enrolment_ids import read_iban, read_peppol, read_registration, read_vat
from receivables.customers.enrolment_messages import language_code
from receivables.kernel.money import Money, MoneyError, currency_exponent, normalise_currency
from receivables.ledger.model import StandingPo

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from receivables.kernel.errors import FieldError

_AMOUNT = re.compile(rf"\d{{1,{LARGEST_AMOUNT_DIGITS}}}(?:\.\d+)?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_DOMAIN_LABEL = re.compile(r"(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?(?<!-)", re.UNICODE)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_QUOTED_ONLY = frozenset('<>()[]\\,;:"')  # legal in an address's local part only when quoted

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

    def postal_address(self) -> tuple[str, ...]:
        """The billing address as the lines of an envelope (for invoices on paper); empty until
        the street, postcode and city are given."""
        if not (self.address_line1 and self.postcode and self.city):
            return ()
        lines = (
            self.legal_name,
            self.address_line1,
            self.address_line2,
            f"{self.postcode} {self.city}",
            self.country,
        )
        return tuple(line for line in lines if line)

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
    form = Form(fields, language_code(language))
    code = normalise_currency(currency)
    country = _country(form)
    contacts = _contacts(form)
    details = EnrolmentDetails(
        legal_name=form.text("legal_name", LONGEST_LEGAL_NAME),
        country=country,
        registration_id=read_registration(form, country),
        vat_id=read_vat(form, country),
        address_line1=form.text("address_line1", LONGEST_ADDRESS_LINE),
        address_line2=form.text("address_line2", LONGEST_ADDRESS_LINE),
        postcode=form.text("postcode", LONGEST_POSTCODE),
        city=form.text("city", LONGEST_CITY),
        contacts=contacts,
        invoice_delivery=form.choice("invoice_delivery", INVOICE_DELIVERIES),
        peppol_endpoint=read_peppol(form),
        preferred_method=form.choice("preferred_method", PAYMENT_METHODS),
        bank_iban=read_iban(form),
        requirements=_requirements(form, requirements),
        standing_po=_standing_po(form, code),
        time_zone=_time_zone(form),
    )
    if complete:
        _require(form, details)
    return details, form.sorted_errors()


def _country(form: Form) -> str | None:
    text = form.text("country", LONGEST_CHOICE)
    if text is None:
        return None
    code = text.upper()
    if code not in COUNTRIES:
        form.error("country", "country_invalid")
        return None
    return code


# --- contacts, email --------------------------------------------------------------------------------------


def _contacts(form: Form) -> tuple[Contact, ...]:
    contacts = []
    for index in range(MAX_CONTACTS):
        contact = _contact(form, index)
        if contact is not None:
            contacts.append(contact)
    return tuple(contacts)


def _contact(form: Form, index: int) -> Contact | None:
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


def _email(form: Form, name: str) -> str | None:
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


def _requirements(form: Form, ticked: Sequence[str]) -> tuple[str, ...]:
    chosen = {" ".join(item.split()) for item in ticked} - {""}
    if chosen - set(REQUIREMENTS):
        form.error("requirements", "not_a_choice")
    return tuple(r for r in REQUIREMENTS if r in chosen)


_PO_FIELDS = ("standing_po_number", "standing_po_amount", "standing_po_valid_until")


def _standing_po(form: Form, currency: str) -> StandingPo | None:
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


def _amount(form: Form, name: str, currency: str) -> Money | None:
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


def _date(form: Form, name: str) -> date | None:
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


def _time_zone(form: Form) -> str | None:
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


def _require(form: Form, details: EnrolmentDetails) -> None:
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
