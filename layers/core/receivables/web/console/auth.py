"""Signing in to the finance console: the managed login, the session, the roles, the form tokens.

`/console/login` sends the browser to the user pool's managed login (authorization code with
PKCE); the state and the PKCE verifier wait in a short-lived cookie signed with the console's
key (`LOGIN_SECONDS`), so the callback can check that it answers the sign-in this browser
started. `/console/callback` trades the code for tokens, verifies the ID token
(`receivables.adapters.cognito.ManagedLogin.verify_id_token`) and opens a server-side session
(`receivables.storage.console_sessions`): the cookie holds only its random id (HttpOnly,
SameSite=Lax, Secure unless the console is served over plain http on loopback, the local
runtime). Every request reads the session: one idle for `IDLE_SECONDS` is ended, one whose ID
token has expired is refreshed with the refresh token (the groups read again: a person taken out
of a group loses the role at the next refresh), none lives past `SESSION_MAX_SECONDS`.

The role is the highest of the person's Cognito groups (`receivables.kernel.access.Role`) and is
checked on the server for each page and action; every form carries the session's random CSRF
token, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from receivables.adapters.cognito import SignInError, pkce_pair
from receivables.kernel.access import Role, role_from_claims
from receivables.kernel.errors import ForbiddenError, UnauthenticatedError
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.adapters.cognito import ManagedLogin

SESSION_COOKIE = "rcv_console"
LOGIN_COOKIE = "rcv_console_login"
COOKIE_PATH = "/console"
LOGIN_SECONDS = 10 * 60
IDLE_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 12 * 3600
# A session's last use is written at most this often (a page a second costs no write a second).
TOUCH_SECONDS = 60
# An ID token this close to its expiry is refreshed before it is relied on.
REFRESH_MARGIN_SECONDS = 60
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SessionEndedError(UnauthenticatedError):
    """No session, or one that has ended; ``reason``: ``none``, ``idle`` or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no console session ({reason})")
        self.reason = reason


class FormTokenError(ForbiddenError):
    """A form without this session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is signed in to this request: their session, name, role and form token."""

    session_id: str
    subject: str
    username: str
    role: Role
    csrf: str

    def require(self, needed: Role) -> None:
        """`ForbiddenError` unless the person holds ``needed`` or more."""
        if self.role < needed:
            raise ForbiddenError(f"this needs the {needed.name.lower()} role")

    def may(self, needed: Role) -> bool:
        return self.role >= needed

    @property
    def actor(self) -> str:
        """Who the audit events name, as the finance API names its callers (``finance:<user>``)."""
        return f"finance:{self.username}"


def cookies_of(header: str | None) -> dict[str, str]:
    """The request's cookies by name (a malformed header gives none)."""
    if not header:
        return {}
    try:
        parsed = SimpleCookie(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in parsed.items()}


def serves_securely(base_url: str) -> bool:
    """Whether the cookies are Secure: always, but for plain http on loopback (the local runtime)."""
    parts = urlsplit(base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS)


