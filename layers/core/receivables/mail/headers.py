"""Mail headers that keep any display name intact: address headers written as one quoted string
or RFC 2047 encoded words, never folded inside a name (`new_message`, `mailbox`, `header_text`)."""

from __future__ import annotations

import base64
import re
import unicodedata
from email.headerregistry import Address, AddressHeader, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.policy import Policy


MARKER = "invoice-email"
ACTOR = "mailer"
MAX_ATTEMPTS = 5


# --- addresses -----------------------------------------------------------------------------------
# The standard library folds a long or non-ASCII display name by splitting its quoted string and
# dropping the quotes, so a name such as ``Müller (Deutschland), GmbH`` came out as two broken
# mailboxes ("Missing domain" at SES). Address headers are therefore written here: an ASCII name
# as one quoted string, never folded inside; in any other name, the words that are plain atoms
# as they are and each run of the other words as one RFC 2047 encoded
# word (base64 of UTF-8, spaces inside). Readers drop the space between two encoded words (RFC
# 2047) or keep it (Python's parser), so a run is never split into two unless it is longer than
# any real name (`WORD_BYTES`); a space between an atom and an encoded word every reader keeps.
PLAIN_WORD = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
WORD_BYTES = 600  # an encoded word of at most 812 characters: a line within 998 with its header
HEADER_LINE = 78


def header_text(text: str) -> str:
    """``text`` fit for one header: control and format characters (CR, LF, tabs, bidi marks)
    dropped or made spaces, runs of spaces made one, so that nothing in a name can end a header
    or start another."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or not unicodedata.category(ch).startswith("C")
    )
    return " ".join(kept.split())


def mailbox(display_name: str | None, addr_spec: str) -> Address:
    """The address of a message header, its display name made header-safe (`header_text`).

    >>> str(mailbox("Acme, Inc. (EMEA)\\nBcc: x@evil.example", "ap@acme.example"))
    '"Acme, Inc. (EMEA) Bcc: x@evil.example" <ap@acme.example>'
    """
    return Address(display_name=header_text(display_name or ""), addr_spec=addr_spec)


def _encoded_words(run: str) -> list[str]:
    """``run`` as RFC 2047 encoded words: one, unless it is longer than `WORD_BYTES`."""
    chunks: list[bytes] = [b""]
    for ch in run:
        data = ch.encode()
        if chunks[-1] and len(chunks[-1]) + len(data) > WORD_BYTES:
            chunks.append(b"")
        chunks[-1] += data
    return [f"=?utf-8?b?{base64.b64encode(c).decode()}?=" for c in chunks]


def _mailbox_tokens(address: Address) -> list[str]:
    """The pieces of one mailbox, to be joined by spaces or line folds."""
    name, angle = address.display_name, f"<{address.addr_spec}>"
    if not name:
        return [address.addr_spec]
    if name.isascii() and name.isprintable() and "=?" not in name:  # one quoted string, unfolded
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"', angle]
    tokens: list[str] = []
    run: list[str] = []
    for word in name.split(" "):
        # "=?" would read as the start of an encoded word: such a word is encoded too.
        if PLAIN_WORD.fullmatch(word) and "=?" not in word:
            if run:
                tokens.extend(_encoded_words(" ".join(run)))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens.extend(_encoded_words(" ".join(run)))
    return [*tokens, angle]


class _SafeAddressHeader(AddressHeader, BaseHeader):  # type: ignore[misc]  # as the registry combines them
    """An address header (From, To, Reply-To, …) folded by `_mailbox_tokens`, not by the
    standard library's folder."""

    def fold(self, *, policy: Policy) -> str:
        if any(g.display_name is not None for g in self.groups) or not all(
            a.addr_spec.isascii() for a in self.addresses
        ):
            return super().fold(policy=policy)  # groups, non-ASCII addresses: the library's way
        lines = [f"{self.name}:"]
        for index, address in enumerate(self.addresses):
            tokens = _mailbox_tokens(address)
            if index < len(self.addresses) - 1:
                tokens[-1] += ","
            for token in tokens:
                if len(lines[-1]) + 1 + len(token) > HEADER_LINE and lines[-1].strip():
                    lines.append("")
                lines[-1] += " " + token
        return policy.linesep.join(lines) + policy.linesep


def _header_registry() -> HeaderRegistry:
    registry = HeaderRegistry()
    for name in ("from", "to", "cc", "bcc", "reply-to", "sender"):
        registry.map_to_type(name, _SafeAddressHeader)
    return registry


MAIL_POLICY = default_policy.clone(header_factory=_header_registry())


def new_message() -> EmailMessage:
    """An empty message whose address headers keep any display name intact (`MAIL_POLICY`)."""
    return EmailMessage(policy=MAIL_POLICY)
