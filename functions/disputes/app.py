"""Dispute task function: each step of the dispute state machine (statemachines/dispute.asl.json).

``{"op": "analyse"}`` claims the dispute for its execution and keeps the findings on it;
``settle`` carries out what the findings allow; ``await`` keeps the task token while finance
decides (and reminds, or escalates to the manager, when it is late); ``apply`` carries out the
decision; ``notify`` tells the customer by email, once (Powertools Idempotency on the dispute);
``evidence`` stages a chargeback's evidence on Stripe (``StripeClient`` disputes update, not
submitted: finance submits it); ``fail`` records a failed step on the dispute. Each reads fresh
state and is safe to retry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.secrets import secret_reader
from receivables.adapters.stripe_api import StripeGateway
from receivables.disputes import deciding, workflow
from receivables.disputes.chargebacks import stage_evidence
from receivables.disputes.emails import render_outcome
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.entry_point import entry_point
from receivables.kernel.observability import logger, metrics
from receivables.mail.mailer import mime_message, pay_url
from receivables.mail.outbox import outbox
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import Customer, Invoice


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the task works with; tests build their own."""

    clock: Clock
    # Sends the outcome email of a dispute (once per dispute), returning the message id.
    tell: Callable[[Dispute, Invoice, Customer], str]
    # Stages a chargeback's evidence on Stripe (the Stripe dispute id, the evidence fields).
    stage_evidence: Callable[[str, dict[str, str]], object]
    register_context: Callable[[Any], None] = lambda context: None


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    settings = store.bind_environment(os.environ)
    out = outbox(settings, os.environ)
    mail, clock = out.mail, clock_from_env(os.environ)

    def tell(dispute: Dispute, invoice: Invoice, customer: Customer) -> str:
        link = pay_url(invoice, customer, mail, out.keys(), clock)
        rendered = render_outcome(
            dispute, invoice, customer, seller_name=mail.seller_name, contact=mail.contact, pay_url=link
        )
        kind = f"dispute_outcome; dispute={dispute.dispute_id}"
        message = mime_message(rendered, customer, mail, invoice.invoice_id, kind)
        email = str(customer.email)
        return out.once(
            f"dispute-outcome#{dispute.dispute_id}", lambda: out.send_raw(email, message.as_bytes())
        )

    gateway = StripeGateway(secret_reader(settings.need("stripe_api_key_name")), settings.stripe_api_base)
    return Dependencies(clock, tell, gateway.stage_dispute_evidence, out.register_context)


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """One step of the workflow."""
    op = event.get("op")
    dispute_id = str(event["dispute_id"])
    clock = deps.clock
    if op == "analyse":
        result = workflow.analyse_dispute(dispute_id, clock, event.get("execution_arn"))
    elif op == "settle":
        result = workflow.settle_dispute(dispute_id, clock)
    elif op == "await":
        reminders = int(event.get("reminders", 0))
        escalated = reminders > int(event.get("escalate_after", 2))
        result = workflow.await_finance(dispute_id, str(event["task_token"]), clock, reminders, escalated)
    elif op == "status":
        result = workflow.dispute_status(dispute_id)
    elif op == "apply":
        result = deciding.apply_decision(dispute_id, clock)
    elif op == "notify":
        result = workflow.notify_customer(dispute_id, clock, deps.tell)
    elif op == "evidence":
        result = stage_evidence(dispute_id, deps.stage_evidence, clock)
    elif op == "fail":
        result = workflow.record_failure(dispute_id, event.get("error"), clock)
    else:
        raise ValueError(f"unknown op {op!r}")
    logger.info("dispute", extra={"dispute_id": dispute_id, "op": op, "result": result})
    metrics.add_metric(name=f"Dispute{str(op).title()}", unit="Count", value=1)
    return result


# Lambda entry point (a Step Functions task): template.yaml names it.
lambda_handler = entry_point(handle, default_dependencies)
