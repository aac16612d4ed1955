"""Webhook signing and delivery, as Stripe does them.

Each event goes to every enabled endpoint whose ``enabled_events`` match its type (``*`` matches
all) as a POST of ``json.dumps(event)`` with ``Stripe-Signature: t=<time>,v1=<HMAC-SHA256 of
"<time>.<body>" keyed with the endpoint secret>``: the scheme `stripe.Webhook.construct_event`
verifies. The time is wall-clock time (even when the objects' clock is accelerated: the receiver
checks it against its own), taken again at every attempt.

One background thread delivers: first attempts in the order the events were created; an attempt
that gets no 2xx answer (a redirect counts as a failure, as at Stripe) or no answer at all is
retried after 0.2, 0.5, 1, 2 and 4 seconds of wall-clock time, six attempts in all, then given up.
A later event does not wait for an earlier one's retries (Stripe does not guarantee order).
`Dispatcher.deliveries` is the log: one entry per event and endpoint with every attempt.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from email.message import Message
    from typing import IO

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0)
REQUEST_TIMEOUT_SECONDS = 5.0
_RESPONSE_EXCERPT = 500


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header for ``payload`` signed at ``timestamp`` with ``secret``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def matches(enabled_events: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint listening to ``enabled_events`` receives an event of ``event_type``."""
    return any(pattern in ("*", event_type) for pattern in enabled_events)


@dataclass(frozen=True, slots=True)
class Target:
    """Where one event goes: an endpoint's id, URL and signing secret."""

    endpoint_id: str
    url: str
    secret: str


@dataclass(slots=True)
class _Job:
    event_id: str
    payload: str
    target: Target
    log: dict[str, Any]
    attempts: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stripe does not follow redirects: a 3xx answer is a failed delivery."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


@dataclass
class Dispatcher:
    """The delivery queue and its thread.

    ``on_delivered(event_id)`` is called after each successful delivery (the store lowers the
    event's ``pending_webhooks``); it is called without the dispatcher's lock held.
    """

    clock: Callable[[], float]
    on_delivered: Callable[[str], None]
    delays: tuple[float, ...] = RETRY_DELAYS
    timeout: float = REQUEST_TIMEOUT_SECONDS
    _cond: threading.Condition = field(default_factory=threading.Condition, init=False)
    _heap: list[tuple[float, int, _Job]] = field(default_factory=list, init=False)
    _seq: itertools.count[int] = field(default_factory=itertools.count, init=False)
    _in_flight: int = field(default=0, init=False)
    _stopping: bool = field(default=False, init=False)
    _log: list[dict[str, Any]] = field(default_factory=list, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def start(self) -> None:
        """Start the delivery thread."""
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._run, name="local-stripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; deliveries still queued are dropped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self.timeout + 1.0)
            self._thread = None

    def enqueue(self, event: dict[str, Any], targets: list[Target]) -> None:
        """Queue ``event`` (a snapshot, serialised now) for each of ``targets``."""
        payload = json.dumps(event)
        with self._cond:
            for target in targets:
                log: dict[str, Any] = {
                    "event": event["id"],
                    "type": event["type"],
                    "endpoint": target.endpoint_id,
                    "url": target.url,
                    "status": "pending",
                    "attempts": [],
                }
                self._log.append(log)
                job = _Job(str(event["id"]), payload, target, log)
                heapq.heappush(self._heap, (time.monotonic(), next(self._seq), job))
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued, scheduled for a retry or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def probe(self) -> tuple[bool, tuple[int, int]]:
        """For a local clock: busy while a delivery is queued, waiting for a retry or in flight;
        the progress marks count the deliveries logged and the attempts made."""
        with self._cond:
            attempts = sum(len(entry["attempts"]) for entry in self._log)
            return bool(self._heap or self._in_flight), (len(self._log), attempts)

    def deliveries(self) -> list[dict[str, Any]]:
        """The delivery log, oldest first: event, type, endpoint, url, status (pending, succeeded,
        failed) and attempts (clock time ``at``, HTTP ``status`` or None, ``error`` or None)."""
        with self._cond:
            return copy.deepcopy(self._log)

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                job = heapq.heappop(self._heap)[2]
                self._in_flight += 1
                return job
            return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            at = int(self.clock())
            status, error = self._post(job, at)
            ok = status is not None and 200 <= status < 300
            if ok:
                self.on_delivered(job.event_id)
            with self._cond:
                job.attempts += 1
                job.log["attempts"].append({"at": at, "status": status, "error": error})
                if ok:
                    job.log["status"] = "succeeded"
                elif job.attempts <= len(self.delays):
                    due = time.monotonic() + self.delays[job.attempts - 1]
                    heapq.heappush(self._heap, (due, next(self._seq), job))
                else:
                    job.log["status"] = "failed"
                self._in_flight -= 1
                self._cond.notify_all()

    def _post(self, job: _Job, timestamp: int) -> tuple[int | None, str | None]:
        """One attempt: the HTTP status (None without an answer) and an error text if not 2xx."""
        if not job.target.url.startswith(("http://", "https://")):
            return None, f"unsupported URL {job.target.url!r}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            job.target.url,
            data=job.payload.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": sign(job.payload, job.target.secret, timestamp),
                "Cache-Control": "no-cache",
                "Accept": "*/*; q=0.5, application/xml",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(_RESPONSE_EXCERPT)
                return int(response.status), None
        except urllib.error.HTTPError as exc:
            body = exc.read(_RESPONSE_EXCERPT).decode("utf-8", "replace")
            return int(exc.code), f"HTTP {exc.code}: {body}".strip()
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
