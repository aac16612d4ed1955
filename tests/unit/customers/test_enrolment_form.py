"""The enrolment form: each field checked per country, drafts keep only good values, a submission
needs what a customer must give, and every mistake is explained in the form's language."""

from __future__ import annotations

import json
import string
import unicodedata
from datetime import date
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.customers.enrolment_fields import CONTACT_PARTS, FIELD_ORDER, REQUIREMENTS
from receivables.customers.enrolment_form import Contact, EnrolmentDetails, parse_enrolment
from receivables.customers.enrolment_messages import MESSAGES, message
from receivables.kernel.money import Money
from receivables.ledger.model import StandingPo

if TYPE_CHECKING:
    from receivables.kernel.errors import FieldError

GOOD: dict[str, str] = {
    "legal_name": "Muster Maschinenbau GmbH",
    "country": "DE",
    "registration_id": "Aachen HRB 44123",
    "vat_id": "DE 136 695 976",
    "address_line1": "Hauptstraße 1",
    "postcode": "52062",
    "city": "Aachen",
    "contact_0_name": "Anna Schmidt",
    "contact_0_email": "anna.schmidt@Muster.DE",
    "contact_0_role": "accounts_payable",
    "contact_0_language": "de",
    "invoice_delivery": "email_pdf",
    "preferred_method": "sepa_debit",
    "bank_iban": "DE89 3704 0044 0532 0130 00",
    "time_zone": "Europe/Berlin",
}


def parse(
    fields: dict[str, str],
    *,
    complete: bool = False,
    requirements: tuple[str, ...] = (),
    currency: str = "EUR",
    language: str = "en",
) -> tuple[EnrolmentDetails, list[FieldError]]:
    return parse_enrolment(fields, requirements, currency, complete=complete, language=language)


def errors_on(errors: list[FieldError], field: str) -> list[str]:
    return [e.reason for e in errors if e.field == field]


def only_error(fields: dict[str, str], field: str) -> str:
    _, errors = parse(fields)
    assert [e.field for e in errors] == [field], errors
    return errors[0].reason


# --- the catalogue ----------------------------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_three_catalogues_have_the_same_keys_and_placeholders() -> None:
    english = MESSAGES["en"]
    assert set(MESSAGES) == {"en", "fr", "de"}
    for language, catalogue in MESSAGES.items():
        assert set(catalogue) == set(english), language
        for key, text in catalogue.items():
            assert _placeholders(text) == _placeholders(english[key]), (language, key)
            assert text.strip() and text.rstrip()[-1] in ".!", (language, key)


def test_french_and_german_are_not_english_left_untranslated() -> None:
    for key, text in MESSAGES["en"].items():
        assert MESSAGES["fr"][key] != text and MESSAGES["de"][key] != text, key


def test_a_language_we_do_not_speak_falls_back_to_english_and_regions_are_ignored() -> None:
    assert message("required", "es") == MESSAGES["en"]["required"]
    assert message("required", "fr-CH") == MESSAGES["fr"]["required"]
    assert (
        message("too_long", "DE", max=20)
        == "Dieser Text ist zu lang: Bitte kürzen Sie ihn auf höchstens 20 Zeichen."
    )


@pytest.mark.parametrize("language", ["fr", "de"])
def test_errors_come_in_the_forms_language(language: str) -> None:
    fields = {
        **GOOD,
        "vat_id": "DE136695978",
        "contact_0_email": "anna at muster.de",
        "time_zone": "Mars/Olympus",
    }
    _, errors = parse(fields, complete=True, language=language)
    assert {e.field: e.reason for e in errors} == {
        "vat_id": message("vat_checksum", language, country="DE"),
        "contact_0_email": message("email_invalid", language),
        "time_zone": message("time_zone_invalid", language),
    }


# --- a good form ------------------------------------------------------------------------------------------


