"""Segregation of duties and the finance API's bounded edges (issue 28's probe, kept alive).

Each test is named after what it prevents. Given the finance API function on moto, with two
customers' invoices ingested; when people of each role act; then no single collector can
redirect a customer's mail or earn a credit alone, and a malformed request is a 4xx naming it.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from receivables.customers import approvals
from receivables.disputes.deduction_rules import RemittanceLine
from receivables.kernel.access import Role, role_of
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import LARGEST_MAJOR, AmountLimits, Money, MoneyError
from receivables.kernel.validation import parse_json
from receivables.storage import store
from receivables.web.portal.service import known_contact
from receivables_local.functions import function_module, load_function
from tests.integration.test_deductions import bank, invoice, ledger  # noqa: F401 - the fixture
from tests.integration.test_finance_api import HEADER, ROWS, event, inv

if TYPE_CHECKING:
    from tests.integration.conftest import Aws


@pytest.fixture
def api(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call the finance API as ``who`` with ``role``: ``api("GET", resource, path, who=..., role=...)``."""
    aws.drop("inbox/w.csv", HEADER + ROWS)
    load_function("aggregates").handle({"Records": aws.stream().read()})
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))

    def call(
        method: str,
        resource: str,
        path: str | None = None,
        *,
        who: str = "u-9",
        raw: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        request = event(method, resource, path or resource, **kwargs)
        request["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = who
        if raw is not None:
            request["body"] = raw
        response = module.app(request, None)
        return response["statusCode"], json.loads(response["body"])

    return call


def customer_id(api: Any, name: str) -> str:
    _, listed = api("GET", "/customers", role="viewer")
    return str(next(c["customer_id"] for c in listed["customers"] if c["name"] == name))


# --- D1: the AP address -----------------------------------------------------------------------
def test_a_collector_cannot_redirect_a_customers_mail_alone(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    contact = ("/customers/{customer_id}/contact", f"/customers/{acme}/contact")
    links = ("/customers/{customer_id}/links", f"/customers/{acme}/links")

    status, proposed = api(
        "PATCH", *contact, body={"email": "evil@attacker.example"}, who="col-1", role="collector"
    )

    assert status == 202 and proposed["approval"]["status"] == "pending"
    assert proposed["customer"]["email"] == "ap@acme.example", "nothing changed yet"
    assert known_contact("evil@attacker.example") is None
    sent = api("POST", *links, body={"email": "evil@attacker.example"}, who="col-1", role="collector")
    assert sent[0] == 400, "no link can be mailed to an address a controller has not approved"

    approval_id = proposed["approval"]["approval_id"]
    decide = ("/approvals/{approval_id}/reject", f"/approvals/{approval_id}/reject")
    assert api("POST", *decide, body={"reason": "x"}, who="col-1", role="collector")[0] == 403
    _, waiting = api("GET", "/approvals", role="viewer")
    assert [a["approval_id"] for a in waiting["approvals"]] == [approval_id]
    status, rejected = api("POST", *decide, body={"reason": "the customer never asked"}, who="ctl-1")
    assert status == 200 and rejected["approval"]["status"] == "rejected"
    assert store.get_customer(acme).email == "ap@acme.example"  # type: ignore[union-attr]
    assert api("GET", "/approvals", role="viewer")[1]["approvals"] == []


def test_maker_and_checker_of_a_contact_change_are_two_people(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    contact = ("/customers/{customer_id}/contact", f"/customers/{acme}/contact")
    body = {"email": "payables@acme.example", "language": "fr"}
    _, first = api("PATCH", *contact, body=body, who="col-1", role="collector")
    _, again = api("PATCH", *contact, body=body, who="col-1", role="collector")
    approval_id = first["approval"]["approval_id"]
    assert again["approval"]["approval_id"] == approval_id, "a retried proposal is the same proposal"
    approve = ("/approvals/{approval_id}/approve", f"/approvals/{approval_id}/approve")

    self_approved = api("POST", *approve, body={}, who="col-1", role="controller")
    approved = api("POST", *approve, body={"note": "called back on the number on file"}, who="ctl-2")
    twice = api("POST", *approve, body={}, who="ctl-3")

    assert self_approved[0] == 403, "the maker is not the checker, whatever their role"
    assert approved[0] == 200 and approved[1]["approval"]["decided_by"] == "ctl-2"
    assert twice[0] == 409
    customer = store.get_customer(acme)
    assert customer is not None and (customer.email, customer.language) == ("payables@acme.example", "fr")
    found = known_contact("payables@acme.example")
    assert found is not None and found.customer_id == acme
    changed = store.audit_events(store.customer_pk(acme))[-1]
    assert changed.type == "ContactChanged" and changed.data["approval"]["proposed_by"] == "col-1"
    _, one = api("GET", "/approvals/{approval_id}", f"/approvals/{approval_id}", role="viewer")
    assert [h["type"] for h in one["history"]] == ["ChangeProposed", "ChangeApproved"]


def test_four_eyes_makes_even_a_controllers_change_a_proposal(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    _, current = api("GET", "/approvals/policy", role="viewer")
    policy = {
        **current["policy"],
        "modes": {
            "contact_change": "four_eyes",
            "terms_change": "controller",
            "purchase_order": "controller",
        },
    }
    bad = api("PUT", "/approvals/policy", body={"version": 0, "policy": {"modes": {"contact_change": "x"}}})
    saved = api(
        "PUT", "/approvals/policy", body={"version": current["version"], "policy": policy}, who="ctl-1"
    )
    by_collector = api("PUT", "/approvals/policy", body={"version": 1, "policy": policy}, role="collector")
    status, body = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{acme}/contact",
        body={"name": "Acme Ltd"},
        who="ctl-1",
    )

    assert bad[0] == 400 and {e["field"] for e in bad[1]["errors"]} == {
        "policy.modes.contact_change",
        "policy.modes.terms_change",
        "policy.modes.purchase_order",
    }
    assert saved[0] == 200 and by_collector[0] == 403
    assert status == 202 and body["approval"]["summary"] == "name: 'Acme Logistics' -> 'Acme Ltd'"


def test_a_language_change_needs_no_second_person(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    status, body = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{acme}/contact",
        body={"language": "de"},
        role="collector",
    )
    assert status == 200 and body["customer"]["language"] == "de"


# --- D2: credits a collector could manufacture ----------------------------------------------------
def test_a_collector_cannot_file_a_price_list_alone(api: Any) -> None:
    from receivables.disputes.evidence import load_terms

    acme = customer_id(api, "Acme Logistics")
    terms = ("/customers/{customer_id}/terms", f"/customers/{acme}/terms")
    status, body = api(
        "PUT", *terms, body={"price_list": {"Pallet wrap": "0.01"}}, who="col-1", role="collector"
    )

    assert status == 202 and load_terms(acme).price_list == {}
    approval_id = body["approval"]["approval_id"]
    approve = ("/approvals/{approval_id}/approve", f"/approvals/{approval_id}/approve")
    assert api("POST", *approve, body={}, who="ctl-1")[0] == 200
    assert load_terms(acme).price_list == {"pallet wrap": Decimal("0.01")}


def test_a_large_pricing_credit_waits_for_a_controllers_decision(ledger: Aws) -> None:  # noqa: F811
    from receivables.disputes import evidence
    from receivables.payments.allocation import record_receipt

    policy = approvals.policy_from_json(
        {"modes": dict.fromkeys(approvals.ACTIONS, "controller"), "auto_credit": {"EUR": "20.00"}}
    )
    approvals.save_policy(policy, 0, "ctl-1", ledger.clock)
    customer = invoice("D-2").customer_id
    evidence.save_terms(customer, {"price_list": {"Pallet wrap": "9.50"}}, "finance:ann", ledger.clock)

    outcome = record_receipt(bank("tx-4", "920.00", "D-2 price difference 80.00"), ledger.clock)

    (taken,) = outcome.deductions
    assert [(p["amount"], p["validity"]) for p in taken["parts"]] == [("50.00", "open"), ("30.00", "invalid")]
    assert "above the 20.00 EUR credited without a controller" in taken["parts"][0]["check"]
    assert invoice("D-2").credited.is_zero(), "no credit note until a controller decides"


# --- D3: enrolment links ------------------------------------------------------------------------
def test_an_invitation_goes_only_to_a_known_contact(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    status, body = api(
        "POST",
        "/enrolments",
        body={"customers": [{"customer_id": acme, "email": "evil@x.example"}]},
        role="collector",
    )
    assert status == 400 and body["errors"][0]["field"] == "customers[0].email"


def test_an_enrolment_link_dies_with_links_revoke(aws: Aws) -> None:
    from receivables.collections.finance import revoke_links
    from receivables.customers.enrolment import from_link, invite, token_for
    from receivables.customers.links import LinkError

    aws.drop("inbox/w.csv", HEADER + ROWS)
    customer = store.get_customer(store.get_invoice(inv("W-1")).customer_id)  # type: ignore[union-attr]
    assert customer is not None
    key = b"k" * 32
    enrolment, _ = invite(customer, None, "en", "finance:col-1", aws.clock, lambda e: "m-1")
    token = token_for(enrolment, key)
    assert from_link(token, key, aws.clock).enrolment_id == enrolment.enrolment_id

    revoke_links(customer.customer_id, "laptop stolen", "finance:ctl-1", aws.clock)

    with pytest.raises(LinkError) as refused:
        from_link(token, key, aws.clock)
    assert refused.value.reason == "revoked"


# --- D5, D16: amounts ---------------------------------------------------------------------------
def test_a_huge_amount_is_refused_never_rounded() -> None:
    with pytest.raises(MoneyError, match="out of range"):
        Money.parse("9" * 38, "EUR")
    with pytest.raises(MoneyError):
        Money.parse(str(LARGEST_MAJOR), "JPY")
    assert Money.parse("999999999999999.99", "EUR").minor == 99999999999999999
    limits = AmountLimits.parse("EUR=1000000, *=50")
    assert limits.check(Money.parse("1000000.00", "EUR")).minor == 100000000
    with pytest.raises(MoneyError, match=r"largest amount taken, 50\.00 USD"):
        limits.check(Money.parse("50.01", "USD"))


def test_json_numbers_in_money_fields_are_exact_not_floats(api: Any) -> None:
    assert parse_json(b'{"a": 12345678901234567.89}') == {"a": Decimal("12345678901234567.89")}
    acme = customer_id(api, "Acme Logistics")
    limit = ("/customers/{customer_id}/credit-limit", f"/customers/{acme}/credit-limit")
    status, body = api("PUT", *limit, raw='{"limit": 123456789.01, "currency": "EUR"}')
    too_big = api("PUT", *limit, raw='{"limit": 1e29, "currency": "EUR"}')
    assert status == 200 and body["customer"]["credit_limit"] == "123456789.01"
    assert too_big[0] == 400 and too_big[1]["errors"][0]["field"] == "limit"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"reason": "a", "reason": "b"}', "twice"),
        ("[" * 5000 + "]" * 5000, "deeper"),
        ('{"amount": NaN}', "not valid JSON"),
        ('{"amount": Infinity}', "not valid JSON"),
        ("{nope", "not valid JSON"),
    ],
    ids=["duplicate-key", "deep-nesting", "nan", "infinity", "broken"],
)
def test_a_malformed_body_is_a_400_naming_it(api: Any, raw: str, why: str) -> None:
    status, body = api("POST", "/invoices/{invoice_id}/void", f"/invoices/{inv('W-3')}/void", raw=raw)
    assert status == 400 and body["errors"][0]["field"] == "body" and why in body["errors"][0]["reason"]
    with pytest.raises(InvalidRequestError):
        parse_json(raw)


# --- D12, D14, D23, D24 -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cursor",
    [
        {"pk": {"N": "1"}},
        {
            "month": "2026-11",
            "key": {"pk": {"S": "INV#x"}, "sk": {"S": "HEAD"}, "gsi3pk": {"S": "X"}, "gsi3sk": {"S": "Y"}},
        },
        {"zz": 1},
        [1, 2],
        "not base64 !!",
    ],
    ids=["wrong-type", "foreign-partition", "unknown-key", "array", "garbage"],
)
def test_a_crafted_cursor_is_a_400_not_a_500(api: Any, cursor: Any) -> None:
    text = (
        cursor if isinstance(cursor, str) else base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
    )
    for resource in ("/customers", "/invoices", "/payments"):
        status, body = api("GET", resource, query={"cursor": text}, role="viewer")
        assert status == 400 and body["errors"][0]["field"] == "cursor", (resource, body)


def test_voiding_a_void_invoice_is_refused(api: Any) -> None:
    void = ("/invoices/{invoice_id}/void", f"/invoices/{inv('W-3')}/void")
    assert api("POST", *void, body={"reason": "duplicate"})[0] == 200
    again = api("POST", *void, body={"reason": "duplicate"})
    assert again[0] == 409 and "already void" in again[1]["message"]
    voided = [e for e in store.invoice_events(inv("W-3")) if e.type == "InvoiceVoided"]
    assert len(voided) == 1


def test_role_names_match_exactly() -> None:
    def claims(groups: str) -> dict[str, Any]:
        return {"authorizer": {"jwt": {"claims": {"sub": "u", "cognito:groups": groups}}}}

    assert role_of(claims("[Controller]"))[1] is None
    assert role_of(claims("[CONTROLLER collector]"))[1] is Role.COLLECTOR
    assert role_of(claims("[controller]"))[1] is Role.CONTROLLER


def test_an_invoice_of_another_seller_is_found_by_its_number(api: Any, aws: Aws) -> None:
    aws.drop(
        "inbox/entity-2.csv",
        "seller_id,invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
        "de-gmbh,W-1,2026-10-01,2026-10-31,EUR,ACME,Acme Logistics,ap@acme.example,77.00\n",
    )
    load_function("aggregates").handle({"Records": aws.stream().read()})

    _, both = api("GET", "/invoices", query={"number": "W-1"}, role="viewer")
    _, one = api("GET", "/invoices", query={"number": "W-1", "seller": "de-gmbh"}, role="viewer")

    assert sorted(i["total"] for i in both["invoices"]) == ["1000.00", "77.00"]
    assert [i["total"] for i in one["invoices"]] == ["77.00"]


def test_the_customer_aging_counts_what_is_disputed(api: Any, aws: Aws) -> None:
    acme = customer_id(api, "Acme Logistics")
    dispute = ("/invoices/{invoice_id}/disputes", f"/invoices/{inv('W-2')}/disputes")
    status, body = api(
        "POST", *dispute, body={"reason": "pricing", "comment": "wrong price"}, role="collector"
    )
    assert status in (201, 202), body
    load_function("aggregates").handle({"Records": aws.stream().read()})

    _, report = api("GET", "/reports/aging", query={"currency": "EUR"}, role="viewer")

    (eur,) = report["currencies"]
    mine = next(c for c in eur["customers"] if c["customer_id"] == acme)
    assert (mine["disputed"], mine["disputed_invoices"]) == ("200.00", 1)


def test_a_listing_period_is_bounded_not_a_query_a_month_since_year_one(api: Any) -> None:
    ancient = api("GET", "/invoices", query={"issued_from": "0001-01-01"}, role="viewer")
    decades = api(
        "GET", "/payments", query={"received_from": "2000-01-01", "received_to": "2026-11-01"}, role="viewer"
    )
    reversed_ = api(
        "GET", "/invoices", query={"issued_from": "2026-11-01", "issued_to": "2026-01-01"}, role="viewer"
    )
    assert ancient[0] == 400 and ancient[1]["errors"][0]["field"] == "issued_from"
    assert decades[0] == 400 and decades[1]["errors"][0]["field"] == "received_from"
    assert reversed_[0] == 400


def test_an_exponent_beyond_decimals_range_is_a_400_on_every_money_field(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    huge = "1e999999999"
    w2 = inv("W-2")
    probes = [
        ("POST", "/payments", "/payments", {"amount": huge, "currency": "EUR", "customer_id": acme}),
        (
            "POST",
            "/payments",
            "/payments",
            {
                "amount": "100.00",
                "currency": "EUR",
                "external_id": "tx-huge",
                "invoices": ["W-2"],
                "deductions": [{"invoice": "W-2", "amount": huge, "code": "pricing"}],
            },
        ),
        (
            "POST",
            "/invoices/{invoice_id}/promise",
            f"/invoices/{w2}/promise",
            {"date": "2026-11-20", "amount": huge},
        ),
        (
            "POST",
            "/invoices/{invoice_id}/disputes",
            f"/invoices/{w2}/disputes",
            {"reason": "pricing", "amount": huge},
        ),
        (
            "PUT",
            "/customers/{customer_id}/credit-limit",
            f"/customers/{acme}/credit-limit",
            {"limit": huge, "currency": "EUR"},
        ),
        (
            "PUT",
            "/customers/{customer_id}/open-orders",
            f"/customers/{acme}/open-orders",
            {"amount": huge, "currency": "EUR"},
        ),
        (
            "PATCH",
            "/customers/{customer_id}/contact",
            f"/customers/{acme}/contact",
            {"standing_po": {"number": "PO-1", "amount": huge, "valid_until": "2027-01-01"}},
        ),
        ("POST", "/credit/check", "/credit/check", {"customer_id": acme, "amount": huge, "currency": "EUR"}),
        ("PUT", "/customers/{customer_id}/terms", f"/customers/{acme}/terms", {"price_list": {"Wrap": huge}}),
    ]
    answers = [(path, api(method, resource, path, body=body)) for method, resource, path, body in probes]
    assert [(path, status) for path, (status, _) in answers if status != 400] == []


def test_a_collector_cannot_file_a_purchase_order_alone(api: Any) -> None:
    from receivables.disputes.evidence import load_purchase_order

    acme = customer_id(api, "Acme Logistics")
    po = ("/customers/{customer_id}/purchase-orders/{number}", f"/customers/{acme}/purchase-orders/PO-777")
    order = {
        "currency": "EUR",
        "lines": [{"description": "Pallet wrap", "quantity": "100", "unit_price": "7.50"}],
    }

    status, body = api("PUT", *po, body=order, who="col-1", role="collector")

    assert status == 202 and load_purchase_order(acme, "PO-777") is None, "its prices would credit deductions"
    assert "Pallet wrap 100 x 7.50" in body["approval"]["summary"]
    approve = (f"/approvals/{body['approval']['approval_id']}/approve",) * 2
    assert api("POST", "/approvals/{approval_id}/approve", approve[1], body={}, who="ctl-1")[0] == 200
    filed = load_purchase_order(acme, "PO-777")
    assert filed is not None and filed.lines[0].unit_price == Decimal("7.50")


def test_a_payment_above_finances_ceiling_is_refused_naming_the_amount(
    api: Any, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    limited = replace(aws.settings, amount_limits=AmountLimits.parse("EUR=5000"))
    monkeypatch.setattr(
        function_module("finance_api", "routes.wiring"), "context", lambda: (limited, aws.clock)
    )
    body = {"amount": "900000000.00", "currency": "EUR", "method": "bank_transfer", "external_id": "tx-big"}
    status, answer = api("POST", "/payments", body={**body, "received_at": "2026-11-01"}, role="collector")
    assert status == 400 and answer["errors"][0]["field"] == "amount"
    assert "5000.00 EUR" in answer["errors"][0]["reason"]


def test_a_proposal_says_everything_it_would_change(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    body = {"email": "pay@acme.example", "account_owner": "ann@seller.example"}
    _, proposed = api(
        "PATCH", "/customers/{customer_id}/contact", f"/customers/{acme}/contact", body=body, role="collector"
    )
    assert "account_owner: None -> 'ann@seller.example'" in proposed["approval"]["summary"]


def test_a_po_number_given_to_an_invoice_afterwards_earns_no_credit_alone(ledger: Aws) -> None:  # noqa: F811
    from receivables.customers.requirements import provide_po_number
    from receivables.disputes import evidence
    from receivables.payments.allocation import Receipt, record_receipt

    customer = invoice("D-2").customer_id
    order = {
        "currency": "EUR",
        "lines": [{"description": "Pallet wrap", "quantity": "100", "unit_price": "9.50"}],
    }
    evidence.save_purchase_order(customer, "PO-OLD", order, "finance:ctl-1", ledger.clock)  # another order's
    provide_po_number(invoice("D-2").invoice_id, "PO-OLD", "finance:col-1", ledger.clock)

    outcome = record_receipt(
        Receipt(
            "bank",
            "tx-po",
            Money.parse("950.00", "EUR"),
            "2026-11-02T09:00:00.000Z",
            "bank_transfer",
            reference="D-2",
            deductions=(RemittanceLine("D-2", Money.parse("50.00", "EUR"), "pricing", ""),),
        ),
        ledger.clock,
    )

    (taken,) = outcome.deductions
    assert [p["validity"] for p in taken["parts"]] == ["open"], "for the owner to decide"
    assert invoice("D-2").credited.is_zero()


def test_a_collectors_standing_po_is_a_proposal(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    body = {"standing_po": {"number": "PO-OLD", "amount": "5000.00", "valid_until": "2027-12-31"}}
    status, proposed = api(
        "PATCH", "/customers/{customer_id}/contact", f"/customers/{acme}/contact", body=body, role="collector"
    )
    assert status == 202 and proposed["customer"]["standing_po"] is None


def test_a_bad_proposal_is_refused_when_proposed_not_when_approved(api: Any) -> None:
    acme = customer_id(api, "Acme Logistics")
    contact = ("/customers/{customer_id}/contact", f"/customers/{acme}/contact")
    vat = api("PATCH", *contact, body={"vat_id": "DE 136 695 978", "country": "DE"}, role="collector")
    po = api("PATCH", *contact, body={"standing_po": {"number": "X", "amount": "1.001"}}, role="collector")
    assert vat[0] == 400 and "check digits" in str(vat[1])
    assert po[0] == 400 and {e["field"] for e in po[1]["errors"]} == {
        "standing_po.amount",
        "standing_po.valid_until",
    }
    assert api("GET", "/approvals", role="viewer")[1]["approvals"] == []


def test_a_proposal_that_can_no_longer_apply_fails_visibly_and_changes_nothing(api: Any) -> None:
    acme, bolt = customer_id(api, "Acme Logistics"), customer_id(api, "Bolt Parts")
    _, proposed = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{acme}/contact",
        body={"email": "shared@x.example"},
        who="col-1",
        role="collector",
    )
    # Meanwhile a controller gives that address to another customer
    status, _ = api(
        "PATCH",
        "/customers/{customer_id}/contact",
        f"/customers/{bolt}/contact",
        body={"email": "shared@x.example"},
        who="ctl-1",
    )
    assert status == 200
    approval_id = proposed["approval"]["approval_id"]

    status, answer = api(
        "POST", "/approvals/{approval_id}/approve", f"/approvals/{approval_id}/approve", body={}, who="ctl-2"
    )

    assert status == 409 and "another customer" in answer["message"]
    _, one = api("GET", "/approvals/{approval_id}", f"/approvals/{approval_id}", role="viewer")
    assert one["approval"]["status"] == "failed"
    assert [h["type"] for h in one["history"]] == ["ChangeProposed", "ChangeApproved", "ChangeFailed"]
    assert store.get_customer(acme).email == "ap@acme.example"  # type: ignore[union-attr]
