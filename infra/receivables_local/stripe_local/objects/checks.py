"""Parameter checks that several resources share: metadata, URLs, currencies, email addresses and
the payment method types (with the API version that stopped taking ``payment_method_types``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.bank import DEBIT_CURRENCIES
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects.api import API_VERSION, RequestInfo, StripeError

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params

PAYMENT_METHOD_TYPES = ("card", "sepa_debit", "us_bank_account")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# From this API version (2026-09-30.endive) on, ``payment_method_types`` is no longer an input:
# Checkout Session creation does not know the parameter, and PaymentIntents and SetupIntents
# refuse it with ``payment_method_types_no_longer_supported``. Objects still return it.
PAYMENT_METHOD_TYPES_REMOVED = "2026-09-30"
_VERSION_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def takes_payment_method_types(api_version: str) -> bool:
    """Whether ``payment_method_types`` can still be passed at ``api_version`` (its date prefix
    before `PAYMENT_METHOD_TYPES_REMOVED`); a version without a date counts as the current one."""
    match = _VERSION_DATE.match(api_version)
    date = match.group(0) if match else API_VERSION[:10]
    return date < PAYMENT_METHOD_TYPES_REMOVED


def refuse_payment_method_types(params: Params, request: RequestInfo, *, intent: bool) -> None:
    """Refuse ``payment_method_types`` as Stripe does from 2026-09-30.endive: an unknown parameter
    of Checkout Session creation; ``payment_method_types_no_longer_supported`` on an intent."""
    if "payment_method_types" not in params or takes_payment_method_types(request.api_version):
        return
    if not intent:
        raise FormError(
            "Received unknown parameter: payment_method_types", "payment_method_types", "parameter_unknown"
        )
    raise StripeError(
        400,
        f"The parameter `payment_method_types` is no longer supported as of API version "
        f"{PAYMENT_METHOD_TYPES_REMOVED}.endive (this request uses {request.api_version}). Use "
        "`allowed_payment_method_types` to limit the payment method types, or leave it out to use "
        "dynamic payment methods.",
        param="payment_method_types",
        code="payment_method_types_no_longer_supported",
    )


def metadata(values: dict[str, str], param: str) -> dict[str, str]:
    """Stripe's metadata rules: up to 50 keys of 40 characters, values of 500; empty means unset."""
    if len(values) > 50:
        raise FormError(f"Invalid {param}: metadata can have up to 50 keys.", param, "parameter_invalid")
    for key, value in values.items():
        if len(key) > 40:
            raise FormError(
                "Keys for metadata must be less than or equal to 40 characters.",
                f"{param}[{key}]",
                "parameter_invalid",
            )
        if len(value) > 500:
            raise FormError(
                f"Metadata values can have up to 500 characters, but you passed in a value that is "
                f"{len(value)} characters. Invalid value: {value[:50]}…",
                f"{param}[{key}]",
                "parameter_invalid",
            )
    return {key: value for key, value in values.items() if value != ""}


def url(params: Params, key: str, *, required: bool) -> str | None:
    value = forms.required_string(params, key) if required else forms.string(params, key)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FormError("Not a valid URL", key, "url_invalid")
    return value


def currency_code(value: str, param: str) -> str:
    if not re.fullmatch(r"[a-z]{3}", value):
        raise FormError(
            f"Invalid currency: {value}. Stripe currencies are three-letter ISO codes in lower case.",
            param,
            "parameter_invalid",
        )
    return value


def _check_methods(methods: list[str], currency: str | None, param: str, *, intent: bool) -> None:
    """Refuse a payment method type the server does not take, or a debit in a currency its
    scheme cannot carry (SEPA: eur, ACH: usd), with Stripe's messages (Checkout's or the
    PaymentIntent's)."""
    for index, method in enumerate(methods):
        if method not in PAYMENT_METHOD_TYPES:
            raise StripeError(
                400,
                f"The payment method type {method!r} is not supported by the local Stripe server, which "
                f"takes {', '.join(PAYMENT_METHOD_TYPES)} only.",
                param=f"{param}[{index}]",
            )
    for method in methods:
        allowed = DEBIT_CURRENCIES.get(method)
        if currency is None or allowed is None or currency in allowed:
            continue
        if intent:
            message = (
                f"The currency provided ({currency}) is invalid for one or more payment method types on this "
                f"PaymentIntent. The payment method type {method} only supports the following currencies: "
                f"{', '.join(allowed)}. Either correct the provided currency, or use a different "
                "PaymentIntent to accept this payment method type."
            )
        else:
            message = (
                f"Invalid currency options `{currency}`. The payment method `{method}` only supports the "
                f"following currencies: `{', '.join(allowed)}`."
            )
        raise StripeError(400, message, param=param)


def method_types(
    params: Params, currency: str | None, *, intent: bool, default: str = "card"
) -> tuple[list[str], list[str] | None]:
    """The payment method types of a session or PaymentIntent, and its
    ``allowed_payment_method_types``. ``payment_method_types`` (accepted only before
    2026-09-30.endive, checked by the caller) is taken strictly (a debit in a currency its scheme
    cannot carry is a 400); ``allowed_payment_method_types`` (the parameter of Stripe's current
    API version) silently drops the types that cannot be used with ``currency``, and refuses
    when none is left; without either, ``default``."""
    explicit = forms.strings(params, "payment_method_types")
    allowed = forms.strings(params, "allowed_payment_method_types")
    if explicit and allowed:
        raise FormError(
            "You may only specify one of these parameters: allowed_payment_method_types, "
            "payment_method_types."
        )
    if explicit:
        _check_methods(explicit, currency, "payment_method_types", intent=intent)
        return explicit, None
    if not allowed:
        return [default], None
    _check_methods(allowed, None, "allowed_payment_method_types", intent=intent)
    usable = [m for m in allowed if currency is None or currency in DEBIT_CURRENCIES.get(m, (currency,))]
    if not usable:
        raise StripeError(
            400,
            f"None of the payment method types in `allowed_payment_method_types` ({', '.join(allowed)}) can "
            f"be used with the currency `{currency}`.",
            param="allowed_payment_method_types",
        )
    return usable, allowed
