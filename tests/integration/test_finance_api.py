"""The finance workbench through the API function: invoices, customers, payments, reports."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, record_receipt
from receivables_local.functions import function_module, load_function

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
)
ROWS = (
    "W-1,2026-08-01,2026-08-31,EUR,ACME,Acme Logistics,ap@acme.example,1000.00\n"  # 63 days late
    "W-2,2026-10-01,2026-10-31,EUR,ACME,Acme Logistics,ap@acme.example,200.00\n"  # 2 days late
    "W-3,2026-10-20,2026-11-19,EUR,BOLT,Bolt Parts,ap@bolt.example,300.00\n"  # current
    "W-4,2026-09-15,2026-10-15,USD,BOLT,Bolt Parts,ap@bolt.example,50.00\n"  # 18 days late
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def event(
    method: str,
    resource: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    role: str = "controller",
) -> dict[str, Any]:
    names = [part[1:-1] for part in resource.split("/") if part.startswith("{")]
    values = [v for r, v in zip(resource.split("/"), path.split("/"), strict=True) if r.startswith("{")]
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(zip(names, values, strict=True)) or None,
        "requestContext": {
            "httpMethod": method,
            "resourcePath": resource,
            "authorizer": {"jwt": {"claims": {"sub": "u-9", "cognito:groups": f"[{role}]"}}},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
        "stageVariables": None,
    }


@pytest.fixture
def api(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    aws.drop("inbox/w.csv", HEADER + ROWS)
    at = iso_timestamp(aws.clock.now())
    record_receipt(
        Receipt(
            "bank",
            "B-9",
            Money(50000, "EUR"),
            at,
            "bank_transfer",
            target_invoice_ids=(inv("W-1"),),
            on_account=True,
        ),
        aws.clock,
    )
    load_function("aggregates").handle({"Records": aws.stream().read()})
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))

    def call(method: str, resource: str, path: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        response = module.app(event(method, resource, path or resource, **kwargs), None)
        body = response["body"]
        if response["headers"].get("Content-Type", "").startswith("text/csv"):
            return response["statusCode"], body
        return response["statusCode"], json.loads(body)

    return call


def test_invoices_list_by_each_filter_and_page_with_a_cursor(api: Any) -> None:
    status, body = api("GET", "/invoices", query={"issued_from": "2026-01-01"})
    assert status == 200 and {i["number"] for i in body["invoices"]} == {"W-1", "W-2", "W-3", "W-4"}
    _, overdue = api("GET", "/invoices", query={"overdue": "true"})
    assert [i["number"] for i in overdue["invoices"]] == ["W-1", "W-4", "W-2"], "oldest due first"
    _, eur = api("GET", "/invoices", query={"overdue": "true", "currency": "EUR"})
    assert [i["number"] for i in eur["invoices"]] == ["W-1", "W-2"]
    _, bolt = api("GET", "/invoices", query={"customer": overdue["invoices"][1]["customer_id"]})
    assert sorted(i["number"] for i in bolt["invoices"]) == ["W-3", "W-4"]
    _, one = api("GET", "/invoices", query={"number": "W-2"})
    assert [i["balance"] for i in one["invoices"]] == ["200.00"]

    pages, cursor = [], None
    while True:
        query = {"overdue": "true", "limit": "1", **({"cursor": cursor} if cursor else {})}
        _, page = api("GET", "/invoices", query=query)
        pages += [i["number"] for i in page["invoices"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ["W-1", "W-4", "W-2"]

    status, bad = api(
        "GET", "/invoices", query={"status": "late", "limit": "0", "cursor": "!!", "colour": "red"}
    )
    assert status == 400
    assert {e["field"] for e in bad["errors"]} == {"status", "limit", "cursor", "colour"}


def test_an_invoice_with_its_history_and_the_actions_on_it(api: Any) -> None:
    status, body = api("GET", "/invoices/{invoice_id}", f"/invoices/{inv('W-1')}")
    assert status == 200 and body["invoice"]["balance"] == "500.00" and body["invoice"]["days_late"] == 63
    assert [e["type"] for e in body["history"]][:1] == ["InvoiceIngested"]

    assert (
        api(
            "POST",
            "/invoices/{invoice_id}/notes",
            f"/invoices/{inv('W-1')}/notes",
            body={"text": "Called AP"},
            role="collector",
        )[0]
        == 200
    )
    status, done = api(
        "PUT",
        "/invoices/{invoice_id}/collector",
        f"/invoices/{inv('W-1')}/collector",
        body={"collector": "maria"},
        role="collector",
    )
    assert status == 200 and done["invoice"]["collector"] == "maria"
    status, _ = api(
        "POST",
        "/invoices/{invoice_id}/write-off",
        f"/invoices/{inv('W-1')}/write-off",
        body={"reason": "insolvent"},
        role="collector",
    )
    assert status == 403, "only a controller writes off"
    status, written = api(
        "POST",
        "/invoices/{invoice_id}/write-off",
        f"/invoices/{inv('W-1')}/write-off",
        body={"reason": "insolvent"},
    )
    assert (
        status == 200
        and written["invoice"]["status"] == "written_off"
        and written["invoice"]["written_off"] == "500.00"
    )
    status, refused = api(
        "POST", "/invoices/{invoice_id}/void", f"/invoices/{inv('W-1')}/void", body={"reason": "dup"}
    )
    assert status == 409 and "money applied" in refused["message"]
    assert api("POST", "/invoices/{invoice_id}/void", f"/invoices/{inv('W-3')}/void", body={})[0] == 400
    assert api("GET", "/invoices/{invoice_id}", "/invoices/inv_nothing")[0] == 404
    _, after = api("GET", "/invoices/{invoice_id}", f"/invoices/{inv('W-1')}")
    assert [e["type"] for e in after["history"]][-3:] == [
        "NoteAdded",
        "CollectorAssigned",
        "InvoiceWrittenOff",
    ]
    assert after["history"][-1]["actor"] == "finance:u-9"


def test_customers_statement_risk_hold_and_contact(api: Any) -> None:
    _, listed = api("GET", "/customers")
    assert [c["name"] for c in listed["customers"]] == ["Acme Logistics", "Bolt Parts"]
    acme = listed["customers"][0]["customer_id"]
    _, statement = api(
        "GET", "/customers/{customer_id}/statement", f"/customers/{acme}/statement", query={"currency": "EUR"}
    )
    assert [line["kind"] for line in statement["lines"]] == ["invoice", "invoice", "payment"]
    assert statement["balance"] == "700.00"
    running = [Decimal(line["amount"]) for line in statement["lines"]]
    assert [line["balance"] for line in statement["lines"]] == [
        f"{sum(running[: n + 1], Decimal(0)):.2f}" for n in range(len(running))
    ]
    invoices = [line for line in statement["lines"] if line["kind"] == "invoice"]
    assert all("invoice_balance" in line for line in invoices)
    _, csv_text = api(
        "GET",
        "/customers/{customer_id}/statement",
        f"/customers/{acme}/statement",
        query={"currency": "EUR", "format": "csv"},
    )
    csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [row["balance"] for row in csv_rows] == [line["balance"] for line in statement["lines"]]
    assert api("GET", "/customers/{customer_id}/statement", f"/customers/{acme}/statement")[0] == 400
    _, risk = api("GET", "/customers/{customer_id}/risk", f"/customers/{acme}/risk")
    factors = {f["factor"]: f for f in risk["risk"]["factors"]}
    assert factors["overdue_share"]["value"] == "100.0 % of the open balance"
    assert factors["overdue_share"]["points"] == "10.0" and risk["risk"]["score"] >= 10
    status, held = api(
        "PUT",
        "/customers/{customer_id}/credit-hold",
        f"/customers/{acme}/credit-hold",
        body={"on": True, "reason": "63 days late"},
    )
    assert status == 200 and held["customer"]["credit_hold"] is True
    status, bad = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{acme}/contact",
        body={"email": "nope", "shoe": 1},
        role="collector",
    )
    assert status == 400 and {e["field"] for e in bad["errors"]} == {"email", "shoe"}
    status, changed = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{acme}/contact",
        body={"email": "pay@acme.example", "language": "fr"},
        role="controller",
    )
    assert status == 200 and (changed["customer"]["email"], changed["customer"]["language"]) == (
        "pay@acme.example",
        "fr",
    )


def test_aging_kpis_worklist_and_csv(api: Any) -> None:
    status, aging = api("GET", "/reports/aging", role="viewer")
    assert status == 200
    eur = next(c for c in aging["currencies"] if c["currency"] == "EUR")
    assert eur["buckets"] == {
        "current": "300.00",
        "1-30": "200.00",
        "31-60": "0.00",
        "61-90": "500.00",
        "90+": "0.00",
    }
    assert [c["total"] for c in eur["customers"]] == ["700.00", "300.00"]
    _, figures = api("GET", "/kpis", query={"currency": "EUR", "days": "90"}, role="viewer")
    assert figures["currencies"][0]["overdue_ratio"] == "70.0"
    _, work = api("GET", "/worklist", role="viewer")
    # W-2 (200.00 EUR, 2 days late, risky: 3.2 % is 6.40) before W-4 (50.00 USD, 18 days, 1.6 %: 0.80).
    assert [w["number"] for w in work["worklist"]] == ["W-1", "W-2", "W-4"]
    # Acme pays late and owes mostly overdue money: the stream scored it risky, which doubles its weight.
    assert work["worklist"][0]["risk"] == "risky"
    # 63 days late: IFRS 9's provision matrix gives 6.6 % for 61-90 days, doubled for a risky
    # customer: 13.2 % of 500.00.
    assert work["worklist"][0]["non_payment_percent"] == "13.2"
    assert work["worklist"][0]["expected_loss"] == "66.00"
    status, text = api("GET", "/worklist", query={"format": "csv"}, role="viewer")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and [r["number"] for r in rows] == ["W-1", "W-2", "W-4"]
    _, payments = api("GET", "/payments", role="viewer")
    assert [p["amount"] for p in payments["payments"]] == ["500.00"]


def test_paging_the_open_invoices_by_due_date_loses_and_repeats_nothing(aws: Aws) -> None:
    from datetime import date, timedelta

    from receivables.storage import store

    # The hard case: the last pages' invoices all sit in one shard of the due-date index.
    numbers = [f"P-{n}" for n in range(200)]
    same = [n for n in numbers if store.due_shard(inv(n)) == "DUE#0"][:5]
    others = [n for n in numbers if store.due_shard(inv(n)) != "DUE#0"][:15]
    rows = "".join(
        f"{number},2026-06-01,{date(2026, 7, 1) + timedelta(days=day)},EUR,C1,C 1,c1@x.example,10.00\n"
        for day, number in enumerate(others + same)
    )
    aws.drop("inbox/p.csv", HEADER + rows)
    everything, _ = store.open_invoices_by_due(100)
    assert [i.number for i in everything] == others + same
    for size in (1, 2, 3, 7):
        seen, after = [], None
        while True:
            page, after = store.open_invoices_by_due(size, after)
            seen += [i.number for i in page]
            if after is None:
                break
        assert seen == others + same, size


def test_a_payment_is_re_allocated_to_the_invoices_finance_names(api: Any, aws: Aws) -> None:
    from receivables.payments.allocation import payment_id_for

    paid = payment_id_for("bank", "B-9")  # 500.00 on W-1
    path = f"/payments/{paid}/allocations"
    resource = "/payments/{payment_id}/allocations"

    def move(body: Any, role: str = "collector") -> tuple[int, Any]:
        result: tuple[int, Any] = api("POST", resource, path, body=body, role=role)
        return result

    status, body = move(
        {"allocations": [{"number": "W-1", "amount": "300.00"}, {"number": "W-2", "amount": "200.00"}]}
    )
    assert status == 200 and body["changed"] is True, body
    assert body["payment"]["allocations"] == [
        {"invoice_id": inv("W-1"), "amount": "300.00"},
        {"invoice_id": inv("W-2"), "amount": "200.00"},
    ]
    assert body["payment"]["unapplied"] == "0.00" and body["payment"]["matched_by"] == "finance"
    w1 = api("GET", "/invoices/{invoice_id}", f"/invoices/{inv('W-1')}")[1]
    w2 = api("GET", "/invoices/{invoice_id}", f"/invoices/{inv('W-2')}")[1]
    assert (w1["invoice"]["balance"], w2["invoice"]["balance"]) == ("700.00", "0.00")
    assert w2["invoice"]["status"] == "paid" and w1["history"][-1]["type"] == "PaymentReversed"

    again = move(
        {"allocations": [{"number": "W-2", "amount": "200.00"}, {"number": "W-1", "amount": "300.00"}]}
    )
    assert again[0] == 200 and again[1]["changed"] is False, "the same end state changes nothing"

    stale = move({"allocations": [{"number": "W-1", "amount": "500.00"}], "version": 1})
    assert stale[0] == 409 and "version" in stale[1]["message"], stale
    assert move({"allocations": [{"number": "W-3", "amount": "10.00"}]})[0] == 409, "another customer's"
    assert move({"allocations": [{"number": "W-1", "amount": "600.00"}]})[0] == 409, "more than it holds"
    bad = move({"allocations": [{"number": "W-1", "amount": "1.5.0"}], "colour": "red"})
    assert bad[0] == 400, bad
    assert {e["field"] for e in bad[1]["errors"]} == {"allocations[0].amount", "colour"}
    assert move({"allocations": []}, role="viewer")[0] == 403
    assert api("POST", resource, "/payments/pay_nothing/allocations", body={"allocations": []})[0] == 404

    # Everything back as unapplied credit, then to W-1 alone.
    status, body = move({"allocations": [], "version": body["payment"]["version"]})
    assert status == 200 and body["payment"]["unapplied"] == "500.00" and body["payment"]["allocations"] == []

    # A payment from an unknown payer waits in the unapplied queue until finance allocates it.
    at = iso_timestamp(aws.clock.now())
    record_receipt(
        Receipt("bank", "B-10", Money(30000, "EUR"), at, "bank_transfer", reference="thanks"), aws.clock
    )
    queue = api("GET", "/payments/unapplied", query={"currency": "EUR"}, role="viewer")[1]["payments"]
    unknown = next(p for p in queue if p["customer_id"] is None)
    status, body = move_other = api(
        "POST",
        resource,
        f"/payments/{unknown['payment_id']}/allocations",
        body={"allocations": [{"invoice_id": inv("W-3"), "amount": "300.00"}]},
        role="collector",
    )
    assert status == 200 and body["payment"]["customer_id"] is not None, move_other
    queue = api("GET", "/payments/unapplied", query={"currency": "EUR"}, role="viewer")[1]["payments"]
    assert unknown["payment_id"] not in {p["payment_id"] for p in queue}


def test_the_worklist_reads_the_sweeps_ranking_fresh(api: Any, aws: Aws) -> None:
    from receivables.collections.dunning.sweep import snapshot
    from receivables.reporting.service import SNAPSHOT_PK
    from receivables.storage import store

    _, live = api("GET", "/worklist", role="viewer")
    assert live["ranked_on"] is None, "before the first sweep it is ranked now"
    today = aws.clock.now().date()
    body = snapshot(store.open_receivables_due_by(today), today)
    assert body["worklist"] == [inv("W-1"), inv("W-2"), inv("W-4")]
    assert body["currencies"]["USD"]["worklist"] == [inv("W-4")]
    store.put_document(SNAPSHOT_PK, body, 1, iso_timestamp(aws.clock.now()), None, sk=today.isoformat())

    # Paid since the ranking: read fresh, W-1 is no longer overdue and leaves the worklist.
    at = iso_timestamp(aws.clock.now())
    record_receipt(
        Receipt(
            "bank",
            "B-11",
            Money(50000, "EUR"),
            at,
            "bank_transfer",
            target_invoice_ids=(inv("W-1"),),
            on_account=True,
        ),
        aws.clock,
    )
    _, ranked = api("GET", "/worklist", role="viewer")
    assert ranked["ranked_on"] == today.isoformat()
    assert [w["number"] for w in ranked["worklist"]] == ["W-2", "W-4"]
    _, usd = api("GET", "/worklist", query={"currency": "USD", "limit": "1"}, role="viewer")
    assert [w["number"] for w in usd["worklist"]] == ["W-4"]


def test_finance_revokes_a_customers_links(api: Any) -> None:
    _, listed = api("GET", "/customers", role="viewer")
    acme = next(c for c in listed["customers"] if c["name"] == "Acme Logistics")
    assert acme["link_generation"] == 0
    path = f"/customers/{acme['customer_id']}/links/revoke"
    resource = "/customers/{customer_id}/links/revoke"
    status, body = api("POST", resource, path, body={"reason": "new AP clerk"}, role="collector")
    assert status == 200 and body["customer"]["link_generation"] == 1
    assert api("POST", resource, path, body={}, role="collector")[0] == 400
    assert api("POST", resource, path, body={"reason": "x"}, role="viewer")[0] == 403
    assert api("POST", resource, "/customers/cus_nobody/links/revoke", body={"reason": "x"})[0] == 404


def test_finance_resends_a_portal_link_to_a_known_contact(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wiring = function_module("finance_api", "routes.wiring")
    sent: list[tuple[str, str]] = []

    def send(customer: Any, to: str) -> str:
        sent.append((customer.name, to))
        return "m-1"

    monkeypatch.setattr(wiring, "link_sender", lambda: send)
    _, listed = api("GET", "/customers", role="viewer")
    acme = next(c for c in listed["customers"] if c["name"] == "Acme Logistics")
    path, resource = f"/customers/{acme['customer_id']}/links", "/customers/{customer_id}/links"
    status, body = api("POST", resource, path, body={}, role="collector")
    assert (
        status == 202
        and body["sent_to"] == "ap@acme.example"
        and sent == [("Acme Logistics", "ap@acme.example")]
    )
    status, body = api("POST", resource, path, body={"email": "ap@bolt.example"}, role="controller")
    assert status == 400 and body["errors"][0]["field"] == "email", "another customer's contact"
    assert api("POST", resource, path, body={}, role="viewer")[0] == 403
    assert len(sent) == 1
    _, one = api("GET", "/customers/{customer_id}", f"/customers/{acme['customer_id']}", role="viewer")
    assert one["customer"]["links_sent"] == 0 and one["customer"]["portal_last_used_at"] is None


def test_a_new_contact_address_becomes_a_known_contact(api: Any) -> None:
    from receivables.web.portal.service import known_contact

    _, listed = api("GET", "/customers", role="viewer")
    acme = next(c for c in listed["customers"] if c["name"] == "Acme Logistics")
    path, resource = f"/customers/{acme['customer_id']}/contact", "/customers/{customer_id}/contact"
    assert known_contact("payables@acme.example") is None
    status, body = api("PATCH", resource, path, body={"email": "Payables@Acme.example"}, role="controller")
    assert status == 200, body
    found = known_contact("payables@acme.example")
    assert found is not None and found.customer_id == acme["customer_id"]
    old = known_contact("ap@acme.example")
    assert old is not None and old.customer_id == acme["customer_id"], "the other contacts stay known"
    assert api("PATCH", resource, path, body={"email": "ap@bolt.example"}, role="controller")[0] == 409

    # The old address is removed: it can no longer ask for a link; the one on file cannot be.
    remove = f"/customers/{acme['customer_id']}/contacts/remove", "/customers/{customer_id}/contacts/remove"
    status, body = api("POST", remove[1], remove[0], body={"email": "AP@acme.example"}, role="collector")
    assert status == 200, body
    assert known_contact("ap@acme.example") is None
    assert api("POST", remove[1], remove[0], body={"email": "ap@acme.example"}, role="collector")[0] == 404
    on_file = api("POST", remove[1], remove[0], body={"email": "payables@acme.example"}, role="collector")
    assert on_file[0] == 409 and "on file" in on_file[1]["message"]
    assert api("POST", remove[1], remove[0], body={"email": "x@y.example"}, role="viewer")[0] == 403
    # Adding it back makes it known again.
    api("PATCH", resource, path, body={"email": "ap@acme.example"}, role="controller")
    again = known_contact("ap@acme.example")
    assert again is not None and again.customer_id == acme["customer_id"]


def test_a_vat_id_is_checked_for_its_country_and_finds_the_customer(api: Any) -> None:
    from receivables.ledger.model import PartyId
    from receivables.storage import store

    _, listed = api("GET", "/customers", role="viewer")
    acme = next(c for c in listed["customers"] if c["name"] == "Acme Logistics")
    bolt = next(c for c in listed["customers"] if c["customer_id"] != acme["customer_id"])
    resource = "/customers/{customer_id}/contact"

    def patch(customer: dict[str, Any], **body: Any) -> tuple[int, Any]:
        result: tuple[int, Any] = api(
            "PATCH", resource, f"/customers/{customer['customer_id']}/contact", body=body, role="controller"
        )
        return result

    mistyped = patch(acme, vat_id="DE 136 695 978", country="DE")
    saved = patch(acme, vat_id="de 136 695 976", country="DE")
    taken = patch(bolt, vat_id="DE136695976", country="DE")

    assert mistyped[0] == 400 and "check digits" in str(mistyped[1])
    assert saved[0] == 200, saved
    assert store.customers_by_identifier([PartyId("vat", "DE136695976")]) == {
        PartyId("vat", "DE136695976"): acme["customer_id"]
    }
    assert taken[0] == 409, "one VAT id, one customer"


def test_finance_sets_what_a_customers_ap_requires_and_how_invoices_reach_it(api: Any) -> None:
    _, listed = api("GET", "/customers", role="viewer")
    acme = listed["customers"][0]
    resource, path = "/customers/{customer_id}/contact", f"/customers/{acme['customer_id']}/contact"

    status, body = api(
        "PATCH",
        resource,
        path,
        body={"document_requirements": ["po_number"], "invoice_delivery": "email_einvoice"},
        role="controller",
    )
    wrong = api("PATCH", resource, path, body={"document_requirements": ["signature"]}, role="collector")

    assert status == 200, body
    customer = body["customer"]
    assert (customer["document_requirements"], customer["invoice_delivery"]) == (
        ["po_number"],
        "email_einvoice",
    )
    assert wrong[0] == 400 and "document_requirements" in str(wrong[1])


def test_a_customer_is_found_by_what_finance_knows_it_by(api: Any, aws: Aws) -> None:
    aws.drop("inbox/anonymous.csv", HEADER + "Z-1,2026-10-01,2026-10-31,EUR,ERP-77,,,40.00\n")
    _, by_erp = api("GET", "/invoices", query={"customer": "ACME"})
    assert sorted(i["number"] for i in by_erp["invoices"]) == ["W-1", "W-2"]
    acme = by_erp["invoices"][0]["customer_id"]
    _, by_id = api("GET", "/invoices", query={"customer": acme})
    assert sorted(i["number"] for i in by_id["invoices"]) == ["W-1", "W-2"]
    _, by_email = api("GET", "/payments", query={"customer": "AP@acme.example"})
    assert {p["customer_id"] for p in by_email["payments"]} == {acme}
    assert api("GET", "/deductions", query={"customer": "BOLT"})[0] == 200

    status, unknown = api("GET", "/invoices", query={"customer": "NOBODY"})
    assert status == 404 and "no customer is known as 'NOBODY'" in unknown["message"]
    assert api("GET", "/payments", query={"customer": "cus_000"})[0] == 404

    # Known only by its ERP reference: never anonymous.
    _, z = api("GET", "/invoices", query={"customer": "ERP-77"})
    (only,) = z["invoices"]
    _, shown = api("GET", "/customers/{customer_id}", f"/customers/{only['customer_id']}")
    assert shown["customer"]["name"] is None and shown["customer"]["display_name"] == "ERP-77"
    assert {"scheme": "erp", "value": "ERP-77"} in shown["customer"]["identifiers"]
    _, aging = api("GET", "/reports/aging", query={"currency": "EUR"}, role="viewer")
    names = {c["customer_name"] for c in aging["currencies"][0]["customers"]}
    assert {"Acme Logistics", "Bolt Parts"} <= names  # the aggregates' customers, named
