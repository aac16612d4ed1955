"""Signed links: authentic, scoped, expiring; nothing in them can be changed without the key."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.links import LinkError, LinkScope, sign_link, verify_link

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
