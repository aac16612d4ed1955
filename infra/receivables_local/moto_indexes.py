"""An index of moto's DynamoDB items by each secondary index's hash key, so that a Query on an
index reads its partition instead of walking the whole table.

moto (5.2.5) answers a Query on an index by testing every item of the table against the key
condition (``Table.query``: ``for item in self.all_items()``), some 0.1 s per Query on a ledger of
20,000 invoices and their events: the bank statement intake, which asks two to four of them per
line, ran at 4 lines a second. Here every table keeps, per attribute that is the hash key of one
of its indexes, the items by that attribute's value, kept up to date by every write moto makes
(``Table.put_item``, ``Table.delete_item``, the backend's ``update_item`` which changes an item in
place, and the transaction rollback of `receivables_local.moto_patches`); a table moto made
otherwise (a restore, a whole-backend rollback) is indexed from its items at its first Query.

The index only narrows what moto's own Query walks: it hands moto every item whose index hash key
is the value asked for (a superset of what matches, checked again against the table's current
items), and moto's code then does everything else as before: the key conditions, the sparse
index's missing range keys, the order, ``ScanIndexForward``, ``Limit``, ``ExclusiveStartKey``,
``LastEvaluatedKey``, the projection and the filter. ``tests/integration/test_moto_indexes.py``
compares it, write after write, with moto's whole-table Query.
"""

from __future__ import annotations

import threading
import weakref
from decimal import Decimal
from typing import Any

_installed = False
original_put_item: Any = None
original_delete_item: Any = None
original_update_item: Any = None

# (type, value) of a key attribute, as DynamoType compares them: numbers by their Decimal value.
ValueKey = tuple[str, Any]
# An item's place in its table: its hash and range key values.
Identity = tuple[ValueKey | None, ValueKey | None]

_SCALARS = frozenset({"S", "N", "B"})


def _value_key(value: Any) -> ValueKey | None:
    """A DynamoType's hashable key, None for what no key attribute can hold (lists, maps, sets)."""
    if value is None or value.type not in _SCALARS:
        return None
    return (value.type, Decimal(value.value) if value.type == "N" else value.value)


def hash_attributes(table: Any) -> frozenset[str]:
    """The attributes that are the hash key (or a part of it) of one of the table's indexes."""
    return frozenset(
        key["AttributeName"]
        for index in table.all_indexes()
        for key in index.schema
        if key["KeyType"] == "HASH"
    )


class TableIndex:
    """One table's items by the value of each index hash attribute."""

    def __init__(self, table: Any) -> None:
        self.attributes = hash_attributes(table)
        # attribute -> value -> identity -> item
        self.buckets: dict[str, dict[ValueKey, dict[Identity, Any]]] = {a: {} for a in self.attributes}
        # identity -> the (attribute, value) buckets the item is in
        self.placed: dict[Identity, list[tuple[str, ValueKey]]] = {}
        for item in _every_item(table):
            self._add(_identity(item.hash_key, item.range_key), item)

    def _add(self, identity: Identity, item: Any) -> None:
        places: list[tuple[str, ValueKey]] = []
        for attribute in self.attributes:
            key = _value_key(item.attrs.get(attribute))
            if key is not None:
                self.buckets[attribute].setdefault(key, {})[identity] = item
                places.append((attribute, key))
        if places:
            self.placed[identity] = places

    def _remove(self, identity: Identity) -> None:
        for attribute, key in self.placed.pop(identity, ()):
            bucket = self.buckets[attribute].get(key)
            if bucket is not None:
                bucket.pop(identity, None)
                if not bucket:
                    del self.buckets[attribute][key]

    def refresh(self, table: Any, hash_value: Any, range_value: Any) -> None:
        """Index the item now at these keys (or its absence) in place of what was there."""
        identity = _identity(hash_value, range_value)
        self._remove(identity)
        item = _current(table, hash_value, range_value)
        if item is not None:
            self._add(identity, item)

    def candidates(self, table: Any, attribute: str, value: Any) -> list[Any]:
        """The table's items whose ``attribute`` is ``value`` (each still the table's item)."""
        key = _value_key(value)
        bucket = self.buckets[attribute].get(key) if key is not None else None
        if not bucket:
            return []
        return [item for item in bucket.values() if _current(table, item.hash_key, item.range_key) is item]


def _identity(hash_value: Any, range_value: Any) -> Identity:
    return (_value_key(hash_value), _value_key(range_value))


def _current(table: Any, hash_value: Any, range_value: Any) -> Any:
    """The table's item at these keys, without moto's defaultdict making an empty partition."""
    found = table.items.get(hash_value)
    if found is None or not table.range_key_attr:
        return found
    return found.get(range_value) if range_value is not None else None


def _every_item(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


_indexes: weakref.WeakKeyDictionary[Any, TableIndex] = weakref.WeakKeyDictionary()
_lock = threading.RLock()


def index_of(table: Any) -> TableIndex:
    """The table's index, built from its items when it has none or its indexes changed."""
    with _lock:
        index = _indexes.get(table)
        if index is None or index.attributes != hash_attributes(table):
            index = _indexes[table] = TableIndex(table)
        return index


def forget(table: Any) -> None:
    """Drop the table's index (it is built again from its items at its next Query): after a
    write whose keys cannot be told."""
    with _lock:
        _indexes.pop(table, None)


def refresh(table: Any, hash_value: Any, range_value: Any) -> None:
    """After a write to the item at these keys: its place in the table's index, if it has one
    (a table without one is indexed from its items at its first Query)."""
    with _lock:
        index = _indexes.get(table)
        if index is not None:
            index.refresh(table, hash_value, range_value)


def candidates(table: Any, conditions: list[tuple[str, Any]]) -> list[Any] | None:
    """The items a Query on an index with these hash key conditions can match, or None when the
    index cannot narrow it (then moto walks the table)."""
    if not conditions:
        return None
    attribute, value = conditions[0]
    with _lock:
        index = index_of(table)
        if attribute not in index.attributes:
            return None
        return index.candidates(table, attribute, value)


def install() -> None:
    """Keep the index on every write (idempotent)."""
    global _installed, original_put_item, original_delete_item, original_update_item
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_put_item = Table.put_item
    original_delete_item = Table.delete_item
    original_update_item = DynamoDBBackend.update_item
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    _installed = True


def _keys_of(table: Any, attributes: Any) -> tuple[Any, Any] | None:
    """The DynamoType hash and range values that ``attributes`` (a key or an item) name."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
        return None
    try:
        hash_value = DynamoType(attributes[table.hash_key_attr])
        range_value = (
            DynamoType(attributes[table.range_key_attr])
            if table.range_key_attr and table.range_key_attr in attributes
            else None
        )
    except (TypeError, AttributeError, IndexError):
        return None
    return hash_value, range_value


def _put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return original_put_item(self, item_attrs, *args, **kwargs)
    finally:
        keys = _keys_of(self, item_attrs)
        if keys is None:
            forget(self)
        else:
            refresh(self, *keys)


def _delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
    try:
        return original_delete_item(self, hash_key, range_key)
    finally:
        refresh(self, hash_key, range_key)


def _update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    # moto changes the item in place (or creates it): what it holds afterwards is reindexed, also
    # when the update fails half-way.
    try:
        return original_update_item(self, table_name, key, *args, **kwargs)
    finally:
        table = self.tables.get(table_name)
        if table is not None:
            keys = _keys_of(table, key)
            if keys is None:
                forget(table)
            else:
                refresh(table, *keys)