def test_a_good_form_gives_compact_normalised_details_and_no_errors() -> None:
    details, errors = parse(GOOD, complete=True, requirements=("timesheet", "po_number"))
    assert errors == []
    assert details == EnrolmentDetails(
        legal_name="Muster Maschinenbau GmbH",
        country="DE",
        registration_id="Aachen HRB 44123",
        vat_id="DE136695976",
        address_line1="Hauptstraße 1",
        postcode="52062",
        city="Aachen",
        contacts=(Contact("Anna Schmidt", "anna.schmidt@muster.de", "accounts_payable", "de"),),
        invoice_delivery="email_pdf",
        preferred_method="sepa_debit",
        bank_iban="DE89370400440532013000",
        requirements=("po_number", "timesheet"),
        time_zone="Europe/Berlin",
    )


def test_whitespace_is_trimmed_and_collapsed_and_text_is_nfc() -> None:
    details, errors = parse({"legal_name": "  Cafe\u0301 \t du\n  Nord  ", "city": "Saint-\u00c9tienne"})
    assert errors == []
    assert details.legal_name == "Caf\u00e9 du Nord"
    assert details.city == "Saint-\u00c9tienne"


@pytest.mark.parametrize("bad", ["ACME\x00 Ltd", "ACME\x1b[31m", "ACME \u202eLtd", "ACME\x7f"])
def test_control_characters_are_refused(bad: str) -> None:
    assert only_error({"legal_name": bad}, "legal_name") == message("control_characters")


@pytest.mark.parametrize(
    ("field", "longest"),
    [("legal_name", 200), ("address_line1", 200), ("address_line2", 200), ("city", 100), ("postcode", 20)],
)
def test_text_fields_have_a_longest_length(field: str, longest: int) -> None:
    details, errors = parse({field: "x" * longest})
    assert errors == [] and getattr(details, field) == "x" * longest
    assert only_error({field: "x" * (longest + 1)}, field) == message("too_long", max=longest)


def test_the_country_is_an_iso_code_in_any_case() -> None:
    assert parse({"country": " fr "})[0].country == "FR"
    assert only_error({"country": "XX"}, "country") == message("country_invalid")
    assert only_error({"country": "Germany"}, "country") == message("country_invalid")


@pytest.mark.parametrize(
    ("field", "value"),
    [("invoice_delivery", "fax"), ("preferred_method", "cheque"), ("contact_0_role", "boss")],
)
def test_a_choice_outside_the_options_is_refused(field: str, value: str) -> None:
    fields = {**GOOD, field: value}
    assert only_error(fields, field) == message("not_a_choice")


# --- VAT ids ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("DE", "DE 136 695 976", "DE136695976"),
        ("DE", "136695976", "DE136695976"),
        ("FR", "FR 40 303 265 045", "FR40303265045"),
        ("BE", "BE 0403.019.261", "BE0403019261"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("GB", "GB 980 7806 84", "GB980780684"),
        ("NO", "NO 974 760 673 MVA", "NO974760673MVA"),
        ("GR", "EL094259216", "EL094259216"),
        ("US", "  12-3456789 ", "12-3456789"),  # no VAT check known: kept as typed, trimmed
    ],
)
def test_a_valid_vat_id_comes_back_compact(country: str, typed: str, kept: str) -> None:
    details, errors = parse({"country": country, "vat_id": typed})
    assert errors == [] and details.vat_id == kept


@pytest.mark.parametrize(
    ("country", "typed"),
    [
        ("DE", "DE136695978"),
        ("FR", "FR41303265045"),
        ("BE", "BE0403019262"),
        ("NL", "NL004495446B01"),
        ("GB", "GB980780685"),
        ("NO", "NO974760674MVA"),
    ],
)
def test_a_mistyped_check_digit_is_reported_on_the_vat_id(country: str, typed: str) -> None:
    details, errors = parse({"country": country, "vat_id": typed})
    assert details.vat_id is None
    assert errors_on(errors, "vat_id") == [message("vat_checksum", country=country)]


