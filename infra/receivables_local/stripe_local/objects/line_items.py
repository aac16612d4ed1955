"""A Checkout Session's line items, with the inline prices (``price_data``) and products
(``product_data``) they are made of."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import StripeError, new_id
from receivables_local.stripe_local.objects.core import StoreCore

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params

MAX_LINE_ITEMS = 100


class LineItems(StoreCore):
    """Line items, prices and products of Checkout Sessions."""

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
        currency = checks.currency_code(
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
            "metadata": checks.metadata(
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
