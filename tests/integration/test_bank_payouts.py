"""Stripe payouts on the bank statement, on moto: the payout's webhook stores it once from its
balance transactions; its line on the statement is reconciled against it (fees shown), before or
after the webhook, never lettered to invoices again; the statement counts it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import stripe

from receivables.adapters.stripe_api import StripeGateway
from receivables.banking import review
from receivables.banking.intake import import_statement_file
from receivables.payments.stripe_events import handle_event
from receivables.storage import store
from receivables_local.statement_files import Line, camt053
from receivables_local.stripe_local import LocalStripe
from tests.integration.conftest import REGION
from tests.integration.test_bank_statements import ledger
from tests.integration.test_local_stripe import KEY, paid_session
from tests.integration.test_stripe_webhook_function import post, webhook_function
from tests.integration.test_stripe_webhooks import sign

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

__all__ = ["ledger"]  # the fixture, shared with the statement tests

PAYOUT = "po_1QxPayoutTest0001"
ARRIVAL = int(datetime(2027, 3, 5, tzinfo=UTC).timestamp())


class FakeStripe:
    """The balance transactions of one payout, as Stripe lists them (its own included)."""

    def __init__(self, transactions: list[dict[str, Any]]) -> None:
        self.transactions = transactions
        self.calls = 0

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        self.calls += 1
        return self.transactions


def _txn(kind: str, amount: int, fee: int, source: Any) -> dict[str, Any]:
    return {
        "id": f"txn_{kind}{amount}",
        "object": "balance_transaction",
        "type": kind,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": "eur",
        "source": source,
    }


def _charge(charge_id: str, intent: str, amount: int, fee: int) -> dict[str, Any]:
    return _txn("charge", amount, fee, {"id": charge_id, "object": "charge", "payment_intent": intent})


# 100.00 + 250.00 by card, 30.00 refunded: fees 1.75 + 4.00, net 314.25
TRANSACTIONS = [
    _charge("ch_A", "pi_A", 10000, 175),
    _charge("ch_B", "pi_B", 25000, 400),
    _txn("refund", -3000, 0, "re_A"),
    _txn("payout", -31425, 0, PAYOUT),
]


def _event(payout_id: str = PAYOUT, amount: int = 31425, kind: str = "payout.paid") -> dict[str, Any]:
    payout = {
        "id": payout_id,
        "object": "payout",
        "amount": amount,
        "arrival_date": ARRIVAL,
        "automatic": True,
        "currency": "eur",
        "status": "paid",
    }
    return {"id": f"evt_{payout_id}", "type": kind, "data": {"object": payout}}


def _statement(ledger: Aws, lines: list[Line], n: int = 5) -> tuple[str, list[review.BankLine]]:
    report = import_statement_file(
        camt053(lines, statement_id=f"S{n}", sequence=str(70 + n), day=f"2027-03-{n:02d}"),
        f"{n}.xml",
        ledger.clock,
    )
    (statement,) = report.statements
    return statement.statement_key, [review.get_line(x.line_id) for x in statement.lines]


def _stripe_line(text: str = f"STRIPE PAYOUT {PAYOUT}", amount: str = "314.25", **kw: Any) -> Line:
    return Line(amount, "STRIPE PAYMENTS EUROPE LTD", text=text, bank_ref=kw.pop("bank_ref", "P1"), **kw)


def test_the_payout_webhook_stores_the_payout_once_from_its_balance_transactions(ledger: Aws) -> None:
    # Given Stripe's payout of two charges less a refund and the fees
    fake = FakeStripe(TRANSACTIONS)

    # When its payout.paid arrives twice
    first = handle_event(_event(), ledger.clock, fake)
    second = handle_event(_event(), ledger.clock, fake)

    # Then one payout document with gross, refunds, fees, net and the payments, one audit event
    assert (first.action, second.action) == ("payout_recorded", "duplicate")
    assert "fees 5.75 EUR" in first.detail
    body, version = store.get_document(store.payout_pk(PAYOUT))  # type: ignore[misc]
    assert version == 1
    assert {
        k: body[k] for k in ("amount", "gross", "refunds", "fees", "net", "charges_count", "balanced")
    } == {
        "amount": "314.25",
        "gross": "350.00",
        "refunds": "30.00",
        "fees": "5.75",
        "net": "314.25",
        "charges_count": 2,
        "balanced": True,
    }
    assert (body["charges"], body["payment_intents"], body["arrival_date"]) == (
        ["ch_A", "ch_B"],
        ["pi_A", "pi_B"],
        "2027-03-05",
    )
    assert [e.type for e in store.audit_events(store.payout_pk(PAYOUT))] == ["StripePayoutRecorded"]


def test_a_payout_event_without_stripe_waits_and_other_payout_events_are_ignored(ledger: Aws) -> None:
    from receivables.payments.stripe_events import RetryLaterError

    with pytest.raises(RetryLaterError):
        handle_event(_event(), ledger.clock)
    assert handle_event(_event(kind="payout.created"), ledger.clock, FakeStripe([])).action == "ignored"
    mismatched = [_txn("charge", 100, 2, "ch_X") | {"currency": "usd"}]
    assert handle_event(_event(), ledger.clock, FakeStripe(mismatched)).action == "rejected"
    assert store.get_document(store.payout_pk(PAYOUT)) is None


def test_a_payout_line_after_the_webhook_is_reconciled_with_its_fees_and_not_lettered(ledger: Aws) -> None:
    # Given the payout stored from its webhook
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))

    # When the statement brings Stripe's transfer of 314.25 naming it, beside a customer's transfer
    key, (payout_line, customer_line) = _statement(
        ledger, [_stripe_line(), Line("99.00", "Quay Bakery", text="B-301", bank_ref="Q1")]
    )

    # Then the payout line is reconciled: no receipt, no lettering, gross, fees and net shown
    body = payout_line.body
    assert (body["status"], body["rule"]) == ("payout", "stripe_payout")
    assert body.get("payment_id") is None and body.get("lettering") is None
    assert "fees 5.75 EUR" in body["evidence"] and "gross 350.00 EUR" in body["evidence"]
    assert body["payout"]["charges"] == ["ch_A", "ch_B"]
    assert customer_line.body["status"] == "lettered"
    assert review.unmatched_lines() == []

    # and the statement counts it, with the payout's sums
    statement = review.get_statement(key)
    assert statement["counts"]["payout"] == 1
    assert statement["counts"]["payouts"] == {"lines": 1, "gross": "350.00", "fees": "5.75", "net": "314.25"}
    assert [line["status"] for line in statement["lines"]] == ["payout", "lettered"]

    # and the payout names its bank line, with an audit event
    payout, _ = store.get_document(store.payout_pk(PAYOUT))  # type: ignore[misc]
    assert payout["bank_line"] == payout_line.line_id
    types = [e.type for e in store.audit_events(store.payout_pk(PAYOUT))]
    assert types == ["StripePayoutRecorded", "StripePayoutReconciled"]


def test_a_payout_line_before_the_webhook_waits_and_is_reconciled_when_it_comes(ledger: Aws) -> None:
    # Given Stripe's transfer on the statement before its payout.paid
    key, (line,) = _statement(ledger, [_stripe_line()])
    assert line.body["status"] == "payout_pending"
    assert review.unmatched_lines() == []  # not a customer's payment to decide
    assert review.get_statement(key)["counts"]["payout_pending"] == 1

    # When the webhook comes (twice)
    first = handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))

    # Then the waiting line is reconciled, once, and the statement's counts follow
    assert line.line_id in first.detail
    done = review.get_line(line.line_id).body
    assert done["status"] == "payout" and "fees 5.75 EUR" in done["evidence"]
    counts = review.get_statement(key)["counts"]
    assert (counts.get("payout_pending"), counts["payout"], counts["lines"]) == (None, 1, 1)
    assert counts["payouts"]["fees"] == "5.75"
    types = [e.type for e in store.audit_events(store.payout_pk(PAYOUT))]
    assert types == ["StripePayoutRecorded", "StripePayoutReconciled"]


def test_a_stripe_line_without_the_payout_id_is_found_by_amount_and_arrival_date(ledger: Aws) -> None:
    # Given a line from Stripe that names no payout, before and after the webhook
    _, (early,) = _statement(ledger, [_stripe_line(text="STRIPE TRANSFER", bank_ref="P1")], 5)
    assert early.body["status"] == "payout_pending"
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))
    assert review.get_line(early.line_id).body["status"] == "payout"

    # and a customer who writes "stripe" in the remittance is a customer's payment still
    _, (customer,) = _statement(
        ledger, [Line("99.00", "Quay Bakery", text="B-301 not via stripe", bank_ref="Q2")], 6
    )
    assert customer.body["status"] == "lettered"


def test_a_line_naming_a_payout_of_another_amount_is_not_that_payout(ledger: Aws) -> None:
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))
    _, (line,) = _statement(ledger, [_stripe_line(amount="300.00")])
    assert line.body["status"] == "review"  # a person looks at it; the payout is not claimed
    payout, _ = store.get_document(store.payout_pk(PAYOUT))  # type: ignore[misc]
    assert "bank_line" not in payout


def test_the_webhook_reads_the_local_stripes_payout_through_the_gateway(ledger: Aws) -> None:
    # Given the local Stripe paying out two card payments
    now = [float(time.time())]
    server = LocalStripe(port=0, clock=lambda: now[0], sweep=False, automatic_payouts=True)
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        paid_session(client), paid_session(client)
        with server.store.lock:
            now[0] += 3 * 24 * 3600
            server.run_due()
        (event,) = [e for e in server.events() if e["type"] == "payout.paid"]

        # When its payout.paid is handled with the gateway the webhook function builds
        result = handle_event(event, ledger.clock, StripeGateway(lambda: KEY, server.url))
    finally:
        server.stop()

    # Then the payout is stored with the fees Stripe took (1.5 % + 0.25 of each 25.00)
    assert result.action == "payout_recorded"
    body, _ = store.get_document(store.payout_pk(event["data"]["object"]["id"]))  # type: ignore[misc]
    assert (body["gross"], body["fees"], body["net"], body["charges_count"]) == ("50.00", "1.26", "48.74", 2)
    assert len(body["payment_intents"]) == 2 and body["balanced"]


def test_the_webhook_function_reads_the_payout_with_the_stripe_key_secret(
    ledger: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the webhook function wired as the template wires it: the Stripe key in Secrets Manager
    now = [float(time.time())]
    server = LocalStripe(port=0, clock=lambda: now[0], sweep=False, automatic_payouts=True)
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        paid_session(client)
        with server.store.lock:
            now[0] += 3 * 24 * 3600
            server.run_due()
        (event,) = [e for e in server.events() if e["type"] == "payout.paid"]
        key_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="stripe-api-key", SecretString=KEY
        )["ARN"]
        monkeypatch.setenv("STRIPE_API_KEY_NAME", key_arn)
        monkeypatch.setenv("STRIPE_API_BASE", server.url)
        module = webhook_function("test-ledger", monkeypatch)

        # When Stripe delivers payout.paid to it, twice
        payload = json.dumps(event).encode()
        first = post(module, payload, sign(payload))
        second = post(module, payload, sign(payload))
        module.default_dependencies.cache_clear()
    finally:
        server.stop()

    # Then the payout is stored once, with the card payment's fee
    assert first.status_code == second.status_code == 200
    assert json.loads(first.body)["action"] == "payout_recorded"
    assert json.loads(second.body) == json.loads(first.body)
    body, version = store.get_document(store.payout_pk(event["data"]["object"]["id"]))  # type: ignore[misc]
    assert (body["gross"], body["fees"], body["net"], version) == ("25.00", "0.63", "24.37", 1)


def test_a_second_line_naming_a_reconciled_payout_is_not_reconciled_again(ledger: Aws) -> None:
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))
    _, (first,) = _statement(ledger, [_stripe_line(bank_ref="P1")], 5)
    _, (second,) = _statement(ledger, [_stripe_line(bank_ref="P2")], 6)

    assert first.body["status"] == "payout"
    assert second.body["status"] == "payout_pending"  # shown on its statement, for a person to see
    payout, _ = store.get_document(store.payout_pk(PAYOUT))  # type: ignore[misc]
    assert payout["bank_line"] == first.line_id


def test_a_pending_payout_line_a_person_says_is_no_payout_is_ignored_and_stays_so(ledger: Aws) -> None:
    _, (line,) = _statement(ledger, [_stripe_line()])
    assert line.body["status"] == "payout_pending"

    review.ignore_line(line.line_id, "a refund from Stripe Inc., not a payout", "finance:ana", ledger.clock)
    handle_event(_event(), ledger.clock, FakeStripe(TRANSACTIONS))  # the payout's webhook after all

    kept = review.get_line(line.line_id).body
    assert kept["status"] == "ignored"  # the person's decision stands
