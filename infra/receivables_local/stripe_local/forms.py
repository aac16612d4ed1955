"""Stripe's form encoding, decoded and checked against a parameter schema.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings) whose keys
nest with brackets: ``metadata[invoice_id]=inv_1``, ``line_items[0][price_data][currency]=eur``,
``expand[]=payment_intent`` (the SDK writes ``expand[0]=…``). `decode` turns such a body into nested
dicts whose leaves stay strings; whether ``[0]`` opens a list or is a map key (``metadata[0]`` is a
key) only the endpoint knows, so `conform` reads the decoded tree with the endpoint's schema: it
makes lists of what the schema says are lists and refuses any parameter the schema does not know,
with Stripe's messages (``Received unknown parameter: line_items[0][foo]``).

A schema node is ``STRING`` (a leaf), ``MAP`` (free keys to strings: metadata), a dict (an object
with these keys) or a one-element list (an array of that node).
"""

from __future__ import annotations

import re
from typing import TypeAlias
from urllib.parse import parse_qsl

RawValue: TypeAlias = "str | dict[str, RawValue]"
FormValue: TypeAlias = "str | list[FormValue] | dict[str, FormValue]"
Params: TypeAlias = "dict[str, FormValue]"
SchemaNode: TypeAlias = "str | dict[str, SchemaNode] | list[SchemaNode]"

STRING = "string"
MAP = "map"
STRINGS: list[SchemaNode] = [STRING]  # an array of strings: expand[], enabled_events[]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A parameter Stripe would refuse: ``message`` and ``param`` as in its error object."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def decode(body: str) -> dict[str, RawValue]:
    """Decode a form body or query string into nested dicts of strings.

    ``a[b][c]=v`` gives ``{"a": {"b": {"c": "v"}}}``; ``a[]=x&a[]=y`` gives ``{"a": {"0": "x", "1":
    "y"}}`` (`conform` makes the list). A key that is both a value and an object is refused.
    """
    root: dict[str, RawValue] = {}
    for key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        match = _KEY.match(key)
        if match is None:
            raise FormError(f"Invalid parameter name: {key}", key, "parameter_invalid")
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = part if part != "" else str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise FormError(f"Invalid string: {key}", key, "parameter_invalid")
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise FormError("Invalid object", key, "parameter_invalid")
            node = child
    return root


def conform(raw: dict[str, RawValue], schema: dict[str, SchemaNode]) -> Params:
    """Check decoded parameters against an endpoint's schema and shape its lists.

    Raises `FormError` with ``parameter_unknown`` for a parameter the schema lacks, as Stripe does.
    """
    result: Params = {}
    for key, value in raw.items():
        if key not in schema:
            raise FormError(f"Received unknown parameter: {key}", key, "parameter_unknown")
        result[key] = _conform(value, schema[key], key)
    return result


def _conform(value: RawValue, schema: SchemaNode, name: str) -> FormValue:
    if schema == STRING:
        if not isinstance(value, str):
            raise FormError(f"Invalid string: {_flatten(value)}", name, "parameter_invalid_string")
        return value
    if schema == MAP:
        return _conform_map(value, name)
    if isinstance(schema, list):
        return _conform_array(value, schema[0], name)
    if isinstance(schema, dict):
        return _conform_object(value, schema, name)
    raise TypeError(f"bad schema node {schema!r} for {name}")


def _conform_map(value: RawValue, name: str) -> FormValue:
    if isinstance(value, str):
        if value == "":  # metadata= unsets every key
            return {}
        raise FormError("Invalid object", name, "parameter_invalid")
    entries: dict[str, FormValue] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise FormError(f"Invalid string: {_flatten(item)}", f"{name}[{key}]", "parameter_invalid")
        entries[key] = item
    return entries


