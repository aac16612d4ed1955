"""`receivables demo`: the story of the system, told on the local runtime.

It starts `receivables local` in this process, drops the sample invoices of every supported
format (the Peppol examples and a CSV with bad rows among them) into the bucket with boto3, as a
user would, delivers one notification a second time, and prints what became of everything, read
back from the emulator: per file, per customer, the rejection reports, and the events on the bus.
Then the payments: the invoice emails in SES, a card payment through the emailed link and the
local Stripe's checkout page, a declined card, a card payment disputed by the bank, bank transfers
recorded through the finance API (matched from their reference; a partial one; an overpayment
whose credit pays the customer's next invoice when it arrives). Then the simulated weeks of
dunning (`demo_dunning`): reminders on their days, a payment that stops them, a broken promise,
and credit hold. Then disputes (`demo_disputes`): a duplicate settled without a person, and a
partial credit decided by finance.
"""

from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.functions import REPO_ROOT

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime

SAMPLES = REPO_ROOT / "samples"
EINVOICES = REPO_ROOT / "tests" / "fixtures" / "einvoices"
# The Peppol examples in the order that tells their story: the invoice, a re-send of it with an
# order reference (a duplicate), a different document under the same number (a conflict), an
# invoice with payment terms only, and the credit note that corrects the first.
PEPPOL = (
    "base-example.xml",
    "sales-order-example.xml",
    "Allowance-example.xml",
    "vat-category-E.xml",
    "base-creditnote-correction.xml",
)


def demo_files() -> list[tuple[str, Path]]:
    """(inbox key, local file) for every sample, in the order they are dropped."""
    files = [(f"inbox/2026-10/{p.name}", p) for p in sorted(SAMPLES.glob("*.*"))]
    files += [(f"inbox/peppol/{name}", EINVOICES / name) for name in PEPPOL]
    return files


