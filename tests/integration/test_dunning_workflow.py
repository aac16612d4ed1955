"""The dunning state machine executed on moto by the local runtime, with the in-process task
functions and an accelerated clock (one simulated day per second).

Four customers' invoices start together, so the simulated weeks pass once for all of them; a
background "actor" plays each customer's part when their story calls for it: one never pays
(every level, then credit hold), one pays between two reminders (the execution stops), one
disputes (dunning pauses, and resumes when the dispute ends), one promises and breaks the
promise (dunning waits for the date, then resumes)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.collections.dunning.planner import step_time
from receivables.collections.dunning.policy import DEFAULT_POLICY
from receivables.collections.dunning.policy import Step as DunningStep
from receivables.collections.dunning.service import record_promise, save_policy
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, DocumentType
from receivables.ledger.rules import document_id, end_dispute, open_dispute
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store
from receivables_local.demo.helpers import free_port_base
from receivables_local.runtime import LocalRuntime
from tests.conftest import store_bound_to

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# One worker runs the accelerated-clock stories one after the other: run side by side on two
# cores, each would starve the other's simulated days.
pytestmark = pytest.mark.xdist_group("accelerated_runtime")
SCALE = 86400.0
WALL_LIMIT = 900.0  # real seconds: only a hung runtime takes this long
DUE_IN_DAYS = 22  # dunning starts at due - 16 (the test policy's lead), the friendly reminder at due - 3
HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
MAILS = ("ReminderSent", "FinalNoticeSent")
POLICY = replace(
    DEFAULT_POLICY,
    variants={
        **DEFAULT_POLICY.variants,
        "risky": (DunningStep("early", -16, "remind", "friendly"), *DEFAULT_POLICY.variants["risky"][1:]),
    },
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def events(number: str) -> list[AuditEvent]:
    return store.invoice_events(inv(number))


def levels(number: str) -> list[str]:
    return [e.data["level"] for e in events(number) if e.type in (*MAILS, "DunningEscalated")]


def first(number: str, kind: str) -> AuditEvent | None:
    return next((e for e in events(number) if e.type == kind), None)


def _change(number: str, change: Callable[[Any], Any], kind: str, at: str) -> None:
    for _ in range(10):
        invoice = store.get_invoice(inv(number))
        assert invoice is not None
        changed = replace(change(invoice), version=invoice.version + 1)
        try:
            store.apply_changes(
                [(changed, AuditEvent(invoice.invoice_id, changed.version, kind, at, "test", {}))]
            )
            return
        except store.ConcurrentChangeError:
            continue


@dataclass
class Story:
    """The runtime, and what the actors did (or the error that stopped one)."""

    runtime: LocalRuntime
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    # One client, made before the story starts: making a client reads the whole environment,
    # which the runtime's handlers change as they run (and polling with a new client every tenth
    # of a second took CPU the runtime needed).
    stepfunctions: Any = None

    def __post_init__(self) -> None:
        self.stepfunctions = boto3.client(
            "stepfunctions", endpoint_url=self.runtime.aws_endpoint, region_name=self.runtime.region
        )

    def when(self, number: str, kind: str, within_days: int = 90) -> AuditEvent:
        """The first ``kind`` event of the invoice, waiting up to ``within_days`` of the runtime's
        time (which stands still while the system works, so a loaded machine takes longer in
        real seconds, never in simulated days); WALL_LIMIT real seconds only guard a hang."""
        limit = self.runtime.clock.now() + timedelta(days=within_days)
        deadline = time.monotonic() + WALL_LIMIT
        while time.monotonic() < deadline and not self.stop.is_set():
            found = first(number, kind)
            if found is not None:
                return found
            if self.runtime.clock.now() > limit:
                break
            time.sleep(0.2)  # a fifth of a simulated day; polling harder starves the runtime
        raise TimeoutError(f"{number}: no {kind}; events: {[e.type for e in events(number)]}")

    def act(self, name: str, play: Callable[[], None]) -> None:
        def run() -> None:
            try:
                play()
            except Exception as exc:  # noqa: BLE001 - reported by the tests
                self.errors.append(f"{name}: {exc!r}")

        threading.Thread(target=run, name=name, daemon=True).start()

    def execution_status(self, number: str) -> str:
        invoice = store.get_invoice(inv(number))
        assert invoice is not None and invoice.dunning.execution_arn
        return str(
            self.stepfunctions.describe_execution(executionArn=invoice.dunning.execution_arn)["status"]
        )

    def ended(self, number: str, within_days: int = 120) -> str:
        self.when(number, "DunningStarted")  # the sweep starts it at due - 5 days (the policy's lead)
        limit = self.runtime.clock.now() + timedelta(days=within_days)
        deadline = time.monotonic() + WALL_LIMIT
        status = self.execution_status(number)
        while status == "RUNNING" and time.monotonic() < deadline and self.runtime.clock.now() <= limit:
            time.sleep(0.25)
            status = self.execution_status(number)
        if status == "FAILED":  # say why: the task's error is recorded on the invoice
            invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, number))
            return f"FAILED: {invoice.dunning.last_error if invoice else 'no invoice'}"
        return status


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    runtime = LocalRuntime(port_base=free_port_base(), time_scale=SCALE, function_log_level="ERROR")
    runtime.state_dir = tmp_path_factory.mktemp("dunning")
    runtime.start()
    assert runtime.stack is not None
    with store_bound_to(runtime):
        told = Story(runtime)  # its client made before anything runs
        # Finance's policy is data: this one is the default, but starts risky customers' dunning 16
        # days ahead, so every execution starts (and its functions warm up) well before the first
        # reminder at due - 3, however loaded the machine is.
        save_policy(POLICY, 0, "finance:test", runtime.clock)
        session = boto3.session.Session(region_name=runtime.region)
        today = runtime.clock.now().date()
        rows = "".join(
            f"{number},{today - timedelta(days=10)},{today + timedelta(days=DUE_IN_DAYS)},"
            f"EUR,{ref},{ref} Ltd,ap@{ref.lower()}.example,500.00\n"
            for number, ref in (
                ("DUN-1", "NEVER"),
                ("DUN-2", "PAYER"),
                ("DUN-3", "DISPUTER"),
                ("DUN-4", "PROMISER"),
            )
        )
        s3: Any = session.client("s3", endpoint_url=runtime.aws_endpoint)
        s3.put_object(
            Bucket=runtime.stack.resources["InvoiceBucket"], Key="inbox/dunning.csv", Body=HEADER + rows
        )
        told.when("DUN-4", "InvoiceIngested")
        bus: Any = session.client("events", endpoint_url=runtime.aws_endpoint)
        bus.put_events(
            Entries=[
                {
                    "Source": "receivables.finance",
                    "DetailType": "DunningSweepRequested",
                    "Detail": "{}",
                    "EventBusName": runtime.stack.resources["EventBus"],
                }
            ]
        )

        def payer() -> None:
            told.when("DUN-2", "ReminderSent")
            at = iso_timestamp(runtime.clock.now())
            receipt = Receipt(
                "bank",
                "BANK-DUN-2",
                Money(50000, "EUR"),
                at,
                "bank_transfer",
                target_invoice_ids=(inv("DUN-2"),),
            )
            record_receipt(receipt, runtime.clock)

        def disputer() -> None:
            told.when("DUN-3", "ReminderSent")
            _change("DUN-3", open_dispute, "DisputeOpened", iso_timestamp(runtime.clock.now()))
            runtime.clock.sleep(16 * 86400, counted=False)  # sixteen days: +1, +7 and +14 fall inside
            _change("DUN-3", end_dispute, "DisputeClosed", iso_timestamp(runtime.clock.now()))

        def promiser() -> None:
            told.when("DUN-4", "ReminderSent")
            promised = runtime.clock.now().date() + timedelta(days=10)
            record_promise(inv("DUN-4"), promised, Money(50000, "EUR"), "finance:test", runtime.clock)

        told.act("payer", payer)
        told.act("disputer", disputer)
        told.act("promiser", promiser)
        yield told
        told.stop.set()
    runtime.stop()


def test_a_customer_who_never_pays_walks_every_level(story: Story) -> None:
    assert story.ended("DUN-1") == "SUCCEEDED"
    # Every level is walked: sent, or (on a machine too loaded to keep one simulated day a
    # second) skipped as stale and recorded so on the next mail; the overdue ones are all sent.
    walked = [
        level
        for e in events("DUN-1")
        if e.type in (*MAILS, "DunningEscalated")
        for level in (*e.data.get("skipped_levels", []), e.data["level"])
    ]
    assert walked == ["friendly", "first", "second", "final", "hold"]
    # However late a step comes, the last two are never skipped: a hold follows a final notice.
    assert levels("DUN-1")[-2:] == ["final", "hold"]
    ended = story.when("DUN-1", "DunningEnded")
    assert ended.data["reason"] == "every step of the policy is done"
    invoice = store.get_invoice(inv("DUN-1"))
    assert invoice is not None
    customer = store.get_customer(invoice.customer_id)
    assert customer is not None and customer.credit_hold and customer.collector == "collections"
    sent = [e for e in events("DUN-1") if e.type in MAILS]
    # Each mail is its level's template, in the policy's order (a level skipped as stale on a
    # loaded machine sends nothing, wherever it falls).
    template_of = {
        "friendly": "friendly",
        "first": "reminder",
        "second": "reminder_firm",
        "final": "final_notice",
    }
    assert [e.data["template"] for e in sent] == [template_of[e.data["level"]] for e in sent]
    order = list(template_of)
    assert [order.index(e.data["level"]) for e in sent] == sorted(order.index(e.data["level"]) for e in sent)
    assert sent[-1].data["template"] == "final_notice"
    mailbox = [m for m in story.runtime.mailbox() if "DUN-1" in m["Subject"]]
    assert len(mailbox) == 1 + len(sent), "the invoice email, then each reminder once"
    assert not story.errors


def test_a_payment_between_two_reminders_stops_the_execution(story: Story) -> None:
    assert story.ended("DUN-2") == "SUCCEEDED"
    ended = story.when("DUN-2", "DunningEnded")
    assert ended.data["reason"] == "nothing to collect: the invoice is paid"
    # The customer pays once the first reminder is out (the friendly one, or on a loaded machine
    # the first overdue one that overtook it); at most the next reminder crosses the payment.
    assert levels("DUN-2") in (["friendly"], ["friendly", "first"], ["first"], ["first", "second"])
    assert not story.errors


def test_a_dispute_pauses_dunning_and_its_end_resumes_it(story: Story) -> None:
    closed = story.when("DUN-3", "DisputeClosed")
    opened = story.when("DUN-3", "DisputeOpened")
    resumed = story.when("DUN-3", "FinalNoticeSent")

    during = [e for e in events("DUN-3") if e.type in MAILS and opened.seq < e.seq < closed.seq]
    assert during == [], "no reminder while the invoice is disputed"
    assert resumed.seq > closed.seq
    after = [e for e in events("DUN-3") if e.type in MAILS and e.seq > closed.seq]
    invoice = store.get_invoice(inv("DUN-3"))
    assert invoice is not None
    sent_at = datetime.fromisoformat(after[0].at.replace("Z", "+00:00"))
    done_before = {
        level
        for e in events("DUN-3")
        if e.type in MAILS and e.seq < closed.seq
        for level in (e.data["level"], *e.data.get("skipped_levels", []))
    }
    overdue = [
        s.level
        for s in POLICY.steps_for("standard")
        if s.action != "credit_hold"
        and s.level not in done_before
        and step_time(invoice.due_date, s, POLICY) <= sent_at
    ]
    # The first mail after the dispute is the step the calendar had reached when it went out;
    # staler ones are skipped.
    assert after[0].data["level"] == overdue[-1]
    assert after[0].data["skipped_levels"] == overdue[:-1]
    assert not story.errors


def test_a_broken_promise_resumes_dunning(story: Story) -> None:
    promised = story.when("DUN-4", "PromiseToPay")
    broken = story.when("DUN-4", "PromiseBroken")
    story.when("DUN-4", "FinalNoticeSent")

    during = [e for e in events("DUN-4") if e.type in MAILS and promised.seq < e.seq < broken.seq]
    after = [e for e in events("DUN-4") if e.type in MAILS and e.seq > broken.seq]
    assert during == [], "nothing is sent while the promise holds"
    assert after, "dunning resumes once the promise is broken"
    assert broken.data["promised_date"] == promised.data["date"]
    assert broken.at[:10] > promised.data["date"]
    assert not story.errors
