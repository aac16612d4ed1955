"""Counters kept with one conditional ADD: the per-window request counts of the rate limits."""

from __future__ import annotations

from receivables.storage.connection import dispatch


# --- rate limits ----------------------------------------------------------------------------------
def within_rate(key: str, window: str, limit: int, expires_at: int) -> bool:
    """Count one more request of ``key`` (a digest, never an address) in ``window``; False, and
    nothing counted, once ``limit`` requests are in. One conditional ADD; the item expires with
    the window (the table's TTL)."""
    from botocore.exceptions import ClientError

    try:
        dispatch(
            "UpdateItem",
            {
                "Key": {"pk": {"S": f"RATE#{key}"}, "sk": {"S": window}},
                "UpdateExpression": "ADD hits :one SET expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires_at)},
                },
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
