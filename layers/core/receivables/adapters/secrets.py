"""Secrets Manager, through Powertools' parameters: a secret's text, cached for five minutes, so
a rotated secret reaches a warm function soon and a busy one reads it once per five minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

SECRET_MAX_AGE = 300


def secret_text(name: str) -> str:
    """The current text of the secret ``name``."""
    # Powertools' parameters (and boto3 with them) load at the first read, not at cold start.
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(name, max_age=SECRET_MAX_AGE))


def secret_reader(name: str) -> Callable[[], str]:
    """A reader of the secret ``name``, for what needs it on each call (a key that rotates)."""
    return lambda: secret_text(name)
