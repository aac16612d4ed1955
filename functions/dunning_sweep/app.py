"""Dunning sweep function: daily (EventBridge schedule) and on demand (a ``DunningSweepRequested``
event, which the finance API puts on the bus): start one dunning execution per invoice entering
the window, and write the day's KPI snapshot (`receivables.dunning.sweep`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables import store
from receivables.clock import Clock, clock_from_env
from receivables.dunning.sweep import ExecutionExistsError, sweep
from receivables.observability import logger, metrics
from receivables.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def execution_starter(
    state_machine_arn: str, endpoint_url: str | None = None
) -> Callable[[str, dict[str, Any]], str]:
    """Start a named execution; a name already taken raises `ExecutionExistsError` with its ARN."""
    import boto3

    client: Any = boto3.client("stepfunctions", endpoint_url=endpoint_url)

    def start(name: str, payload: dict[str, Any]) -> str:
        try:
            response = client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )
        except client.exceptions.ExecutionAlreadyExists:
            arn = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
            raise ExecutionExistsError(arn) from None
        return str(response["executionArn"])

    return start


Starter = Callable[[str, dict[str, Any]], str]


@cache
def default_dependencies() -> tuple[Clock, Starter]:
    """Built once per cold start from the function's environment."""
    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    return clock_from_env(os.environ), execution_starter(
        os.environ["STATE_MACHINE_ARN"], settings.endpoint_url
    )


def handle(
    event: dict[str, Any], clock: Clock, start: Callable[[str, dict[str, Any]], str]
) -> dict[str, Any]:
    """Sweep once; a summary for the logs and the caller."""
    outcome = sweep(clock, start)
    summary = {
        "trigger": event.get("detail-type", "direct"),
        "considered": outcome.considered,
        "started": len(outcome.started),
        "already_running": outcome.already_running,
        "completed_before": outcome.completed_before,
        "aggregates_compacted": outcome.compacted,
        "snapshot_date": outcome.snapshot.get("date"),
    }
    logger.info("dunning sweep", extra={"sweep": summary})
    metrics.add_metric(name="DunningStarted", unit="Count", value=len(outcome.started))
    return summary


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    clock, start = default_dependencies()
    return handle(event, clock, start)
