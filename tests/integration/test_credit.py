"""Credit limits on moto: a controller sets Bolt's limit; as invoices arrive from the stream
Bolt's exposure crosses 80 % (an event, the account owner told) then 100 % (credit hold); the
credit check then declines its next order with the reasons, in a few milliseconds."""

from __future__ import annotations

import email
import email.policy
import json
import statistics
import time
from typing import TYPE_CHECKING, Any

from receivables.mail.mailer import MailSettings, send_credit_notice
from receivables.storage import store
from receivables_local.functions import function_module, load_function
from tests.integration.test_finance_api import HEADER, event

if TYPE_CHECKING:
    import pytest

    from tests.integration.conftest import Aws

SETTINGS = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "https://p.example")
FIRST = HEADER + "B-1,2026-10-20,2026-11-19,EUR,BOLT,Bolt Parts,ap@bolt.example,7000.00\n"


def api(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))

    def call(
        method: str,
        resource: str,
        path: str,
        body: Any = None,
        role: str = "controller",
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        answer = module.app(event(method, resource, path, body=body, role=role, query=query), None)
        return answer["statusCode"], json.loads(answer["body"])

    return call


def stream(aws: Aws) -> None:
    """What the table's stream sets off: the aggregates (and the credit review with them)."""
    load_function("aggregates").handle({"Records": aws.stream().read()})


def customer_events(customer_id: str) -> list[str]:
    return [e.type for e in store.audit_events(store.customer_pk(customer_id))]


def test_a_limit_breach_holds_the_customer_and_the_check_declines_its_next_order(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = api(aws, monkeypatch)
    aws.drop("inbox/b1.csv", FIRST)
    stream(aws)
    bolt = next(c.customer_id for c in store.customers_by_name(10, None)[0] if c.name == "Bolt Parts")
    limit = ("/customers/{customer_id}/credit-limit", f"/customers/{bolt}/credit-limit")
    body = {"limit": "8000.00", "currency": "EUR", "insured_amount": "6000.00", "insured_until": "2027-06-30"}

    assert call("PUT", *limit, body, role="collector")[0] == 403, "only a controller changes a limit"
    status, changed = call("PUT", *limit, body)
    assert status == 200 and changed["customer"]["credit_limit"] == "8000.00"
    assert changed["customer"]["credit_level"] == 80  # 7,000 of 8,000
    # 7,000 is over the 6,000 insured as well: an event of its own.
    assert customer_events(bolt)[-3:] == [
        "CreditLimitChanged",
        "CreditInsuranceExceeded",
        "CreditThresholdCrossed",
    ]
    check = ("/credit/check", "/credit/check")
    status, referred = call(
        "POST", *check, {"customer_id": bolt, "amount": "500.00", "currency": "EUR"}, role="viewer"
    )
    assert status == 200 and referred["decision"] == "refer"
    assert [r["code"] for r in referred["reasons"]] == ["limit_near", "insurance"]

    aws.drop(
        "inbox/b2.csv", HEADER + "B-2,2026-10-25,2026-11-24,EUR,BOLT,Bolt Parts,ap@bolt.example,1500.00\n"
    )
    stream(aws)
    stream(aws)  # a replayed batch records nothing new

    customer = store.get_customer(bolt)
    assert customer is not None and customer.credit_hold and customer.credit_level == 100
    assert customer_events(bolt).count("CreditThresholdCrossed") == 2
    status, declined = call(
        "POST", *check, {"customer_id": bolt, "amount": "10.00", "currency": "EUR"}, role="viewer"
    )
    assert declined["decision"] == "decline"
    assert {r["code"]: r["decision"] for r in declined["reasons"]} == {
        "hold": "decline",
        "limit": "decline",
        "insurance": "refer",
    }
    status, exposure = call(
        "GET", "/customers/{customer_id}/exposure", f"/customers/{bolt}/exposure", role="viewer"
    )
    assert exposure["exposure"]["total"] == "8500.00" and exposure["exposure"]["available"] == "-500.00"

    crossed = [e for e in store.audit_events(store.customer_pk(bolt)) if e.type == "CreditThresholdCrossed"][
        -1
    ]
    sent: list[tuple[str, Any]] = []

    def raw(to: str, data: bytes) -> str:
        sent.append((to, email.message_from_bytes(data, policy=email.policy.default)))
        return "m1"

    detail = {**crossed.data, "event_id": f"{bolt}#{crossed.seq}"}
    assert send_credit_notice(detail, SETTINGS, raw, aws.clock).action == "sent"
    assert send_credit_notice(detail, SETTINGS, raw, aws.clock).action == "already_sent"
    assert sent[0][0] == "ar@seller.example" and "100 % of their limit" in sent[0][1]["Subject"]
    over = next(e for e in store.audit_events(store.customer_pk(bolt)) if e.type == "CreditInsuranceExceeded")
    insured = {**over.data, "event_id": f"{bolt}#{over.seq}"}
    assert send_credit_notice(insured, SETTINGS, raw, aws.clock).action == "sent"
    assert sent[1][1]["Subject"] == "Credit: Bolt Parts is over the insured amount"
    assert "the part above the cover is not insured" in sent[1][1].get_body().get_content()

    # In process, a credit check costs two reads: its median stays in milliseconds.
    took = []
    for _ in range(50):
        started = time.perf_counter()
        call("POST", *check, {"customer_id": bolt, "amount": "10.00", "currency": "EUR"}, role="viewer")
        took.append(time.perf_counter() - started)
    assert statistics.median(took) < 0.05, statistics.median(took)


def test_a_bad_check_names_each_field(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    call = api(aws, monkeypatch)

    status, errors = call(
        "POST", "/credit/check", "/credit/check", {"customer_id": "x", "amount": "1.001", "currency": "EURO"}
    )
    unknown = call(
        "POST",
        "/credit/check",
        "/credit/check",
        {"customer_id": "cus_nobody", "amount": "1", "currency": "EUR"},
    )

    assert status == 400 and {e["field"] for e in errors["errors"]} == {"amount", "currency"}
    assert unknown[0] == 404


def test_open_orders_the_erp_reports_count_in_the_exposure(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    call = api(aws, monkeypatch)
    aws.drop("inbox/b1.csv", FIRST)
    stream(aws)
    bolt = next(c.customer_id for c in store.customers_by_name(10, None)[0] if c.name == "Bolt Parts")
    call(
        "PUT",
        "/customers/{customer_id}/credit-limit",
        f"/customers/{bolt}/credit-limit",
        {"limit": "10000", "currency": "EUR"},
    )
    orders = ("/customers/{customer_id}/open-orders", f"/customers/{bolt}/open-orders")

    status, reported = call("PUT", *orders, {"amount": "1500.00", "currency": "EUR"}, role="collector")

    assert status == 200 and reported["customer"]["open_orders"] == "1500.00"
    assert reported["customer"]["credit_level"] == 80  # 7,000 owed + 1,500 ordered of 10,000
    assert customer_events(bolt)[-2:] == ["OpenOrdersReported", "CreditThresholdCrossed"]
    assert call("PUT", *orders, {"amount": "-1", "currency": "EUR"}, role="collector")[0] == 400


def test_the_forecast_spreads_the_open_balances_over_the_weeks(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decimal import Decimal

    from receivables.kernel.clock import iso_timestamp
    from receivables.kernel.money import Money
    from receivables.ledger.model import DocumentType
    from receivables.ledger.rules import document_id
    from receivables.payments.allocation import Receipt, record_receipt

    call = api(aws, monkeypatch)
    aws.drop(
        "inbox/f.csv",
        HEADER + "F-1,2026-08-01,2026-08-31,EUR,FIG,Fig Foods,ap@fig.example,100.00\n"
        "F-2,2026-10-20,2026-11-19,EUR,FIG,Fig Foods,ap@fig.example,250.00\n"
        "F-3,2026-10-25,2026-11-24,USD,GUM,Gum Ltd,ap@gum.example,80.00\n",
    )
    paid_late = Receipt(
        "bank",
        "B-F1",
        Money(10000, "EUR"),
        iso_timestamp(aws.clock.now()),
        "bank_transfer",
        target_invoice_ids=(document_id("self", DocumentType.INVOICE, "F-1"),),
    )
    record_receipt(paid_late, aws.clock)  # F-1 paid 63 days late: Fig pays late

    status, forecast = call("GET", "/forecast", "/forecast", role="viewer")

    assert status == 200 and forecast["weeks"] == 13 and set(forecast["currencies"]) == {"EUR", "USD"}
    eur = forecast["currencies"]["EUR"]
    expected = sum(Decimal(w["expected"]) for w in eur["weeks"]) + Decimal(eur["later"])
    assert expected == Decimal("250.00") and eur["invoices"] == 1
    week = next(w for w in eur["weeks"] if w["expected"] != "0.00")
    assert week["week_of"] > "2026-11-19", "Fig pays late: F-2 is expected after its due date"
    assert forecast["currencies"]["EUR"]["weeks"][0]["week_of"] == aws.clock.now().date().isoformat()
    assert eur["future_invoices"] == "0.00", "Fig's next invoices are paid after 30 + 63 days: past week 13"
    query = {"invoices": "true", "weeks": "26"}
    status, detailed = call("GET", "/forecast", "/forecast", role="viewer", query=query)
    later = detailed["currencies"]["EUR"]
    coming = sum(Decimal(w["from_future_invoices"]) for w in later["weeks"])
    assert coming == Decimal(later["future_invoices"]) > 0, "Fig invoiced twice lately: it goes on"
    (f2,) = [p for p in detailed["predictions"] if p["currency"] == "EUR"]
    assert status == 200 and f2["balance"] == "250.00" and f2["low"] <= f2["predicted"] <= f2["high"]
    assert f2["predicted"] > "2026-11-19" and "predictions" not in forecast
    assert call("GET", "/forecast", "/forecast", role="viewer", query={"weeks": "27"})[0] == 400


def test_a_policy_without_automatic_hold_only_tells(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    call = api(aws, monkeypatch)
    aws.drop("inbox/b1.csv", FIRST)
    stream(aws)
    bolt = next(c.customer_id for c in store.customers_by_name(10, None)[0] if c.name == "Bolt Parts")
    _, read = call("GET", "/credit/policy", "/credit/policy", role="viewer")
    policy = {**read["policy"], "hold_at": None}

    assert (
        call("PUT", "/credit/policy", "/credit/policy", {"version": 0, "policy": policy}, role="collector")[0]
        == 403
    )
    status, saved = call(
        "PUT", "/credit/policy", "/credit/policy", {"version": read["version"], "policy": policy}
    )
    stale = call("PUT", "/credit/policy", "/credit/policy", {"version": read["version"], "policy": policy})
    status_limit, limited = call(
        "PUT",
        "/customers/{customer_id}/credit-limit",
        f"/customers/{bolt}/credit-limit",
        {"limit": "5000", "currency": "EUR"},
    )

    assert (status, saved["version"], stale[0]) == (200, 1, 409)
    assert status_limit == 200 and limited["customer"]["credit_level"] == 100
    assert limited["customer"]["credit_hold"] is False, "the policy holds nobody automatically"
