"""PaymentIntents: the one a Checkout Session makes, and those created by API (off-session charges
of a saved payment method)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import StripeError, new_id
from receivables_local.stripe_local.objects.cards import Card
from receivables_local.stripe_local.objects.charges import Charges
from receivables_local.stripe_local.objects.money import MINIMUM_CHARGE_AMOUNTS, format_amount

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo

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


class PaymentIntents(Charges):
    """PaymentIntents and their confirmation."""

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

    def create_payment_intent(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/payment_intents`` (``payment_intent.created``). With ``confirm`` it charges
        the saved ``payment_method`` of ``customer`` at once: a card succeeds or is declined (a
        402 ``card_error`` carrying the PaymentIntent, as Stripe answers); a saved debit goes to
        ``processing`` and settles later, as Checkout debits do. ``payment_method_types`` is a
        400 ``payment_method_types_no_longer_supported`` from 2026-09-30.endive on."""
        checks.refuse_payment_method_types(params, request, intent=True)
        with self.lock:
            amount, currency = self._intent_amount(params)
            customer = forms.string(params, "customer")
            if customer is not None:
                self._get("customer", customer, 400, "customer")
            method_id = forms.string(params, "payment_method")
            method = (
                None if method_id is None else self._get("payment_method", method_id, 400, "payment_method")
            )
            methods, allowed = checks.method_types(
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
                metadata=checks.metadata(forms.mapping(params, "metadata"), "metadata"),
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
        currency = checks.currency_code(forms.required_string(params, "currency"), "currency")
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
