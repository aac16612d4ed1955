"""The portal after the outside probe: a signed-out session is refused at once, wherever its
cookie went (the session is recorded server-side and every request checks it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

from receivables.customers.links import LinkScope
from receivables.storage.sessions import end_session, record_session, session_is_open
from receivables.web.portal.service import Portal
from receivables.web.portal.session import COOKIE, open_session
from receivables_local.functions import function_module, load_function
from tests.integration.test_portal import KEY, LEDGER, csrf_of, customer_of, get, link, post, sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws


@pytest.fixture
def client(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    aws.drop("inbox/portal.csv", LEDGER)
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False))
    with Client(module.app) as client:
        yield client


def sign_out(client: Client, cookie: str) -> None:
    home = get(client, "/portal", cookie)
    assert home.status_code == 200
    out = post(client, "/portal/logout", cookie, csrf=csrf_of(home.body.decode()))
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]


def test_a_signed_out_session_cookie_is_refused_at_once(aws: Aws, client: Client) -> None:
    # Given a customer signed in, whose cookie someone copied
    cookie = sign_in(client, link(aws, "A-1"))
    home = get(client, "/portal", cookie)
    csrf = csrf_of(home.body.decode())
    # When they sign out
    sign_out(client, cookie)
    # Then the copied cookie opens nothing, at once: no page, no form, no second sign-out
    for path in ("/portal", "/portal/statement", "/portal/invoices/x"):
        answer = get(client, path, cookie)
        assert answer.status_code == 401, path
        assert "Alpha Foods" not in answer.body.decode()
    assert post(client, "/portal/language", cookie, csrf=csrf, language="fr").status_code == 401
    assert post(client, "/portal/logout", cookie, csrf=csrf).status_code == 401


def test_signing_out_ends_that_session_only(aws: Aws, client: Client) -> None:
    # Given the same customer signed in on two devices
    laptop = sign_in(client, link(aws, "A-1"))
    phone = sign_in(client, link(aws, "A-1"))
    assert laptop != phone  # every session is its own, even opened in the same second
    # When the laptop signs out, Then the phone is still signed in
    sign_out(client, laptop)
    assert get(client, "/portal", laptop).status_code == 401
    assert get(client, "/portal", phone).status_code == 200


def test_a_signed_session_cookie_that_was_never_recorded_is_refused(aws: Aws, client: Client) -> None:
    # Given a cookie signed with the right key but never recorded (minted without opening a
    # link, or from before sessions were recorded)
    expires = int(aws.clock.now().timestamp()) + 3600
    minted = open_session(LinkScope("portal", customer_of("A-1"), None, expires), KEY, aws.clock.now())
    # Then it opens nothing
    assert get(client, "/portal", f"{COOKIE}={minted.token}").status_code == 401


def test_a_session_record_ends_once_and_belongs_to_its_customer(aws: Aws) -> None:
    record_session("s-1", "cus_1", 2_000_000_000, "2026-11-02T09:00:00Z")
    assert session_is_open("s-1", "cus_1")
    assert not session_is_open("s-1", "cus_2")
    assert not session_is_open("", "cus_1")
    assert end_session("s-1", "2026-11-02T09:05:00Z")
    assert not end_session("s-1", "2026-11-02T09:06:00Z")  # a second sign-out changes nothing
    assert not session_is_open("s-1", "cus_1")
    assert not end_session("never-opened", "2026-11-02T09:06:00Z")
    with pytest.raises(ClientError):  # an id is recorded once: no session takes over another
        record_session("s-1", "cus_2", 2_000_000_000, "2026-11-02T09:07:00Z")
