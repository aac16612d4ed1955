"""The HTTP server: Stripe's v1 routes, authentication, errors, idempotency, the hosted page.

`LocalStripe` serves on loopback (only the host it is given) with a ThreadingHTTPServer:

- ``/v1/…``: the API as the ``stripe`` SDK calls it (form-encoded parameters, JSON answers, Stripe's
  error objects and status codes). Any key ``sk_test_…`` is accepted, as Bearer or Basic auth.
  Parameters are checked against each endpoint's schema (`routes`); an unknown one is a 400
  ``parameter_unknown``, as at Stripe.
- API versions: a request's ``Stripe-Version`` header (else `API_VERSION`) is echoed back and
  handed to the handlers (`RequestInfo.api_version`). It decides what ``payment_method_types``
  means: from 2026-09-30.endive on Checkout Session creation does not know it (400
  ``parameter_unknown``) and PaymentIntent creation refuses it (400
  ``payment_method_types_no_longer_supported``); ``allowed_payment_method_types`` replaces it.
  Before that version both parameters are accepted.
- Idempotency: a POST with ``Idempotency-Key`` stores its response for 24 hours of the clock; the
  same key, path and parameters replay it (``Idempotent-Replayed: true``); the same key with other
  parameters or another path is a 400 ``idempotency_error``. As at Stripe, a request refused by
  validation (any ``invalid_request_error``) stores nothing; card errors and API errors are stored.
- ``/c/pay/{session}``: the hosted Checkout page (`pages`, rendered by `checkout_page`) and its form
  POSTs, one form per payment method of the session (card, SEPA Direct Debit, ACH Direct Debit);
  in setup mode they save the method to the session's customer. ``/mandates/{id}``: a debit
  mandate's text.
- Debits settle on the clock: a background sweep (every `EXPIRY_SWEEP_SECONDS`) expires sessions
  and settles the debits whose ``debit_settlement_seconds`` have passed (`Store.settle_due`), as
  does every API request before it runs, so that an answer never shows a debit already due.
- ``GET /_local/events`` and ``GET /_local/deliveries``: every event, oldest first, and the webhook
  delivery log (`LocalStripe.events`, `LocalStripe.deliveries`), for debugging; no auth.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.messages import Request, Response, json_response
from receivables_local.stripe_local.objects import (
    API_VERSION,
    DEBIT_SETTLEMENT_SECONDS,
    PAYOUT_DELAY_SECONDS,
    RequestInfo,
    Store,
    StripeError,
    new_id,
)
from receivables_local.stripe_local.pages import HostedPages
from receivables_local.stripe_local.routes import ROUTES
from receivables_local.stripe_local.webhooks import Dispatcher

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.message import Message

    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.routes import Route
    from receivables_local.stripe_local.webhooks import Target

log = logging.getLogger("receivables.local.stripe")

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_BODY_BYTES = 1 << 20
EXPIRY_SWEEP_SECONDS = 0.5
SHUTDOWN_POLL_SECONDS = 0.05  # how soon serve_forever notices `stop`


# -- idempotency -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Saved:
    path: str
    params: dict[str, forms.RawValue]
    status: int
    body: bytes
    request_id: str
    saved_at: float


class IdempotencyCache:
    """First responses by Idempotency-Key, kept for 24 hours of the clock. Callers hold the
    store's lock around lookup, execution and save, so a key runs once."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._saved: dict[str, _Saved] = {}

    def lookup(self, key: str, path: str, params: dict[str, forms.RawValue]) -> _Saved | None:
        """The stored response for ``key``, None if new; a 400 ``idempotency_error`` if it was
        used for another path or other parameters."""
        now = self._clock()
        for stale in [k for k, v in self._saved.items() if now - v.saved_at >= IDEMPOTENCY_TTL_SECONDS]:
            del self._saved[stale]
        saved = self._saved.get(key)
        if saved is None:
            return None
        if saved.path != path:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were first used "
                f"for ('{path}' vs '{saved.path}'). Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                error_type="idempotency_error",
            )
        if saved.params != params:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                error_type="idempotency_error",
            )
        return saved

    def save(
        self, key: str, path: str, params: dict[str, forms.RawValue], response: Response, request_id: str
    ) -> None:
        """Remember the first response for ``key``."""
        self._saved[key] = _Saved(path, params, response.status, response.body, request_id, self._clock())


def _unrecognized(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def _api_key(headers: Message) -> str:
    """The secret key of the Authorization header (Bearer, or Basic with the key as user)."""
    header = headers.get("Authorization")
    if not header:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at "
            "https://support.stripe.com/.",
        )
    scheme, _, credentials = header.strip().partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key.startswith("sk_test_"):
        masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
        raise StripeError(401, f"Invalid API Key provided: {masked}")
    return key