def _conform_array(value: RawValue, item_schema: SchemaNode, name: str) -> FormValue:
    if isinstance(value, str):
        if value == "":
            return []
        raise FormError("Invalid array", name, "parameter_invalid")
    if not all(key.isdigit() for key in value):
        raise FormError("Invalid array", name, "parameter_invalid")
    ordered = sorted(value.items(), key=lambda kv: int(kv[0]))
    return [_conform(item, item_schema, f"{name}[{index}]") for index, (_, item) in enumerate(ordered)]


def _conform_object(value: RawValue, schema: dict[str, SchemaNode], name: str) -> FormValue:
    if isinstance(value, str):
        if value == "":
            return {}
        raise FormError("Invalid object", name, "parameter_invalid")
    fields: dict[str, FormValue] = {}
    for key, item in value.items():
        if key not in schema:
            raise FormError(
                f"Received unknown parameter: {name}[{key}]", f"{name}[{key}]", "parameter_unknown"
            )
        fields[key] = _conform(item, schema[key], f"{name}[{key}]")
    return fields


def _flatten(value: RawValue) -> str:
    if isinstance(value, str):
        return value
    return "{" + ", ".join(f"{key}: {_flatten(item)}" for key, item in value.items()) + "}"


# -- reading conformed parameters -----------------------------------------------------------


def string(params: Params, key: str) -> str | None:
    """The string at ``key``, or None when absent or empty (Stripe reads ``key=`` as unset)."""
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FormError(f"Invalid string: {key}", key, "parameter_invalid_string")
    return value


def required_string(params: Params, key: str, name: str | None = None) -> str:
    """The string at ``key``; ``Missing required param`` when absent or empty."""
    value = string(params, key)
    if value is None:
        param = name or key
        raise FormError(f"Missing required param: {param}.", param, "parameter_missing")
    return value


def to_int(value: str, name: str) -> int:
    """An integer parameter, as Stripe parses it (``Invalid integer: 12.5``)."""
    if not re.fullmatch(r"-?\d+", value.strip()):
        raise FormError(f"Invalid integer: {value}", name, "parameter_invalid_integer")
    return int(value)


def integer(params: Params, key: str, name: str | None = None) -> int | None:
    """The integer at ``key``, or None when absent or empty."""
    value = string(params, key)
    return None if value is None else to_int(value, name or key)


def non_negative_int(value: str, name: str) -> int:
    """An integer ``>= 0`` (``Invalid non-negative integer``)."""
    number = to_int(value, name)
    if number < 0:
        raise FormError("Invalid non-negative integer", name, "parameter_invalid_integer")
    return number


def positive_int(value: str, name: str) -> int:
    """An integer ``>= 1`` (``Invalid positive integer``)."""
    number = to_int(value, name)
    if number < 1:
        raise FormError("Invalid positive integer", name, "parameter_invalid_integer")
    return number


def boolean(params: Params, key: str) -> bool | None:
    """``true``/``false`` at ``key`` (``Invalid boolean: yes``), or None when absent."""
    value = string(params, key)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise FormError(f"Invalid boolean: {value}", key, "parameter_invalid")
    return value == "true"


def mapping(params: Params, key: str) -> dict[str, str]:
    """A map of strings (metadata) at ``key``; empty when absent."""
    value = params.get(key) or {}
    if not isinstance(value, dict):
        raise FormError("Invalid object", key, "parameter_invalid")
    return {k: v for k, v in value.items() if isinstance(v, str)}


def obj(params: Params, key: str) -> Params:
    """The object (nested parameters) at ``key``; empty when absent."""
    value = params.get(key) or {}
    if not isinstance(value, dict):
        raise FormError("Invalid object", key, "parameter_invalid")
    return value


def array(params: Params, key: str) -> list[FormValue]:
    """The array at ``key``; empty when absent."""
    value = params.get(key) or []
    if not isinstance(value, list):
        raise FormError("Invalid array", key, "parameter_invalid")
    return value


def strings(params: Params, key: str) -> list[str]:
    """An array of strings at ``key`` (``expand[]``); empty when absent."""
    values = array(params, key)
    result: list[str] = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise FormError("Invalid string", f"{key}[{index}]", "parameter_invalid_string")
        result.append(value)
    return result
