"""SetupIntents: the one a setup-mode Checkout Session makes to save a payment method."""

from __future__ import annotations

import copy
from typing import Any

from receivables_local.stripe_local.objects.api import NO_REQUEST, new_id
from receivables_local.stripe_local.objects.core import StoreCore


class SetupIntents(StoreCore):
    """SetupIntents."""

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
