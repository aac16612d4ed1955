"""The JSON invoice layout: one invoice object, a list of them, or ``{"invoices": [...]}``.

Amounts should be decimal strings (``"1210.00"``); JSON numbers are read exactly as decimals,
never through a float. A number out of range (``1e400``) or not a number (``NaN``, ``Infinity``)
is a problem of its invoice, not of the file. The file is bounded before it is parsed: at most
`MAX_JSON_BYTES` and `MAX_JSON_DEPTH` levels of nesting (an invoice needs four).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables.ingest.fields import FieldDocument, FieldError, bounded_number, build_document
from receivables.ingest.model import FileRejectedError, Problem, RejectedDocument

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables.ingest.model import ParseResult

# JSON key → canonical field (see receivables.ingest.fields).
HEADER_KEYS = {
    "type": "document_type",
    "number": "invoice_number",
    "seller_id": "seller_id",
    "issue_date": "issue_date",
    "due_date": "due_date",
    "payment_terms": "payment_terms",
    "currency": "currency",
    "po_number": "po_number",
    "buyer_reference": "buyer_reference",
    "billing_reference": "billing_reference",
    "contract_reference": "contract_reference",
    "total": "total_amount",
    "tax": "tax_amount",
    "prepaid": "prepaid_amount",
    "amount_due": "amount_due",
}
CUSTOMER_KEYS = {
    "ref": "customer_ref",
    "name": "customer_name",
    "email": "customer_email",
    "vat": "customer_vat",
    "country": "customer_country",
    "language": "customer_language",
}
LINE_KEYS = {
    "id": "line_id",
    "description": "line_description",
    "quantity": "line_quantity",
    "unit_code": "line_unit_code",
    "unit_price": "line_unit_price",
    "amount": "line_amount",
    "tax_percent": "line_tax_percent",
}


MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_JSON_DEPTH = 20
# A string (its escapes included), and anything but a bracket: what the depth check removes.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STRING_OR_BRACKET = re.compile(rf"{_STRING.pattern}|[\[\]{{}}]")
# What a parser error can be: one invoice that defeats the parser costs that invoice, not the file.
_DOCUMENT_FAILURES = (ValueError, TypeError, ArithmeticError, LookupError, RecursionError)


class _Unreadable:
    """A JSON number that cannot be an amount (``1e400``, ``NaN``): its invoice names it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys given in it more than once (the last would win)."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.repeated: tuple[str, ...] = ()
        if len(self) != len(pairs):
            seen: set[str] = set()
            repeated: dict[str, None] = {}  # in the order they were first repeated
            for key, _ in pairs:
                if key in seen:
                    repeated[key] = None
                seen.add(key)
            self.repeated = tuple(repeated)


def _repeated_keys(obj: dict[str, Any], pointer: str, location: str, problems: list[Problem]) -> None:
    for key in getattr(obj, "repeated", ()):
        problems.append(
            Problem(
                location,
                "duplicate_key",
                f"the key {key!r} is given more than once in this object; give it once",
                f"{pointer}/{key}",
            )
        )


def _number(text: str) -> Decimal | _Unreadable:
    try:
        return bounded_number(Decimal(text), text)
    except FieldError as exc:
        return _Unreadable(str(exc))


def _constant(name: str) -> _Unreadable:
    return _Unreadable(f'{name} is not a number: write amounts as decimal strings such as "1210.00"')


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse a file nested deeper than ``max_depth`` before the parser recurses into it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))  # quick: two passes in C
    depth = 0
    for index, bracket in enumerate(brackets):
        depth += 1 if bracket in "[{" else -1
        if depth > max_depth:
            raise FileRejectedError(
                "too_deep",
                f"nested more than {max_depth} levels deep (at character "
                f"{_offset_of_bracket(text, index) + 1}); an invoice needs four",
            )


def _offset_of_bracket(text: str, wanted: int) -> int:
    """Where in ``text`` its ``wanted``-th bracket outside strings is (counted from 0)."""
    seen = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        if match.group()[0] != '"':
            if seen == wanted:
                return match.start()
            seen += 1
    return len(text)


