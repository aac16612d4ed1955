"""A company's VAT and registration numbers, checked the way its country writes them.

The enrolment form (and finance, editing a customer) takes a VAT id and a company registration
number per country. python-stdnum knows each country's format and check digits; this module
picks the right check for the country, turns its exceptions into a sentence that tells the
customer what is wrong, and returns the number in its compact form (``DE136695976``), which is
how the ledger keeps identifiers (`receivables.ledger.model.PartyId`).

A country python-stdnum has no check for keeps what was typed, trimmed, within 35 characters:
we do not refuse a real company because a library does not know its registry.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from receivables.kernel.errors import FieldError, InvalidRequestError

# The registration number's scheme per country, where python-stdnum has one.
REGISTRATION_SCHEMES = {
    "AT": "at.businessid",
    "CH": "ch.uid",
    "DE": "de.handelsregisternummer",
    "DK": "dk.cvr",
    "ES": "es.cif",
    "FI": "fi.ytunnus",
    "FR": "fr.siren",
    "GB": "gb.utr",
    "NO": "no.orgnr",
    "SE": "se.orgnr",
    "US": "us.ein",
}
LONGEST_UNCHECKED = 35
# Countries whose VAT ids start with another code than their ISO 3166 one.
VAT_PREFIX = {"GR": "EL"}


def _reason(exc: Exception) -> str:
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

    if isinstance(exc, InvalidChecksum):
        return "the check digits do not match: a digit is probably mistyped"
    if isinstance(exc, InvalidLength):
        return "has the wrong number of characters"
    if isinstance(exc, InvalidComponent):
        return "has a part that cannot be (a wrong office, date or code)"
    if isinstance(exc, InvalidFormat):
        return "is not written as this country writes it"
    return "is not valid"


def _module(path: str) -> Any:
    return import_module(f"stdnum.{path}")


def check_vat(country: str, value: str, field: str = "vat_id") -> str:
    """The VAT id ``value`` of a company in ``country`` (ISO 3166 alpha-2), compact and with its
    country prefix (``DE136695976``); `InvalidRequestError` naming ``field`` and what is wrong."""
    from stdnum import get_cc_module
    from stdnum.exceptions import ValidationError

    code = country.strip().upper()
    text = value.strip()
    if len(code) != 2 or not code.isalpha():
        raise _invalid("country", "must be a two-letter country code (ISO 3166), e.g. DE")
    if not text:
        raise _invalid(field, "is empty")
    module = get_cc_module(code.lower(), "vat")
    if module is None:
        return _unchecked(text, field)
    try:
        compact = str(module.validate(text))
    except ValidationError as exc:
        raise _invalid(field, f"{text!r} {_reason(exc)} for a {code} VAT id") from None
    prefix = VAT_PREFIX.get(code, code)
    return compact if compact.startswith(prefix) else prefix + compact


def check_registration(country: str, value: str, field: str = "registration_id") -> str:
    """The company registration number ``value`` in ``country``, compact; `InvalidRequestError`
    naming ``field`` and what is wrong (checked where python-stdnum knows the country's registry)."""
    from stdnum.exceptions import ValidationError

    code = country.strip().upper()
    text = value.strip()
    if not text:
        raise _invalid(field, "is empty")
    scheme = REGISTRATION_SCHEMES.get(code)
    if scheme is None:
        return _unchecked(text, field)
    try:
        return str(_module(scheme).validate(text))
    except ValidationError as exc:
        raise _invalid(field, f"{text!r} {_reason(exc)} for a {code} company number") from None


def _invalid(field: str, reason: str) -> InvalidRequestError:
    return InvalidRequestError([FieldError(field, reason)])


def _unchecked(text: str, field: str) -> str:
    if len(text) > LONGEST_UNCHECKED:
        raise _invalid(field, f"is longer than {LONGEST_UNCHECKED} characters")
    return " ".join(text.split())