def test_a_vat_id_of_the_wrong_length_or_format_says_so() -> None:
    assert only_error({"country": "DE", "vat_id": "DE1366959"}, "vat_id") == message(
        "vat_length", country="DE"
    )
    assert only_error({"country": "DE", "vat_id": "DE13669597X"}, "vat_id") == message(
        "vat_format", country="DE"
    )


@pytest.mark.parametrize(
    ("country", "typed", "other"),
    [
        ("DE", "FR40303265045", "FR"),
        ("FR", "DE 136 695 976", "DE"),
        ("BE", "NL004495445B01", "NL"),
        ("NL", "BE0403019261", "BE"),
        ("GB", "NO974760673MVA", "NO"),
        ("NO", "GB980780684", "GB"),
        ("DE", "EL094259216", "GR"),
        ("US", "DE136695976", "DE"),  # even where the own country's VAT is not checked
    ],
)
def test_a_vat_id_of_another_country_is_refused_saying_so(country: str, typed: str, other: str) -> None:
    reason = only_error({"country": country, "vat_id": typed}, "vat_id")
    assert reason == message("vat_other_country", other=other, country=country)
    assert other in reason and country in reason


def test_a_vat_id_without_a_country_cannot_be_checked() -> None:
    assert only_error({"vat_id": "DE136695976"}, "vat_id") == message("vat_needs_country")


def test_an_unchecked_vat_id_is_limited_in_length() -> None:
    assert only_error({"country": "US", "vat_id": "1" * 36}, "vat_id") == message("too_long", max=35)


@pytest.mark.parametrize("country", ["DE", "FR", "BE", "NL", "GR", "IE"])
def test_a_submission_from_the_eu_vat_area_needs_the_vat_id(country: str) -> None:
    fields = {**GOOD, "country": country, "registration_id": ""}
    del fields["vat_id"]
    _, errors = parse(fields, complete=True)
    assert errors_on(errors, "vat_id") == [message("vat_required", country=country)]


@pytest.mark.parametrize("country", ["GB", "US", "NO", "CH"])
def test_outside_the_eu_the_vat_id_is_optional(country: str) -> None:
    fields = {**GOOD, "country": country, "registration_id": "", "vat_id": ""}
    assert parse(fields, complete=True)[1] == []


# --- company numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("FR", "404 833 048", "404833048"),
        ("NO", "974 760 673", "974760673"),
        ("US", "91-1144442", "911144442"),
        ("DE", "Aachen HRB 44123", "Aachen HRB 44123"),
        ("BE", "0403.019.261", "0403.019.261"),  # no registry check for BE: kept as typed
        ("NL", "3319 8457", "3319 8457"),
    ],
)
def test_a_valid_registration_number_comes_back_compact(country: str, typed: str, kept: str) -> None:
    details, errors = parse({"country": country, "registration_id": typed})
    assert errors == [] and details.registration_id == kept


@pytest.mark.parametrize(
    ("country", "typed"), [("FR", "404833049"), ("NO", "974760674"), ("GB", "1955839662")]
)
def test_a_mistyped_registration_number_is_reported(country: str, typed: str) -> None:
    reason = only_error({"country": country, "registration_id": typed}, "registration_id")
    assert reason == message("registration_checksum")


def test_a_registration_number_of_the_wrong_length_says_so() -> None:
    reason = only_error({"country": "FR", "registration_id": "4048330"}, "registration_id")
    assert reason == message("registration_length", country="FR")


def test_a_registration_number_without_a_country_cannot_be_checked() -> None:
    reason = only_error({"registration_id": "404833048"}, "registration_id")
    assert reason == message("registration_needs_country")


# --- drafts and submissions -------------------------------------------------------------------------------


def test_an_empty_draft_is_fine() -> None:
    assert parse({}) == (EnrolmentDetails(), [])


