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
            "payment_method_types[]": "card",
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
