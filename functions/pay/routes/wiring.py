"""What the pay function's routes are bound to: the link key, Stripe, the clock and the buckets,
built once per cold start from the environment. Tests replace these attributes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.attachments import Attachments, s3_attachments
from receivables.adapters.parameters import public_base_url
from receivables.adapters.s3 import processed_reader
from receivables.adapters.ses import ses_sender
from receivables.adapters.stripe_api import StripeGateway
from receivables.customers.links import link_keys
from receivables.kernel.clock import Clock, SystemClock, clock_from_env
from receivables.kernel.settings import Settings
from receivables.mail.mailer import MailSettings, send_account_link
from receivables.payments.methods import parse_bank_accounts
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings
from receivables.web.portal.service import Portal
from receivables.web.security_headers import allow_checkout_at

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What the pay link works with; tests build their own."""

    settings: PayLinkSettings
    link_key: Callable[[], bytes]
    create_session: Callable[[dict[str, Any], str], dict[str, Any]]
    clock: Clock
    gateway: StripeGateway | None = None  # the other Stripe calls (autopay)


def stripe_session_creator(
    api_key: Callable[[], str], api_base: str | None
) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """Create Checkout Sessions with the official client (built on first use)."""
    return StripeGateway(api_key, api_base).create_session


@cache
def default_dependencies() -> Dependencies:
    """Built once per cold start from the function's environment."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    settings = store.bind_environment(os.environ)
    link_key_name = settings.need("link_signing_key_name")
    stripe_key_name = settings.need("stripe_api_key_name")
    api_base = settings.stripe_api_base
    gateway = StripeGateway(lambda: str(get_secret(stripe_key_name, max_age=300)), api_base)
    allow_checkout_at(api_base)
    return Dependencies(
        PayLinkSettings(public_base_url(os.environ), os.environ.get("CONTACT_EMAIL") or "us"),
        lambda: link_keys(str(get_secret(link_key_name, max_age=300))),
        gateway.create_session,
        clock_from_env(os.environ),
        gateway,
    )


@cache
def attachments() -> Attachments:
    """Customers' dispute documents and the documents held invoices lack, in the bucket the
    template names."""
    settings = Settings.from_env(os.environ)
    return s3_attachments(settings.need("attachments_bucket"), settings.endpoint_url)


def portal() -> Portal:
    """The portal over this function's key and clock (on HTTPS unless the base URL is http)."""
    deps = default_dependencies()
    base = deps.settings.public_base_url
    return Portal(
        deps.link_key(),
        deps.clock,
        secure=base.startswith("https://"),
        base_url=base,
        create_session=deps.create_session,
        send_link=link_mailer(),
        seller_name=os.environ.get("SELLER_NAME") or os.environ.get("SENDER_EMAIL", ""),
        wall=SystemClock(),
        bank_accounts=parse_bank_accounts(os.environ.get("BANK_ACCOUNTS")),
        gateway=deps.gateway,
        read_object=invoice_objects(),
        files=attachments(),
    )


# A Lambda response carries at most 6 MB, and a download travels base64-encoded (4/3 larger): a
# bigger e-invoice is not offered as such (its PDF is rendered from the invoice's data).
LARGEST_DOWNLOAD = 4 * 1024 * 1024


@cache
def invoice_objects() -> Callable[[str, str], bytes | None]:
    """Reads the e-invoices kept in the invoice bucket and the documents kept with invoices (and
    nothing else), for the portal."""
    settings = Settings.from_env(os.environ)
    return processed_reader(
        settings.need("attachments_bucket"),
        settings.endpoint_url,
        LARGEST_DOWNLOAD,
        ("processed/", "documents/"),
    )


@cache
def link_mailer() -> Callable[[Any, str], str]:
    """Mails a fresh portal link to a known contact, through SES (built on first use)."""
    deps = default_dependencies()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, Settings.from_env(os.environ).endpoint_url)
    return lambda customer, address: send_account_link(
        customer, address, mail, deps.link_key(), send_raw, deps.clock
    )
