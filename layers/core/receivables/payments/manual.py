"""A payment finance records by hand (a bank transfer, a cheque): the request, checked field by
field, becomes a `Receipt`; matching and allocation are `receivables.payments.allocation`' own."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import InvalidOperation
from typing import Any

from receivables.disputes.deduction_rules import RemittanceLine, parse_decimal_amount
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import AmountLimits, Money, MoneyError, normalise_currency
from receivables.ledger.model import DocumentType, Invoice
from receivables.ledger.rules import document_id
from receivables.payments.allocation import EARLIEST_RECEIPT, MAX_RECEIPT_MINOR, Receipt
from receivables.storage import store

METHODS = {"bank_transfer": "bank", "cheque": "cheque", "cash": "cash", "other": "manual"}
_EXTERNAL_ID = re.compile(r"^[\w.:/#-]{1,128}$")


ALLOWED = {
    "amount",
    "currency",
    "method",
    "external_id",
    "received_at",
    "reference",
    "customer_id",
    "invoices",
    "deductions",
    "on_account",
}
DEDUCTION_FIELDS = {"invoice", "amount", "code", "note"}


def receipt_from_request(
    body: Any, *, seller_id: str = "self", limits: AmountLimits | None = None
) -> Receipt:
    """The receipt a ``POST /payments`` body describes, or `InvalidRequestError` naming every bad
    field. ``external_id`` (the bank's transaction id, the cheque number) makes recording it twice
    harmless; ``invoices`` (numbers) pins the targets, else the ``reference`` is matched.

    The ledger is read (the store must be bound): a ``customer_id`` the ledger does not know is
    refused, and so is an invoice number that matches no invoice (``invoices[n]``: finance is
    told, rather than the money waiting unapplied unnoticed) or one of another customer than
    ``customer_id`` (or, without it, than the first invoice's): a payment pays one customer's
    invoices only. The amount's ceiling and the window ``received_at`` must fall in (from
    2000-01-01 and at most ten years back, to a day ahead of now) are checked by
    `receivables.payments.allocation.record_receipt` against the clock, naming the same fields; ``limits``
    (the ``AMOUNT_LIMITS`` setting) is finance's own ceiling per currency."""
    if not isinstance(body, dict):
        raise InvalidRequestError([FieldError("body", "must be a JSON object")])
    errors = [FieldError(k, "is not a field of a payment") for k in sorted(set(body) - ALLOWED)]
    amount = _amount(body, errors, limits or AmountLimits())
    method = body.get("method")
    if not isinstance(method, str) or method not in METHODS:
        errors.append(FieldError("method", f"must be one of {', '.join(sorted(METHODS))}"))
    external_id = body.get("external_id")
    if not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id):
        errors.append(
            FieldError("external_id", "is required: the bank's transaction id or the cheque number (≤128)")
        )
    received_at = _timestamp(body.get("received_at"), errors)
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 1000):
        errors.append(FieldError("reference", "must be the remittance text, at most 1000 characters"))
    customer_id = body.get("customer_id")
    if customer_id is not None and (not isinstance(customer_id, str) or not customer_id.startswith("cus_")):
        errors.append(FieldError("customer_id", "must be a customer id (cus_…)"))
    numbers = body.get("invoices", [])
    if (
        not isinstance(numbers, list)
        or len(numbers) > 100
        or not all(isinstance(n, str) and n.strip() for n in numbers)
    ):
        errors.append(FieldError("invoices", "must be a list of at most 100 invoice numbers"))
        numbers = []
    deductions = _deductions(body.get("deductions", []), amount.currency if amount else "", errors)
    on_account = body.get("on_account", False)
    if not isinstance(on_account, bool) or (on_account and deductions):
        errors.append(FieldError("on_account", "must be true or false, and not true beside deductions"))
    if errors or amount is None or not isinstance(method, str) or not isinstance(external_id, str):
        raise InvalidRequestError(errors)
    targets = _known_targets(customer_id, numbers, seller_id)
    return Receipt(
        source=METHODS[method],
        external_id=external_id,
        amount=amount,
        received_at=received_at,
        method=method,
        customer_id=customer_id,
        reference=reference,
        target_invoice_ids=targets,
        deductions=tuple(deductions),
        on_account=on_account is True,
        entered_by_hand=True,
    )


def _known_targets(customer_id: str | None, numbers: list[str], seller_id: str) -> tuple[str, ...]:
    """The ids of the invoices ``numbers`` name, all of the customer's; `InvalidRequestError`
    naming ``customer_id`` when the ledger does not know it, and ``invoices[n]`` for a number
    that matches no invoice or an invoice of another customer."""
    errors: list[FieldError] = []
    if customer_id is not None and store.get_customer(customer_id) is None:
        raise InvalidRequestError(
            [FieldError("customer_id", f"{customer_id} is not a customer of the ledger")]
        )
    ids = [document_id(seller_id, DocumentType.INVOICE, n) for n in numbers]
    heads = store.get_heads(ids) if ids else {}
    payer = customer_id
    for n, (number, invoice_id) in enumerate(zip(numbers, ids, strict=True)):
        invoice = heads.get(invoice_id)
        if not isinstance(invoice, Invoice):
            errors.append(FieldError(f"invoices[{n}]", f"{number} matches no invoice"))
            continue
        payer = payer or invoice.customer_id
        if invoice.customer_id != payer:
            whose = "customer_id" if customer_id is not None else "the first invoice"
            errors.append(
                FieldError(f"invoices[{n}]", f"{number} is an invoice of another customer than {whose}'s")
            )
    if errors:
        raise InvalidRequestError(errors)
    return tuple(ids)


