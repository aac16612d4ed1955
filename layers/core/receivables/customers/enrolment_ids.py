"""The enrolment form's identifiers, per country: VAT and company numbers through
`receivables.kernel.company_ids` (which decides the scheme per country and returns the compact form),
IBANs with ``stdnum.iban``, Peppol endpoints with the check of their scheme where one is known (GLN,
Norwegian and Belgian company numbers, VAT-based schemes ...). `company_ids` explains in English; here
the *cause* of a refusal (check digit, length, format, component) is looked up once more from
stdnum's exception class and phrased from the form's catalogue instead.

Each ``read_*`` reads its field from a `Form`: the compact value, or ``None`` with the error reported.
"""

from __future__ import annotations

import re
from importlib import import_module
from typing import TYPE_CHECKING, Any

from receivables.customers.enrolment_fields import COUNTRIES, LONGEST_CHOICE, LONGEST_ID, LONGEST_PEPPOL_ID
from receivables.kernel.company_ids import (
    LONGEST_UNCHECKED,
    REGISTRATION_SCHEMES,
    VAT_PREFIX,
    check_registration,
    check_vat,
)
from receivables.kernel.errors import InvalidRequestError

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.customers.enrolment_fields import Form

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

_PEPPOL = re.compile(r"(\d{4}):(\S+)", re.ASCII)


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


def read_vat(form: Form, country: str | None) -> str | None:
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


def _vat_error(form: Form, country: str, text: str) -> None:
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


def read_registration(form: Form, country: str | None) -> str | None:
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


def read_iban(form: Form) -> str | None:
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


def read_peppol(form: Form) -> str | None:
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
