"""Portal sessions: a signed link opens a short-lived session; every form carries a CSRF token.

Opening a customer's link (pay, dispute, promise or portal, all scoped to one customer) sets a
session cookie: itself a signed token (`receivables.customers.links`) of action ``session`` for that
customer and the link's generation, valid `SESSION_SECONDS`. The cookie is HttpOnly and
SameSite=Lax, and Secure where the portal is served over HTTPS. Rotating the customer's link
generation (finance revokes their links) ends every session too: each request checks the
session's generation against the customer's.

A session is also recorded server-side under its random ``session_id`` (the token's nonce), and
every request checks that record (`receivables.web.portal.service`): signing out ends the record,
so the cookie is refused at once, not when it expires.

The CSRF token of a form is an HMAC of the session token under a key derived for that purpose,
so it is bound to the session, changes with it, and is checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING

from receivables.customers.links import LinkError, LinkScope, sign_link, verify_link
from receivables.kernel.errors import ForbiddenError

if TYPE_CHECKING:
    from datetime import datetime

COOKIE = "rcv_session"
SESSION_SECONDS = 30 * 60
SESSION_ACTION = "session"


class SessionRefusedError(ForbiddenError):
    """No session, or one that cannot be honoured; ``reason`` says which, for the page to say."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Session:
    """Who the browser is: a customer, under one link generation, until ``expires``; the
    ``session_id`` its server-side record is kept under ("" for a cookie from before sessions
    were recorded, which no record matches)."""

    customer_id: str
    generation: int
    expires: int
    token: str
    session_id: str = ""


def open_session(link: LinkScope, key: bytes, now: datetime) -> Session:
    """The session a verified customer link opens (a fresh ``session_id`` each time)."""
    expires = int((now + timedelta(seconds=SESSION_SECONDS)).timestamp())
    session_id = secrets.token_urlsafe(18)
    scope = LinkScope(SESSION_ACTION, link.customer_id, None, expires, link.generation, session_id)
    return Session(link.customer_id, link.generation, expires, sign_link(scope, key), session_id)


def session_from_cookies(cookie_header: str | None, key: bytes, now: datetime) -> Session:
    """The session the request's ``Cookie`` header carries, or `SessionRefusedError`."""
    if not cookie_header:
        raise SessionRefusedError("no_session", "open the link in your email to see your account")
    try:
        morsel = SimpleCookie(cookie_header).get(COOKIE)
    except CookieError:
        morsel = None
    if morsel is None or not morsel.value:
        raise SessionRefusedError("no_session", "open the link in your email to see your account")
    try:
        scope = verify_link(morsel.value, key, now, action=SESSION_ACTION)
    except LinkError as exc:
        reason = "expired" if exc.reason == "expired" else "invalid"
        raise SessionRefusedError(
            reason, "your session has ended: open the link in your email again"
        ) from None
    return Session(scope.customer_id, scope.generation, scope.expires, morsel.value, scope.nonce or "")


def check_generation(session_or_link_generation: int, customer_generation: int) -> None:
    """`SessionRefusedError` when finance has revoked the links since this one was issued."""
    if session_or_link_generation != customer_generation:
        raise SessionRefusedError("revoked", "this link is no longer valid: ask for a new one")


def set_cookie(session: Session, *, secure: bool) -> str:
    """The ``Set-Cookie`` value that keeps ``session`` in the browser."""
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={session.token}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Lax{flags}"


def clear_cookie(*, secure: bool) -> str:
    """The ``Set-Cookie`` value that ends the session in the browser."""
    flags = "; Secure" if secure else ""
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{flags}"


def _csrf_key(key: bytes) -> bytes:
    return hmac.new(key, b"receivables portal csrf", hashlib.sha256).digest()


def csrf_token(session: Session, key: bytes) -> str:
    """The token every form of this session carries."""
    digest = hmac.new(_csrf_key(key), session.token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_csrf(given: str | None, session: Session, key: bytes) -> None:
    """`SessionRefusedError` unless ``given`` is this session's CSRF token."""
    if not given or not hmac.compare_digest(given.encode(), csrf_token(session, key).encode()):
        raise SessionRefusedError("csrf", "the form has expired: reload the page and try again")
