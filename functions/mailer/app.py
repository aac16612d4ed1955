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

from receivables.adapters.idempotency import once_per
from receivables.adapters.s3 import print_queue_writer, processed_reader
from receivables.adapters.ses import ses_sender
from receivables.customers.links import key_ring_reader
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.entry_point import entry_point
from receivables.mail.dispatch import mail_for
from receivables.mail.mailer import MailOutcome, MailSettings
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable


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
    # Writes a paper invoice's letter into the print queue (key, data, content type); None: none.
    put_print: Callable[[str, bytes, str], None] | None = None


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    settings = store.bind_environment(os.environ)
    mail = MailSettings.from_env(os.environ)
    # EventBridge retries for up to a day; the stored marker covers anything later.
    once_per_invoice, register_context = once_per(
        settings.need("idempotency_table_name"), "invoice_id", keep_seconds=2 * 24 * 3600, require_key=True
    )

    @once_per_invoice
    def once(send: Callable[[str], MailOutcome], invoice_id: str) -> dict[str, Any]:
        outcome = send(invoice_id)
        return {"invoice_id": outcome.invoice_id, "action": outcome.action, "detail": outcome.detail}

    def run_once(send: Callable[[str], MailOutcome], invoice_id: str) -> MailOutcome:
        result = once(send, invoice_id=invoice_id)
        return MailOutcome(result["invoice_id"], result["action"], result.get("detail", ""))

    return Dependencies(
        mail=mail,
        link_key=key_ring_reader(settings.need("link_signing_key_name")),
        send_raw=ses_sender(mail.sender, settings.endpoint_url),
        clock=clock_from_env(os.environ),
        once=run_once,
        register_context=register_context,
        read_object=processed_reader(
            settings.need("invoice_bucket"),
            settings.endpoint_url,
            LARGEST_ATTACHMENT,
            ("processed/", "documents/"),
        ),
        put_print=print_queue_writer(settings.need("invoice_bucket"), settings.endpoint_url),
    )


def handle(event: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """Send the mail the event asks for (`receivables.mail.dispatch`)."""
    return mail_for(event, deps)


# Lambda entry point: template.yaml names it.
lambda_handler = entry_point(handle, default_dependencies)
