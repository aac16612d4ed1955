"""VAT and company registration numbers per country: the check digits checked, the number kept
in its compact form, and a sentence that says what is wrong when it is not right."""

from __future__ import annotations

import pytest

from receivables.kernel.company_ids import check_registration, check_vat
from receivables.kernel.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("DE", "DE 136 695 976", "DE136695976"),
        ("DE", "136695976", "DE136695976"),  # the prefix is added
        ("FR", "FR 23 334 175 221", "FR23334175221"),
        ("GB", "GB 980 7806 84", "GB980780684"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("IT", "IT 00743110157", "IT00743110157"),
        ("AT", "AT U13585627", "ATU13585627"),
        ("NO", "NO 995 525 828 MVA", "NO995525828MVA"),
    ],
)
def test_a_valid_vat_id_is_kept_compact_with_its_country_prefix(country: str, typed: str, kept: str) -> None:
    assert check_vat(country, typed) == kept


@pytest.mark.parametrize(
    ("country", "typed", "why"),
    [
        ("DE", "DE136695978", "check digits do not match"),
        ("GB", "802311781", "check digits do not match"),
        ("DE", "DE1366959", "wrong number of characters"),
        ("IT", "00743110158", "check digits do not match"),
    ],
)
def test_a_wrong_vat_id_says_what_is_wrong(country: str, typed: str, why: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        check_vat(country, typed)
    (error,) = refused.value.errors
    assert (
        error.field == "vat_id" and why in error.reason and typed in error.reason and country in error.reason
    )


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("FR", "404 833 048", "404833048"),
        ("DK", "DK 13585628", "13585628"),
        ("NO", "988 077 917", "988077917"),
        ("FI", "2077474-0", "20774740"),
        ("US", "91-1144442", "911144442"),
        ("IE", "  123456  CRO ", "123456 CRO"),  # no check known: kept as typed, trimmed
    ],
)
def test_a_registration_number_is_checked_where_the_registry_is_known(
    country: str, typed: str, kept: str
) -> None:
    assert check_registration(country, typed).replace("-", "") == kept.replace("-", "")


def test_a_wrong_registration_number_and_an_unknown_country_code_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="registration_id: '404 833 047' the check digits"):
        check_registration("FR", "404 833 047")
    with pytest.raises(InvalidRequestError, match="country: must be a two-letter country code"):
        check_vat("Germany", "DE136695976")
    with pytest.raises(InvalidRequestError, match="longer than 35"):
        check_registration("IE", "x" * 36)
