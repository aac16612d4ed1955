"""What the finance API's routes are bound to: the settings and clock (once per cold start) and
the senders and clients built on first use. Tests replace these attributes."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.attachments import Attachments, s3_attachments
from receivables.adapters.ses import ses_sender
from receivables.customers.links import link_keys
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.settings import Settings
from receivables.mail.mailer import MailSettings, send_account_link, send_enrolment_invitation
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.ledger.model import Customer


@cache
def context() -> tuple[Settings, Clock]:
    """Settings and clock, bound once per cold start."""
    settings = store.bind_environment(os.environ)
    return settings, clock_from_env(os.environ)


@cache
def states() -> Any:
    """The Step Functions client (built on first use: only decisions need it)."""
    # cold start: boto3 costs about 18 ms and only a dispute's decision needs it
    import boto3

    settings, _ = context()
    return boto3.client("stepfunctions", endpoint_url=settings.endpoint_url)


@cache
def invitation_sender() -> Callable[[Any], str]:
    """Mails an enrolment invitation through SES (built on first use)."""
    # cold start: Powertools' parameters cost about 16 ms; only the mail a route sends needs them
    from aws_lambda_powertools.utilities.parameters import get_secret

    settings, _ = context()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    key_name = Settings.from_env(os.environ).need("link_signing_key_name")

    def send(enrolment: Any) -> str:
        key = link_keys(str(get_secret(key_name, max_age=300)))
        return send_enrolment_invitation(enrolment, mail, key, send_raw)

    return send


@cache
def link_sender() -> Callable[[Customer, str], str]:
    """Mails a customer's contact a fresh portal link, through SES (built on first use)."""
    # cold start: Powertools' parameters cost about 16 ms; only the mail a route sends needs them
    from aws_lambda_powertools.utilities.parameters import get_secret

    settings, clock = context()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    key_name = Settings.from_env(os.environ).need("link_signing_key_name")

    def send(customer: Customer, address: str) -> str:
        key = link_keys(str(get_secret(key_name, max_age=300)))
        return send_account_link(customer, address, mail, key, send_raw, clock)

    return send


@cache
def invoice_files() -> Attachments:
    """The documents kept with invoices, in the bucket the template names."""
    settings, _ = context()
    return s3_attachments(settings.need("documents_bucket"), settings.endpoint_url)
