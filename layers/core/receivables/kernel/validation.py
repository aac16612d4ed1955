"""Request validation: every bad field reported at once, each with why."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from receivables.kernel.errors import FieldError, InvalidRequestError

# --- JSON at the edges ------------------------------------------------------------------------
MAX_JSON_DEPTH = 32
MAX_BODY_BYTES = 1024 * 1024


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKeyError(key)
        found[key] = value
    return found


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when ``text``'s arrays and objects nest deeper than ``limit`` (strings skipped).

    One pass over the characters, before the parser recurses: a body of ten thousand brackets
    is refused by its depth, never by a RecursionError.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(
    raw: bytes | str,
    *,
    field: str = "body",
    max_bytes: int = MAX_BODY_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse JSON from outside strictly; raise `InvalidRequestError` naming ``field`` and why.

    Numbers with a fraction or an exponent become exact `Decimal` (never a float: 12345678901234567.89
    stays itself); ``NaN`` and ``Infinity`` are refused, and so are a duplicated key (JSON leaves
    it to the parser, and taking the last one silently hides a mistake), a body over ``max_bytes``
    and nesting deeper than ``max_depth``.

    >>> parse_json(b'{"amount": 12.50}')
    {'amount': Decimal('12.50')}
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if size > max_bytes:
        raise InvalidRequestError([FieldError(field, f"is larger than {max_bytes} bytes")])
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidRequestError([FieldError(field, "is not UTF-8 text")]) from None
    if json_depth_exceeds(text, max_depth):
        raise InvalidRequestError([FieldError(field, f"nests deeper than {max_depth} levels")])
    try:
        return json.loads(
            text, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
        )
    except _DuplicateKeyError as exc:
        raise InvalidRequestError([FieldError(field, f"has the key {exc.args[0]!r} twice")]) from None
    except ValueError as exc:  # JSONDecodeError, a refused constant, an int of too many digits
        raise InvalidRequestError([FieldError(field, f"is not valid JSON ({exc})")]) from None
