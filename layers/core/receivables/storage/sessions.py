"""The server-side record of each portal session (`receivables.web.portal`): opened with the
session, checked on every request, ended by signing out, so that a cookie is refused once its
session has ended.

One item per session (``SESSION#<session_id>``, the random id the cookie's token carries, never
the cookie itself), written on the ledger table like the portal's rate limits, and gone with the
table's TTL when the session would have expired anyway. Each call is one request: a conditional
PutItem, a consistent GetItem, a conditional UpdateItem.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from receivables.storage.connection import dispatch
from receivables.storage.keys import session_key


def _key(session_id: str) -> dict[str, Any]:
    pk, sk = session_key(session_id)
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def record_session(session_id: str, customer_id: str, expires_at: int, at: str) -> None:
    """Record a session just opened, until ``expires_at`` (epoch seconds, the table's TTL).
    Conditional: an id is recorded once (a second session can never take over a first one's:
    botocore's ``ClientError`` ``ConditionalCheckFailedException``)."""
    if not session_id:
        raise ValueError("a session is recorded under its id")
    dispatch(
        "PutItem",
        {
            "Item": {
                **_key(session_id),
                "customer_id": {"S": customer_id},
                "opened_at": {"S": at},
                "expires_at": {"N": str(expires_at)},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        },
    )


def session_is_open(session_id: str, customer_id: str) -> bool:
    """True while the session is recorded for ``customer_id`` and not ended (read consistently,
    so a sign-out is seen by the very next request)."""
    if not session_id:
        return False
    item = dispatch("GetItem", {"Key": _key(session_id), "ConsistentRead": True}).get("Item")
    return item is not None and item.get("customer_id", {}).get("S") == customer_id and "ended_at" not in item


def end_session(session_id: str, at: str) -> bool:
    """Mark the session ended, if it is open; False when it was not (ended already, by a second
    sign-out racing the first, or never recorded). One conditional UpdateItem."""
    try:
        dispatch(
            "UpdateItem",
            {
                "Key": _key(session_id),
                "UpdateExpression": "SET ended_at = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(ended_at)",
                "ExpressionAttributeValues": {":at": {"S": at}},
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
