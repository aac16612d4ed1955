"""Statements function: a bank statement file created under statements/inbox/ (camt.053, camt.054,
MT940, or a ZIP of them) is imported: its credit lines become receipts, lettered where the
matching is sure, the rest waiting in finance's review queue (`receivables.banking`).

Triggered by S3 "Object Created" through EventBridge. Bad entries never fail the invocation:
they are in the report beside the file. Only infrastructure failures raise, so that Lambda
retries and then hands the event to the on-failure destination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.banking.files import import_statement_object
from receivables.ingest.intake import IntakeDependencies as Dependencies
from receivables.ingest.intake import default_intake_dependencies as default_dependencies
from receivables.ingest.service import object_events
from receivables.kernel.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """Import every statement file the event announces; a summary per file."""
    results = []
    for announced in object_events(event):
        result = import_statement_object(
            announced, deps.objects, deps.clock, sellers=(deps.settings.default_seller_id,)
        )
        counts = [s["counts"] for s in result.get("report", {}).get("statements", [])]
        lettered = sum(c.get("lettered", 0) for c in counts)
        waiting = sum(c.get("review", 0) for c in counts)
        logger.info(
            "statement file",
            extra={
                "key": announced.key,
                "outcome": result["outcome"],
                "lettered": lettered,
                "review": waiting,
            },
        )
        metrics.add_metric(name="BankLinesLettered", unit="Count", value=lettered)
        metrics.add_metric(name="BankLinesForReview", unit="Count", value=waiting)
        results.append(
            {k: v for k, v in result.items() if k != "report"} | {"lettered": lettered, "review": waiting}
        )
    return {"objects": results}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return handle(event, default_dependencies())
