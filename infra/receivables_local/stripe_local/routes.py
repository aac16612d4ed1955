"""The API's route table: each ``/v1/…`` route with its method, its parameters' schema (what
`forms.conform` accepts; anything else is a 400 ``parameter_unknown``) and its handler, which
calls the `Store`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import MAP, STRING, STRINGS, SchemaNode
from receivables_local.stripe_local.objects import DISPUTE_EVIDENCE_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects import RequestInfo, Store

ID = r"([A-Za-z0-9_]+)"  # an object id in a path


class LocalStripe(Protocol):
    """What a route handler uses of the server (`server.LocalStripe`): its account's objects."""

    store: Store


_LIST: dict[str, SchemaNode] = {
    "limit": STRING,
    "starting_after": STRING,
    "ending_before": STRING,
    "expand": STRINGS,
}
_EXPAND: dict[str, SchemaNode] = {"expand": STRINGS}
_SESSION_CREATE: dict[str, SchemaNode] = {
    "mode": STRING,
    "line_items": [
        {
            "price": STRING,
            "quantity": STRING,
            "price_data": {
                "currency": STRING,
                "unit_amount": STRING,
                "product": STRING,
                "product_data": {"name": STRING, "description": STRING, "metadata": MAP},
            },
        }
    ],
    "customer": STRING,
    "customer_email": STRING,
    "currency": STRING,
    "client_reference_id": STRING,
    "metadata": MAP,
    "payment_intent_data": {"metadata": MAP, "description": STRING},
    "setup_intent_data": {"metadata": MAP, "description": STRING},
    "success_url": STRING,
    "cancel_url": STRING,
    "expires_at": STRING,
    "payment_method_types": STRINGS,
    "allowed_payment_method_types": STRINGS,
    "locale": STRING,
    "expand": STRINGS,
}
_SESSION_LIST: dict[str, SchemaNode] = {
    **_LIST,
    "payment_intent": STRING,
    "status": STRING,
    "customer_details": {"email": STRING},
}
_REFUND_CREATE: dict[str, SchemaNode] = {
    "payment_intent": STRING,
    "charge": STRING,
    "amount": STRING,
    "reason": STRING,
    "metadata": MAP,
    "expand": STRINGS,
}
_DISPUTE_UPDATE: dict[str, SchemaNode] = {
    "evidence": dict.fromkeys(DISPUTE_EVIDENCE_FIELDS, STRING),
    "metadata": MAP,
    "submit": STRING,
    "expand": STRINGS,
}
_EVENT_LIST: dict[str, SchemaNode] = {**_LIST, "type": STRING, "types": STRINGS}
_CUSTOMER_CREATE: dict[str, SchemaNode] = {
    "email": STRING,
    "name": STRING,
    "description": STRING,
    "metadata": MAP,
    "preferred_locales": STRINGS,
    "expand": STRINGS,
}
_CUSTOMER_PAYMENT_METHODS: dict[str, SchemaNode] = {**_LIST, "type": STRING}
_INTENT_CREATE: dict[str, SchemaNode] = {
    "amount": STRING,
    "currency": STRING,
    "customer": STRING,
    "payment_method": STRING,
    "payment_method_types": STRINGS,
    "allowed_payment_method_types": STRINGS,
    "confirm": STRING,
    "off_session": STRING,
    "description": STRING,
    "metadata": MAP,
    "statement_descriptor_suffix": STRING,
    "expand": STRINGS,
}
_ENDPOINT_CREATE: dict[str, SchemaNode] = {
    "url": STRING,
    "enabled_events": STRINGS,
    "description": STRING,
    "metadata": MAP,
    "expand": STRINGS,
}

_BALANCE_TRANSACTION_LIST: dict[str, SchemaNode] = {
    **_LIST,
    "payout": STRING,
    "type": STRING,
    "source": STRING,
    "currency": STRING,
}
_PAYOUT_LIST: dict[str, SchemaNode] = {**_LIST, "status": STRING}

Handler: TypeAlias = "Callable[[LocalStripe, Params, tuple[str, ...], RequestInfo], dict[str, Any]]"


@dataclass(frozen=True, slots=True)
class Route:
    """One API route: its method, its path (ids captured), its parameters' schema, its handler."""

    method: str
    pattern: re.Pattern[str]
    schema: dict[str, SchemaNode]
    handler: Handler


def _route(method: str, path: str, schema: dict[str, SchemaNode], handler: Handler) -> Route:
    return Route(method, re.compile("^" + path.replace("{id}", ID) + "$"), schema, handler)


