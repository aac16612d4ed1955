"""One HTTP request and its response, as the server and the pages pass them around."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from email.message import Message


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, read off the socket."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes
    client_address: str | None = None


@dataclass(slots=True)
class Response:
    """One HTTP response."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """``payload`` as JSON."""
    body = (json.dumps(payload, indent=2) + "\n").encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def html_response(status: int, page: str, headers: dict[str, str] | None = None) -> Response:
    """An HTML page, never cached."""
    merged = {"Cache-Control": "no-store", **(headers or {})}
    return Response(status, page.encode("utf-8"), "text/html; charset=utf-8", merged)
