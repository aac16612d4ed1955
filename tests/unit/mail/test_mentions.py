"""Mentions in notes: which addresses a note names, and the email that tells them."""

from __future__ import annotations

import email
from email import policy

from receivables.mail.mentions import MAX_MENTIONS, mention_message, mentioned


def test_a_note_mentions_each_address_once_and_not_a_plain_email_address() -> None:
    text = "@Ana@x.example, ask @bob@x.example. Mail ap@acme.example. Again @ana@x.example"
    assert mentioned(text) == ["ana@x.example", "bob@x.example"]
    assert mentioned("write to ap@acme.example") == []
    assert len(mentioned(" ".join(f"@u{n}@x.example" for n in range(9)))) == MAX_MENTIONS


def test_the_email_says_who_mentioned_whom_where_with_the_link() -> None:
    raw = mention_message(
        "ar@seller.example", "ana@x.example", "bob@x.example", "Acme", "https://c/console/customers/c1", "hi"
    )
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "ana@x.example" and message["Subject"] == "bob@x.example mentioned you: Acme"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "https://c/console/customers/c1" in body.get_content()
