"""Dunning task function: each turn of the dunning state machine (statemachines/dunning.asl.json).

``{"op": "plan"}`` plans the first step, ``{"op": "step"}`` re-checks the invoice, takes the step
that is due and plans the next, ``{"op": "fail"}`` records a failed task's error on the invoice.
Each returns ``{"invoice_id", "run", "plan": {"action", "at", …}}``, which the state machine's
Choice and Wait read. Emails go through SES v2; each (invoice, run, level) is sent once
(Powertools Idempotency), however often Step Functions retries the task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.collections.dunning.service import Mailer, next_plan, record_failure, take_step
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.entry_point import entry_point
from receivables.kernel.observability import logger, metrics
from receivables.mail.outbox import outbox
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the task works with; tests build their own."""

    clock: Clock
    mailer: Callable[[], Mailer]
    register_context: Callable[[Any], None] = lambda context: None


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    settings = store.bind_environment(os.environ)
    out = outbox(settings, os.environ)

    def mailer() -> Mailer:
        return Mailer(out.mail, out.keys(), out.send_raw, out.once)

    return Dependencies(clock_from_env(os.environ), mailer, out.register_context)


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """One turn of the loop."""
    op = event.get("op")
    invoice_id = str(event["invoice_id"])
    run = int(event.get("run", 1))
    if op == "plan":
        result = next_plan(invoice_id, run, deps.clock)
    elif op == "step":
        result = take_step(invoice_id, run, deps.clock, deps.mailer())
    elif op == "fail":
        result = record_failure(invoice_id, run, event.get("error"), deps.clock)
        result["plan"] = {"action": "stop", "at": None, "reason": "failed"}
    else:
        raise ValueError(f"unknown op {op!r}")
    plan = result.get("plan", {})
    logger.info("dunning", extra={"invoice_id": invoice_id, "op": op, "next": plan.get("action")})
    metrics.add_metric(name=f"Dunning{str(op).title()}", unit="Count", value=1)
    return result


# Lambda entry point (a Step Functions task): template.yaml names it.
lambda_handler = entry_point(handle, default_dependencies)
