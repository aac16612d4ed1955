"""What a dispute is judged against (`receivables.disputes.service`): the documents the customer
attaches, the customer's terms and purchase orders finance files (each a document with its
history), and the dispute policy finance set."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables.disputes.analysis import DEFAULT_DISPUTE_POLICY, DisputePolicy, PoLine, PurchaseOrder, Terms
from receivables.disputes.service import (
    MAX_ATTEMPTS,
    DisputeNotFoundError,
    dispute_event,
    next_version,
)
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError, bounded_decimal, normalise_currency
from receivables.ledger.model import AuditEvent
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.disputes import Dispute


def load_terms(customer_id: str) -> Terms:
    """The customer's terms (PO required? a price list), or none."""
    from decimal import Decimal

    found = store.get_document(store.terms_pk(customer_id))
    if found is None:
        return Terms()
    body = found[0]
    return Terms(
        bool(body.get("requires_po")), {k: Decimal(v) for k, v in body.get("price_list", {}).items()}
    )


def load_purchase_order(customer_id: str, number: str | None) -> PurchaseOrder | None:
    """The customer's PO ``number`` if finance filed it."""
    from decimal import Decimal

    if not number:
        return None
    found = store.get_document(store.purchase_order_pk(customer_id, number))
    if found is None:
        return None
    body = found[0]
    lines = tuple(
        PoLine(str(line["description"]), Decimal(line["quantity"]), Decimal(line["unit_price"]))
        for line in body.get("lines", [])
    )
    return PurchaseOrder(number, str(body["currency"]), lines)


def load_policy() -> DisputePolicy:
    """The dispute policy finance set, else the default."""
    found = store.get_document(store.DISPUTE_POLICY_PK)
    if found is None:
        return DEFAULT_DISPUTE_POLICY
    body = found[0]
    limits = {c: Money.parse(v, c) for c, v in body.get("auto_credit_max", {}).items()}
    return replace(
        DEFAULT_DISPUTE_POLICY,
        auto_credit_max=limits or DEFAULT_DISPUTE_POLICY.auto_credit_max,
        duplicate_window_days=int(
            body.get("duplicate_window_days", DEFAULT_DISPUTE_POLICY.duplicate_window_days)
        ),
    )


def add_attachment(dispute_id: str, key: str, size: int, kind: str, clock: Clock) -> Dispute:
    """Keep a checked document on the dispute (once, however often the upload page is reloaded)."""
    for _ in range(MAX_ATTEMPTS):
        dispute = store.get_dispute(dispute_id)
        if dispute is None:
            raise DisputeNotFoundError(f"no dispute {dispute_id}")
        if key in dispute.attachments:
            return dispute
        now = iso_timestamp(clock.now())
        changed = next_version(dispute, now, attachments=(*dispute.attachments, key))
        event = dispute_event(
            dispute,
            "DisputeDocumentAdded",
            now,
            f"customer:{dispute.customer_id}",
            key=key,
            size=size,
            content_type=kind,
        )
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return changed
    raise store.StoreError(f"dispute {dispute_id}: too much contention, try again")


def save_terms(customer_id: str, body: dict[str, Any], actor: str, clock: Clock) -> dict[str, Any]:
    """Replace the customer's terms: ``{"requires_po": true, "price_list": {"item": "12.00"}}``."""
    document = terms_document(body)
    _put_filed(store.terms_pk(customer_id), store.HEAD, document, "CustomerTermsFiled", actor, clock)
    return document


def terms_document(body: dict[str, Any]) -> dict[str, Any]:
    """The terms ``body`` asks for, checked (`InvalidRequestError` names each bad field) and
    normalised as they are stored: item descriptions folded, prices as decimal strings."""
    from decimal import InvalidOperation

    errors: list[FieldError] = []
    requires = body.get("requires_po", False)
    if not isinstance(requires, bool):
        errors.append(FieldError("requires_po", "must be true or false"))
    prices = body.get("price_list", {})
    clean: dict[str, str] = {}
    if not isinstance(prices, dict):
        errors.append(FieldError("price_list", "must map item descriptions to unit prices"))
        prices = {}
    for item, price in prices.items():
        try:
            value = bounded_decimal(price)
            if value < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError(f"price_list.{item}", "must be a decimal string, such as 12.50"))
            continue
        clean[" ".join(str(item).casefold().split())] = str(value)
    if errors:
        raise InvalidRequestError(errors)
    return {"requires_po": bool(requires), "price_list": dict(sorted(clean.items()))}


def save_purchase_order(
    customer_id: str, number: str, body: dict[str, Any], actor: str, clock: Clock
) -> dict[str, Any]:
    """File the customer's PO ``number``: ``{"currency": "EUR", "lines": [{"description",
    "quantity", "unit_price"}]}`` (decimal strings)."""
    document = purchase_order_document(number, body)
    _put_filed(
        store.purchase_order_pk(customer_id, number), store.HEAD, document, "PurchaseOrderFiled", actor, clock
    )
    return document


def purchase_order_document(number: str, body: dict[str, Any]) -> dict[str, Any]:
    """The PO ``body`` describes, checked (`InvalidRequestError` names each bad field) and
    normalised as it is stored."""
    from decimal import InvalidOperation

    errors: list[FieldError] = []
    currency = ""
    try:
        currency = normalise_currency(str(body.get("currency", "")))
    except MoneyError:
        errors.append(FieldError("currency", "must be an ISO 4217 code, such as EUR"))
    lines: list[dict[str, str]] = []
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError("lines", "must be a non-empty list of {description, quantity, unit_price}"))
        raw_lines = []
    for n, raw in enumerate(raw_lines):
        if not isinstance(raw, dict) or not str(raw.get("description") or "").strip():
            errors.append(FieldError(f"lines[{n}].description", "is required"))
            continue
        try:
            quantity, price = bounded_decimal(raw.get("quantity")), bounded_decimal(raw.get("unit_price"))
            if not (quantity.is_finite() and price.is_finite()) or quantity <= 0 or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(
                FieldError(f"lines[{n}]", "quantity and unit_price must be positive decimal strings")
            )
            continue
        lines.append(
            {
                "description": str(raw["description"]).strip(),
                "quantity": str(quantity),
                "unit_price": str(price),
            }
        )
    if not number.strip() or len(number) > 64:
        errors.append(FieldError("number", "must be a PO number of at most 64 characters"))
    if errors:
        raise InvalidRequestError(errors)
    return {"currency": currency, "lines": lines}


def _put_filed(pk: str, sk: str, document: dict[str, Any], kind: str, actor: str, clock: Clock) -> None:
    for _ in range(MAX_ATTEMPTS):
        found = store.get_document(pk, sk)
        version = (found[1] if found else 0) + 1
        now = iso_timestamp(clock.now())
        event = AuditEvent(f"{pk}/{sk}", version, kind, now, actor, {"document": document})
        try:
            store.put_document(pk, document, version, now, event, sk=sk)
        except store.ConcurrentChangeError:
            continue
        return
    raise store.StoreError(f"{pk}: too much contention, try again")
