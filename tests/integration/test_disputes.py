"""Disputes against the ledger on moto: opened once, analysed, settled without a person where the
facts allow, otherwise decided by finance and applied."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.disputes import deciding, opening, service, workflow
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.disputes import Reason, Source, Status
from receivables.ledger.model import CreditNote, DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.payments.allocation import Receipt, payment_id_for, record_receipt
from receivables.storage import store

if TYPE_CHECKING:
    from tests.integration.conftest import Aws


def line(description: str, quantity: str, price: str, amount: str) -> dict[str, str]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": price,
        "amount": amount,
        "tax_percent": "20",
    }


WRAP = [line("Pallet wrap", "10", "12.50", "125.00"), line("Freight", "1", "80.00", "80.00")]


def invoice(
    number: str, ref: str, issued: str, lines: list[dict[str, str]], total: str, tax: str
) -> dict[str, object]:
    return {
        "number": number,
        "issue_date": issued,
        "due_date": "2026-11-30",
        "currency": "EUR",
        "customer": {"ref": ref, "name": f"{ref} Ltd", "email": f"ap@{ref.lower()}.example"},
        "po_number": "PO-77",
        "lines": lines,
        "tax": tax,
        "total": total,
    }


LEDGER = json.dumps(
    {
        "invoices": [
            invoice("D-1", "C1", "2026-10-01", WRAP, "246.00", "41.00"),
            invoice("D-2", "C1", "2026-10-03", WRAP, "246.00", "41.00"),  # the same, billed again
            invoice(
                "D-3", "C2", "2026-10-05", [line("Consulting", "8", "125.00", "1000.00")], "1200.00", "200.00"
            ),
            invoice(
                "D-5",
                "C5",
                "2026-10-07",
                [line("Annual licence", "1", "500.00", "500.00")],
                "600.00",
                "100.00",
            ),
        ]
    }
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/disputes.json", LEDGER)
    return aws


def test_a_duplicate_is_voided_without_a_person(ledger: Aws) -> None:
    opened, created = opening.open_dispute_on(
        inv("D-2"), Source.CUSTOMER, Reason.BILLED_TWICE, "customer", ledger.clock
    )
    again, created_again = opening.open_dispute_on(
        inv("D-2"), Source.CUSTOMER, Reason.BILLED_TWICE, "customer", ledger.clock
    )

    assert created and not created_again and again.dispute_id == opened.dispute_id
    disputed = store.get_invoice(inv("D-2"))
    assert disputed is not None and disputed.status is InvoiceStatus.DISPUTED  # dunning pauses

    analysed = workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    settled = workflow.settle_dispute(opened.dispute_id, ledger.clock)
    retried = workflow.settle_dispute(opened.dispute_id, ledger.clock)

    assert analysed["proposal"] == "void_duplicate"
    assert settled == {"dispute_id": opened.dispute_id, "settled": True, "action": "void_duplicate"}
    assert retried["settled"] is True
    duplicate, original = store.get_invoice(inv("D-2")), store.get_invoice(inv("D-1"))
    assert duplicate is not None and duplicate.status is InvoiceStatus.VOID and duplicate.balance.is_zero()
    assert (
        original is not None
        and original.status is InvoiceStatus.OPEN
        and original.balance == Money(24600, "EUR")
    )
    dispute = store.get_dispute(opened.dispute_id)
    assert dispute is not None and dispute.status is Status.SETTLED
    assert [f.rule for f in dispute.findings if f.confirmed] == ["billed_twice"]
    history = [e["type"] for e in service.dispute_view(dispute)["history"]]
    assert history == ["DisputeOpened", "DisputeAnalysed", "DisputeResolved"]
    assert store.open_disputes() == []


def test_finance_accepts_with_a_partial_credit_through_the_task_token(ledger: Aws) -> None:
    opened, _ = opening.open_dispute_on(
        inv("D-3"),
        Source.FINANCE,
        Reason.QUALITY,
        "finance:ana",
        ledger.clock,
        comment="two days were not delivered",
    )
    assert workflow.analyse_dispute(opened.dispute_id, ledger.clock)["proposal"] is None  # 1,200.00: too much
    assert workflow.settle_dispute(opened.dispute_id, ledger.clock)["settled"] is False
    workflow.await_finance(opened.dispute_id, "token-1", ledger.clock)
    assert [d.dispute_id for d in store.open_disputes()] == [opened.dispute_id]
    with pytest.raises(InvalidRequestError) as bad:
        deciding.decide(
            opened.dispute_id, {"decision": "accept", "credit": "5000.00"}, "finance:ana", ledger.clock
        )
    assert [e.field for e in bad.value.errors] == ["credit"]

    decided, token = deciding.decide(
        opened.dispute_id, {"decision": "accept", "credit": "300.00"}, "finance:ana", ledger.clock
    )
    with pytest.raises(service.DisputeError):  # the token is spent: a second decision is refused
        deciding.decide(
            opened.dispute_id, {"decision": "reject", "reason": "no"}, "finance:bob", ledger.clock
        )
    applied = deciding.apply_decision(opened.dispute_id, ledger.clock)
    deciding.apply_decision(opened.dispute_id, ledger.clock)  # a retried task changes nothing

    assert token == "token-1" and decided.task_token is None and applied["status"] == "accepted"
    changed = store.get_invoice(inv("D-3"))
    assert (
        changed is not None
        and changed.status is InvoiceStatus.OPEN
        and changed.balance == Money(90000, "EUR")
    )
    assert changed.credited == Money(30000, "EUR")
    notes = [d for d in store.customer_documents(changed.customer_id) if isinstance(d, CreditNote)]
    assert len(notes) == 1 and notes[0].applied == Money(30000, "EUR")
    assert notes[0].number.startswith("CN-D-3-")


def test_a_rejection_needs_a_reason_and_puts_the_invoice_back_into_dunning(ledger: Aws) -> None:
    opened, _ = opening.open_dispute_on(inv("D-3"), Source.CUSTOMER, Reason.PRICING, "customer", ledger.clock)
    workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    workflow.await_finance(opened.dispute_id, "token-2", ledger.clock)
    with pytest.raises(InvalidRequestError):
        deciding.decide(opened.dispute_id, {"decision": "reject"}, "finance:ana", ledger.clock)

    deciding.decide(
        opened.dispute_id,
        {"decision": "reject", "reason": "the rate is the contract's"},
        "finance:ana",
        ledger.clock,
    )
    deciding.apply_decision(opened.dispute_id, ledger.clock)

    changed = store.get_invoice(inv("D-3"))
    assert (
        changed is not None
        and changed.status is InvoiceStatus.OPEN
        and changed.balance == Money(120000, "EUR")
    )
    second, created = opening.open_dispute_on(
        inv("D-3"), Source.CUSTOMER, Reason.OTHER, "customer", ledger.clock
    )
    assert created and second.dispute_id != opened.dispute_id, "a new dispute once the last one ended"
    assert service.reasons_by_customer(changed.customer_id) == {"other": 1, "pricing": 1}


def test_a_reissue_voids_the_invoice_and_issues_the_corrected_one(ledger: Aws) -> None:
    opened, _ = opening.open_dispute_on(inv("D-3"), Source.CUSTOMER, Reason.PRICING, "customer", ledger.clock)
    workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    workflow.await_finance(opened.dispute_id, "token-3", ledger.clock)
    deciding.decide(
        opened.dispute_id, {"decision": "reissue", "corrected_total": "1080.00"}, "finance:ana", ledger.clock
    )
    deciding.apply_decision(opened.dispute_id, ledger.clock)

    old, new = store.get_invoice(inv("D-3")), store.get_invoice(inv("D-3-R1"))
    assert old is not None and old.status is InvoiceStatus.VOID
    assert new is not None and new.status is InvoiceStatus.OPEN and new.balance == Money(108000, "EUR")


def test_a_small_overbilling_against_the_po_on_file_is_credited(ledger: Aws) -> None:
    original = store.get_invoice(inv("D-1"))
    assert original is not None
    po = {
        "currency": "EUR",
        "lines": [{"description": "pallet wrap", "quantity": "10", "unit_price": "12.00"}],
    }
    store.put_document(
        store.purchase_order_pk(original.customer_id, "PO-77"), po, 1, "2026-10-01T00:00:00Z", None
    )
    store.put_document(
        f"TERMS#{original.customer_id}", {"requires_po": True}, 1, "2026-10-01T00:00:00Z", None
    )

    opened, _ = opening.open_dispute_on(inv("D-1"), Source.CUSTOMER, Reason.PRICING, "customer", ledger.clock)
    # D-2 repeats D-1, but D-1 is the original: the dispute of D-1 is about its price.
    workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    result = workflow.settle_dispute(opened.dispute_id, ledger.clock)

    dispute = store.get_dispute(opened.dispute_id)
    assert dispute is not None
    findings = {f.rule: f for f in dispute.findings}
    assert findings["price_or_quantity"].facts["overbilled"] == "6.00"  # 0.50 x 10, plus 20% tax
    assert not findings["purchase_order"].confirmed  # PO-77 is on file
    assert result == {"dispute_id": opened.dispute_id, "settled": True, "action": "credit"}
    credited = store.get_invoice(inv("D-1"))
    assert credited is not None and credited.balance == Money(24000, "EUR")
    assert credited.status is InvoiceStatus.OPEN
    twin = store.get_invoice(inv("D-2"))
    assert twin is not None and twin.status is InvoiceStatus.OPEN, "voiding D-2 answers no price dispute"


def test_finance_files_terms_and_a_po_through_the_api_and_the_analysis_reads_them(
    ledger: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from receivables_local.functions import function_module, load_function
    from tests.integration.test_credit_and_manual_payments import route_event

    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (ledger.settings, ledger.clock))

    def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = module.app(event, None)
        return response["statusCode"], json.loads(response["body"])

    original = store.get_invoice(inv("D-1"))
    assert original is not None
    customer = original.customer_id
    terms_path, po_path = f"/customers/{customer}/terms", f"/customers/{customer}/purchase-orders/PO-77"
    terms = route_event(
        "PUT",
        "/customers/{customer_id}/terms",
        terms_path,
        {"requires_po": True, "price_list": {"Pallet  Wrap": "12.00"}},
        groups="[controller]",
        params={"customer_id": customer},
    )
    bad_po = route_event(
        "PUT",
        "/customers/{customer_id}/purchase-orders/{number}",
        po_path,
        {"currency": "EURO", "lines": [{"description": "Pallet wrap", "quantity": "-1", "unit_price": "x"}]},
        groups="[collector]",
        params={"customer_id": customer, "number": "PO-77"},
    )
    viewer = route_event(
        "PUT",
        "/customers/{customer_id}/terms",
        terms_path,
        {"requires_po": False},
        groups="[viewer]",
        params={"customer_id": customer},
    )

    status, body = call(terms)
    bad_status, bad = call(bad_po)
    viewer_status, _ = call(viewer)

    assert status == 200 and body["terms"] == {"requires_po": True, "price_list": {"pallet wrap": "12.00"}}
    assert bad_status == 400 and [e["field"] for e in bad["errors"]] == ["currency", "lines[0]"]
    assert viewer_status == 403
    found = workflow.gather_facts(original)
    assert found.terms.requires_po and found.purchase_order is None  # PO-77 was refused, so not on file
    from receivables.disputes.analysis import analyse

    findings = {f.rule: f for f in analyse(found)}
    assert (
        findings["purchase_order"].confirmed and findings["price_or_quantity"].facts["overbilled"] == "6.00"
    )


def test_an_unapplied_payment_that_covers_the_invoice_is_applied(ledger: Aws) -> None:
    from receivables.ledger.model import AuditEvent, Payment

    invoice = store.get_invoice(inv("D-3"))
    assert invoice is not None
    payment = Payment(
        "pay_waiting",
        invoice.customer_id,
        Money(120000, "EUR"),
        "2026-10-30",
        "bank_transfer",
        "wire 4471",
        Money(120000, "EUR"),
        Money.zero("EUR"),
        version=1,
    )
    store.create_all(
        [
            store.Creation.payment(
                payment, AuditEvent("pay_waiting", 1, "PaymentReceived", "2026-10-30T00:00:00Z", "test", {})
            )
        ]
    )

    opened, _ = opening.open_dispute_on(
        inv("D-3"), Source.CUSTOMER, Reason.ALREADY_PAID, "customer", ledger.clock
    )
    assert workflow.analyse_dispute(opened.dispute_id, ledger.clock)["proposal"] == "apply_payment"
    settled = workflow.settle_dispute(opened.dispute_id, ledger.clock)

    assert settled["action"] == "apply_payment"
    paid, applied = store.get_invoice(inv("D-3")), store.get_payment("pay_waiting")
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.balance.is_zero()
    assert applied is not None and applied.unapplied.is_zero()


def test_a_po_number_given_afterwards_never_makes_a_second_order_a_duplicate(aws: Aws) -> None:
    # Given E-1 with its PO from the ERP and E-2, the same order two days later, without one
    e1 = invoice("E-1", "C7", "2026-10-01", WRAP, "246.00", "41.00")
    e2 = {**invoice("E-2", "C7", "2026-10-03", WRAP, "246.00", "41.00"), "po_number": None}
    aws.drop("inbox/orders.json", json.dumps({"invoices": [e1, e2]}))
    from receivables.customers.requirements import provide_po_number

    # When E-2 is given E-1's PO number afterwards (the portal, a collector) and disputed as billed twice
    provide_po_number(inv("E-2"), "PO-77", "customer:portal", aws.clock)
    opened, _ = opening.open_dispute_on(
        inv("E-2"), Source.CUSTOMER, Reason.BILLED_TWICE, "customer", aws.clock
    )
    analysed = workflow.analyse_dispute(opened.dispute_id, aws.clock)

    # Then nothing is voided without a person
    assert analysed["proposal"] is None
    second = store.get_invoice(inv("E-2"))
    assert second is not None and second.status is not InvoiceStatus.VOID


def test_an_invoice_paid_in_full_ends_its_dispute_and_the_waiting_workflow_moves_on(ledger: Aws) -> None:
    opened, _ = opening.open_dispute_on(
        inv("D-3"), Source.CUSTOMER, Reason.QUALITY, "customer", ledger.clock, comment="late delivery"
    )
    workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    workflow.await_finance(opened.dispute_id, "token-9", ledger.clock)
    assert workflow.dispute_status(opened.dispute_id)["final"] is False

    part = Receipt(
        "bank",
        "BANK-D3-1",
        Money(50000, "EUR"),
        "2026-11-02T08:00:00.000Z",
        "bank_transfer",
        target_invoice_ids=(inv("D-3"),),
    )
    record_receipt(part, ledger.clock)
    waiting = store.get_dispute(opened.dispute_id)
    assert waiting is not None and waiting.status is Status.AWAITING_FINANCE  # part paid: still contested

    rest = Receipt(
        "bank",
        "BANK-D3-2",
        Money(70000, "EUR"),
        "2026-11-02T08:30:00.000Z",
        "bank_transfer",
        target_invoice_ids=(inv("D-3"),),
    )
    record_receipt(rest, ledger.clock)
    record_receipt(rest, ledger.clock)  # delivered twice: ended once

    paid = store.get_invoice(inv("D-3"))
    assert paid is not None and paid.status is InvoiceStatus.PAID
    ended = store.get_dispute(opened.dispute_id)
    assert ended is not None and ended.status is Status.SETTLED and ended.resolution is not None
    assert ended.resolution.action == "paid_in_full"
    history = service.dispute_view(ended)["history"]
    assert [e["type"] for e in history].count("DisputeResolved") == 1
    assert history[-1]["data"]["payment_id"] == payment_id_for("bank", "BANK-D3-2")
    assert store.open_disputes() == []
    # The workflow's next reminder finds it over, applies nothing and tells the customer.
    assert workflow.dispute_status(opened.dispute_id) == {
        "dispute_id": opened.dispute_id,
        "status": "settled",
        "final": True,
    }
    assert deciding.apply_decision(opened.dispute_id, ledger.clock)["status"] == "settled"
