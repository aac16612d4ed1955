"""Turning named text fields (a CSV row group, a JSON object) into a validated `ParsedDocument`.

The CSV and JSON layouts share these field names; the README documents them with examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

from receivables.ingest.model import ParsedDocument, ProblemCollector
from receivables.kernel.errors import ReceivablesError
from receivables.kernel.money import Money, MoneyError, normalise_currency, parse_decimal, sum_money
from receivables.ledger.disputes import Reason
from receivables.ledger.model import Buyer, DocumentType, InvoiceLine, PartyId

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from decimal import Decimal

    from receivables.ingest.model import ParseResult

HEADER_FIELDS = (
    "document_type",
    "invoice_number",
    "seller_id",
    "issue_date",
    "due_date",
    "payment_terms",
    "currency",
    "customer_ref",
    "customer_name",
    "customer_email",
    "customer_vat",
    "customer_country",
    "customer_language",
    "customer_address",
    "customer_postcode",
    "customer_city",
    "po_number",
    "buyer_reference",
    "billing_reference",
    "contract_reference",
    "disputed",
    "total_amount",
    "tax_amount",
    "prepaid_amount",
    "amount_due",
)
LINE_FIELDS = (
    "line_id",
    "line_description",
    "line_quantity",
    "line_unit_code",
    "line_unit_price",
    "line_amount",
    "line_tax_percent",
)

_DOC_TYPES = {
    "invoice": DocumentType.INVOICE,
    "380": DocumentType.INVOICE,
    "credit_note": DocumentType.CREDIT_NOTE,
    "credit note": DocumentType.CREDIT_NOTE,
    "creditnote": DocumentType.CREDIT_NOTE,
    "credit": DocumentType.CREDIT_NOTE,
    "381": DocumentType.CREDIT_NOTE,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
MAX_NUMBER_LENGTH = 64
# Control characters (C0, DEL, C1) and Unicode's line and paragraph separators break every one-line
# place a value is shown in (an email's headers above all). In a reference or an identifier, which
# must match another system's exactly, any of them is refused. In a name or free text (a cell typed
# on two lines) a line break or a tab is only layout and becomes a space; any other is refused.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LAYOUT = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
SINGLE_LINE_FIELDS = (
    "seller_id",
    "customer_ref",
    "customer_email",
    "customer_vat",
    "customer_country",
    "customer_language",
    "customer_postcode",
    "po_number",
    "buyer_reference",
    "billing_reference",
    "contract_reference",
)
SINGLE_LINE_LINE_FIELDS = ("line_id", "line_unit_code")
FREE_TEXT_FIELDS = ("customer_name", "payment_terms", "customer_address", "customer_city")
FREE_TEXT_LINE_FIELDS = ("line_description",)
# Digits before the decimal point of any number taken in (amount, quantity, price, rate): a
# quadrillion is beyond any real invoice, and keeps every sum exact and storable.
MAX_INTEGER_DIGITS = 15


class FieldError(ReceivablesError, ValueError):
    """A value that cannot be read; the message says why."""


def control_character(text: str) -> str | None:
    """The first control character in ``text``, described for a report, or None.

    >>> control_character("Acme\\r\\nBcc: x@example.com")
    'U+000D at character 5'
    """
    match = _CONTROL.search(text)
    return None if match is None else f"U+{ord(match.group()):04X} at character {match.start() + 1}"


def one_line(text: str) -> str:
    """Free text with its line breaks and tabs turned into single spaces."""
    return _LAYOUT.sub(" ", text)


def _free_text_on_one_line(fields: Mapping[str, str], names: Sequence[str]) -> Mapping[str, str]:
    if not any(_LAYOUT.search(fields.get(name, "")) for name in names):
        return fields
    return {**fields, **{name: one_line(fields[name]) for name in names if name in fields}}


def bounded_number(value: Decimal, text: str) -> Decimal:
    """``value`` (read from ``text``) if it is finite and has at most `MAX_INTEGER_DIGITS`
    digits before the point; else `FieldError`. ``1e400`` is refused here, before any arithmetic
    on it could overflow or a store refuse it."""
    if not value.is_finite() or (not value.is_zero() and value.adjusted() >= MAX_INTEGER_DIGITS):
        shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
        raise FieldError(
            f"{shown} is out of range: numbers are taken up to {MAX_INTEGER_DIGITS} digits "
            "before the decimal point"
        )
    return value


# The day-month order a file declares for its slashed dates (`date_order_of`): the same text
# ``03/04/2026`` is 3 April in Europe and 4 March in the United States, so it is never guessed.
DATE_ORDERS = {"dd-mm-yyyy": "dmy", "mm-dd-yyyy": "mdy"}


def parse_date(text: str, order: str | None = None) -> date:
    """Read ``2026-11-23``, ``23.11.2026`` or ``20261123``; a slashed ``23/11/2026`` only when
    the file declares its ``order`` (``"dmy"`` or ``"mdy"``), else it is refused as ambiguous."""
    raw = text.strip()
    slashed = _SLASHED_DATE.match(raw)
    if slashed and order is None:
        raise FieldError(
            f"{text!r} is ambiguous (day/month or month/day): use YYYY-MM-DD, or put the file "
            "under inbox/dd-mm-yyyy/ or inbox/mm-dd-yyyy/ to say which"
        )
    try:
        if match := _DOTTED_DATE.match(raw):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := _COMPACT_DATE.match(raw):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := slashed:
            first, second = int(match[1]), int(match[2])
            day, month = (first, second) if order == "dmy" else (second, first)
            return date(int(match[3]), month, day)
        return date.fromisoformat(raw)
    except ValueError:
        shown = {"dmy": "DD/MM/YYYY", "mdy": "MM/DD/YYYY"}.get(order or "", "YYYY-MM-DD")
        raise FieldError(f"{text!r} is not a date: use {shown}") from None


# Codes CLDR lists among its territories that are not ISO 3166-1 countries: regions, the EU,
# "unknown", and the exceptionally reserved ones (Ascension, Diego Garcia… which have their own
# country codes). XK (Kosovo) is kept: user-assigned, but what banks and the EU use.
_NOT_COUNTRIES = frozenset({"AA", "ZZ", "AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN"})


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 country codes (249, and XK), from CLDR's territories (Babel), read
    the first time a file gives a country."""
    from babel import Locale  # its locale data loads on first use, not at cold start

    return frozenset(
        code
        for code in map(str, Locale("en").territories)
        if len(code) == 2
        and code.isalpha()
        and code not in _NOT_COUNTRIES
        and not ("QM" <= code <= "QZ" or ("XA" <= code <= "XZ" and code != "XK"))
    )


