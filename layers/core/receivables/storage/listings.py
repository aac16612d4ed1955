"""Pages and cursors: the listings the finance API pages through (invoices issued and payments
received by month, customers by name, a customer's invoices, open invoices by due date). A
cursor is the plain position a listing stopped at; `CursorError` when it is not one of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import QueryError

from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.storage.keys import DUE_SHARDS
from receivables.storage.mapping import customer_from_record, invoice_from_record, payment_from_record
from receivables.storage.records import CustomerRecord, InvoiceRecord, LedgerRecord, PaymentRecord

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from receivables.ledger.model import (
        Customer,
        Invoice,
        Payment,
    )

# --- listings (pages and cursors) ---------------------------------------------------------------
# A cursor is the plain position a listing stopped at; the API wraps it opaquely.
Cursor = dict[str, Any]
_KEY_NAMES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"})


class CursorError(InvalidRequestError, ValueError):
    """A cursor that is not a position of this listing (a client's mistake, or a forgery)."""

    def __init__(self, detail: str = "not a position of this listing") -> None:
        super().__init__([FieldError("cursor", "is not a cursor of this listing")])
        self.detail = detail


def _records(result: Any, start: Cursor | None) -> list[Any]:
    """The items of a query from ``start``: a well-shaped position DynamoDB refuses (another
    listing's) is the caller's mistake, a `CursorError`; without one the error is ours."""
    try:
        return list(result)
    except QueryError:
        if start is None:
            raise
        raise CursorError("DynamoDB refused the position") from None


def _position(start: Any, index: Any, hash_key: str) -> Cursor | None:
    """``start`` if it is a position in ``index``'s partition ``hash_key`` (``{"pk": {"S": "…"},
    …}``) or None; else `CursorError`."""
    if start is None:
        return None
    if (
        isinstance(start, dict)
        and 0 < len(start) <= 4
        and set(start) <= _KEY_NAMES
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in start.values())
        and start.get(index._hash_key_attribute().attr_name, {}).get("S") == hash_key
    ):
        return start
    raise CursorError("not a position of this listing")


def _page(
    index: Any, hash_key: str, limit: int, start: Cursor | None, condition: Any = None
) -> tuple[list[LedgerRecord], Cursor | None]:
    """One page of an index partition, newest (highest sort key) first."""
    result = index.query(
        hash_key,
        range_key_condition=condition,
        limit=limit,
        last_evaluated_key=_position(start, index, hash_key),
        scan_index_forward=False,
    )
    records = _records(result, start)
    last = result.last_evaluated_key if len(records) >= limit else None
    return records, last


def _monthly(
    prefix: str, months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[LedgerRecord], Cursor | None]:
    """Up to ``limit`` items of the gsi3 partitions ``prefix<month>``, newest month first."""
    position = cursor or {"month": months[0] if months else "", "key": None}
    if not (
        isinstance(position, dict)
        and set(position) == {"month", "key"}
        and isinstance(position["month"], str)
        and (not cursor or (len(position["month"]) == 7 and position["month"][4] == "-"))
    ):
        raise CursorError("not a position of this listing")
    out: list[LedgerRecord] = []
    for month in (m for m in months if m <= position["month"]):
        key = position["key"] if month == position["month"] else None
        records, last = _page(LedgerRecord.gsi3, prefix + month, limit - len(out), key)
        out.extend(records)
        if last is not None:
            return out, {"month": month, "key": last}
        if len(out) >= limit:
            later = [m for m in months if m < month]
            return out, ({"month": later[0], "key": None} if later else None)
    return out, None


def invoices_issued(
    months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], Cursor | None]:
    """Invoices issued in ``months`` (``YYYY-MM``, newest first), newest first (Query gsi3)."""
    records, last = _monthly("ISSUED#", months, limit, cursor)
    return [invoice_from_record(r) for r in records if isinstance(r, InvoiceRecord)], last


def payments_received(
    months: Sequence[str], limit: int, cursor: Cursor | None
) -> tuple[list[Payment], Cursor | None]:
    """Payments received in ``months``, newest first (Query gsi3)."""
    records, last = _monthly("RECEIVED#", months, limit, cursor)
    return [payment_from_record(r) for r in records if isinstance(r, PaymentRecord)], last


def customers_by_name(limit: int, cursor: Cursor | None) -> tuple[list[Customer], Cursor | None]:
    """Customers in name order (Query gsi3)."""
    result = LedgerRecord.gsi3.query(
        "CUSTOMERS", limit=limit, last_evaluated_key=_position(cursor, LedgerRecord.gsi3, "CUSTOMERS")
    )
    records = _records(result, cursor)
    last = result.last_evaluated_key if len(records) >= limit else None
    return [customer_from_record(r) for r in records if isinstance(r, CustomerRecord)], last


def customer_invoices(
    customer_id: str, limit: int, cursor: Cursor | None
) -> tuple[list[Invoice], Cursor | None]:
    """A customer's invoices, newest issued first (Query gsi1, the ``INV#`` range)."""
    records, last = _page(
        LedgerRecord.gsi1, f"CUST#{customer_id}", limit, cursor, LedgerRecord.gsi1sk.startswith("INV#")
    )
    return [invoice_from_record(r) for r in records if isinstance(r, InvoiceRecord)], last


def open_invoices_by_due(
    limit: int, after: str | None = None, due_from: date | None = None, due_to: date | None = None
) -> tuple[list[Invoice], str | None]:
    """Open receivables in due-date order (oldest due first), merged over the shards of gsi2.

    ``after`` is the sort key (``<due>#<id>``) the previous page ended with; the next one is
    returned when there may be more."""
    low = after or (due_from.isoformat() if due_from else "0")
    high = (due_to.isoformat() + "#~") if due_to else "~"
    found: list[LedgerRecord] = []
    more = False
    for shard in range(DUE_SHARDS):
        condition = LedgerRecord.gsi2sk.between(low, high)
        # BETWEEN includes ``after`` itself: one more for it, one more to know if more follow.
        result = LedgerRecord.gsi2.query(f"DUE#{shard}", condition, limit=limit + 2)
        records = [r for r in result if r.gsi2sk != after]
        more = more or len(records) > limit
        found.extend(records[:limit])
    found.sort(key=lambda r: str(r.gsi2sk))
    page, rest = found[:limit], found[limit:]
    last = str(page[-1].gsi2sk) if page and (rest or more) else None
    return [invoice_from_record(r) for r in page if isinstance(r, InvoiceRecord)], last
