"""Signed links: authentic, scoped, expiring; nothing in them can be changed without the key."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.customers.links import LinkError, LinkScope, link_keys, sign_link, verify_link

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SCOPE = LinkScope("pay", "cus_1", "inv_1", int((NOW + timedelta(days=30)).timestamp()), generation=2)


def test_a_link_verifies_to_its_scope() -> None:
    assert verify_link(sign_link(SCOPE, KEY), KEY, NOW, action="pay") == SCOPE


def test_a_link_expires() -> None:
    token = sign_link(SCOPE, KEY)
    with pytest.raises(LinkError) as caught:
        verify_link(token, KEY, NOW + timedelta(days=30), action="pay")
    assert caught.value.reason == "expired"


def test_another_key_or_action_is_refused() -> None:
    token = sign_link(SCOPE, KEY)
    with pytest.raises(LinkError) as caught:
        verify_link(token, b"x" * 32, NOW, action="pay")
    assert caught.value.reason == "tampered"
    with pytest.raises(LinkError, match="not a portal link"):
        verify_link(token, KEY, NOW, action="portal")


def test_changing_the_invoice_in_the_payload_breaks_the_signature() -> None:
    body, _, signature = sign_link(SCOPE, KEY).partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["i"] = "inv_someone_elses"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(LinkError) as caught:
        verify_link(f"{forged}.{signature}", KEY, NOW, action="pay")
    assert caught.value.reason == "tampered"


@given(garbage=st.text(max_size=200))
def test_garbage_is_refused_never_crashes(garbage: str) -> None:
    with pytest.raises(LinkError):
        verify_link(garbage, KEY, NOW, action="pay")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        sign_link(SCOPE, b"short")


def _respell_last_character(part: str) -> list[str]:
    """The other spellings of ``part`` that decode to the same bytes: the unused low bits of
    its last base64 character set in every other way."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 0b1111, 3: 0b11}[len(part) % 4]
    index = alphabet.index(part[-1])
    return [
        part[:-1] + alphabet[(index & ~unused) | bits] for bits in range(unused + 1) if bits != index & unused
    ]


def test_a_link_signature_has_one_spelling() -> None:
    # Given a genuine link, whose 32-byte signature is 43 characters (2 bits unused at the end)
    token = sign_link(SCOPE, KEY)
    body, _, signature = token.partition(".")
    respelt = _respell_last_character(signature)
    assert len(respelt) == 3  # with the genuine one: the four spellings the probe found
    padded = [f"{signature}=", signature.replace("-", "+").replace("_", "/") + "=", f"{signature}\n"]
    # When any other spelling of the same signature is offered, Then it is refused
    for other in [*respelt, *padded]:
        if other == signature:
            continue
        assert base64.urlsafe_b64decode(other.strip() + "=" * (-len(other.strip()) % 4)) == (
            base64.urlsafe_b64decode(signature + "=")
        )
        with pytest.raises(LinkError) as caught:
            verify_link(f"{body}.{other}", KEY, NOW, action="pay")
        assert caught.value.reason == "malformed"
    assert verify_link(token, KEY, NOW, action="pay") == SCOPE


def test_a_link_payload_has_one_spelling() -> None:
    body, _, signature = sign_link(SCOPE, KEY).partition(".")
    others = [f"{body}=", *(_respell_last_character(body) if len(body) % 4 else [])]
    for other in others:
        with pytest.raises(LinkError):
            verify_link(f"{other}.{signature}", KEY, NOW, action="pay")


CURRENT, PREVIOUS, STRANGER = b"n" * 32, b"o" * 32, b"s" * 32
RING = link_keys(json.dumps({"current": CURRENT.decode(), "previous": PREVIOUS.decode()}))


def test_a_link_signed_with_the_previous_key_verifies_until_it_expires() -> None:
    token = sign_link(SCOPE, PREVIOUS)
    assert verify_link(token, RING, NOW, action="pay") == SCOPE
    with pytest.raises(LinkError) as caught:
        verify_link(token, RING, NOW + timedelta(days=30), action="pay")
    assert caught.value.reason == "expired"


def test_a_ring_signs_with_its_current_key() -> None:
    token = sign_link(SCOPE, RING)
    assert verify_link(token, CURRENT, NOW, action="pay") == SCOPE
    with pytest.raises(LinkError):
        verify_link(token, PREVIOUS, NOW, action="pay")


def test_a_link_signed_with_a_key_neither_current_nor_previous_is_refused() -> None:
    with pytest.raises(LinkError) as caught:
        verify_link(sign_link(SCOPE, STRANGER), RING, NOW, action="pay")
    assert caught.value.reason == "tampered"


def test_the_retired_key_verifies_nothing_after_the_second_step() -> None:
    retired = link_keys(json.dumps({"current": CURRENT.decode()}))
    with pytest.raises(LinkError):
        verify_link(sign_link(SCOPE, PREVIOUS), retired, NOW, action="pay")
    assert verify_link(sign_link(SCOPE, retired), CURRENT, NOW, action="pay") == SCOPE


def test_the_single_key_secret_still_works() -> None:
    ring = link_keys("k" * 32)
    assert (ring.current, ring.previous) == (KEY, ())
    assert verify_link(sign_link(SCOPE, KEY), ring, NOW, action="pay") == SCOPE


@pytest.mark.parametrize(
    "secret",
    [
        "short",
        '{"current": "short"}',
        '{"current": "' + "n" * 32 + '", "previous": "short"}',
        '{"previous": "' + "o" * 32 + '"}',
        '{"current": "' + "n" * 32 + '", "next": "' + "o" * 32 + '"}',
        '["' + "n" * 32 + '"]',
        '{"current": ',
    ],
)
def test_a_secret_that_is_neither_form_is_refused_not_read_as_a_key(secret: str) -> None:
    with pytest.raises(ValueError, match="link signing"):
        link_keys(secret)