def _create_session(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.create_session(params, req)


def _list_sessions(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.list_sessions(params)


def _get_session(app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo) -> dict[str, Any]:
    return app.store.get_session(ids[0])


def _expire_session(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.expire_session(ids[0], req)


def _session_items(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.session_line_items(ids[0], params)


def _getter(object_type: str) -> Handler:
    def get(app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo) -> dict[str, Any]:
        return app.store.retrieve(object_type, ids[0])

    return get


def _create_customer(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.create_customer(params, req)


def _customer_payment_methods(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.list_customer_payment_methods(ids[0], params)


def _detach_payment_method(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.detach_payment_method(ids[0], req)


def _create_payment_intent(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.create_payment_intent(params, req)


def _create_refund(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.create_refund(params, req)


def _update_dispute(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.update_dispute(ids[0], params, req)


def _close_dispute(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.close_dispute(ids[0], req)


def _list_events(app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo) -> dict[str, Any]:
    return app.store.list_events(params)


def _list_balance_transactions(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.list_balance_transactions(params)


def _list_payouts(app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo) -> dict[str, Any]:
    return app.store.list_payouts(params)


def _create_endpoint(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.add_endpoint(
        forms.required_string(params, "url"),
        forms.strings(params, "enabled_events"),
        description=forms.string(params, "description"),
        metadata=forms.mapping(params, "metadata"),
    )


def _list_endpoints(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.list_endpoints(params)


def _delete_endpoint(
    app: LocalStripe, params: Params, ids: tuple[str, ...], req: RequestInfo
) -> dict[str, Any]:
    return app.store.delete_endpoint(ids[0])


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/checkout/sessions", _SESSION_CREATE, _create_session),
    _route("GET", "/v1/checkout/sessions", _SESSION_LIST, _list_sessions),
    _route("GET", "/v1/checkout/sessions/{id}", _EXPAND, _get_session),
    _route("POST", "/v1/checkout/sessions/{id}/expire", _EXPAND, _expire_session),
    _route("GET", "/v1/checkout/sessions/{id}/line_items", _LIST, _session_items),
    _route("POST", "/v1/payment_intents", _INTENT_CREATE, _create_payment_intent),
    _route(
        "GET", "/v1/payment_intents/{id}", {**_EXPAND, "client_secret": STRING}, _getter("payment_intent")
    ),
    _route("GET", "/v1/setup_intents/{id}", {**_EXPAND, "client_secret": STRING}, _getter("setup_intent")),
    _route("POST", "/v1/customers", _CUSTOMER_CREATE, _create_customer),
    _route("GET", "/v1/customers/{id}", _EXPAND, _getter("customer")),
    _route("GET", "/v1/customers/{id}/payment_methods", _CUSTOMER_PAYMENT_METHODS, _customer_payment_methods),
    _route("GET", "/v1/payment_methods/{id}", _EXPAND, _getter("payment_method")),
    _route("POST", "/v1/payment_methods/{id}/detach", _EXPAND, _detach_payment_method),
    _route("GET", "/v1/mandates/{id}", _EXPAND, _getter("mandate")),
    _route("GET", "/v1/charges/{id}", _EXPAND, _getter("charge")),
    _route("POST", "/v1/refunds", _REFUND_CREATE, _create_refund),
    _route("GET", "/v1/refunds/{id}", _EXPAND, _getter("refund")),
    _route("GET", "/v1/disputes/{id}", _EXPAND, _getter("dispute")),
    _route("POST", "/v1/disputes/{id}", _DISPUTE_UPDATE, _update_dispute),
    _route("POST", "/v1/disputes/{id}/close", _EXPAND, _close_dispute),
    _route("GET", "/v1/balance_transactions", _BALANCE_TRANSACTION_LIST, _list_balance_transactions),
    _route("GET", "/v1/balance_transactions/{id}", _EXPAND, _getter("balance_transaction")),
    _route("GET", "/v1/payouts", _PAYOUT_LIST, _list_payouts),
    _route("GET", "/v1/payouts/{id}", _EXPAND, _getter("payout")),
    _route("GET", "/v1/events", _EVENT_LIST, _list_events),
    _route("GET", "/v1/events/{id}", _EXPAND, _getter("event")),
    _route("POST", "/v1/webhook_endpoints", _ENDPOINT_CREATE, _create_endpoint),
    _route("GET", "/v1/webhook_endpoints", _LIST, _list_endpoints),
    _route("GET", "/v1/webhook_endpoints/{id}", _EXPAND, _getter("webhook_endpoint")),
    _route("DELETE", "/v1/webhook_endpoints/{id}", {}, _delete_endpoint),
)
