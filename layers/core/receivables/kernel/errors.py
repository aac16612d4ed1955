"""One error hierarchy: what went wrong, in words every edge (HTTP, a stream, a workflow) maps.

Each of the project's exceptions derives from one of these; the HTTP edges turn them into a
status and a body in one place (`receivables.web.http_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass


class ReceivablesError(Exception):
    """The base of every error the product raises on purpose."""


class InvalidRequestError(ReceivablesError):
    """The caller's input is wrong; ``errors`` name each bad field and why (a 400)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with a request: which field, and why."""

    field: str
    reason: str


class UnauthenticatedError(ReceivablesError):
    """The caller did not say who they are (a 401)."""


class ForbiddenError(ReceivablesError):
    """The caller may not do this (a 403)."""


class NotFoundError(ReceivablesError):
    """The thing asked for does not exist (a 404)."""


class ConflictError(ReceivablesError):
    """A change the current state does not allow, or one made meanwhile (a 409)."""


class UnavailableError(ReceivablesError):
    """Something we depend on cannot answer now: try again later (a 503)."""
