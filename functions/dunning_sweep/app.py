"""Dunning sweep function: daily (EventBridge schedule) and on demand (a ``DunningSweepRequested``
event, which the finance API puts on the bus), the day's collections run
(`receivables.collections.dunning.daily`): autopay charges, dunning executions started, the KPI
snapshot, documentation reminders."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.secrets import secret_reader
from receivables.adapters.stripe_api import StripeGateway
from receivables.collections.dunning.daily import Starter, run_day
from receivables.collections.dunning.sweep import ExecutionExistsError
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger, metrics
from receivables.storage import store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from receivables.kernel.settings import Settings


def execution_starter(state_machine_arn: str, endpoint_url: str | None = None) -> Starter:
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


@cache
def default_dependencies() -> tuple[Settings, Clock, Starter, StripeGateway]:
    """Built once per cold start from the function's environment."""
    settings = store.bind_environment(os.environ)
    gateway = StripeGateway(secret_reader(settings.need("stripe_api_key_name")), settings.stripe_api_base)
    starter = execution_starter(settings.need("state_machine_arn"), settings.endpoint_url)
    return settings, clock_from_env(os.environ), starter, gateway


def handle(
    event: dict[str, Any],
    clock: Clock,
    start: Starter,
    gateway: StripeGateway | None = None,
    reminder_days: int = 5,
) -> dict[str, Any]:
    """The day's run (`receivables.collections.dunning.daily`); a summary for the logs."""
    return run_day(event.get("detail-type", "direct"), clock, start, gateway, reminder_days)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    settings, clock, start, gateway = default_dependencies()
    return handle(event, clock, start, gateway, settings.document_reminder_days)
