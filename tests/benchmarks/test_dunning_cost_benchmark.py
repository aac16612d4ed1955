"""What dunning one invoice costs on AWS, metered on the local runtime (one simulated day a second).

Two invoices fall due together under the default policy: one is never paid (every level, then
credit hold), the other is paid by bank transfer after its first overdue reminder. For each, the
benchmark counts what AWS would bill:

- Step Functions state transitions: the ``StateEntered`` events of its execution's history;
- Lambda invocations of the dunning task for it, and their wall time rounded up to the ms;
- DynamoDB request units those invocations consumed, metered inside the emulator from the items
  read and written (a read unit per 4 KB read, a write unit per 1 KB written, twice that in a
  transaction; the idempotency table included);
- emails sent about it, and the audit events it put on the bus (each one a Publisher record and
  an EventBridge entry, costed as a Publisher invocation of the task's median duration).

Then ``cost_per_1000_invoices_usd`` (the full escalation, the upper bound) and the paid case's, at
the list prices of ``tests/benchmarks/aws_prices.py``. The daily sweep is a fixed cost per day,
printed apart. The payment itself (its webhook or API call) is payments' cost, not dunning's.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3

from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store
from receivables_local.demo.helpers import free_port_base
from receivables_local.runtime import LocalRuntime
from tests.benchmarks.aws_prices import Usage, cost_usd
from tests.benchmarks.conftest import report

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
ESCALATED, PAID = "COST-1", "COST-2"
DUNNING_EVENTS = (
    "DunningStarted",
    "ReminderSent",
    "FinalNoticeSent",
    "ReminderNotSent",
    "LateFeeCharged",
    "DunningEscalated",
    "CustomerCreditHold",
    "DunningEnded",
    "PromiseKept",
    "PromiseBroken",
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


@dataclass
class Meter:
    """Request units consumed per attribution key (the invoice a dunning task ran for, or the
    function name for everything else), metered in moto's DynamoDB backend."""

    reads: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    writes: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    current: str = "outside"
    local: threading.local = field(default_factory=threading.local)

    def read(self, size: int) -> None:
        if not getattr(self.local, "in_transaction", False):
            self.reads[self.current] += max(1, math.ceil(size / 4096))

    def write(self, size: int) -> None:
        units = max(1, math.ceil(size / 1024))
        self.writes[self.current] += units * (2 if getattr(self.local, "in_transaction", False) else 1)


def install_meter(meter: Meter, runtime: LocalRuntime) -> Callable[[], None]:
    """Wrap moto's DynamoDB backend and the invoker; returns the undo."""
    from moto.dynamodb.models import DynamoDBBackend

    from receivables_local.invoker import Invoker

    saved = {
        name: getattr(DynamoDBBackend, name) for name in ("get_item", "query", "put_item", "update_item")
    }
    saved["delete_item"] = DynamoDBBackend.delete_item
    saved["transact_write_items"] = DynamoDBBackend.transact_write_items
    run = Invoker._run

    def get_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = saved["get_item"](self, *args, **kwargs)
        meter.read(found.size() if found is not None else 0)
        return found

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = saved["query"](self, *args, **kwargs)
        meter.read(sum(item.size() for item in found[0]))
        return found

    def writer(name: str) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            item = saved[name](self, *args, **kwargs)
            meter.write(item.size() if item is not None else 0)
            return item

        return write

    def transact(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.local.in_transaction = True
        try:
            return saved["transact_write_items"](self, *args, **kwargs)
        finally:
            meter.local.in_transaction = False

    def attributed_run(self: Any, function: Any, event: Any) -> Any:
        invoice = event.get("invoice_id") if isinstance(event, dict) else None
        meter.current = f"{function.logical_id}:{invoice}" if invoice else function.logical_id
        try:
            return run(self, function, event)
        finally:
            meter.current = "outside"

    DynamoDBBackend.get_item = get_item  # type: ignore[method-assign]
    DynamoDBBackend.query = query  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, writer(name))
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    Invoker._run = attributed_run  # type: ignore[method-assign]

    def undo() -> None:
        for name, original in saved.items():
            setattr(DynamoDBBackend, name, original)
        Invoker._run = run  # type: ignore[method-assign]

    return undo


