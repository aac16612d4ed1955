"""PaymentMethods (a card or bank account, saved to a customer or used once) and the debit
mandates the customer accepts for them."""

from __future__ import annotations

import copy
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.objects.api import StripeError, new_id
from receivables_local.stripe_local.objects.core import StoreCore

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo
    from receivables_local.stripe_local.objects.cards import Instrument


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The customer's online acceptance of a debit mandate: where it came from."""

    ip_address: str | None = None
    user_agent: str | None = None


def _billing_details(email: str | None, name: str | None) -> dict[str, Any]:
    address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
    return {"address": address, "email": email, "name": name, "phone": None}


class PaymentMethods(StoreCore):
    """Payment methods, their customers and their mandates."""

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
