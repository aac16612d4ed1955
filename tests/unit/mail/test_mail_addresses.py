"""Address headers: any customer's name reaches the message intact, and none can add a header."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.ledger.model import Customer
from receivables.mail.emails import InvoiceEmail
from receivables.mail.headers import header_text, mailbox, new_message
from receivables.mail.mailer import MailSettings, mime_message

if TYPE_CHECKING:
    from email.message import EmailMessage

SETTINGS = MailSettings(
    sender="billing@seller.example",
    seller_name="Seller (Europe), Ltd",
    contact="ar@seller.example",
    public_base_url="https://pay.seller.example",
)
RENDERED = InvoiceEmail("Invoice INV-1", "Hello", "<p>Hello</p>", "en")

# Any name a person could type: every Unicode character but the control, format, surrogate,
# private-use and unassigned ones, with spaces anywhere (made single by the mail layer).
printable_names = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=120
)


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a reader gets it: its bytes parsed back."""
    back = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(back, type(message))
    return back


def sent_to(name: str | None, address: str = "ap@customer.example") -> EmailMessage:
    customer = Customer("C1", name, (), address)
    return parsed(mime_message(RENDERED, customer, SETTINGS, "inv-1"))


@given(printable_names)
def test_any_printable_display_name_round_trips_through_the_message(name: str) -> None:
    # Given a customer with any name, When their email is built and read back
    message = sent_to(name)
    # Then the To header holds one mailbox, with their address and their name
    (to,) = message["To"].addresses
    assert (to.addr_spec, to.display_name) == ("ap@customer.example", " ".join(name.split()))
    (sender,) = message["From"].addresses
    assert (sender.addr_spec, sender.display_name) == ("billing@seller.example", "Seller (Europe), Ltd")
    assert all(len(line) <= 998 for line in message.as_string().split("\n\n")[0].splitlines())


@given(printable_names, printable_names)
def test_any_two_names_stay_two_mailboxes(first: str, second: str) -> None:
    message = new_message()
    message["To"] = [mailbox(first, "a@one.example"), mailbox(second, "b@two.example")]
    message.set_content("x")
    addresses = parsed(message)["To"].addresses
    assert [(a.addr_spec, a.display_name) for a in addresses] == [
        ("a@one.example", " ".join(first.split())),
        ("b@two.example", " ".join(second.split())),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Müller (Deutschland), GmbH",
        "Acme, Inc. (EMEA)",
        'The "Best" Company; Ltd <sales>',
        "Société Générale — Département Comptabilité Fournisseurs, Paris (Siège)",
        "株式会社 東京 (本社), 経理部",
        "=?utf-8?b?QQ==?=",
        "A" * 120 + ", (x)",
        "O'Brien & Sons",
    ],
)
def test_a_customer_named_with_commas_parentheses_or_accents_is_emailed(name: str) -> None:
    (to,) = sent_to(name)["To"].addresses
    assert (to.addr_spec, to.display_name) == ("ap@customer.example", name)


def test_a_seller_named_with_commas_and_accents_sends_from_one_address() -> None:
    settings = MailSettings("billing@seller.example", "Müller (Deutschland), GmbH", "ar@seller.example", "")
    message = parsed(mime_message(RENDERED, Customer("C1", "Acme", (), "ap@acme.example"), settings, "i"))
    (sender,) = message["From"].addresses
    assert (sender.addr_spec, sender.display_name) == ("billing@seller.example", "Müller (Deutschland), GmbH")


@pytest.mark.parametrize(
    "name",
    [
        "Acme\r\nBcc: thief@evil.example",
        "Acme\nBcc: thief@evil.example",
        "Acme\rBcc: thief@evil.example",
        "Acme\u2028Bcc: thief@evil.example",
        "Acme\x00\x1b\u202e\tBcc: thief@evil.example",
    ],
)
def test_a_name_with_line_breaks_cannot_inject_a_header(name: str) -> None:
    message = sent_to(name)
    assert message["Bcc"] is None
    assert len(message["To"].addresses) == 1
    assert message["To"].addresses[0].addr_spec == "ap@customer.example"
    assert "thief@evil.example" not in "".join(a.addr_spec for a in message["To"].addresses)


def test_a_subject_with_line_breaks_stays_one_header() -> None:
    rendered = InvoiceEmail("Invoice for Acme\r\nBcc: thief@evil.example", "Hello", "<p>Hello</p>", "en")
    message = parsed(mime_message(rendered, Customer("C1", "Acme", (), "ap@acme.example"), SETTINGS, "i"))
    assert message["Bcc"] is None
    assert message["Subject"] == "Invoice for Acme Bcc: thief@evil.example"


def test_header_text_keeps_words_and_drops_control_characters() -> None:
    assert header_text(" Acme\t\r\n  GmbH\x00 ") == "Acme GmbH"
    assert header_text("Müller (Deutschland), GmbH") == "Müller (Deutschland), GmbH"


def test_a_customer_without_a_name_is_written_as_the_bare_address() -> None:
    message = sent_to(None)
    assert message["To"].addresses[0].display_name == ""
    assert "To: ap@customer.example" in message.as_string()
