"""Refunds of a successful charge, whole or in part."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import StripeError, new_id
from receivables_local.stripe_local.objects.balance import Balance
from receivables_local.stripe_local.objects.money import format_amount

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


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


class Refunds(Balance):
    """``POST /v1/refunds``."""

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
                "metadata": checks.metadata(forms.mapping(params, "metadata"), "metadata"),
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            self._objects[refund["id"]] = refund
            self._refund_paid(refund)
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
