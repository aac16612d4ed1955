"""Every HTML answer of the pay function (the signed links, the portal, the enrolment form)
carries the security headers: a CSP that allows only what the page uses, no framing, no type
sniffing, no Referer; and the pages use nothing the policy would block."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from receivables.web.checkout import PayLinkSettings
from receivables.web.pages import Form, Page
from receivables.web.portal.service import Answer, Portal
from receivables.web.security_headers import dashboard_headers, style_hash
from receivables_local.functions import function_module, load_function
from tests.integration.conftest import BUCKET
from tests.integration.test_portal import KEY, LEDGER, csrf_of, inv, link, sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

CHECKOUT = "https://checkout.stripe.example/c/cs_test_1"


@pytest.fixture
def client(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    from receivables.adapters.attachments import s3_attachments

    aws.drop("inbox/portal.csv", LEDGER)
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False))
    deps = wiring.Dependencies(
        PayLinkSettings("https://p.example", "ar@seller.example"),
        lambda: KEY,
        lambda params, key: {"id": "cs_test_1", "url": CHECKOUT},
        aws.clock,
    )
    monkeypatch.setattr(wiring, "default_dependencies", lambda: deps)
    monkeypatch.setattr(wiring, "attachments", lambda: s3_attachments(BUCKET))
    with Client(module.app) as client:
        client.routes = module.app.routes  # type: ignore[attr-defined]
        yield client


def assert_guarded(answer: Any, where: str) -> None:
    headers = {k.lower(): v for k, v in answer.headers.items()}
    policy = headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("base-uri") == ["'none'"], where
    assert directives.get("script-src") == ["'none'"], where
    assert directives.get("form-action", [""])[0] == "'self'", where
    assert "'unsafe-inline'" not in directives.get("style-src", []), where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    page = answer.body.decode()
    # Nothing the policy blocks: no scripts, no style attributes, each <style> by its hash.
    assert "<script" not in page and " style=" not in page and not re.search(r" on\w+=", page), where
    for css in re.findall(r"<style>(.*?)</style>", page, re.S):
        assert style_hash(css) in directives["style-src"], where


def test_every_html_route_of_the_pay_function_sends_the_security_headers(aws: Aws, client: Client) -> None:
    cookie = sign_in(client, link(aws, "A-1"))
    home = client.http.get("/portal", headers={"Cookie": cookie})
    csrf = csrf_of(home.body.decode())
    tokens = {
        "/pay": link(aws, "A-1", action="pay"),
        "/promise": link(aws, "A-1", action="promise"),
        "/dispute": link(aws, "A-1", action="dispute"),
        "/portal/link": link(aws, "A-1"),
        "/enrol": "not-a-token",
    }
    seen = 0
    for path, methods in client.routes.items():  # type: ignore[attr-defined]
        token = next((t for prefix, t in tokens.items() if path.startswith(prefix + "/")), "x")
        concrete = path.replace("{token}", token).replace("{invoice_id}", inv("A-1")).replace("{index}", "1")
        for method in methods:
            for who in ({"Cookie": cookie}, {}):  # signed in, and not
                if method == "GET":
                    answer = client.http.get(concrete, headers=who)
                else:
                    body = urlencode({"csrf": csrf, "invoice": inv("A-1"), "language": "en"}).encode()
                    form = {"Content-Type": "application/x-www-form-urlencoded", **who}
                    answer = client.http.post(concrete, headers=form, body=body)
                kind = {k.lower(): v for k, v in answer.headers.items()}.get("content-type", "")
                if kind.startswith("text/html"):
                    assert_guarded(answer, f"{method} {concrete} {bool(who)}: {answer.status_code}")
                    seen += 1
    assert seen >= 30  # the portal's pages, the link pages and their error pages


def test_the_portal_sends_no_referer_and_cannot_be_framed(aws: Aws, client: Client) -> None:
    answer = client.http.get(f"/portal/link/{link(aws, 'A-1')}")  # the token is in this address
    assert answer.status_code == 303
    home = client.http.get("/portal", headers={"Cookie": answer.headers["Set-Cookie"].split(";")[0]})
    assert_guarded(home, "/portal")


def form_action(policy: str) -> set[str]:
    """The sources of the policy's form-action directive."""
    found = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    return set(found.split()[1:])


def test_an_upload_form_may_post_to_its_bucket_and_nowhere_else() -> None:
    from receivables.web.security_headers import CHECKOUT_ORIGINS

    s3 = "https://test-invoices.s3.eu-west-1.amazonaws.com"
    checkout = {"'self'", *CHECKOUT_ORIGINS}  # where a form's 303 may lead: Stripe Checkout
    page = Answer.html(200, "<p>x</p>").posting_to([f"{s3}/", "/portal/invoices/x/po"])
    upload = Page(201, "Dispute received", form=Form(f"{s3}/", (), "Upload", multipart=True))

    assert form_action(page.headers["Content-Security-Policy"]) == {*checkout, s3}
    assert form_action(upload.security_headers()["Content-Security-Policy"]) == {*checkout, s3}
    assert form_action(Page(200, "x").security_headers()["Content-Security-Policy"]) == checkout
    assert "https://checkout.stripe.com" in CHECKOUT_ORIGINS


def test_the_dashboard_headers_allow_its_stylesheet_and_bar_widths_only() -> None:
    from receivables.web.dashboard import STYLE

    policy = dashboard_headers()["Content-Security-Policy"]
    assert f"style-src-elem 'self' {style_hash(STYLE)}" in policy
    assert "style-src-attr 'unsafe-inline'" in policy and "script-src 'none'" in policy
    assert dashboard_headers()["X-Frame-Options"] == "DENY"
