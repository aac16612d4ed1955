"""The server-side sessions of the finance console (`receivables.web.console`).

One item per session on the ledger table, under the SHA-256 of the cookie's random value (so
reading the table gives no cookie that works), gone with the table's TTL once the session could
not be used anyway (``expires_at``, epoch seconds). The item holds who signed in, their groups,
the form token, the refresh token and when the ID token expires, and when the session was last
used (the idle timeout). Each call is one request: a conditional PutItem, a consistent GetItem,
an UpdateItem, a DeleteItem.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from receivables.storage.connection import dispatch
from receivables.storage.keys import console_session_key


@dataclass(frozen=True, slots=True)
class ConsoleSessionRecord:
    """What the console keeps of one signed-in person."""

    subject: str  # the user's ``sub``
    username: str  # what the console shows and writes as the actor
    groups: tuple[str, ...]
    csrf: str
    refresh_token: str | None
    id_expires_at: int  # the ID token's ``exp``: refreshed after it
    last_seen: int
    expires_at: int  # the session's end at the latest (the table's TTL)


def _key(session_id: str) -> dict[str, Any]:
    if not session_id:
        raise ValueError("a console session is kept under its id")
    pk, sk = console_session_key(hashlib.sha256(session_id.encode()).hexdigest())
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item(record: ConsoleSessionRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "subject": {"S": record.subject},
        "username": {"S": record.username},
        "groups": {"S": json.dumps(list(record.groups))},
        "csrf": {"S": record.csrf},
        "id_expires_at": {"N": str(record.id_expires_at)},
        "last_seen": {"N": str(record.last_seen)},
        "expires_at": {"N": str(record.expires_at)},
    }
    if record.refresh_token:
        item["refresh_token"] = {"S": record.refresh_token}
    return item


def open_console_session(session_id: str, record: ConsoleSessionRecord) -> None:
    """Keep a session just signed in (an id is kept once: a second session never takes over a
    first one's, botocore's ``ConditionalCheckFailedException``)."""
    dispatch(
        "PutItem",
        {"Item": {**_key(session_id), **_item(record)}, "ConditionExpression": "attribute_not_exists(pk)"},
    )


def console_session(session_id: str) -> ConsoleSessionRecord | None:
    """The session, read consistently (a sign-out is seen by the very next request); None when
    there is none (never opened, signed out, or deleted by the TTL)."""
    if not session_id:
        return None
    item = dispatch("GetItem", {"Key": _key(session_id), "ConsistentRead": True}).get("Item")
    if item is None:
        return None
    return ConsoleSessionRecord(
        subject=item["subject"]["S"],
        username=item["username"]["S"],
        groups=tuple(json.loads(item["groups"]["S"])),
        csrf=item["csrf"]["S"],
        refresh_token=item.get("refresh_token", {}).get("S"),
        id_expires_at=int(item["id_expires_at"]["N"]),
        last_seen=int(item["last_seen"]["N"]),
        expires_at=int(item["expires_at"]["N"]),
    )


def save_console_session(session_id: str, record: ConsoleSessionRecord) -> None:
    """Write the session's new state (used just now, or its tokens refreshed), if it still exists."""
    from botocore.exceptions import ClientError

    try:
        dispatch(
            "PutItem",
            {"Item": {**_key(session_id), **_item(record)}, "ConditionExpression": "attribute_exists(pk)"},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def end_console_session(session_id: str) -> None:
    """Forget the session (signing out, an idle timeout, a refresh refused)."""
    if session_id:
        dispatch("DeleteItem", {"Key": _key(session_id)})
