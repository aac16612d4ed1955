"""A customer's credit pays their next invoice; finance records bank transfers through the API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, apply_customer_credit, record_receipt
from receivables.storage import store
from receivables_local.functions import function_module, load_function

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

S = InvoiceStatus
HEADER = "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount\n"


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def state(number: str) -> tuple[S, Money]:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    return invoice.status, invoice.balance


def test_an_overpayment_pays_the_customers_next_invoice_when_it_arrives(aws: Aws) -> None:
    aws.drop("inbox/1.csv", HEADER + "K-1,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,100.00\n")
    outcome = record_receipt(
        Receipt(
            "stripe",
            "pi_over",
            eur("130.00"),
            "2026-11-02T09:00:00.000Z",
            "card",
            target_invoice_ids=(inv("K-1"),),
        ),
        aws.clock,
    )
    assert outcome.payment.unapplied == eur("30.00")
    aws.drop("inbox/2.csv", HEADER + "K-2,2026-11-01,2026-12-01,EUR,C1,ap@c1.example,50.00\n")
    customer = store.get_invoice(inv("K-2"))
    assert customer is not None

    credit = load_function("credit")
    event = {"detail-type": "InvoiceIngested", "detail": {"customer_id": customer.customer_id}}
    first = credit.handle(event, aws.clock)
    again = credit.handle(event, aws.clock)

    assert first["applied"] == [
        {"payment_id": outcome.payment.payment_id, "invoice_id": inv("K-2"), "amount": "30.00"}
    ]
    assert again["applied"] == []
    assert state("K-2") == (S.PARTIALLY_PAID, eur("20.00"))
    payment = store.get_payment(outcome.payment.payment_id)
    assert payment is not None and payment.unapplied == eur("0.00")
    assert dict(payment.allocations) == {inv("K-1"): eur("100.00"), inv("K-2"): eur("30.00")}
    assert store.unapplied_payments("EUR") == []


def test_credit_never_crosses_customers_or_currencies(aws: Aws) -> None:
    aws.drop(
        "inbox/1.csv",
        HEADER
        + "K-1,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,100.00\n"
        + "K-9,2026-10-01,2026-10-31,USD,C1,ap@c1.example,100.00\n"
        + "L-1,2026-10-01,2026-10-31,EUR,C2,ap@c2.example,100.00\n",
    )
    record_receipt(
        Receipt(
            "stripe",
            "pi_over",
            eur("150.00"),
            "2026-11-02T09:00:00.000Z",
            "card",
            target_invoice_ids=(inv("K-1"),),
        ),
        aws.clock,
    )
    invoice = store.get_invoice(inv("L-1"))
    assert invoice is not None
    assert apply_customer_credit(invoice.customer_id, aws.clock) == []
    assert state("L-1") == (S.OPEN, eur("100.00"))
    assert state("K-9") == (S.OPEN, Money.parse("100.00", "USD"))


# --- POST /payments ----------------------------------------------------------------------------
def api_event(method: str, path: str, body: Any = None, groups: str | None = "[collector]") -> dict[str, Any]:
    """An HTTP API (payload 1.0) event as API Gateway sends it after the JWT authorizer."""
    authorizer = {"jwt": {"claims": {"sub": "u-1", "cognito:groups": groups}}} if groups else {}
    resource = "/payments/{payment_id}" if path.count("/") == 2 and "unapplied" not in path else path
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": {"currency": "EUR"} if "unapplied" in path else None,
        "multiValueQueryStringParameters": {"currency": ["EUR"]} if "unapplied" in path else None,
        "pathParameters": {"payment_id": path.rsplit("/", 1)[1]} if resource.endswith("}") else None,
        "requestContext": {"httpMethod": method, "resourcePath": resource, "authorizer": authorizer},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
        "stageVariables": None,
    }


@pytest.fixture
def finance(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    aws.drop("inbox/1.csv", HEADER + "B-7,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,80.00\n")
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))

    def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = module.app(event, None)
        return response["statusCode"], json.loads(response["body"])

    return call


TRANSFER = {
    "amount": "80.00",
    "currency": "EUR",
    "method": "bank_transfer",
    "external_id": "BANK-2026-11-02-17",
    "received_at": "2026-11-02",
    "reference": "SEPA CT ACME invoice B 7",
}


def test_a_bank_transfer_recorded_by_finance_is_matched_from_its_reference(finance: Any) -> None:
    status, body = finance(api_event("POST", "/payments", TRANSFER))
    again_status, again = finance(api_event("POST", "/payments", TRANSFER))

    assert status == 201 and body["payment"]["matched_by"] == "reference"
    assert body["payment"]["allocations"] == [{"invoice_id": inv("B-7"), "amount": "80.00"}]
    assert body["settled"] == [inv("B-7")]
    assert (again_status, again["duplicate"]) == (200, True)
    assert state("B-7") == (S.PAID, eur("0.00"))
    got_status, got = finance(
        api_event("GET", f"/payments/{body['payment']['payment_id']}", groups="[viewer]")
    )
    assert got_status == 200 and got["payment"]["received_at"] == "2026-11-02T00:00:00.000Z"


def test_an_unmatched_transfer_waits_in_the_queue_with_its_candidates(finance: Any) -> None:
    invoice = store.get_invoice(inv("B-7"))
    assert invoice is not None
    unclear = {
        **TRANSFER,
        "external_id": "BANK-18",
        "amount": "55.00",
        "reference": "payment",
        "customer_id": invoice.customer_id,
    }
    status, body = finance(api_event("POST", "/payments", unclear))

    assert status == 201 and body["payment"]["matched_by"] is None
    assert body["payment"]["unapplied"] == "55.00" and body["payment"]["allocations"] == []
    assert [c["number"] for c in body["candidates"]] == ["B-7"]
    assert "same customer" in body["candidates"][0]["reasons"]
    queue_status, queue = finance(api_event("GET", "/payments/unapplied", groups="[viewer]"))
    assert queue_status == 200
    assert [p["payment_id"] for p in queue["payments"]] == [body["payment"]["payment_id"]]
    assert state("B-7") == (S.OPEN, eur("80.00"))


def test_a_bad_request_names_every_bad_field(finance: Any) -> None:
    status, body = finance(
        api_event("POST", "/payments", {"amount": 80, "currency": "EURO", "method": "wire", "colour": "red"})
    )
    assert status == 400
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"amount", "currency", "method", "external_id", "received_at", "colour"}


def test_roles_are_enforced(finance: Any) -> None:
    assert finance(api_event("POST", "/payments", TRANSFER, groups=None))[0] == 401
    assert finance(api_event("POST", "/payments", TRANSFER, groups="[viewer]"))[0] == 403
    assert finance(api_event("POST", "/payments", TRANSFER, groups="[controller]"))[0] == 201


# --- dunning through the finance API ---------------------------------------------------------
def route_event(
    method: str,
    resource: str,
    path: str,
    body: Any = None,
    groups: str = "[controller]",
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = api_event(method, path, body, groups)
    event.update(
        resource=resource,
        pathParameters=params,
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    event["requestContext"]["resourcePath"] = resource
    return event


def test_finance_reads_and_changes_the_dunning_policy(finance: Any) -> None:
    status, current = finance(route_event("GET", "/dunning/policy", "/dunning/policy", groups="[viewer]"))
    assert status == 200 and current["version"] == 0
    policy = current["policy"]
    policy["send_hour"] = 10
    put = route_event("PUT", "/dunning/policy", "/dunning/policy", {"version": 0, "policy": policy})

    saved_status, saved = finance(put)
    stale_status, _ = finance(put)
    collector_status, _ = finance(
        {
            **put,
            "requestContext": {
                **put["requestContext"],
                "authorizer": {"jwt": {"claims": {"sub": "u-2", "cognito:groups": "[collector]"}}},
            },
        }
    )
    policy["send_hour"] = 30
    bad_status, bad = finance(
        route_event("PUT", "/dunning/policy", "/dunning/policy", {"version": 1, "policy": policy})
    )

    assert (saved_status, saved["version"], saved["policy"]["send_hour"]) == (200, 1, 10)
    assert stale_status == 409, "a change made on an old version is refused"
    assert collector_status == 403, "only a controller changes the policy"
    assert bad_status == 400 and bad["errors"] == [
        {"field": "policy.send_hour", "reason": "must be a whole number from 0 to 23"}
    ]
    assert finance(route_event("GET", "/dunning/policy", "/dunning/policy"))[1]["policy"]["send_hour"] == 10


def test_finance_records_a_promise_to_pay(finance: Any) -> None:
    path = f"/invoices/{inv('B-7')}/promise"
    params = {"invoice_id": inv("B-7")}
    resource = "/invoices/{invoice_id}/promise"
    status, body = finance(
        route_event(
            "POST",
            resource,
            path,
            {"date": "2026-11-20", "amount": "80.00"},
            groups="[collector]",
            params=params,
        )
    )
    late_status, late = finance(route_event("POST", resource, path, {"date": "2027-06-01"}, params=params))

    assert status == 201 and body["promise"] == {"date": "2026-11-20", "amount": "80.00"}
    invoice = store.get_invoice(inv("B-7"))
    assert invoice is not None and invoice.dunning.promise is not None
    assert [e.type for e in store.invoice_events(inv("B-7"))][-1] == "PromiseToPay"
    assert late_status == 400 and late["errors"][0]["field"] == "date"


def test_a_collector_starts_the_sweep_now(finance: Any) -> None:
    import boto3

    from tests.integration.conftest import BUS, REGION

    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queue = sqs.create_queue(QueueName="sweeps")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="sweep", EventBusName=BUS, EventPattern='{"detail-type": ["DunningSweepRequested"]}')
    events.put_targets(Rule="sweep", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])

    status, body = finance(route_event("POST", "/dunning/sweep", "/dunning/sweep", groups="[collector]"))
    viewer, _ = finance(route_event("POST", "/dunning/sweep", "/dunning/sweep", groups="[viewer]"))

    assert (status, body, viewer) == (202, {"requested": True}, 403)
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert json.loads(message["Body"])["source"] == "receivables.finance"
