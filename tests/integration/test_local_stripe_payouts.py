"""The local Stripe's balance: a balance transaction per charge and refund, with Stripe's fees, and
automatic daily payouts on the clock, read through the official SDK as at Stripe."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import stripe

from receivables_local.stripe_local import LocalStripe
from receivables_local.stripe_local.objects import PAYOUT_DELAY_SECONDS, fee_for
from tests.integration.test_local_stripe import KEY, paid_session

if TYPE_CHECKING:
    from collections.abc import Iterator

DAY = 24 * 3600


@dataclass
class Clocked:
    server: LocalStripe
    client: stripe.StripeClient
    now: list[float]

    def advance(self, seconds: float) -> None:
        """Move the clock and run what is due, as the runtime's clock does."""
        with self.server.store.lock:
            self.now[0] += seconds
            self.server.run_due()


def _clocked(*, payouts: bool) -> Iterator[Clocked]:
    now = [float(1_800_000_000)]  # 2027-01-15 08:00 UTC
    server = LocalStripe(port=0, clock=lambda: now[0], sweep=False, automatic_payouts=payouts)
    server.start()
    client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
    yield Clocked(server, client, now)
    server.stop()


@pytest.fixture
def paying() -> Iterator[Clocked]:
    yield from _clocked(payouts=True)


@pytest.fixture
def quiet() -> Iterator[Clocked]:
    yield from _clocked(payouts=False)


def _types(server: LocalStripe) -> list[str]:
    return [e["type"] for e in server.events()]


@pytest.mark.parametrize(
    ("method", "amount", "currency", "fee"),
    [
        ("card", 2500, "eur", 63),  # 1.5 % of 25.00 = 0.375 -> 0.38, + 0.25
        ("card", 10000, "eur", 175),
        ("card", 1000, "jpy", 15),  # no fixed part in a currency without cents
        ("sepa_debit", 2500, "eur", 35),
        ("us_bank_account", 2500, "usd", 20),
        ("us_bank_account", 1_000_000, "usd", 500),  # capped at 5.00
    ],
)
def test_the_fee_is_stripes_standard_price(method: str, amount: int, currency: str, fee: int) -> None:
    assert fee_for(method, amount, currency) == fee


def test_a_card_charge_and_its_refund_move_the_balance(quiet: Clocked) -> None:
    # Given a card payment of 25.00 EUR
    client = quiet.client
    paid = paid_session(client)
    assert isinstance(paid.payment_intent, str)
    intent = client.v1.payment_intents.retrieve(paid.payment_intent, params={"expand": ["latest_charge"]})
    charge: Any = intent.latest_charge

    # Then its charge names a balance transaction: gross, Stripe's fee, net, pending two days
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert (txn.type, txn.amount, txn.fee, txn.net, txn.currency, txn.source) == (
        "charge",
        2500,
        63,
        2437,
        "eur",
        charge.id,
    )
    assert txn.status == "pending"
    assert txn.available_on == (int(quiet.now[0]) + PAYOUT_DELAY_SECONDS) // DAY * DAY
    assert [d.type for d in txn.fee_details] == ["stripe_fee"]

    # When 10.00 is refunded
    refund = client.v1.refunds.create(params={"payment_intent": paid.payment_intent, "amount": 1000})

    # Then a negative refund transaction, available at once, no fee back
    assert isinstance(refund.balance_transaction, str)
    back = client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (back.type, back.amount, back.fee, back.net, back.status) == (
        "refund",
        -1000,
        0,
        -1000,
        "available",
    )
    listed = client.v1.balance_transactions.list(params={"type": "charge"})
    assert [t.id for t in listed.data] == [txn.id]

    # and with payouts off, nothing is ever paid out
    quiet.advance(10 * DAY)
    assert quiet.server.next_due() is None
    assert client.v1.payouts.list().data == []
    assert "payout.paid" not in _types(quiet.server)


def test_the_available_balance_is_paid_out_once_with_its_transactions(paying: Clocked) -> None:
    # Given two card payments today and a refund of part of one
    client, server = paying.client, paying.server
    first, second = paid_session(client), paid_session(client)
    client.v1.refunds.create(params={"payment_intent": str(first.payment_intent), "amount": 500})
    due = server.next_due()
    assert due is not None and due == (int(paying.now[0]) + PAYOUT_DELAY_SECONDS) // DAY * DAY

    # When the clock reaches the day their money becomes available (and goes on)
    paying.advance(due - paying.now[0])
    paying.advance(DAY)

    # Then one payout of the net: 2 x (25.00 - 0.63) - 5.00, paid, arriving the next day
    (payout,) = client.v1.payouts.list().data
    assert (payout.amount, payout.currency, payout.status, payout.automatic) == (
        2 * (2500 - 63) - 500,
        "eur",
        "paid",
        True,
    )
    assert payout.id.startswith("po_") and payout.arrival_date == due + DAY
    assert client.v1.payouts.retrieve(payout.id).amount == payout.amount
    assert _types(server).count("payout.paid") == 1
    assert _types(server)[-2:] == ["payout.created", "payout.paid"]

    # and its balance transactions are the two charges, the refund and the payout itself
    listed = client.v1.balance_transactions.list(params={"payout": payout.id, "expand": ["data.source"]})
    assert sorted(t.type for t in listed.data) == ["charge", "charge", "payout", "refund"]
    assert sum(t.net for t in listed.data if t.type != "payout") == payout.amount
    (own,) = [t for t in listed.data if t.type == "payout"]
    assert (own.id, own.amount) == (payout.balance_transaction, -payout.amount)
    intents = {t.source.payment_intent for t in listed.data if t.type == "charge"}  # type: ignore[union-attr]
    assert intents == {first.payment_intent, second.payment_intent}
    assert server.next_due() is None