def test_an_empty_submission_names_every_required_field_in_form_order() -> None:
    _, errors = parse({}, complete=True)
    assert [e.field for e in errors] == [
        "legal_name",
        "country",
        "address_line1",
        "postcode",
        "city",
        "contact_0_name",
        "invoice_delivery",
        "time_zone",
    ]
    assert errors[0].reason == message("required")
    assert errors_on(errors, "contact_0_name") == [message("contact_required")]


def test_a_draft_reports_wrong_fields_and_keeps_only_the_good_ones() -> None:
    fields = {**GOOD, "vat_id": "DE136695978", "postcode": "1" * 21, "time_zone": "Berlin"}
    details, errors = parse(fields)
    assert [e.field for e in errors] == ["vat_id", "postcode", "time_zone"]
    assert (details.vat_id, details.postcode, details.time_zone) == (None, None, None)
    assert details.legal_name == GOOD["legal_name"] and details.city == "Aachen"


def test_a_required_field_that_is_wrong_is_reported_once() -> None:
    _, errors = parse({**GOOD, "country": "ZZ"}, complete=True)
    assert [e.field for e in errors] == ["country", "registration_id", "vat_id"]
    assert errors_on(errors, "vat_id") == [message("vat_needs_country")]


def test_errors_follow_the_order_of_the_form() -> None:
    fields = {"time_zone": "x", "legal_name": "\x00", "bank_iban": "x", "contact_1_name": "Bo"}
    _, errors = parse(fields)
    order = [FIELD_ORDER.index(e.field) for e in errors]
    assert order == sorted(order)


# --- contacts ---------------------------------------------------------------------------------------------


def _row(index: int, name: str, email: str, role: str, language: str) -> dict[str, str]:
    return dict(
        zip((f"contact_{index}_{p}" for p in CONTACT_PARTS), (name, email, role, language), strict=True)
    )


def test_empty_contact_rows_are_skipped_and_filled_ones_kept_in_order() -> None:
    fields = {
        **_row(0, "", " ", "", ""),
        **_row(1, "Jean Dupont", "jean@exemple.FR", "billing", "fr"),
        **_row(2, "Ann Lee", "ann@example.com", "accounts_payable", "en"),
    }
    details, errors = parse(fields)
    assert errors == []
    assert details.contacts == (
        Contact("Jean Dupont", "jean@exemple.fr", "billing", "fr"),
        Contact("Ann Lee", "ann@example.com", "accounts_payable", "en"),
    )


def test_a_partly_filled_contact_row_is_an_error_on_each_missing_field() -> None:
    details, errors = parse({**_row(1, "Jean Dupont", "", "billing", "")}, language="fr")
    assert details.contacts == ()
    assert {e.field: e.reason for e in errors} == {
        "contact_1_email": message("contact_incomplete", "fr"),
        "contact_1_language": message("contact_incomplete", "fr"),
    }


def test_a_contact_row_with_a_wrong_field_is_left_out() -> None:
    details, errors = parse(_row(0, "Ann", "ann@example.com", "accounts_payable", "es"))
    assert details.contacts == () and errors_on(errors, "contact_0_language") == [message("not_a_choice")]


def test_a_submission_needs_a_contact_in_accounts_payable() -> None:
    fields = {**GOOD, **_row(0, "Jean Dupont", "jean@exemple.fr", "billing", "fr")}
    _, errors = parse(fields, complete=True)
    assert errors_on(errors, "contact_0_role") == [message("contact_accounts_payable_required")]
    fields |= _row(2, "Ann Lee", "ann@example.com", "accounts_payable", "en")
    assert parse(fields, complete=True)[1] == []