class LocalStripe:
    """A Stripe-compatible server on loopback for tests and the local runtime.

    ``clock`` (epoch seconds) dates every object, expiry and webhook signature; a debit settles
    ``debit_settlement_seconds`` of that clock after it is submitted (two days by default, as
    Stripe's test debits take a while; the runtime's accelerated clock makes that a few seconds).
    With ``automatic_payouts`` the available balance is paid out on that clock, per currency,
    ``payout_delay_seconds`` after each charge (`objects.balance`); off by default.
    `events` lists the events, `deliveries` the webhook delivery log (one entry per event and
    endpoint, with its attempts), `wait_for_deliveries` waits for the delivery queue to drain,
    `settle_due` settles the debits that are due now.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 12111,
        clock: Callable[[], float] = time.time,
        debit_settlement_seconds: int = DEBIT_SETTLEMENT_SECONDS,
        *,
        sweep: bool = True,
        automatic_payouts: bool = False,
        payout_delay_seconds: int = PAYOUT_DELAY_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self._clock = clock
        # Without a sweep of its own, whoever owns the clock calls `next_due` and `run_due`.
        self._sweeping = sweep
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self.store = Store(
            clock,
            lambda: self.url,
            self._enqueue,
            debit_settlement_seconds=debit_settlement_seconds,
            automatic_payouts=automatic_payouts,
            payout_delay_seconds=payout_delay_seconds,
        )
        # Signatures carry wall-clock time, whatever the objects' clock says: the receiver checks
        # them against its own clock (300 s tolerance), as it does Stripe's.
        self._dispatcher = Dispatcher(time.time, self.store.delivery_succeeded)
        self._idempotency = IdempotencyCache(clock)
        self._pages = HostedPages(self.store, clock)
        self._httpd: _HttpServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """The base URL: ``http://127.0.0.1:<port>``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind the host and port (0: any free port, then `port` is the bound one) and serve on a
        daemon thread; start the webhook delivery thread and the session expiry sweep."""
        httpd = _HttpServer((self.host, self.port), self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._stopping.clear()
        self._dispatcher.start()
        self._threads = [
            threading.Thread(
                target=httpd.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="local-stripe", daemon=True
            ),
        ]
        if self._sweeping:
            self._threads.append(
                threading.Thread(target=self._sweep, name="local-stripe-expiry", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop serving (open connections are closed), stop the delivery thread, free the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
            self._httpd = None
        self._dispatcher.stop()
        for thread in self._threads:
            thread.join(5.0)
        self._threads = []

    def add_webhook_endpoint(
        self, url: str, secret: str | None = None, enabled_events: list[str] | None = None
    ) -> dict[str, Any]:
        """Register a webhook endpoint (all events by default); the object includes ``secret``."""
        return self.store.add_endpoint(url, enabled_events or ["*"], secret=secret)

    def events(self) -> list[dict[str, Any]]:
        """Every event created so far, oldest first."""
        return self.store.all_events()

    def deliveries(self) -> list[dict[str, Any]]:
        """The webhook delivery log, oldest first: ``event``, ``type``, ``endpoint``, ``url``,
        ``status`` (pending, succeeded, failed) and ``attempts`` (``at``, ``status``, ``error``)."""
        return self._dispatcher.deliveries()

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """True once no delivery is queued, waiting for a retry or in flight; False on timeout."""
        return self._dispatcher.wait_idle(timeout)

    def settle_due(self) -> int:
        """Settle every pending debit whose time has come by the clock (the sweep does it too);
        the number settled."""
        return self.store.settle_due()

    def next_due(self) -> float | None:
        """When the next session expires or debit settles on its own (epoch seconds), if any."""
        return self.store.next_due()

    def run_due(self) -> None:
        """Expire the sessions, settle the debits and pay out the balance that are due by the
        clock."""
        self.store.expire_due()
        self.settle_due()
        self.store.pay_out_due()

    def probe(self) -> tuple[bool, tuple[int, ...]]:
        """For a local clock: busy while a request is being answered or a webhook is undelivered
        (queued, in flight or waiting for a retry)."""
        busy, marks = self._dispatcher.probe()
        with self._in_flight_lock:
            return busy or self._in_flight > 0, (*marks, self.store.event_count())

    # -- internals -----------------------------------------------------------------------------

    def _enqueue(self, event: dict[str, Any], targets: list[Target]) -> None:
        self._dispatcher.enqueue(event, targets)

    def _sweep(self) -> None:
        """Expire sessions whose ``expires_at`` has passed and settle debits that are due, as
        Stripe does without being asked."""
        while not self._stopping.wait(EXPIRY_SWEEP_SECONDS):
            for name, task in (
                ("expiring sessions", self.store.expire_due),
                ("settling debits", self.settle_due),
                ("paying out", self.store.pay_out_due),
            ):
                try:
                    task()
                except Exception:  # the sweep must survive whatever one pass meets
                    log.exception("local Stripe: %s failed", name)

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request."""
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            return self._route(request)
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    def _route(self, request: Request) -> Response:
        if request.path.startswith("/v1/"):
            return self._api(request)
        if request.path.startswith("/c/pay/"):
            return self._pages.checkout(request)
        if request.method == "GET" and request.path.startswith("/mandates/"):
            return self._pages.mandate(request.path)
        if request.method == "GET" and request.path == "/_local/events":
            return json_response(200, self.events())
        if request.method == "GET" and request.path == "/_local/deliveries":
            return json_response(200, self.deliveries())
        error = _unrecognized(request.method, request.path)
        return json_response(error.status, error.to_dict())

    def _api(self, request: Request) -> Response:
        request_id = new_id("req_", 14)
        api_version = request.headers.get("Stripe-Version") or API_VERSION
        headers = {"Request-Id": request_id, "Stripe-Version": api_version}
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        try:
            _api_key(request.headers)
            route, ids = self._match(request.method, request.path)
            text = request.query if request.method in ("GET", "DELETE") else request.body.decode("utf-8")
            raw = forms.decode(text)
            params = forms.conform(raw, route.schema)
            info = RequestInfo(request_id, key, api_version)
            if key is None:
                return self._run(route, params, ids, info, headers)[0]
            if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
                raise StripeError(
                    400,
                    f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters long.",
                    param="Idempotency-Key",
                )
            with self.store.lock:
                saved = self._idempotency.lookup(key, request.path, raw)
                if saved is not None:
                    replay = {**headers, "Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                    return Response(saved.status, saved.body, "application/json", replay)
                response, executed = self._run(route, params, ids, info, {**headers, "Idempotency-Key": key})
                if executed:
                    self._idempotency.save(key, request.path, raw, response, request_id)
                return response
        except FormError as exc:
            error = StripeError(400, exc.message, param=exc.param, code=exc.code)
        except StripeError as exc:
            error = exc
        except UnicodeDecodeError:
            error = StripeError(400, "The request body is not valid UTF-8.")
        extra = {"WWW-Authenticate": 'Basic realm="Stripe"'} if error.status == 401 else {}
        return json_response(error.status, error.to_dict(), {**headers, **extra})

    def _match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]]:
        for route in ROUTES:
            match = route.pattern.match(path)
            if match is not None and route.method == method:
                return route, match.groups()
        raise _unrecognized(method, path)

    def _run(
        self, route: Route, params: Params, ids: tuple[str, ...], info: RequestInfo, headers: dict[str, str]
    ) -> tuple[Response, bool]:
        """Run one API call: its object (expanded) or its error, as a response; and whether the
        call got past validation (what an Idempotency-Key remembers: not invalid_request_error)."""
        try:
            with self.store.lock:
                self.store.settle_due()
                result = route.handler(self, params, ids, info)
                result = self.store.expand(result, forms.strings(params, "expand"))
            return json_response(200, result, headers), True
        except FormError as exc:
            error = StripeError(400, exc.message, param=exc.param, code=exc.code)
        except StripeError as exc:
            error = exc
        except Exception:  # a bug here is Stripe's api_error (500), not a dropped connection
            log.exception("local Stripe: %s failed", route.pattern.pattern)
            error = StripeError(500, "An unknown error occurred", error_type="api_error")
        validated = error.error_type != "invalid_request_error"
        return json_response(error.status, error.to_dict(), headers), validated


# -- the socket side ---------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to one host, with its open connections tracked so that `stop`
    can close keep-alive connections too."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 reset a burst of concurrent connections

    def __init__(self, address: tuple[str, int], app: LocalStripe) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket) -> None:
        """Remember an open connection."""
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        """Forget a closed connection."""
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut every open connection down (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalStripe/1.0"
    timeout = 60  # an idle keep-alive connection is closed after a minute

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the client's
        # delayed ACK hold every response for 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cast("_HttpServer", self.server).track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            cast("_HttpServer", self.server).untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("local Stripe: " + format, *args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(
                Response(413, b'{"error": {"type": "invalid_request_error", "message": "Request too large"}}')
            )
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        request = Request(self.command, path, query, self.headers, body, str(self.client_address[0]))
        app = cast("_HttpServer", self.server).app
        try:
            response = app.handle(request)
        except Exception:  # never drop the connection without an answer
            log.exception("local Stripe: %s %s failed", self.command, path)
            error = StripeError(500, "An unknown error occurred", error_type="api_error")
            response = json_response(500, error.to_dict())
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = _handle  # noqa: N815
