"""Customers."""

from __future__ import annotations

import copy
import secrets
import string
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import new_id
from receivables_local.stripe_local.objects.core import StoreCore

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo


class Customers(StoreCore):
    """``POST /v1/customers``."""

    def create_customer(self, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/customers``: ``email``, ``name``, ``description``, ``metadata``,
        ``preferred_locales``; emits ``customer.created``."""
        with self.lock:
            email = forms.string(params, "email")
            if email is not None and not checks.EMAIL.match(email):
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
                "metadata": checks.metadata(forms.mapping(params, "metadata"), "metadata"),
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
