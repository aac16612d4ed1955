"""The in-memory Stripe account: its objects, their state changes and the events they emit.

Objects are kept as the JSON dicts the API returns, shaped as Stripe's current API version
(`API_VERSION`): Checkout Sessions (payment and setup mode), PaymentIntents, SetupIntents,
Customers, PaymentMethods, Mandates, Charges, Refunds, Disputes, Events and webhook endpoints.
A request's own API version (``Stripe-Version``: `RequestInfo.api_version`) decides only which
parameters it may pass: ``payment_method_types`` is an input before 2026-09-30.endive and a 400
from then on (`takes_payment_method_types`), where ``allowed_payment_method_types`` replaces it.
References between them are ids (``PaymentIntent.latest_charge`` is ``"ch_…"``); `Store.expand`
replaces them with the objects for ``expand[]``.

Everything happens under one re-entrant lock, `Store.lock`; the HTTP layer holds it around a whole
idempotent request. Every state change that Stripe announces emits its event, in Stripe's order;
an event's ``data.object`` is a deep copy taken at that moment. Events are handed to ``on_event``
with the endpoints that listen to them (the webhook dispatcher queues them).

Card payments follow Stripe's test cards (`read_card`): 4242 4242 4242 4242 and any other valid
number succeed, 4000 0000 0000 0002 is declined (generic_decline), 4000 0000 0000 9995 lacks funds,
4000 0000 0000 0259 succeeds and is then disputed as fraudulent; the other decline cards of
Stripe's testing page (lost, stolen, expired, incorrect CVC, processing error) are declined too.
4000 0000 0000 0341 can be saved (setup mode) but every charge of it is declined.

Debits (SEPA Direct Debit, ACH Direct Debit: `bank`) are accepted at once and settle later on the
clock: the PaymentIntent is ``processing`` and its Charge ``pending`` until ``debit_settlement_
seconds`` have passed; `Store.settle_due` (called by the server's sweep) then pays or fails each
one as its test number says.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias
from urllib.parse import urlsplit

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.bank import (
    DEBIT_CURRENCIES,
    BankAccount,
    DebitFailure,
    fingerprint,
)
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.webhooks import Target, matches

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from receivables_local.stripe_local.forms import Params

API_VERSION = "2026-10-28.endive"

ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩", "ils": "₪", "vnd": "₫"}

SESSION_DEFAULT_LIFETIME = 24 * 3600
DEBIT_SETTLEMENT_SECONDS = 2 * 24 * 3600  # how long a debit stays pending before the bank answers
PAYMENT_METHOD_TYPES = ("card", "sepa_debit", "us_bank_account")
# Stripe's minimum charge amounts (in minor units) for the currencies the tests use.
MINIMUM_CHARGE_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}
SESSION_MIN_LIFETIME = 30 * 60
DISPUTE_RESPONSE_WINDOW = 7 * 24 * 3600
MAX_LINE_ITEMS = 100
MAX_WEBHOOK_ENDPOINTS = 16
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CHECKOUT_LOCALES = frozenset(
    "auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt "
    "pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW".split()
)
DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
_OPEN_DISPUTE = ("needs_response", "warning_needs_response")
_ALNUM = string.ascii_letters + string.digits
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# Fields that hold an id (or null) which expand[] may replace with the object.
_EXPANDABLE: dict[str, frozenset[str]] = {
    "checkout.session": frozenset(
        {"payment_intent", "customer", "invoice", "payment_link", "setup_intent", "subscription"}
    ),
    "payment_intent": frozenset({"latest_charge", "customer", "payment_method", "invoice"}),
    "setup_intent": frozenset({"customer", "payment_method", "mandate", "latest_attempt"}),
    "payment_method": frozenset({"customer"}),
    "mandate": frozenset({"payment_method"}),
    "charge": frozenset({"payment_intent", "customer", "payment_method"}),
    "refund": frozenset({"charge", "payment_intent", "balance_transaction"}),
    "dispute": frozenset({"charge", "payment_intent"}),
}
# How "No such …" names each object, and the parameter Stripe blames.
_NOT_FOUND: dict[str, tuple[str, str]] = {
    "checkout.session": ("checkout.session", "session"),
    "payment_intent": ("payment_intent", "intent"),
    "setup_intent": ("setup_intent", "intent"),
    "customer": ("customer", "id"),
    "payment_method": ("PaymentMethod", "payment_method"),
    "mandate": ("mandate", "mandate"),
    "charge": ("charge", "id"),
    "refund": ("refund", "id"),
    "dispute": ("dispute", "dispute"),
    "event": ("event", "id"),
    "webhook_endpoint": ("webhook_endpoint", "webhook_endpoint"),
}


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh random id: ``prefix`` then ``length`` letters and digits (``pi_3Qx…``)."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def currency_exponent(currency: str) -> int:
    """Digits of the minor unit: 0 for JPY and the other zero-decimal currencies, 3 for BHD, JOD,
    KWD, OMR and TND, else 2."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """An amount of minor units for people: ``€1,234.50``, ``¥1,235``, ``CHF 12.00``, ``BHD 1.250``."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(amount), 10**exponent)
    text = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency.upper()} {text}"


class StripeError(Exception):
    """An API error as Stripe answers it: HTTP status and the ``error`` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.decline_code = decline_code
        self.extra = extra or {}

    def to_dict(self) -> dict[str, Any]:
        """The response body: ``{"error": {type, message, param?, code?, decline_code?, doc_url?}}``."""
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def not_found(object_type: str, object_id: str, status: int = 404, param: str | None = None) -> StripeError:
    """Stripe's ``resource_missing``: ``No such payment_intent: 'pi_…'``."""
    name, default_param = _NOT_FOUND.get(object_type, (object_type, "id"))
    return StripeError(
        status, f"No such {name}: '{object_id}'", param=param or default_param, code="resource_missing"
    )


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What caused a change: the API request (id and Idempotency-Key), or None for both when the
    customer (the hosted page) or time (expiry) did, as Stripe reports in ``event.request``."""

    id: str | None = None
    idempotency_key: str | None = None
    api_version: str = API_VERSION  # the request's ``Stripe-Version``, else the account's


NO_REQUEST = RequestInfo()

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


def _refuse_payment_method_types(params: Params, request: RequestInfo, *, intent: bool) -> None:
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


# -- cards ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decline:
    """How the issuer refuses a test card: the error and the charge's outcome."""

    code: str
    decline_code: str
    message: str


_GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
TEST_DECLINES: dict[str, Decline] = {
    "4000000000000002": _GENERIC,
    "4000000000009995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": Decline("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": Decline("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
# Cards that can be saved (a SetupIntent succeeds) but whose every charge is declined.
TEST_CHARGE_DECLINES: dict[str, Decline] = {"4000000000000341": _GENERIC}
TEST_DISPUTES: dict[str, str] = {"4000000000000259": "fraudulent"}


class CardInputError(ValueError):
    """Card details the payment form refuses before anything is charged (Stripe.js's messages)."""


@dataclass(frozen=True, slots=True)
class Card:
    """Card details from the payment form, checked."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    kind: ClassVar[str] = "card"

    @property
    def last4(self) -> str:
        """The last four digits."""
        return self.number[-4:]

    @property
    def brand(self) -> str:
        """The network, from the number's prefix."""
        return card_brand(self.number)

    @property
    def decline(self) -> Decline | None:
        """How the issuer declines a charge of this card, or None when it pays."""
        return TEST_DECLINES.get(self.number) or TEST_CHARGE_DECLINES.get(self.number)

    @property
    def setup_decline(self) -> Decline | None:
        """How the issuer refuses to let this card be saved (a SetupIntent), or None."""
        return TEST_DECLINES.get(self.number)

    @property
    def dispute_reason(self) -> str | None:
        """The reason of the dispute that follows a payment with this card, if any."""
        return TEST_DISPUTES.get(self.number)

    def payment_method_details(self) -> dict[str, Any]:
        """The ``card`` hash of the PaymentMethod."""
        return {
            "brand": self.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "display_brand": self.brand,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": fingerprint("card", self.number),
            "funding": "credit",
            "generated_from": None,
            "last4": self.last4,
            "networks": {"available": [self.brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }

    def charge_details(self, mandate: str | None) -> dict[str, Any]:
        """The ``card`` hash of a Charge's ``payment_method_details`` (cards have no mandate)."""
        return {
            "brand": self.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": fingerprint("card", self.number),
            "funding": "credit",
            "last4": self.last4,
            "network": self.brand,
        }


Instrument: TypeAlias = "Card | BankAccount"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a card number."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(number: str) -> str:
    """Stripe's brand name for a card number: visa, mastercard, amex, discover, jcb, diners, unionpay."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3] or 0) <= 649:
        return "discover"
    if number.startswith("35"):
        return "jcb"
    if number.startswith(("36", "38", "39", "300", "301", "302", "303", "304", "305")):
        return "diners"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


def read_card(number: str, exp: str, cvc: str, now: float) -> Card:
    """Check the form's card number (spaces ignored), expiry ``MM/YY`` (or ``MM/YYYY``, not past
    at ``now``) and CVC (3 or 4 digits); `CardInputError` says what is wrong."""
    digits = number.replace(" ", "")
    if not digits:
        raise CardInputError("Your card number is incomplete.")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
        raise CardInputError("Your card number is invalid.")
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", exp)
    if match is None:
        raise CardInputError("Your card's expiration date is incomplete.")
    month, year = int(match.group(1)), int(match.group(2))
    if len(match.group(2)) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise CardInputError("Your card's expiration date is invalid.")
    today = datetime.fromtimestamp(now, UTC)
    if year < today.year:
        raise CardInputError("Your card's expiration year is in the past.")
    if (year, month) < (today.year, today.month):
        raise CardInputError("Your card's expiration date is in the past.")
    if year > today.year + 50:
        raise CardInputError("Your card's expiration year is invalid.")
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        raise CardInputError("Your card's security code is incomplete.")
    return Card(digits, month, year, cvc.strip())


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What the customer's confirmation did: done (paid, submitted for debit, or saved; and
    where to go) or declined (and why)."""

    paid: bool
    redirect_url: str | None = None
    decline_message: str | None = None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The customer's online acceptance of a debit mandate: where it came from."""

    ip_address: str | None = None
    user_agent: str | None = None


# -- parameter checks ------------------------------------------------------------------------------


def _metadata(values: dict[str, str], param: str) -> dict[str, str]:
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


def _url(params: Params, key: str, *, required: bool) -> str | None:
    value = forms.required_string(params, key) if required else forms.string(params, key)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FormError("Not a valid URL", key, "url_invalid")
    return value


def _currency(value: str, param: str) -> str:
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


def _method_types(
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


def _billing_details(email: str | None, name: str | None) -> dict[str, Any]:
    address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
    return {"address": address, "email": email, "name": name, "phone": None}


def _approved(risk_level: str) -> dict[str, Any]:
    return {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": risk_level,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def _declined(reason: str, seller_message: str, risk_level: str) -> dict[str, Any]:
    return {
        "network_status": "declined_by_network",
        "reason": reason,
        "risk_level": risk_level,
        "seller_message": seller_message,
        "type": "issuer_declined",
    }


def _card_declined(decline: Decline) -> dict[str, Any]:
    message = (
        "The bank did not return any further details with this decline."
        if decline is _GENERIC
        else f"The bank returned the decline code `{decline.decline_code}`."
    )
    return _declined(decline.decline_code, message, "normal")


def _refund_destination(charge: dict[str, Any]) -> dict[str, Any]:
    kind = str(charge["payment_method_details"]["type"])
    if kind == "card":
        details: dict[str, Any] = {
            "reference_status": "pending",
            "reference_type": "acquirer_reference_number",
        }
    elif kind == "us_bank_account":
        kind, details = "us_bank_transfer", {"reference": None, "reference_status": "pending"}
    else:
        details = {}
    return {"type": kind, kind: details}


def _doc_url(code: str) -> str:
    return f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"


_PREVIOUSLY_USED = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared "
    "with a connected account without Customer attachment, or was detached from a Customer. It may not be "
    "used again. To use a PaymentMethod multiple times, you must attach it to a Customer first."
)
_MANDATE_MISSING = (
    "This PaymentIntent requires a mandate, but no existing mandate was found. Collect mandate acceptance "
    "from the customer and try again, providing acceptance data in the mandate_data parameter."
)
_MINIMUM_AMOUNT = (
    "The amount must be greater than or equal to the minimum charge amount allowed for your account and the "
    "currency set (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).  If you want to "
    "save a Payment Method for future use without an immediate payment, use a Setup Intent instead: "
    "https://docs.stripe.com/payments/setup-intents"
)


# -- the store -------------------------------------------------------------------------------------


class Store:
    """Every object of the local account, with the operations of the API and the hosted page."""

    def __init__(
        self,
        clock: Callable[[], float],
        base_url: Callable[[], str],
        on_event: Callable[[dict[str, Any], list[Target]], None],
        *,
        debit_settlement_seconds: int = DEBIT_SETTLEMENT_SECONDS,
    ) -> None:
        if debit_settlement_seconds < 0:
            raise ValueError("debit_settlement_seconds must not be negative")
        self.lock = threading.RLock()
        self.debit_settlement_seconds = debit_settlement_seconds
        self._clock = clock
        self._base_url = base_url
        self._on_event = on_event
        self._objects: dict[str, dict[str, Any]] = {}  # every object by id, in creation order
        self._events: list[dict[str, Any]] = []
        self._line_items: dict[str, list[dict[str, Any]]] = {}  # session id -> line items
        self._products: dict[str, dict[str, Any]] = {}  # product id -> name, description, metadata
        self._intent_data: dict[str, dict[str, Any]] = {}  # session id -> payment_intent_data
        self._setup_data: dict[str, dict[str, Any]] = {}  # session id -> setup_intent_data
        self._instruments: dict[str, Instrument] = {}  # payment method id -> the card or account
        self._mandates: dict[str, str] = {}  # payment method id -> its active multi-use mandate
        self._pending: dict[str, int] = {}  # pending debit's charge id -> when it settles
        self._secrets: dict[str, str] = {}  # webhook endpoint id -> signing secret

    def now(self) -> int:
        """The clock, in whole epoch seconds."""
        return int(self._clock())

    # -- reading -----------------------------------------------------------------------------

    def retrieve(self, object_type: str, object_id: str) -> dict[str, Any]:
        """A copy of one object; ``resource_missing`` (404) if there is none of that type."""
        with self.lock:
            return copy.deepcopy(self._get(object_type, object_id))

    def _get(
        self, object_type: str, object_id: str, status: int = 404, param: str | None = None
    ) -> dict[str, Any]:
        found = self._objects.get(object_id)
        if found is None or found.get("object") != object_type:
            raise not_found(object_type, object_id, status, param)
        return found

    def _all(self, object_type: str) -> list[dict[str, Any]]:
        """Objects of one type, newest first (Stripe's list order)."""
        return [o for o in reversed(self._objects.values()) if o.get("object") == object_type]

    def page(self, items: list[dict[str, Any]], params: Params, url: str) -> dict[str, Any]:
        """A Stripe list object of ``items`` (already in list order) with ``limit``,
        ``starting_after`` and ``ending_before``."""
        limit = forms.integer(params, "limit")
        if limit is None:
            limit = 10
        elif not 1 <= limit <= 100:
            raise FormError(
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                "limit",
                "parameter_invalid_integer",
            )
        ids = [item["id"] for item in items]
        after, before = forms.string(params, "starting_after"), forms.string(params, "ending_before")
        if after is not None and before is not None:
            raise FormError("You may only specify one of these parameters: ending_before, starting_after.")
        if after is not None:
            if after not in ids:
                raise not_found(str(items[0]["object"]) if items else "object", after, 400, "starting_after")
            window = items[ids.index(after) + 1 :]
            chosen, has_more = window[:limit], len(window) > limit
        elif before is not None:
            if before not in ids:
                raise not_found(str(items[0]["object"]) if items else "object", before, 400, "ending_before")
            window = items[: ids.index(before)]
            chosen, has_more = window[-limit:], len(window) > limit
        else:
            chosen, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": copy.deepcopy(chosen), "has_more": has_more, "url": url}

    def expand(self, obj: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
        """Replace ids with objects along each ``expand[]`` path (``payment_intent.latest_charge``,
        ``data.payment_intent`` on lists); a path Stripe cannot expand is a 400."""
        with self.lock:
            for path in paths:
                self._expand(obj, path.split("."), path)
            return obj

    def _expand(self, node: dict[str, Any], parts: list[str], path: str) -> None:
        head, rest = parts[0], parts[1:]
        if node.get("object") == "list" and head == "data":
            for item in node["data"]:
                if rest:
                    self._expand(item, rest, path)
            return
        kind = str(node.get("object"))
        if kind == "checkout.session" and head == "line_items":
            node["line_items"] = self.page(
                self._line_items.get(str(node["id"]), []),
                {"limit": "100"},
                f"/v1/checkout/sessions/{node['id']}/line_items",
            )
        elif head in _EXPANDABLE.get(kind, frozenset()):
            value = node[head]
            if isinstance(value, str):
                found = self._objects.get(value)
                if found is not None:
                    node[head] = copy.deepcopy(found)
        else:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        target = node.get(head)
        if rest and isinstance(target, dict):
            self._expand(target, rest, path)

    # -- events ----------------------------------------------------------------------------

    def _emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        request: RequestInfo,
        previous: dict[str, Any] | None = None,
    ) -> None:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        targets = [
            Target(endpoint["id"], endpoint["url"], self._secrets[endpoint["id"]])
            for endpoint in self._objects.values()
            if endpoint.get("object") == "webhook_endpoint"
            and endpoint["status"] == "enabled"
            and matches(endpoint["enabled_events"], event_type)
        ]
        event: dict[str, Any] = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": {"id": request.id, "idempotency_key": request.idempotency_key},
            "type": event_type,
        }
        self._objects[event["id"]] = event
        self._events.append(event)
        if targets:
            self._on_event(copy.deepcopy(event), targets)

    def event_count(self) -> int:
        """How many events there have been."""
        with self.lock:
            return len(self._events)

    def all_events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first (copies)."""
        with self.lock:
            return copy.deepcopy(self._events)

    def list_events(self, params: Params) -> dict[str, Any]:
        """``GET /v1/events``: newest first, filtered by ``type`` (``*`` wildcards) or ``types[]``."""
        with self.lock:
            wanted = forms.strings(params, "types")
            single = forms.string(params, "type")
            if single is not None and wanted:
                raise FormError("You may only specify one of these parameters: type, types.")
            if single is not None:
                wanted = [single]
            items = list(reversed(self._events))
            if wanted:
                regexes = [re.compile(re.escape(w).replace(r"\*", ".*") + "$") for w in wanted]
                items = [e for e in items if any(r.match(e["type"]) for r in regexes)]
            return self.page(items, params, "/v1/events")

    def delivery_succeeded(self, event_id: str) -> None:
        """One endpoint acknowledged the event: one webhook less pending."""
        with self.lock:
            event = self._objects.get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    # -- Checkout Sessions ---------------------------------------------------------------------

    def create_session(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/checkout/sessions``: payment mode with inline prices (``price_data``), or
        setup mode (no line items) to save a payment method for later charges. The payment
        methods come from ``allowed_payment_method_types`` (``payment_method_types`` only before
        2026-09-30.endive: `takes_payment_method_types`)."""
        _refuse_payment_method_types(params, request, intent=False)
        with self.lock:
            now = self.now()
            mode = forms.required_string(params, "mode")
            if mode not in ("payment", "setup", "subscription"):
                raise FormError("Invalid mode: must be one of payment, setup, or subscription", "mode")
            if mode == "subscription":
                raise StripeError(
                    400,
                    "The local Stripe server supports mode=payment and mode=setup only, not "
                    "mode=subscription.",
                    param="mode",
                )
            for key, its_mode in (("payment_intent_data", "payment"), ("setup_intent_data", "setup")):
                if key in params and mode != its_mode:
                    raise FormError(f"You can not pass `{key}` in `{mode}` mode.", key)
            success_url = _url(params, "success_url", required=True)
            cancel_url = _url(params, "cancel_url", required=False)
            session_id = new_id("cs_test_", 58)
            customer, email = self._session_customer(params)
            items, currency = self._session_items(params, mode, session_id, now)
            methods, allowed = _method_types(params, currency, intent=False)
            expires_at = self._session_expiry(params, now)
            reference, locale = self._session_texts(params)
            self._session_intent_data(params, session_id)
            total = sum(int(item["amount_total"]) for item in items) if mode == "payment" else None
            session: dict[str, Any] = {
                "id": session_id,
                "object": "checkout.session",
                "allowed_payment_method_types": allowed,
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": cancel_url,
                "client_reference_id": reference,
                "created": now,
                "currency": currency,
                "customer": customer,
                "customer_details": None,
                "customer_email": email,
                "expires_at": expires_at,
                "invoice": None,
                "livemode": False,
                "locale": locale,
                "metadata": _metadata(forms.mapping(params, "metadata"), "metadata"),
                "mode": mode,
                "payment_intent": None,
                "payment_link": None,
                "payment_method_types": methods,
                "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
                "setup_intent": None,
                "status": "open",
                "submit_type": None,
                "subscription": None,
                "success_url": success_url,
                "total_details": (
                    {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
                    if mode == "payment"
                    else None
                ),
                "ui_mode": "hosted_page",
                "url": f"{self._base_url()}/c/pay/{session_id}",
            }
            self._line_items[session_id] = items
            self._objects[session_id] = session
            return copy.deepcopy(session)

    def _session_customer(self, params: Params) -> tuple[str | None, str | None]:
        """The session's ``customer`` (which must exist) or ``customer_email``, not both."""
        customer = forms.string(params, "customer")
        email = forms.string(params, "customer_email")
        if customer is not None and email is not None:
            raise FormError("You may only specify one of these parameters: customer, customer_email.")
        if customer is not None:
            self._get("customer", customer, 400, "customer")
        if email is not None and not _EMAIL.match(email):
            raise FormError(f"Invalid email address: {email}", "customer_email", "email_invalid")
        return customer, email

    def _session_items(
        self, params: Params, mode: str, session_id: str, now: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Line items and currency: from the line items in payment mode (``currency``, if given,
        must agree); in setup mode no line items, and ``currency`` unless
        ``allowed_payment_method_types`` (or, before 2026-09-30.endive, ``payment_method_types``)
        says what to collect."""
        currency_text = forms.string(params, "currency")
        currency = None if currency_text is None else _currency(currency_text, "currency")
        if mode == "setup":
            if "line_items" in params:
                raise FormError("You can not pass `line_items` in `setup` mode.", "line_items")
            named = forms.strings(params, "payment_method_types") or forms.strings(
                params, "allowed_payment_method_types"
            )
            if currency is None and not named:
                raise FormError("Missing required param: currency.", "currency", "parameter_missing")
            return [], currency
        items, items_currency = self._line_items_of(params, session_id, now)
        if currency is not None and currency != items_currency:
            raise FormError(
                f"The currency `{currency}` does not match the currency of the line items "
                f"({items_currency}).",
                "currency",
            )
        return items, items_currency

    @staticmethod
    def _session_expiry(params: Params, now: int) -> int:
        expires_at = forms.integer(params, "expires_at")
        if expires_at is None:
            return now + SESSION_DEFAULT_LIFETIME
        if expires_at - now < SESSION_MIN_LIFETIME:
            raise FormError(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                "expires_at",
                "parameter_invalid_integer",
            )
        if expires_at - now > SESSION_DEFAULT_LIFETIME:
            raise FormError(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                "expires_at",
                "parameter_invalid_integer",
            )
        return expires_at

    @staticmethod
    def _session_texts(params: Params) -> tuple[str | None, str | None]:
        reference = forms.string(params, "client_reference_id")
        if reference is not None and len(reference) > 200:
            raise FormError(
                "Invalid string: client_reference_id must be at most 200 characters.",
                "client_reference_id",
                "parameter_invalid_string",
            )
        locale = forms.string(params, "locale")
        if locale is not None and locale not in CHECKOUT_LOCALES:
            raise FormError(f"Invalid locale: must be one of {', '.join(sorted(CHECKOUT_LOCALES))}", "locale")
        return reference, locale

    def _session_intent_data(self, params: Params, session_id: str) -> None:
        """Keep ``payment_intent_data`` / ``setup_intent_data`` for the intent made at the first
        attempt."""
        for key, store in (
            ("payment_intent_data", self._intent_data),
            ("setup_intent_data", self._setup_data),
        ):
            data = forms.obj(params, key)
            store[session_id] = {
                "metadata": _metadata(forms.mapping(data, "metadata"), f"{key}[metadata]"),
                "description": forms.string(data, "description"),
            }

    def _line_items_of(self, params: Params, session_id: str, now: int) -> tuple[list[dict[str, Any]], str]:
        entries = forms.array(params, "line_items")
        if not entries:
            raise FormError("Missing required param: line_items.", "line_items", "parameter_missing")
        if len(entries) > MAX_LINE_ITEMS:
            raise FormError(f"You may only specify up to {MAX_LINE_ITEMS} line items.", "line_items")
        items: list[dict[str, Any]] = []
        currency: str | None = None
        for index, entry in enumerate(entries):
            name = f"line_items[{index}]"
            if not isinstance(entry, dict):
                raise FormError("Invalid object", name, "parameter_invalid")
            price = self._inline_price(entry, name, now)
            if currency is not None and price["currency"] != currency:
                raise FormError(
                    "All line items must use the same currency: "
                    f"{name}[price_data][currency] is {price['currency']}, not {currency}.",
                    f"{name}[price_data][currency]",
                )
            currency = str(price["currency"])
            quantity_text = forms.string(entry, "quantity")
            if quantity_text is None:
                raise FormError(
                    f"Missing required param: {name}[quantity].", f"{name}[quantity]", "parameter_missing"
                )
            quantity = forms.positive_int(quantity_text, f"{name}[quantity]")
            amount = int(price["unit_amount"]) * quantity
            product = self._products[str(price["product"])]
            items.append(
                {
                    "id": new_id("li_"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": currency,
                    "description": product["name"],
                    "price": price,
                    "quantity": quantity,
                }
            )
        assert currency is not None
        return items, currency

    def _inline_price(self, entry: Params, name: str, now: int) -> dict[str, Any]:
        price_id = forms.string(entry, "price")
        if price_id is not None:
            raise StripeError(
                400, f"No such price: '{price_id}'", param=f"{name}[price]", code="resource_missing"
            )
        if "price_data" not in entry:
            raise FormError(
                f"You must specify either `price` or `price_data` for {name}.",
                f"{name}[price_data]",
                "parameter_missing",
            )
        data = forms.obj(entry, "price_data")
        prefix = f"{name}[price_data]"
        currency = _currency(
            forms.required_string(data, "currency", f"{prefix}[currency]"), f"{prefix}[currency]"
        )
        unit_text = forms.required_string(data, "unit_amount", f"{prefix}[unit_amount]")
        unit_amount = forms.non_negative_int(unit_text, f"{prefix}[unit_amount]")
        product_id = forms.string(data, "product")
        if product_id is not None:
            raise StripeError(
                400, f"No such product: '{product_id}'", param=f"{prefix}[product]", code="resource_missing"
            )
        if "product_data" not in data:
            raise FormError(
                f"Missing required param: {prefix}[product_data].",
                f"{prefix}[product_data]",
                "parameter_missing",
            )
        product_data = forms.obj(data, "product_data")
        product_name = forms.required_string(product_data, "name", f"{prefix}[product_data][name]")
        product_id = new_id("prod_", 14)
        self._products[product_id] = {
            "name": product_name,
            "description": forms.string(product_data, "description"),
            "metadata": _metadata(
                forms.mapping(product_data, "metadata"), f"{prefix}[product_data][metadata]"
            ),
        }
        return {
            "id": new_id("price_"),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": now,
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product_id,
            "recurring": None,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }

    def list_sessions(self, params: Params) -> dict[str, Any]:
        """``GET /v1/checkout/sessions``, newest first, by ``payment_intent``, ``status`` or
        ``customer_details[email]``."""
        with self.lock:
            self.expire_due()
            items = self._all("checkout.session")
            intent = forms.string(params, "payment_intent")
            if intent is not None:
                items = [s for s in items if s["payment_intent"] == intent]
            status = forms.string(params, "status")
            if status is not None:
                if status not in ("open", "complete", "expired"):
                    raise FormError("Invalid status: must be one of complete, expired, or open", "status")
                items = [s for s in items if s["status"] == status]
            email = forms.string(forms.obj(params, "customer_details"), "email")
            if email is not None:
                items = [s for s in items if (s["customer_details"] or {}).get("email") == email]
            return self.page(items, params, "/v1/checkout/sessions")

    def session_line_items(self, session_id: str, params: Params) -> dict[str, Any]:
        """``GET /v1/checkout/sessions/{id}/line_items``."""
        with self.lock:
            self._get("checkout.session", session_id)
            url = f"/v1/checkout/sessions/{session_id}/line_items"
            return self.page(self._line_items[session_id], params, url)

    def session_products(self, session_id: str) -> list[dict[str, Any]]:
        """The line items of a session with their product's name and description (for the page)."""
        with self.lock:
            return [
                {**copy.deepcopy(item), "product": copy.deepcopy(self._products[item["price"]["product"]])}
                for item in self._line_items.get(session_id, [])
            ]

    def get_session(self, session_id: str) -> dict[str, Any]:
        """A session after expiring it if its time has come (expiry emits its events)."""
        with self.lock:
            self.expire_due()
            return self.retrieve("checkout.session", session_id)

    def expire_session(self, session_id: str, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/checkout/sessions/{id}/expire``: only an open session can be expired."""
        with self.lock:
            self.expire_due()
            session = self._get("checkout.session", session_id)
            if session["status"] != "open":
                raise StripeError(
                    400,
                    f'Only Checkout Sessions with a status in ["open"] can be expired. This session has '
                    f'status "{session["status"]}".',
                    param="session",
                )
            self._expire(session, request)
            return copy.deepcopy(session)

    def next_due(self) -> int | None:
        """The earliest epoch second at which something happens here on its own (a pending debit
        settles, an open Checkout Session expires); None when nothing waits for the clock."""
        with self.lock:
            dues = list(self._pending.values())
            dues += [s["expires_at"] for s in self._all("checkout.session") if s["status"] == "open"]
            return min(dues) if dues else None

    def expire_due(self) -> int:
        """Expire every open session whose ``expires_at`` has passed by the clock, as Stripe does
        on its own; the number expired."""
        with self.lock:
            now = self.now()
            due = [
                s for s in self._all("checkout.session") if s["status"] == "open" and s["expires_at"] <= now
            ]
            for session in reversed(due):
                self._expire(session, NO_REQUEST)
            return len(due)

    def _expire(self, session: dict[str, Any], request: RequestInfo) -> None:
        """The session expires; a PaymentIntent left unpaid by a declined card is canceled, as is
        a SetupIntent a refused card left unfinished."""
        intent_id = session["payment_intent"]
        if intent_id is not None:
            intent = self._objects[intent_id]
            if intent["status"] == "requires_payment_method":
                intent.update(status="canceled", canceled_at=self.now(), cancellation_reason="automatic")
                self._emit("payment_intent.canceled", intent, request)
        setup_id = session["setup_intent"]
        if setup_id is not None:
            setup = self._objects[setup_id]
            if setup["status"] == "requires_payment_method":
                setup.update(status="canceled", cancellation_reason="abandoned")
                self._emit("setup_intent.canceled", setup, request)
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, request)

    # -- the customer pays on the hosted page ---------------------------------------------------

    def session_email(self, session: dict[str, Any]) -> str | None:
        """The email the hosted page already knows: ``customer_email``, else the customer's."""
        with self.lock:
            if session.get("customer_email"):
                return str(session["customer_email"])
            customer = self._objects.get(str(session.get("customer") or ""))
            email = customer.get("email") if customer is not None else None
            return str(email) if email else None

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self._get("checkout.session", session_id)
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.", param="session")
        return session

    @staticmethod
    def _success_url(session: dict[str, Any]) -> str:
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", str(session["id"]))

    def _complete(self, session: dict[str, Any], email: str, name: str | None, payment_status: str) -> None:
        session.update(
            status="complete",
            payment_status=payment_status,
            url=None,
            customer_details={
                "address": None,
                "email": email,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        self._emit("checkout.session.completed", session, NO_REQUEST)

    def pay(self, session_id: str, card: Card, email: str, name: str | None) -> PaymentOutcome:
        """The customer confirms the hosted page (payment mode) with ``card``: charge it, then
        complete the session or record the decline. The caller checked that the session is open."""
        with self.lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session)
            method = self._new_payment_method(card, email, name)
            decline = card.decline
            if decline is not None:
                self._decline(intent, method, decline, NO_REQUEST)
                return PaymentOutcome(paid=False, decline_message=decline.message)
            charge = self._succeed(intent, method, NO_REQUEST)
            self._complete(session, email, name, "paid")
            reason = card.dispute_reason
            if reason is not None:
                self._open_dispute(charge, reason)
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def pay_debit(
        self, session_id: str, account: BankAccount, email: str, name: str, acceptance: Acceptance
    ) -> PaymentOutcome:
        """The customer confirms the hosted page (payment mode) with a bank account and accepts
        the mandate: the PaymentIntent is ``processing`` with a ``pending`` charge and the session
        completes unpaid (``payment_intent.processing``, ``charge.pending``,
        ``checkout.session.completed``); the bank answers when the debit settles (`settle_due`)."""
        with self.lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session)
            method = self._new_payment_method(account, email, name)
            single_use = {"amount": intent["amount"], "currency": intent["currency"]}
            mandate = self._new_mandate(method, acceptance, single_use)
            self._start_debit(intent, method, mandate, NO_REQUEST)
            self._complete(session, email, name, "unpaid")
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def save(
        self, session_id: str, instrument: Instrument, email: str, name: str | None, acceptance: Acceptance
    ) -> PaymentOutcome:
        """The customer confirms the hosted page of a setup-mode session: a SetupIntent saves the
        card or account (with a multi-use mandate for a debit) and attaches it to the session's
        customer (``setup_intent.created``, ``setup_intent.succeeded``, ``payment_method.attached``,
        ``checkout.session.completed``). A card the issuer refuses records the refusal
        (``setup_intent.setup_failed``) and the session stays open."""
        with self.lock:
            session = self._open_session(session_id)
            setup = self._setup_intent_for(session)
            method = self._new_payment_method(instrument, email, name)
            decline = instrument.setup_decline if isinstance(instrument, Card) else None
            if decline is not None:
                error = self._payment_error(None, method, decline.code, decline.message, "card_error")
                error["decline_code"] = decline.decline_code
                setup.update(status="requires_payment_method", last_setup_error=dict(sorted(error.items())))
                self._emit("setup_intent.setup_failed", setup, NO_REQUEST)
                return PaymentOutcome(paid=False, decline_message=decline.message)
            mandate = None if isinstance(instrument, Card) else self._new_mandate(method, acceptance, None)
            customer = session["customer"]
            method["customer"] = customer
            setup.update(
                status="succeeded", payment_method=method["id"], mandate=mandate, last_setup_error=None
            )
            self._emit("setup_intent.succeeded", setup, NO_REQUEST)
            if customer is not None:
                self._emit("payment_method.attached", method, NO_REQUEST)
            self._complete(session, email, name, "no_payment_required")
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def _intent_for(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session's PaymentIntent, created (``payment_intent.created``) at the first attempt."""
        if session["payment_intent"] is not None:
            return self._objects[session["payment_intent"]]
        data = self._intent_data[session["id"]]
        intent = self._new_intent(
            amount=int(session["amount_total"]),
            currency=str(session["currency"]),
            customer=session["customer"],
            description=data["description"],
            metadata=data["metadata"],
            methods=list(session["payment_method_types"]),
            allowed=session["allowed_payment_method_types"],
        )
        session["payment_intent"] = intent["id"]
        self._emit("payment_intent.created", intent, NO_REQUEST)
        return intent

    def _new_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        description: str | None,
        metadata: dict[str, str],
        methods: list[str],
        allowed: list[str] | None = None,
        payment_method: str | None = None,
        statement_descriptor_suffix: str | None = None,
    ) -> dict[str, Any]:
        intent_id = new_id("pi_")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "allowed_payment_method_types": None if allowed is None else list(allowed),
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": currency,
            "customer": customer,
            "description": description,
            "invoice": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": copy.deepcopy(metadata),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": payment_method,
            "payment_method_types": methods,
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": statement_descriptor_suffix,
            "status": "requires_confirmation" if payment_method is not None else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._objects[intent_id] = intent
        return intent

    def _setup_intent_for(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session's SetupIntent, created (``setup_intent.created``) at the first attempt."""
        if session["setup_intent"] is not None:
            return self._objects[session["setup_intent"]]
        setup_id = new_id("seti_")
        data = self._setup_data[session["id"]]
        setup: dict[str, Any] = {
            "id": setup_id,
            "object": "setup_intent",
            "allowed_payment_method_types": session["allowed_payment_method_types"],
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{setup_id}_secret_{new_id('', 25)}",
            "created": self.now(),
            "customer": session["customer"],
            "description": data["description"],
            "flow_directions": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": False,
            "mandate": None,
            "metadata": copy.deepcopy(data["metadata"]),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {},
            "payment_method_types": list(session["payment_method_types"]),
            "single_use_mandate": None,
            "status": "requires_payment_method",
            "usage": "off_session",
        }
        self._objects[setup_id] = setup
        session["setup_intent"] = setup_id
        self._emit("setup_intent.created", setup, NO_REQUEST)
        return setup

    # -- payment methods, mandates, charges -------------------------------------------------

    def _new_payment_method(
        self, instrument: Instrument, email: str | None, name: str | None, customer: str | None = None
    ) -> dict[str, Any]:
        method: dict[str, Any] = {
            "id": new_id("pm_"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": _billing_details(email, name),
            "created": self.now(),
            "customer": customer,
            "livemode": False,
            "metadata": {},
            "type": instrument.kind,
            instrument.kind: instrument.payment_method_details(),
        }
        self._objects[method["id"]] = method
        self._instruments[method["id"]] = instrument
        return method

    def _new_mandate(
        self, method: dict[str, Any], acceptance: Acceptance, single_use: dict[str, Any] | None
    ) -> str:
        """A mandate accepted online for a debit method: single-use for one payment (its amount),
        multi-use (kept for later off-session debits) when saved."""
        mandate_id = new_id("mandate_")
        kind = str(method["type"])
        if kind == "sepa_debit":
            reference = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
            details: dict[str, Any] = {
                "reference": reference,
                "url": f"{self._base_url()}/mandates/{mandate_id}",
            }
        else:
            details = {"collection_method": None}
        mandate: dict[str, Any] = {
            "id": mandate_id,
            "object": "mandate",
            "customer_acceptance": {
                "accepted_at": self.now(),
                "online": {"ip_address": acceptance.ip_address, "user_agent": acceptance.user_agent},
                "type": "online",
            },
            "livemode": False,
            "multi_use": {} if single_use is None else None,
            "on_behalf_of": None,
            "payment_method": method["id"],
            "payment_method_details": {"type": kind, kind: details},
            "single_use": single_use,
            "status": "active",
            "type": "multi_use" if single_use is None else "single_use",
        }
        self._objects[mandate_id] = mandate
        if single_use is None:
            self._mandates[method["id"]] = mandate_id
        return mandate_id

    def _charge(
        self,
        intent: dict[str, Any],
        method: dict[str, Any],
        status: str,
        *,
        decline: Decline | None = None,
        mandate: str | None = None,
    ) -> dict[str, Any]:
        """A charge of ``intent`` with ``method``: ``succeeded``, ``failed`` (a card ``decline``)
        or ``pending`` (a debit under ``mandate``)."""
        instrument = self._instruments[method["id"]]
        kind = str(method["type"])
        paid = status == "succeeded"
        risk = "normal" if kind == "card" else "not_assessed"
        charge: dict[str, Any] = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if paid else 0,
            "amount_refunded": 0,
            "billing_details": copy.deepcopy(method["billing_details"]),
            "captured": paid,
            "created": self.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_code": None if decline is None else decline.code,
            "failure_message": None if decline is None else decline.message,
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "outcome": _approved(risk) if decline is None else _card_declined(decline),
            "paid": paid,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {"type": kind, kind: instrument.charge_details(mandate)},
            "receipt_email": None,
            "refunded": False,
            "status": status,
        }
        self._objects[charge["id"]] = charge
        return charge

    @staticmethod
    def _payment_error(
        charge: dict[str, Any] | None, method: dict[str, Any], code: str, message: str, error_type: str
    ) -> dict[str, Any]:
        """A ``last_payment_error`` / ``last_setup_error``: the error with the payment method."""
        error: dict[str, Any] = {} if charge is None else {"charge": charge["id"]}
        error.update(
            code=code,
            doc_url=_doc_url(code),
            message=message,
            payment_method=copy.deepcopy(method),
            payment_method_type=method["type"],
            type=error_type,
        )
        return error

    def _succeed(
        self, intent: dict[str, Any], method: dict[str, Any], request: RequestInfo
    ) -> dict[str, Any]:
        """A card pays ``intent`` at once: ``charge.succeeded``, ``payment_intent.succeeded``."""
        charge = self._charge(intent, method, "succeeded")
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            payment_method=method["id"],
        )
        self._emit("charge.succeeded", charge, request)
        self._emit("payment_intent.succeeded", intent, request)
        return charge

    def _decline(
        self, intent: dict[str, Any], method: dict[str, Any], decline: Decline, request: RequestInfo
    ) -> dict[str, Any]:
        """The issuer declines a card charge: the failed charge, the intent back to
        ``requires_payment_method`` (``charge.failed``, ``payment_intent.payment_failed``)."""
        charge = self._charge(intent, method, "failed", decline=decline)
        error = self._payment_error(charge, method, decline.code, decline.message, "card_error")
        error["decline_code"] = decline.decline_code
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            last_payment_error=dict(sorted(error.items())),
        )
        self._emit("charge.failed", charge, request)
        self._emit("payment_intent.payment_failed", intent, request)
        return charge

    def _start_debit(
        self, intent: dict[str, Any], method: dict[str, Any], mandate: str, request: RequestInfo
    ) -> dict[str, Any]:
        """Submit a debit: the intent ``processing``, a ``pending`` charge that settles
        ``debit_settlement_seconds`` later (``payment_intent.processing``, ``charge.pending``)."""
        charge = self._charge(intent, method, "pending", mandate=mandate)
        intent.update(
            status="processing",
            latest_charge=charge["id"],
            last_payment_error=None,
            payment_method=method["id"],
        )
        self._emit("payment_intent.processing", intent, request)
        self._emit("charge.pending", charge, request)
        self._pending[charge["id"]] = self.now() + self.debit_settlement_seconds
        return charge

    # -- settlement --------------------------------------------------------------------------

    def settle_due(self) -> int:
        """Settle every pending debit whose time has come by the clock, oldest first, as the bank
        answers for its test number; the number settled. Paid: ``charge.succeeded``,
        ``payment_intent.succeeded`` (and ``checkout.session.async_payment_succeeded`` for a
        Checkout payment; a dispute follows for the dispute numbers). Refused: ``charge.failed``,
        ``payment_intent.payment_failed`` (and ``checkout.session.async_payment_failed``)."""
        with self.lock:
            now = self.now()
            due = [charge_id for charge_id, settles_at in self._pending.items() if settles_at <= now]
            for charge_id in due:
                del self._pending[charge_id]
                self._settle(self._objects[charge_id])
            return len(due)

    def _settle(self, charge: dict[str, Any]) -> None:
        intent = self._objects[charge["payment_intent"]]
        method = self._objects[charge["payment_method"]]
        account = self._instruments[method["id"]]
        assert not isinstance(account, Card), "only debits are pending"
        outcome = account.outcome
        session = next(
            (s for s in self._all("checkout.session") if s["payment_intent"] == intent["id"]), None
        )
        if outcome.failure is not None:
            self._fail_debit(charge, intent, method, session, outcome.failure)
            return
        charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"])
        self._emit("charge.succeeded", charge, NO_REQUEST)
        intent.update(status="succeeded", amount_received=intent["amount"])
        self._emit("payment_intent.succeeded", intent, NO_REQUEST)
        if session is not None:
            session["payment_status"] = "paid"
            self._emit("checkout.session.async_payment_succeeded", session, NO_REQUEST)
        if outcome.dispute_reason is not None:
            self._open_dispute(charge, outcome.dispute_reason, final=True)

    def _fail_debit(
        self,
        charge: dict[str, Any],
        intent: dict[str, Any],
        method: dict[str, Any],
        session: dict[str, Any] | None,
        failure: DebitFailure,
    ) -> None:
        charge.update(
            status="failed",
            failure_code=failure.code,
            failure_message=failure.message,
            outcome=_declined(failure.code, failure.message, "not_assessed"),
        )
        self._emit("charge.failed", charge, NO_REQUEST)
        error = self._payment_error(charge, method, failure.code, failure.message, "invalid_request_error")
        intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
        self._emit("payment_intent.payment_failed", intent, NO_REQUEST)
        if session is not None:
            self._emit("checkout.session.async_payment_failed", session, NO_REQUEST)

    # -- customers and their payment methods -------------------------------------------------

    def create_customer(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/customers``: ``email``, ``name``, ``description``, ``metadata``,
        ``preferred_locales``; emits ``customer.created``."""
        with self.lock:
            email = forms.string(params, "email")
            if email is not None and not _EMAIL.match(email):
                raise FormError(f"Invalid email address: {email}", "email", "email_invalid")
            customer: dict[str, Any] = {
                "id": new_id("cus_", 14),
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": self.now(),
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": forms.string(params, "description"),
                "discount": None,
                "email": email,
                "invoice_prefix": "".join(
                    secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
                ),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": _metadata(forms.mapping(params, "metadata"), "metadata"),
                "name": forms.string(params, "name"),
                "next_invoice_sequence": 1,
                "phone": None,
                "preferred_locales": forms.strings(params, "preferred_locales"),
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
            self._objects[customer["id"]] = customer
            self._emit("customer.created", customer, request)
            return copy.deepcopy(customer)

    def list_customer_payment_methods(self, customer_id: str, params: Params) -> dict[str, Any]:
        """``GET /v1/customers/{id}/payment_methods``: the attached methods, newest first,
        optionally of one ``type``."""
        with self.lock:
            self._get("customer", customer_id)
            kind = forms.string(params, "type")
            items = [
                m
                for m in self._all("payment_method")
                if m["customer"] == customer_id and (kind is None or m["type"] == kind)
            ]
            return self.page(items, params, f"/v1/customers/{customer_id}/payment_methods")

    def detach_payment_method(self, method_id: str, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/payment_methods/{id}/detach``: the method leaves its customer (and its
        mandate ends); emits ``payment_method.detached``."""
        with self.lock:
            method = self._get("payment_method", method_id)
            customer = method["customer"]
            if customer is None:
                raise StripeError(
                    400,
                    "The payment method you provided is not attached to a customer so detachment is "
                    "impossible.",
                    param="payment_method",
                )
            method["customer"] = None
            mandate_id = self._mandates.pop(method_id, None)
            if mandate_id is not None:
                self._objects[mandate_id]["status"] = "inactive"
            self._emit("payment_method.detached", method, request, {"customer": customer})
            return copy.deepcopy(method)

    # -- PaymentIntents by API (off-session charges) -----------------------------------------

    def create_payment_intent(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/payment_intents`` (``payment_intent.created``). With ``confirm`` it charges
        the saved ``payment_method`` of ``customer`` at once: a card succeeds or is declined (a
        402 ``card_error`` carrying the PaymentIntent, as Stripe answers); a saved debit goes to
        ``processing`` and settles later, as Checkout debits do. ``payment_method_types`` is a
        400 ``payment_method_types_no_longer_supported`` from 2026-09-30.endive on."""
        _refuse_payment_method_types(params, request, intent=True)
        with self.lock:
            amount, currency = self._intent_amount(params)
            customer = forms.string(params, "customer")
            if customer is not None:
                self._get("customer", customer, 400, "customer")
            method_id = forms.string(params, "payment_method")
            method = (
                None if method_id is None else self._get("payment_method", method_id, 400, "payment_method")
            )
            methods, allowed = _method_types(
                params, currency, intent=True, default=method["type"] if method else "card"
            )
            confirm = forms.boolean(params, "confirm") is True
            if forms.boolean(params, "off_session") is not None and not confirm:
                raise FormError(
                    "The parameter `off_session` can only be used with `confirm=true`.", "off_session"
                )
            suffix = forms.string(params, "statement_descriptor_suffix")
            if suffix is not None and len(suffix) > 22:
                raise FormError(
                    "Invalid string: statement_descriptor_suffix must be at most 22 characters.",
                    "statement_descriptor_suffix",
                    "parameter_invalid_string",
                )
            if method is not None:
                self._check_intent_method(method, customer, methods, confirm=confirm)
            elif confirm:
                self._refuse_missing_method(customer)
            intent = self._new_intent(
                amount=amount,
                currency=currency,
                customer=customer,
                description=forms.string(params, "description"),
                metadata=_metadata(forms.mapping(params, "metadata"), "metadata"),
                methods=methods,
                allowed=allowed,
                payment_method=method_id,
                statement_descriptor_suffix=suffix,
            )
            self._emit("payment_intent.created", intent, request)
            if confirm and method is not None:
                self._confirm(intent, method, request)
            return copy.deepcopy(intent)

    @staticmethod
    def _intent_amount(params: Params) -> tuple[int, str]:
        amount = forms.to_int(forms.required_string(params, "amount"), "amount")
        currency = _currency(forms.required_string(params, "currency"), "currency")
        if amount < 1:
            raise FormError(_MINIMUM_AMOUNT, "amount", "parameter_invalid_integer")
        minimum = MINIMUM_CHARGE_AMOUNTS.get(currency)
        if minimum is not None and amount < minimum:
            raise StripeError(
                400,
                f"Amount must be at least {format_amount(minimum, currency)} {currency}",
                param="amount",
                code="amount_too_small",
            )
        return amount, currency

    def _check_intent_method(
        self, method: dict[str, Any], customer: str | None, methods: list[str], *, confirm: bool
    ) -> None:
        """Stripe's rules for a PaymentIntent's ``payment_method``: saved to a customer (a used or
        detached one cannot be reused), to this intent's customer, of an allowed type, and for a
        debit with an active mandate."""
        method_id, owner, kind = method["id"], method["customer"], method["type"]
        if owner is None:
            raise StripeError(400, _PREVIOUSLY_USED, param="payment_method")
        if customer is None:
            raise StripeError(
                400,
                f"The `payment_method` parameter supplied {method_id} belongs to the Customer {owner}. "
                "Please include the Customer in the `customer` parameter on the PaymentIntent.",
                param="source",
                code="parameter_missing",
            )
        if owner != customer:
            raise StripeError(
                400,
                f"The PaymentMethod {method_id} does not belong to the Customer you supplied {customer}. "
                "Please use this PaymentMethod with the Customer that it belongs to instead.",
                param="payment_method",
            )
        if kind not in methods:
            raise StripeError(
                400,
                f"The PaymentMethod provided ({kind}) is not allowed for this PaymentIntent. Please attach a "
                f"PaymentMethod of one of the following types: {', '.join(methods)}. Alternatively, update "
                f'the allowed payment_method_types for this PaymentIntent to include "{kind}".',
                param="payment_method",
            )
        if confirm and kind != "card" and method_id not in self._mandates:
            raise StripeError(400, _MANDATE_MISSING, param="mandate_data")

    @staticmethod
    def _refuse_missing_method(customer: str | None) -> None:
        if customer is not None:
            message = (
                "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the "
                f"PaymentIntent with {customer}, specify a payment method attached to this customer along "
                "with the customer ID."
            )
        else:
            message = (
                "You cannot confirm this PaymentIntent because it's missing a payment method. You can either "
                "update the PaymentIntent with a payment method and then confirm it again, or confirm it "
                "again directly with a payment method or ConfirmationToken."
            )
        raise StripeError(400, message, code="payment_intent_unexpected_state")

    def _confirm(self, intent: dict[str, Any], method: dict[str, Any], request: RequestInfo) -> None:
        """Charge ``method`` for ``intent``: a card pays or is declined (raising the 402 after the
        decline is recorded); a debit is submitted under the method's mandate."""
        instrument = self._instruments[method["id"]]
        if not isinstance(instrument, Card):
            self._start_debit(intent, method, self._mandates[method["id"]], request)
            return
        decline = instrument.decline
        if decline is not None:
            charge = self._decline(intent, method, decline, request)
            raise StripeError(
                402,
                decline.message,
                error_type="card_error",
                code=decline.code,
                decline_code=decline.decline_code,
                extra={
                    "charge": charge["id"],
                    "payment_intent": copy.deepcopy(intent),
                    "payment_method": copy.deepcopy(method),
                },
            )
        charge = self._succeed(intent, method, request)
        reason = instrument.dispute_reason
        if reason is not None:
            self._open_dispute(charge, reason)

    # -- disputes ------------------------------------------------------------------------------

    def _open_dispute(self, charge: dict[str, Any], reason: str, *, final: bool = False) -> None:
        """The customer disputes ``charge`` (``charge.dispute.created``). A card dispute awaits
        the merchant's evidence; a bank debit's dispute is ``final``: Stripe closes it as lost at
        once (``charge.dispute.closed``), there is no appeal."""
        now = self.now()
        dispute: dict[str, Any] = {
            "id": new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": now,
            "currency": charge["currency"],
            "evidence": dict.fromkeys(DISPUTE_EVIDENCE_FIELDS),
            "evidence_details": {
                "due_by": now + DISPUTE_RESPONSE_WINDOW,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
        if final:
            dispute["status"] = "lost"
            dispute["evidence_details"]["due_by"] = None
        charge["disputed"] = True
        self._objects[dispute["id"]] = dispute
        self._emit("charge.dispute.created", dispute, NO_REQUEST)
        if final:
            self._emit("charge.dispute.closed", dispute, NO_REQUEST)

    def update_dispute(self, dispute_id: str, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/disputes/{id}``: stage or submit evidence (``submit`` defaults to true), or
        change metadata. In test mode ``uncategorized_text`` ``winning_evidence`` wins the
        dispute and ``losing_evidence`` loses it."""
        with self.lock:
            dispute = self._get("dispute", dispute_id)
            before = copy.deepcopy(dispute)
            evidence = forms.obj(params, "evidence")
            submit_flag = forms.boolean(params, "submit")
            touches_evidence = "evidence" in params or submit_flag is not None
            if touches_evidence and dispute["status"] not in _OPEN_DISPUTE:
                raise StripeError(
                    400,
                    f"This dispute is {dispute['status'].replace('_', ' ')}: its evidence can no longer be "
                    "updated or submitted.",
                    param="evidence",
                )
            for key, value in evidence.items():
                if not isinstance(value, str):
                    raise FormError("Invalid string", f"evidence[{key}]", "parameter_invalid_string")
                dispute["evidence"][key] = value or None
            if "metadata" in params:
                merged = {**dispute["metadata"], **forms.mapping(params, "metadata")}
                dispute["metadata"] = _metadata(merged, "metadata")
            details = dispute["evidence_details"]
            details["has_evidence"] = any(v is not None for v in dispute["evidence"].values())
            verdict: str | None = None
            if touches_evidence and submit_flag is not False:
                details["submission_count"] += 1
                dispute["status"] = "under_review"
                text = dispute["evidence"]["uncategorized_text"]
                verdict = {"winning_evidence": "won", "losing_evidence": "lost"}.get(text or "")
            previous = {k: v for k, v in before.items() if dispute[k] != v}
            self._emit("charge.dispute.updated", dispute, request, previous)
            if verdict is not None:
                dispute["status"] = verdict
                self._emit("charge.dispute.closed", dispute, request)
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/disputes/{id}/close``: accept the dispute, which is then lost."""
        with self.lock:
            dispute = self._get("dispute", dispute_id)
            if dispute["status"] not in _OPEN_DISPUTE:
                raise StripeError(
                    400,
                    f"This dispute is {dispute['status'].replace('_', ' ')} and can no longer be closed.",
                    param="dispute",
                )
            dispute["status"] = "lost"
            self._emit("charge.dispute.closed", dispute, request)
            return copy.deepcopy(dispute)

    # -- refunds -------------------------------------------------------------------------------

    def create_refund(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/refunds`` of a PaymentIntent's successful charge or of a charge: ``amount``
        defaults to what remains; emits ``refund.created`` then ``charge.refunded``."""
        with self.lock:
            charge = self._refundable_charge(params)
            remaining = int(charge["amount"]) - int(charge["amount_refunded"])
            currency = str(charge["currency"])
            if remaining <= 0:
                raise StripeError(
                    400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
                )
            amount_text = forms.string(params, "amount")
            amount = remaining if amount_text is None else forms.positive_int(amount_text, "amount")
            if amount > remaining:
                what = "charge amount" if remaining == charge["amount"] else "unrefunded amount on charge"
                raise StripeError(
                    400,
                    f"Refund amount ({format_amount(amount, currency)}) is greater than {what} "
                    f"({format_amount(remaining, currency)})",
                    param="amount",
                    code="amount_too_large",
                )
            reason = forms.string(params, "reason")
            if reason is not None and reason not in REFUND_REASONS:
                raise FormError(
                    "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", "reason"
                )
            refund: dict[str, Any] = {
                "id": new_id("re_"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": charge["id"],
                "created": self.now(),
                "currency": currency,
                "destination_details": _refund_destination(charge),
                "metadata": _metadata(forms.mapping(params, "metadata"), "metadata"),
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            self._objects[refund["id"]] = refund
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._emit("refund.created", refund, request)
            self._emit("charge.refunded", charge, request, previous)
            return copy.deepcopy(refund)

    def _refundable_charge(self, params: Params) -> dict[str, Any]:
        intent_id = forms.string(params, "payment_intent")
        charge_id = forms.string(params, "charge")
        if intent_id is None and charge_id is None:
            raise FormError(
                "One of the following params should be provided for this request: payment_intent or charge.",
                None,
                "parameter_missing",
            )
        charge: dict[str, Any] | None = None
        if charge_id is not None:
            charge = self._get("charge", charge_id, 400, "charge")
        if intent_id is not None:
            intent = self._get("payment_intent", intent_id, 400, "payment_intent")
            if charge is not None and charge["payment_intent"] != intent_id:
                raise StripeError(
                    400, f"Charge {charge_id} does not belong to PaymentIntent {intent_id}.", param="charge"
                )
            if charge is None:
                if intent["status"] != "succeeded" or intent["latest_charge"] is None:
                    raise StripeError(
                        400,
                        f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                        param="payment_intent",
                    )
                charge = self._objects[intent["latest_charge"]]
        assert charge is not None
        if charge["status"] != "succeeded":
            raise StripeError(
                400, f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge"
            )
        if charge["disputed"]:
            raise StripeError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        return charge

    # -- webhook endpoints ---------------------------------------------------------------------

    def add_endpoint(
        self,
        url: str,
        enabled_events: list[str],
        secret: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register a webhook endpoint; the result includes its ``secret`` (shown only now)."""
        with self.lock:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise FormError(f"Invalid URL: {url}", "url", "url_invalid")
            if not enabled_events:
                raise FormError(
                    "Missing required param: enabled_events.", "enabled_events", "parameter_missing"
                )
            for index, kind in enumerate(enabled_events):
                if kind != "*" and not _EVENT_TYPE.match(kind):
                    raise FormError(f"Invalid enabled_events[{index}]: {kind}", f"enabled_events[{index}]")
            if len(self._all("webhook_endpoint")) >= MAX_WEBHOOK_ENDPOINTS:
                raise StripeError(
                    400, f"You have reached the maximum of {MAX_WEBHOOK_ENDPOINTS} test webhook endpoints."
                )
            endpoint: dict[str, Any] = {
                "id": new_id("we_"),
                "object": "webhook_endpoint",
                "api_version": None,
                "application": None,
                "created": self.now(),
                "description": description,
                "enabled_events": list(enabled_events),
                "livemode": False,
                "metadata": _metadata(metadata or {}, "metadata"),
                "status": "enabled",
                "url": url,
            }
            signing_secret = secret or "whsec_" + new_id("", 32)
            self._objects[endpoint["id"]] = endpoint
            self._secrets[endpoint["id"]] = signing_secret
            return {**copy.deepcopy(endpoint), "secret": signing_secret}

    def list_endpoints(self, params: Params) -> dict[str, Any]:
        """``GET /v1/webhook_endpoints``, newest first."""
        with self.lock:
            return self.page(self._all("webhook_endpoint"), params, "/v1/webhook_endpoints")

    def delete_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        """``DELETE /v1/webhook_endpoints/{id}``: no further events are sent to it."""
        with self.lock:
            self._get("webhook_endpoint", endpoint_id)
            del self._objects[endpoint_id]
            del self._secrets[endpoint_id]
            return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
