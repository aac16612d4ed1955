"""The in-memory Stripe account: its objects, their state changes and the events they emit.

Objects are kept as the JSON dicts the API returns, shaped as Stripe's current API version
(`API_VERSION`): Checkout Sessions, PaymentIntents, Charges, Refunds, Disputes, Events and webhook
endpoints. References between them are ids (``PaymentIntent.latest_charge`` is ``"ch_…"``);
`Store.expand` replaces them with the objects for ``expand[]``.

Everything happens under one re-entrant lock, `Store.lock`; the HTTP layer holds it around a whole
idempotent request. Every state change that Stripe announces emits its event, in Stripe's order;
an event's ``data.object`` is a deep copy taken at that moment. Events are handed to ``on_event``
with the endpoints that listen to them (the webhook dispatcher queues them).

Card payments follow Stripe's test cards (`read_card`): 4242 4242 4242 4242 and any other valid
number succeed, 4000 0000 0000 0002 is declined (generic_decline), 4000 0000 0000 9995 lacks funds,
4000 0000 0000 0259 succeeds and is then disputed as fraudulent; the other decline cards of
Stripe's testing page (lost, stolen, expired, incorrect CVC, processing error) are declined too.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from receivables_local.stripe_local import forms
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
    "charge": frozenset({"payment_intent", "customer", "payment_method"}),
    "refund": frozenset({"charge", "payment_intent", "balance_transaction"}),
    "dispute": frozenset({"charge", "payment_intent"}),
}
# How "No such …" names each object, and the parameter Stripe blames.
_NOT_FOUND: dict[str, tuple[str, str]] = {
    "checkout.session": ("checkout.session", "session"),
    "payment_intent": ("payment_intent", "intent"),
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


NO_REQUEST = RequestInfo()


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
        """How the issuer declines this card, or None when it pays."""
        return TEST_DECLINES.get(self.number)

    @property
    def dispute_reason(self) -> str | None:
        """The reason of the dispute that follows a payment with this card, if any."""
        return TEST_DISPUTES.get(self.number)


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
    """What the customer's confirmation did: paid (and where to go) or declined (and why)."""

    paid: bool
    redirect_url: str | None = None
    decline_message: str | None = None


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


# -- the store -------------------------------------------------------------------------------------