def test_balance_transactions_of_a_payout_page_as_stripe_lists_do(paying: Clocked) -> None:
    # Given a payout of five charges
    client = paying.client
    for _ in range(5):
        paid_session(client)
    paying.advance(PAYOUT_DELAY_SECONDS + DAY)
    (payout,) = client.v1.payouts.list().data

    # When its transactions are read two at a time
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"payout": payout.id, "limit": 2}
        if after:
            params["starting_after"] = after
        page = client.v1.balance_transactions.list(params=params)  # type: ignore[arg-type]
        pages += 1
        seen += [t.id for t in page.data]
        if not page.has_more:
            break
        after = page.data[-1].id

    # Then every one once: five charges and the payout, in three pages
    assert pages == 3 and len(set(seen)) == len(seen) == 6

    # and an unknown payout is a 400, as at Stripe
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.balance_transactions.list(params={"payout": "po_unknown"})
    assert refused.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payouts.retrieve("po_unknown")


def test_a_balance_that_is_not_positive_is_carried_to_the_next_payout(paying: Clocked) -> None:
    # Given a payment refunded in full: its available balance is minus the fee
    client = paying.client
    paid = paid_session(client)
    client.v1.refunds.create(params={"payment_intent": str(paid.payment_intent)})
    paying.advance(PAYOUT_DELAY_SECONDS + DAY)
    assert client.v1.payouts.list().data == []
    assert paying.server.next_due() is None  # nothing to wait for: the clock is not kept busy

    # When another payment becomes available
    paid_session(client)
    paying.advance(PAYOUT_DELAY_SECONDS + DAY)

    # Then the payout takes both days' balance
    (payout,) = client.v1.payouts.list().data
    assert payout.amount == (2500 - 63) - 63
    listed = client.v1.balance_transactions.list(params={"payout": payout.id})
    assert sorted(t.type for t in listed.data) == ["charge", "charge", "payout", "refund"]


def test_the_sweep_pays_out_on_its_own_when_payouts_are_on() -> None:
    now = [time.time()]
    server = LocalStripe(port=0, clock=lambda: now[0], automatic_payouts=True, payout_delay_seconds=0)
    server.start()
    try:
        client = stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)
        paid_session(client)
        deadline = time.monotonic() + 5
        while not client.v1.payouts.list().data and time.monotonic() < deadline:
            time.sleep(0.05)
        (payout,) = client.v1.payouts.list().data
        assert payout.amount == 2500 - 63
    finally:
        server.stop()


@pytest.mark.parametrize(("evidence", "back"), [("winning_evidence", 2500), ("losing_evidence", 0)])
def test_a_dispute_takes_its_amount_and_fee_from_the_balance_and_a_won_one_gives_it_back(
    paying: Clocked, evidence: str, back: int
) -> None:
    # Given a card payment the customer disputes
    client, server = paying.client, paying.server
    paid_session(client, "4000000000000259")
    dispute_id = server.events()[-1]["data"]["object"]["id"]

    # Then the amount and Stripe's 20.00 dispute fee leave the balance at once
    (taken,) = client.v1.disputes.retrieve(dispute_id).balance_transactions
    assert (taken.type, taken.amount, taken.fee, taken.net, taken.reporting_category) == (
        "adjustment",
        -2500,
        2000,
        -4500,
        "dispute",
    )

    # When the dispute is decided and the day's balance paid out
    client.v1.disputes.update(
        dispute_id, params={"evidence": {"uncategorized_text": evidence}, "submit": True}
    )
    paid_session(client)
    paying.advance(PAYOUT_DELAY_SECONDS + DAY)

    # Then a dispute won gives the amount back (the fee stays); a payout takes what is left
    adjustments = client.v1.balance_transactions.list(params={"type": "adjustment"}).data
    assert sorted(t.amount for t in adjustments) == sorted([-2500, *([2500] if back else [])])
    net = 2 * (2500 - 63) - 4500 + back
    payouts = client.v1.payouts.list().data
    assert [p.amount for p in payouts] == ([net] if net > 0 else [])
