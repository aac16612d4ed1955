"""Ingest function: an invoice file created under inbox/ becomes tracked receivables.

Triggered by S3 "Object Created" (through EventBridge on AWS; the classic notification shape is
accepted too). Bad documents never fail the invocation: they are reported beside the file.
Only infrastructure failures raise, so that Lambda retries and then hands the event to the
on-failure destination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.ingest.intake import IntakeDependencies as Dependencies
from receivables.ingest.intake import default_intake_dependencies as default_dependencies
from receivables.ingest.service import ingest_object, object_events
from receivables.kernel.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """Ingest every object the event announces; return a summary per object."""
    results = []
    for announced in object_events(event):
        result = ingest_object(announced, deps.objects, deps.settings, deps.clock)
        summary = result.report.get("summary", {})
        # The counts go under one key: names such as "created" belong to logging's LogRecord.
        counts = {k: v for k, v in summary.items() if isinstance(v, int)}
        logger.info(
            "object ingested",
            extra={
                "key": announced.key,
                "outcome": result.outcome,
                "destination": result.destination,
                "counts": counts,
            },
        )
        metrics.add_metric(name=f"Files{result.outcome.capitalize()}", unit="Count", value=1)
        if summary:
            metrics.add_metric(name="InvoicesCreated", unit="Count", value=summary["created"])
            metrics.add_metric(name="DocumentProblems", unit="Count", value=summary["problems"])
            metrics.add_metric(name="InvoicesBlocked", unit="Count", value=summary.get("blocked", 0))
        results.append(
            {
                "key": announced.key,
                "outcome": result.outcome,
                "destination": result.destination,
                **summary,
            }
        )
    return {"objects": results}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return handle(event, default_dependencies())
