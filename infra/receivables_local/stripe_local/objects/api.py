"""What every resource shares: the API version, ids, Stripe's errors and the request that caused
a change."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

API_VERSION = "2026-10-28.endive"
_ALNUM = string.ascii_letters + string.digits

# How "No such …" names each object, and the parameter Stripe blames.
_NOT_FOUND: dict[str, tuple[str, str]] = {
    "checkout.session": ("checkout.session", "session"),
    "payment_intent": ("payment_intent", "intent"),
    "setup_intent": ("setup_intent", "intent"),
    "customer": ("customer", "id"),
    "payment_method": ("PaymentMethod", "payment_method"),
    "mandate": ("mandate", "mandate"),
    "charge": ("charge", "id"),
    "refund": ("refund", "id"),
    "dispute": ("dispute", "dispute"),
    "event": ("event", "id"),
    "webhook_endpoint": ("webhook_endpoint", "webhook_endpoint"),
    "payout": ("payout", "payout"),
    "balance_transaction": ("balance_transaction", "id"),
}


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh random id: ``prefix`` then ``length`` letters and digits (``pi_3Qx…``)."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


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
    api_version: str = API_VERSION  # the request's ``Stripe-Version``, else the account's


NO_REQUEST = RequestInfo()
