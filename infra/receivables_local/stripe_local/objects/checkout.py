"""Checkout Sessions (payment and setup mode): creation, listing, expiry."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import NO_REQUEST, StripeError, new_id
from receivables_local.stripe_local.objects.line_items import LineItems

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo

SESSION_DEFAULT_LIFETIME = 24 * 3600
SESSION_MIN_LIFETIME = 30 * 60
CHECKOUT_LOCALES = frozenset(
    "auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt "
    "pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW".split()
)


class CheckoutSessions(LineItems):
    """Checkout Sessions by API, and their expiry on the clock."""

    def create_session(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/checkout/sessions``: payment mode with inline prices (``price_data``), or
        setup mode (no line items) to save a payment method for later charges. The payment
        methods come from ``allowed_payment_method_types`` (``payment_method_types`` only before
        2026-09-30.endive: `takes_payment_method_types`)."""
        checks.refuse_payment_method_types(params, request, intent=False)
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
            success_url = checks.url(params, "success_url", required=True)
            cancel_url = checks.url(params, "cancel_url", required=False)
            session_id = new_id("cs_test_", 58)
            customer, email = self._session_customer(params)
            items, currency = self._session_items(params, mode, session_id, now)
            methods, allowed = checks.method_types(params, currency, intent=False)
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
                "metadata": checks.metadata(forms.mapping(params, "metadata"), "metadata"),
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
        if email is not None and not checks.EMAIL.match(email):
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
        currency = None if currency_text is None else checks.currency_code(currency_text, "currency")
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
                "metadata": checks.metadata(forms.mapping(data, "metadata"), f"{key}[metadata]"),
                "description": forms.string(data, "description"),
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
