"""The customer portal through the pay function's routes: a link opens a session, the account
and the statement show that customer's data only, forms need their CSRF token; and the
cross-customer suite: every portal route, tried with no session, a session or link of another
customer, an expired, revoked or tampered link or cookie, and another session's CSRF token."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from receivables.collections.finance import revoke_links
from receivables.customers.links import LinkScope, sign_link
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store
from receivables.web.portal.service import Portal
from receivables.web.portal.session import COOKIE, open_session
from receivables_local.functions import function_module, load_function

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

KEY = b"q" * 48
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "A-1,2026-09-01,2026-10-01,EUR,ALPHA,Alpha Foods,ap@alpha.example,1000.00\n"
    "A-2,2026-10-15,2026-11-14,EUR,ALPHA,Alpha Foods,ap@alpha.example,250.00\n"
    "B-1,2026-10-01,2026-10-31,EUR,BETA,Beta Tools,ap@beta.example,777.00\n"
)
ALPHA_ONLY = ("A-1", "A-2", "Alpha Foods")
BETA_ONLY = ("B-1", "Beta Tools", "777")


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def customer_of(number: str) -> str:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    return invoice.customer_id


@pytest.fixture
def portal(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    aws.drop("inbox/portal.csv", LEDGER)
    at = aws.clock.now().isoformat().replace("+00:00", "Z")
    record_receipt(
        Receipt(
            "bank",
            "T-1",
            Money(40000, "EUR"),
            at,
            "bank_transfer",
            target_invoice_ids=(inv("A-1"),),
            on_account=True,
        ),
        aws.clock,
    )
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False))
    with Client(module.app) as client:
        yield client


def link(aws: Aws, number: str, *, seconds: int = 3600, generation: int = 0, action: str = "portal") -> str:
    expires = int(aws.clock.now().timestamp()) + seconds
    return sign_link(LinkScope(action, customer_of(number), inv(number), expires, generation), KEY)


def sign_in(client: Client, token: str) -> str:
    """Open the link; the session cookie it sets (``name=value``)."""
    opened = client.http.get(f"/portal/link/{token}")
    assert opened.status_code == 303, opened.body
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return cookie.split(";", 1)[0]


def get(client: Client, path: str, cookie: str | None = None) -> Any:
    headers = {"Accept": "text/html,application/pdf,*/*;q=0.8"}  # as a browser asks
    if cookie:
        headers["Cookie"] = cookie
    return client.http.get(path, headers=headers)


def post(client: Client, path: str, cookie: str | None, **fields: str) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    return client.http.post(path, headers=headers, body=urlencode(fields).encode())


def csrf_of(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_link_opens_the_customers_own_account(aws: Aws, portal: Client) -> None:
    opened = portal.http.get(f"/portal/link/{link(aws, 'A-2')}")
    assert opened.headers["Location"] == f"/portal#inv-{inv('A-2')}"
    cookie = sign_in(portal, link(aws, "A-2"))
    home = get(portal, "/portal", cookie)
    page = home.body.decode()
    assert home.status_code == 200 and home.headers["Cache-Control"] == "no-store"
    assert all(text in page for text in ALPHA_ONLY)
    assert not any(text in page for text in BETA_ONLY)
    assert 'data-amount="600.00"' in page and 'data-amount="250.00"' in page  # A-1 less 400.00 paid
    assert "€600.00" in page and "32" in page  # English money; A-1 is 32 days late on 2 Nov
    assert f'id="inv-{inv("A-2")}"' in page
    alpha = store.get_customer(customer_of("A-2"))
    assert alpha is not None and alpha.portal_last_used_at == "2026-11-02T09:00:00.000Z"
    opened_events = [
        e for e in store.audit_events(store.customer_pk(alpha.customer_id)) if e.type == "PortalOpened"
    ]
    assert len(opened_events) == 2 and opened_events[-1].data["invoice_id"] == inv("A-2")


def test_the_statement_as_a_page_and_as_csv(aws: Aws, portal: Client) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    shown = get(portal, "/portal/statement?from=2026-10-01&to=2026-11-30", cookie)
    page = shown.body.decode()
    assert shown.status_code == 200
    assert 'data-opening="1000.00"' in page and 'data-closing="850.00"' in page  # +250 -400
    exported = get(portal, "/portal/statement?from=2026-10-01&to=2026-11-30&format=csv", cookie)
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.body.decode())))
    assert [(r["kind"], r["amount"], r["balance"]) for r in rows] == [
        ("opening", "", "1000.00"),
        ("invoice", "250.00", "1250.00"),
        ("payment", "-400.00", "850.00"),
        ("closing", "", "850.00"),
    ]
    for bad in (
        "from=2026-11-30&to=2026-10-01",
        "from=yesterday&to=2026-10-01",
        "from=2020-01-01&to=2026-10-01",
    ):
        assert get(portal, f"/portal/statement?{bad}", cookie).status_code == 400


def test_the_language_switch_and_sign_out_take_the_sessions_csrf_token(aws: Aws, portal: Client) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    assert post(portal, "/portal/language", cookie, language="fr").status_code == 403, "no token"
    switched = post(portal, "/portal/language", cookie, language="fr", csrf=token)
    assert switched.status_code == 303
    page = get(portal, "/portal", cookie).body.decode()
    assert 'lang="fr"' in page and "Factures ouvertes" in page and "600,00" in page
    events = store.audit_events(store.customer_pk(customer_of("A-1")))
    assert events[-1].type == "LanguageChanged" and events[-1].actor == "customer:portal"

    out = post(portal, "/portal/logout", cookie, csrf=token)
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]


ROUTES = [
    ("GET", "/portal"),
    ("GET", f"/portal/invoices/{inv('A-1')}"),
    ("GET", f"/portal/invoices/{inv('A-1')}/pdf"),
    ("GET", f"/portal/invoices/{inv('A-1')}/original"),
    ("GET", f"/portal/invoices/{inv('A-1')}/attachments/1"),
    ("GET", "/portal/statement?from=2026-01-01&to=2026-12-31&format=pdf"),
    ("GET", "/portal/statement?from=2026-01-01&to=2026-12-31"),
    ("GET", "/portal/statement?from=2026-01-01&to=2026-12-31&format=csv"),
    ("POST", "/portal/language"),
    ("POST", "/portal/pay"),
    ("POST", f"/portal/invoices/{inv('A-1')}/po"),
    ("POST", "/portal/autopay"),
    ("GET", "/portal/autopay/done?session_id=cs_test_a1"),
    ("POST", "/portal/autopay/off"),
    ("POST", "/portal/logout"),
]


def attacks(aws: Aws, portal: Client) -> dict[str, tuple[str | None, str | None]]:
    """Each attack: (the cookie it sends, the CSRF token it posts) against Alpha's data."""
    beta = sign_in(portal, link(aws, "B-1"))
    beta_csrf = csrf_of(get(portal, "/portal", beta).body.decode())
    alpha_link = LinkScope("portal", customer_of("A-1"), None, int(aws.clock.now().timestamp()) + 60, 0)
    stale = open_session(alpha_link, KEY, aws.clock.now() - timedelta(hours=1))
    forged = open_session(alpha_link, b"x" * 48, aws.clock.now())
    alpha = sign_in(portal, link(aws, "A-1"))
    alpha_csrf = csrf_of(get(portal, "/portal", alpha).body.decode())
    tampered = alpha[:-3] + ("AAA" if not alpha.endswith("AAA") else "BBB")
    return {
        "no session": (None, None),
        "expired session": (f"{COOKIE}={stale.token}", alpha_csrf),
        "forged session": (f"{COOKIE}={forged.token}", alpha_csrf),
        "tampered cookie": (tampered, alpha_csrf),
        "a pay link as the cookie": (f"{COOKIE}={link(aws, 'A-1', action='pay')}", alpha_csrf),
        "another session's csrf": (alpha, beta_csrf),
        "another customer's session": (beta, beta_csrf),
    }


