"""The risk score kept current from the stream: late payments and a dispute make a customer risky,
which sets their dunning variant and weighs them on the worklist; an imported rating adds its
factor; the API explains the score and shows its history."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from receivables.disputes.opening import open_dispute_on
from receivables.kernel.money import Money
from receivables.ledger.disputes import Reason, Source
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store
from receivables_local.functions import load_function
from tests.integration.test_credit import api

if TYPE_CHECKING:
    import pytest

    from tests.integration.conftest import Aws

HEADER = "invoice_number,issue_date,due_date,currency,customer_ref,customer_vat,customer_email,total_amount\n"


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def stream(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the table's stream sets off (on the test's clock): aggregates, counts and scores."""
    function = load_function("aggregates")
    monkeypatch.setattr(function, "clock", lambda: aws.clock)
    result: dict[str, Any] = function.handle({"Records": aws.stream().read()})
    return result


def test_late_payments_and_a_dispute_make_a_customer_risky_and_a_rating_adds_its_factor(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        f"R-{n},2026-0{n + 4}-01,2026-0{n + 5}-01,EUR,SLOW,DE136695976,ap@slow.example,1000.00"
        for n in range(4)
    ]
    aws.drop(
        "inbox/r.csv",
        HEADER
        + "\n".join(rows)
        + "\nR-9,2026-10-01,2026-10-20,EUR,SLOW,DE136695976,ap@slow.example,500.00\n",
    )
    stream(aws, monkeypatch)
    customer_id = store.get_invoice(inv("R-0")).customer_id  # type: ignore[union-attr]
    assert store.get_customer(customer_id).risk == "standard"  # type: ignore[union-attr]
    # Each paid 75 days after its due date.
    for n in range(4):
        record_receipt(
            Receipt(
                "bank",
                f"late-{n}",
                Money(100000, "EUR"),
                f"2026-{n + 7:02d}-15T10:00:00.000Z",
                "bank_transfer",
                reference=f"R-{n}",
            ),
            aws.clock,
        )
    open_dispute_on(inv("R-9"), Source.CUSTOMER, Reason.QUALITY, "customer", aws.clock)
    stream(aws, monkeypatch)

    customer = store.get_customer(customer_id)
    assert customer is not None and customer.risk == "risky"
    changed = [e for e in store.audit_events(store.customer_pk(customer_id)) if e.type == "RiskClassChanged"]
    assert [(e.data["variant_from"], e.data["variant_to"], e.data["class"]) for e in changed] == [
        ("standard", "risky", "high")
    ]
    call = api(aws, monkeypatch)
    status, body = call(
        "GET", "/customers/{customer_id}/risk", f"/customers/{customer_id}/risk", role="viewer"
    )
    assert status == 200 and body["risk"]["class"] == "high" and body["risk"]["dunning_variant"] == "risky"
    factors = {f["factor"]: f for f in body["risk"]["factors"]}
    assert factors["late_share"]["value"] == "4 of 4 paid invoices"
    assert factors["disputes_chargebacks"]["value"] == "1 disputes on 5 invoices, 0 chargebacks"
    assert body["history"] == [
        {
            "date": "2026-11-02",
            "score": body["risk"]["score"],
            "class": "high",
            "at": body["history"][0]["at"],
        }
    ]

    # The worklist weighs a risky customer's overdue invoice double.
    status, worklist = call("GET", "/worklist", "/worklist", role="viewer")
    (row,) = worklist["worklist"]
    assert row["number"] == "R-9" and row["risk"] == "risky"
    assert row["expected_loss"] == "16.00"  # 500.00 x 1.6 % (1-30 days late) x 2

    # An imported rating: good rows kept, bad ones named.
    csv_body = (
        "customer,rating,agency,rated_on\n"
        "vat:DE136695976,20,Creditreform,2026-10-30\n"
        "cus_nobody,50,Creditreform,2026-10-30\n"
        f"{customer_id},abc,Creditreform,2026-10-30\n"
    )
    module = load_function("finance_api")
    from tests.integration.test_finance_api import event

    request = event("POST", "/risk/ratings", "/risk/ratings", role="controller")
    request["headers"] = {"content-type": "text/csv"}
    request["body"] = csv_body
    answer = module.app(request, None)
    imported = json.loads(answer["body"])
    assert answer["statusCode"] == 200, imported
    assert imported["imported"] == 1 and imported["unchanged"] == 0
    assert [(r["row"], r["field"]) for r in imported["rejected"]] == [(3, "customer"), (4, "rating")]
    request["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = "[collector]"
    assert module.app(request, None)["statusCode"] == 403
    stream(aws, monkeypatch)
    status, body = call(
        "GET", "/customers/{customer_id}/risk", f"/customers/{customer_id}/risk", role="viewer"
    )
    rated = {f["factor"]: f for f in body["risk"]["factors"]}["external_rating"]
    assert rated["value"] == "20 / 100 from Creditreform (2026-10-30)" and rated["points"] == "12.0"
