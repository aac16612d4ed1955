"""The event router: what AWS would deliver to Lambda, delivered to the same handler code.

- EventBridge rules with Lambda targets (moto's S3 → EventBridge notifications included) and
  Step Functions targets, through the patched rule sender.
- The Invoke API and Step Functions Lambda tasks, through the patched LambdaFunction.invoke.
- DynamoDB stream event source mappings, polled as Lambda's poller does: batches, filter
  criteria (matched with moto's own EventBridge pattern matcher), ReportBatchItemFailures, and
  the on-failure destination once the retries are spent.
- Scheduled rules (``rate(...)`` and ``cron(...)``), fired by the runtime's clock when it
  reaches them (a timer source of receivables_local.clock), so an accelerated clock makes a daily
  schedule fire every few seconds, and a stepped one fires it when a story steps to it.

It is a probe of the clock too: busy while it delivers a batch, or while a stream holds records
it has not read.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables_local.aws import LOCAL_CONFIG, StreamReader
from receivables_local.clock import TimerSource
from receivables_local.schedule import Schedule

if TYPE_CHECKING:
    from datetime import datetime

    import boto3

    from receivables_local.clock import LocalClock
    from receivables_local.invoker import Invoker
    from receivables_local.provision import Stack

log = logging.getLogger("receivables.local.router")
ACCOUNT = "123456789012"  # moto's default account, the local runtime's


@dataclass
class _StreamPoller:
    source: dict[str, Any]
    reader: StreamReader
    table: str
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0


class Router:
    """Delivers events to the invoker; `start` runs the pollers and the scheduler."""

    def __init__(
        self,
        invoker: Invoker,
        session: boto3.session.Session,
        endpoint: str,
        region: str,
        clock: LocalClock,
        poll_seconds: float = 0.2,
        time_scale: float = 1.0,
    ) -> None:
        self.invoker = invoker
        self.session = session
        self.endpoint = endpoint
        self.region = region
        self.clock = clock
        self.time_scale = time_scale
        self.poll_seconds = poll_seconds
        self._pollers: list[_StreamPoller] = []
        self._schedules: dict[str, tuple[Schedule, datetime]] = {}
        self._schedule_busy: set[str] = set()
        self._stop = threading.Event()
        self._poll_now = threading.Event()
        self._thread: threading.Thread | None = None
        self._events: Any = None
        self._busy_clients = threading.Lock()
        self._busy = threading.Lock()
        self._delivering = 0
        self.stack: Stack | None = None
        clock.add_probe("event router", self.probe)
        clock.add_nudge(self._poll_now.set)
        clock.add_source(TimerSource("schedules", self._next_schedule, lambda _: self._fire_schedules()))

    def client(self, service: str) -> Any:
        """A client of the emulator (a boto3 session makes clients for one thread at a time)."""
        with self._busy_clients:
            factory: Any = self.session.client
            return factory(service, endpoint_url=self.endpoint, region_name=self.region, config=LOCAL_CONFIG)

    # --- moto adapters call these ---------------------------------------------------------
    def invoke(self, name_or_arn: str, event: Any) -> tuple[Any, bool]:
        """Run a function now (Invoke API, Step Functions task): (payload, errored)."""
        invocation = self.invoker.invoke(name_or_arn, event)
        if invocation.ok:
            return invocation.result, False
        error_type, _, message = (invocation.error or "Error: failed").partition(": ")
        return {"errorType": error_type, "errorMessage": message}, True

    def invoke_async(self, name_or_arn: str, event: Any) -> None:
        """Queue a function's invocation (Invoke with InvocationType=Event)."""
        self.invoker.invoke_async(name_or_arn, event)

    def deliver_rule_target(
        self, rule: Any, target: dict[str, Any], event: dict[str, Any], done: Any = None
    ) -> None:
        """An EventBridge rule matched: hand the event to its Lambda or state machine target."""
        payload: Any = event
        if "Input" in target:
            payload = json.loads(target["Input"])
        elif "InputPath" in target:
            for part in target["InputPath"].removeprefix("$.").split("."):
                payload = payload[part] if part else payload
        service = target["Arn"].split(":")[2]
        if service == "lambda":
            self.invoker.invoke_async(target["Arn"], payload, done)
        else:
            # EventBridge names each execution it starts afresh (moto would name them all "None").
            self.client("stepfunctions").start_execution(
                stateMachineArn=target["Arn"], name=uuid.uuid4().hex, input=json.dumps(payload)
            )

    # --- lifecycle --------------------------------------------------------------------------
    def attach(self, stack: Stack) -> None:
        """Start polling the stack's stream event sources and firing its schedules."""
        self.stack = stack
        dynamodb = self.client("dynamodb")
        streams = self.client("dynamodbstreams")
        for source in stack.stream_sources:
            if source["stream"] is None:
                continue
            table = source["stream"]["table"]
            arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            self._pollers.append(_StreamPoller(source, StreamReader(streams, arn), table))
        events = self.client("events")
        for bus in events.list_event_buses()["EventBuses"]:
            for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]:
                if rule.get("ScheduleExpression") and rule.get("State", "ENABLED") == "ENABLED":
                    schedule = Schedule.parse(rule["ScheduleExpression"])
                    key = f"{bus['Name']}/{rule['Name']}"
                    self._schedules[key] = (schedule, schedule.next_after(self.clock.now()))

    def start(self) -> None:
        """Run the stream pollers on a background thread (the clock fires the schedules)."""
        self._thread = threading.Thread(target=self._loop, name="event-router", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (what is already queued still runs)."""
        self._stop.set()
        self._poll_now.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def probe(self) -> tuple[bool, tuple[int, ...]]:
        """For the local clock: busy while a stream is being read or a batch delivered, or while a
        stream holds records not yet read or delivered; the progress marks are the records read
        per stream."""
        with self._busy_clients:
            delivering = self._delivering > 0
        read = tuple(p.reader.records_read for p in self._pollers)
        busy = delivering or any(p.pending or self._unread(p) for p in self._pollers)
        return busy, read

    def _unread(self, poller: _StreamPoller) -> bool:
        """Whether the table's stream holds records this poller has not read (moto's stream, read
        in-process: no request, so the clock may ask as often as it likes)."""
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT][self.region].tables.get(poller.table)
        shard = getattr(table, "stream_shard", None)
        return shard is not None and len(shard.items) > poller.reader.records_read

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poll_now.wait(self.poll_seconds)
            self._poll_now.clear()
            try:
                with self._busy:
                    self._poll_streams()
            except Exception:
                log.exception("event router iteration failed")

    # --- streams ----------------------------------------------------------------------------
    def _poll_streams(self) -> int:
        """Deliver what the streams hold; returns how many records were delivered."""
        delivered = 0
        for poller in self._pollers:
            if not poller.pending and not self._unread(poller):
                continue
            with self._busy_clients:
                self._delivering += 1
            try:
                delivered += self._poll_stream(poller)
            finally:
                with self._busy_clients:
                    self._delivering -= 1
        return delivered

    def _poll_stream(self, poller: _StreamPoller) -> int:
        delivered = 0
        poller.pending.extend(r for r in poller.reader.read() if self._matches(poller.source, r))
        while poller.pending:
            batch = poller.pending[: poller.source["batch_size"]]
            failed_from = self._deliver_batch(poller, batch)
            if failed_from is None:
                del poller.pending[: len(batch)]
                poller.attempts = 0
                delivered += len(batch)
                continue
            poller.attempts += 1
            if poller.attempts > poller.source["max_retries"]:
                self._send_to_failure_destination(poller.source, batch[failed_from:])
                del poller.pending[: len(batch)]
                poller.attempts = 0
            else:
                del poller.pending[:failed_from]  # checkpoint: retry from the first failure
            break
        return delivered

    def _matches(self, source: dict[str, Any], record: dict[str, Any]) -> bool:
        if not source["filters"]:
            return True
        from moto.events.models import EventPattern

        candidate: Any = record
        return any(EventPattern.load(json.dumps(p)).matches_event(candidate) for p in source["filters"])

    def _deliver_batch(self, poller: _StreamPoller, batch: list[dict[str, Any]]) -> int | None:
        """Invoke with one batch; None when it all succeeded, else the index to retry from."""
        assert self.stack is not None
        function = self.stack.functions[poller.source["function"]]
        invocation = self.invoker.invoke(function.physical_name, {"Records": batch})
        if not invocation.ok:
            return 0
        failures = (
            (invocation.result or {}).get("batchItemFailures", []) if poller.source["report_failures"] else []
        )
        if not failures:
            return None
        failed_ids = {f["itemIdentifier"] for f in failures}
        return min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed_ids)

    def _send_to_failure_destination(self, source: dict[str, Any], records: list[dict[str, Any]]) -> None:
        destination = source.get("on_failure")
        log.error("%s: %d stream records failed every retry", source["logical_id"], len(records))
        if isinstance(destination, dict) and self.stack is not None:
            queue_url = self.stack.resources[destination["logical_id"]]
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
            self.client("sqs").send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps(
                    {
                        "requestContext": {"condition": "RetryAttemptsExhausted"},
                        "sequenceNumbers": sequence_numbers,
                    }
                ),
            )

    # --- schedules --------------------------------------------------------------------------
    def _next_schedule(self) -> datetime | None:
        dues = [due for _, due in list(self._schedules.values())]
        return min(dues) if dues else None

    def _fire_schedules(self) -> None:
        """Fire the schedules that are due. At an accelerated clock a schedule can come round
        faster than its function runs: while its last firing is still queued or running, the
        firings it missed are folded into the next one (as one late run, not a growing
        backlog that would starve every other function)."""
        now = self.clock.now()
        for key, (schedule, due) in list(self._schedules.items()):
            if due > now:
                continue
            if key in self._schedule_busy:
                self._schedules[key] = (schedule, schedule.next_after(now))
                continue
            bus, _, rule_name = key.partition("/")
            self._schedule_busy.add(key)
            self._fire(bus, rule_name, due, lambda key=key: self._schedule_busy.discard(key))
            self._schedules[key] = (schedule, schedule.next_after(due))

    def _fire(self, bus: str, rule_name: str, at: datetime, done: Any = None) -> None:
        if self._events is None:
            self._events = self.client("events")
        events = self._events
        event = {
            "version": "0",
            "id": f"scheduled-{rule_name}-{at.strftime('%Y%m%dT%H%M%S')}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{ACCOUNT}:rule/{rule_name}"],
            "detail": {},
        }
        targets = events.list_targets_by_rule(Rule=rule_name, EventBusName=bus)["Targets"]
        if not targets and done is not None:
            done()
        for n, target in enumerate(targets):
            self.deliver_rule_target(None, target, event, done if n == len(targets) - 1 else None)
