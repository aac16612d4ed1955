"""The finance console end to end on `receivables local`, in headless Chromium with JavaScript off:
a collector signs in with the credentials the runtime printed (and wrote to local.json), through
the emulated managed login, opens the worklist and a customer, logs a call and a promise, and the
customer's timeline shows both; signing out ends the session. A controller decides a dispute
from the queue, and the dashboard left open shows a payment that arrives. Screenshots are kept in
build/screenshots/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from tests.conftest import REPO_ROOT
from tests.e2e.test_local_runtime import local
from tests.e2e.test_payments import _chromium, http, ingest, invoice, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

ROWS = (
    "CO-1,2026-08-01,2026-09-01,EUR,C-CO1,Harbor Freight Co,ap@harbor.example,4200.00\n"
    "CO-2,2026-09-01,2026-10-01,EUR,C-CO1,Harbor Freight Co,ap@harbor.example,650.00\n"
)


def mails_to(connection: dict[str, Any], address: str) -> list[dict[str, Any]]:
    """What SES sent to ``address`` so far."""
    _, _, body = http(connection["endpoints"]["api"] + "/_aws/ses")
    messages = json.loads(body)["messages"]
    return [m for m in messages if address in json.dumps(m.get("Destination"))]


QUEUE_ROWS = (
    "CQ-1,2026-08-01,2026-09-01,EUR,C-CQ1,Quayside Cargo,ap@quayside.example,1500.00\n"
    "CQ-2,2026-09-01,2026-10-01,EUR,C-CQ1,Quayside Cargo,ap@quayside.example,321.00\n"
)


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_a_collector_signs_in_works_a_customer_and_the_timeline_shows_it(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    (collector,) = [u for u in connection["console_users"] if u["role"] == "collector"]
    assert {u["role"] for u in connection["console_users"]} == {"viewer", "collector", "controller"}
    ingest(connection, "console", ROWS)
    wait_for("the invoices", lambda: invoice(connection, "CO-2"))
    console = connection["endpoints"]["console"]
    promised_on = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()

    shots = REPO_ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            page.goto(console)
            assert page.url.startswith(connection["endpoints"]["login"] + "/oauth2/authorize?")
            page.fill("#username", collector["username"])
            page.fill("#password", "not the password")
            page.click("#sign-in")
            assert "Incorrect" in page.inner_text("#errors")
            page.fill("#username", collector["username"])
            page.fill("#password", collector["password"])
            page.click("#sign-in")
            assert page.url == console and page.inner_text("#title") == "Dashboard"
            assert "collector" in page.inner_text("#who")
            page.screenshot(path=str(shots / "console-dashboard.png"), full_page=True)

            page.click("#nav-worklist")
            row = page.locator("#worklist tr", has_text="CO-1")
            assert row.count() == 1
            page.screenshot(path=str(shots / "console-worklist.png"), full_page=True)
            row.locator("a.customer").click()
            assert page.inner_text("#title") == "Harbor Freight Co"
            assert "ap@harbor.example" in page.inner_text("#profile")

            page.select_option("#outcome", "promised")
            page.fill("#call-text", "Spoke to their AP: CO-2 is paid next week")
            page.click("#log-call")
            page.select_option("#promise-invoice", document_id("self", DocumentType.INVOICE, "CO-2"))
            page.fill("#promise-date", promised_on)
            page.fill("#promise-amount", "650.00")
            page.click("#record-promise")
            timeline = page.inner_text("#timeline")
            assert "Spoke to their AP: CO-2 is paid next week" in timeline
            assert page.locator('#timeline tr[data-kind="CallLogged"]').count() == 1
            assert promised_on in timeline and collector["username"] in timeline
            page.screenshot(path=str(shots / "console-customer.png"), full_page=True)

            # A fresh portal link, mailed through SES to the contact picked.
            before = len(mails_to(connection, "ap@harbor.example"))
            page.select_option("#link-email", "ap@harbor.example")
            page.click("#send-link")
            assert "on its way" in page.inner_text("#notice")
            wait_for("the link's email", lambda: len(mails_to(connection, "ap@harbor.example")) > before, 60)

            # A note mentioning the controller: they are emailed a link to this page.
            (controller,) = [u for u in connection["console_users"] if u["role"] == "controller"]
            page.fill("#note-text", f"@{controller['username']} shall we put them on hold?")
            page.click("#add-note")
            assert f"told {controller['username']}" in page.inner_text("#timeline")
            (told,) = wait_for(
                "the mention's email", lambda: mails_to(connection, controller["username"]), 60
            )
            assert "mentioned you" in told["Subject"] and "/console/customers/" in told["Body"]["text_part"]

            page.click("#sign-out")
            assert page.inner_text("#title") == "Signed out"
            page.goto(console)
            assert page.url.startswith(connection["endpoints"]["login"] + "/oauth2/authorize?")
        finally:
            browser.close()


def api(connection: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {connection['api_token']}"}
    data = json.dumps(body).encode() if body is not None else None
    status, _, answer = http(connection["endpoints"]["api"] + path, data, headers, method)
    return status, json.loads(answer) if answer else None


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_a_controller_decides_a_dispute_from_the_queue_and_the_dashboard_follows_a_payment(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    (controller,) = [u for u in connection["console_users"] if u["role"] == "controller"]
    ingest(connection, "console-queues", QUEUE_ROWS)
    wait_for("the invoices", lambda: invoice(connection, "CQ-2"))
    disputed = document_id("self", DocumentType.INVOICE, "CQ-1")
    status, opened = api(
        connection, "POST", f"/invoices/{disputed}/disputes", {"reason": "quality", "comment": "late"}
    )
    assert status == 201, opened
    dispute_id = opened["dispute"]["dispute_id"]

    def awaiting() -> bool:
        _, found = api(connection, "GET", f"/disputes/{dispute_id}")
        return bool(found and found["dispute"]["status"] == "awaiting_finance")

    wait_for("the dispute to wait for finance", awaiting, timeout=120)
    console = connection["endpoints"]["console"]
    shots = REPO_ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            page.goto(console + "/queues")
            page.fill("#username", controller["username"])
            page.fill("#password", controller["password"])
            page.click("#sign-in")
            assert page.url == console + "/queues"
            row = page.locator(f'tr[data-dispute="{dispute_id}"]')
            assert "CQ-1" in row.inner_text()
            page.screenshot(path=str(shots / "console-queues.png"), full_page=True)
            row.locator('select[name="decision"]').select_option("accept")
            row.locator('input[name="credit"]').fill("100.00")
            row.locator("button").click()
            assert (
                page.url == console + "/queues"
                and page.locator(f'tr[data-dispute="{dispute_id}"]').count() == 0
            )

            def accepted() -> bool:
                _, found = api(connection, "GET", f"/disputes/{dispute_id}")
                return bool(found and found["dispute"]["status"] not in ("awaiting_finance", "open"))

            wait_for("the workflow to carry the decision out", accepted, timeout=120)

            # The dashboard, left open, shows a payment that arrives (it refreshes itself).
            page.goto(console)
            transfer = {
                "amount": "321.00",
                "currency": "EUR",
                "method": "bank_transfer",
                "external_id": "BANK-CONSOLE-1",
                "received_at": datetime.now(UTC).date().isoformat(),
                "reference": "CQ-2",
            }
            assert api(connection, "POST", "/payments", transfer)[0] == 201
            page.locator("#recent-payments", has_text="321.00").wait_for(timeout=30_000)
            assert page.url == console + "?refresh=auto"
        finally:
            browser.close()


def test_the_local_managed_login_checks_pkce_the_client_and_its_addresses(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    import base64
    import hashlib
    import re
    from urllib.parse import parse_qs, urlencode, urlsplit

    import boto3
    import jwt

    connection, _, _ = local
    pool = connection["cognito"]
    login = connection["endpoints"]["login"]
    callback = connection["endpoints"]["console"] + "/callback"
    (viewer,) = [u for u in connection["console_users"] if u["role"] == "viewer"]
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    ask = {
        "response_type": "code",
        "client_id": pool["console_client_id"],
        "redirect_uri": callback,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid email",
    }
    form = http(f"{login}/oauth2/authorize?{urlencode(ask)}")
    assert form[0] == 200 and 'name="code_challenge"' in form[2]
    elsewhere = http(
        f"{login}/oauth2/authorize?{urlencode({**ask, 'redirect_uri': 'https://evil.example/cb'})}"
    )
    assert elsewhere[0] == 400
    assert http(f"{login}/oauth2/authorize?{urlencode({**ask, 'code_challenge': ''})}")[0] == 400

    def code() -> str:
        credentials = {**ask, "username": viewer["username"], "password": viewer["password"]}
        status, headers, _ = http(f"{login}/oauth2/authorize", urlencode(credentials).encode(), method="POST")
        assert status == 302 and headers["Location"].startswith(callback + "?")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(headers["Location"]).query).items()}
        assert answer["state"] == "s1"
        return answer["code"]

    def token(given: dict[str, str]) -> tuple[int, Any]:
        status, _, body = http(f"{login}/oauth2/token", urlencode(given).encode(), method="POST")
        return status, json.loads(body)

    exchange = {
        "grant_type": "authorization_code",
        "client_id": pool["console_client_id"],
        "redirect_uri": callback,
    }
    first = code()
    assert token({**exchange, "code": first, "code_verifier": "w" * 50})[0] == 400  # another verifier
    assert token({**exchange, "code": first, "code_verifier": verifier})[0] == 400  # a code is used once
    second = code()
    status, tokens = token({**exchange, "code": second, "code_verifier": verifier})
    assert status == 200 and {"id_token", "access_token", "refresh_token"} <= set(tokens)
    keys = jwt.PyJWKClient(pool["jwks_url"]).get_signing_key_from_jwt(tokens["id_token"]).key
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"], audience=pool["console_client_id"])
    assert claims["iss"] == pool["issuer"] and claims["cognito:groups"] == ["viewer"]
    refreshed = token(
        {
            "grant_type": "refresh_token",
            "client_id": pool["console_client_id"],
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert refreshed[0] == 200 and refreshed[1]["id_token"]
    http(f"{login}/oauth2/revoke", urlencode({"token": tokens["refresh_token"]}).encode(), method="POST")
    revoked = token(
        {
            "grant_type": "refresh_token",
            "client_id": pool["console_client_id"],
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert revoked[0] == 400
    logout = {
        "client_id": pool["console_client_id"],
        "logout_uri": connection["endpoints"]["console"] + "/signed-out",
    }
    assert http(f"{login}/logout?{urlencode(logout)}")[0] == 302
    assert http(f"{login}/logout?{urlencode({**logout, 'logout_uri': 'https://evil.example/'})}")[0] == 400
    assert re.search(r'"keys"', http(f"{login}/.well-known/jwks.json")[2])

    # The local finance API takes an ID token of the pool for its own app client, as the JWT
    # authorizer does on AWS, and refuses one issued to the console's client (another audience).
    cognito = boto3.client(
        "cognito-idp", endpoint_url=connection["endpoints"]["aws"], region_name=connection["region"]
    )

    def id_token(client_id: str) -> str:
        answer = cognito.admin_initiate_auth(
            UserPoolId=pool["user_pool_id"],
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": viewer["username"], "PASSWORD": viewer["password"]},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    worklist = connection["endpoints"]["api"] + "/worklist"
    assert http(worklist, headers={"Authorization": f"Bearer {id_token(pool['api_client_id'])}"})[0] == 200
    assert (
        http(worklist, headers={"Authorization": f"Bearer {id_token(pool['console_client_id'])}"})[0] == 401
    )
    viewer_token = id_token(pool["api_client_id"])
    refused = http(
        connection["endpoints"]["api"] + "/dunning/sweep",
        b"{}",
        {"Authorization": f"Bearer {viewer_token}", "Content-Type": "application/json"},
        "POST",
    )
    assert refused[0] == 403  # a viewer's token is a viewer's
