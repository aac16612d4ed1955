"""The items the stream keeps beside the ledger (`receivables.reporting.aggregates` decides what
they count): each invoice's share, the counters (per due date, customer, issue day, day of
activity, a customer's risk events and links sent), the markers of what was counted once, the
index of currencies and sellers, and the risk score's daily points.

Counters are integers added with ``ADD`` inside a transaction, under attribute names the caller
gives at run time (``open``, ``d_<date>``, ``p_EUR`` …), which records cannot express: this
module writes and reads them in DynamoDB's attribute-value form through `connection.dispatch`,
and gives and takes plain values (ints, strs, a share's fields, counters as dicts of ints).
A counters item is named by its key (`keys`: ``due_date_key``, ``activity_key`` …).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from botocore.exceptions import ClientError

from receivables.storage.connection import dispatch
from receivables.storage.errors import StoreError
from receivables.storage.keys import (
    ACTIVITY_PK,
    AGGREGATE_INDEX,
    HEAD,
    SHARE_SK,
    counted_marker,
    customer_total_key,
    customer_totals_pk,
    due_date_of,
    due_dates_pk,
    invoice_id_of,
    links_key,
    risk_counts_key,
    risk_pk,
    risk_point_sk,
    sales_day_of,
    sales_pk,
    sales_sk,
    share_key,
)
from receivables.storage.reads import documents
from receivables.storage.unit_of_work import Write, document_replacement

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

Key = tuple[str, str]
Counted = tuple[str, dict[str, int]]  # what a counters item is of (a date, a customer), its counters


# --- the cost of reading ------------------------------------------------------------------------
@dataclass
class Reads:
    """What reading the aggregates cost: items returned and read capacity consumed."""

    items: int = 0
    capacity: float = 0.0

    def add(self, response: dict[str, Any]) -> None:
        """Count one response of a GetItem or a Query page."""
        self.items += int(response.get("Count", 1 if response.get("Item") else 0))
        consumed = response.get("ConsumedCapacity") or {}
        self.capacity += float(consumed.get("CapacityUnits", 0.0))


# --- shares: an invoice's contribution ------------------------------------------------------------
class ShareFields(TypedDict):
    """An invoice's stored contribution to the aggregates (`receivables.reporting.aggregates.Share`)."""

    version: int
    currency: str
    customer_id: str
    issue_date: str
    due_date: str
    open: int
    disputed: bool
    sales: int
    ever_disputed: bool


def share_item(invoice_id: str, share: ShareFields) -> dict[str, Any]:
    """The item holding ``share`` of ``invoice_id``, as the table holds it (attribute-value form;
    for the reconciliation's readers and tools that write items in bulk)."""
    pk, sk = share_key(invoice_id)
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "kind": {"S": "aggregate_share"},
        "version": {"N": str(share["version"])},
        "currency": {"S": share["currency"]},
        "customer_id": {"S": share["customer_id"]},
        "issue_date": {"S": share["issue_date"]},
        "due_date": {"S": share["due_date"]},
        "open": {"N": str(share["open"])},
        "disputed": {"BOOL": share["disputed"]},
        "sales": {"N": str(share["sales"])},
        "ever_disputed": {"BOOL": share["ever_disputed"]},
    }


def _share_fields(item: dict[str, Any]) -> ShareFields:
    return ShareFields(
        version=int(item["version"]["N"]),
        currency=item["currency"]["S"],
        customer_id=item["customer_id"]["S"],
        issue_date=item["issue_date"]["S"],
        due_date=item["due_date"]["S"],
        open=int(item["open"]["N"]),
        disputed=item["disputed"]["BOOL"],
        sales=int(item["sales"]["N"]),
        ever_disputed=item["ever_disputed"]["BOOL"],
    )


def share_in(item: Mapping[str, Any]) -> ShareFields | None:
    """The share a partition's item holds (`audits.ledger_partition` gives it as the table holds
    it), or None when the item is no share."""
    if item.get("sk", {}).get("S") == SHARE_SK and item.get("kind", {}).get("S") == "aggregate_share":
        return _share_fields(dict(item))
    return None


