"""Ledger audit events as the event bus carries them (the outbox read from the table's stream)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def bus_event_from_stream_image(image: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The (detail type, detail) of the audit event stored as ``image`` (a deserialised
    NewImage of the table's stream).

    The detail carries ``event_id`` (``<aggregate>#<seq>``), unique per change, so consumers
    deduplicate the at-least-once deliveries of the stream and of EventBridge.
    """
    seq = image["seq"]
    if isinstance(seq, Decimal):
        seq = int(seq)
    detail: dict[str, Any] = {
        "event_id": f"{image['aggregate_id']}#{seq}",
        "aggregate_id": image["aggregate_id"],
        "seq": seq,
        "at": image["at"],
        "actor": image["actor"],
        **json.loads(image["data"]),
    }
    return str(image["type"]), detail
