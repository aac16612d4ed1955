"""The Lambda entry point of a function whose work is ``handle(event, deps)``, written once.

Powertools' Lambda context goes into every log line (cleared between invocations) and the metrics
are flushed at the end; the dependencies are built by the function's own ``default_dependencies``
(cached: once per cold start) and told each invocation's context, so that an idempotency record
left in progress expires when the invocation would time out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from receivables.kernel.observability import logger, metrics

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext


class Dependencies(Protocol):
    """What a function builds once per cold start: at least the hook by which Powertools
    Idempotency learns the invocation's context (a no-op where nothing is idempotent)."""

    @property
    def register_context(self) -> Callable[[Any], None]: ...


D = TypeVar("D", bound=Dependencies)


def entry_point(
    handle: Callable[[dict[str, Any], D], dict[str, Any]], dependencies: Callable[[], D]
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``lambda_handler`` for ``handle``: the Powertools decorators, ``dependencies()`` with the
    invocation's context registered, then one call. ``dependencies`` is called at each invocation
    (its cache, not this function, makes it once per cold start), so clearing that cache builds
    them again."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        deps = dependencies()
        deps.register_context(context)
        return handle(event, deps)

    return lambda_handler
