"""Portal sessions and CSRF tokens: opened by a link, bound to it, ended by time or revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from receivables.customers.links import LinkScope, sign_link
from receivables.web.portal.session import (
    COOKIE,
    SESSION_SECONDS,
    SessionRefusedError,
    check_csrf,
    check_generation,
    clear_cookie,
    csrf_token,
    open_session,
    session_from_cookies,
    set_cookie,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LINK = LinkScope("portal", "cus_1", None, int((NOW + timedelta(days=30)).timestamp()), generation=3)


def cookie_of(header: str) -> str:
    return header.split(";", 1)[0]


def test_a_link_opens_a_session_the_cookie_brings_back() -> None:
    session = open_session(LINK, KEY, NOW)
    header = set_cookie(session, secure=True)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header
    assert f"Max-Age={SESSION_SECONDS}" in header
    assert "Secure" not in set_cookie(session, secure=False)
    back = session_from_cookies(f"lang=fr; {cookie_of(header)}", KEY, NOW + timedelta(minutes=5))
    assert (back.customer_id, back.generation) == ("cus_1", 3)


@pytest.mark.parametrize(
    ("cookies", "reason"),
    [
        (None, "no_session"),
        ("", "no_session"),
        ("lang=fr", "no_session"),
        (f"{COOKIE}=", "no_session"),
        (f"{COOKIE}=garbage", "invalid"),
        ('bad"cookie', "no_session"),
    ],
)
def test_no_usable_cookie_is_no_session(cookies: str | None, reason: str) -> None:
    with pytest.raises(SessionRefusedError) as denied:
        session_from_cookies(cookies, KEY, NOW)
    assert denied.value.reason == reason


def test_a_session_ends_after_its_time_and_is_ours_only() -> None:
    cookie = cookie_of(set_cookie(open_session(LINK, KEY, NOW), secure=False))
    with pytest.raises(SessionRefusedError) as late:
        session_from_cookies(cookie, KEY, NOW + timedelta(seconds=SESSION_SECONDS))
    assert late.value.reason == "expired"
    with pytest.raises(SessionRefusedError) as forged:
        session_from_cookies(cookie, OTHER_KEY, NOW)
    assert forged.value.reason == "invalid"
    # A pay link is no session: the cookie must hold a session token.
    pay = sign_link(LinkScope("pay", "cus_1", "inv_1", LINK.expires, 3), KEY)
    with pytest.raises(SessionRefusedError):
        session_from_cookies(f"{COOKIE}={pay}", KEY, NOW)
    assert clear_cookie(secure=True).startswith(f"{COOKIE}=; Path=/; Max-Age=0")


def test_revoking_the_links_ends_the_sessions_they_opened() -> None:
    check_generation(3, 3)
    with pytest.raises(SessionRefusedError) as revoked:
        check_generation(3, 4)
    assert revoked.value.reason == "revoked"


def test_the_csrf_token_is_bound_to_its_session() -> None:
    session = open_session(LINK, KEY, NOW)
    token = csrf_token(session, KEY)
    check_csrf(token, session, KEY)
    other = open_session(LinkScope("portal", "cus_2", None, LINK.expires, 0), KEY, NOW)
    for given in (None, "", token[:-1] + ("A" if token[-1] != "A" else "B"), csrf_token(other, KEY)):
        with pytest.raises(SessionRefusedError) as denied:
            check_csrf(given, session, KEY)
        assert denied.value.reason == "csrf"