def test_no_route_shows_or_changes_another_customers_data(aws: Aws, portal: Client) -> None:
    tried = 0
    for name, (cookie, token) in attacks(aws, portal).items():
        for method, path in ROUTES:
            if name == "another session's csrf" and method == "GET":
                continue  # Alpha's own cookie on a page is Alpha's own business
            fields = {"language": "de", "invoice": inv("A-1"), **({"csrf": token} if token else {})}
            answer = get(portal, path, cookie) if method == "GET" else post(portal, path, cookie, **fields)
            body = answer.body.decode("utf-8", "replace")
            leaked = [text for text in ALPHA_ONLY if text in body]
            tried += 1
            if name == "another customer's session":
                assert not leaked, (name, path, leaked)  # Beta sees Beta's own account only
                assert not (path.startswith("/portal/invoices/") and answer.status_code != 404), (
                    "Alpha's invoice is not Beta's",
                    path,
                )
                continue
            assert answer.status_code in (400, 401, 403), (name, method, path, answer.status_code)
            assert not leaked, (name, path, leaked)
    alpha = store.get_customer(customer_of("A-1"))
    assert alpha is not None and alpha.language is None, "no attack changed Alpha's language"
    assert tried == 6 * len(ROUTES) + sum(method == "POST" for method, _ in ROUTES)


