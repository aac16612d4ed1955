"""Request validation: every bad field reported at once, each with why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with a request: which field, and why."""

    field: str
    reason: str


class RequestInvalidError(Exception):
    """A request with one or more `FieldError`s (a 400 names them all)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors
