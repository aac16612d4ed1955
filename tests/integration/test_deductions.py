"""Short payments by bank transfer: written off under the tolerance, else a deduction that is split
by reason, checked where the data allows, and sent to its owner through the dispute workflow."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from receivables.disputes import deciding, deductions, evidence, opening, workflow
from receivables.disputes.deduction_rules import DeductionPolicy, OwnerRule, RemittanceLine
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.mail.mailer import MailSettings, send_deduction_notice, send_deduction_refusal
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

S = InvoiceStatus
SETTINGS = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "https://p.example")
HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_email,total_amount,terms,"
    "description,quantity,unit_price,net_amount\n"
)


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def invoice(number: str) -> Any:
    found = store.get_invoice(inv(number))
    assert found is not None
    return found


def bank(external_id: str, amount: str, reference: str, on: str = "2026-11-02", **more: Any) -> Receipt:
    return Receipt(
        "bank", external_id, eur(amount), f"{on}T09:00:00.000Z", "bank_transfer", reference=reference, **more
    )


def conserved(number: str) -> None:
    """invoice = paid + credited (deductions found valid) + written off + open."""
    found = invoice(number)
    assert found.payable == found.paid + found.credited + found.written_off + found.balance


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop(
        "inbox/d.csv",
        HEADER
        + "D-1,2026-10-28,2026-11-27,EUR,C1,ap@c1.example,2380.00,2/10 net 30,Widgets,10,238.00,2380.00\n"
        + "D-2,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,1000.00,net 30,Pallet wrap,100,10.00,1000.00\n"
        + "D-3,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,500.00,net 30,Service,1,500.00,500.00\n"
        + "D-4,2026-10-01,2026-10-31,EUR,C1,ap@c1.example,100.00,net 30,Service,1,100.00,100.00\n",
    )
    return aws


def test_an_early_payment_discount_taken_in_time_is_valid_and_credited(ledger: Aws) -> None:
    # Issued 28 October on 2/10 net 30: paid 2 November, within the ten days, 2 % off.
    outcome = record_receipt(bank("tx-1", "2332.40", "D-1 less 2% skonto"), ledger.clock)

    (taken,) = outcome.deductions
    assert taken["status"] == "resolved" and taken["valid"] == "47.60" and taken["open"] == "0.00"
    assert [(p["reason"], p["validity"]) for p in taken["parts"]] == [("early_payment_discount", "valid")]
    assert "2 % of 2380.00 EUR within 10 days" in taken["parts"][0]["check"]
    paid = invoice("D-1")
    assert paid.status is S.PAID and paid.credited == eur("47.60") and paid.balance == eur("0.00")
    assert outcome.settled == (inv("D-1"),)
    conserved("D-1")
    nothing = send_deduction_refusal(taken, SETTINGS, b"k" * 32, lambda to, data: "m", ledger.clock)
    assert (nothing.action, nothing.detail) == ("skipped", "nothing was refused")
    assert [e.type for e in store.invoice_events(inv("D-1"))][-2:] == ["PaymentApplied", "DeductionCredited"]
    # Delivered again: nothing more.
    again = record_receipt(bank("tx-1", "2332.40", "D-1 less 2% skonto"), ledger.clock)
    assert again.duplicate and again.deductions[0]["deduction_id"] == taken["deduction_id"]
    assert invoice("D-1").credited == eur("47.60")


def test_a_discount_taken_late_is_invalid_and_the_balance_stays_to_collect(ledger: Aws) -> None:
    outcome = record_receipt(bank("tx-2", "2332.40", "D-1 skonto 47.60", on="2026-11-20"), ledger.clock)

    (taken,) = outcome.deductions
    assert taken["invalid"] == "47.60" and taken["valid"] == "0.00" and taken["status"] == "resolved"
    assert "13 day(s) after the 2 % discount period ended on 2026-11-07" in taken["parts"][0]["check"]
    still = invoice("D-1")
    assert still.status is S.PARTIALLY_PAID and still.balance == eur("47.60")
    conserved("D-1")

    # The customer is told, once, what was refused and why, with a link to pay the rest.
    sent: list[tuple[str, Any]] = []

    def raw(to: str, data: bytes) -> str:
        sent.append((to, email.message_from_bytes(data, policy=email.policy.default)))
        return f"m-{len(sent)}"

    detail = {"deduction_id": taken["deduction_id"]}
    key = b"k" * 32
    assert send_deduction_refusal(detail, SETTINGS, key, raw, ledger.clock).action == "sent"
    assert send_deduction_refusal(detail, SETTINGS, key, raw, ledger.clock).action == "already_sent"
    ((to, message),) = sent
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert to == "ap@c1.example" and message["Subject"] == "Your payment of invoice D-1: 47.60 EUR still due"
    assert (
        "- Early-payment discount, 47.60 EUR: not accepted, paid on 20 November 2026, after the 2 % "
        "discount period ended on 7 November 2026." in body
    )
    assert "https://p.example/portal/link/" in body


def test_a_small_shortfall_is_written_off_under_the_tolerance(ledger: Aws) -> None:
    outcome = record_receipt(bank("tx-3", "996.50", "D-2 bank charges"), ledger.clock)

    (written,) = outcome.deductions
    assert written["status"] == "written_off" and written["amount"] == "3.50"
    paid = invoice("D-2")
    assert paid.status is S.PAID and paid.written_off == eur("3.50")
    conserved("D-2")
    assert store.invoice_events(inv("D-2"))[-1].type == "SmallBalanceWrittenOff"


def test_a_pricing_claim_is_checked_against_the_price_list(ledger: Aws) -> None:
    customer_id = invoice("D-2").customer_id
    evidence.save_terms(customer_id, {"price_list": {"Pallet wrap": "9.50"}}, "finance:ann", ledger.clock)
    # 100 rolls at 0.50 overbilled = 50.00; the customer deducts 80.00 for pricing.
    outcome = record_receipt(bank("tx-4", "920.00", "D-2 price difference 80.00"), ledger.clock)

    (taken,) = outcome.deductions
    assert [(p["reason"], p["amount"], p["validity"]) for p in taken["parts"]] == [
        ("pricing", "50.00", "valid"),
        ("pricing", "30.00", "invalid"),
    ]
    still = invoice("D-2")
    assert (
        still.credited == eur("50.00") and still.balance == eur("30.00") and still.status is S.PARTIALLY_PAID
    )
    conserved("D-2")


def test_a_split_short_payment_goes_to_its_owner_and_their_decision_closes_it(ledger: Aws) -> None:
    customer_id = invoice("D-3").customer_id
    policy = DeductionPolicy(
        reason_codes={customer_id: {"Z07": "short_delivery"}},
        owners=(
            OwnerRule("*", "*", "ar-team@seller.example"),
            OwnerRule("short_delivery", customer_id, "logistics@seller.example"),
        ),
    )
    deductions.save_policy(policy, 0, "finance:ann", ledger.clock)
    receipt = Receipt(
        "bank",
        "tx-5",
        eur("380.00"),
        "2026-11-02T09:00:00.000Z",
        "bank_transfer",
        reference="remittance 4471",
        target_invoice_ids=(inv("D-3"),),
        deductions=(
            RemittanceLine("D-3", eur("100.00"), "Z07", "2 cartons damaged"),
            RemittanceLine("D-3", eur("20.00"), "FR", "freight"),
        ),
    )
    (taken,) = record_receipt(receipt, ledger.clock).deductions

    assert [(p["reason"], p["amount"], p["validity"], p["evidence_needed"]) for p in taken["parts"]] == [
        ("short_delivery", "100.00", "open", ["proof_of_delivery"]),
        ("freight", "20.00", "open", ["freight_terms"]),
    ]
    assert taken["owner"] == "logistics@seller.example" and taken["open"] == "120.00"
    disputed = invoice("D-3")
    assert disputed.status is S.DISPUTED and disputed.balance == eur("120.00")
    dispute = store.get_dispute(taken["dispute_id"])
    assert dispute is not None and dispute.source.value == "deduction" and dispute.amount == eur("120.00")
    routed = store.audit_events(store.deduction_pk(taken["deduction_id"]))
    assert [e.type for e in routed] == ["DeductionTaken", "DeductionRouted"]
    assert routed[-1].data["evidence_needed"] == ["freight_terms", "proof_of_delivery"]

    # The owner is mailed once, with the evidence to gather.
    sent: list[tuple[str, Any]] = []

    def raw(to: str, data: bytes) -> str:
        sent.append((to, email.message_from_bytes(data, policy=email.policy.default)))
        return f"m-{len(sent)}"

    detail = {"deduction_id": taken["deduction_id"]}
    assert send_deduction_notice(detail, SETTINGS, raw, ledger.clock).action == "sent"
    assert send_deduction_notice(detail, SETTINGS, raw, ledger.clock).action == "already_sent"
    ((to, message),) = sent
    body = message.get_body().get_content()
    assert to == "logistics@seller.example" and "paid invoice D-3 120.00 EUR short" in message["Subject"]
    assert "proof of delivery" in body and f"/disputes/{dispute.dispute_id}" in body

    # The workflow: no automatic settlement for a deduction; the owner accepts the damage only.
    assert workflow.analyse_dispute(dispute.dispute_id, ledger.clock)["proposal"] is None
    workflow.await_finance(dispute.dispute_id, "token-d", ledger.clock)
    deciding.decide(
        dispute.dispute_id,
        {"decision": "accept", "credit": "100.00", "reason": "POD shows 2 cartons damaged"},
        "logistics@seller.example",
        ledger.clock,
    )
    deciding.apply_decision(dispute.dispute_id, ledger.clock)

    closed, version = deductions.get_deduction(taken["deduction_id"]) or ({}, 0)
    assert version == 3 and closed["status"] == "resolved"
    assert (closed["valid"], closed["invalid"], closed["open"]) == ("100.00", "20.00", "0.00")
    assert [(p["reason"], p["amount"], p["validity"]) for p in closed["parts"]] == [
        ("short_delivery", "100.00", "valid"),
        ("freight", "20.00", "invalid"),
    ]
    chased = invoice("D-3")
    # Out of dispute: dunning resumes on the 20.00 found invalid.
    assert (
        chased.status is S.PARTIALLY_PAID
        and chased.balance == eur("20.00")
        and chased.credited == eur("100.00")
    )
    conserved("D-3")

    report = deductions.report(ledger.clock.now().date())["currencies"]["EUR"]
    assert report["totals"]["valid"] == "100.00" and report["totals"]["invalid"] == "20.00"
    assert report["by_reason"]["freight"]["invalid"] == "20.00"
    assert report["open_count"] == 0 and report["valid_share_percent"] == 83.3


def test_one_payment_for_two_invoices_holds_back_what_the_advice_deducts_from_each(ledger: Aws) -> None:
    # 500 + 100 owed; the advice deducts 60 from D-3 (pricing, no price list: its owner decides)
    # and pays D-4 in full: 540 received.
    receipt = Receipt(
        "bank",
        "tx-6",
        eur("540.00"),
        "2026-11-02T09:00:00.000Z",
        "bank_transfer",
        reference="D-3 D-4",
        deductions=(RemittanceLine("D-3", eur("60.00"), None, "price difference"),),
    )
    outcome = record_receipt(receipt, ledger.clock)

    assert dict(outcome.payment.allocations) == {inv("D-3"): eur("440.00"), inv("D-4"): eur("100.00")}
    (taken,) = outcome.deductions
    assert taken["number"] == "D-3" and taken["open"] == "60.00" and taken["parts"][0]["reason"] == "pricing"
    assert invoice("D-4").status is S.PAID and invoice("D-3").status is S.DISPUTED
    aged = deductions.report(ledger.clock.now().date())["currencies"]["EUR"]
    assert aged["open_aged"]["0-30"] == "60.00" and aged["days_deductions_outstanding"] == 90.0
    # Four months on, still open: aged 90+, though none was taken in the last 90 days.
    later = deductions.report(ledger.clock.now().date() + timedelta(days=120))["currencies"]["EUR"]
    assert later["open_aged"]["90+"] == "60.00" and later["open_count"] == 1
    assert later["taken_in_period"] == "0.00" and later["days_deductions_outstanding"] is None
    assert [d["number"] for d in deductions.deductions("open")] == ["D-3"]
    assert deductions.deductions(since="2027-01-01T00:00:00.000Z") == []
    # The dashboard counts it among the deductions waiting for their owner.
    from receivables.web.dashboard import dashboard_data, render

    shown = dashboard_data(ledger.clock.now().date())
    assert shown["open_deductions"]["count"] == 1 and shown["open_deductions"]["amounts"] == {"EUR": "60.00"}
    assert shown["open_deductions"]["oldest"][0]["reasons"] == ["pricing"]
    assert '<span data-testid="deductions-count">1</span>' in render(shown)


def test_a_stripe_partial_payment_is_not_a_deduction(ledger: Aws) -> None:
    outcome = record_receipt(
        Receipt(
            "stripe",
            "pi_part",
            eur("200.00"),
            "2026-11-02T09:00:00.000Z",
            "card",
            target_invoice_ids=(inv("D-3"),),
        ),
        ledger.clock,
    )
    assert outcome.deductions == () and invoice("D-3").status is S.PARTIALLY_PAID


def test_finance_records_a_short_transfer_and_reads_the_deductions(
    ledger: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_credit import api

    call = api(ledger, monkeypatch)
    body = {
        "amount": "880.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "external_id": "BANK-77",
        "received_at": "2026-11-02",
        "invoices": ["D-2"],
        "deductions": [{"amount": "120.00", "code": "RT", "note": "returned 12 rolls"}],
    }
    status, recorded = call("POST", "/payments", "/payments", body=body, role="collector")
    assert status == 201, recorded
    (taken,) = recorded["deductions"]
    assert taken["parts"][0]["reason"] == "returns" and taken["open"] == "120.00"

    status, listed = call("GET", "/deductions", "/deductions", role="viewer", query={"status": "open"})
    assert status == 200 and [d["number"] for d in listed["deductions"]] == ["D-2"]
    status, one = call(
        "GET", "/deductions/{deduction_id}", f"/deductions/{taken['deduction_id']}", role="viewer"
    )
    assert status == 200 and [h["type"] for h in one["history"]] == ["DeductionTaken", "DeductionRouted"]
    status, report = call("GET", "/deductions/report", "/deductions/report", role="viewer")
    assert report["currencies"]["EUR"]["by_reason"]["returns"]["open"] == "120.00"
    status, _ = call("GET", "/deductions/{deduction_id}", "/deductions/{deduction_id}", role="viewer")
    assert status == 404

    bad = dict(body, external_id="BANK-78", deductions=[{"amount": "-1", "colour": "red"}])
    status, refused = call("POST", "/payments", "/payments", body=bad, role="collector")
    assert status == 400 and [e["field"] for e in refused["errors"]] == ["deductions[0]"]

    status, policy = call("GET", "/deductions/policy", "/deductions/policy", role="viewer")
    changed = dict(policy["policy"], tolerance={"EUR": "10.00"})
    status, _ = call(
        "PUT",
        "/deductions/policy",
        "/deductions/policy",
        body={"version": 0, "policy": changed},
        role="collector",
    )
    assert status == 403
    status, saved = call(
        "PUT", "/deductions/policy", "/deductions/policy", body={"version": 0, "policy": changed}
    )
    assert status == 200 and saved["version"] == 1 and saved["policy"]["tolerance"] == {"EUR": "10.00"}
    status, refused = call(
        "PUT",
        "/deductions/policy",
        "/deductions/policy",
        body={"version": 1, "policy": {"tolerance": {"EUR": "x"}, "owners": [{"owner": "nobody"}]}},
    )
    assert status == 400 and [e["field"] for e in refused["errors"]] == [
        "policy.tolerance.EUR",
        "policy.owners[0]",
    ]


def test_the_excess_of_an_overpayment_is_a_part_payment_of_another_invoice_not_a_deduction(
    ledger: Aws,
) -> None:
    # D-4 is 100.00; the customer pays 150.00 for it: the 50.00 goes on to their oldest open invoice
    outcome = record_receipt(bank("tx-9", "150.00", "payment D-4"), ledger.clock)

    assert outcome.deductions == ()
    assert invoice("D-4").status is S.PAID
    spilled = [invoice(n) for n in ("D-2", "D-3") if invoice(n).paid.minor]
    assert [(i.paid, i.status) for i in spilled] == [(eur("50.00"), S.PARTIALLY_PAID)]
    assert store.listed_documents(store.DEDUCTIONS_LISTING) == []


def test_a_pricing_claim_is_credited_once_however_many_short_payments_repeat_it(ledger: Aws) -> None:
    customer_id = invoice("D-2").customer_id
    evidence.save_terms(customer_id, {"price_list": {"Pallet wrap": "9.50"}}, "finance:ann", ledger.clock)
    # The lines are overbilled by 50.00; twenty transfers of 0.01 each claim it again.
    for n in range(20):
        record_receipt(bank(f"tx-r{n}", "0.01", "D-2 price difference 50.00"), ledger.clock)

    assert invoice("D-2").credited == eur("50.00"), "the overbilling is credited once"
    conserved("D-2")


def test_a_token_payment_on_time_earns_no_early_payment_discount(ledger: Aws) -> None:
    # D-1 is 2380.00 on 2/10 net 30: a discount of 47.60 is earned by paying the other 2332.40.
    for n in range(3):
        outcome = record_receipt(bank(f"tx-s{n}", "0.01", "D-1 less 2% skonto"), ledger.clock)
        assert [p["validity"] for p in outcome.deductions[0]["parts"]] == ["invalid"]

    assert invoice("D-1").credited.is_zero()
    conserved("D-1")


def test_a_discount_over_the_controllers_limit_waits_for_the_owner(ledger: Aws) -> None:
    from receivables.customers import approvals

    policy = approvals.policy_from_json(
        {"modes": dict.fromkeys(approvals.ACTIONS, "controller"), "auto_credit": {"EUR": "40.00"}}
    )
    approvals.save_policy(policy, 0, "ctl-1", ledger.clock)

    outcome = record_receipt(bank("tx-big", "2332.40", "D-1 less 2% skonto"), ledger.clock)

    assert [(p["amount"], p["validity"]) for p in outcome.deductions[0]["parts"]] == [("47.60", "open")]
    assert invoice("D-1").credited.is_zero()


def test_an_overbilling_a_dispute_credited_is_not_credited_again_by_a_deduction(ledger: Aws) -> None:
    from receivables.ledger.disputes import Reason, Source

    customer_id = invoice("D-2").customer_id
    evidence.save_terms(customer_id, {"price_list": {"Pallet wrap": "9.50"}}, "finance:ann", ledger.clock)
    opened, _ = opening.open_dispute_on(
        inv("D-2"), Source.CUSTOMER, Reason.PRICING, "customer", ledger.clock, amount=eur("50.00")
    )
    workflow.analyse_dispute(opened.dispute_id, ledger.clock)
    workflow.settle_dispute(opened.dispute_id, ledger.clock)
    assert invoice("D-2").credited == eur("50.00"), "the dispute credited the overbilling"

    record_receipt(bank("tx-d2", "900.00", "D-2 price difference 50.00"), ledger.clock)

    assert invoice("D-2").credited == eur("50.00"), "and the deduction does not credit it twice"
    conserved("D-2")


def test_a_discount_is_not_earned_by_calling_the_unpaid_rest_another_reason(ledger: Aws) -> None:
    # 0.01 paid on a 2380.00 invoice on 2/10 net 30, "Skonto 47.60, freight 2332.39"
    outcome = record_receipt(bank("tx-fr", "0.01", "D-1 Skonto 47.60 freight 2332.39"), ledger.clock)

    parts = {p["reason"]: p["validity"] for p in outcome.deductions[0]["parts"]}
    assert parts["early_payment_discount"] == "open", "it stands or falls with the rest: the owner decides"
    assert invoice("D-1").credited.is_zero()