def free_port_base(count: int = 4) -> int:
    """A port N with N … N+count-1 free on loopback, below the kernel's ephemeral range: a port
    the kernel hands out to outgoing connections (as binding to port 0 does) can be taken by
    one of them between this check and the server's bind, which made parallel tests collide."""
    low, _ = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(10000, max(low - count, 10001))
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free loopback ports")


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections (Linux; IANA's elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_demo(out: TextIO, *, port_base: int | None = None, state_dir: Path | None = None) -> int:
    """Run the story and print it; returns the process exit code. The runtime's clock is stepped:
    the story moves time from one scheduled thing to the next and reacts to each, so it prints the
    same on a quiet laptop and on a loaded machine."""
    from receivables_local.runtime import DEFAULT_PORT_BASE, LocalRuntime

    if port_base is None or (port_base == DEFAULT_PORT_BASE and not _free(DEFAULT_PORT_BASE)):
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
        balanced = reconciliation_chapter(runtime, out, number=15)
        took = time.perf_counter() - started
        print(f"\nThe demo took {took:.1f} s (runtime start {runtime.started_seconds:.1f} s).", file=out)
    finally:
        runtime.stop()
        runtime.connection_file.unlink(missing_ok=True)
    return 0 if balanced else 1


def reconciliation_chapter(runtime: LocalRuntime, out: TextIO, number: int) -> bool:
    """The story's last word: `receivables reconcile` over the whole table once the runtime is
    idle (the aggregates follow the stream). A break is a bug, printed with its items, and the
    demo exits 1. Returns whether the books balance."""
    from receivables.reporting.reconcile import reconcile
    from receivables_local.cli import print_report

    print(f"\n{number}. Do the books balance? (receivables reconcile, once the runtime is idle)", file=out)
    runtime.settle()
    report = reconcile()
    print_report(report, out, indent=" ")
    return report.clean


def _story(runtime: LocalRuntime, out: TextIO) -> None:
    import boto3

    from receivables.storage import store
    from receivables_local.demo_credit import credit_chapter
    from receivables_local.demo_disputes import disputes_chapter
    from receivables_local.demo_dunning import dunning_chapter
    from receivables_local.demo_enrolment import enrolment_chapter
    from receivables_local.demo_finance import finance_chapter
    from receivables_local.demo_portal import portal_chapter

    assert runtime.stack is not None
    session = boto3.session.Session(region_name=runtime.region)

    def client(service: str) -> Any:
        factory: Any = session.client
        return factory(service, endpoint_url=runtime.aws_endpoint)

    s3, events, sqs = client("s3"), client("events"), client("sqs")
    bucket = runtime.stack.resources["InvoiceBucket"]
    bus = runtime.stack.resources["EventBus"]
    queue_url = _observe_bus(events, sqs, bus)
    store.bind(runtime.stack.resources["Table"], runtime.region, runtime.aws_endpoint)

    print("1. Invoice files dropped into the inbox (as an ERP export would):", file=out)
    rejected: list[dict[str, Any]] = []
    for key, path in demo_files():
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        runtime.settle()
        report = report_of(s3, bucket, key)
        print("   " + file_line(key, report), file=out)
        if report and report["outcome"] == "rejected":
            rejected.append(report)
        if path.name == "invoices.csv":
            outcome = _redeliver(events, bucket, key, runtime)
            print(f"   the same S3 notification delivered again -> {outcome}", file=out)
            copy = "inbox/resend/invoices-copy.csv"
            s3.put_object(Bucket=bucket, Key=copy, Body=path.read_bytes())
            runtime.settle()
            print("   " + file_line(copy, report_of(s3, bucket, copy)), file=out)

    published: dict[str, int] = {}
    for message in _drain(sqs, queue_url):
        detail_type = json.loads(message["Body"])["detail-type"]
        published[detail_type] = published.get(detail_type, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(published.items()))
    print(f"\n2. Ledger events on the bus {bus}: {sum(published.values())} ({counts})", file=out)

    print("\n3. The ledger, per customer (amount still owed, due date and where it came from):", file=out)
    _print_ledger(out, runtime)
    print("\n4. What was rejected, and why:", file=out)
    for report in rejected:
        print(f"\n   {report['object']['key']} -> {report['moved_to']}.error.json", file=out)
        for problem in report["problems"]:
            where = problem["location"] + (f", {problem['field']}" if "field" in problem else "")
            print(f"   [{problem['code']}] {where}: {problem['message']}", file=out)
    left = s3.list_objects_v2(Bucket=bucket, Prefix="inbox/").get("KeyCount", 0)
    print(f"\nInbox now holds {left} objects; every file was moved to processed/ or rejected/.", file=out)
    _payments(runtime, s3, bucket, out)
    dunning_chapter(runtime, s3, bucket, out)
    disputes_chapter(runtime, s3, bucket, out)
    portal_chapter(runtime, s3, bucket, out)
    enrolment_chapter(runtime, s3, bucket, out, number=12)
    credit_chapter(runtime, s3, bucket, out, number=13)
    finance_chapter(runtime, out, number=14)


# --- payments ----------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One loopback request, redirects not followed: (status, headers, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def pay_by_card(runtime: LocalRuntime, url: str, card: str) -> str:
    """Open a pay link and pay on the local Stripe's checkout page, as a customer would."""
    import re

    status, headers, _ = http(url)
    if status != 303:
        return f"the link answered {status}"
    form = urllib.parse.urlencode({"cardnumber": card, "exp": "12/34", "cvc": "123", "name": "Demo"})
    status, _, page = http(
        headers["Location"], form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    runtime.settle()
    if status == 402:
        message = re.search(r'id="error"[^>]*>([^<]+)<', page)
        return f"declined ({message.group(1).strip() if message else 'card declined'})"
    return "paid on the checkout page" if status == 303 else f"checkout answered {status}"


def emailed_link(runtime: LocalRuntime, number: str, path: str) -> str:
    """The ``path`` link (``pay``, ``dispute``, ``portal/link``) in the email of invoice ``number``."""
    import re

    for message in runtime.mailbox():
        if f"Invoice {number} " in message["Subject"]:
            found = re.search(rf"(http://\S+/{path}/[\w.-]+)", message["Body"]["text_part"] or "")
            if found:
                return found.group(1)
    raise RuntimeError(f"no email with a {path} link for invoice {number}")


def _state(number: str) -> str:
    from receivables.ledger.model import DocumentType
    from receivables.ledger.rules import document_id
    from receivables.storage import store

    invoice = store.get_invoice(document_id("self", DocumentType.INVOICE, number))
    if invoice is None:
        return "not in the ledger"
    return f"{invoice.status.value}, {invoice.balance} still owed"


def _payments(runtime: LocalRuntime, s3: Any, bucket: str, out: TextIO) -> None:

    mail = [m for m in runtime.mailbox() if m.get("Headers", {}).get("X-Receivables-Mail") == "invoice"]
    print(f"\n5. Invoice emails sent through SES: {len(mail)}", file=out)
    for message in mail[:3]:
        print(f"   to {message['Destination']['ToAddresses'][0]:<28} {message['Subject']}", file=out)
    print("   (no email for customers without an address: they stay flagged for contact details)", file=out)

    def link_of(number: str) -> str:
        return emailed_link(runtime, number, "pay")

    print("\n6. Customers pay by card through the emailed link (the local Stripe's checkout):", file=out)
    for number, card, label in (
        ("INV-2026-1001", "4242 4242 4242 4242", "card 4242"),
        ("INV-2026-3001", "4000 0000 0000 0002", "card 0002"),
        ("INV-2026-1003", "4000 0000 0000 0259", "card 0259"),
    ):
        outcome = pay_by_card(runtime, link_of(number), card)
        print(f"   {number}  {label}: {outcome:<44} -> {_state(number)}", file=out)
    print("   (card 0259 pays, then the bank opens a chargeback: the invoice is under dispute)", file=out)

    api = runtime.api_endpoint or ""
    token = runtime.connection["api_token"]

    def transfer(external_id: str, amount: str, currency: str, reference: str) -> str:
        body = {
            "amount": amount,
            "currency": currency,
            "method": "bank_transfer",
            "external_id": external_id,
            "received_at": "2026-11-20",
            "reference": reference,
        }
        status, _, answer = http(
            f"{api}/payments",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        runtime.settle()
        payment = json.loads(answer)["payment"] if status in (200, 201) else {}
        return f"{status}, matched by {payment.get('matched_by')}, unapplied {payment.get('unapplied')}"

    print("\n7. Finance records bank transfers (POST /payments), matched from the remittance text:", file=out)
    cases = (
        ("BANK-7001", "330000", "JPY", "Daifuku Trading payment inv 2026 1004", "INV-2026-1004", "in full"),
        ("BANK-7002", "500.000", "KWD", "Invoice INV-2026-1005 part payment", "INV-2026-1005", "partial"),
    )
    for external_id, amount, currency, reference, number, label in cases:
        outcome = transfer(external_id, amount, currency, reference)
        print(f"   {label:<8} {amount} {currency} '{reference}': {outcome}", file=out)
        print(f"            -> {number}: {_state(number)}", file=out)

    s3.put_object(
        Bucket=bucket,
        Key="inbox/2026-11/fjord-1.csv",
        Body=_FJORD.format(number="INV-2026-5001", issued="2026-11-02", due="2026-12-02", total="400.00"),
    )
    runtime.settle()
    outcome = transfer("BANK-7003", "500.00", "EUR", "Fjord Fisheries INV-2026-5001")
    print(f"   over     500.00 EUR for INV-2026-5001 (400.00 EUR): {outcome}", file=out)
    s3.put_object(
        Bucket=bucket,
        Key="inbox/2026-11/fjord-2.csv",
        Body=_FJORD.format(number="INV-2026-5002", issued="2026-11-09", due="2026-12-09", total="250.00"),
    )
    runtime.settle()
    print(
        f"   Fjord's next invoice arrives: INV-2026-5002 (250.00 EUR) -> {_state('INV-2026-5002')}", file=out
    )
    print("   (the 100.00 EUR credit paid part of it as soon as it was ingested)", file=out)
    forged = http(
        f"{api}/webhooks/stripe",
        b'{"id": "evt_forged", "type": "checkout.session.completed"}',
        {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )
    print(f"\n8. A forged Stripe webhook is answered {forged[0]} and changes nothing.", file=out)


_FJORD = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "{number},{issued},{due},EUR,C-FJORD,Fjord Fisheries AS,ap@fjord.example,{total}\n"
)


def _observe_bus(events: Any, sqs: Any, bus: str) -> str:
    """A queue subscribed to every ledger event, so the demo can count what was published."""
    url: str = sqs.create_queue(QueueName="demo-ledger-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="demo-observer",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["receivables.ledger"]}),
    )
    events.put_targets(Rule="demo-observer", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _redeliver(events: Any, bucket: str, key: str, runtime: LocalRuntime) -> str:
    """Send the "Object Created" event for ``key`` once more, as at-least-once delivery may;
    return what the ingest function made of it."""
    assert runtime.invoker is not None
    seen = len(runtime.invoker.history)
    detail = {"version": "0", "bucket": {"name": bucket}, "object": {"key": key}, "reason": "PutObject"}
    events.put_events(
        Entries=[{"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps(detail)}]
    )
    runtime.settle()
    outcomes = [
        obj["outcome"]
        for invocation in runtime.invoker.history[seen:]
        if invocation.function == "IngestFunction" and invocation.ok
        for obj in invocation.result["objects"]
    ]
    return ", ".join(outcomes) or "not delivered"


def report_of(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    relative = key.removeprefix("inbox/")
    for prefix, suffix in (("processed/", ".report.json"), ("rejected/", ".error.json")):
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{prefix}{relative}{suffix}")["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue
        result: dict[str, Any] = json.loads(body)
        return result
    return None


def file_line(key: str, report: dict[str, Any] | None) -> str:
    if report is None:
        return f"{key:<48} not handled"
    s = report["summary"]
    return (
        f"{key:<48} {report['outcome']:<9} created {s['created']}, duplicates {s['duplicates']}, "
        f"problems {s['problems']} (conflicts {s['conflicts']}), "
        f"credit notes applied {s['credit_notes_applied']}"
    )


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _print_ledger(out: TextIO, runtime: LocalRuntime) -> None:
    from receivables.ledger.model import CreditNote
    from receivables.storage import store

    customers = store.get_customers(_customer_ids(runtime))
    for customer in sorted(customers.values(), key=lambda c: c.name or ""):
        flag = "  [needs contact details]" if customer.needs_contact_details else ""
        print(
            f"\n   {customer.name or customer.customer_id} <{customer.email or 'no email'}>{flag}", file=out
        )
        for doc in store.customer_documents(customer.customer_id):
            if isinstance(doc, CreditNote):
                print(
                    f"     credit note {doc.number:<16} {doc.amount!s:>16}  "
                    f"applied {doc.applied.to_decimal_string()}, "
                    f"unapplied {doc.unapplied.to_decimal_string()}",
                    file=out,
                )
            else:
                print(
                    f"     invoice     {doc.number:<16} {doc.balance!s:>16}  due {doc.due_date} "
                    f"({doc.due_date_source.value}), {doc.status.value}",
                    file=out,
                )


def _customer_ids(runtime: LocalRuntime) -> list[str]:
    """Every customer id in the demo ledger: the demo reads the whole table to show it (a request
    path never scans)."""
    import boto3

    assert runtime.stack is not None
    client = boto3.client("dynamodb", endpoint_url=runtime.aws_endpoint, region_name=runtime.region)
    paginator = client.get_paginator("scan")
    ids: list[str] = []
    for page in paginator.paginate(
        TableName=runtime.stack.resources["Table"],
        FilterExpression="kind = :c",
        ExpressionAttributeValues={":c": {"S": "customer"}},
    ):
        ids += [item["customer_id"]["S"] for item in page["Items"]]
    return ids