def parse_json(
    data: bytes,
    *,
    default_seller_id: str,
    max_lines: int = 1000,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Iterator[ParseResult]:
    """Parse a JSON document of invoices; each bad invoice is rejected on its own.

    Raises `FileRejectedError` when the file as a whole is unusable: larger than ``max_bytes``,
    nested deeper than ``max_depth``, not UTF-8, not JSON, or not of the invoices' shape.
    """
    if len(data) > max_bytes:
        raise FileRejectedError(
            "file_too_large", f"{len(data)} bytes; JSON files are accepted up to {max_bytes} bytes"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejectedError(
            "not_utf8", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not text.strip():
        raise FileRejectedError("empty_file", "the file is empty")
    _check_depth(text, max_depth)
    try:
        payload = json.loads(
            text, parse_float=_number, parse_int=_number, parse_constant=_constant, object_pairs_hook=_Object
        )
    except ValueError as exc:
        raise FileRejectedError("malformed_json", f"not valid JSON: {exc}") from None
    except RecursionError:  # the depth check counts what the parser nests; this is the backstop
        raise FileRejectedError("too_deep", "nested too deeply to be read") from None
    if isinstance(payload, dict) and isinstance(payload.get("invoices"), list):
        if "invoices" in getattr(payload, "repeated", ()):
            raise FileRejectedError(
                "duplicate_key", 'the key "invoices" is given more than once; give it once', "/invoices"
            )
        items, prefix = payload["invoices"], "/invoices"
    elif isinstance(payload, list):
        items, prefix = payload, ""
    elif isinstance(payload, dict):
        items, prefix = [payload], None
    else:
        raise FileRejectedError(
            "malformed_json", 'expected an invoice object, a list of them, or {"invoices": [...]}'
        )
    for index, item in enumerate(items):
        location = "document" if prefix is None else f"item {index + 1}"
        pointer = "" if prefix is None else f"{prefix}/{index}"
        try:
            result = _parse_item(item, location, pointer, default_seller_id, max_lines)
        except _DOCUMENT_FAILURES as exc:
            problem = Problem(
                location,
                "unreadable_document",
                f"this invoice could not be read ({type(exc).__name__}: {exc}); the others were",
                pointer or "/",
            )
            result = RejectedDocument(location, (problem,))
        yield result


def _text(value: Any) -> str | _Unreadable:
    if value is None:
        return ""
    if isinstance(value, _Unreadable):
        return value
    if isinstance(value, (bool, dict | list)):
        return _Unreadable("expected a string or a number")
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return value
    return _Unreadable("expected a string or a number")


def _flatten(
    obj: dict[str, Any], keys: dict[str, str], pointer: str, location: str, problems: list[Problem]
) -> tuple[dict[str, str], dict[str, str]]:
    fields: dict[str, str] = {}
    labels: dict[str, str] = {}
    for key, canonical in keys.items():
        if key not in obj:
            continue
        labels[canonical] = f"{pointer}/{key}"
        text = _text(obj[key])
        if isinstance(text, _Unreadable):
            code = "invalid_number" if isinstance(obj[key], _Unreadable) else "invalid_field"
            problems.append(Problem(location, code, text.reason, f"{pointer}/{key}"))
        else:
            fields[canonical] = text
    return fields, labels


def _parse_item(
    item: Any, location: str, pointer: str, default_seller_id: str, max_lines: int
) -> ParseResult:
    if not isinstance(item, dict):
        return RejectedDocument(
            location,
            (Problem(location, "malformed_json", "an invoice must be a JSON object", pointer or "/"),),
        )
    problems: list[Problem] = []
    _repeated_keys(item, pointer, location, problems)
    header, labels = _flatten(item, HEADER_KEYS, pointer, location, problems)
    customer = item.get("customer", {})
    if not isinstance(customer, dict):
        problems.append(Problem(location, "invalid_field", "expected an object", f"{pointer}/customer"))
        customer = {}
    _repeated_keys(customer, f"{pointer}/customer", location, problems)
    customer_fields, customer_labels = _flatten(
        customer, CUSTOMER_KEYS, f"{pointer}/customer", location, problems
    )
    header.update(customer_fields)
    labels.update(customer_labels)
    for canonical in CUSTOMER_KEYS.values():
        labels.setdefault(canonical, f"{pointer}/customer/{canonical.removeprefix('customer_')}")
    for key, canonical in HEADER_KEYS.items():
        labels.setdefault(canonical, f"{pointer}/{key}")
    raw_lines = item.get("lines", [])
    if not isinstance(raw_lines, list):
        problems.append(Problem(location, "invalid_field", "expected a list", f"{pointer}/lines"))
        raw_lines = []
    lines: list[tuple[str, dict[str, str]]] = []
    for index, raw_line in enumerate(raw_lines):
        line_pointer = f"{pointer}/lines/{index}"
        if not isinstance(raw_line, dict):
            problems.append(Problem(location, "invalid_field", "a line must be an object", line_pointer))
            continue
        _repeated_keys(raw_line, line_pointer, location, problems)
        line_fields, _ = _flatten(raw_line, LINE_KEYS, line_pointer, location, problems)
        lines.append((line_pointer, line_fields))
    for key, canonical in LINE_KEYS.items():
        labels[canonical] = key
    if problems:
        number = header.get("invoice_number") or None
        return RejectedDocument(
            location,
            tuple(Problem(p.location, p.code, p.message, p.field, number) for p in problems),
        )
    return build_document(
        FieldDocument(header=header, lines=lines, location=location, field_label=labels),
        default_seller_id=default_seller_id,
        max_lines=max_lines,
    )