@pytest.mark.parametrize(
    ("name", "status"),
    [("expired", 401), ("revoked", 410), ("tampered", 400), ("pay link", 400), ("garbage", 400)],
)
def test_a_link_that_cannot_be_honoured_opens_no_session(
    aws: Aws, portal: Client, name: str, status: int
) -> None:
    good = link(aws, "A-1")
    token = {
        "expired": link(aws, "A-1", seconds=-1),
        "revoked": good,
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "pay link": link(aws, "A-1", action="pay"),
        "garbage": "not-a-token",
    }[name]
    if name == "revoked":
        revoke_links(customer_of("A-1"), "test", "finance:u-1", aws.clock)
    opened = portal.http.get(f"/portal/link/{token}")
    assert opened.status_code == status
    assert "Set-Cookie" not in opened.headers or "Max-Age=0" in opened.headers["Set-Cookie"]
    assert not any(text in opened.body.decode() for text in ALPHA_ONLY)


def test_revoking_the_links_ends_the_sessions_they_opened(aws: Aws, portal: Client) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    assert get(portal, "/portal", cookie).status_code == 200
    revoke_links(customer_of("A-1"), "lost laptop", "finance:u-1", aws.clock)
    ended = get(portal, "/portal", cookie)
    assert ended.status_code == 410 and "Max-Age=0" in ended.headers["Set-Cookie"]
    assert get(portal, "/portal", sign_in(portal, link(aws, "A-1", generation=1))).status_code == 200


class Checkout:
    """Records Checkout Session requests; answers as Stripe does."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []

    def __call__(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        self.calls.append((params, key))
        return {"id": "cs_test_many", "url": "https://checkout.example/cs_test_many", "status": "open"}


def checkout_for(aws: Aws, monkeypatch: pytest.MonkeyPatch, base_url: str = "") -> Checkout:
    """The pay function's portal, with Stripe Checkout recorded."""
    checkout = Checkout()
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(
        wiring,
        "portal",
        lambda: Portal(KEY, aws.clock, secure=False, base_url=base_url, create_session=checkout),
    )
    return checkout


def paid(aws: Aws, params: dict[str, Any], payment_intent: str, amount: int) -> None:
    """Stripe says the Checkout Session of ``params`` was paid."""
    from receivables.payments.stripe_events import handle_event

    session = {
        "id": "cs_" + payment_intent,
        "object": "checkout.session",
        "payment_status": "paid",
        "payment_intent": payment_intent,
        "amount_total": amount,
        "currency": "eur",
        "metadata": params["metadata"],
        "created": int(aws.clock.now().timestamp()),
        "payment_method_types": ["card"],
    }
    event = {"id": "evt_" + payment_intent, "type": "checkout.session.completed", "data": {"object": session}}
    handle_event(event, aws.clock)