def date_order_of(key: str) -> str | None:
    """The date order an object's key declares by a folder named after it, e.g.
    ``inbox/dd-mm-yyyy/export.csv`` (``"dmy"``) or ``inbox/mm-dd-yyyy/export.csv`` (``"mdy"``)."""
    folders = key.lower().split("/")[:-1]
    found = {DATE_ORDERS[f] for f in folders if f in DATE_ORDERS}
    return found.pop() if len(found) == 1 else None


def normalise_email(text: str) -> str:
    """Trim and lower-case an email address; raise `FieldError` if it is not one."""
    email = text.strip().lower()
    if not _EMAIL.match(email):
        raise FieldError(f"{text!r} is not an email address")
    return email


def normalise_vat(text: str) -> str:
    """Upper-case a VAT id and drop spaces, dots and dashes (``se 4598-375937`` → ``SE4598375937``)."""
    return re.sub(r"[\s.\-]", "", text).upper()


@dataclass(frozen=True, slots=True)
class FieldDocument:
    """The raw fields of one document: its header and its lines, each with where it came from."""

    header: Mapping[str, str]
    lines: Sequence[tuple[str, Mapping[str, str]]]  # (location, fields) per line
    location: str
    field_label: Mapping[str, str]  # canonical field → how the input names it (column, JSON path)


