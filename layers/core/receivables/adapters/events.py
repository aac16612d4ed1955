"""EventBridge behind a small adapter: put ledger events on the project's bus."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from receivables.kernel.errors import ReceivablesError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "receivables.ledger"


class EventPublishError(ReceivablesError):
    """EventBridge refused an entry."""


class EventPublisher:
    """Puts events on one bus; pass a client (a moto one, a fake) or get the default."""

    def __init__(
        self,
        bus_name: str,
        client: EventBridgeClient | None = None,
        *,
        endpoint_url: str | None = None,
    ) -> None:
        self.bus_name = bus_name
        self._client = client
        self._endpoint_url = endpoint_url

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("events", endpoint_url=self._endpoint_url)
        return self._client

    def publish(
        self,
        detail_type: str,
        detail: dict[str, Any],
        *,
        resources: list[str] | None = None,
        source: str = SOURCE,
    ) -> None:
        """Put one event; raise `EventPublishError` if EventBridge refuses it."""
        response = self.client.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                    "Resources": resources or [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishError(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")