def test_a_contact_name_is_at_most_100_characters() -> None:
    fields = _row(0, "x" * 101, "ann@example.com", "billing", "en")
    assert only_error(fields, "contact_0_name") == message("too_long", max=100)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Ann.Lee@Example.COM", "Ann.Lee@example.com"),
        ("  a+b@sub.example.co.uk ", "a+b@sub.example.co.uk"),
        ("jörg@müller.DE", "jörg@müller.de"),
    ],
)
def test_an_email_address_keeps_its_local_part_and_lowers_its_domain(typed: str, kept: str) -> None:
    details, errors = parse(_row(0, "Ann", typed, "billing", "en"))
    assert errors == [] and details.contacts[0].email == kept


@pytest.mark.parametrize(
    "typed",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann@@example.com",
        "a@b@example.com",
        "ann lee@example.com",
        "ann@exa mple.com",
        "ann@example..com",
        "ann@-example.com",
        "ann..lee@example.com",
        ".ann@example.com",
        "ann@example.123",
        "Ann Lee <ann@example.com>",
        '"ann"@example.com',
        "x" * 65 + "@example.com",
    ],
)
def test_a_broken_email_address_is_refused(typed: str) -> None:
    assert only_error(_row(0, "Ann", typed, "billing", "en"), "contact_0_email") == message("email_invalid")


def test_an_email_address_is_at_most_254_characters() -> None:
    typed = "ann@" + "a" * 62 + "." + "b" * 62 + "." + "c" * 62 + "." + "d" * 62 + ".com"
    assert only_error(_row(0, "Ann", typed, "billing", "en"), "contact_0_email") == message(
        "too_long", max=254
    )


# --- Peppol endpoint --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "0088:5790000435975",  # GLN
        "0088:7315458756328",
        "0192:987654325",  # Norwegian organisation number
        "0192:974760673",
        "0208:0403019261",  # Belgian enterprise number
        "0007:5560360793",  # Swedish organisation number
        "0184:13585628",  # Danish CVR
        "0002:404833048",  # SIREN
        "0009:73282932000074",  # SIRET
        "9930:DE136695976",  # German VAT id
        "9957:FR40303265045",
        "9944:NL004495445B01",
        "9925:BE0403019261",
        "9932:GB980780684",
        "9959:911144442",  # US EIN
        "0204:991-33333TEST-33",  # Leitweg-ID: no check known, accepted
        "0060:123456789",  # DUNS
        "9936:anything-goes",  # Liechtenstein VAT: no check known
    ],
)
def test_a_valid_peppol_endpoint_is_kept(endpoint: str) -> None:
    details, errors = parse({"peppol_endpoint": f" {endpoint} "})
    assert errors == [] and details.peppol_endpoint == endpoint


@pytest.mark.parametrize(
    ("endpoint", "key", "scheme"),
    [
        ("0088:7315458756324", "peppol_checksum", "0088"),
        ("0088:579000043597", "peppol_id_invalid", "0088"),  # a GLN has 13 digits
        ("0192:987654321", "peppol_checksum", "0192"),
        ("0208:0403019262", "peppol_checksum", "0208"),
        ("9930:DE136695978", "peppol_checksum", "9930"),
        ("9930:FR40303265045", "peppol_id_invalid", "9930"),
        ("0009:7328293200007", "peppol_id_invalid", "0009"),
    ],
)
def test_a_peppol_identifier_is_checked_by_its_scheme(endpoint: str, key: str, scheme: str) -> None:
    details, errors = parse({"peppol_endpoint": endpoint}, language="de")
    assert details.peppol_endpoint is None
    assert errors_on(errors, "peppol_endpoint") == [message(key, "de", scheme=scheme)]


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("5790000435975", message("peppol_format")),
        ("0088 5790000435975", message("peppol_format")),
        ("0088:", message("peppol_format")),
        ("0088:579 000", message("peppol_format")),
        ("88:5790000435975", message("peppol_format")),
        ("1234:5790000435975", message("peppol_scheme_unknown", scheme="1234")),
        ("9921:IT123", message("peppol_scheme_unknown", scheme="9921")),
        ("0060:" + "1" * 51, message("peppol_id_too_long", max=50)),
    ],
)
def test_a_malformed_peppol_endpoint_says_how_to_write_it(endpoint: str, reason: str) -> None:
    assert only_error({"peppol_endpoint": endpoint}, "peppol_endpoint") == reason


