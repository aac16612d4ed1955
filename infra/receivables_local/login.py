"""The user pool's managed login on the local runtime, which moto does not have.

The endpoints of Cognito's managed login (its OAuth 2.0 server), on loopback:

- ``GET /oauth2/authorize``: the sign-in form, for a known client and one of its callback URLs,
  with a PKCE S256 challenge; ``POST /oauth2/authorize``: the password checked by moto
  (``AdminInitiateAuth``, ``ADMIN_USER_PASSWORD_AUTH``), then back to the callback with a code
  (single use, five minutes) and the state;
- ``POST /oauth2/token``: the code (with its verifier, the same redirect URI and client) for the
  pool's tokens, or a refresh token for fresh ones (moto's ``REFRESH_TOKEN_AUTH``);
- ``POST /oauth2/revoke``: a refresh token ends; ``GET /logout``: back to one of the client's
  sign-out URLs; ``GET /.well-known/jwks.json``: the pool's keys, as moto publishes them.

The tokens are moto's, the pool's JWTs: the console verifies them as it does on AWS.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from botocore.exceptions import ClientError

from receivables.adapters.cognito import pkce_challenge
from receivables_local.aws import LOCAL_CONFIG

if TYPE_CHECKING:
    import boto3

    from receivables_local.cognito import LocalUserPool

CODE_SECONDS = 300
# What the sign-in form carries from the authorize request to its own POST.
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "scope",
)
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.8rem 0 .2rem}"
    "input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}"
    "button{margin-top:1rem;font:inherit;padding:.5rem 1rem;background:#1a56db;color:#fff;border:0;"
    "border-radius:6px}.errors{color:#9b1c1c}"
)


@dataclass(frozen=True, slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, Any]
    expires: float


class ManagedLoginServer:
    """The emulated managed login of ``pool`` on ``127.0.0.1:port``."""

    def __init__(self, pool: LocalUserPool, session: boto3.session.Session, port: int) -> None:
        factory: Any = session.client
        self.pool = pool
        self.cognito = factory(
            "cognito-idp", endpoint_url=pool.aws_endpoint, region_name=pool.region, config=LOCAL_CONFIG
        )
        self.port = port
        self._grants: dict[str, _Grant] = {}
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        server = self

        class Handler(_Handler):
            login = server

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-login", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- the endpoints ----------------------------------------------------------------------
    def authorize_form(self, query: dict[str, str], error: str = "") -> tuple[int, str]:
        """The sign-in page (or a 400 page for a request no client of the pool made)."""
        problem = self._request_problem(query)
        if problem:
            return 400, _page("Sign-in refused", f'<p class="errors">{html.escape(problem)}</p>')
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k, quote=True)}" value="{html.escape(v, quote=True)}">'
            for k, v in query.items()
            if k in CARRIED
        )
        errors = f'<p class="errors" role="alert" id="errors">{html.escape(error)}</p>' if error else ""
        body = (
            f'{errors}<form method="post" action="/oauth2/authorize">{hidden}'
            '<label for="username">Email</label><input id="username" name="username" autocomplete="username">'
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" autocomplete="current-password">'
            '<button type="submit" id="sign-in">Sign in</button></form>'
        )
        return (401 if error else 200), _page("Sign in to Receivables", body)

    def _request_problem(self, query: dict[str, str]) -> str:
        client_id = query.get("client_id", "")
        if query.get("response_type") != "code" or client_id not in self.pool.callback_urls:
            return "unknown client or response type"
        if query.get("redirect_uri") not in self.pool.callback_urls[client_id]:
            return "redirect_uri is not a callback URL of this client"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "a PKCE S256 code_challenge is required"
        return ""

    def authorize(self, form: dict[str, str]) -> tuple[int, str, str]:
        """The form posted: (status, page, location) — a redirect with a code when the password is right."""
        problem = self._request_problem(form)
        if problem:
            return 400, _page("Sign-in refused", f'<p class="errors">{html.escape(problem)}</p>'), ""
        try:
            answer = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool.pool_id,
                ClientId=form["client_id"],
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": form.get("username", ""), "PASSWORD": form.get("password", "")},
            )
        except ClientError:
            status, page = self.authorize_form(form, "Incorrect username or password.")
            return status, page, ""
        result = answer.get("AuthenticationResult")
        if not result:
            refusal = "This account needs a step the local login does not offer."
            status, page = self.authorize_form(form, refusal)
            return status, page, ""
        code = secrets.token_urlsafe(24)
        tokens = {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "refresh_token": result.get("RefreshToken"),
            "expires_in": result.get("ExpiresIn", 3600),
            "token_type": "Bearer",
        }
        with self._lock:
            expires = time.time() + CODE_SECONDS
            self._grants[code] = _Grant(
                form["client_id"], form["redirect_uri"], form["code_challenge"], tokens, expires
            )
        query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        return 302, "", f"{form['redirect_uri']}?{urlencode(query)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: an authorization code (with PKCE) or a refresh token."""
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._grants.pop(form.get("code", ""), None)
            if (
                grant is None
                or grant.expires < time.time()
                or grant.client_id != form.get("client_id")
                or grant.redirect_uri != form.get("redirect_uri")
                or pkce_challenge(form.get("code_verifier", "")) != grant.challenge
            ):
                return 400, {"error": "invalid_grant"}
            return 200, {k: v for k, v in grant.tokens.items() if v is not None}
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            if not refresh or refresh in self._revoked:
                return 400, {"error": "invalid_grant"}
            try:
                answer = self.cognito.admin_initiate_auth(
                    UserPoolId=self.pool.pool_id,
                    ClientId=form.get("client_id", ""),
                    AuthFlow="REFRESH_TOKEN_AUTH",
                    AuthParameters={"REFRESH_TOKEN": refresh},
                )
            except ClientError:
                return 400, {"error": "invalid_grant"}
            result = answer["AuthenticationResult"]
            return 200, {
                "id_token": result["IdToken"],
                "access_token": result["AccessToken"],
                "expires_in": result.get("ExpiresIn", 3600),
                "token_type": "Bearer",
            }
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, form: dict[str, str]) -> None:
        with self._lock:
            self._revoked.add(form.get("token", ""))

    def logout(self, query: dict[str, str]) -> tuple[int, str]:
        """Back to a sign-out URL of the client (a 400 for any other)."""
        allowed = self.pool.logout_urls.get(query.get("client_id", ""), ())
        if query.get("logout_uri") not in allowed:
            return 400, ""
        return 302, query["logout_uri"]

    def jwks(self) -> bytes:
        import urllib.request

        with urllib.request.urlopen(self.pool.jwks_url, timeout=10) as response:  # noqa: S310 - loopback
            data: bytes = response.read()
            return data


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1 id="title">{html.escape(title)}</h1>{body}'
        "<p><small>Local runtime: the managed login of the embedded user pool.</small></p></body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    login: ManagedLoginServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    def _form(self) -> dict[str, str]:
        length = min(int(self.headers.get("content-length", "0") or 0), 64 * 1024)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def _send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, page: str) -> None:
        self._send(status, page.encode(), "text/html; charset=utf-8", X_Frame_Options="DENY")

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/oauth2/authorize":
            self._html(*self.login.authorize_form(self._query()))
        elif path == "/logout":
            status, location = self.login.logout(self._query())
            self._send(status, b"", "text/plain", **({"Location": location} if location else {}))
        elif path == "/.well-known/jwks.json":
            self._send(200, self.login.jwks(), "application/json")
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/oauth2/authorize":
            status, page, location = self.login.authorize(self._form())
            if location:
                self._send(status, b"", "text/plain", Location=location)
            else:
                self._html(status, page)
        elif path == "/oauth2/token":
            self._json(*self.login.token(self._form()))
        elif path == "/oauth2/revoke":
            self.login.revoke(self._form())
            self._json(200, {})
        else:
            self._json(404, {"error": "not_found"})
