"""Credit and deductions end to end on `receivables local`, as finance and an ERP drive them over
HTTP: a bank transfer paying 2 % less within "2/10 net 30" is validated and credited without a
person; one paying short for damaged goods opens a deduction, routed to its owner (who is mailed)
under dispute; a limit breach puts a customer on credit hold from the stream, and the credit
check declines its next order."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from tests.e2e.test_local_runtime import client, local
from tests.e2e.test_payments import http, state, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]
HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,"
    "total_amount,terms\n"
)


def api(connection: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {connection['api_token']}"}
    data = json.dumps(body).encode() if body is not None else None
    status, _, text = http(connection["endpoints"]["api"] + path, data, headers, method)
    return status, json.loads(text) if text else None


def ingest(connection: dict[str, Any], name: str, rows: str) -> None:
    client(connection, "s3").put_object(
        Bucket=connection["resources"]["InvoiceBucket"], Key=f"inbox/e2e/{name}.csv", Body=HEADER + rows
    )


def transfer(connection: dict[str, Any], external_id: str, amount: str, reference: str) -> dict[str, Any]:
    body = {
        "amount": amount,
        "currency": "EUR",
        "method": "bank_transfer",
        "external_id": external_id,
        "received_at": date.today().isoformat(),
        "reference": reference,
    }
    status, answer = api(connection, "POST", "/payments", body)
    assert status == 201, answer
    return dict(answer)


def test_a_short_bank_transfer_opens_a_deduction_and_an_early_discount_is_validated(local: Local) -> None:
    connection, _, _ = local
    _, policy = api(connection, "GET", "/deductions/policy")
    owners = [{"reason": "short_delivery", "owner": "logistics@seller.example"}]
    status, _ = api(
        connection,
        "PUT",
        "/deductions/policy",
        {"version": policy["version"], "policy": {**policy["policy"], "owners": owners}},
    )
    assert status == 200
    issued = date.today() - timedelta(days=3)
    ingest(
        connection,
        "deductions",
        f"DED-1,{issued},,EUR,C-DED,Oakfield,ap@oakfield.example,1500.00,2/10 net 30\n"
        f"DED-2,{issued},,EUR,C-DED,Oakfield,ap@oakfield.example,800.00,net 30\n",
    )
    wait_for("the invoices", lambda: all(_exists(connection, n) for n in ("DED-1", "DED-2")))

    discounted = transfer(connection, "BANK-DED-1", "1470.00", "DED-1 less 2 % Skonto")
    (valid,) = discounted["deductions"]
    assert [(p["reason"], p["amount"], p["validity"]) for p in valid["parts"]] == [
        ("early_payment_discount", "30.00", "valid")
    ]
    assert state(connection, "DED-1") == ("paid", "0")

    short = transfer(connection, "BANK-DED-2", "680.00", "DED-2: damaged goods 120.00")
    (taken,) = short["deductions"]
    assert taken["open"] == "120.00" and taken["owner"] == "logistics@seller.example"
    assert taken["parts"][0]["evidence_needed"] == ["proof_of_delivery"]
    assert state(connection, "DED-2") == ("disputed", "12000")
    status, listed = api(connection, "GET", "/deductions?status=open")
    assert status == 200 and "DED-2" in [d["number"] for d in listed["deductions"]]

    def owner_mail() -> dict[str, Any] | None:
        _, _, body = http(connection["endpoints"]["api"] + "/_aws/ses")
        return next(
            (m for m in json.loads(body)["messages"] if "invoice DED-2 120.00 EUR short" in m["Subject"]),
            None,
        )

    mail = wait_for("the owner's email", owner_mail)
    assert set(mail["Destination"]["ToAddresses"]) == {"logistics@seller.example"}
    assert "proof of delivery" in mail["Body"]["text_part"]


def test_a_limit_breach_holds_the_customer_and_the_check_declines_its_next_order(local: Local) -> None:
    connection, _, _ = local
    today = date.today()
    ingest(connection, "credit-1", f"CRD-1,{today},,EUR,C-CRD,Quarry Ltd,ap@quarry.example,900.00,net 30\n")
    wait_for("the invoice", lambda: _exists(connection, "CRD-1"))
    _, found = api(connection, "GET", "/customers?limit=200")
    quarry = next(c["customer_id"] for c in found["customers"] if c["name"] == "Quarry Ltd")

    def exposed() -> bool:  # the stream has added the invoice to the customer's running total
        _, seen = api(connection, "GET", f"/customers/{quarry}/exposure?currency=EUR")
        return bool(seen["exposure"]["receivables"] == "900.00")

    wait_for("the exposure", exposed)
    status, limited = api(
        connection, "PUT", f"/customers/{quarry}/credit-limit", {"limit": "1000.00", "currency": "EUR"}
    )
    assert status == 200 and limited["customer"]["credit_level"] == 80

    ingest(connection, "credit-2", f"CRD-2,{today},,EUR,C-CRD,Quarry Ltd,ap@quarry.example,300.00,net 30\n")

    def held() -> bool:
        _, body = api(connection, "GET", f"/customers/{quarry}")
        return bool(body["customer"]["credit_hold"])

    wait_for("the credit hold", held)
    status, decided = api(
        connection, "POST", "/credit/check", {"customer_id": quarry, "amount": "10.00", "currency": "EUR"}
    )
    assert status == 200 and decided["decision"] == "decline"
    assert {r["code"] for r in decided["reasons"]} >= {"hold", "limit"}


def _exists(connection: dict[str, Any], number: str) -> bool:
    from tests.e2e.test_payments import invoice

    return invoice(connection, number) is not None
