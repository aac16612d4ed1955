"""Reconcile function: daily (EventBridge schedule), the whole ledger checked for an auditor
(`receivables.reporting.reconcile`: money in, invoice balances, allocations, the aging aggregates, the audit
trail). It publishes ``ReconciliationBreaks`` (0 when the books balance; the template's alarm
fires above 0) and logs every break with the items involved. It only reads the table."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.kernel.observability import logger, metrics
from receivables.reporting.reconcile import reconcile
from receivables.storage import store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from receivables.reporting.reconcile import LedgerReader


@cache
def bind_store() -> None:
    """Point the store at the function's table, once per cold start."""
    store.bind_environment(os.environ)


def handle(event: dict[str, Any], reader: LedgerReader | None = None) -> dict[str, Any]:
    """Reconcile once; the summary for the logs and the caller (breaks per check)."""
    report = reconcile(reader)
    for found in report.breaks():
        logger.error("reconciliation break", extra={"reconciliation_break": found.to_json()})
    summary = {
        "trigger": event.get("detail-type", "direct"),
        "clean": report.clean,
        "breaks": report.break_count,
        "checks": {name: {"examined": c.examined, "breaks": c.count} for name, c in report.checks.items()},
    }
    logger.info("reconciliation", extra={"reconciliation": summary})
    metrics.add_metric(name="ReconciliationBreaks", unit="Count", value=report.break_count)
    return summary


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    bind_store()
    return handle(event)
