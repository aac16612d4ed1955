"""Powertools Idempotency on a DynamoDB table, set up in one place: a function run once per value
of one of its keyword arguments, a repeat answered with the first run's answer (or made to wait
for it), for as long as the caller says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

F = TypeVar("F", bound="Callable[..., Any]")


def once_per(
    table_name: str, keyword: str, *, keep_seconds: int, key_path: str = "", require_key: bool = False
) -> tuple[Callable[[F], F], Callable[[Any], None]]:
    """(``decorator``, ``register_context``): ``decorator`` makes a function run once per value of
    its ``keyword`` argument (``key_path``, a JMESPath, picks the key inside that value; with
    ``require_key``, a value without one is an error rather than run every time), remembered in
    ``table_name`` for ``keep_seconds``. ``register_context(context)`` lets a run left in progress
    expire when the invocation would time out."""
    # cold start: Powertools' idempotency costs about 20 ms; it loads with the first request
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath=key_path,
        raise_on_no_idempotency_key=require_key,
        expires_after_seconds=keep_seconds,
    )
    persistence = DynamoDBPersistenceLayer(table_name=table_name)

    def decorator(function: F) -> F:
        once: F = idempotent_function(
            function, data_keyword_argument=keyword, persistence_store=persistence, config=config
        )
        return once

    return decorator, config.register_lambda_context