def stored_share(invoice_id: str) -> ShareFields | None:
    """The invoice's stored contribution (a consistent GetItem), or None before its first."""
    pk, sk = share_key(invoice_id)
    response = dispatch("GetItem", {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}, "ConsistentRead": True})
    item = response.get("Item")
    return _share_fields(item) if item else None


def write_share(
    invoice_id: str,
    share: ShareFields,
    changes: Mapping[Key, Mapping[str, int]],
    *,
    replacing: int | None,
    index: tuple[str, str] | None = None,
) -> bool:
    """Put ``share`` of ``invoice_id`` with the counter ``changes`` it causes (per counters item,
    the amounts to add) in one transaction, on condition that the stored share is still the one
    of version ``replacing`` (or that there is none, for None); ``index`` (currency, seller) is
    added to the index of currencies and sellers in the same transaction. True when written;
    False when the transaction was cancelled (the condition failed: another record of the
    invoice came first; or another transaction held a counter), for the caller to read again."""
    put: dict[str, Any] = {
        "Put": {"Item": share_item(invoice_id, share), "ConditionExpression": "attribute_not_exists(pk)"}
    }
    if replacing is not None:  # exactly the share read, so the changes are computed from it
        put["Put"]["ConditionExpression"] = "version = :before"
        put["Put"]["ExpressionAttributeValues"] = {":before": {"N": str(replacing)}}
    items = [put, *(_added(key, amounts) for key, amounts in changes.items())]
    if index is not None:
        items.append(
            {
                "Update": {
                    "Key": _key(AGGREGATE_INDEX),
                    "UpdateExpression": "ADD currencies :c, sellers :s",
                    "ExpressionAttributeValues": {":c": {"SS": [index[0]]}, ":s": {"SS": [index[1]]}},
                }
            }
        )
    return _written(items)