def test_the_peppol_endpoint_is_required_for_e_invoices_only() -> None:
    _, errors = parse({**GOOD, "invoice_delivery": "email_einvoice"}, complete=True)
    assert errors_on(errors, "peppol_endpoint") == [message("peppol_required")]
    fields = {**GOOD, "invoice_delivery": "email_einvoice", "peppol_endpoint": "9930:DE136695976"}
    assert parse(fields, complete=True)[1] == []
    assert parse({**GOOD, "peppol_endpoint": "0088:5790000435975"}, complete=True)[1] == []


# --- bank account, requirements, standing order, time zone ------------------------------------------------


def test_the_iban_is_checked_and_kept_compact() -> None:
    assert parse({"bank_iban": "de89 3704 0044 0532 0130 00"})[0].bank_iban == "DE89370400440532013000"
    assert only_error({"bank_iban": "DE89370400440532013001"}, "bank_iban") == message("iban_checksum")
    assert only_error({"bank_iban": "DE8937040044053201300"}, "bank_iban") == message("iban_invalid")
    assert only_error({"bank_iban": "not an iban"}, "bank_iban") == message("iban_invalid")


def test_requirements_come_back_in_their_order_without_duplicates() -> None:
    details, errors = parse({}, requirements=("contract_reference", "po_number", "po_number", ""))
    assert errors == [] and details.requirements == ("po_number", "contract_reference")
    details, errors = parse({}, requirements=("po_number", "signature"))
    assert details.requirements == ("po_number",)
    assert errors_on(errors, "requirements") == [message("not_a_choice")]


def test_a_requirements_entry_among_the_fields_is_ignored() -> None:
    assert parse({"requirements": "po_number"}) == (EnrolmentDetails(), [])


PO = {
    "standing_po_number": "PO-2026-17",
    "standing_po_amount": "12500.00",
    "standing_po_valid_until": "2026-12-31",
}


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12500.00", "EUR", 1250000),
        ("12500", "EUR", 1250000),
        ("0.01", "EUR", 1),
        ("12500", "JPY", 12500),
        ("12500.00", "JPY", 12500),  # trailing zeros are exact
        ("1.005", "KWD", 1005),
        ("999999999999.99", "USD", 99999999999999),
    ],
)
def test_a_standing_order_amount_is_exact_in_the_customers_currency(
    amount: str, currency: str, minor: int
) -> None:
    details, errors = parse({**PO, "standing_po_amount": amount}, currency=currency)
    assert errors == []
    assert details.standing_po == StandingPo("PO-2026-17", Money(minor, currency), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("12500.001", "EUR", message("amount_decimals", currency="EUR", decimals=2)),
        ("12500.5", "JPY", message("amount_decimals", currency="JPY", decimals=0)),
        ("1.0005", "KWD", message("amount_decimals", currency="KWD", decimals=3)),
        ("12 500,00", "EUR", message("amount_format")),
        ("12,500.00", "EUR", message("amount_format")),
        ("1e4", "EUR", message("amount_format")),
        ("-5", "EUR", message("amount_format")),
        ("NaN", "EUR", message("amount_format")),
        (".5", "EUR", message("amount_format")),
        ("\u0661\u0662", "EUR", message("amount_format")),  # Arabic-Indic digits
        ("1" * 13, "EUR", message("amount_format")),
        ("0.00", "EUR", message("amount_not_positive")),
    ],
)
def test_a_standing_order_amount_is_never_rounded_or_guessed(amount: str, currency: str, reason: str) -> None:
    details, errors = parse({**PO, "standing_po_amount": amount}, currency=currency)
    assert details.standing_po is None
    assert [(e.field, e.reason) for e in errors] == [("standing_po_amount", reason)]


