"""The Cognito user pool's managed login, as the finance console signs people in through it.

Authorization code flow with PKCE (RFC 7636) for a public client: `authorize_url` sends the
browser to the managed login, `exchange_code` trades the code (with the verifier) for tokens at
the token endpoint, `refresh` gets a fresh ID token from the refresh token, `revoke` ends the
refresh token, `logout_url` signs out of the managed login too. `verify_id_token` checks an ID
token as the HTTP API's JWT authorizer does: RS256 signature against the pool's published keys
(JWKS), issuer, audience (the client), expiry, and that it is an ID token.

On AWS the endpoints are the user pool domain's (``https://<prefix>.auth.<region>.amazoncognito.com``)
and the keys are at ``<issuer>/.well-known/jwks.json``; the local runtime serves the same endpoints
on loopback over its embedded user pool, whose tokens are the pool's own JWTs. The HTTP calls go
through ``post_form`` and ``get_json`` (urllib by default), so tests can pass fakes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from receivables.kernel.errors import ReceivablesError

if TYPE_CHECKING:
    from collections.abc import Callable

SCOPES = ("openid", "email", "profile")
HTTP_TIMEOUT_SECONDS = 5
# A key the JWKS does not have yet (the pool rotated its keys) is looked for again at most this often.
JWKS_REFETCH_SECONDS = 60
# How far our clock and Cognito's may disagree.
CLOCK_SKEW_SECONDS = 5


class SignInError(ReceivablesError):
    """The managed login, its token endpoint or a token refused the sign-in; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Tokens:
    """What the token endpoint answered; a refresh gives no new refresh token."""

    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url(SHA-256(verifier)), unpadded.

    >>> pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _post_form(url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - the configured https (or loopback) endpoint
        url,
        data=urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body if isinstance(body, dict) else {}
    except (OSError, ValueError) as exc:
        raise SignInError(f"the token endpoint cannot be reached: {type(exc).__name__}") from None


def _get_json(url: str) -> dict[str, Any]:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            found = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise SignInError(f"the pool's keys cannot be read: {type(exc).__name__}") from None
    return found if isinstance(found, dict) else {}


@dataclass
class ManagedLogin:
    """One app client of one user pool: its managed login at ``login_url`` (the domain), its ID
    tokens issued by ``issuer`` and signed by the keys at ``jwks_url``."""

    login_url: str
    client_id: str
    issuer: str
    jwks_url: str
    post_form: Callable[[str, dict[str, str]], tuple[int, dict[str, Any]]] = _post_form
    get_json: Callable[[str], dict[str, Any]] = _get_json
    now: Callable[[], float] = time.time  # the wall clock the expiry is checked against
    _keys: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _keys_read_at: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def authorize_url(self, redirect_uri: str, state: str, challenge: str) -> str:
        """Where the browser signs in; it comes back to ``redirect_uri`` with ``code`` and ``state``."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.login_url.rstrip('/')}/oauth2/authorize?{urlencode(query)}"

    def logout_url(self, logout_uri: str) -> str:
        """Signing out of the managed login too (its own session cookie), then back to ``logout_uri``."""
        query = {"client_id": self.client_id, "logout_uri": logout_uri}
        return f"{self.login_url.rstrip('/')}/logout?{urlencode(query)}"

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        status, body = self.post_form(f"{self.login_url.rstrip('/')}/oauth2/token", form)
        if status != 200 or not isinstance(body.get("id_token"), str):
            raise SignInError(f"the token endpoint refused: {body.get('error') or status}")
        return body

    def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> Tokens:
        """The tokens the authorization ``code`` gives, proven by the PKCE ``verifier``."""
        body = self._token(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )
        return _tokens(body)

    def refresh(self, refresh_token: str) -> Tokens:
        """Fresh ID and access tokens (`SignInError` once the refresh token is revoked or expired)."""
        body = self._token(
            {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": refresh_token}
        )
        return _tokens(body, refresh_token)

    def revoke(self, refresh_token: str) -> None:
        """End the refresh token (and the tokens it gave); an unreachable endpoint is not an error
        here: the session is ended on our side anyway."""
        try:
            self.post_form(
                f"{self.login_url.rstrip('/')}/oauth2/revoke",
                {"token": refresh_token, "client_id": self.client_id},
            )
        except SignInError:
            return

    def verify_id_token(self, token: str) -> dict[str, Any]:
        """The claims of a valid ID token of this client, or `SignInError`: signature (RS256, a
        key of the pool's JWKS), issuer, audience, expiry and ``token_use``."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SignInError("the ID token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise SignInError("the ID token is not signed with RS256")
        key = self._key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuer,
                # The times are checked below, against ``now`` (PyJWT reads the system clock).
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token is not valid: {type(exc).__name__}") from None
        now = self.now()
        if not isinstance(claims["exp"], int) or claims["exp"] <= now - CLOCK_SKEW_SECONDS:
            raise SignInError("the ID token has expired")
        if not isinstance(claims["iat"], int) or claims["iat"] > now + CLOCK_SKEW_SECONDS:
            raise SignInError("the ID token was issued in the future")
        if claims.get("token_use") != "id":
            raise SignInError("the token is not an ID token")
        return claims

    def _key(self, kid: str) -> Any:
        import jwt

        with self._lock:
            if kid not in self._keys and time.monotonic() - self._keys_read_at > JWKS_REFETCH_SECONDS:
                document = self.get_json(self.jwks_url)
                self._keys_read_at = time.monotonic()
                try:
                    keys = jwt.PyJWKSet.from_dict(document).keys
                except jwt.PyJWTError:
                    keys = []
                self._keys = {str(k.key_id): k.key for k in keys if k.key_id}
            key = self._keys.get(kid)
        if key is None:
            raise SignInError("the ID token is signed with a key the pool does not publish")
        return key


def _tokens(body: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    return Tokens(
        str(body["id_token"]),
        str(body.get("access_token") or ""),
        str(body["refresh_token"]) if isinstance(body.get("refresh_token"), str) else refresh_token,
        int(body.get("expires_in") or 3600),
    )


def pool_members(
    user_pool_id: str, endpoint_url: str | None = None, client: Any = None
) -> Callable[[str], bool]:
    """Whether an address is a user of the pool (``AdminGetUser``; the pool's usernames are
    emails): who a note may mention. The client is made on first use."""
    clients: list[Any] = [client] if client is not None else []

    def is_member(address: str) -> bool:
        if not clients:
            import boto3

            clients.append(boto3.client("cognito-idp", endpoint_url=endpoint_url))
        try:
            found = clients[0].admin_get_user(UserPoolId=user_pool_id, Username=address)
        except clients[0].exceptions.UserNotFoundException:
            return False
        return bool(found.get("Enabled", True))

    return is_member
