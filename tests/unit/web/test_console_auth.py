"""The console's sign-in helpers: the signed sign-in cookie, where a browser may be sent after
signing in, when cookies are Secure, and the PKCE challenge."""

from __future__ import annotations

import pytest

from receivables.adapters.cognito import ManagedLogin, pkce_challenge, pkce_pair
from receivables.web.console.auth import cookie, safe_next, serves_securely, sign_state, verify_state

KEY = b"k" * 32


def test_a_sign_in_cookie_verifies_until_it_expires_and_not_once_changed() -> None:
    signed = sign_state({"state": "s", "exp": 100}, KEY)
    assert verify_state(signed, KEY, 99) == {"state": "s", "exp": 100}
    assert verify_state(signed, KEY, 101) is None
    assert verify_state(signed, b"other" * 8, 99) is None
    _, mac = signed.split(".")
    forged = sign_state({"state": "t", "exp": 100}, KEY).split(".")[0]
    assert verify_state(f"{forged}.{mac}", KEY, 99) is None
    assert verify_state(None, KEY, 99) is None and verify_state("nodot", KEY, 99) is None


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/console/worklist?risk=risky", "/console/worklist?risk=risky"),
        ("/console", "/console"),
        ("https://evil.example/console", "/console"),
        ("//evil.example/console", "/console"),
        ("/console@evil.example", "/console"),
        ("/consoleevil", "/console"),
        ("/console\\\\evil.example", "/console"),
        ("/portal", "/console"),
        (None, "/console"),
    ],
)
def test_after_signing_in_only_a_console_page(asked: str | None, sent_to: str) -> None:
    assert safe_next(asked) == sent_to


def test_cookies_are_secure_but_on_loopback_http() -> None:
    assert serves_securely("https://abc.execute-api.eu-west-1.amazonaws.com")
    assert serves_securely("http://console.example")  # plain http elsewhere: still Secure
    assert not serves_securely("http://127.0.0.1:3000") and not serves_securely("http://localhost:3000")
    line = cookie("c", "v", 60, secure=True)
    assert line == "c=v; Path=/console; Max-Age=60; HttpOnly; SameSite=Lax; Secure"


def test_the_pkce_pair_and_the_authorize_address() -> None:
    verifier, challenge = pkce_pair()
    assert len(verifier) >= 43 and challenge == pkce_challenge(verifier) and "=" not in challenge
    # RFC 7636, appendix B
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    login = ManagedLogin("https://login.example", "client", "https://issuer", "https://issuer/jwks")
    url = login.authorize_url("https://c/console/callback", "st", challenge)
    assert url.startswith("https://login.example/oauth2/authorize?response_type=code&client_id=client&")
    assert "code_challenge_method=S256" in url and "state=st" in url
    assert (
        login.logout_url("https://c/x")
        == "https://login.example/logout?client_id=client&logout_uri=https%3A%2F%2Fc%2Fx"
    )
