"""`receivables demo`'s main line: start the local runtime in this process, tell the story chapter
by chapter (`receivables_local.demo`'s package docstring lists them), and end with reconciliation.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from receivables.storage import store
from receivables_local.demo.credit import credit_chapter
from receivables_local.demo.disputes import disputes_chapter
from receivables_local.demo.dunning import dunning_chapter
from receivables_local.demo.enrolment import enrolment_chapter
from receivables_local.demo.finance import finance_chapter
from receivables_local.demo.helpers import free_port_base, port_is_free
from receivables_local.demo.ingest import ingest_chapter, observe_bus
from receivables_local.demo.payments import payments_chapter
from receivables_local.demo.portal import portal_chapter
from receivables_local.demo.reconciliation import reconciliation_chapter
from receivables_local.demo.statements import statements_chapter
from receivables_local.runtime import DEFAULT_PORT_BASE, LocalRuntime

if TYPE_CHECKING:
    from pathlib import Path


def run_demo(out: TextIO, *, port_base: int | None = None, state_dir: Path | None = None) -> int:
    """Run the story and print it; returns the process exit code. The runtime's clock is stepped:
    the story moves time from one scheduled thing to the next and reacts to each, so it prints the
    same on a quiet laptop and on a loaded machine."""
    if port_base is None or (port_base == DEFAULT_PORT_BASE and not port_is_free(DEFAULT_PORT_BASE)):
        port_base = free_port_base()
    runtime = LocalRuntime(port_base=port_base, stepped=True, function_log_level="ERROR")
    if state_dir is not None:
        runtime.state_dir = state_dir
    started = time.perf_counter()
    runtime.start()
    try:
        print(runtime.banner(), file=out)
        print(file=out)
        _story(runtime, out)
        balanced = reconciliation_chapter(runtime, out, number=16)
        took = time.perf_counter() - started
        print(f"\nThe demo took {took:.1f} s (runtime start {runtime.started_seconds:.1f} s).", file=out)
    finally:
        runtime.stop()
        runtime.connection_file.unlink(missing_ok=True)
    return 0 if balanced else 1


def _story(runtime: LocalRuntime, out: TextIO) -> None:
    assert runtime.stack is not None
    session = boto3.session.Session(region_name=runtime.region)

    def client(service: str) -> Any:
        factory: Any = session.client
        return factory(service, endpoint_url=runtime.aws_endpoint)

    s3, events, sqs = client("s3"), client("events"), client("sqs")
    bucket = runtime.stack.resources["InvoiceBucket"]
    queue_url = observe_bus(events, sqs, runtime.stack.resources["EventBus"])
    store.bind(runtime.stack.resources["Table"], runtime.region, runtime.aws_endpoint)

    ingest_chapter(runtime, s3, events, sqs, queue_url, out)
    payments_chapter(runtime, s3, bucket, out)
    dunning_chapter(runtime, s3, bucket, out)
    disputes_chapter(runtime, s3, bucket, out)
    portal_chapter(runtime, s3, bucket, out)
    enrolment_chapter(runtime, s3, bucket, out, number=12)
    credit_chapter(runtime, s3, bucket, out, number=13)
    statements_chapter(runtime, s3, bucket, out, number=14)
    finance_chapter(runtime, out, number=15)
