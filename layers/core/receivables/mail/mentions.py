"""Mentions in finance's notes: ``@someone@example.com`` in a note emails that colleague a link
to the page the note is on.

Only the addresses are read from the note (at most `MAX_MENTIONS`); whether each is a colleague
(a user of the finance user pool) is the caller's to check, so a note never mails a stranger.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

MAX_MENTIONS = 5
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mentioned(text: str) -> list[str]:
    """The addresses ``text`` mentions, lower-cased, each once, in order.

    >>> mentioned("@Ana@finance.example see @bob@finance.example, and ana again @ana@finance.example")
    ['ana@finance.example', 'bob@finance.example']
    """
    found = [m.group(1).rstrip(".").lower() for m in MENTION.finditer(text)]
    return list(dict.fromkeys(found))[:MAX_MENTIONS]


def mention_message(sender: str, to: str, by: str, about: str, url: str, text: str) -> bytes:
    """The email that tells ``to`` that ``by`` mentioned them in a note about ``about``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"{by} mentioned you: {about}"[:200]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Receivables-Kind"] = "mention"
    message.set_content(f"{by} mentioned you in a note about {about}:\n\n{text}\n\nOpen it: {url}\n")
    return message.as_bytes()