class Store:
    """Every object of the local account, with the operations of the API and the hosted page."""

    def __init__(
        self,
        clock: Callable[[], float],
        base_url: Callable[[], str],
        on_event: Callable[[dict[str, Any], list[Target]], None],
    ) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._base_url = base_url
        self._on_event = on_event
        self._objects: dict[str, dict[str, Any]] = {}  # every object by id, in creation order
        self._events: list[dict[str, Any]] = []
        self._line_items: dict[str, list[dict[str, Any]]] = {}  # session id -> line items
        self._products: dict[str, dict[str, Any]] = {}  # product id -> name, description, metadata
        self._intent_data: dict[str, dict[str, Any]] = {}  # session id -> payment_intent_data
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
        """``POST /v1/checkout/sessions`` in payment mode with inline prices (``price_data``)."""
        with self.lock:
            now = self.now()
            mode = forms.required_string(params, "mode")
            if mode not in ("payment", "setup", "subscription"):
                raise FormError("Invalid mode: must be one of payment, setup, or subscription", "mode")
            if mode != "payment":
                raise StripeError(
                    400, f"The local Stripe server supports mode=payment only, not mode={mode}.", param="mode"
                )
            success_url = _url(params, "success_url", required=True)
            cancel_url = _url(params, "cancel_url", required=False)
            session_id = new_id("cs_test_", 58)
            items, currency = self._line_items_of(params, session_id, now)
            total = sum(int(item["amount_total"]) for item in items)
            expires_at = forms.integer(params, "expires_at")
            if expires_at is None:
                expires_at = now + SESSION_DEFAULT_LIFETIME
            elif expires_at - now < SESSION_MIN_LIFETIME:
                raise FormError(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    "expires_at",
                    "parameter_invalid_integer",
                )
            elif expires_at - now > SESSION_DEFAULT_LIFETIME:
                raise FormError(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    "expires_at",
                    "parameter_invalid_integer",
                )
            email = forms.string(params, "customer_email")
            if email is not None and not _EMAIL.match(email):
                raise FormError(f"Invalid email address: {email}", "customer_email", "email_invalid")
            reference = forms.string(params, "client_reference_id")
            if reference is not None and len(reference) > 200:
                raise FormError(
                    "Invalid string: client_reference_id must be at most 200 characters.",
                    "client_reference_id",
                    "parameter_invalid_string",
                )
            locale = forms.string(params, "locale")
            if locale is not None and locale not in CHECKOUT_LOCALES:
                raise FormError(
                    f"Invalid locale: must be one of {', '.join(sorted(CHECKOUT_LOCALES))}", "locale"
                )
            methods = forms.strings(params, "payment_method_types") or ["card"]
            for index, method in enumerate(methods):
                if method != "card":
                    raise StripeError(
                        400,
                        f"The payment method type {method!r} is not supported by the local Stripe server, "
                        "which takes cards only.",
                        param=f"payment_method_types[{index}]",
                    )
            intent_params = forms.obj(params, "payment_intent_data")
            self._intent_data[session_id] = {
                "metadata": _metadata(
                    forms.mapping(intent_params, "metadata"), "payment_intent_data[metadata]"
                ),
                "description": forms.string(intent_params, "description"),
            }
            session: dict[str, Any] = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": cancel_url,
                "client_reference_id": reference,
                "created": now,
                "currency": currency,
                "customer": None,
                "customer_details": None,
                "customer_email": email,
                "expires_at": expires_at,
                "invoice": None,
                "livemode": False,
                "locale": locale,
                "metadata": _metadata(forms.mapping(params, "metadata"), "metadata"),
                "mode": "payment",
                "payment_intent": None,
                "payment_link": None,
                "payment_method_types": methods,
                "payment_status": "unpaid",
                "setup_intent": None,
                "status": "open",
                "submit_type": None,
                "subscription": None,
                "success_url": success_url,
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": "hosted_page",
                "url": f"{self._base_url()}/c/pay/{session_id}",
            }
            self._line_items[session_id] = items
            self._objects[session_id] = session
            return copy.deepcopy(session)

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
        """The session expires; a PaymentIntent left unpaid by a declined card is canceled."""
        intent_id = session["payment_intent"]
        if intent_id is not None:
            intent = self._objects[intent_id]
            if intent["status"] == "requires_payment_method":
                intent.update(status="canceled", canceled_at=self.now(), cancellation_reason="automatic")
                self._emit("payment_intent.canceled", intent, request)
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, request)

    # -- the customer pays ---------------------------------------------------------------------

    def pay(self, session_id: str, card: Card, email: str, name: str | None) -> PaymentOutcome:
        """The customer confirms the hosted page with ``card``: charge it, then complete the
        session or record the decline. The caller checked that the session is open."""
        with self.lock:
            session = self._get("checkout.session", session_id)
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session is {session['status']}.", param="session")
            intent = self._intent_for(session)
            charge = self._charge(intent, card, email, name)
            decline = card.decline
            if decline is not None:
                intent.update(
                    status="requires_payment_method",
                    latest_charge=charge["id"],
                    payment_method=None,
                    last_payment_error={
                        "charge": charge["id"],
                        "code": decline.code,
                        "decline_code": decline.decline_code,
                        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
                        "message": decline.message,
                        "payment_method": copy.deepcopy(self._objects[charge["payment_method"]]),
                        "type": "card_error",
                    },
                )
                self._emit("charge.failed", charge, NO_REQUEST)
                self._emit("payment_intent.payment_failed", intent, NO_REQUEST)
                return PaymentOutcome(paid=False, decline_message=decline.message)
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
                payment_method=charge["payment_method"],
            )
            self._emit("charge.succeeded", charge, NO_REQUEST)
            self._emit("payment_intent.succeeded", intent, NO_REQUEST)
            session.update(
                status="complete",
                payment_status="paid",
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
            reason = card.dispute_reason
            if reason is not None:
                self._open_dispute(charge, reason)
            redirect = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
            return PaymentOutcome(paid=True, redirect_url=redirect)

    def _intent_for(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session's PaymentIntent, created (``payment_intent.created``) at the first attempt."""
        if session["payment_intent"] is not None:
            return self._objects[session["payment_intent"]]
        intent_id = new_id("pi_")
        data = self._intent_data[session["id"]]
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
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
            "currency": session["currency"],
            "customer": None,
            "description": data["description"],
            "invoice": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": copy.deepcopy(data["metadata"]),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_types": list(session["payment_method_types"]),
            "processing": None,
            "receipt_email": None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._objects[intent_id] = intent
        session["payment_intent"] = intent_id
        self._emit("payment_intent.created", intent, NO_REQUEST)
        return intent

    def _charge(self, intent: dict[str, Any], card: Card, email: str, name: str | None) -> dict[str, Any]:
        decline = card.decline
        paid = decline is None
        if decline is None:
            outcome = {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "seller_message": "Payment complete.",
                "type": "authorized",
            }
        else:
            outcome = {
                "network_status": "declined_by_network",
                "reason": decline.decline_code,
                "risk_level": "normal",
                "seller_message": (
                    "The bank did not return any further details with this decline."
                    if decline is _GENERIC
                    else f"The bank returned the decline code `{decline.decline_code}`."
                ),
                "type": "issuer_declined",
            }
        charge: dict[str, Any] = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if paid else 0,
            "amount_refunded": 0,
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": email,
                "name": name,
                "phone": None,
            },
            "captured": paid,
            "created": self.now(),
            "currency": intent["currency"],
            "customer": None,
            "description": intent["description"],
            "disputed": False,
            "failure_code": None if decline is None else decline.code,
            "failure_message": None if decline is None else decline.message,
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "outcome": outcome,
            "paid": paid,
            "payment_intent": intent["id"],
            "payment_method": new_id("pm_"),
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": card.brand,
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": "US",
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "funding": "credit",
                    "last4": card.last4,
                    "network": card.brand,
                },
            },
            "receipt_email": None,
            "refunded": False,
            "status": "succeeded" if paid else "failed",
        }
        self._objects[charge["id"]] = charge
        self._objects[charge["payment_method"]] = self._payment_method(charge)
        return charge

    @staticmethod
    def _payment_method(charge: dict[str, Any]) -> dict[str, Any]:
        card = charge["payment_method_details"]["card"]
        return {
            "id": charge["payment_method"],
            "object": "payment_method",
            "billing_details": copy.deepcopy(charge["billing_details"]),
            "card": {k: card[k] for k in ("brand", "country", "exp_month", "exp_year", "funding", "last4")},
            "created": charge["created"],
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }

    # -- disputes ------------------------------------------------------------------------------

    def _open_dispute(self, charge: dict[str, Any], reason: str) -> None:
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
        charge["disputed"] = True
        self._objects[dispute["id"]] = dispute
        self._emit("charge.dispute.created", dispute, NO_REQUEST)

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
                "destination_details": {
                    "card": {"reference_status": "pending", "reference_type": "acquirer_reference_number"},
                    "type": "card",
                },
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
