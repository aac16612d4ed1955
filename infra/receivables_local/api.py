"""The HTTP API on the local runtime: the API functions' Chalice apps behind one loopback port.

moto's API Gateway has no Lambda proxy integration, so the runtime does not go through it. Each
API function of template.yaml (an ``Api`` or ``HttpApi`` event, a Chalice app as its handler) is
served with Chalice's own local gateway, which builds the API Gateway proxy event from the HTTP
request and maps the response back, exactly as ``chalice local`` does. Only the call into the
app differs: it goes through the runtime's invoker, so the app runs with its own template
environment and takes its turn with the other functions.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from receivables_local.clock import WorkCounter

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables_local.invoker import Invoker, LocalFunction

    # A JWT's claims when it verifies (the local user pool's tokens), else None.
    Verifier = Callable[[str], dict[str, Any] | None]

API_EVENT_TYPES = frozenset({"Api", "HttpApi"})


class _InvokedApp:
    """A Chalice app as the local gateway sees it: its routes and authorizers, but every call
    goes through the invoker."""

    def __init__(
        self,
        app: Any,
        invoker: Invoker,
        function: LocalFunction,
        token: str | None = None,
        verify: Verifier | None = None,
    ) -> None:
        self._app = app
        self._invoker = invoker
        self._function = function
        self._token = token  # set when the function's routes have an authorizer
        self._verify = verify

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self._token is not None:
            authorized = _authorize(event, self._token, self._verify)
            if authorized is None:
                return {
                    "statusCode": 401,
                    "headers": {"Content-Type": "application/json", "WWW-Authenticate": "Bearer"},
                    "multiValueHeaders": {},
                    "body": '{"message": "Unauthorized"}',
                }
            event = authorized
        body = event.get("body")
        if isinstance(body, bytes):  # the local gateway passes bytes; API Gateway sends text
            try:
                event = {**event, "body": body.decode("utf-8")}
            except UnicodeDecodeError:
                import base64

                event = {**event, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
        invocation = self._invoker.invoke(self._function.physical_name, event)
        if invocation.ok:
            return invocation.result
        return {
            "statusCode": 502,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "body": '{"message": "Internal server error"}',
        }


# What the Cognito JWT authorizer passes for a verified token; the local token acts as a
# controller (every role), the local runtime's single user.
LOCAL_CLAIMS = {"sub": "local", "username": "local", "cognito:groups": "[controller]"}


def _authorize(event: dict[str, Any], token: str, verify: Verifier | None = None) -> dict[str, Any] | None:
    """The event with the authorizer's claims, if it carries ``Authorization: Bearer <token>``
    (the local token), or a JWT of the local user pool that ``verify`` accepts (its claims, as
    the HTTP API's JWT authorizer passes them: a list as ``[a b]``)."""
    import hmac

    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, given = str(headers.get("authorization", "")).partition(" ")
    if scheme.lower() != "bearer":
        return None
    claims: dict[str, Any] | None = None
    if hmac.compare_digest(given.strip().encode(), token.encode()):
        claims = LOCAL_CLAIMS
    elif verify is not None:
        verified = verify(given.strip())
        if verified is not None:
            claims = {k: _as_http_api_claim(v) for k, v in verified.items()}
    if claims is None:
        return None
    context = {**(event.get("requestContext") or {}), "authorizer": {"jwt": {"claims": claims}}}
    return {**event, "requestContext": context}


def _as_http_api_claim(value: Any) -> Any:
    """A claim as the HTTP API passes it: a list as ``[a b]``."""
    return f"[{' '.join(map(str, value))}]" if isinstance(value, list) else value


def _handler_class(
    gateways: list[Any], mailbox: Callable[[], list[dict[str, Any]]] | None, in_flight: WorkCounter
) -> type[Any]:
    """The request handler for these apps (and the SES mailbox, if given)."""
    return type(
        "Handler",
        (_Handler,),
        {
            "gateways": gateways,
            "mailbox": staticmethod(mailbox) if mailbox else None,
            "in_flight": in_flight,
        },
    )


class _Handler(BaseHTTPRequestHandler):
    """Each request goes to the first app with a route for it."""

    protocol_version = "HTTP/1.1"
    gateways: list[Any] = []
    mailbox: Callable[[], list[dict[str, Any]]] | None = None
    in_flight: WorkCounter

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        with self.in_flight:
            self._answer()

    def _answer(self) -> None:
        from chalice.local import ForbiddenError, LocalGatewayException

        length = int(self.headers.get("content-length", "0") or 0)
        body = self.rfile.read(length) if length else None
        if self.mailbox is not None and self.command == "GET" and self.path.split("?")[0] == "/_aws/ses":
            # What SES sent, as LocalStack serves it (an emulator endpoint, not the API).
            self._send(200, {}, json.dumps({"messages": self.mailbox()}))
            return
        headers = dict(self.headers)
        last_error: LocalGatewayException = ForbiddenError(
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
            b'{"message": "Missing Authentication Token"}',
        )
        for gateway in self.gateways:
            try:
                response = gateway.handle_request(self.command, self.path, headers, body)
            except ForbiddenError as exc:  # no route of this app: try the next one
                last_error = exc
                continue
            except LocalGatewayException as exc:
                self._send(exc.CODE, dict(exc.headers), exc.body)
                return
            response_headers = {**response["headers"], **response.get("multiValueHeaders", {})}
            payload = response.get("body")
            if response.get("isBase64Encoded") and payload is not None:
                import base64

                payload = base64.b64decode(payload)
            self._send(int(response["statusCode"]), response_headers, payload)
            return
        self._send(last_error.CODE, dict(last_error.headers), last_error.body)

    def _send(self, code: int, headers: dict[str, Any], body: str | bytes | None) -> None:
        data = body.encode() if isinstance(body, str) else (body or b"")
        self.send_response(code)
        headers.setdefault("Content-Type", "application/json")
        for name, value in headers.items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(name, str(item))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        # Every method goes to the apps (do_GET, do_TRACE, do_QUERY…): a route answers
        # what it does not serve itself, as API Gateway would, never the server's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


# socketserver's default listen backlog is 5: a burst of concurrent requests (a browser's, a
# test's) had its sixth connection reset before a thread could accept it.
LISTEN_BACKLOG = 128


class _LocalHttpServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer with a backlog fit for concurrent clients."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class ApiServer:
    """One ThreadingHTTPServer in front of every API function's Chalice app."""

    def __init__(
        self,
        invoker: Invoker,
        functions: list[LocalFunction],
        port: int,
        mailbox: Callable[[], list[dict[str, Any]]] | None = None,
        token: str | None = None,
        protected: frozenset[str] = frozenset(),
        verify: Verifier | None = None,
    ) -> None:
        from chalice.config import Config
        from chalice.local import LocalGateway

        self.port = port
        apps: list[Any] = [
            _InvokedApp(
                invoker.handler_of(f), invoker, f, token if f.logical_id in protected else None, verify
            )
            for f in functions
        ]
        self.gateways = [LocalGateway(app, Config()) for app in apps]
        # For the local clock: time does not move while a request is being answered.
        self.in_flight = WorkCounter("HTTP API requests")
        handler = _handler_class(self.gateways, mailbox, self.in_flight)
        self._server = _LocalHttpServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()


def protected_functions(template_functions: dict[str, Any]) -> frozenset[str]:
    """The functions whose API routes name an authorizer (the finance API)."""
    return frozenset(
        logical_id
        for logical_id, spec in template_functions.items()
        if any(
            e.get("Type") in API_EVENT_TYPES and (e.get("Properties", {}).get("Auth") or {}).get("Authorizer")
            for e in spec.events.values()
        )
    )


def api_functions(template_functions: dict[str, Any], local: dict[str, LocalFunction]) -> list[LocalFunction]:
    """The functions template.yaml exposes through API Gateway (an Api or HttpApi event)."""
    return [
        local[logical_id]
        for logical_id, spec in template_functions.items()
        if logical_id in local and any(e.get("Type") in API_EVENT_TYPES for e in spec.events.values())
    ]