def build_document(  # noqa: C901 - one validation pass over a flat list of fields
    doc: FieldDocument,
    *,
    default_seller_id: str,
    decimal_comma: bool = False,
    max_lines: int = 1000,
    date_order: str | None = None,
) -> ParseResult:
    """Validate ``doc`` and build the `ParsedDocument`, or a rejection listing every problem
    (``date_order``: how the file writes slashed dates, `parse_date`)."""
    h = doc.header
    number = h.get("invoice_number", "").strip()
    problems = ProblemCollector(doc.location, number or None)

    def label(name: str) -> str:
        return doc.field_label.get(name, name)

    if not number:
        problems.add("missing_field", "the invoice number is missing", label("invoice_number"))
    elif len(number) > MAX_NUMBER_LENGTH or not number.isprintable():
        problems.add(
            "invalid_field",
            f"an invoice number is at most {MAX_NUMBER_LENGTH} printable characters",
            label("invoice_number"),
        )

    def refuse_control_characters(fields: Mapping[str, str], names: Sequence[str], where: str = "") -> None:
        for name in names:
            if (found := control_character(fields.get(name, "").strip())) is not None:
                problems.add(
                    "control_character",
                    f"the value holds a control character ({found}), which is not text",
                    f"{where}{label(name)}",
                )

    h = _free_text_on_one_line(h, FREE_TEXT_FIELDS)
    refuse_control_characters(h, SINGLE_LINE_FIELDS + FREE_TEXT_FIELDS)
    lines_read = [
        (location, _free_text_on_one_line(line, FREE_TEXT_LINE_FIELDS))
        for location, line in doc.lines[:max_lines]
    ]
    for line_location, line in lines_read:
        refuse_control_characters(line, SINGLE_LINE_LINE_FIELDS + FREE_TEXT_LINE_FIELDS, f"{line_location}: ")

    doc_type = DocumentType.INVOICE
    if raw_type := h.get("document_type", "").strip():
        found = _DOC_TYPES.get(raw_type.lower())
        if found is None:
            problems.add(
                "invalid_field",
                f"{raw_type!r} is not a document type: use invoice or credit_note",
                label("document_type"),
            )
        else:
            doc_type = found

    currency = ""
    try:
        currency = normalise_currency(h.get("currency", "")) if h.get("currency", "").strip() else ""
        if not currency:
            problems.add("missing_field", "the currency is missing", label("currency"))
    except MoneyError as exc:
        problems.add("invalid_currency", str(exc), label("currency"))

    def read_date(name: str, *, required: bool) -> date | None:
        raw = h.get(name, "").strip()
        if not raw:
            if required:
                problems.add("missing_field", f"the {name.replace('_', ' ')} is missing", label(name))
            return None
        try:
            return parse_date(raw, date_order)
        except FieldError as exc:
            problems.add("invalid_date", str(exc), label(name))
            return None

    issue_date = read_date("issue_date", required=True)
    due_date = read_date("due_date", required=False)
    if issue_date and due_date and due_date < issue_date:
        problems.add(
            "invalid_date",
            f"the due date {due_date} is before the issue date {issue_date}",
            label("due_date"),
        )

    def read_money(fields: Mapping[str, str], name: str, field_name: str) -> Money | None:
        raw = fields.get(name, "").strip()
        if not raw:
            return None
        try:
            value = bounded_number(parse_decimal(raw, decimal_comma=decimal_comma), raw)
            if not currency:  # still say whether the number itself is readable
                return None
            return Money.from_decimal(value, currency)
        except (MoneyError, FieldError) as exc:
            problems.add("invalid_amount", str(exc), field_name)
            return None

    def read_decimal(fields: Mapping[str, str], name: str, field_name: str) -> Decimal | None:
        raw = fields.get(name, "").strip()
        if not raw:
            return None
        try:
            return bounded_number(parse_decimal(raw, decimal_comma=decimal_comma), raw)
        except (MoneyError, FieldError) as exc:
            problems.add("invalid_number", str(exc), field_name)
            return None

    problems_before_amounts = len(problems.problems)
    lines: list[InvoiceLine] = []
    if len(doc.lines) > max_lines:
        problems.add(
            "too_many_lines",
            f"{len(doc.lines)} lines; at most {max_lines} lines per invoice are accepted",
        )
    for index, (line_location, line) in enumerate(lines_read, start=1):
        amount = read_money(line, "line_amount", f"{line_location}: {label('line_amount')}")
        if amount is None:
            if currency and not line.get("line_amount", "").strip():
                problems.add(
                    "missing_field",
                    "a line needs its amount",
                    f"{line_location}: {label('line_amount')}",
                )
            continue
        lines.append(
            InvoiceLine(
                line_id=line.get("line_id", "").strip() or str(index),
                description=line.get("line_description", "").strip() or None,
                quantity=read_decimal(line, "line_quantity", f"{line_location}: {label('line_quantity')}"),
                unit_code=line.get("line_unit_code", "").strip() or None,
                unit_price=read_decimal(
                    line, "line_unit_price", f"{line_location}: {label('line_unit_price')}"
                ),
                net=amount,
                tax_percent=read_decimal(
                    line, "line_tax_percent", f"{line_location}: {label('line_tax_percent')}"
                ),
            )
        )

    total = read_money(h, "total_amount", label("total_amount"))
    tax = read_money(h, "tax_amount", label("tax_amount"))
    prepaid = read_money(h, "prepaid_amount", label("prepaid_amount"))
    payable = read_money(h, "amount_due", label("amount_due"))
    if currency and len(problems.problems) == problems_before_amounts:
        tax = tax or Money.zero(currency)
        prepaid = prepaid or Money.zero(currency)
        lines_total = sum_money((line.net for line in lines), currency) + tax if lines else None
        if total is None and lines_total is None:
            problems.add(
                "missing_field",
                "the invoice needs a total amount or lines with amounts",
                label("total_amount"),
            )
        elif total is not None and lines_total is not None and total != lines_total:
            problems.add(
                "inconsistent_total",
                f"the total {total} is not the sum of the lines plus tax ({lines_total})",
                label("total_amount"),
            )
        total = total or lines_total
        if total is not None:
            payable = payable or total - prepaid
            if total.minor <= 0:
                hint = " (a credit is a credit_note with a positive amount)" if total.minor < 0 else ""
                problems.add(
                    "invalid_amount",
                    f"the total must be positive, got {total}{hint}",
                    label("total_amount"),
                )
            elif payable != total - prepaid:
                problems.add(
                    "inconsistent_total",
                    f"the amount due {payable} is not the total {total} less prepaid {prepaid}",
                    label("amount_due"),
                )

    disputed = None
    try:
        disputed = read_disputed(h.get("disputed", ""))
    except FieldError as exc:
        problems.add("invalid_dispute", str(exc), label("disputed"))
    buyer = _read_buyer(h, problems, label)
    if problems or issue_date is None or total is None or payable is None or buyer is None:
        return problems.rejected()
    assert tax is not None and prepaid is not None
    billing_reference = h.get("billing_reference", "").strip() or None
    return ParsedDocument(
        doc_type=doc_type,
        seller_id=h.get("seller_id", "").strip() or default_seller_id,
        number=number,
        buyer=buyer,
        currency=currency,
        issue_date=issue_date,
        due_date=due_date,
        payment_terms=h.get("payment_terms", "").strip() or None,
        total=total,
        tax=tax,
        prepaid=prepaid,
        payable=payable,
        lines=tuple(lines),
        location=doc.location,
        po_number=h.get("po_number", "").strip() or None,
        buyer_reference=h.get("buyer_reference", "").strip() or None,
        billing_reference=billing_reference,
        contract_reference=h.get("contract_reference", "").strip() or None,
        disputed=disputed,
    )


