"""The JSON invoice layout: one invoice object, a list of them, or ``{"invoices": [...]}``.

Amounts should be decimal strings (``"1210.00"``); JSON numbers are read exactly as decimals,
never through a float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables.ingest.fields import FieldDocument, build_document
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_json(data: bytes, *, default_seller_id: str, max_lines: int = 1000) -> Iterator[ParseResult]:
    """Parse a JSON document of invoices; each bad invoice is rejected on its own."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejectedError(
            "not_utf8", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not text.strip():
        raise FileRejectedError("empty_file", "the file is empty")
    try:
        payload = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise FileRejectedError("malformed_json", f"not valid JSON: {exc}") from None
    if isinstance(payload, dict) and isinstance(payload.get("invoices"), list):
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
        yield _parse_item(item, location, pointer, default_seller_id, max_lines)


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, (bool, dict | list)):
        return None
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return value
    return None


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
        if text is None:
            problems.append(
                Problem(location, "invalid_field", "expected a string or a number", f"{pointer}/{key}")
            )
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
    header, labels = _flatten(item, HEADER_KEYS, pointer, location, problems)
    customer = item.get("customer", {})
    if not isinstance(customer, dict):
        problems.append(Problem(location, "invalid_field", "expected an object", f"{pointer}/customer"))
        customer = {}
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
