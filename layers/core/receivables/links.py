"""Signed, expiring, scoped links for customers (the pay link today, the portal later).

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact JSON
naming what the link may do (``pay``), for which customer and, when it is about one, which
invoice, until when, and under which link generation of the customer (rotating the generation
revokes every older link). The signature is HMAC-SHA256 of the payload with a key from Secrets
Manager, compared in constant time. Nothing in a token is secret, and nothing in it can be
changed without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

VERSION = 1


class LinkError(Exception):
    """A link that cannot be honoured; ``reason`` is "malformed", "tampered" or "expired"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkScope:
    """What a link allows: an ``action`` for one customer (and one invoice), until ``expires``
    (epoch seconds), for the customer's link ``generation``."""

    action: str
    customer_id: str
    invoice_id: str | None
    expires: int
    generation: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_link(scope: LinkScope, key: bytes) -> str:
    """The token for ``scope``."""
    if len(key) < 32:
        raise ValueError("a link signing key has at least 32 bytes")
    payload = {
        "v": VERSION,
        "a": scope.action,
        "c": scope.customer_id,
        "i": scope.invoice_id,
        "e": scope.expires,
        "g": scope.generation,
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def verify_link(token: str, key: bytes, now: datetime, *, action: str) -> LinkScope:
    """The scope of ``token`` if it is authentic, unexpired and for ``action``; else `LinkError`.

    The signature is checked before anything in the payload is trusted.
    """
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature or len(token) > 1024:
        raise LinkError("malformed", "the link is not one of ours")
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
    except ValueError:
        raise LinkError("malformed", "the link is not one of ours") from None
    if not hmac.compare_digest(expected, given):
        raise LinkError("tampered", "the link has been altered")
    try:
        payload = json.loads(_unb64(body))
        scope = LinkScope(
            action=str(payload["a"]),
            customer_id=str(payload["c"]),
            invoice_id=None if payload["i"] is None else str(payload["i"]),
            expires=int(payload["e"]),
            generation=int(payload.get("g", 0)),
        )
    except (ValueError, KeyError, TypeError):
        raise LinkError("malformed", "the link is not one of ours") from None
    if payload.get("v") != VERSION or scope.action != action:
        raise LinkError("malformed", f"the link is not a {action} link")
    if now.timestamp() >= scope.expires:
        raise LinkError("expired", "the link has expired")
    return scope