def transitions(runtime: LocalRuntime, execution_arn: str) -> int:
    client: Any = boto3.client("stepfunctions", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.get_execution_history(
            executionArn=execution_arn, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return sum(1 for e in events if e["type"].endswith("StateEntered"))


def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(check)
        time.sleep(0.1)


def run_scenario() -> Iterator[tuple[str, Usage, dict[str, Any]]]:
    runtime = LocalRuntime(port_base=free_port_base(), time_scale=86400.0, function_log_level="ERROR")
    runtime.start()
    meter = Meter()
    undo = install_meter(meter, runtime)
    try:
        assert runtime.stack is not None and runtime.invoker is not None
        store.bind(runtime.stack.resources["Table"], runtime.region, runtime.aws_endpoint)
        today = runtime.clock.now().date()
        rows = "".join(
            f"{number},{today - timedelta(days=25)},{today + timedelta(days=5)},EUR,{ref},{ref} Ltd,"
            f"ap@{ref.lower()}.example,500.00\n"
            for number, ref in ((ESCALATED, "SILENT"), (PAID, "PAYER"))
        )
        s3: Any = boto3.client("s3", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
        s3.put_object(
            Bucket=runtime.stack.resources["InvoiceBucket"], Key="inbox/cost.csv", Body=HEADER + rows
        )

        def types(number: str) -> list[str]:
            return [e.type for e in store.invoice_events(inv(number))]

        wait_for(
            lambda: (
                "ReminderSent" in types(PAID)
                and any(
                    e.type == "ReminderSent" and e.data["level"] != "friendly"
                    for e in store.invoice_events(inv(PAID))
                )
            ),
            90,
        )
        with runtime.invoker._lock:  # the payment is payments' cost: keep it out of the tasks' meter
            receipt = Receipt(
                "bank",
                "BANK-COST-2",
                Money(50000, "EUR"),
                iso_timestamp(runtime.clock.now()),
                "bank_transfer",
                target_invoice_ids=(inv(PAID),),
            )
            record_receipt(receipt, runtime.clock)
        wait_for(lambda: "DunningEnded" in types(PAID) and "DunningEnded" in types(ESCALATED), 120)
        runtime.settle()
        history = list(runtime.invoker.history)
        task_ms = [math.ceil(i.seconds * 1000) for i in history if i.function == "DunningFunction"]
        publisher_ms = [math.ceil(i.seconds * 1000) for i in history if i.function == "PublisherFunction"]
        mails = Counter(
            m["Headers"].get("X-Receivables-Invoice")
            for m in runtime.mailbox()
            if m["Headers"].get("X-Receivables-Mail", "invoice") != "invoice"
        )
        sweeps = [i for i in history if i.function == "DunningSweepFunction"]
        days = max(1, (runtime.clock.now().date() - today).days)
        sweep = {
            "sweep_invocations_per_day": len(sweeps) / days,
            "sweep_median_ms": statistics.median(math.ceil(i.seconds * 1000) for i in sweeps),
            "sweep_read_units_per_day": meter.reads["DunningSweepFunction"] / days,
        }
        for name, number in (("escalation", ESCALATED), ("paid_after_first_reminder", PAID)):
            invoice = store.get_invoice(inv(number))
            assert invoice is not None and invoice.dunning.execution_arn
            key = f"DunningFunction:{inv(number)}"
            tasks = [
                i
                for i in history
                if i.function == "DunningFunction"
                and isinstance(i.result, dict)
                and i.result.get("invoice_id") == inv(number)
            ]
            events = sum(1 for t in types(number) if t in DUNNING_EVENTS)
            publisher = math.ceil(statistics.median(publisher_ms)) if publisher_ms else 0
            usage = Usage(
                transitions=transitions(runtime, invoice.dunning.execution_arn),
                invocations=len(tasks) + events,
                billed_ms=sum(math.ceil(t.seconds * 1000) for t in tasks) + events * publisher,
                read_units=meter.reads[key],
                write_units=meter.writes[key],
                emails=mails[inv(number)],
                events=events,
            )
            yield name, usage, {**sweep, "task_median_ms": statistics.median(task_ms)}
    finally:
        undo()
        runtime.stop()


def test_what_dunning_an_invoice_costs() -> None:
    shared: dict[str, Any] = {}
    for name, usage, figures in run_scenario():
        shared = figures
        report(f"{name}_state_transitions", usage.transitions)
        report(f"{name}_lambda_invocations", usage.invocations)
        report(f"{name}_lambda_billed_ms", usage.billed_ms)
        report(f"{name}_dynamodb_read_units", float(usage.read_units))
        report(f"{name}_dynamodb_write_units", float(usage.write_units))
        report(f"{name}_emails", usage.emails)
        report(f"{name}_bus_events", usage.events)
        per_1000 = cost_usd(usage) * 1000
        label = "cost_per_1000_invoices_usd" if name == "escalation" else f"{name}_cost_per_1000_invoices_usd"
        report(label, float(per_1000))
        assert usage.transitions > 0 and usage.invocations > 0 and usage.emails > 0
    for figure, value in shared.items():
        report(figure, float(value))
