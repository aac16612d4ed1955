"""Bank statements end to end on `receivables local`, as the bank and finance drive them: a
camt.053 dropped into the intake bucket under statements/inbox/ letters the transfer that names
its invoice, leaves the unknown payer's line for review, and finance letters that one through
the API, which remembers the payer's IBAN."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables_local.statement_files import Line, camt053
from tests.e2e.test_credit_and_deductions import api
from tests.e2e.test_local_runtime import client, local
from tests.e2e.test_payments import state, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]
HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
PAYER_IBAN = "GB33BUKB20201555555555"


def test_a_statement_in_the_bucket_letters_itself_and_finance_letters_the_rest(local: Local) -> None:
    connection, _, _ = local
    s3 = client(connection, "s3")
    bucket = connection["resources"]["InvoiceBucket"]
    issued, due = date.today() - timedelta(days=20), date.today() + timedelta(days=10)
    rows = "".join(
        f"{n},{issued},{due},EUR,E2E-BANK,Fjord Cycles AS,ap@fjord.example,{amount}\n"
        for n, amount in (("E2EBS-1", "120.00"), ("E2EBS-2", "80.00"))
    )
    s3.put_object(Bucket=bucket, Key="inbox/e2e/bank-statement-ledger.csv", Body=HEADER + rows)
    wait_for("the invoices", lambda: state_or_none(connection, "E2EBS-2"))

    # The bank's statement of the day: one transfer names its invoice, one comes from an IBAN
    # the ledger does not know, with nothing but "thanks".
    statement = camt053(
        [
            Line("120.00", "Fjord Cycles", text="Invoice E2EBS-1", bank_ref="E2E-B1"),
            Line("80.00", "Fjord Cycles AS", iban=PAYER_IBAN, text="thanks", bank_ref="E2E-B2"),
        ],
        statement_id="E2E-STMT-1",
        day=date.today().isoformat(),
        previous_day=(date.today() - timedelta(days=1)).isoformat(),
    )
    s3.put_object(Bucket=bucket, Key="statements/inbox/e2e/day.xml", Body=statement)
    key = "statements/processed/e2e/day.xml.report.json"
    wait_for("the statement's report", lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    (lines,) = [s["lines"] for s in report["statements"]]
    assert [(x["status"], x.get("rule")) for x in lines] == [
        ("lettered", "invoice_number"),
        ("review", "payer_name"),
    ]
    assert state(connection, "E2EBS-1")[0] == "paid"

    status, queue = api(connection, "GET", "/bank-lines?status=unmatched")
    assert status == 200
    waiting = next(x for x in queue["bank_lines"] if x["line_id"] == lines[1]["line_id"])
    assert waiting["candidates"][0]["rule"] == "payer_name"
    body = {"invoices": [{"invoice": "E2EBS-2", "amount": "80.00"}]}
    status, done = api(connection, "POST", f"/bank-lines/{waiting['line_id']}/letter", body)

    assert status == 200 and done["status"] == "lettered" and done["lettering"]
    assert state(connection, "E2EBS-2")[0] == "paid"
    status, statements = api(connection, "GET", "/statements")
    assert status == 200
    assert any(s["statement_id"] == "E2E-STMT-1" for s in statements["statements"])


def state_or_none(connection: dict[str, Any], number: str) -> tuple[str, str] | None:
    from tests.e2e.test_payments import invoice

    return state(connection, number) if invoice(connection, number) else None
