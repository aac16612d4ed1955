"""The store's core: its state (every object by id, in creation order), the lock and the clock,
reading and listing (pagination, ``expand[]``) and the emission of events to the webhook endpoints."""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects.api import (
    API_VERSION,
    RequestInfo,
    StripeError,
    new_id,
    not_found,
)
from receivables_local.stripe_local.webhooks import Target, matches

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.cards import Instrument

DEBIT_SETTLEMENT_SECONDS = 2 * 24 * 3600  # how long a debit stays pending before the bank answers

# Fields that hold an id (or null) which expand[] may replace with the object.
_EXPANDABLE: dict[str, frozenset[str]] = {
    "checkout.session": frozenset(
        {"payment_intent", "customer", "invoice", "payment_link", "setup_intent", "subscription"}
    ),
    "payment_intent": frozenset({"latest_charge", "customer", "payment_method", "invoice"}),
    "setup_intent": frozenset({"customer", "payment_method", "mandate", "latest_attempt"}),
    "payment_method": frozenset({"customer"}),
    "mandate": frozenset({"payment_method"}),
    "charge": frozenset({"payment_intent", "customer", "payment_method", "balance_transaction"}),
    "refund": frozenset({"charge", "payment_intent", "balance_transaction"}),
    "dispute": frozenset({"charge", "payment_intent"}),
    "balance_transaction": frozenset({"source"}),
    "payout": frozenset({"balance_transaction"}),
}


class StoreCore:
    """The state every resource works on, and what they share: reading, listing, events."""

    def __init__(
        self,
        clock: Callable[[], float],
        base_url: Callable[[], str],
        on_event: Callable[[dict[str, Any], list[Target]], None],
        *,
        debit_settlement_seconds: int = DEBIT_SETTLEMENT_SECONDS,
        automatic_payouts: bool = False,
        payout_delay_seconds: int = 2 * 24 * 3600,
    ) -> None:
        if debit_settlement_seconds < 0 or payout_delay_seconds < 0:
            raise ValueError("debit_settlement_seconds and payout_delay_seconds must not be negative")
        self.lock = threading.RLock()
        self.debit_settlement_seconds = debit_settlement_seconds
        self.automatic_payouts = automatic_payouts  # `balance`: paid out on the clock, when on
        self.payout_delay_seconds = payout_delay_seconds
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
        self._payout_of: dict[str, str] = {}  # balance transaction id -> the payout that took it
        self._carried: set[str] = set()  # available, but its currency's balance was not positive

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
