"""The one mapping of the kernel's errors to HTTP: a status and a JSON body for each.

A bad request names every bad field (``{"errors": [{"field", "reason"}]}``); the others say
what happened (``{"message": ...}``). An error outside the mapping (a plain `ReceivablesError`,
a bug) is not the caller's to see: it stays a 500.
"""

from __future__ import annotations

from typing import Any

from receivables.kernel.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ReceivablesError,
    UnauthenticatedError,
    UnavailableError,
)

STATUSES: dict[type[ReceivablesError], int] = {
    InvalidRequestError: 400,
    UnauthenticatedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    UnavailableError: 503,
}


def status_of(exc: BaseException) -> int | None:
    """The status of ``exc``: its first class (most specific first) that the mapping names."""
    return next((STATUSES[c] for c in type(exc).__mro__ if c in STATUSES), None)


def http_error(exc: BaseException) -> tuple[int, dict[str, Any]] | None:
    """(status, body) for ``exc``, or None when it is no error the caller is told of."""
    status = status_of(exc)
    if status is None:
        return None
    if isinstance(exc, InvalidRequestError) and status == 400:
        return status, {"errors": [{"field": e.field, "reason": e.reason} for e in exc.errors]}
    return status, {"message": str(exc)}
