"""What the console's routes are bound to: the settings and clock (once per cold start), the
managed login of the console's app client and the key that signs the sign-in cookie. Tests
replace these attributes."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from receivables.adapters.cognito import ManagedLogin, pool_members
from receivables.adapters.parameters import parameter_text, public_base_url
from receivables.adapters.ses import ses_sender
from receivables.customers.links import link_keys
from receivables.kernel.clock import Clock, clock_from_env
from receivables.kernel.settings import Settings
from receivables.mail.mailer import MailSettings, send_account_link
from receivables.mail.mentions import mention_message
from receivables.storage import store
from receivables.web.console.auth import SignIn
from receivables.web.console.service import Console

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.ledger.model import Customer


@cache
def context() -> tuple[Settings, Clock]:
    """Settings and clock, bound once per cold start."""
    settings = store.bind_environment(os.environ)
    return settings, clock_from_env(os.environ)


@cache
def managed_login() -> ManagedLogin:
    """The user pool's managed login for the console's app client (its domain, issuer and keys)."""
    issuer = os.environ["COGNITO_ISSUER"]
    client_id = os.environ.get("CONSOLE_CLIENT_ID") or parameter_text(
        os.environ["CONSOLE_CLIENT_ID_PARAMETER"]
    )
    return ManagedLogin(
        login_url=os.environ["CONSOLE_LOGIN_URL"],
        client_id=client_id,
        issuer=issuer,
        jwks_url=os.environ.get("COGNITO_JWKS_URL") or f"{issuer}/.well-known/jwks.json",
    )


@cache
def state_key() -> Callable[[], bytes]:
    """The key of the sign-in cookie: derived from the link signing key for this one purpose
    (read through Powertools' cache, so a rotation is seen within five minutes)."""
    # cold start: Powertools' parameters cost about 16 ms; only signing in needs them
    from aws_lambda_powertools.utilities.parameters import get_secret

    name = Settings.from_env(os.environ).need("link_signing_key_name")

    def key() -> bytes:
        secret = link_keys(str(get_secret(name, max_age=300)))
        return hmac.new(secret, b"receivables console sign-in", hashlib.sha256).digest()

    return key


@cache
def states() -> Any:
    """The Step Functions client (built on first use: only a dispute's decision needs it)."""
    # cold start: boto3 costs about 18 ms and only a dispute's decision needs it
    import boto3

    settings, _ = context()
    return boto3.client("stepfunctions", endpoint_url=settings.endpoint_url)


@cache
def link_sender() -> Callable[[Customer, str], str]:
    """Mails a customer's contact a fresh portal link, through SES (built on first use)."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    settings, clock = context()
    mail = MailSettings.from_env(os.environ)
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    key_name = settings.need("link_signing_key_name")

    def send(customer: Customer, address: str) -> str:
        key = link_keys(str(get_secret(key_name, max_age=300)))
        return send_account_link(customer, address, mail, key, send_raw, clock)

    return send


@cache
def mention_teller() -> Callable[[list[str], str, str, str, str], list[str]]:
    """Emails the colleagues a note mentions (users of the finance pool only) a link to it."""

    settings, _ = context()
    sender = os.environ["SENDER_EMAIL"]
    send_raw = ses_sender(sender, settings.endpoint_url)
    is_member = pool_members(os.environ["FINANCE_USER_POOL_ID"], settings.endpoint_url)

    def tell(addresses: list[str], by: str, about: str, url: str, text: str) -> list[str]:
        told = [a for a in addresses if is_member(a)]
        for address in told:
            send_raw(address, mention_message(sender, address, by, about, url, text))
        return told

    return tell


def console() -> Console:
    """The console over this function's managed login, key and clock."""
    settings, clock = context()
    sign_in = SignIn(managed_login(), public_base_url(os.environ), state_key()(), time.time)
    return Console(
        sign_in,
        clock,
        send_task_success=lambda **given: states().send_task_success(**given),
        seller=settings.default_seller_id,
        send_link=lambda customer, address: link_sender()(customer, address),
        tell_mentioned=lambda *given: mention_teller()(*given),
    )
