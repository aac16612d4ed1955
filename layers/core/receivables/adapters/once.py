"""Run a side effect (an email) once per key, however often a task is retried: Powertools
Idempotency on a DynamoDB table. Built on first use, so only the functions that send pay for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

KEEP_SECONDS = 90 * 24 * 3600


def once_by_key(table_name: str) -> tuple[Callable[[str, Callable[[], str]], str], Callable[[Any], None]]:
    """(``once(key, send)``, ``register_context(context)``) backed by the table ``table_name``."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table_name)
    config = IdempotencyConfig(expires_after_seconds=KEEP_SECONDS, raise_on_no_idempotency_key=True)

    @idempotent_function(data_keyword_argument="key", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def run(send: Callable[[], str], key: str) -> str:
        return send()

    def once(key: str, send: Callable[[], str]) -> str:
        return str(run(send, key=key))

    return once, config.register_lambda_context
