"""Events (listing them, counting the webhooks still pending) and webhook endpoints."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import StripeError, new_id
from receivables_local.stripe_local.objects.core import StoreCore

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params

MAX_WEBHOOK_ENDPOINTS = 16
_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


class Events(StoreCore):
    """The account's events and the endpoints their webhooks go to."""

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
                "metadata": checks.metadata(metadata or {}, "metadata"),
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