def test_the_payer_pays_several_invoices_in_one_checkout(
    aws: Aws, portal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = checkout_for(aws, monkeypatch, "https://p.example")
    cookie = sign_in(portal, link(aws, "A-1"))
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    chosen = urlencode([("csrf", token), ("invoice", inv("A-2")), ("invoice", inv("A-1"))]).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    answer = portal.http.post("/portal/pay", headers=headers, body=chosen)
    assert answer.status_code == 303 and answer.headers["Location"] == "https://checkout.example/cs_test_many"
    again = portal.http.post("/portal/pay", headers=headers, body=chosen)
    (params, key), (_, key_again) = checkout.calls
    assert key == key_again, "a double submit opens the same session"
    assert [item["price_data"]["unit_amount"] for item in params["line_items"]] == [60000, 25000]
    assert params["metadata"]["invoice_ids"] == f"{inv('A-1')},{inv('A-2')}"  # oldest due first
    assert params["success_url"] == "https://p.example/portal?paid=1" and again.status_code == 303

    # Stripe says the session is paid: exactly those invoices are paid.
    paid(aws, params, "pi_many", 85000)
    for number in ("A-1", "A-2"):
        invoice = store.get_invoice(inv(number))
        assert invoice is not None and invoice.status.value == "paid", number
    thanks = get(portal, "/portal?paid=1", cookie).body.decode()
    assert (
        'id="paid-notice"' in thanks
        and "A-1" not in thanks.split("paid-notice", 1)[1].split("</section>", 2)[1]
    )


@pytest.mark.parametrize(
    "case", ["another customer's invoice", "nothing ticked", "unknown invoice", "no csrf", "disputed"]
)
def test_a_selection_that_cannot_be_paid_opens_no_checkout(
    aws: Aws, portal: Client, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    from dataclasses import replace

    from receivables.ledger.model import AuditEvent
    from receivables.ledger.rules import open_dispute

    checkout = checkout_for(aws, monkeypatch)
    cookie = sign_in(portal, link(aws, "A-1"))
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    if case == "disputed":
        a2 = store.get_invoice(inv("A-2"))
        assert a2 is not None
        changed = replace(open_dispute(a2), version=a2.version + 1)
        store.apply_changes(
            [
                (
                    changed,
                    AuditEvent(
                        a2.invoice_id, changed.version, "DisputeOpened", "2026-11-02T09:00:00.000Z", "t", {}
                    ),
                )
            ]
        )
    fields = {
        "another customer's invoice": [("csrf", token), ("invoice", inv("A-1")), ("invoice", inv("B-1"))],
        "nothing ticked": [("csrf", token)],
        "unknown invoice": [("csrf", token), ("invoice", "inv_000000000000000000000000")],
        "no csrf": [("invoice", inv("A-1"))],
        "disputed": [("csrf", token), ("invoice", inv("A-2"))],
    }[case]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    answer = portal.http.post("/portal/pay", headers=headers, body=urlencode(fields).encode())
    assert answer.status_code == (403 if case == "no csrf" else 400)
    assert checkout.calls == []
    assert "B-1" not in answer.body.decode() and "Beta" not in answer.body.decode()


def test_a_fresh_link_is_mailed_to_a_known_contact_and_the_answer_never_tells(
    aws: Aws, portal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    from email import message_from_bytes, policy

    from receivables.mail.mailer import MailSettings, send_account_link

    mail = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "http://portal.example")
    sent: list[tuple[str, bytes]] = []

    def send_raw(to: str, raw: bytes) -> str:
        sent.append((to, raw))
        return f"msg-{len(sent)}"

    def send_link(customer: Any, address: str) -> str:
        return send_account_link(customer, address, mail, KEY, send_raw, aws.clock)

    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False, send_link=send_link))
    start = portal.http.get("/portal/start?lang=fr")
    assert (
        start.status_code == 200
        and 'name="email"' in start.body.decode()
        and 'lang="fr"' in start.body.decode()
    )

    def ask(address: str) -> Any:
        form = urlencode({"email": address, "language": "en"}).encode()
        return portal.http.post(
            "/portal/start", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form
        )

    known, unknown = ask(" AP@Alpha.Example "), ask("nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 200
    assert known.body == unknown.body, "the answer does not tell a known address from an unknown one"
    assert [to for to, _ in sent] == ["ap@alpha.example"]
    message = message_from_bytes(sent[0][1], policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    token = re.search(r"http://portal.example/portal/link/([\w.-]+)", text)
    assert token and message["X-Receivables-Mail"] == "account_link", text
    cookie = sign_in(portal, token.group(1))
    assert "A-1" in get(portal, "/portal", cookie).body.decode()

    for _ in range(5):  # three an hour per address, counted whatever the answer
        assert ask("ap@alpha.example").status_code == 200
    assert len(sent) == 3

    # Finance sees the links sent (each recorded as PortalLinkSent, counted from the stream).
    from receivables.reporting.aggregates import links_sent

    assert load_function("aggregates").handle({"Records": aws.stream().read()}) == {"batchItemFailures": []}
    assert links_sent(customer_of("A-1")) == 3 and links_sent(customer_of("B-1")) == 0


def test_the_start_page_is_rate_limited_per_client(aws: Aws, portal: Client) -> None:
    from receivables.web.portal.service import PER_CLIENT_PER_HOUR

    answers = [
        portal.http.post(
            "/portal/start",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode({"email": f"probe{n}@example.com"}).encode(),
        ).status_code
        for n in range(PER_CLIENT_PER_HOUR + 2)
    ]
    assert answers[:PER_CLIENT_PER_HOUR] == [200] * PER_CLIENT_PER_HOUR
    assert answers[PER_CLIENT_PER_HOUR:] == [429, 429]


def test_the_invoice_and_the_statement_download_as_pdf(aws: Aws, portal: Client) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    document = get(portal, f"/portal/invoices/{inv('A-1')}/pdf", cookie)
    assert document.status_code == 200 and document.headers["Content-Type"] == "application/pdf"
    assert document.body.startswith(b"%PDF") and b"A-1" in document.body
    assert 'filename="invoice-A-1.pdf"' in document.headers["Content-Disposition"]
    statement = get(portal, "/portal/statement?from=2026-10-01&to=2026-11-30&format=pdf", cookie)
    assert statement.status_code == 200 and statement.body.startswith(b"%PDF")
    foreign = get(portal, f"/portal/invoices/{inv('B-1')}/pdf", cookie)
    assert foreign.status_code == 404 and b"B-1" not in foreign.body and b"Beta" not in foreign.body
    assert get(portal, "/portal/invoices/inv_nothing/pdf", cookie).status_code == 404


def test_the_payer_uses_their_credit_first(aws: Aws, portal: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from receivables.payments.allocation import payment_id_for, reallocate

    reallocate(payment_id_for("bank", "T-1"), {}, aws.clock, actor="finance:u-1")  # 400.00 credit
    checkout = checkout_for(aws, monkeypatch)
    cookie = sign_in(portal, link(aws, "A-1"))
    home = get(portal, "/portal", cookie).body.decode()
    assert 'id="use-credit"' in home and "€400.00" in home
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}

    # A-2 alone (250.00) is paid from the credit: no checkout at all.
    form = urlencode([("csrf", csrf_of(home)), ("invoice", inv("A-2")), ("use_credit", "1")]).encode()
    answer = portal.http.post("/portal/pay", headers=headers, body=form)
    assert answer.status_code == 303 and answer.headers["Location"] == "/portal?paid=credit"
    assert checkout.calls == []
    a2 = store.get_invoice(inv("A-2"))
    assert a2 is not None and a2.status.value == "paid"

    # A-1 (1,000.00) takes the 150.00 left, and Checkout the rest.
    form = urlencode([("csrf", csrf_of(home)), ("invoice", inv("A-1")), ("use_credit", "1")]).encode()
    answer = portal.http.post("/portal/pay", headers=headers, body=form)
    assert answer.status_code == 303 and len(checkout.calls) == 1
    assert [i["price_data"]["unit_amount"] for i in checkout.calls[0][0]["line_items"]] == [85000]


def test_a_part_payment_where_finance_allows_it_goes_oldest_first(
    aws: Aws, portal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from receivables.collections.finance import change_customer

    checkout = checkout_for(aws, monkeypatch)
    cookie = sign_in(portal, link(aws, "A-1"))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}

    def pay(amount: str) -> Any:
        token = csrf_of(get(portal, "/portal", cookie).body.decode())
        fields = [("csrf", token), ("invoice", inv("A-1")), ("invoice", inv("A-2")), ("amount", amount)]
        return portal.http.post("/portal/pay", headers=headers, body=urlencode(fields).encode())

    assert pay("300.00").status_code == 400 and checkout.calls == [], "finance has not allowed it"
    assert 'id="amount"' not in get(portal, "/portal", cookie).body.decode()
    change_customer(
        customer_of("A-1"),
        lambda c: replace(c, partial_payments=True),
        "PreferencesChanged",
        {},
        "t",
        aws.clock,
    )
    assert 'id="amount"' in get(portal, "/portal", cookie).body.decode()
    for bad in ("0", "-5", "850.01", "12.345", "lots"):
        assert pay(bad).status_code == 400, bad
    assert checkout.calls == []
    assert pay("300,00").status_code == 303
    ((params, _),) = checkout.calls
    assert [i["price_data"]["unit_amount"] for i in params["line_items"]] == [30000]
    paid(aws, params, "pi_part", 30000)
    a1, a2 = store.get_invoice(inv("A-1")), store.get_invoice(inv("A-2"))
    assert a1 is not None and a2 is not None
    assert (a1.balance.to_decimal_string(), a2.balance.to_decimal_string()) == ("300.00", "250.00")
