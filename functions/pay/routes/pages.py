"""What the pay function's routes share: pages and portal answers as responses, the request's
cookies, form body and query, and the one answer to a kernel error (`answers_errors`)."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request, Response

from receivables.kernel.errors import UnavailableError
from receivables.kernel.observability import logger
from receivables.web.pages import Page

if TYPE_CHECKING:
    from collections.abc import Callable

_request: ContextVar[Request] = ContextVar("request")

PAYMENT_UNAVAILABLE = Page(503, "Payment is unavailable right now", ("Please try again in a few minutes.",))
AUTOPAY_UNAVAILABLE = Page(503, "Automatic payment is unavailable right now", ("Please try again later.",))


class Pages(Blueprint):
    """Routes that answer pages. `route` binds the request for `current_request`; an error of
    the kernel's hierarchy that a page cannot show is answered here: an `UnavailableError`
    (Stripe cannot be reached) is the 503 page ``unavailable``; anything else stays a 500."""

    def page_route(
        self, path: str, unavailable: Page = PAYMENT_UNAVAILABLE, **options: Any
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
            @functools.wraps(view)
            def run(**params: str) -> Response:
                token = _request.set(self.current_request)
                try:
                    return view(**params)
                except UnavailableError as exc:
                    logger.error("stripe unavailable", extra={"path": path, "reason": str(exc)})
                    return page(unavailable)
                finally:
                    _request.reset(token)

            self.route(path, **options)(run)
            return run

        return wrap


def current_request() -> Request:
    """The request the route being run answers."""
    return _request.get()


def page(shown: Page) -> Response:
    """A page, never cached, never sending its address on as a Referer."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        # The token in the address is the customer's credential: never send it on as a Referer.
        **shown.security_headers(),
        **shown.headers,
    }
    return Response(body=shown.render(), status_code=shown.status, headers=headers)


def answer(given: Any) -> Response:
    """A portal answer. A PDF is bytes, a binary type: Chalice sends it base64-encoded."""
    return Response(body=given.body, status_code=given.status, headers=dict(given.headers))


def cookies() -> str | None:
    headers: Any = current_request().headers or {}
    cookie: str | None = headers.get("cookie")
    return cookie


def form_body() -> bytes:
    raw = current_request().raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def query() -> dict[str, str]:
    return dict(current_request().query_params or {})
