"""What a function that mails customers builds once per cold start: its mail settings, SES, the
links' signing keys and the at-most-once markers (Powertools Idempotency, with the hook that tells
them the invocation's context)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.adapters.once import once_by_key
from receivables.adapters.ses import ses_sender
from receivables.customers.links import key_ring_reader
from receivables.mail.mailer import MailSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from receivables.customers.links import KeyRing
    from receivables.kernel.settings import Settings


@dataclass(frozen=True, slots=True)
class Outbox:
    """The mail settings, the raw sender (SES), the signing keys (read when called: a rotation
    reaches a warm function), ``once(key, send)`` and ``register_context(context)``."""

    mail: MailSettings
    send_raw: Callable[[str, bytes], str]
    keys: Callable[[], KeyRing]
    once: Callable[[str, Callable[[], str]], str]
    register_context: Callable[[Any], None]


def outbox(settings: Settings, env: Mapping[str, str]) -> Outbox:
    """The outbox of the function whose settings are ``settings`` (its environment ``env``)."""
    mail = MailSettings.from_env(env)
    once, register_context = once_by_key(settings.need("idempotency_table_name"))
    send_raw = ses_sender(mail.sender, settings.endpoint_url)
    return Outbox(
        mail, send_raw, key_ring_reader(settings.need("link_signing_key_name")), once, register_context
    )
