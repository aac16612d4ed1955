"""`receivables local` as a developer uses it: a subprocess on free loopback ports, poked with
boto3 and plain HTTP, stopped with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables_local.demo.helpers import free_port_base
from tests.conftest import REPO_ROOT, SAMPLES
from tests.e2e.test_demo import receivables_command

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str], Path]]:
    state = tmp_path_factory.mktemp("state")
    port = free_port_base()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*receivables_command(), "local", "--port-base", str(port), "--state-dir", str(state)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    connection_file = state / "local.json"
    while not connection_file.exists():
        if process.poll() is not None or time.perf_counter() - started > 90:
            process.kill()
            pytest.fail(f"the runtime did not start: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.1)
    connection = json.loads(connection_file.read_text())
    yield connection, process, connection_file
    if process.poll() is None:
        process.kill()


def client(connection: dict[str, Any], service: str) -> Any:
    factory: Any = boto3.client
    return factory(service, endpoint_url=connection["endpoints"]["aws"], region_name=connection["region"])


def test_the_connection_file_names_every_endpoint_and_resource(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    connection, _, path = local
    assert connection["endpoints"]["aws"].startswith("http://127.0.0.1:")
    assert {"InvoiceBucket", "Table", "EventBus", "IngestFunction", "PublisherFunction"} <= set(
        connection["resources"]
    )
    assert connection["api_token"] and connection["stripe_webhook_secret"].startswith("whsec_")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_invoice_put_with_boto3_becomes_visible(local: tuple[dict[str, Any], Any, Path]) -> None:
    connection, _, _ = local
    s3 = client(connection, "s3")
    bucket = connection["resources"]["InvoiceBucket"]

    s3.put_object(Bucket=bucket, Key="inbox/e2e/invoices.csv", Body=(SAMPLES / "invoices.csv").read_bytes())

    deadline = time.monotonic() + 60
    report = None
    while report is None and time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=bucket, Key="processed/e2e/invoices.csv.report.json")["Body"].read()
            report = json.loads(body)
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    assert report is not None, "the file was not processed within 60 s"
    assert report["summary"]["created"] == 5
    item = client(connection, "dynamodb").get_item(
        TableName=connection["resources"]["Table"],
        Key={
            "pk": {"S": "INV#" + document_id("self", DocumentType.INVOICE, "INV-2026-1001")},
            "sk": {"S": "HEAD"},
        },
    )["Item"]
    assert (item["number"]["S"], item["balance"]["N"], item["status"]["S"]) == (
        "INV-2026-1001",
        "119000",
        "open",
    )


def test_a_signed_stripe_webhook_pays_the_invoice_through_the_http_api(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    from tests.integration.test_stripe_webhooks import fixture, sign

    connection, _, _ = local
    test_an_invoice_put_with_boto3_becomes_visible(local)  # INV-2026-1001 is in the ledger
    table = connection["resources"]["Table"]
    key = {
        "pk": {"S": "INV#" + document_id("self", DocumentType.INVOICE, "INV-2026-1001")},
        "sk": {"S": "HEAD"},
    }
    customer = client(connection, "dynamodb").get_item(TableName=table, Key=key)["Item"]["customer_id"]["S"]
    payload = fixture("checkout.session.completed", customer)

    def post(signature: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            connection["endpoints"]["api"] + "/webhooks/stripe",
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    forged = post(sign(payload, secret="whsec_forged"))
    good = post(sign(payload, secret=connection["stripe_webhook_secret"]))

    assert forged[0] == 400
    assert good == (
        200,
        {
            "received": True,
            "event": "evt_1SessionCompleted0001",
            "type": "checkout.session.completed",
            "action": "payment_recorded",
        },
    )
    item = client(connection, "dynamodb").get_item(TableName=table, Key=key)["Item"]
    assert (item["status"]["S"], item["balance"]["N"]) == ("paid", "0")


def test_the_emulator_answers_plain_http(local: tuple[dict[str, Any], Any, Path]) -> None:
    connection, _, _ = local
    url = connection["endpoints"]["aws"] + "/moto-api/data.json"
    with urllib.request.urlopen(url, timeout=10) as response:
        data = json.loads(response.read())
    assert any(
        f["function_name"].startswith("receivables-local-") for f in data["awslambda"]["LambdaFunction"]
    )


def test_sigterm_stops_it_cleanly(local: tuple[dict[str, Any], subprocess.Popen[str], Path]) -> None:
    _, process, connection_file = local
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Receivables local runtime is up" in output
    assert "State is in memory and starts empty at every run" in output
    assert not connection_file.exists()