def _deductions(raw: Any, currency: str, errors: list[FieldError]) -> list[RemittanceLine]:
    """The remittance advice's deduction lines: ``[{"invoice", "amount", "code", "note"}]``,
    each field optional (an amount-less line takes the rest of the shortfall)."""
    if not isinstance(raw, list) or len(raw) > 100:
        errors.append(FieldError("deductions", "must be a list of at most 100 {invoice, amount, code, note}"))
        return []
    lines: list[RemittanceLine] = []
    for n, row in enumerate(raw):
        where = f"deductions[{n}]"
        if not isinstance(row, dict) or set(row) - DEDUCTION_FIELDS:
            errors.append(FieldError(where, "must be an object with invoice, amount, code and note"))
            continue
        texts = {k: row.get(k) for k in ("invoice", "code", "note")}
        bad = [k for k, v in texts.items() if v is not None and (not isinstance(v, str) or len(v) > 200)]
        errors += [FieldError(f"{where}.{k}", "must be text of at most 200 characters") for k in bad]
        amount = None
        if row.get("amount") is not None and currency:
            amount = parse_decimal_amount(row.get("amount"), currency)
            if amount is None or amount.minor <= 0:
                errors.append(
                    FieldError(f"{where}.amount", f'must be a decimal string in {currency}, such as "47.60"')
                )
        if not bad:
            lines.append(RemittanceLine(texts["invoice"], amount, texts["code"], texts["note"] or ""))
    return lines


def _amount(body: dict[str, Any], errors: list[FieldError], limits: AmountLimits) -> Money | None:
    currency = ""
    try:
        currency = normalise_currency(str(body.get("currency", "")))
    except (MoneyError, ValueError) as exc:
        errors.append(FieldError("currency", str(exc) or "must be an ISO 4217 code"))
    raw = body.get("amount")
    if not isinstance(raw, str):
        errors.append(FieldError("amount", 'must be a decimal string such as "1250.00"'))
        return None
    if not currency:
        return None
    try:
        amount = Money.parse(raw, currency)
    except (MoneyError, InvalidOperation, ValueError) as exc:
        errors.append(FieldError("amount", str(exc) or "is not a decimal amount"))
        return None
    if amount.minor <= 0:
        errors.append(FieldError("amount", "must be more than zero"))
        return None
    if amount.minor > MAX_RECEIPT_MINOR:
        errors.append(FieldError("amount", f"must be at most {Money(MAX_RECEIPT_MINOR, currency)}"))
        return None
    try:
        return limits.check(amount)
    except MoneyError as exc:
        errors.append(FieldError("amount", str(exc)))
        return None


def _timestamp(value: Any, errors: list[FieldError]) -> str:
    if not isinstance(value, str):
        errors.append(FieldError("received_at", "is required: a date (2026-11-20) or an ISO timestamp"))
        return ""
    try:
        if len(value) == 10:
            instant = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if instant.tzinfo is None:
                raise ValueError("has no time zone")
        instant = instant.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: a zone that leaves year 1 or 9999
        errors.append(FieldError("received_at", f"is not a date or an ISO timestamp with a zone ({exc})"))
        return ""
    if instant < EARLIEST_RECEIPT:
        errors.append(FieldError("received_at", f"must be from {EARLIEST_RECEIPT.date().isoformat()}"))
        return ""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def allocations_from_request(
    body: Any, currency: str, *, seller_id: str = "self"
) -> tuple[dict[str, Money], int | None]:
    """The end state a ``POST /payments/{id}/allocations`` body asks for: invoice id to amount
    (in the payment's ``currency``; an invoice is named by ``invoice_id`` or ``number``), and the
    payment ``version`` the caller saw, if given. `InvalidRequestError` names every bad field."""
    if not isinstance(body, dict):
        raise InvalidRequestError([FieldError("body", "must be a JSON object")])
    errors = [
        FieldError(k, "is not a field of a re-allocation")
        for k in sorted(set(body) - {"allocations", "version"})
    ]
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        errors.append(FieldError("version", "must be the payment's version, a whole number from 1"))
    rows = body.get("allocations")
    targets: dict[str, Money] = {}
    if not isinstance(rows, list) or len(rows) > 100:
        errors.append(
            FieldError("allocations", "must be a list of at most 100 {number or invoice_id, amount}")
        )
        rows = []
    for n, row in enumerate(rows):
        where = f"allocations[{n}]"
        if not isinstance(row, dict) or set(row) - {"number", "invoice_id", "amount"}:
            errors.append(FieldError(where, "must be an object with number or invoice_id, and amount"))
            continue
        number, invoice_id = row.get("number"), row.get("invoice_id")
        if (number is None) == (invoice_id is None) or not isinstance(number or invoice_id, str):
            errors.append(FieldError(where, "names its invoice by number or by invoice_id (one of them)"))
            continue
        target = (
            invoice_id
            if isinstance(invoice_id, str)
            else document_id(seller_id, DocumentType.INVOICE, str(number))
        )
        raw = row.get("amount")
        try:
            amount = Money.parse(raw, currency) if isinstance(raw, str) else None
        except (MoneyError, InvalidOperation, ValueError):
            amount = None
        if amount is None or amount.minor < 0:
            errors.append(
                FieldError(
                    f"{where}.amount",
                    f'must be a decimal string in {currency}, zero or more, such as "120.00"',
                )
            )
        elif target in targets:
            errors.append(FieldError(where, "names an invoice named before"))
        else:
            targets[target] = amount
    if errors:
        raise InvalidRequestError(errors)
    return targets, version