# --- counting once ------------------------------------------------------------------------------
def count_once(marker: Key, counters: Mapping[Key, Mapping[str, int]], attempts: int = 5) -> bool:
    """Add ``counters`` (per counters item, the amounts to add) once for ``marker`` (the counted
    item's `StreamedItem.marker`), in one transaction with the marker put on condition that it
    does not exist; False when it was counted before. Raises `StoreError` when the transaction
    keeps being cancelled with no marker found (conflicts on the counters)."""
    put = {
        "Put": {
            "Item": {"pk": {"S": marker[0]}, "sk": {"S": marker[1]}, "kind": {"S": "aggregate_marker"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    items = [put, *(_added(key, amounts) for key, amounts in counters.items())]
    for _ in range(attempts):
        if _written(items):
            return True
        found = dispatch("GetItem", {"Key": _key(marker), "ConsistentRead": True})
        if found.get("Item"):
            return False  # counted by an earlier delivery
    raise StoreError(f"counting {marker[0]} {marker[1]} kept conflicting")


def _key(key: Key) -> dict[str, Any]:
    return {"pk": {"S": key[0]}, "sk": {"S": key[1]}}


def _added(key: Key, amounts: Mapping[str, int]) -> dict[str, Any]:
    names = {f"#a{i}": attribute for i, attribute in enumerate(amounts)}
    values = {f":v{i}": {"N": str(amount)} for i, amount in enumerate(amounts.values())}
    return {
        "Update": {
            "Key": _key(key),
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(amounts))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _written(items: list[dict[str, Any]]) -> bool:
    """Write ``items`` in one transaction: True, or False when it was cancelled (a condition
    failed or another transaction held an item); any other error is raised."""
    try:
        dispatch("TransactWriteItems", {"TransactItems": items})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        return False
    return True


# --- compaction: removing what holds nothing, on condition it still does --------------------------
def _zero_condition(names: Iterable[str]) -> dict[str, Any]:
    listed = list(names)
    return {
        "ConditionExpression": " AND ".join(f"#a{i} = :zero" for i in range(len(listed))),
        "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(listed)},
        "ExpressionAttributeValues": {":zero": {"N": "0"}},
    }


def _conditionally(operation: str, arguments: dict[str, Any]) -> bool:
    try:
        dispatch(operation, arguments)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False  # a contribution landed meanwhile: it stays


def delete_if_zero(key: Key, counters: Iterable[str]) -> bool:
    """Delete the counters item ``key`` on condition that each of ``counters`` (all it holds) is
    still zero; False, and nothing deleted, when one is not (a contribution landed meanwhile)."""
    return _conditionally("DeleteItem", {"Key": _key(key), **_zero_condition(counters)})


def remove_if_zero(key: Key, counters: Iterable[str]) -> bool:
    """Remove ``counters`` from the counters item ``key`` on condition that each is still zero;
    False, and nothing removed, when one is not."""
    arguments = _zero_condition(counters)
    arguments["UpdateExpression"] = "REMOVE " + ", ".join(arguments["ExpressionAttributeNames"])
    return _conditionally("UpdateItem", {"Key": _key(key), **arguments})


# --- reading the counters -----------------------------------------------------------------------
def aggregate_items(pk: str, reads: Reads, sk_between: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of the aggregate partition ``pk`` (optionally with sk in a range), all pages,
    as the table holds them (attribute-value form: for the reconciliation's readers; read the
    counters with `counters_of` or the readers below)."""
    arguments: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
    }
    if sk_between:
        arguments["KeyConditionExpression"] += " AND sk BETWEEN :lo AND :hi"
        arguments["ExpressionAttributeValues"].update(
            {":lo": {"S": sk_between[0]}, ":hi": {"S": sk_between[1]}}
        )
    items: list[dict[str, Any]] = []
    while True:
        response = dispatch("Query", arguments)
        reads.add(response)
        items.extend(response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return items
        arguments["ExclusiveStartKey"] = last


def counters_of(item: Mapping[str, Any]) -> tuple[Key, dict[str, int]]:
    """A counters item (`aggregate_items`) as its key and its counters, in the item's order."""
    return (item["pk"]["S"], item["sk"]["S"]), _numbers(item)


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def _items(
    pk: str, reads: Reads, sk_between: tuple[str, str] | None = None
) -> list[tuple[Key, dict[str, int]]]:
    return [counters_of(item) for item in aggregate_items(pk, reads, sk_between)]


def due_date_counters(currency: str, reads: Reads) -> list[Counted]:
    """Per due date (ISO) of ``currency``, its counters (one Query), by due date."""
    return [(due_date_of(sk), counters) for (_, sk), counters in _items(due_dates_pk(currency), reads)]


def customer_counters(currency: str, reads: Reads) -> list[Counted]:
    """Per customer with a running total in ``currency``, its counters (one Query), by id."""
    return [(sk, counters) for (_, sk), counters in _items(customer_totals_pk(currency), reads)]


def aging_counters(currency: str, reads: Reads) -> list[tuple[Key, dict[str, int]]]:
    """The due-date items of ``currency``, then its customer items, each with its key (for
    `delete_if_zero` and `remove_if_zero`) and its counters (two Queries): what compaction reads."""
    return [
        item for pk in (due_dates_pk(currency), customer_totals_pk(currency)) for item in _items(pk, reads)
    ]


def sales_counters(currency: str, first: str, last: str, reads: Reads) -> list[Counted]:
    """Per issue date (ISO) from ``first`` to ``last`` of ``currency``, its sales counters (one
    Query), oldest first."""
    between = (sales_sk(first), sales_sk(last))
    return [(sales_day_of(sk), counters) for (_, sk), counters in _items(sales_pk(currency), reads, between)]


def activity_counters(first: str, last: str, reads: Reads) -> list[Counted]:
    """Per day (ISO) from ``first`` to ``last`` that counted an email or a payment, its counters
    (one Query), oldest first."""
    return [(sk, counters) for (_, sk), counters in _items(ACTIVITY_PK, reads, (first, last))]


@dataclass(frozen=True, slots=True)
class AggregateIndex:
    """The currencies any invoice was ever in and the sellers any was issued by, sorted."""

    currencies: list[str]
    sellers: list[str]


def aggregate_index(reads: Reads) -> AggregateIndex:
    """The index of currencies and sellers (one GetItem)."""
    response = dispatch("GetItem", {"Key": _key(AGGREGATE_INDEX)})
    reads.add(response)
    item = response.get("Item") or {}
    return AggregateIndex(
        sorted(item.get("currencies", {}).get("SS", [])), sorted(item.get("sellers", {}).get("SS", []))
    )


def _counters_at(key: Key, *, consistent: bool) -> dict[str, int]:
    arguments: dict[str, Any] = {"Key": _key(key)}
    if consistent:
        arguments["ConsistentRead"] = True
    return _numbers(dispatch("GetItem", arguments).get("Item") or {})


def customer_total(customer_id: str, currency: str) -> dict[str, int]:
    """A customer's running total in ``currency`` (one consistent GetItem): its counters; empty
    when there is none."""
    return _counters_at(customer_total_key(currency, customer_id), consistent=True)


def link_counts(customer_id: str) -> dict[str, int]:
    """The counters of the links a customer was sent (one GetItem); empty when there is none."""
    return _counters_at(links_key(customer_id), consistent=False)


def risk_counts(customer_id: str) -> dict[str, int]:
    """The risk events counted for a customer (one consistent GetItem); empty when none was."""
    return _counters_at(risk_counts_key(customer_id), consistent=True)


# --- the risk score's history ---------------------------------------------------------------------
def risk_points(customer_id: str, first: str, last: str) -> list[dict[str, Any]]:
    """The risk score's daily points of ``customer_id`` from day ``first`` to ``last`` (ISO,
    both included), oldest first."""
    return [
        body for _, body in documents(risk_pk(customer_id), risk_point_sk(first), risk_point_sk(last) + "~")
    ]


def risk_point(customer_id: str, day: str, point: dict[str, Any], at: str) -> Write:
    """The write of the risk score's point of ``day`` (ISO), replacing the day's earlier one
    (unconditional: the day's last score is its point)."""
    return document_replacement(risk_pk(customer_id), risk_point_sk(day), point, at)


# --- stream records -----------------------------------------------------------------------------
class StreamedItem:
    """An item as a stream record's NewImage holds it, as far as the aggregates read it. Each
    attribute is read when asked for, as the table wrote it."""

    __slots__ = ("_image",)

    def __init__(self, image: Mapping[str, Any]) -> None:
        self._image = image

    def _text(self, name: str) -> str | None:
        value: str | None = self._image.get(name, {}).get("S")
        return value

    @property
    def kind(self) -> str | None:
        """What the item is (``event``, ``payment`` …)."""
        return self._text("kind")

    @property
    def type(self) -> str | None:
        """An audit event's type (``InvoiceEmailed``, ``PromiseBroken`` …)."""
        return self._text("type")

    @property
    def is_head(self) -> bool:
        """Whether the item is an aggregate's head (a payment's current state)."""
        return bool(self._image["sk"]["S"] == HEAD)

    @property
    def at(self) -> str:
        """When an audit event happened (ISO timestamp)."""
        return str(self._image["at"]["S"])

    @property
    def customer_id(self) -> str | None:
        """The customer an audit event's data names, if any."""
        found = json.loads(self._text("data") or "{}").get("customer_id")
        return str(found) if found else None

    @property
    def invoice_id(self) -> str | None:
        """The invoice whose partition holds the item, or None for another aggregate's."""
        return invoice_id_of(self._image["pk"]["S"])

    @property
    def currency(self) -> str:
        """A payment's currency."""
        return str(self._image["currency"]["S"])

    @property
    def received_at(self) -> str:
        """When a payment was received (ISO timestamp)."""
        return str(self._image["received_at"]["S"])

    @property
    def amount(self) -> int:
        """A payment's amount (minor units)."""
        return int(self._image["amount"]["N"])

    @property
    def marker(self) -> Key:
        """The key of the marker that says the item was counted (`count_once`)."""
        return counted_marker(self._image["pk"]["S"], self._image["sk"]["S"])


def streamed_item(image: Mapping[str, Any]) -> StreamedItem:
    """What a stream record's NewImage holds (`StreamedItem`)."""
    return StreamedItem(image)