@pytest.mark.parametrize(
    "given_fields", [("standing_po_number",), ("standing_po_amount", "standing_po_valid_until")]
)
def test_a_standing_order_is_all_three_fields_or_none(given_fields: tuple[str, ...]) -> None:
    details, errors = parse({name: PO[name] for name in given_fields})
    assert details.standing_po is None
    missing = [name for name in PO if name not in given_fields]
    assert [(e.field, e.reason) for e in errors] == [
        (name, message("standing_po_incomplete")) for name in missing
    ]


@pytest.mark.parametrize("typed", ["31.12.2026", "2026-02-30", "20261231", "2026-W01-1", "2026-12-31T00:00"])
def test_the_standing_order_date_is_an_iso_date(typed: str) -> None:
    reason = only_error({**PO, "standing_po_valid_until": typed}, "standing_po_valid_until")
    assert reason == message("date_invalid")


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/paris", "Europe/Paris"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("UTC", "UTC"),
    ],
)
def test_a_time_zone_is_an_iana_name_spelt_as_the_database_does(typed: str, kept: str) -> None:
    details, errors = parse({"time_zone": typed})
    assert errors == [] and details.time_zone == kept


@pytest.mark.parametrize(
    "typed",
    [
        "Berlin",
        "Europe/Atlantis",
        "CET+1",
        "../../etc/passwd",
        "Europe/../Europe/Berlin",
        "/usr/share/zoneinfo/Europe/Berlin",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "Factory",
        "right/Europe/Berlin",
        "Europe\\Berlin",
        "Europe/Berlin\x00",
    ],
)
def test_anything_else_is_not_a_time_zone(typed: str) -> None:
    details, errors = parse({"time_zone": typed})
    assert details.time_zone is None and [e.field for e in errors] == ["time_zone"]


# --- round trips ------------------------------------------------------------------------------------------


def _refill(details: EnrolmentDetails, currency: str = "EUR") -> tuple[EnrolmentDetails, list[FieldError]]:
    fields = details.as_fields()
    texts = {name: value for name, value in fields.items() if isinstance(value, str)}
    ticked = fields["requirements"]
    assert isinstance(ticked, list)
    return parse_enrolment(texts, ticked, currency, complete=False)


def test_a_stored_draft_refills_the_form_and_parses_back_to_itself() -> None:
    fields = {**GOOD, **PO, **_row(2, "Jean Dupont", "jean@exemple.fr", "billing", "fr")}
    fields["peppol_endpoint"] = "0088:5790000435975"
    details, errors = parse(fields, complete=True, requirements=("delivery_note",))
    assert errors == []
    refilled = details.as_fields()
    assert refilled["contact_1_name"] == "Jean Dupont" and refilled["contact_2_name"] == ""
    assert refilled["standing_po_amount"] == "12500.00" and refilled["requirements"] == ["delivery_note"]
    assert _refill(details) == (details, [])


def test_to_json_is_plain_json_and_from_json_gives_the_details_back() -> None:
    details, _ = parse({**GOOD, **PO}, requirements=("po_number",))
    data = details.to_json()
    assert data["standing_po"] == {
        "number": "PO-2026-17",
        "amount": {"amount": "12500.00", "currency": "EUR"},
        "valid_until": "2026-12-31",
    }
    assert data["contacts"][0]["email"] == "anna.schmidt@muster.de"
    assert EnrolmentDetails.from_json(json.loads(json.dumps(data))) == details
    assert EnrolmentDetails.from_json({}) == EnrolmentDetails()


