"""SES v2 behind one function: send a raw MIME message, get its message id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def ses_sender(sender: str, endpoint_url: str | None = None) -> Callable[[str, bytes], str]:
    """Send a raw MIME message from ``sender`` to one recipient; return SES's message id. The
    client is made on first use."""
    clients: list[object] = []

    def send_raw(to: str, raw: bytes) -> str:
        import boto3

        if not clients:
            clients.append(boto3.client("sesv2", endpoint_url=endpoint_url))
        client: Any = clients[0]
        response = client.send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Raw": {"Data": raw}},
        )
        return str(response["MessageId"])

    return send_raw
