"""Publisher function: every audit event the ledger stores goes onto the event bus.

The table's stream is the outbox: an event is published if and only if its change was committed,
however the writer died. Records are handled one by one and failures are reported per record
(Powertools Batch), so one bad record is retried without holding back the others.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from receivables.adapters.events import EventPublisher
from receivables.kernel.observability import logger, metrics
from receivables.kernel.settings import Settings
from receivables.ledger.events import bus_event_from_stream_image

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def default_publisher() -> EventPublisher:
    """Built once per cold start from the function's environment."""
    settings = Settings.from_env(os.environ)
    if not settings.event_bus_name:
        raise RuntimeError("EVENT_BUS_NAME is not set")
    return EventPublisher(settings.event_bus_name, endpoint_url=settings.endpoint_url)


def publish_record(record: DynamoDBRecord, publisher: EventPublisher | None = None) -> None:
    """Publish the audit event inserted by one stream record (anything else is ignored)."""
    image = record.dynamodb.new_image if record.dynamodb else None
    if (
        record.event_name is None
        or record.event_name.name != "INSERT"
        or not image
        or image.get("kind") != "event"
    ):
        return
    detail_type, detail = bus_event_from_stream_image(image)
    (publisher or default_publisher()).publish(detail_type, detail)
    metrics.add_metric(name="LedgerEventsPublished", unit="Count", value=1)


def handle(event: dict[str, Any], publisher: EventPublisher) -> dict[str, Any]:
    """Publish a batch of stream records; the response lists the ones to retry."""
    return process_partial_response(  # type: ignore[return-value]
        event=event,
        record_handler=lambda record: publish_record(record, publisher),
        processor=processor,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return handle(event, default_publisher())