def cookie(name: str, value: str, max_age: int, *, secure: bool) -> str:
    """A ``Set-Cookie`` value for the console's path: HttpOnly, SameSite=Lax (sent when the
    managed login sends the browser back), Secure unless on loopback http."""
    flags = "; Secure" if secure else ""
    return f"{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Lax{flags}"


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of the console only (never another site)."""
    if not path or not path.startswith(COOKIE_PATH) or path.startswith("//") or "\\" in path:
        return COOKIE_PATH
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not (parts.path == COOKIE_PATH or parts.path.startswith("/console/")):
        return COOKIE_PATH
    return path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_state(values: dict[str, Any], key: bytes) -> str:
    """``values`` as a cookie value, with its HMAC-SHA256 under ``key``."""
    body = _b64(json.dumps(values, separators=(",", ":")).encode())
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_state(value: str | None, key: bytes, now: float) -> dict[str, Any] | None:
    """The values of a sign-in cookie this console signed and that has not expired, else None."""
    if not value or "." not in value:
        return None
    body, _, mac = value.partition(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        values = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(values, dict) or not isinstance(values.get("exp"), int) or values["exp"] < now:
        return None
    return values


@dataclass(frozen=True, slots=True)
class SignIn:
    """The managed login of the console's app client, with the console's own address and key."""

    login: ManagedLogin
    base_url: str  # the console's origin (https://<api>.execute-api..., http://127.0.0.1:3000)
    key: bytes  # signs the sign-in cookie
    wall: Callable[[], float]  # seconds since the epoch: sessions run on the wall clock

    @property
    def secure(self) -> bool:
        return serves_securely(self.base_url)

    @property
    def callback_url(self) -> str:
        return f"{self.base_url.rstrip('/')}{COOKIE_PATH}/callback"

    @property
    def signed_out_url(self) -> str:
        return f"{self.base_url.rstrip('/')}{COOKIE_PATH}/signed-out"

    def start(self, next_path: str | None) -> tuple[str, str]:
        """Where the browser signs in, and the sign-in cookie that the callback checks."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        values = {"state": state, "verifier": verifier, "next": safe_next(next_path)}
        signed = sign_state({**values, "exp": int(self.wall()) + LOGIN_SECONDS}, self.key)
        return (
            self.login.authorize_url(self.callback_url, state, challenge),
            cookie(LOGIN_COOKIE, signed, LOGIN_SECONDS, secure=self.secure),
        )

    def finish(
        self, cookies: dict[str, str], state: str | None, code: str | None
    ) -> tuple[str, str, Identity]:
        """The session the managed login's answer opens: the session cookie, where to go, and
        who signed in. `SignInError` when the sign-in cookie is missing, forged or stale, the
        state differs, the code is refused or the ID token does not verify; `ForbiddenError` for
        a person in none of the console's groups."""
        started = verify_state(cookies.get(LOGIN_COOKIE), self.key, self.wall())
        if started is None:
            raise SignInError("the sign-in was not started here or took too long")
        if not state or not code or not hmac.compare_digest(state.encode(), str(started["state"]).encode()):
            raise SignInError("the sign-in answer is not the one this browser asked for")
        tokens = self.login.exchange_code(code, self.callback_url, str(started["verifier"]))
        claims = self.login.verify_id_token(tokens.id_token)
        if role_from_claims(claims) is None:
            raise ForbiddenError("your account is in none of the console's groups")
        now = int(self.wall())
        session_id = secrets.token_urlsafe(32)
        record = store.ConsoleSessionRecord(
            subject=str(claims["sub"]),
            username=_username(claims),
            groups=tuple(_groups(claims)),
            csrf=secrets.token_urlsafe(24),
            refresh_token=tokens.refresh_token,
            id_expires_at=int(claims["exp"]),
            last_seen=now,
            expires_at=now + SESSION_MAX_SECONDS,
        )
        store.open_console_session(session_id, record)
        identity = _identity(session_id, record)
        return (
            cookie(SESSION_COOKIE, session_id, SESSION_MAX_SECONDS, secure=self.secure),
            str(started["next"]),
            identity,
        )

    def current(self, cookies: dict[str, str], *, active: bool = True) -> Identity:
        """Who this request's session is, or `SessionEndedError`. ``active``: the person did
        something (a page they opened, a form): it keeps the session from going idle; a page
        refreshing itself does not."""
        session_id = cookies.get(SESSION_COOKIE, "")
        record = store.console_session(session_id) if session_id else None
        now = int(self.wall())
        if record is None or now >= record.expires_at:
            raise SessionEndedError("none")
        if now - record.last_seen >= IDLE_SECONDS:
            self._end(session_id, record)
            raise SessionEndedError("idle")
        changed = record
        if now >= record.id_expires_at - REFRESH_MARGIN_SECONDS:
            changed = self._refreshed(session_id, record)
        if active and now - record.last_seen >= TOUCH_SECONDS:
            changed = replace(changed, last_seen=now)
        if changed != record:
            store.save_console_session(session_id, changed)
        return _identity(session_id, changed)

    def _refreshed(self, session_id: str, record: store.ConsoleSessionRecord) -> store.ConsoleSessionRecord:
        if not record.refresh_token:
            self._end(session_id, record)
            raise SessionEndedError("expired")
        try:
            tokens = self.login.refresh(record.refresh_token)
            claims = self.login.verify_id_token(tokens.id_token)
        except SignInError:
            self._end(session_id, record)
            raise SessionEndedError("expired") from None
        if role_from_claims(claims) is None:
            self._end(session_id, record)
            raise SessionEndedError("expired")
        return replace(
            record,
            groups=tuple(_groups(claims)),
            refresh_token=tokens.refresh_token or record.refresh_token,
            id_expires_at=int(claims["exp"]),
        )

    def _end(self, session_id: str, record: store.ConsoleSessionRecord | None) -> None:
        store.end_console_session(session_id)
        if record is not None and record.refresh_token:
            self.login.revoke(record.refresh_token)

    def sign_out(self, cookies: dict[str, str]) -> tuple[str, str]:
        """End the session here and its refresh token at Cognito; the cookie that clears it and
        where the browser signs out of the managed login too."""
        session_id = cookies.get(SESSION_COOKIE, "")
        if session_id:
            self._end(session_id, store.console_session(session_id))
        return cookie(SESSION_COOKIE, "", 0, secure=self.secure), self.login.logout_url(self.signed_out_url)


def check_form_token(identity: Identity, given: str | None) -> None:
    """`FormTokenError` unless ``given`` is this session's CSRF token."""
    if not given or not hmac.compare_digest(given.encode(), identity.csrf.encode()):
        raise FormTokenError("the form has expired: reload the page and try again")


def _groups(claims: dict[str, Any]) -> list[str]:
    raw = claims.get("cognito:groups") or []
    return [str(g) for g in raw] if isinstance(raw, list) else [g for g in str(raw).split() if g]


def _username(claims: dict[str, Any]) -> str:
    return str(claims.get("email") or claims.get("cognito:username") or claims["sub"])


def _identity(session_id: str, record: store.ConsoleSessionRecord) -> Identity:
    role = role_from_claims({"cognito:groups": list(record.groups)})
    if role is None:
        raise SessionEndedError("expired")
    return Identity(session_id, record.subject, record.username, role, record.csrf)
