"""The local Stripe server, served for real to the official SDK, the hosted page and a webhook receiver.

Every API call goes through ``stripe.StripeClient`` with ``base_addresses={"api": server.url}``; the
customer pays by POSTing the hosted page's form with urllib (redirects not followed); webhooks
land on a loopback receiver and every signature is checked with the SDK's ``construct_event``.
"""

from __future__ import annotations

import html
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import stripe

from receivables_local.stripe_local import LocalStripe
from receivables_local.stripe_local.webhooks import Dispatcher, Target

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KEY = "sk_test_local"
OLD_VERSION = "2025-09-30.clover"  # before 2026-09-30.endive: payment_method_types is an input
SECRET = "whsec_local_test_secret"
PAID_EVENTS = [
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "checkout.session.completed",
]


# -- fixtures and helpers ----------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback webhook receiver: answers 500 to the first ``fail_first`` requests, then 200."""

    fail_first: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, delivery: Delivery) -> int:
        with self.lock:
            self.requests += 1
            if self.requests <= self.fail_first:
                return 500
            self.deliveries.append(delivery)
            return 200

    def events(self, client: stripe.StripeClient, secret: str = SECRET) -> list[dict[str, Any]]:
        """Every delivered event, its signature verified by the SDK."""
        events = []
        for delivery in self.deliveries:
            event = client.construct_event(delivery.body, delivery.headers["Stripe-Signature"], secret)
            assert json.loads(delivery.body)["id"] == event.id
            events.append(json.loads(delivery.body))
        return events


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = state.answer(Delivery(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/stripe"
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalStripe]:
    local = LocalStripe(port=0)
    local.start()
    yield local
    local.stop()


@pytest.fixture
def client(server: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 2500,
                    "product_data": {"name": "Invoice INV-1", "description": "Due 2026-12-01"},
                },
            }
        ],
        "customer_email": "ap@example.com",
        "client_reference_id": "inv_1",
        "metadata": {"invoice_id": "inv_1"},
        "payment_intent_data": {"metadata": {"invoice_id": "inv_1", "customer_id": "c_1"}},
        "success_url": "http://127.0.0.1:9/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/cancelled",
    }
    params.update(overrides)
    return params


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Page:
    """One request, redirects not followed, errors returned as pages."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Page(response.status, dict(response.headers.items()), response.read().decode())
    except urllib.error.HTTPError as exc:
        return Page(exc.code, dict(exc.headers.items()), exc.read().decode())


def pay(url: str, card: str = "4242 4242 4242 4242", exp: str = "12/34", cvc: str = "123") -> Page:
    return http(url, {"cardnumber": card, "exp": exp, "cvc": cvc, "name": "Ada Lovelace"})


def types(server: LocalStripe) -> list[str]:
    return [event["type"] for event in server.events()]


def paid_session(client: stripe.StripeClient, card: str = "4242424242424242") -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert session.url is not None
    page = pay(session.url, card)
    assert page.status == 303, page.text
    return client.v1.checkout.sessions.retrieve(session.id)


# -- Checkout Sessions -----------------------------------------------------------------------------


def test_a_session_is_created_retrieved_listed_and_expired(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_total, session.amount_subtotal, session.currency) == (2500, 2500, "eur")
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert session.customer_details is None
    assert session.expires_at == session.created + 24 * 3600
    assert session.payment_method_types == ["card"]
    assert session.metadata is not None and session.metadata.to_dict() == {"invoice_id": "inv_1"}
    assert session.livemode is False
    assert session.url == f"{server.url}/c/pay/{session.id}"

    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.to_dict() == session.to_dict()
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [("Invoice INV-1", 1, 2500)]

    other = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    listed = client.v1.checkout.sessions.list(params={"limit": 1})
    assert listed.to_dict()["object"] == "list" and listed.url == "/v1/checkout/sessions"
    assert [s.id for s in listed.data] == [other.id] and listed.has_more is True

    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert types(server) == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.expire(session.id)
    assert refused.value.http_status == 400

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_sessions_are_listed_by_payment_intent_and_expand_their_references(
    client: stripe.StripeClient,
) -> None:
    paid = paid_session(client)
    client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert isinstance(paid.payment_intent, str)

    listed = client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent, "limit": 10})
    assert [s.id for s in listed.data] == [paid.id] and listed.has_more is False

    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert isinstance(intent.latest_charge, str) and intent.latest_charge.startswith("ch_")
    expanded = client.v1.checkout.sessions.retrieve(
        paid.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    assert not isinstance(expanded.payment_intent, str) and expanded.payment_intent is not None
    charge = expanded.payment_intent.latest_charge
    assert not isinstance(charge, str) and charge is not None and charge.id == intent.latest_charge
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(paid.id, params={"expand": ["nothing_here"]})


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"shipping_options": [{"shipping_rate": "shr_1"}]}, "shipping_options", "parameter_unknown"),
        (
            {
                "line_items": [
                    {"quantity": 1, "colour": "red", "price_data": {"currency": "eur", "unit_amount": 1}}
                ]
            },
            "line_items[0][colour]",
            "parameter_unknown",
        ),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"line_items": []}, "line_items", "parameter_missing"),
        ({"expires_at": int(time.time()) + 60}, "expires_at", None),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at", None),
    ],
)
def test_a_session_stripe_would_refuse_is_a_400(
    client: stripe.StripeClient, overrides: dict[str, Any], param: str, code: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params=session_params(**overrides))  # type: ignore[arg-type]
    assert refused.value.http_status == 400
    assert refused.value.param == param
    if code is not None:
        assert refused.value.code == code


@pytest.mark.parametrize(
    ("price_data", "quantity", "param"),
    [
        ({"currency": "EUR", "unit_amount": 100, "product_data": {"name": "x"}}, 1, "currency"),
        ({"currency": "eur", "unit_amount": -1, "product_data": {"name": "x"}}, 1, "unit_amount"),
        ({"currency": "eur", "unit_amount": "1.5", "product_data": {"name": "x"}}, 1, "unit_amount"),
        ({"currency": "eur", "unit_amount": 100, "product_data": {"name": "x"}}, 0, "quantity"),
    ],
)
def test_line_items_are_validated(
    client: stripe.StripeClient, price_data: dict[str, Any], quantity: int, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(
            params=session_params(line_items=[{"quantity": quantity, "price_data": price_data}])  # type: ignore[arg-type]
        )
    assert refused.value.http_status == 400
    assert str(refused.value.param).endswith(f"[{param}]")


# -- idempotency, authentication, errors ------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_response_and_refuses_other_parameters(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    first = client.v1.checkout.sessions.create(
        params=session_params(),  # type: ignore[arg-type]
        options={"idempotency_key": "pay-link-inv_1"},
    )
    replay = client.v1.checkout.sessions.create(
        params=session_params(),  # type: ignore[arg-type]
        options={"idempotency_key": "pay-link-inv_1"},
    )
    assert replay.id == first.id
    assert replay.last_response is not None
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.checkout.sessions.list().data) == 1

    with pytest.raises(stripe.IdempotencyError) as conflict:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="inv_2"),  # type: ignore[arg-type]
            options={"idempotency_key": "pay-link-inv_1"},
        )
    assert conflict.value.http_status == 400
    assert "same parameters they were first used with" in str(conflict.value.user_message)

    # A request refused by validation stores nothing: the key still works once the request is right.
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params=session_params(success_url=None),  # type: ignore[arg-type]
            options={"idempotency_key": "k-retry"},
        )
    created = client.v1.checkout.sessions.create(
        params=session_params(),  # type: ignore[arg-type]
        options={"idempotency_key": "k-retry"},
    )
    assert created.id != first.id
    assert created.last_response is not None and "Idempotent-Replayed" not in created.last_response.headers


def test_an_unknown_parameter_is_refused_as_stripe_does(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params=session_params(customer_emial="x@example.com"))  # type: ignore[arg-type]
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        400,
        "parameter_unknown",
        "customer_emial",
    )
    body = refused.value.json_body
    assert isinstance(body, dict) and body["error"]["type"] == "invalid_request_error"
    assert "Received unknown parameter: customer_emial" in str(refused.value.user_message)


def test_a_request_without_a_test_key_is_a_401(server: LocalStripe) -> None:
    page = http(f"{server.url}/v1/checkout/sessions")
    assert page.status == 401
    assert json.loads(page.text)["error"]["type"] == "invalid_request_error"

    live = stripe.StripeClient(
        "sk_live_123456789012", base_addresses={"api": server.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as refused:
        live.v1.checkout.sessions.list()
    assert refused.value.http_status == 401

    unknown = http(f"{server.url}/v1/nothing", headers={"Authorization": f"Bearer {KEY}"})
    assert unknown.status == 404
    assert "Unrecognized request URL" in json.loads(unknown.text)["error"]["message"]


# -- paying on the hosted page -----------------------------------------------------------------------


def test_the_hosted_page_shows_the_items_and_escapes_them(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(
        params=session_params(
            line_items=[
                {
                    "quantity": 3,
                    "price_data": {
                        "currency": "jpy",
                        "unit_amount": 1200,
                        "product_data": {"name": "<b>Invoice</b> & co"},
                    },
                }
            ],
            customer_email="o'brien@example.com",
        )  # type: ignore[arg-type]
    )
    assert session.url is not None
    page = http(session.url)
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "&lt;b&gt;Invoice&lt;/b&gt; &amp; co" in page.text and "<b>Invoice" not in page.text
    assert "o&#x27;brien@example.com" in page.text
    assert "¥3,600" in page.text
    for name in ("cardnumber", "exp", "cvc", "name"):
        assert f'id="{name}" name="{name}"' in page.text
    assert '<form method="post"' in page.text
    assert '<button type="submit" id="pay">Pay ¥3,600</button>' in page.text
    assert 'href="http://127.0.0.1:9/cancelled"' in page.text

    bhd = client.v1.checkout.sessions.create(
        params=session_params(
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {"currency": "bhd", "unit_amount": 12340, "product_data": {"name": "x"}},
                }
            ]
        )  # type: ignore[arg-type]
    )
    assert bhd.url is not None
    assert "BHD 12.340" in http(bhd.url).text
    assert http(bhd.url.replace(bhd.id, "cs_test_unknown")).status == 404


def test_4242_pays_and_the_events_arrive_in_order_signed(
    server: LocalStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    assert endpoint.secret is not None and endpoint.secret.startswith("whsec_")
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert session.url is not None

    page = pay(session.url)
    assert page.status == 303
    assert page.headers["Location"] == f"http://127.0.0.1:9/paid?session={session.id}"

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details is not None and paid.customer_details.email == "ap@example.com"
    assert isinstance(paid.payment_intent, str)
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 2500, 2500)
    assert intent.metadata is not None
    assert intent.metadata.to_dict() == {"invoice_id": "inv_1", "customer_id": "c_1"}
    assert intent.last_payment_error is None and isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        True,
        2500,
    )
    assert charge.payment_intent == intent.id and charge.billing_details.email == "ap@example.com"
    assert charge.payment_method_details is not None and charge.payment_method_details.card is not None
    assert (charge.payment_method_details.card.brand, charge.payment_method_details.card.last4) == (
        "visa",
        "4242",
    )

    assert types(server) == PAID_EVENTS
    assert server.wait_for_deliveries(10)
    delivered = receiver.events(client, endpoint.secret)
    assert [e["type"] for e in delivered] == PAID_EVENTS
    assert [e["id"] for e in delivered] == [e["id"] for e in server.events()]
    completed = delivered[-1]
    assert completed["api_version"] == stripe.api_version
    assert completed["data"]["object"]["payment_intent"] == intent.id
    assert completed["request"] == {"id": None, "idempotency_key": None}
    created = delivered[0]["data"]["object"]
    assert (created["status"], created["latest_charge"]) == ("requires_payment_method", None)  # a snapshot
    header = receiver.deliveries[0].headers
    assert header["Content-Type"] == "application/json; charset=utf-8"
    assert header["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert client.v1.events.retrieve(completed["id"]).pending_webhooks == 0

    again = http(session.url)
    assert again.status == 200 and "already paid" in again.text
    assert types(server) == PAID_EVENTS


def test_a_declined_card_keeps_the_session_open_and_a_second_card_pays_the_same_intent(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert session.url is not None

    declined = pay(session.url, "4000 0000 0000 0002")
    assert declined.status == 402
    assert '<p id="error" role="alert">Your card was declined.</p>' in declined.text
    open_session = client.v1.checkout.sessions.retrieve(session.id)
    assert (open_session.status, open_session.payment_status) == ("open", "unpaid")
    assert isinstance(open_session.payment_intent, str)
    intent = client.v1.payment_intents.retrieve(open_session.payment_intent)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None
    assert (intent.last_payment_error.type, intent.last_payment_error.code) == ("card_error", "card_declined")
    assert intent.last_payment_error.decline_code == "generic_decline"
    assert intent.last_payment_error.message == "Your card was declined."
    assert isinstance(intent.latest_charge, str)
    failed = client.v1.charges.retrieve(intent.latest_charge)
    assert (failed.status, failed.paid, failed.failure_code) == ("failed", False, "card_declined")

    poor = pay(session.url, "4000000000009995")
    assert poor.status == 402 and "Your card has insufficient funds." in poor.text
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert intent.last_payment_error is not None
    assert intent.last_payment_error.decline_code == "insufficient_funds"

    assert pay(session.url).status == 303
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert paid.payment_intent == intent.id
    intent = client.v1.payment_intents.retrieve(intent.id)
    assert (intent.status, intent.amount_received, intent.last_payment_error) == ("succeeded", 2500, None)
    assert types(server) == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.failed",
        "payment_intent.payment_failed",
        *PAID_EVENTS[1:],
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"card": "4242 4242 4242 4241"}, "Your card number is invalid."),
        ({"exp": "01/20"}, "Your card's expiration year is in the past."),
        ({"exp": "13"}, "Your card's expiration date is incomplete."),
        ({"cvc": "12"}, "Your card's security code is incomplete."),
    ],
)
def test_invalid_card_details_are_refused_on_the_page_and_charge_nothing(
    server: LocalStripe, client: stripe.StripeClient, form: dict[str, str], message: str
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert session.url is not None
    page = pay(session.url, **form)
    assert page.status == 402
    assert f'<p id="error" role="alert">{html.escape(message)}</p>' in page.text
    assert server.events() == []
    assert client.v1.checkout.sessions.retrieve(session.id).payment_intent is None


def test_an_expired_session_page_is_gone(server: LocalStripe, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
    assert session.url is not None
    client.v1.checkout.sessions.expire(session.id)
    page = http(session.url)
    assert page.status == 410 and "expired" in page.text
    assert pay(session.url).status == 410
    assert types(server) == ["checkout.session.expired"]


def test_a_session_expires_by_the_clock_and_cancels_a_declined_intent() -> None:
    now = [time.time()]
    server = LocalStripe(port=0, clock=lambda: now[0])
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        session = client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(now[0]) + 3600)  # type: ignore[arg-type]
        )
        assert session.url is not None and session.expires_at == int(now[0]) + 3600
        assert pay(session.url, "4000000000000002").status == 402
        now[0] += 3601
        assert http(session.url).status == 410
        expired = client.v1.checkout.sessions.retrieve(session.id)
        assert expired.status == "expired"
        assert isinstance(expired.payment_intent, str)
        assert client.v1.payment_intents.retrieve(expired.payment_intent).status == "canceled"
        assert types(server)[-2:] == ["payment_intent.canceled", "checkout.session.expired"]
        assert server.events()[-1]["request"] == {"id": None, "idempotency_key": None}
    finally:
        server.stop()


# -- disputes ----------------------------------------------------------------------------------------


def test_0259_pays_then_opens_a_fraud_dispute(server: LocalStripe, client: stripe.StripeClient) -> None:
    paid = paid_session(client, "4000 0000 0000 0259")
    assert types(server) == [*PAID_EVENTS, "charge.dispute.created"]
    dispute = server.events()[-1]["data"]["object"]
    assert (dispute["status"], dispute["reason"], dispute["amount"]) == ("needs_response", "fraudulent", 2500)
    assert dispute["payment_intent"] == paid.payment_intent
    assert client.v1.charges.retrieve(dispute["charge"]).disputed is True
    fetched = client.v1.disputes.retrieve(dispute["id"])
    assert (fetched.object, fetched.is_charge_refundable, fetched.livemode) == ("dispute", False, False)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"charge": dispute["charge"]})
    assert refused.value.code == "charge_disputed"


@pytest.mark.parametrize(
    ("action", "status", "events"),
    [
        ("winning_evidence", "won", ["charge.dispute.updated", "charge.dispute.closed"]),
        ("losing_evidence", "lost", ["charge.dispute.updated", "charge.dispute.closed"]),
        ("close", "lost", ["charge.dispute.closed"]),
    ],
)
def test_a_dispute_is_won_lost_or_closed(
    server: LocalStripe, client: stripe.StripeClient, action: str, status: str, events: list[str]
) -> None:
    paid_session(client, "4000000000000259")
    dispute_id = server.events()[-1]["data"]["object"]["id"]
    if action == "close":
        closed = client.v1.disputes.close(dispute_id)
    else:
        closed = client.v1.disputes.update(
            dispute_id, params={"evidence": {"uncategorized_text": action}, "submit": True}
        )
    assert closed.status == status
    assert types(server)[-len(events) :] == events
    assert server.events()[-1]["data"]["object"]["status"] == status
    assert client.v1.disputes.retrieve(dispute_id).status == status
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute_id)


# -- refunds -----------------------------------------------------------------------------------------


def test_a_partial_then_a_full_refund(server: LocalStripe, client: stripe.StripeClient) -> None:
    paid = paid_session(client)
    assert isinstance(paid.payment_intent, str)

    partial = client.v1.refunds.create(
        params={"payment_intent": paid.payment_intent, "amount": 1000, "reason": "requested_by_customer"},
        options={"idempotency_key": "refund-1"},
    )
    assert (partial.object, partial.amount, partial.status, partial.payment_intent) == (
        "refund",
        1000,
        "succeeded",
        paid.payment_intent,
    )
    rest = client.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    assert rest.amount == 1500
    assert client.v1.refunds.retrieve(rest.id).charge == partial.charge

    assert isinstance(partial.charge, str)
    charge = client.v1.charges.retrieve(partial.charge)
    assert (charge.amount_refunded, charge.refunded) == (2500, True)
    refunded = [e for e in server.events() if e["type"] in ("refund.created", "charge.refunded")]
    assert [e["type"] for e in refunded] == ["refund.created", "charge.refunded"] * 2
    snapshots = [
        (e["data"]["object"]["amount_refunded"], e["data"]["object"]["refunded"]) for e in refunded[1::2]
    ]
    assert snapshots == [(1000, False), (2500, True)]
    assert refunded[1]["request"]["idempotency_key"] == "refund-1"
    assert refunded[1]["request"]["id"].startswith("req_")

    with pytest.raises(stripe.InvalidRequestError) as done:
        client.v1.refunds.create(params={"payment_intent": paid.payment_intent})
    assert done.value.code == "charge_already_refunded"


def test_a_refund_over_what_remains_is_a_400(server: LocalStripe, client: stripe.StripeClient) -> None:
    paid = paid_session(client)
    assert isinstance(paid.payment_intent, str)
    client.v1.refunds.create(params={"payment_intent": paid.payment_intent, "amount": 2000})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": paid.payment_intent, "amount": 501})
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        400,
        "amount_too_large",
        "amount",
    )
    assert "€5.01" in str(refused.value.user_message) and "€5.00" in str(refused.value.user_message)
    assert types(server).count("charge.refunded") == 1


# -- webhooks ----------------------------------------------------------------------------------------


def test_a_failing_receiver_gets_the_event_on_a_retry(
    server: LocalStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    endpoint = server.add_webhook_endpoint(receiver.url, SECRET, ["checkout.session.completed"])
    assert endpoint["secret"] == SECRET
    paid_session(client)

    assert server.wait_for_deliveries(10)
    delivered = receiver.events(client)
    assert [e["type"] for e in delivered] == ["checkout.session.completed"]
    (log,) = server.deliveries()
    assert log["status"] == "succeeded" and log["endpoint"] == endpoint["id"]
    assert [a["status"] for a in log["attempts"]] == [500, 500, 200]
    assert receiver.requests == 3


def test_webhook_endpoints_are_listed_and_deleted(
    server: LocalStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["charge.refunded"]}
    )
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [endpoint.id]
    assert "secret" not in listed.data[0]
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True
    paid_session(client)
    assert server.wait_for_deliveries(5)
    assert receiver.requests == 0
    assert all(e["pending_webhooks"] == 0 for e in server.events())

    newest_first = client.v1.events.list(params={"limit": 2})
    assert [e.type for e in newest_first.data] == ["checkout.session.completed", "payment_intent.succeeded"]
    local = json.loads(http(f"{server.url}/_local/events").text)
    assert [e["type"] for e in local] == PAID_EVENTS


# -- the server itself -------------------------------------------------------------------------------


def test_the_server_listens_on_loopback_only(server: LocalStripe) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("no /proc/net/tcp to read the listening address from")
    listening = [
        line.split()[1]
        for line in table.read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == server.port
    ]
    assert listening == [f"0100007F:{server.port:04X}"]


def test_the_clock_dates_objects_and_events_and_signatures_carry_wall_time(receiver: Receiver) -> None:
    start = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    clock: Callable[[], float] = lambda: start  # noqa: E731
    server = LocalStripe(port=0, clock=clock)
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        server.add_webhook_endpoint(receiver.url, SECRET)
        session = client.v1.checkout.sessions.create(params=session_params())  # type: ignore[arg-type]
        assert (session.created, session.expires_at) == (int(start), int(start) + 24 * 3600)
        assert session.url is not None
        assert pay(session.url).status == 303
        assert {e["created"] for e in server.events()} == {int(start)}
        assert server.wait_for_deliveries(10)
        header = receiver.deliveries[0].headers["Stripe-Signature"]
        signed_at = int(header.split(",")[0].removeprefix("t="))
        assert abs(signed_at - time.time()) < 60, "the receiver checks signatures against its own clock"
        stripe.Webhook.construct_event(receiver.deliveries[0].body, header, SECRET)  # default 300 s
    finally:
        server.stop()


def test_concurrent_requests_with_one_idempotency_key_create_one_session(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    ids: list[str] = []

    def create() -> None:
        session = client.v1.checkout.sessions.create(
            params=session_params(),  # type: ignore[arg-type]
            options={"idempotency_key": "same-key"},
        )
        ids.append(session.id)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(ids) == 4 and len(set(ids)) == 1
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_the_form_encoding_of_curl_and_of_the_sdk(server: LocalStripe, client: stripe.StripeClient) -> None:
    paid = paid_session(client)
    auth = {"Authorization": f"Bearer {KEY}"}
    page = http(f"{server.url}/v1/checkout/sessions/{paid.id}?expand[]=payment_intent", headers=auth)
    assert page.status == 200
    assert json.loads(page.text)["payment_intent"]["object"] == "payment_intent"

    created = http(
        f"{server.url}/v1/checkout/sessions",
        {
            "mode": "payment",
            "success_url": "http://127.0.0.1:9/ok",
            "line_items[0][quantity]": "2",
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "150",
            "line_items[0][price_data][product_data][name]": "Widget",
            "metadata[0]": "a map key that looks like an index",
            "allowed_payment_method_types[]": "card",
        },
        headers=auth,
    )
    assert created.status == 200, created.text
    body = json.loads(created.text)
    assert (body["amount_total"], body["metadata"], body["payment_method_types"]) == (
        300,
        {"0": "a map key that looks like an index"},
        ["card"],
    )
    assert created.headers["Request-Id"].startswith("req_")


def test_a_delivery_that_never_succeeds_is_given_up_and_logged() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivered: list[str] = []
    dispatcher = Dispatcher(time.time, delivered.append, delays=(0.01, 0.02))
    dispatcher.start()
    try:
        event = {"id": "evt_1", "type": "charge.refunded", "object": "event"}
        dispatcher.enqueue(event, [Target("we_1", f"http://127.0.0.1:{port}/hook", SECRET)])
        assert dispatcher.wait_idle(10)
    finally:
        dispatcher.stop()
    (log,) = dispatcher.deliveries()
    assert log["status"] == "failed" and len(log["attempts"]) == 3
    assert all(a["status"] is None and "Connection" in a["error"] for a in log["attempts"])
    assert delivered == []


# -- bank debits, customers, setup mode, off-session PaymentIntents -----------------------------------

DAY = 24 * 3600
SETTLEMENT = 2 * DAY
DEBIT_SUBMITTED = [
    "payment_intent.created",
    "payment_intent.processing",
    "charge.pending",
    "checkout.session.completed",
]
SAVED = [
    "customer.created",
    "setup_intent.created",
    "setup_intent.succeeded",
    "payment_method.attached",
    "checkout.session.completed",
]


@dataclass
class Clocked:
    """A server on a clock the test moves (the sweep cannot settle before the clock says so)."""

    server: LocalStripe
    client: stripe.StripeClient
    now: list[float]

    def advance(self, seconds: float) -> int:
        """Move the clock and settle what is due, under the store's lock so that neither the sweep
        nor a request settles first: the number settled."""
        with self.server.store.lock:
            self.now[0] += seconds
            return self.server.settle_due()


@pytest.fixture
def clocked() -> Iterator[Clocked]:
    now = [time.time()]
    server = LocalStripe(port=0, clock=lambda: now[0])
    server.start()
    yield Clocked(
        server, stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0), now
    )
    server.stop()


def sepa(
    url: str, iban: str = "DE89 3704 0044 0532 0130 00", name: str = "Ada Lovelace", **extra: str
) -> Page:
    return http(url, {"method": "sepa_debit", "iban": iban, "name": name, **extra})


def ach(
    url: str, account: str = "000123456789", routing: str = "110000000", name: str = "Ada Lovelace"
) -> Page:
    return http(
        url,
        {"method": "us_bank_account", "routing_number": routing, "account_number": account, "name": name},
    )


def debit_session(
    client: stripe.StripeClient, method: str = "sepa_debit", **overrides: Any
) -> stripe.checkout.Session:
    currency = "eur" if method == "sepa_debit" else "usd"
    line_items = [
        {
            "quantity": 1,
            "price_data": {"currency": currency, "unit_amount": 2500, "product_data": {"name": "INV-1"}},
        }
    ]
    params = session_params(allowed_payment_method_types=[method, "card"], line_items=line_items)
    params.update(overrides)
    return client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]


def intent_of(client: stripe.StripeClient, session_id: str) -> stripe.PaymentIntent:
    intent_id = client.v1.checkout.sessions.retrieve(session_id).payment_intent
    assert isinstance(intent_id, str)
    return client.v1.payment_intents.retrieve(intent_id)


def test_a_sepa_debit_processes_then_settles_paid_after_the_delay(clocked: Clocked) -> None:
    client, server = clocked.client, clocked.server
    session = debit_session(client)
    assert session.url is not None and session.payment_method_types == ["sepa_debit", "card"]

    page = sepa(session.url)
    assert page.status == 303, page.text
    assert page.headers["Location"] == f"http://127.0.0.1:9/paid?session={session.id}"
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    assert done.customer_details is not None and done.customer_details.name == "Ada Lovelace"
    intent = intent_of(client, session.id)
    assert (intent.status, intent.amount_received) == ("processing", 0)
    assert isinstance(intent.latest_charge, str) and isinstance(intent.payment_method, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.captured, charge.amount) == ("pending", False, False, 2500)
    details = charge.payment_method_details
    assert details is not None and details.type == "sepa_debit" and details.sepa_debit is not None
    assert (details.sepa_debit.bank_code, details.sepa_debit.country, details.sepa_debit.last4) == (
        "37040044",
        "DE",
        "3000",
    )
    assert details.sepa_debit.fingerprint and str(details.sepa_debit.mandate).startswith("mandate_")
    mandate = client.v1.mandates.retrieve(str(details.sepa_debit.mandate))
    assert (mandate.type, mandate.status, mandate.payment_method) == (
        "single_use",
        "active",
        intent.payment_method,
    )
    assert mandate.customer_acceptance.type == "online"
    method = client.v1.payment_methods.retrieve(intent.payment_method)
    assert method.type == "sepa_debit" and method.sepa_debit is not None and method.sepa_debit.last4 == "3000"
    assert method.billing_details.name == "Ada Lovelace" and method.customer is None
    assert types(server) == DEBIT_SUBMITTED
    assert http(session.url).status == 200 and "processing" in http(session.url).text

    assert clocked.advance(SETTLEMENT - 1) == 0, "the bank has not answered yet"
    assert intent_of(client, session.id).status == "processing"
    assert clocked.advance(1) == 1
    assert clocked.advance(DAY) == 0, "a debit settles once"

    assert types(server) == [
        *DEBIT_SUBMITTED,
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    intent = intent_of(client, session.id)
    assert (intent.status, intent.amount_received, intent.last_payment_error) == ("succeeded", 2500, None)
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        True,
        2500,
    )
    settled = server.events()[-1]
    assert settled["data"]["object"]["payment_status"] == "paid"
    assert settled["request"] == {"id": None, "idempotency_key": None}


def test_a_payment_session_for_a_customer_carries_it_to_the_intent_and_the_charge(clocked: Clocked) -> None:
    client = clocked.client
    customer = client.v1.customers.create(params={"email": "billing@acme.example", "name": "ACME"})
    session = debit_session(client, customer=customer.id, customer_email=None)
    assert session.customer == customer.id and session.customer_email is None and session.url is not None
    page = http(session.url)
    assert "billing@acme.example" in page.text and 'id="sepa-email"' not in page.text
    assert sepa(session.url).status == 303
    intent = intent_of(client, session.id)
    assert intent.customer == customer.id and isinstance(intent.latest_charge, str)
    assert client.v1.charges.retrieve(intent.latest_charge).customer == customer.id
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert done.customer_details is not None and done.customer_details.email == "billing@acme.example"
    assert client.v1.customers.payment_methods.list(customer.id).data == [], "a payment saves nothing"


@pytest.mark.parametrize("iban", ["DE62370400440532013001", "AT86 1904 3002 3547 3202"])
def test_a_failing_iban_settles_as_an_async_payment_failure(clocked: Clocked, iban: str) -> None:
    client, server = clocked.client, clocked.server
    session = debit_session(client)
    assert session.url is not None
    assert sepa(session.url, iban).status == 303
    assert clocked.advance(SETTLEMENT) == 1

    assert types(server) == [
        *DEBIT_SUBMITTED,
        "charge.failed",
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    assert "Payment failed" in http(session.url).text
    intent = intent_of(client, session.id)
    assert (intent.status, intent.payment_method) == ("requires_payment_method", None)
    error = intent.last_payment_error
    assert error is not None and error.code == "generic_could_not_process"
    assert error.message == "This payment could not be processed."
    assert error.payment_method is not None and error.payment_method.type == "sepa_debit"
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, "generic_could_not_process")


@pytest.mark.parametrize("iban", ["DE35370400440532013002", "AT591904300235473203"])
def test_a_disputed_iban_pays_then_is_disputed_for_good(clocked: Clocked, iban: str) -> None:
    client, server = clocked.client, clocked.server
    session = debit_session(client)
    assert session.url is not None
    assert sepa(session.url, iban).status == 303
    assert clocked.advance(SETTLEMENT) == 1

    assert types(server)[len(DEBIT_SUBMITTED) :] == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
        "charge.dispute.created",
        "charge.dispute.closed",
    ]
    dispute = server.events()[-1]["data"]["object"]
    assert (dispute["reason"], dispute["status"], dispute["amount"]) == ("general", "lost", 2500)
    assert client.v1.charges.retrieve(dispute["charge"]).disputed is True
    assert intent_of(client, session.id).status == "succeeded"


@pytest.mark.parametrize(
    ("account", "failure"),
    [
        ("000123456789", None),
        ("000111111113", ("account_closed", "The customer's bank account has been closed.")),
        ("000111111116", ("no_account", "The customer's bank account could not be located.")),
        (
            "000222222227",
            ("insufficient_funds", "The customer's account has insufficient funds to cover this payment."),
        ),
        (
            "000333333335",
            (
                "debit_not_authorized",
                "The customer has notified their bank that this payment was unauthorized.",
            ),
        ),
    ],
)
def test_an_ach_debit_settles_as_its_test_account_says(
    clocked: Clocked, account: str, failure: tuple[str, str] | None
) -> None:
    client, server = clocked.client, clocked.server
    session = debit_session(client, "us_bank_account")
    assert session.url is not None
    assert ach(session.url, account).status == 303
    charge_id = intent_of(client, session.id).latest_charge
    assert isinstance(charge_id, str)
    pending = client.v1.charges.retrieve(charge_id)
    details = pending.payment_method_details
    assert details is not None and details.us_bank_account is not None
    bank = details.us_bank_account
    assert (bank.bank_name, bank.routing_number, bank.last4) == (
        "STRIPE TEST BANK",
        "110000000",
        account[-4:],
    )
    assert (bank.account_holder_type, bank.account_type, pending.status) == (
        "individual",
        "checking",
        "pending",
    )
    assert bank.fingerprint

    assert clocked.advance(SETTLEMENT) == 1
    intent = intent_of(client, session.id)
    charge = client.v1.charges.retrieve(charge_id)
    if failure is None:
        assert (intent.status, charge.status, types(server)[-1]) == (
            "succeeded",
            "succeeded",
            "checkout.session.async_payment_succeeded",
        )
        return
    assert (charge.status, charge.failure_code, charge.failure_message) == ("failed", *failure)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None and intent.last_payment_error.code == failure[0]
    assert types(server)[-3:] == [
        "charge.failed",
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]


def test_the_ach_dispute_account_pays_then_is_disputed(clocked: Clocked) -> None:
    session = debit_session(clocked.client, "us_bank_account")
    assert session.url is not None
    assert ach(session.url, "000555555559").status == 303
    assert clocked.advance(SETTLEMENT) == 1
    assert types(clocked.server)[-3:] == [
        "checkout.session.async_payment_succeeded",
        "charge.dispute.created",
        "charge.dispute.closed",
    ]
    assert clocked.server.events()[-1]["data"]["object"]["reason"] == "debit_not_authorized"


def test_the_sweep_settles_debits_on_its_own() -> None:
    server = LocalStripe(port=0, debit_settlement_seconds=0)
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        session = debit_session(client)
        assert session.url is not None
        assert sepa(session.url).status == 303
        deadline = time.monotonic() + 5
        while "checkout.session.async_payment_succeeded" not in types(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert types(server)[-1] == "checkout.session.async_payment_succeeded"
        assert server.settle_due() == 0
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("method", "currency", "allowed"),
    [("sepa_debit", "usd", "eur"), ("us_bank_account", "eur", "usd")],
)
def test_a_debit_in_a_currency_its_scheme_cannot_carry_is_a_400(
    client: stripe.StripeClient, method: str, currency: str, allowed: str
) -> None:
    line_items = [
        {
            "quantity": 1,
            "price_data": {"currency": currency, "unit_amount": 2500, "product_data": {"name": "x"}},
        }
    ]
    with pytest.raises(stripe.InvalidRequestError) as nothing:
        client.v1.checkout.sessions.create(
            params=session_params(allowed_payment_method_types=[method], line_items=line_items)  # type: ignore[arg-type]
        )
    assert (nothing.value.http_status, nothing.value.param) == (400, "allowed_payment_method_types")
    assert nothing.value.user_message == (
        f"None of the payment method types in `allowed_payment_method_types` ({method}) can be used with "
        f"the currency `{currency}`."
    )
    with pytest.raises(stripe.InvalidRequestError) as intent_nothing:
        client.v1.payment_intents.create(
            params={"amount": 2500, "currency": currency, "allowed_payment_method_types": [method]}
        )
    assert (intent_nothing.value.http_status, intent_nothing.value.param) == (
        400,
        "allowed_payment_method_types",
    )


@pytest.mark.parametrize(
    ("method", "currency", "allowed"),
    [("sepa_debit", "usd", "eur"), ("us_bank_account", "eur", "usd")],
)
def test_before_endive_payment_method_types_refuses_a_debit_its_currency_cannot_carry(
    client: stripe.StripeClient, method: str, currency: str, allowed: str
) -> None:
    line_items = [
        {
            "quantity": 1,
            "price_data": {"currency": currency, "unit_amount": 2500, "product_data": {"name": "x"}},
        }
    ]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(
            params=session_params(payment_method_types=["card", method], line_items=line_items),  # type: ignore[arg-type]
            options={"stripe_version": OLD_VERSION},
        )
    assert (refused.value.http_status, refused.value.param) == (400, "payment_method_types")
    assert refused.value.user_message == (
        f"Invalid currency options `{currency}`. The payment method `{method}` only supports the following "
        f"currencies: `{allowed}`."
    )

    with pytest.raises(stripe.InvalidRequestError) as intent:
        client.v1.payment_intents.create(
            params={"amount": 2500, "currency": currency, "payment_method_types": [method]},  # type: ignore[typeddict-unknown-key]
            options={"stripe_version": OLD_VERSION},
        )
    assert intent.value.param == "payment_method_types"
    assert str(intent.value.user_message).startswith(
        f"The currency provided ({currency}) is invalid for one or more payment method types on this "
        f"PaymentIntent. The payment method type {method} only supports the following currencies: {allowed}."
    )


def test_the_page_shows_one_form_per_method_in_the_sessions_order(client: stripe.StripeClient) -> None:
    session = debit_session(client, "us_bank_account", customer_email=None)
    assert session.url is not None
    text = http(session.url).text
    assert text.count('<form method="post"') == 2
    assert text.index('value="us_bank_account"') < text.index('value="card"'), "the preferred method first"
    for input_name in ("routing_number", "account_number"):
        assert f'id="{input_name}" name="{input_name}"' in text
    for field_id in ("ach-name", "ach-email", "email", "cardnumber"):
        assert f'id="{field_id}"' in text
    assert '<button type="submit" id="pay-us_bank_account">Pay $25.00</button>' in text
    assert '<button type="submit" id="pay">Pay $25.00</button>' in text
    assert 'id="ach-mandate"' in text and "000222222227" in text and "<script" not in text

    eur = debit_session(client, "sepa_debit")
    assert eur.url is not None
    text = http(eur.url).text
    assert 'id="iban" name="iban"' in text and 'id="sepa-name" name="name"' in text
    assert 'id="sepa-email"' not in text, "the session knows the email"
    assert "ap@example.com" in text
    assert '<button type="submit" id="pay-sepa_debit">Pay €25.00</button>' in text
    assert "you authorise (A) Receivables and Stripe, our payment service provider" in text
    assert "DE62 3704 0044 0532 0130 01" in text


@pytest.mark.parametrize(
    ("method", "form", "message"),
    [
        ("sepa_debit", {"iban": "DE89370400440532013001"}, "Your IBAN is invalid."),
        ("sepa_debit", {"iban": "DE8937040044"}, "Your IBAN is incomplete."),
        ("sepa_debit", {"iban": "DE89370400440532013000", "name": ""}, "Your name is incomplete."),
        ("us_bank_account", {"routing_number": "110000001"}, "Your routing number is invalid."),
        ("us_bank_account", {"account_number": "12"}, "Your account number is invalid."),
        ("card", {"iban": "DE89370400440532013000"}, "Your card number is incomplete."),
    ],
)
def test_bad_bank_details_are_refused_on_the_page_and_debit_nothing(
    server: LocalStripe, client: stripe.StripeClient, method: str, form: dict[str, str], message: str
) -> None:
    session = debit_session(client, method if method != "card" else "sepa_debit")
    assert session.url is not None
    data = {"method": method, "name": "Ada", "routing_number": "110000000", "account_number": "000123456789"}
    page = http(session.url, {**data, **form})
    assert page.status == 402
    assert f'<p id="error" role="alert">{html.escape(message)}</p>' in page.text
    assert server.events() == []

    other = http(session.url, {"method": "sepa_debit" if method == "us_bank_account" else "us_bank_account"})
    assert other.status == 402 and "This payment method is not available" in other.text


# -- customers and setup mode --------------------------------------------------------------------------


def setup_session(client: stripe.StripeClient, customer: str, methods: list[str]) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": customer,
            "currency": "eur",
            "allowed_payment_method_types": methods,
            "success_url": "http://127.0.0.1:9/saved?session={CHECKOUT_SESSION_ID}",
            "setup_intent_data": {"metadata": {"customer_id": "c_1"}},
        }
    )


def test_a_customer_is_created_and_retrieved(server: LocalStripe, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={
            "email": "ap@example.com",
            "name": "ACME GmbH",
            "description": "c_1",
            "metadata": {"customer_id": "c_1"},
            "preferred_locales": ["de", "en"],
        },
        options={"idempotency_key": "customer-c_1"},
    )
    assert customer.id.startswith("cus_") and customer.object == "customer"
    assert (customer.email, customer.name, customer.preferred_locales) == (
        "ap@example.com",
        "ACME GmbH",
        ["de", "en"],
    )
    assert customer.metadata is not None and customer.metadata.to_dict() == {"customer_id": "c_1"}
    assert client.v1.customers.retrieve(customer.id).to_dict() == customer.to_dict()
    again = client.v1.customers.create(
        params={
            "email": "ap@example.com",
            "name": "ACME GmbH",
            "description": "c_1",
            "metadata": {"customer_id": "c_1"},
            "preferred_locales": ["de", "en"],
        },
        options={"idempotency_key": "customer-c_1"},
    )
    assert again.id == customer.id
    assert types(server) == ["customer.created"]
    assert client.v1.customers.payment_methods.list(customer.id).data == []

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as email:
        client.v1.customers.create(params={"email": "not-an-email"})
    assert (email.value.param, email.value.code) == ("email", "email_invalid")


def test_setup_mode_saves_a_card_that_then_pays_off_session(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@example.com", "name": "ACME"})
    session = setup_session(client, customer.id, ["card"])
    assert (session.mode, session.payment_status, session.amount_total, session.setup_intent) == (
        "setup",
        "no_payment_required",
        None,
        None,
    )
    assert session.customer == customer.id and session.url is not None
    page = http(session.url)
    assert '<button type="submit" id="pay">Save</button>' in page.text
    assert 'id="total"' not in page.text and "ap@example.com" in page.text

    saved = pay(session.url)
    assert (
        saved.status == 303 and saved.headers["Location"] == f"http://127.0.0.1:9/saved?session={session.id}"
    )
    assert types(server) == SAVED
    completed = server.events()[-1]["data"]["object"]
    assert (completed["mode"], completed["payment_status"], completed["status"]) == (
        "setup",
        "no_payment_required",
        "complete",
    )
    assert isinstance(completed["setup_intent"], str) and completed["setup_intent"].startswith("seti_")
    setup = client.v1.setup_intents.retrieve(completed["setup_intent"])
    assert (setup.status, setup.usage, setup.customer, setup.mandate) == (
        "succeeded",
        "off_session",
        customer.id,
        None,
    )
    assert setup.metadata is not None and setup.metadata.to_dict() == {"customer_id": "c_1"}
    assert isinstance(setup.payment_method, str)
    methods = client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [m.id for m in methods.data] == [setup.payment_method]
    assert methods.data[0].card is not None and methods.data[0].card.last4 == "4242"
    assert client.v1.customers.payment_methods.list(customer.id, params={"type": "sepa_debit"}).data == []

    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": setup.payment_method,
            "confirm": True,
            "off_session": True,
            "metadata": {"invoice_id": "inv_2"},
            "statement_descriptor_suffix": "INV-2",
        }
    )
    assert (intent.status, intent.amount_received, intent.customer) == ("succeeded", 4200, customer.id)
    assert intent.statement_descriptor_suffix == "INV-2" and intent.payment_method_types == ["card"]
    assert types(server)[len(SAVED) :] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.customer, charge.payment_method, charge.status) == (
        customer.id,
        setup.payment_method,
        "succeeded",
    )
    created = server.events()[len(SAVED)]
    assert created["request"]["id"].startswith("req_")


def test_setup_mode_saves_a_sepa_account_whose_off_session_debit_settles_later(clocked: Clocked) -> None:
    client, server = clocked.client, clocked.server
    customer = client.v1.customers.create(params={"email": "ap@example.com"})
    session = setup_session(client, customer.id, ["sepa_debit", "card"])
    assert session.url is not None
    page = http(session.url)
    assert '<button type="submit" id="pay-sepa_debit">Save</button>' in page.text
    assert "You agree to receive notifications for future debits" in page.text
    assert sepa(session.url, "AT611904300234573201").status == 303
    assert types(server) == SAVED
    setup_id = client.v1.checkout.sessions.retrieve(session.id).setup_intent
    assert isinstance(setup_id, str)
    setup = client.v1.setup_intents.retrieve(setup_id)
    assert isinstance(setup.mandate, str) and isinstance(setup.payment_method, str)
    mandate = client.v1.mandates.retrieve(setup.mandate)
    assert (mandate.type, mandate.status, mandate.payment_method) == (
        "multi_use",
        "active",
        setup.payment_method,
    )
    assert mandate.payment_method_details.sepa_debit is not None
    assert http(mandate.payment_method_details.sepa_debit.url).status == 200
    method = client.v1.payment_methods.retrieve(setup.payment_method)
    assert (method.customer, method.type) == (customer.id, "sepa_debit")
    assert method.sepa_debit is not None and (method.sepa_debit.country, method.sepa_debit.bank_code) == (
        "AT",
        "19043",
    )

    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "eur",
            "customer": customer.id,
            "payment_method": setup.payment_method,
            "allowed_payment_method_types": ["sepa_debit"],
            "confirm": True,
            "off_session": True,
        }
    )
    assert intent.status == "processing"
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.status == "pending" and charge.payment_method_details is not None
    assert charge.payment_method_details.sepa_debit is not None
    assert charge.payment_method_details.sepa_debit.mandate == setup.mandate
    submitted = ["payment_intent.created", "payment_intent.processing", "charge.pending"]
    assert types(server)[len(SAVED) :] == submitted

    assert clocked.advance(SETTLEMENT) == 1
    assert types(server)[len(SAVED) :] == [*submitted, "charge.succeeded", "payment_intent.succeeded"]
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_a_declining_card_is_refused_in_setup_mode_and_the_session_stays_open(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@example.com"})
    session = setup_session(client, customer.id, ["card"])
    assert session.url is not None
    refused = pay(session.url, "4000000000000002")
    assert refused.status == 402 and '<p id="error" role="alert">Your card was declined.</p>' in refused.text
    assert types(server) == ["customer.created", "setup_intent.created", "setup_intent.setup_failed"]
    failed = server.events()[-1]["data"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert (failed["last_setup_error"]["code"], failed["last_setup_error"]["decline_code"]) == (
        "card_declined",
        "generic_decline",
    )
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.customers.payment_methods.list(customer.id).data == []

    assert pay(session.url).status == 303
    assert types(server)[3:] == SAVED[2:]
    assert client.v1.setup_intents.retrieve(failed["id"]).status == "succeeded"


def test_the_0341_card_is_saved_but_its_off_session_charge_is_a_402_replayed_by_its_key(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@example.com"})
    session = setup_session(client, customer.id, ["card"])
    assert session.url is not None
    assert pay(session.url, "4000 0000 0000 0341").status == 303
    (method,) = client.v1.customers.payment_methods.list(customer.id).data
    params: dict[str, Any] = {
        "amount": 4200,
        "currency": "eur",
        "customer": customer.id,
        "payment_method": method.id,
        "confirm": True,
        "off_session": True,
    }

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": "charge-inv_2"})  # type: ignore[arg-type]
    error = declined.value
    assert (error.http_status, error.code, error.user_message) == (
        402,
        "card_declined",
        "Your card was declined.",
    )
    body = error.json_body
    assert isinstance(body, dict)
    assert (body["error"]["type"], body["error"]["decline_code"]) == ("card_error", "generic_decline")
    intent = body["error"]["payment_intent"]
    assert (intent["status"], intent["customer"], intent["payment_method"]) == (
        "requires_payment_method",
        customer.id,
        None,
    )
    assert intent["last_payment_error"]["decline_code"] == "generic_decline"
    assert body["error"]["charge"] == intent["latest_charge"]
    assert body["error"]["payment_method"]["id"] == method.id
    assert types(server)[len(SAVED) :] == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]

    with pytest.raises(stripe.CardError) as replayed:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": "charge-inv_2"})  # type: ignore[arg-type]
    assert replayed.value.json_body == body
    assert replayed.value.headers is not None and replayed.value.headers.get("Idempotent-Replayed") == "true"
    assert types(server).count("payment_intent.created") == 1
    assert client.v1.payment_intents.retrieve(intent["id"]).status == "requires_payment_method"


def test_an_off_session_charge_is_replayed_by_its_idempotency_key(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@example.com"})
    session = setup_session(client, customer.id, ["card"])
    assert session.url is not None and pay(session.url).status == 303
    (method,) = client.v1.customers.payment_methods.list(customer.id).data
    params: dict[str, Any] = {
        "amount": 4200,
        "currency": "eur",
        "customer": customer.id,
        "payment_method": method.id,
        "confirm": True,
        "off_session": True,
    }
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "charge-inv_3"})  # type: ignore[arg-type]
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "charge-inv_3"})  # type: ignore[arg-type]
    assert (again.id, again.status) == (first.id, "succeeded")
    assert (
        again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
    )
    assert types(server).count("charge.succeeded") == 1
    changed = {**params, "amount": 4300}
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params=changed,  # type: ignore[arg-type]
            options={"idempotency_key": "charge-inv_3"},
        )


def test_off_session_payment_intents_are_validated_as_stripe_does(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    owner = client.v1.customers.create(params={"email": "ap@example.com"})
    other = client.v1.customers.create(params={"email": "other@example.com"})
    session = setup_session(client, owner.id, ["card"])
    assert session.url is not None and pay(session.url).status == 303
    (method,) = client.v1.customers.payment_methods.list(owner.id).data
    base: dict[str, Any] = {"amount": 4200, "currency": "eur", "confirm": True, "off_session": True}

    def refused(**params: Any) -> stripe.InvalidRequestError:
        merged = {**base, **params}
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.payment_intents.create(params=merged)  # type: ignore[arg-type]
        assert error.value.http_status == 400
        return error.value

    wrong = refused(customer=other.id, payment_method=method.id)
    assert wrong.param == "payment_method" and wrong.code is None
    assert wrong.user_message == (
        f"The PaymentMethod {method.id} does not belong to the Customer you supplied {other.id}. Please use "
        "this PaymentMethod with the Customer that it belongs to instead."
    )
    customerless = refused(payment_method=method.id)
    assert (customerless.code, customerless.param) == ("parameter_missing", "source")
    kind = refused(customer=owner.id, payment_method=method.id, allowed_payment_method_types=["sepa_debit"])
    assert str(kind.user_message).startswith(
        "The PaymentMethod provided (card) is not allowed for this PaymentIntent."
    )
    nothing = refused(customer=owner.id)
    assert nothing.code == "payment_intent_unexpected_state"
    assert refused(customer="cus_nope", payment_method=method.id).code == "resource_missing"
    assert refused(customer=owner.id, payment_method="pm_nope").param == "payment_method"
    small = refused(customer=owner.id, payment_method=method.id, amount=49)
    assert (small.code, small.user_message) == ("amount_too_small", "Amount must be at least €0.50 eur")
    assert refused(customer=owner.id, payment_method=method.id, confirm=False).param == "off_session"
    assert types(server).count("payment_intent.created") == 0

    detached = client.v1.payment_methods.detach(method.id)
    assert detached.customer is None
    assert server.events()[-1]["type"] == "payment_method.detached"
    assert server.events()[-1]["data"]["previous_attributes"] == {"customer": owner.id}
    assert client.v1.customers.payment_methods.list(owner.id).data == []
    used = refused(customer=owner.id, payment_method=method.id)
    assert str(used.user_message).startswith("The provided PaymentMethod was previously used")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(method.id)


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        (
            {"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 1}}]},
            "line_items",
            "You can not pass `line_items` in `setup` mode.",
        ),
        (
            {"currency": None, "allowed_payment_method_types": None},
            "currency",
            "Missing required param: currency.",
        ),
        ({"payment_intent_data": {"description": "x"}}, "payment_intent_data", None),
        ({"customer": "cus_nope"}, "customer", "No such customer: 'cus_nope'"),
        ({"customer_email": "ap@example.com"}, None, None),
        (
            {"currency": "usd", "allowed_payment_method_types": ["sepa_debit"]},
            "allowed_payment_method_types",
            None,
        ),
    ],
)
def test_a_setup_session_stripe_would_refuse_is_a_400(
    client: stripe.StripeClient, params: dict[str, Any], param: str | None, message: str | None
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@example.com"})
    base: dict[str, Any] = {
        "mode": "setup",
        "customer": customer.id,
        "currency": "eur",
        "allowed_payment_method_types": ["card"],
        "success_url": "http://127.0.0.1:9/saved",
    }
    merged = {key: value for key, value in {**base, **params}.items() if value is not None}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params=merged)  # type: ignore[arg-type]
    assert (refused.value.http_status, refused.value.param) == (400, param)
    if message is not None:
        assert refused.value.user_message == message


def test_the_current_api_versions_allowed_payment_method_types_filters_what_cannot_be_used(
    client: stripe.StripeClient,
) -> None:
    line_items = [
        {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 2500, "product_data": {"name": "x"}}}
    ]
    session = client.v1.checkout.sessions.create(
        params=session_params(
            line_items=line_items, allowed_payment_method_types=["sepa_debit", "us_bank_account", "card"]
        )  # type: ignore[arg-type]
    )
    assert session.payment_method_types == ["us_bank_account", "card"], "SEPA cannot debit dollars"
    assert session.allowed_payment_method_types == ["sepa_debit", "us_bank_account", "card"]
    assert session.url is not None and 'id="iban"' not in http(session.url).text

    intent = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "eur",
            "allowed_payment_method_types": ["card", "us_bank_account"],
        }
    )
    assert (intent.payment_method_types, intent.status) == (["card"], "requires_payment_method")
    with pytest.raises(stripe.InvalidRequestError) as nothing:
        client.v1.payment_intents.create(
            params={"amount": 2500, "currency": "eur", "allowed_payment_method_types": ["us_bank_account"]}
        )
    assert nothing.value.param == "allowed_payment_method_types"
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.checkout.sessions.create(
            params=session_params(allowed_payment_method_types=["card"], payment_method_types=["card"]),  # type: ignore[arg-type]
            options={"stripe_version": OLD_VERSION},
        )
    assert "You may only specify one of these parameters" in str(both.value.user_message)


# -- API versions: payment_method_types is no longer an input from 2026-09-30.endive --------------


def test_the_current_api_version_refuses_payment_method_types_on_sessions_and_payment_intents(
    server: LocalStripe, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as session:
        client.v1.checkout.sessions.create(params=session_params(payment_method_types=["card"]))  # type: ignore[arg-type]
    assert (session.value.http_status, session.value.code, session.value.param) == (
        400,
        "parameter_unknown",
        "payment_method_types",
    )
    assert session.value.user_message == "Received unknown parameter: payment_method_types"
    assert session.value.headers is not None
    assert session.value.headers["Stripe-Version"] == stripe.api_version == "2026-10-28.endive"

    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.checkout.sessions.create(
            params=session_params(allowed_payment_method_types=["card"], payment_method_types=["card"])  # type: ignore[arg-type]
        )
    assert (both.value.code, both.value.param) == ("parameter_unknown", "payment_method_types")

    with pytest.raises(stripe.InvalidRequestError) as intent:
        client.v1.payment_intents.create(
            params={"amount": 2500, "currency": "eur", "payment_method_types": ["card"]}  # type: ignore[typeddict-unknown-key]
        )
    assert (intent.value.http_status, intent.value.code, intent.value.param) == (
        400,
        "payment_method_types_no_longer_supported",
        "payment_method_types",
    )
    assert "allowed_payment_method_types" in str(intent.value.user_message)
    assert server.events() == []

    auth = {"Authorization": f"Bearer {KEY}"}
    for version in (None, "2026-09-30.endive"):  # no header: the server's own version
        headers = auth if version is None else {**auth, "Stripe-Version": version}
        raw = http(
            f"{server.url}/v1/payment_intents",
            {"amount": "2500", "currency": "eur", "payment_method_types[]": "card"},
            headers=headers,
        )
        assert raw.status == 400, raw.text
        error = json.loads(raw.text)["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            "payment_method_types_no_longer_supported",
            "payment_method_types",
        )
        assert raw.headers["Stripe-Version"] == (version or "2026-10-28.endive")


@pytest.mark.parametrize("version", [OLD_VERSION, "2026-08-26.dahlia"])
def test_an_older_api_version_still_takes_payment_method_types_for_a_session(
    server: LocalStripe, client: stripe.StripeClient, version: str
) -> None:
    session = client.v1.checkout.sessions.create(
        params=session_params(payment_method_types=["sepa_debit", "card"]),  # type: ignore[arg-type]
        options={"stripe_version": version},
    )
    assert session.status == "open" and session.payment_method_types == ["sepa_debit", "card"]
    assert session.allowed_payment_method_types is None
    assert session.last_response is not None and session.last_response.headers["Stripe-Version"] == version
    assert session.url is not None and 'id="iban"' in http(session.url).text


def test_an_older_api_version_still_takes_payment_method_types_for_a_payment_intent(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "payment_method_types": ["us_bank_account"]},  # type: ignore[typeddict-unknown-key]
        options={"stripe_version": OLD_VERSION},
    )
    assert (intent.payment_method_types, intent.status) == (["us_bank_account"], "requires_payment_method")
