"""The finance console through its function, on moto, with a user pool's managed login faked in
process (its token endpoint, its keys): sign-in with PKCE and state, the ID token's checks, the
session (idle timeout, refresh, sign-out), the roles and the form tokens of every page and action."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from receivables.adapters.cognito import ManagedLogin, pkce_challenge
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables.web.console.auth import IDLE_SECONDS, LOGIN_COOKIE, SESSION_COOKIE, SignIn
from receivables.web.console.service import Console
from receivables_local.functions import function_module, load_function

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test"
CLIENT = "console-client"
LOGIN = "https://login.example"
BASE = "https://console.example"
ROWS = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "W-1,2026-08-01,2026-08-31,EUR,ACME,Acme Logistics,ap@acme.example,1000.00\n"  # 63 days late
    "W-2,2026-10-01,2026-10-31,EUR,ACME,Acme Logistics,ap@acme.example,200.00\n"  # 2 days late
    "W-3,2026-10-20,2026-11-19,EUR,BOLT,Bolt Parts,ap@bolt.example,300.00\n"  # current
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def new_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakePool:
    """The user pool's managed login as the console sees it: codes bound to their PKCE
    challenge and redirect, refresh tokens, ID tokens signed with the pool's key."""

    now: list[float]
    key: Any = field(default_factory=new_key)
    groups: dict[str, list[str]] = field(default_factory=dict)  # username → groups
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code → user, challenge, uri
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token → user
    revoked: list[str] = field(default_factory=list)
    released: list[dict[str, Any]] = field(default_factory=list)  # SendTaskSuccess calls
    links: list[tuple[str, str]] = field(default_factory=list)  # portal links mailed: customer, to
    told: list[tuple[str, str, str]] = field(default_factory=list)  # mentions: to, by, url
    refreshed: int = 0
    token_lifetime: int = 3600
    claims_override: dict[str, Any] = field(default_factory=dict)
    signing_key: Any = None  # another key than the published one
    kid: str = "k1"

    def id_token(self, user: str) -> str:
        now = int(self.now[0])
        claims = {
            "iss": ISSUER,
            "aud": CLIENT,
            "sub": f"sub-{user}",
            "email": f"{user}@finance.example",
            "cognito:groups": self.groups.get(user, []),
            "token_use": "id",
            "iat": now,
            "auth_time": now,
            "exp": now + self.token_lifetime,
            **self.claims_override,
        }
        key = self.signing_key or self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def authorize(self, location: str, user: str) -> dict[str, str]:
        """What the managed login answers once ``user`` signed in: the code and the state."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query["code_challenge_method"] == "S256" and query["client_id"] == CLIENT
        code = secrets.token_urlsafe(12)
        self.codes[code] = (user, query["code_challenge"], query["redirect_uri"])
        return {"code": code, "state": query["state"]}

    def post_form(self, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if url == f"{LOGIN}/oauth2/revoke":
            self.revoked.append(form["token"])
            self.refresh_tokens.pop(form["token"], None)
            return 200, {}
        assert url == f"{LOGIN}/oauth2/token" and form["client_id"] == CLIENT
        if form["grant_type"] == "authorization_code":
            found = self.codes.pop(form["code"], None)
            if found is None:
                return 400, {"error": "invalid_grant"}
            user, challenge, uri = found
            if pkce_challenge(form["code_verifier"]) != challenge or uri != form["redirect_uri"]:
                return 400, {"error": "invalid_grant"}
            refresh = secrets.token_urlsafe(16)
            self.refresh_tokens[refresh] = user
            return 200, {"id_token": self.id_token(user), "access_token": "a", "refresh_token": refresh}
        user = self.refresh_tokens.get(form["refresh_token"], "")
        if not user:
            return 400, {"error": "invalid_grant"}
        self.refreshed += 1
        return 200, {"id_token": self.id_token(user), "access_token": "a"}

    def get_json(self, url: str) -> dict[str, Any]:
        assert url == f"{ISSUER}/.well-known/jwks.json"
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


def event(
    method: str, path: str, query: dict[str, str] | None, body: str | None, cookies: str
) -> dict[str, Any]:
    app = load_function("console").app
    resource, params = path, {}
    for route in app.routes:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route) + "$"
        matched = re.match(pattern, path)
        if matched and method in app.routes[route]:
            resource, params = route, matched.groupdict()
            break
    headers = {"host": "console.example"}
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["cookie"] = cookies
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "requestContext": {"httpMethod": method, "resourcePath": resource},
        "body": body,
        "isBase64Encoded": False,
        "stageVariables": None,
    }


@dataclass
class Browser:
    """One browser's cookies, against the console function."""

    pool: FakePool
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    def open(
        self, method: str, path: str, query: dict[str, str] | None = None, form: dict[str, str] | None = None
    ) -> Page:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form) if form is not None else None
        response = load_function("console").app(event(method, path, query, body, header), None)
        cookies = response.get("multiValueHeaders", {}).get("Set-Cookie") or []
        single = response["headers"].get("Set-Cookie")
        cookies = [*cookies, *([single] if single else [])]
        self.set_cookies = cookies
        for line in cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Page(response["statusCode"], response["headers"], response.get("body") or "")

    def sign_in(self, user: str) -> Page:
        started = self.open("GET", "/console/login", {"next": "/console/worklist"})
        assert started.status == 303 and started.location.startswith(f"{LOGIN}/oauth2/authorize?")
        return self.open("GET", "/console/callback", self.pool.authorize(started.location, user))

    def csrf(self, path: str = "/console") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.open("GET", path).body)
        assert found
        return found.group(1)