@pytest.mark.parametrize(
    "data",
    [
        {"legal_name": 5},
        {"contacts": [{"name": "Ann"}]},
        {"contacts": "Ann"},
        {"requirements": [1]},
        {
            "standing_po": {
                "number": "PO1",
                "amount": {"amount": "1.001", "currency": "EUR"},
                "valid_until": "2026-01-01",
            }
        },
        {"standing_po": {"number": "PO1", "amount": "1.00", "valid_until": "2026-01-01"}},
        {"standing_po": {"number": "PO1", "amount": {"amount": "1.00", "currency": "EUR"}}},
    ],
)
def test_from_json_refuses_what_to_json_cannot_have_written(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        EnrolmentDetails.from_json(data)


_WORDS = st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=40).map(
    lambda s: " ".join(unicodedata.normalize("NFC", s).split())
)  # as the form keeps text: NFC, whitespace collapsed
_CONTACTS = st.builds(
    Contact,
    name=_WORDS.filter(bool),
    email=st.sampled_from(["ann@example.com", "Jean.Dupont@exemple.fr", "x+y@sub.example.co.uk"]),
    role=st.sampled_from(["accounts_payable", "billing", "finance_manager", "other"]),
    language=st.sampled_from(["en", "fr", "de"]),
)
_COMPANIES = st.sampled_from(
    [
        ("DE", "DE136695976", "Aachen HRB 44123"),
        ("FR", "FR40303265045", "404833048"),
        ("BE", "BE0403019261", None),
        ("NL", "NL004495445B01", None),
        ("GB", "GB980780684", None),
        ("NO", "NO974760673MVA", "974760673"),
        ("US", None, "911144442"),
        (None, None, None),
    ]
)


@st.composite
def _details(draw: st.DrawFn) -> EnrolmentDetails:
    country, vat_id, registration_id = draw(_COMPANIES)
    optional = st.one_of(st.none(), _WORDS.filter(bool))
    po = st.builds(
        StandingPo,
        number=_WORDS.filter(bool),
        amount=st.integers(1, 10**14 - 1).map(lambda minor: Money(minor, "EUR")),  # 12 integer digits at most
        valid_until=st.dates(),
    )
    return EnrolmentDetails(
        legal_name=draw(optional),
        country=country,
        registration_id=registration_id,
        vat_id=vat_id,
        address_line1=draw(optional),
        address_line2=draw(optional),
        postcode=draw(st.one_of(st.none(), _WORDS.filter(lambda s: 0 < len(s) <= 20))),
        city=draw(optional),
        contacts=tuple(draw(st.lists(_CONTACTS, max_size=3))),
        invoice_delivery=draw(st.sampled_from([None, "email_pdf", "email_einvoice", "portal_only"])),
        peppol_endpoint=draw(
            st.sampled_from([None, "0088:5790000435975", "0192:987654325", "0060:123456789"])
        ),
        preferred_method=draw(
            st.sampled_from([None, "card", "sepa_debit", "us_bank_account", "bank_transfer"])
        ),
        bank_iban=draw(st.sampled_from([None, "DE89370400440532013000", "GB29NWBK60161331926819"])),
        requirements=tuple(r for r in REQUIREMENTS if draw(st.booleans())),
        standing_po=draw(st.one_of(st.none(), po)),
        time_zone=draw(st.sampled_from([None, "Europe/Berlin", "America/New_York", "UTC"])),
    )


@settings(max_examples=60, deadline=None)
@given(_details())
def test_any_valid_draft_round_trips_through_the_form_and_through_json(details: EnrolmentDetails) -> None:
    assert _refill(details) == (details, [])
    assert EnrolmentDetails.from_json(json.loads(json.dumps(details.to_json()))) == details


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELD_ORDER), st.text(max_size=30)), st.lists(st.text(max_size=12)))
def test_whatever_is_typed_a_draft_keeps_only_values_that_parse_again(
    fields: dict[str, str], ticked: list[str]
) -> None:
    details, _ = parse_enrolment(fields, ticked, "EUR", complete=False, language="fr")
    assert _refill(details) == (details, [])
