"""A faster way for moto to write DynamoDB's attribute values into its responses, to the same JSON.

moto (5.2.5) writes every response through its botocore-model-driven serializer, which for each
attribute of each item returned visits the ten members of the ``AttributeValue`` structure (``S``,
``N``, ``B``, ``SS``, ``NS``, ``BS``, ``M``, ``L``, ``NULL``, ``BOOL``) and looks each one up
through five alias providers and a name transformation: half of the bank statement intake's time
on moto went there once its Queries read only their partition. An attribute value in a DynamoDB
result is already the wire's JSON (``{"S": "…"}``), so a value of the plain kinds (strings,
numbers, booleans, nulls, string and number sets, lists and maps of those) is written as it is;
anything else (binary values, a value of an unexpected shape, a serializer with response
transformers) goes through moto's own path. ``tests/integration/test_moto_indexes.py`` holds the
two to the same output.
"""

from __future__ import annotations

from typing import Any

_installed = False
original_serialize_structure: Any = None
_SERVICES = frozenset({"dynamodb"})


class _Unplain:
    """The marker of a value the fast path leaves to moto."""


_UNPLAIN = _Unplain()


def plain_attribute_value(value: Any) -> Any:
    """``value`` as moto's serializer writes an ``AttributeValue``, or `_UNPLAIN` when it is not
    of the kinds written as they are."""
    if type(value) is not dict or len(value) != 1:
        return _UNPLAIN
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return {kind: inner} if type(inner) is str else _UNPLAIN
    if kind in ("BOOL", "NULL"):
        return {kind: inner} if type(inner) is bool else _UNPLAIN
    if kind in ("SS", "NS"):
        if type(inner) is list and all(type(v) is str for v in inner):
            return {kind: list(inner)}
        return _UNPLAIN
    if kind == "M":
        if type(inner) is not dict:
            return _UNPLAIN
        written: dict[str, Any] = {}
        for name, member in inner.items():
            plain = plain_attribute_value(member)
            if plain is _UNPLAIN or type(name) is not str:
                return _UNPLAIN
            written[name] = plain
        return {kind: written}
    if kind == "L":
        if type(inner) is not list:
            return _UNPLAIN
        items = [plain_attribute_value(member) for member in inner]
        return _UNPLAIN if any(i is _UNPLAIN for i in items) else {kind: items}
    return _UNPLAIN


def install() -> None:
    """Write plain attribute values directly (idempotent)."""
    global _installed, original_serialize_structure
    if _installed:
        return
    from moto.core.serialize import JSONSerializer

    original_serialize_structure = JSONSerializer._serialize_type_structure
    JSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]
    _installed = True


def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if (
        key
        and shape.name == "AttributeValue"
        and self.operation_model.service_model.service_name in _SERVICES
        and not getattr(self._value_picker, "response_transformers", None)
    ):
        plain = plain_attribute_value(value)
        if plain is not _UNPLAIN:
            self._default_serialize(serialized, plain, shape, key)
            return
    original_serialize_structure(self, serialized, value, shape, key)