@dataclass
class Page:
    status: int
    headers: dict[str, Any]
    body: str

    @property
    def location(self) -> str:
        return str(self.headers.get("Location", ""))


@pytest.fixture
def console(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> FakePool:
    aws.drop("inbox/w.csv", ROWS)
    load_function("aggregates").handle({"Records": aws.stream().read()})
    wiring = function_module("console", "wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))
    now = [time.time()]
    pool = FakePool(
        now, groups={"vera": ["viewer"], "cole": ["viewer", "collector"], "carla": ["controller"]}
    )
    jwks = f"{ISSUER}/.well-known/jwks.json"
    login = ManagedLogin(LOGIN, CLIENT, ISSUER, jwks, pool.post_form, pool.get_json, lambda: now[0])
    key = b"k" * 32

    def console() -> Console:
        sign_in = SignIn(login, BASE, key, lambda: now[0])

        def send_link(customer: Any, address: str) -> str:
            pool.links.append((customer.customer_id, address))
            return "message-1"

        def tell(addresses: list[str], by: str, about: str, url: str, text: str) -> list[str]:
            colleagues = [a for a in addresses if a.endswith("@finance.example")]
            pool.told.extend((a, by, url) for a in colleagues)
            return colleagues

        return Console(
            sign_in,
            aws.clock,
            send_task_success=lambda **given: pool.released.append(given),
            send_link=send_link,
            tell_mentioned=tell,
        )

    monkeypatch.setattr(wiring, "console", console)
    return pool


def customer_id(name: str = "Acme Logistics") -> str:
    (found,) = [c for c in store.customers_by_name(50, None)[0] if c.name == name]
    return found.customer_id


def test_a_collector_signs_in_works_the_worklist_and_a_customer(console: FakePool) -> None:
    browser = Browser(console)
    signed_in = browser.sign_in("cole")
    assert signed_in.status == 303 and signed_in.location == "/console/worklist"
    session_cookie = next(c for c in browser.set_cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session_cookie and "Secure" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/console" in session_cookie and LOGIN_COOKIE not in browser.cookies

    dashboard = browser.open("GET", "/console")
    assert dashboard.status == 200 and 'http-equiv="refresh"' in dashboard.body
    assert "/console/invoices?currency=EUR&amp;bucket=61-90" in dashboard.body
    assert 'id="aging-chart-EUR"' in dashboard.body and dashboard.body.count("<rect ") == 5
    assert "script-src 'none'" in dashboard.headers["Content-Security-Policy"]
    bucket = browser.open("GET", "/console/invoices", {"currency": "EUR", "bucket": "61-90"})
    assert bucket.status == 200 and "W-1" in bucket.body and "W-2" not in bucket.body

    worklist = browser.open("GET", "/console/worklist")
    assert worklist.body.index("W-1") < worklist.body.index("W-2") and "W-3" not in worklist.body
    csrf = browser.csrf("/console/worklist")
    assigned = browser.open(
        "POST",
        f"/console/invoices/{inv('W-1')}/collector",
        form={"csrf": csrf, "collector": "cole@finance.example", "back": "/console/worklist?risk=standard"},
    )
    assert assigned.status == 303 and assigned.location == "/console/worklist?risk=standard"
    mine = browser.open("GET", "/console/worklist", {"collector": "cole@finance.example"})
    assert "W-1" in mine.body and "W-2" not in mine.body
    assert "W-2" in browser.open("GET", "/console/worklist", {"bucket": "1-30"}).body

    acme = customer_id()
    page = browser.open("GET", f"/console/customers/{acme}")
    assert page.status == 200 and "ap@acme.example" in page.body and 'id="call-form"' in page.body
    for path, form in (
        ("calls", {"outcome": "promised", "text": "Spoke to AP, paying on the 20th"}),
        ("promises", {"invoice_id": inv("W-2"), "date": "2026-11-20", "amount": "200.00"}),
        ("notes", {"text": "Send the PO copy"}),
    ):
        done = browser.open("POST", f"/console/customers/{acme}/{path}", form={**form, "csrf": csrf})
        assert done.status == 303 and done.location == f"/console/customers/{acme}", (path, done.body)
    timeline = browser.open("GET", f"/console/customers/{acme}").body
    assert "Spoke to AP, paying on the 20th" in timeline and "Send the PO copy" in timeline
    assert 'data-kind="CallLogged"' in timeline and "2026-11-20" in timeline
    assert store.get_invoice(inv("W-2")).dunning.promise is not None  # type: ignore[union-attr]
    events = store.audit_events(store.customer_pk(acme))
    assert [e.type for e in events][-2:] == ["CallLogged", "NoteAdded"]
    assert events[-1].actor == "finance:cole@finance.example"


def test_a_viewer_sees_every_page_and_is_refused_every_action(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("vera")
    acme = customer_id()
    for path in ("/console", "/console/worklist", "/console/invoices", f"/console/customers/{acme}"):
        assert browser.open("GET", path).status == 200, path
    page = browser.open("GET", f"/console/customers/{acme}").body
    assert 'id="call-form"' not in page and "/collector" not in browser.open("GET", "/console/worklist").body
    csrf = browser.csrf()
    for path, form in (
        (f"/console/customers/{acme}/notes", {"text": "x"}),
        (f"/console/customers/{acme}/calls", {"outcome": "reached"}),
        (f"/console/customers/{acme}/promises", {"invoice_id": inv("W-2"), "date": "2026-11-20"}),
        (f"/console/invoices/{inv('W-1')}/collector", {"collector": "vera"}),
    ):
        refused = browser.open("POST", path, form={**form, "csrf": csrf})
        assert refused.status == 403 and "collector role" in refused.body, path
    assert all(e.type not in ("NoteAdded", "CallLogged") for e in store.audit_events(store.customer_pk(acme)))
    assert store.get_invoice(inv("W-1")).dunning.collector is None  # type: ignore[union-attr]


def test_a_controller_may_do_what_a_collector_may(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("carla")
    acme = customer_id()
    done = browser.open(
        "POST", f"/console/customers/{acme}/notes", form={"text": "Checked", "csrf": browser.csrf()}
    )
    assert done.status == 303


def test_without_a_session_a_page_sends_to_sign_in_and_an_action_changes_nothing(console: FakePool) -> None:
    browser = Browser(console)
    acme = customer_id()
    page = browser.open("GET", f"/console/customers/{acme}")
    assert page.status == 303 and page.location == f"/console/login?next=%2Fconsole%2Fcustomers%2F{acme}"
    refused = browser.open("POST", f"/console/customers/{acme}/notes", form={"text": "x", "csrf": "x"})
    assert refused.status == 401
    browser.cookies[SESSION_COOKIE] = "forged"
    assert browser.open("GET", "/console").status == 303


def test_a_form_without_the_sessions_token_is_refused(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("cole")
    acme = customer_id()
    for form in ({"text": "no token"}, {"text": "wrong token", "csrf": "x" * 32}):
        refused = browser.open("POST", f"/console/customers/{acme}/notes", form=form)
        assert refused.status == 403 and "expired" in refused.body
    other = Browser(console)
    other.sign_in("carla")
    stolen = other.csrf()  # another session's token is no good either
    assert (
        browser.open("POST", f"/console/customers/{acme}/notes", form={"text": "t", "csrf": stolen}).status
        == 403
    )
    assert all(e.type != "NoteAdded" for e in store.audit_events(store.customer_pk(acme)))


def test_an_idle_session_ends_and_a_self_refreshing_page_does_not_keep_it_alive(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("cole")
    console.now[0] += IDLE_SECONDS - 120
    assert browser.open("GET", "/console", {"refresh": "auto"}).status == 200
    console.now[0] += 180
    ended = browser.open("GET", "/console", {"refresh": "auto"})
    assert ended.status == 303 and ended.location.startswith("/console/login")
    assert console.revoked  # the refresh token is ended at Cognito too


def test_activity_keeps_a_session_and_an_expired_id_token_is_refreshed(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("cole")  # its ID token lasts an hour

    def wait(*minutes: int) -> Page:
        for step in minutes:  # never idle for 30 minutes
            console.now[0] += step * 60
            shown = browser.open("GET", "/console/worklist")
        return shown

    assert wait(25, 25, 25).status == 200  # refreshed at 75 minutes: the next lasts until 135
    assert console.refreshed == 1
    # Taken out of the collector group: the next refresh makes them a viewer.
    console.groups["cole"] = ["viewer"]
    assert wait(25, 25, 12).status == 200 and console.refreshed == 2
    acme = customer_id()
    note = {"text": "x", "csrf": browser.csrf()}
    assert browser.open("POST", f"/console/customers/{acme}/notes", form=note).status == 403
    # Out of every group: the next refresh ends the session.
    console.groups["cole"] = []
    ended = wait(25, 25, 12)
    assert ended.status == 303 and ended.location.startswith("/console/login")


def test_signing_out_ends_the_session_here_and_at_cognito(console: FakePool) -> None:
    browser = Browser(console)
    browser.sign_in("cole")
    kept = dict(browser.cookies)
    signed_out = browser.open("POST", "/console/logout", form={"csrf": browser.csrf()})
    assert signed_out.status == 303
    assert signed_out.location == f"{LOGIN}/logout?" + urlencode(
        {"client_id": CLIENT, "logout_uri": f"{BASE}/console/signed-out"}
    )
    assert SESSION_COOKIE not in browser.cookies and console.revoked
    replayed = Browser(console, cookies=kept)  # the old cookie, replayed
    assert replayed.open("GET", "/console").status == 303
    assert browser.open("GET", "/console/signed-out").status == 200


def test_a_sign_in_answer_this_browser_did_not_ask_for_is_refused(console: FakePool) -> None:
    browser = Browser(console)
    started = browser.open("GET", "/console/login")
    answer = console.authorize(started.location, "cole")
    # Another state than the one in the sign-in cookie.
    assert browser.open("GET", "/console/callback", {**answer, "state": "other"}).status == 400
    # No sign-in cookie (the answer delivered to another browser).
    assert Browser(console).open("GET", "/console/callback", answer).status == 400
    # A code issued for another browser's PKCE challenge, with this browser's own state.
    browser.open("GET", "/console/login")
    attacker = Browser(console)
    stolen = console.authorize(attacker.open("GET", "/console/login").location, "cole")
    refused = browser.open(
        "GET", "/console/callback", {"code": stolen["code"], "state": browser_state(browser)}
    )
    assert refused.status == 400 and "refused" in refused.body
    # A sign-in cookie changed by hand.
    again = console.authorize(browser.open("GET", "/console/login").location, "cole")
    browser.cookies[LOGIN_COOKIE] = browser.cookies[LOGIN_COOKIE][:-2] + "AA"
    assert browser.open("GET", "/console/callback", again).status == 400
    assert SESSION_COOKIE not in browser.cookies


def browser_state(browser: Browser) -> str:
    """The state this browser's current sign-in cookie carries (as the managed login echoes it)."""
    import base64

    body = browser.cookies[LOGIN_COOKIE].split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["state"])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"claims_override": {"aud": "another-client"}}, "audience"),
        ({"claims_override": {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/other"}}, "issuer"),
        ({"claims_override": {"token_use": "access"}}, "not an ID token"),
        ({"token_lifetime": -120}, "expired"),
        ({"signing_key": new_key()}, "signature"),
        ({"kid": "unknown"}, "key"),
    ],
)
def test_an_id_token_that_does_not_verify_opens_no_session(
    console: FakePool, change: dict[str, Any], why: str
) -> None:
    for name, value in change.items():
        setattr(console, name, value)
    browser = Browser(console)
    refused = browser.sign_in("cole")
    assert refused.status == 400, why
    assert SESSION_COOKIE not in browser.cookies


def test_a_person_in_no_console_group_is_refused(console: FakePool) -> None:
    browser = Browser(console)
    refused = browser.sign_in("nobody")
    assert refused.status == 403 and SESSION_COOKIE not in browser.cookies


def test_after_sign_in_the_browser_goes_only_to_a_console_page(console: FakePool) -> None:
    for asked in ("https://evil.example/", "//evil.example/console", "/elsewhere"):
        browser = Browser(console)
        started = browser.open("GET", "/console/login", {"next": asked})
        done = browser.open("GET", "/console/callback", console.authorize(started.location, "cole"))
        assert done.location == "/console", asked


def test_the_queues_a_controller_decides_a_dispute_a_collector_letters_and_ignores_bank_lines(
    console: FakePool, aws: Aws
) -> None:
    from receivables.banking import review
    from receivables.banking.intake import import_statement_file
    from receivables.disputes import opening, workflow
    from receivables.ledger.disputes import Reason, Source
    from receivables_local.statement_files import Line, camt053

    # Given a dispute waiting for finance, and two bank lines the matching left for a person
    opened, _ = opening.open_dispute_on(
        inv("W-1"), Source.FINANCE, Reason.QUALITY, "finance:ana", aws.clock, comment="damaged"
    )
    workflow.analyse_dispute(opened.dispute_id, aws.clock)
    workflow.settle_dispute(opened.dispute_id, aws.clock)
    workflow.await_finance(opened.dispute_id, "token-1", aws.clock)
    report = import_statement_file(
        camt053(
            [
                Line("200.00", "ACME LOGISTICS", text="thanks", bank_ref="A1"),
                Line("42.00", "Tax Office", text="VAT refund Q4", bank_ref="T1"),
            ]
        ),
        "day.xml",
        aws.clock,
    )
    acme_line, tax_line = (line.line_id for line in report.statements[0].lines)
    assert {w["line_id"] for w in review.unmatched_lines()} == {acme_line, tax_line}

    # When a collector opens the queues: both lists, the bank lines' forms, no decision form
    collector = Browser(console)
    collector.sign_in("cole")
    queues = collector.open("GET", "/console/queues")
    assert queues.status == 200 and opened.dispute_id in queues.body and acme_line in queues.body
    assert "a controller decides" in queues.body
    csrf = collector.csrf("/console/queues")
    decision = f"/console/disputes/{opened.dispute_id}/decision"
    refused = collector.open("POST", decision, form={"csrf": csrf, "decision": "reject"})
    assert refused.status == 403 and console.released == []
    letter = {"csrf": csrf, "invoice": "W-2", "amount": "200.00"}
    lettered = collector.open("POST", f"/console/bank-lines/{acme_line}/letter", form=letter)
    assert lettered.status == 303 and lettered.location == "/console/queues", lettered.body
    ignore = {"csrf": csrf, "reason": "tax"}
    assert collector.open("POST", f"/console/bank-lines/{tax_line}/ignore", form=ignore).status == 303
    assert review.unmatched_lines() == []
    assert store.get_invoice(inv("W-2")).balance.is_zero()  # type: ignore[union-attr]

    # And a viewer sees the queues but may not letter
    viewer = Browser(console)
    viewer.sign_in("vera")
    assert viewer.open("GET", "/console/queues").status == 200
    ignore = {"csrf": viewer.csrf(), "reason": "x"}
    assert viewer.open("POST", f"/console/bank-lines/{acme_line}/ignore", form=ignore).status == 403

    # And a controller decides the dispute: a credit of 100.00, the workflow released with its token
    controller = Browser(console)
    controller.sign_in("carla")
    token = controller.csrf("/console/queues")
    bad = controller.open("POST", decision, form={"csrf": token, "decision": "reject"})
    assert bad.status == 400 and "reason" in bad.body  # a rejection says why
    accept = {"csrf": token, "decision": "accept", "credit": "100.00"}
    decided = controller.open("POST", decision, form=accept)
    assert decided.status == 303, decided.body
    assert [call["taskToken"] for call in console.released] == ["token-1"]
    dispute = store.get_dispute(opened.dispute_id)
    # decided (the workflow carries it out): no longer in the queue
    assert dispute is not None and dispute.task_token is None
    assert opened.dispute_id not in controller.open("GET", "/console/queues").body
    assert dispute.resolution is not None and dispute.resolution.by == "finance:carla@finance.example"


def test_a_collector_assigns_the_ticked_invoices_at_once_and_a_viewer_may_not(console: FakePool) -> None:
    collector = Browser(console)
    collector.sign_in("cole")
    page = collector.open("GET", "/console/worklist").body
    assert 'form="bulk"' in page and 'id="bulk-assign"' in page
    csrf = collector.csrf("/console/worklist")
    body = urlencode(
        [("csrf", csrf), ("collector", "dana"), ("invoice", inv("W-1")), ("invoice", inv("W-2"))]
    )
    header = "; ".join(f"{k}={v}" for k, v in collector.cookies.items())
    app = load_function("console").app
    done = app(event("POST", "/console/worklist/assign", None, body, header), None)
    assert done["statusCode"] == 303, done["body"]
    assert {store.get_invoice(inv(n)).dunning.collector for n in ("W-1", "W-2")} == {"dana"}  # type: ignore[union-attr]
    nothing = collector.open("POST", "/console/worklist/assign", form={"csrf": csrf, "collector": "dana"})
    assert nothing.status == 400

    viewer = Browser(console)
    viewer.sign_in("vera")
    assert 'id="bulk-assign"' not in viewer.open("GET", "/console/worklist").body
    refused = viewer.open(
        "POST",
        "/console/worklist/assign",
        form={"csrf": viewer.csrf(), "collector": "x", "invoice": inv("W-1")},
    )
    assert refused.status == 403


def test_a_controller_puts_a_customer_on_credit_hold_and_lifts_it_a_collector_may_not(
    console: FakePool,
) -> None:
    acme = customer_id()
    collector = Browser(console)
    collector.sign_in("cole")
    assert 'id="hold-form"' not in collector.open("GET", f"/console/customers/{acme}").body
    form = {"csrf": collector.csrf(), "on": "true", "reason": "x"}
    assert collector.open("POST", f"/console/customers/{acme}/credit-hold", form=form).status == 403

    controller = Browser(console)
    controller.sign_in("carla")
    csrf = controller.csrf()
    for on in ("true", "false"):
        form = {"csrf": csrf, "on": on, "reason": "checked with sales"}
        assert controller.open("POST", f"/console/customers/{acme}/credit-hold", form=form).status == 303
    events = [e.type for e in store.audit_events(store.customer_pk(acme))]
    assert events[-2:] == ["CreditHoldSet", "CreditHoldLifted"]
    assert store.get_customer(acme).credit_hold is False  # type: ignore[union-attr]
    page = controller.open("GET", f"/console/customers/{acme}").body
    assert "Put on credit hold" in page and "Credit hold set" in page


def test_the_invoice_page_and_its_actions_per_role(console: FakePool) -> None:
    w1 = f"/console/invoices/{inv('W-1')}"
    viewer = Browser(console)
    viewer.sign_in("vera")
    page = viewer.open("GET", w1)
    assert page.status == 200 and "Invoice W-1" in page.body and 'id="actions"' not in page.body
    assert viewer.open("GET", "/console/invoices/inv_nope").status == 404
    csrf = viewer.csrf()
    assert viewer.open("POST", f"{w1}/notes", form={"csrf": csrf, "text": "x"}).status == 403

    collector = Browser(console)
    collector.sign_in("cole")
    actions = collector.open("GET", w1).body
    assert 'id="dispute-form"' in actions and 'id="write-off"' not in actions
    csrf = collector.csrf(w1)
    for path, form in (
        ("notes", {"text": "Asked for the POD"}),
        ("promises", {"date": "2026-11-25", "amount": "400.00"}),
        ("collector", {"collector": "dana", "back": w1}),
    ):
        done = collector.open("POST", f"{w1}/{path}", form={**form, "csrf": csrf})
        assert done.status == 303 and done.location == w1, (path, done.body)
    assert collector.open("POST", f"{w1}/write-off", form={"csrf": csrf, "reason": "gone"}).status == 403
    opened = collector.open(
        "POST", f"{w1}/disputes", form={"csrf": csrf, "reason": "quality", "amount": "100.00"}
    )
    assert opened.status == 303
    bad = collector.open("POST", f"{w1}/disputes", form={"csrf": csrf, "reason": "because"})
    assert bad.status == 400 and "reason" in bad.body
    history = collector.open("GET", w1).body
    assert "Asked for the POD" in history and "400.00 by 2026-11-25" in history
    assert 'data-kind="CollectorAssigned"' in history and "dana" in history
    assert store.invoice_dispute_ids(inv("W-1"))

    controller = Browser(console)
    controller.sign_in("carla")
    w2 = f"/console/invoices/{inv('W-2')}"
    csrf = controller.csrf(w2)
    assert (
        controller.open("POST", f"{w2}/write-off", form={"csrf": csrf, "reason": "too small"}).status == 303
    )
    assert store.get_invoice(inv("W-2")).balance.is_zero()  # type: ignore[union-attr]
    w3 = f"/console/invoices/{inv('W-3')}"
    assert controller.open("POST", f"{w3}/void", form={"csrf": csrf, "reason": "issued twice"}).status == 303
    refused = controller.open("POST", f"{w3}/void", form={"csrf": csrf, "reason": "again"})
    assert refused.status == 409  # the ledger refuses: it is void already


def test_the_worklist_and_a_bucket_download_as_csv_with_their_filters(console: FakePool) -> None:
    import csv
    import io

    browser = Browser(console)
    browser.sign_in("vera")
    assert "format=csv" in browser.open("GET", "/console/worklist", {"bucket": "61-90"}).body
    download = browser.open("GET", "/console/worklist", {"bucket": "61-90", "format": "csv"})
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert 'filename="worklist.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.body)))
    assert [(r["number"], r["balance"], r["risk"]) for r in rows] == [("W-1", "1000.00", "standard")]
    bucket = browser.open(
        "GET", "/console/invoices", {"currency": "EUR", "bucket": "current", "format": "csv"}
    )
    assert [r["number"] for r in csv.DictReader(io.StringIO(bucket.body))] == ["W-3"]
    empty = browser.open("GET", "/console/worklist", {"risk": "risky", "format": "csv"})
    assert empty.body.startswith("number,invoice_id,") and len(empty.body.splitlines()) == 1
    assert (
        Browser(console).open("GET", "/console/worklist", {"format": "csv"}).status == 303
    )  # signed in only


def test_a_collector_mails_a_known_contact_a_fresh_portal_link(console: FakePool) -> None:
    acme = customer_id()
    collector = Browser(console)
    collector.sign_in("cole")
    page = collector.open("GET", f"/console/customers/{acme}").body
    assert 'id="link-form"' in page and '<option value="ap@acme.example">' in page
    csrf = collector.csrf()
    sent = collector.open(
        "POST", f"/console/customers/{acme}/links", form={"csrf": csrf, "email": "ap@acme.example"}
    )
    assert sent.status == 303 and sent.location == f"/console/customers/{acme}?sent=link"
    assert console.links == [(acme, "ap@acme.example")]
    shown = collector.open("GET", f"/console/customers/{acme}", {"sent": "link"}).body
    assert "A fresh portal link is on its way." in shown
    elsewhere = collector.open(
        "POST", f"/console/customers/{acme}/links", form={"csrf": csrf, "email": "ap@bolt.example"}
    )
    assert elsewhere.status == 400 and len(console.links) == 1  # another customer's contact

    viewer = Browser(console)
    viewer.sign_in("vera")
    refused = viewer.open("POST", f"/console/customers/{acme}/links", form={"csrf": viewer.csrf()})
    assert refused.status == 403 and len(console.links) == 1


def test_the_queues_list_deductions_enrolments_and_held_invoices_and_only_a_controller_decides(
    console: FakePool,
) -> None:
    controller = Browser(console)
    controller.sign_in("carla")
    page = controller.open("GET", "/console/queues").body
    for section in ("no-deductions", "no-enrolments", "no-held", "no-disputes", "no-lines"):
        assert f'id="{section}"' in page, section
    csrf = controller.csrf("/console/queues")
    unknown = controller.open("POST", "/console/enrolments/enr_unknown/approve", form={"csrf": csrf})
    assert unknown.status == 404
    no_reason = controller.open("POST", "/console/enrolments/enr_unknown/reject", form={"csrf": csrf})
    assert no_reason.status == 400  # a refusal says why, checked before anything is read

    collector = Browser(console)
    collector.sign_in("cole")
    refused = collector.open(
        "POST", "/console/enrolments/enr_unknown/approve", form={"csrf": collector.csrf(), "note": "ok"}
    )
    assert refused.status == 403


def test_a_note_that_mentions_a_colleague_tells_them_and_nobody_else(console: FakePool) -> None:
    acme = customer_id()
    collector = Browser(console)
    collector.sign_in("cole")
    text = (
        "@carla@finance.example can we hold them? (not @mallory@evil.example, nor me @cole@finance.example)"
    )
    done = collector.open(
        "POST", f"/console/customers/{acme}/notes", form={"csrf": collector.csrf(), "text": text}
    )
    assert done.status == 303
    assert console.told == [
        ("carla@finance.example", "cole@finance.example", f"{BASE}/console/customers/{acme}")
    ]
    note = store.audit_events(store.customer_pk(acme))[-1]
    assert note.type == "NoteAdded" and note.data["mentioned"] == ["carla@finance.example"]
    assert "told carla@finance.example" in collector.open("GET", f"/console/customers/{acme}").body


def test_only_a_user_of_the_pool_can_be_mentioned(aws: Aws) -> None:
    import boto3

    from receivables.adapters.cognito import pool_members

    cognito = boto3.client("cognito-idp", region_name="eu-west-1")
    pool = cognito.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="carla@finance.example", MessageAction="SUPPRESS")
    is_member = pool_members(pool, client=cognito)
    assert is_member("carla@finance.example") and not is_member("mallory@evil.example")


def test_a_task_about_a_customer_is_on_its_owners_worklist_until_done(console: FakePool, aws: Aws) -> None:
    acme = customer_id()
    collector = Browser(console)
    collector.sign_in("cole")
    csrf = collector.csrf()
    bad = collector.open(
        "POST", f"/console/customers/{acme}/tasks", form={"csrf": csrf, "title": "", "due": "x"}
    )
    assert bad.status == 400 and "title" in bad.body and "due" in bad.body
    task = {
        "csrf": csrf,
        "title": "Call AP on Tuesday",
        "owner": "carla@finance.example",
        "due": "2026-11-10",
    }
    assert collector.open("POST", f"/console/customers/{acme}/tasks", form=task).status == 303
    assert "Call AP on Tuesday" in collector.open("GET", f"/console/customers/{acme}").body
    assert 'id="no-tasks"' in collector.open("GET", "/console/worklist").body  # carla's, not cole's

    controller = Browser(console)
    controller.sign_in("carla")
    worklist = controller.open("GET", "/console/worklist").body
    found = re.search(r'data-task="(tsk_\w+)"', worklist)
    assert found and "Call AP on Tuesday" in worklist
    done = controller.open(
        "POST",
        f"/console/tasks/{found.group(1)}/done",
        form={"csrf": controller.csrf(), "back": "/console/worklist"},
    )
    assert done.status == 303 and done.location == "/console/worklist"
    assert 'id="no-tasks"' in controller.open("GET", "/console/worklist").body
    again = controller.open("POST", f"/console/tasks/{found.group(1)}/done", form={"csrf": controller.csrf()})
    assert again.status == 409
    kinds = [e.type for e in store.audit_events(store.customer_pk(acme))]
    assert kinds[-2:] == ["TaskCreated", "TaskDone"]
    # The stream's consumers take tasks in their stride.
    streamed = load_function("aggregates").handle({"Records": aws.stream().read()})
    assert not (streamed or {}).get("batchItemFailures")

    viewer = Browser(console)
    viewer.sign_in("vera")
    refused = viewer.open("POST", f"/console/customers/{acme}/tasks", form={**task, "csrf": viewer.csrf()})
    assert refused.status == 403
