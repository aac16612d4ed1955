"""Opening a dispute (`receivables.disputes.service`): against one invoice, at most one open at a
time, the invoice put under dispute in the same transaction (which pauses its dunning); the
contested amount and lines as a form or a JSON body gives them."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from receivables.disputes.service import MAX_ATTEMPTS, DisputeNotFoundError
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, bounded_decimal
from receivables.ledger.disputes import Dispute, DisputedLine, Reason, Source
from receivables.ledger.model import AuditEvent, Invoice, InvoiceStatus
from receivables.ledger.rules import COLLECTIBLE, open_dispute
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Sequence

    from receivables.kernel.clock import Clock


def dispute_id_for(invoice_id: str, n: int) -> str:
    """The ``n``-th dispute of an invoice: two racing opens of the same one collide."""
    return "dsp_" + hashlib.sha256(f"{invoice_id}#{n}".encode()).hexdigest()[:24]


def open_dispute_on(
    invoice_id: str,
    source: Source,
    reason: Reason,
    opened_by: str,
    clock: Clock,
    *,
    amount: Money | None = None,
    lines: Sequence[DisputedLine] = (),
    comment: str = "",
    attachments: Sequence[str] = (),
    chargeback_id: str | None = None,
) -> tuple[Dispute, bool]:
    """Open a dispute of the invoice (or return the one already open): (dispute, created).

    The invoice goes under dispute in the same transaction, which pauses its dunning.
    """
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            raise DisputeNotFoundError(f"no invoice {invoice_id}")
        ids = store.invoice_dispute_ids(invoice_id)
        if ids:
            # The n-th dispute by its derived id: the listing's order among disputes opened in
            # the same millisecond is the hash's, and a closed one could hide an open one.
            latest = store.get_dispute(dispute_id_for(invoice_id, len(ids)))
            if latest is not None and not latest.final:
                return latest, False
        _validate(invoice, source, amount, lines)
        now = iso_timestamp(clock.now())
        dispute = Dispute(
            dispute_id_for(invoice_id, len(ids) + 1),
            invoice_id,
            invoice.customer_id,
            source,
            reason,
            now,
            opened_by,
            amount,
            tuple(lines),
            comment.strip()[:2000],
            tuple(attachments),
            chargeback_id=chargeback_id,
            version=1,
            updated_at=now,
        )
        data: dict[str, Any] = {
            "dispute_id": dispute.dispute_id,
            "invoice_id": invoice_id,
            "number": invoice.number,
        }
        data |= {"customer_id": invoice.customer_id, "source": source.value, "reason": reason.value}
        data["amount"] = amount.to_decimal_string() if amount else None
        creation = store.Creation.dispute(
            dispute, AuditEvent(dispute.dispute_id, 1, "DisputeOpened", now, opened_by, data)
        )
        changes: list[tuple[Any, AuditEvent]] = []
        # A chargeback's invoices are put under dispute by the payments side, with the money.
        if source is not Source.CHARGEBACK and invoice.status in COLLECTIBLE:
            disputed = replace(open_dispute(invoice), version=invoice.version + 1, updated_at=now)
            changes.append(
                (disputed, AuditEvent(invoice_id, disputed.version, "InvoiceDisputed", now, opened_by, data))
            )
        try:
            store.apply_changes(changes, creations=[creation])
        except store.ConcurrentChangeError:
            continue
        return dispute, True
    raise store.StoreError(f"dispute of {invoice_id}: too much contention, try again")


def _validate(invoice: Invoice, source: Source, amount: Money | None, lines: Sequence[DisputedLine]) -> None:
    errors: list[FieldError] = []
    if source is not Source.CHARGEBACK and invoice.status not in (*COLLECTIBLE, InvoiceStatus.DISPUTED):
        errors.append(FieldError("invoice", f"is {invoice.status.value}: there is nothing to dispute"))
    if amount is not None and (
        amount.currency != invoice.currency or not 0 < amount.minor <= invoice.payable.minor
    ):
        errors.append(FieldError("amount", f"must be more than zero and at most {invoice.payable}"))
    known = {line.line_id for line in invoice.lines}
    for n, line in enumerate(lines):
        if line.line_id not in known:
            errors.append(
                FieldError(f"lines[{n}].line_id", f"invoice {invoice.number} has no line {line.line_id}")
            )
    if errors:
        raise InvalidRequestError(errors)


def parse_lines(
    invoice: Invoice, amount_text: object, raw_lines: object, errors: list[FieldError]
) -> tuple[Money | None, list[DisputedLine]]:
    """The contested amount and lines as a form or JSON body gives them; problems go to
    ``errors`` (the amount and the line ids are checked against the invoice when opening)."""
    from decimal import InvalidOperation

    amount: Money | None = None
    if amount_text not in (None, ""):
        try:
            amount = Money.parse(str(amount_text), invoice.currency)
        except ValueError:
            errors.append(FieldError("amount", f"must be an amount in {invoice.currency}, such as 120.00"))
    lines: list[DisputedLine] = []
    if raw_lines in (None, ""):
        return amount, lines
    if not isinstance(raw_lines, list):
        errors.append(FieldError("lines", "must be a list of {line_id, quantity, unit_price}"))
        return amount, lines
    for n, raw in enumerate(raw_lines):
        if not isinstance(raw, dict) or not raw.get("line_id"):
            errors.append(FieldError(f"lines[{n}]", "must name a line_id"))
            continue
        try:
            quantity = None if raw.get("quantity") in (None, "") else bounded_decimal(raw["quantity"])
            price = None if raw.get("unit_price") in (None, "") else bounded_decimal(raw["unit_price"])
        except InvalidOperation:
            errors.append(FieldError(f"lines[{n}]", "quantity and unit_price must be decimal strings"))
            continue
        lines.append(DisputedLine(str(raw["line_id"]), quantity, price))
    return amount, lines
