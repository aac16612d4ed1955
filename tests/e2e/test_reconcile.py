"""`receivables reconcile` as an auditor runs it against `receivables local`: after a story
(invoice files with a credit note, bank transfers in full, in part and over) the books balance
and it exits 0; an item changed behind the ledger's back is printed as a break and it exits 1."""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING, Any

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from tests.conftest import REPO_ROOT, SAMPLES
from tests.e2e.test_credit_and_deductions import api
from tests.e2e.test_demo import receivables_command
from tests.e2e.test_local_runtime import client, local
from tests.e2e.test_payments import wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]


def run_reconcile(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*receivables_command(), "reconcile", "--state-dir", str(state)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def transfer(
    connection: dict[str, Any], external_id: str, amount: str, currency: str, reference: str
) -> None:
    body = {
        "amount": amount,
        "currency": currency,
        "method": "bank_transfer",
        "external_id": external_id,
        "received_at": time.strftime("%Y-%m-%d"),
        "reference": reference,
    }
    status, answer = api(connection, "POST", "/payments", body)
    assert status == 201, answer


def test_the_books_balance_after_a_story_and_a_corrupted_invoice_is_a_break(local: Local) -> None:
    connection, _, path = local
    s3 = client(connection, "s3")
    bucket = connection["resources"]["InvoiceBucket"]
    s3.put_object(
        Bucket=bucket, Key="inbox/e2e-reconcile/a.csv", Body=(SAMPLES / "invoices.csv").read_bytes()
    )
    wait_for(
        "the CSV",
        lambda: s3.list_objects_v2(Bucket=bucket, Prefix="processed/e2e-reconcile/a.csv").get("KeyCount"),
    )
    s3.put_object(
        Bucket=bucket, Key="inbox/e2e-reconcile/b.json", Body=(SAMPLES / "invoices.json").read_bytes()
    )
    wait_for(
        "the JSON",
        lambda: s3.list_objects_v2(Bucket=bucket, Prefix="processed/e2e-reconcile/b.json").get("KeyCount"),
    )
    transfer(connection, "E2E-R1", "330000", "JPY", "Daifuku Trading payment inv 2026 1004")
    transfer(connection, "E2E-R2", "500.000", "KWD", "Invoice INV-2026-1005 part payment")
    transfer(connection, "E2E-R3", "1100.00", "EUR", "Acme INV-2026-1001")  # 29.00 over what is owed

    # The aggregates follow the stream: the books balance once it has caught up.
    clean = wait_for(
        "a clean reconciliation", lambda: (r := run_reconcile(path.parent)).returncode == 0 and r
    )
    assert "reconciliation: the books balance" in clean.stdout
    assert "BREAK" not in clean.stdout
    assert "JPY: 1 payments received 330000 JPY" in clean.stdout

    invoice_id = document_id("self", DocumentType.INVOICE, "INV-2026-1003")
    client(connection, "dynamodb").update_item(
        TableName=connection["resources"]["Table"],
        Key={"pk": {"S": "INV#" + invoice_id}, "sk": {"S": "HEAD"}},
        UpdateExpression="ADD credited :c",
        ExpressionAttributeValues={":c": {"N": "100"}},
    )
    broken = run_reconcile(path.parent)

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"BREAK [invoice_balance] invoice {invoice_id} (INV-2026-1003)" in broken.stdout
    assert "invoice_balance: 3 breaks" in broken.stdout  # the identity, the lettering, the USD credit total
    assert "reconciliation: 3 breaks: the books do not balance" in broken.stdout
