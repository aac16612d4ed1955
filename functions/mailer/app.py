"""Mailer function: each invoice, once ingested, is emailed to its customer with a pay link; and
finance is told (at CONTACT_EMAIL) of each failed debit or automatic charge (``PaymentFailed``).

Triggered by the ledger's ``InvoiceIngested`` events on the bus (at least once, in any order).
`receivables.mail.mailer` decides and records; this module wires it to SES (v2, one raw MIME message)
and to the secrets. The invoice id is the idempotency key: a retried or duplicated event waits
for, or gets, the first one's answer, and the marker stored with the ``InvoiceEmailed`` audit
event stops any later one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.s3 import processed_reader
from receivables.adapters.ses import ses_sender
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.observability import logger, metrics
from receivables.kernel.settings import Settings
from receivables.mail.mailer import (
    MailOutcome,
    MailSettings,
    send_credit_note,
    send_credit_notice,
    send_deduction_notice,
    send_deduction_refusal,
    send_documentation_request,
    send_invoice_email,
    send_payment_failed_notice,
)
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext


# SES takes a raw message of up to 40 MB; an e-invoice larger than this is not attached as such.
LARGEST_ATTACHMENT = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the handler works with; tests build their own."""

    mail: MailSettings
    link_key: Callable[[], bytes]
    send_raw: Callable[[str, bytes], str]
    clock: Clock
    # Wraps the send so that one invoice is handled by one invocation at a time.
    once: Callable[[Callable[[str], MailOutcome], str], MailOutcome] = lambda send, invoice: send(invoice)
    # Lets Idempotency expire an in-progress record when the invocation would time out.
    register_context: Callable[[Any], None] = lambda context: None
    # Reads an e-invoice as it was received (bucket, key), to attach it; None: render instead.
    read_object: Callable[[str, str], bytes | None] | None = None


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.parameters import get_secret

    from receivables.customers.links import link_keys

    settings = Settings.from_env(os.environ)
    store.bind(settings.table_name, settings.region, settings.endpoint_url)
    mail = MailSettings.from_env(os.environ)
    key_name = os.environ["LINK_SIGNING_KEY_NAME"]
    persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
    # EventBridge retries for up to a day; the stored marker covers anything later.
    config = IdempotencyConfig(expires_after_seconds=2 * 24 * 3600, raise_on_no_idempotency_key=True)

    @idempotent_function(data_keyword_argument="invoice_id", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def once(send: Callable[[str], MailOutcome], invoice_id: str) -> dict[str, Any]:
        outcome = send(invoice_id)
        return {"invoice_id": outcome.invoice_id, "action": outcome.action, "detail": outcome.detail}

    def run_once(send: Callable[[str], MailOutcome], invoice_id: str) -> MailOutcome:
        result = once(send, invoice_id=invoice_id)
        return MailOutcome(result["invoice_id"], result["action"], result.get("detail", ""))

    return Dependencies(
        mail=mail,
        link_key=lambda: link_keys(str(get_secret(key_name, max_age=300))),
        send_raw=ses_sender(mail.sender, settings.endpoint_url),
        clock=clock_from_env(os.environ),
        once=run_once,
        register_context=config.register_lambda_context,
        read_object=processed_reader(
            os.environ["INVOICE_BUCKET"],
            settings.endpoint_url,
            LARGEST_ATTACHMENT,
            ("processed/", "documents/"),
        ),
    )


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """Email the invoice an ``InvoiceIngested`` (or, once complete, ``InvoiceReleased``) event
    names; tell finance of a ``PaymentFailed``; ask for what a held invoice lacks
    (``InvoiceHeld``, ``DocumentsReminded``); send a credit note as an e-invoice to a customer who
    takes them (``CreditNoteIngested``); tell the account owner a customer crossed a threshold of
    their credit limit (``CreditThresholdCrossed``); tell a deduction's owner what waits for them
    (``DeductionRouted``), and the customer what their deduction's checks refused
    (``DeductionTaken``)."""
    if event.get("detail-type") == "PaymentFailed":
        notice = send_payment_failed_notice(event.get("detail", {}), deps.mail, deps.send_raw, deps.clock)
        logger.info("payment failed notice", extra={"invoice_id": notice.invoice_id, "action": notice.action})
        return {"invoice_id": notice.invoice_id, "action": notice.action, "detail": notice.detail}
    if event.get("detail-type") in ("CreditThresholdCrossed", "CreditInsuranceExceeded"):
        told = send_credit_notice(event.get("detail", {}), deps.mail, deps.send_raw, deps.clock)
        logger.info("credit notice", extra={"customer_id": told.invoice_id, "action": told.action})
        return {"customer_id": told.invoice_id, "action": told.action, "detail": told.detail}
    if event.get("detail-type") == "DeductionTaken":
        told = send_deduction_refusal(
            event.get("detail", {}), deps.mail, deps.link_key(), deps.send_raw, deps.clock
        )
        logger.info("deduction refusal", extra={"deduction_id": told.invoice_id, "action": told.action})
        return {"deduction_id": told.invoice_id, "action": told.action, "detail": told.detail}
    if event.get("detail-type") == "DeductionRouted":
        routed = send_deduction_notice(event.get("detail", {}), deps.mail, deps.send_raw, deps.clock)
        logger.info("deduction notice", extra={"deduction_id": routed.invoice_id, "action": routed.action})
        return {"deduction_id": routed.invoice_id, "action": routed.action, "detail": routed.detail}
    if event.get("detail-type") == "CreditNoteIngested":
        sent = send_credit_note(
            event.get("detail", {}), deps.mail, deps.send_raw, deps.clock, deps.read_object
        )
        logger.info("credit note email", extra={"credit_note_id": sent.invoice_id, "action": sent.action})
        return {"credit_note_id": sent.invoice_id, "action": sent.action, "detail": sent.detail}
    if event.get("detail-type") in ("InvoiceHeld", "DocumentsReminded"):
        asked = send_documentation_request(
            event.get("detail", {}), deps.mail, deps.link_key(), deps.send_raw, deps.clock
        )
        logger.info("documentation request", extra={"invoice_id": asked.invoice_id, "action": asked.action})
        return {"invoice_id": asked.invoice_id, "action": asked.action, "detail": asked.detail}
    invoice_id = str(event.get("detail", {}).get("invoice_id") or "")
    if not invoice_id:
        logger.warning("event without an invoice id", extra={"detail_type": event.get("detail-type")})
        return {"action": "skipped", "detail": "no invoice id"}

    def send(key: str) -> MailOutcome:
        return send_invoice_email(
            key.partition("@")[0], deps.mail, deps.link_key(), deps.send_raw, deps.clock, deps.read_object
        )

    # A held invoice is mailed when it is released: that is another attempt than the first one,
    # whose answer ("held") the idempotency record keeps; the marker still sends it once only.
    released = event.get("detail-type") == "InvoiceReleased"
    outcome = deps.once(send, f"{invoice_id}@released" if released else invoice_id)
    logger.info("invoice email", extra={"invoice_id": invoice_id, "action": outcome.action})
    metrics.add_metric(name=f"InvoiceEmail{outcome.action.title().replace('_', '')}", unit="Count", value=1)
    return {"invoice_id": invoice_id, "action": outcome.action, "detail": outcome.detail}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    deps = default_dependencies()
    deps.register_context(context)
    return handle(event, deps)
