"""The dispute state machine executed on moto by the local runtime, with the in-process task
function: a duplicate settled without a person, and a dispute decided by finance through the API
(the task-token round trip), each told to the customer by email."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.kernel.money import Money
from receivables.ledger.disputes import Status
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables_local.demo.helpers import free_port_base, http, upload
from receivables_local.runtime import LocalRuntime
from tests.conftest import store_bound_to
from tests.integration.test_disputes import LEDGER

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# In-process runtimes share moto's backends: one worker runs them one module after another.
pytestmark = pytest.mark.xdist_group("accelerated_runtime")


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def wait_for(check: Callable[[], Any], timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(check)


def ledger_runtime(state_dir: Any, time_scale: float) -> LocalRuntime:
    """A started runtime whose inbox took the disputes ledger (LEDGER)."""
    local = LocalRuntime(port_base=free_port_base(), time_scale=time_scale, function_log_level="ERROR")
    local.state_dir = state_dir
    local.start()
    assert local.stack is not None
    s3: Any = boto3.client("s3", endpoint_url=local.aws_endpoint, region_name=local.region)
    s3.put_object(Bucket=local.stack.resources["InvoiceBucket"], Key="inbox/disputes.json", Body=LEDGER)
    local.settle()
    return local


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    local = ledger_runtime(tmp_path_factory.mktemp("disputes"), 1.0)
    with store_bound_to(local):
        yield local
    local.stop()


def api(runtime: LocalRuntime, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    import urllib.request

    headers = {
        "Authorization": f"Bearer {runtime.connection['api_token']}",
        "Content-Type": "application/json",
    }
    data = json.dumps(body).encode() if body is not None else None
    if method == "GET":
        status, _, text = http(f"{runtime.api_endpoint}{path}", None, headers)
    else:
        request = urllib.request.Request(
            f"{runtime.api_endpoint}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
    return status, json.loads(text) if text else None


def told(runtime: LocalRuntime, dispute_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in runtime.mailbox()
        if m.get("Headers", {}).get("X-Receivables-Mail", "").endswith(dispute_id)
    ]


def test_a_duplicate_is_settled_and_the_customer_told(runtime: LocalRuntime) -> None:
    status, opened = api(runtime, "POST", f"/invoices/{inv('D-2')}/disputes", {"reason": "billed_twice"})
    assert status == 201, opened
    dispute_id = opened["dispute"]["dispute_id"]

    ended = wait_for(lambda: (d := store.get_dispute(dispute_id)) is not None and d.final and d)
    wait_for(lambda: told(runtime, dispute_id))

    assert ended.status is Status.SETTLED and ended.resolution.action == "void_duplicate"
    duplicate = store.get_invoice(inv("D-2"))
    assert duplicate is not None and duplicate.status is InvoiceStatus.VOID
    [mail] = told(runtime, dispute_id)
    assert "repeated an earlier invoice" in mail["Body"]["text_part"]


def test_finance_decides_through_the_api_and_the_workflow_applies_it(runtime: LocalRuntime) -> None:
    status, opened = api(
        runtime,
        "POST",
        f"/invoices/{inv('D-3')}/disputes",
        {"reason": "quality", "comment": "two days missing"},
    )
    assert status == 201, opened
    dispute_id = opened["dispute"]["dispute_id"]
    waiting = wait_for(
        lambda: (d := store.get_dispute(dispute_id)) is not None and d.status is Status.AWAITING_FINANCE and d
    )
    assert waiting.task_token
    _, queue = api(runtime, "GET", "/disputes")
    assert [d["dispute_id"] for d in queue["disputes"]] == [dispute_id]

    bad, errors = api(runtime, "POST", f"/disputes/{dispute_id}/decision", {"decision": "maybe"})
    decided, _ = api(
        runtime, "POST", f"/disputes/{dispute_id}/decision", {"decision": "accept", "credit": "300.00"}
    )
    again, _ = api(
        runtime, "POST", f"/disputes/{dispute_id}/decision", {"decision": "reject", "reason": "no"}
    )

    assert (bad, errors["errors"][0]["field"]) == (400, "decision")
    assert (decided, again) == (202, 409)
    ended = wait_for(lambda: (d := store.get_dispute(dispute_id)) is not None and d.final and d)
    wait_for(lambda: told(runtime, dispute_id))
    assert ended.status is Status.ACCEPTED
    invoice = store.get_invoice(inv("D-3"))
    assert invoice is not None and invoice.status is InvoiceStatus.OPEN
    assert invoice.balance == Money(90000, "EUR"), "dunning resumes on what is left"
    _, view = api(runtime, "GET", f"/disputes/{dispute_id}")
    history = [e["type"] for e in view["dispute"]["history"]]
    assert history[:3] == ["DisputeOpened", "DisputeAnalysed", "DisputeAwaitingFinance"]
    assert history[-3:] == ["DisputeDecided", "DisputeResolved", "CustomerToldOfOutcome"]
    assert "task_token" not in view["dispute"]
    _, by_customer = api(runtime, "GET", f"/customers/{invoice.customer_id}/disputes")
    assert by_customer["reasons"] == {"quality": 1}


def link_in_invoice_email(runtime: LocalRuntime, number: str) -> str:
    import re

    for message in runtime.mailbox():
        if message.get("Headers", {}).get("X-Receivables-Invoice") == inv(number):
            found = re.search(r"(http://\S+/dispute/[\w.-]+)", message["Body"]["text_part"] or "")
            if found:
                return found.group(1)
    raise AssertionError(f"no invoice email with a dispute link for {number}")


def test_a_customer_disputes_from_the_invoice_email_and_attaches_a_document(runtime: LocalRuntime) -> None:
    import urllib.parse

    link = link_in_invoice_email(runtime, "D-1")
    shown, _, form = http(link)
    assert shown == 200 and 'name="reason"' in form and 'name="line"' in form
    bad, _, again = http(
        link, b"reason=nonsense&amount=lots", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert bad == 400 and 'id="errors"' in again
    body = urllib.parse.urlencode(
        [("reason", "quality"), ("line", "1"), ("amount", "30.00"), ("comment", "torn")]
    )
    status, _, received = http(link, body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 201 and "Dispute received" in received

    # A PDF is kept; an executable calling itself a document is deleted.
    stored, where = upload(received, b"%PDF-1.7\n" + b"x" * 2000)
    assert stored == 303
    kept, _, page = http(where["Location"])
    _, where_refused = upload(page, b"MZ\x90\x00 not a document")
    refused, _, refusal = http(where_refused["Location"])

    assert kept == 200 and "Documents attached: 1" in page
    assert refused == 400 and "Only PDF, PNG and JPEG" in refusal
    invoice = store.get_invoice(inv("D-1"))
    assert invoice is not None
    dispute = next(d for d in store.customer_disputes(invoice.customer_id) if d.invoice_id == inv("D-1"))
    assert dispute.source.value == "customer" and [line.line_id for line in dispute.lines] == ["1"]
    assert len(dispute.attachments) == 1
    s3: Any = boto3.client("s3", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
    bucket = runtime.stack.resources["InvoiceBucket"] if runtime.stack else ""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="disputes/").get("Contents", [])]
    assert keys == list(dispute.attachments), "the refused upload is gone"


def test_a_card_chargeback_becomes_a_dispute_with_its_evidence_staged_and_ends_won(
    runtime: LocalRuntime,
) -> None:
    import re

    import stripe

    from receivables_local.demo.helpers import pay_by_card

    pay_link = next(
        found.group(1)
        for m in runtime.mailbox()
        if m.get("Headers", {}).get("X-Receivables-Invoice") == inv("D-5")
        and (found := re.search(r"(http://\S+/pay/[\w.-]+)", m["Body"]["text_part"] or ""))
    )
    assert pay_by_card(runtime, pay_link, "4000 0000 0000 0259") == "paid on the checkout page"

    def chargeback() -> Any:
        invoice = store.get_invoice(inv("D-5"))
        assert invoice is not None
        found = [d for d in store.customer_disputes(invoice.customer_id) if d.source.value == "chargeback"]
        return found and found[0].status is Status.AWAITING_FINANCE and found[0]

    dispute = wait_for(chargeback)
    assert dispute.chargeback_id and dispute.reason.value == "other"
    client = stripe.StripeClient(
        runtime.connection["stripe_api_key"], base_addresses={"api": runtime.stripe_endpoint}
    )
    staged = client.v1.disputes.retrieve(dispute.chargeback_id)
    assert staged.status == "needs_response", "staged, not submitted: finance submits it"
    assert "Invoice D-5 issued on 2026-10-07" in str(staged.evidence.uncategorized_text)
    assert staged.evidence.customer_email_address == "ap@c5.example"

    # Finance submits the evidence (test mode: this text wins); Stripe closes the dispute.
    client.v1.disputes.update(
        dispute.chargeback_id, params={"evidence": {"uncategorized_text": "winning_evidence"}}
    )
    runtime.settle()
    won = wait_for(lambda: (d := store.get_dispute(dispute.dispute_id)) is not None and d.final and d)
    assert won.status is Status.WON
    invoice = store.get_invoice(inv("D-5"))
    assert invoice is not None and invoice.status is InvoiceStatus.PAID