_NOT_DISPUTED = frozenset({"", "no", "n", "false", "0", "-"})
_DISPUTED = frozenset({"yes", "y", "true", "1", "x", "disputed"})


def read_disputed(text: str) -> Reason | None:
    """The ``disputed`` column: empty, ``no``, ``false`` or ``0`` for not; ``yes``, ``true``,
    ``1`` or ``x`` for contested (reason ``other``); or the reason itself (``pricing``,
    ``quantity``, ``quality``, ``not_received``, ``already_paid``, ``billed_twice``,
    ``po_missing_or_wrong``, ``other``). Anything else is a `FieldError`."""
    value = text.strip().lower().replace(" ", "_").replace("-", "_")
    if value in _NOT_DISPUTED:
        return None
    if value in _DISPUTED:
        return Reason.OTHER
    try:
        return Reason(value)
    except ValueError:
        reasons = ", ".join(r.value for r in Reason)
        raise FieldError(f"{text!r} is not yes, no or a dispute reason ({reasons})") from None


def _read_buyer(h: Mapping[str, str], problems: ProblemCollector, label: object) -> Buyer | None:
    assert callable(label)
    identifiers: list[PartyId] = []
    if ref := h.get("customer_ref", "").strip():
        identifiers.append(PartyId("erp", ref))
    if vat := h.get("customer_vat", "").strip():
        identifiers.append(PartyId("vat", normalise_vat(vat)))
    email: str | None = None
    if raw_email := h.get("customer_email", "").strip():
        try:
            email = normalise_email(raw_email)
            identifiers.append(PartyId("email", email))
        except FieldError as exc:
            problems.add("invalid_email", str(exc), label("customer_email"))
    name = h.get("customer_name", "").strip() or None
    if not identifiers and name:
        identifiers.append(PartyId("name", " ".join(name.casefold().split())))
    if not identifiers:
        problems.add(
            "missing_customer",
            "the customer is not identified: give customer_ref, customer_vat, customer_email "
            "or customer_name",
            label("customer_ref"),
        )
        return None
    country = h.get("customer_country", "").strip().upper() or None
    if country is not None and country not in country_codes():
        problems.add(
            "invalid_country",
            f"{country!r} is not a country code: use ISO 3166-1 alpha-2 (DE, FR, US)",
            label("customer_country"),
        )
        return None
    language = h.get("customer_language", "").strip().lower() or None
    return Buyer(
        name=name,
        identifiers=tuple(identifiers),
        email=email,
        country=country,
        language=language,
        postal_address=postal_address(h, name, country),
    )


def postal_address(h: Mapping[str, str], name: str | None, country: str | None) -> tuple[str, ...]:
    """The customer's address as the lines of an envelope: the name, the street lines of
    ``customer_address`` (separated by ``;``), postcode and city, the country code; empty when no
    street or no city is given (a name alone is no address)."""
    street = [" ".join(part.split()) for part in h.get("customer_address", "").split(";") if part.strip()]
    town = " ".join(f"{h.get('customer_postcode', '')} {h.get('customer_city', '')}".split())
    if not street or not town:
        return ()
    lines = (*([name] if name else []), *street[:4], town, *([country] if country else []))
    return tuple(line[:100] for line in lines)
