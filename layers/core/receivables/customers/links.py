"""Signed, expiring, scoped links for customers (the pay link today, the portal later).

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact JSON
naming what the link may do (``pay``), for which customer and, when it is about one, which
invoice, until when, and under which link generation of the customer (rotating the generation
revokes every older link). The signature is HMAC-SHA256 of the payload with a key from Secrets
Manager, compared in constant time. Nothing in a token is secret, and nothing in it can be
changed without the key. Each part has one spelling: the canonical unpadded base64url of its
bytes (base64 leaves unused bits in the last character, and Python's decoder forgives padding
and stray characters; none of these other spellings verifies).

Rotating the key: the secret holds either one key (the plain string, as it always has) or a
JSON object ``{"current": "<key>", "previous": "<key>"}``; `link_keys` reads both forms. The
current key signs, the current and the previous key verify. An operator rotates in two steps:

1. Put ``{"current": "<new key>", "previous": "<the key in use until now>"}``. New links are
   signed with the new key; every link already emailed still opens. (The functions read the
   secret at most every five minutes: in those minutes an instance still holding the old value
   refuses links signed with the new key; the customer's retry after that succeeds.)
2. Once the longest-lived link signed with the old key has expired (``PAY_LINK_TTL_DAYS``,
   60 days by default, after step 1; enrolment invitations carry their own expiry), put
   ``{"current": "<new key>"}`` (or the new key alone). The old key verifies nothing any more,
   so a compromised key is not trusted forever.

Every key has at least 32 bytes; a secret that is neither form is refused at once (ValueError),
never read as a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from receivables.adapters.secrets import secret_reader
from receivables.kernel.errors import ForbiddenError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

VERSION = 1
SHORTEST_KEY = 32
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class LinkError(ForbiddenError):
    """A link that cannot be honoured; ``reason`` is "malformed", "tampered" or "expired"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LinkScope:
    """What a link allows: an ``action`` for one customer (and one invoice), until ``expires``
    (epoch seconds), for the customer's link ``generation``; a ``nonce`` makes it unique (a
    portal session, recorded server-side under it)."""

    action: str
    customer_id: str
    invoice_id: str | None
    expires: int
    generation: int = 0
    nonce: str | None = None


class KeyRing(bytes):
    """The link signing keys: the value itself is the current key, which signs, so a ring goes
    wherever a key goes (every ``link_key: bytes`` of the code); ``previous`` are the keys that
    still verify until the links they signed expire (`verify_link`)."""

    previous: tuple[bytes, ...]

    def __new__(cls, current: bytes, previous: Iterable[bytes] = ()) -> KeyRing:
        ring = super().__new__(cls, current)
        ring.previous = tuple(bytes(k) for k in previous)
        for key in (current, *ring.previous):
            if len(key) < SHORTEST_KEY:
                raise ValueError(f"a link signing key has at least {SHORTEST_KEY} bytes")
        return ring

    @property
    def current(self) -> bytes:
        """The key that signs."""
        return bytes(self)


@lru_cache(maxsize=4)
def key_ring_reader(secret_name: str) -> Callable[[], KeyRing]:
    """The one loader of the signing keys of every link kind (pay, portal, promise, dispute,
    enrolment): reads the secret ``secret_name`` (cached five minutes, so a rotation reaches a
    warm function soon) and parses it with `link_keys`."""
    read = secret_reader(secret_name)
    return lambda: link_keys(read())


def link_keys(secret_text: str) -> KeyRing:
    """The keys the link signing secret holds: one key (the plain string) or the JSON
    ``{"current": "...", "previous": "..."}`` of a rotation (see the module's docstring).

    >>> ring = link_keys('{"current": "' + "n" * 32 + '", "previous": "' + "o" * 32 + '"}')
    >>> (ring.current, ring.previous) == (b"n" * 32, (b"o" * 32,))
    True
    >>> link_keys("k" * 32).previous
    ()
    """
    text = secret_text.strip()
    if text[:1] not in ("{", "["):  # a generated key is letters and digits
        return KeyRing(text.encode())
    try:
        fields = json.loads(text)
    except ValueError:
        raise ValueError("the link signing secret is not valid JSON") from None
    if not isinstance(fields, dict) or set(fields) - {"current", "previous"}:
        raise ValueError('the link signing secret names only "current" and "previous"')
    current, previous = fields.get("current"), fields.get("previous")
    if not isinstance(current, str) or not (previous is None or isinstance(previous, str)):
        raise ValueError('the link signing secret\'s "current" (and "previous") are strings')
    return KeyRing(current.encode(), () if previous is None else (previous.encode(),))


def _verifying_keys(key: bytes) -> tuple[bytes, ...]:
    return (bytes(key), *key.previous) if isinstance(key, KeyRing) else (key,)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """The bytes ``text`` spells, if it is their canonical unpadded base64url; else ValueError
    (a padded or non-URL alphabet, stray characters, set unused bits in the last character)."""
    if not BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical spelling")
    return data


def sign_link(scope: LinkScope, key: bytes) -> str:
    """The token for ``scope``, signed with ``key`` (a ring's current key)."""
    if len(key) < SHORTEST_KEY:
        raise ValueError(f"a link signing key has at least {SHORTEST_KEY} bytes")
    payload = {
        "v": VERSION,
        "a": scope.action,
        "c": scope.customer_id,
        "i": scope.invoice_id,
        "e": scope.expires,
        "g": scope.generation,
    }
    if scope.nonce is not None:  # absent otherwise: the links already emailed keep their form
        payload["n"] = scope.nonce
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def verify_link(token: str, key: bytes, now: datetime, *, action: str) -> LinkScope:
    """The scope of ``token`` if it is authentic (signed with ``key``, or with any key of a
    `KeyRing`), unexpired and for ``action``; else `LinkError`.

    The signature is checked before anything in the payload is trusted.
    """
    body, dot, signature = token.partition(".")
    if not dot or not body or not signature or len(token) > 1024:
        raise LinkError("malformed", "the link is not one of ours")
    try:
        given = _unb64(signature)
        _unb64(body)
    except ValueError:
        raise LinkError("malformed", "the link is not one of ours") from None
    # Every key is tried (no early exit), each compared in constant time.
    matches = [
        hmac.compare_digest(hmac.new(k, body.encode(), hashlib.sha256).digest(), given)
        for k in _verifying_keys(key)
    ]
    if not any(matches):
        raise LinkError("tampered", "the link has been altered")
    try:
        payload = json.loads(_unb64(body))
        scope = LinkScope(
            action=str(payload["a"]),
            customer_id=str(payload["c"]),
            invoice_id=None if payload["i"] is None else str(payload["i"]),
            expires=int(payload["e"]),
            generation=int(payload.get("g", 0)),
            nonce=None if payload.get("n") is None else str(payload["n"]),
        )
    except (ValueError, KeyError, TypeError):
        raise LinkError("malformed", "the link is not one of ours") from None
    if payload.get("v") != VERSION or scope.action != action:
        raise LinkError("malformed", f"the link is not a {action} link")
    if now.timestamp() >= scope.expires:
        raise LinkError("expired", "the link has expired")
    return scope
