"""Typed settings, parsed once from the environment at cold start; logic never reads os.environ."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from receivables.kernel.errors import ReceivablesError
from receivables.kernel.money import AmountLimits, MoneyError

if TYPE_CHECKING:
    from collections.abc import Mapping

MIB = 1024 * 1024


class SettingsError(ReceivablesError, ValueError):
    """A missing or malformed environment variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {value}")
    return value


def _amount_limits(env: Mapping[str, str]) -> AmountLimits:
    try:
        return AmountLimits.parse(env.get("AMOUNT_LIMITS", ""))
    except MoneyError as exc:
        raise SettingsError(f"AMOUNT_LIMITS: {exc}") from None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """What a function needs to know about its deployment.

    Every field comes from an environment variable that template.yaml sets (names in
    `from_env`); the defaults are the production defaults.
    """

    table_name: str
    region: str
    event_bus_name: str | None = None
    invoice_bucket: str | None = None
    default_seller_id: str = "self"
    default_payment_terms_days: int = 30
    max_csv_bytes: int = 512 * MIB
    max_json_bytes: int = 32 * MIB
    max_xml_bytes: int = 8 * MIB
    max_row_bytes: int = 64 * 1024
    max_lines_per_invoice: int = 1000
    endpoint_url: str | None = None  # the local runtime's AWS endpoint; None on AWS
    amount_limits: AmountLimits = field(default_factory=AmountLimits)
    # Resources and secrets only some functions have (template.yaml gives each what it uses);
    # `need` names the variable when a function reads one it was not given.
    idempotency_table_name: str | None = None
    link_signing_key_name: str | None = None
    stripe_api_key_name: str | None = None
    stripe_webhook_secret_name: str | None = None
    stripe_api_base: str | None = None  # the local Stripe; None on AWS (api.stripe.com)
    state_machine_arn: str | None = None
    documents_bucket: str | None = None
    attachments_bucket: str | None = None
    document_reminder_days: int = 5

    def need(self, name: str) -> str:
        """The value of the optional setting ``name`` (a field name), or `SettingsError` naming
        its environment variable when the function was not given it."""
        value = getattr(self, name)
        if not value:
            raise SettingsError(f"{name.upper()} is not set")
        return str(value)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Parse the environment (``os.environ`` in a handler, a dict in tests)."""
        return cls(
            table_name=_required(env, "TABLE_NAME"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            event_bus_name=env.get("EVENT_BUS_NAME") or None,
            invoice_bucket=env.get("INVOICE_BUCKET") or None,
            default_seller_id=env.get("DEFAULT_SELLER_ID") or "self",
            default_payment_terms_days=_int(env, "DEFAULT_PAYMENT_TERMS_DAYS", 30),
            max_csv_bytes=_int(env, "MAX_CSV_BYTES", 512 * MIB),
            max_json_bytes=_int(env, "MAX_JSON_BYTES", 32 * MIB),
            max_xml_bytes=_int(env, "MAX_XML_BYTES", 8 * MIB),
            max_row_bytes=_int(env, "MAX_ROW_BYTES", 64 * 1024),
            max_lines_per_invoice=_int(env, "MAX_LINES_PER_INVOICE", 1000),
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            amount_limits=_amount_limits(env),
            idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME") or None,
            link_signing_key_name=env.get("LINK_SIGNING_KEY_NAME") or None,
            stripe_api_key_name=env.get("STRIPE_API_KEY_NAME") or None,
            stripe_webhook_secret_name=env.get("STRIPE_WEBHOOK_SECRET_NAME") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            state_machine_arn=env.get("STATE_MACHINE_ARN") or None,
            documents_bucket=env.get("DOCUMENTS_BUCKET") or None,
            attachments_bucket=env.get("ATTACHMENTS_BUCKET") or None,
            document_reminder_days=_int(env, "DOCUMENT_REMINDER_DAYS", 5),
        )
