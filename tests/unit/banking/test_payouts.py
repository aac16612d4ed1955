"""Stripe payouts: a payout summed up from its balance transactions, a statement line recognised as
one (by the payout id it names, or from Stripe for a payout's amount and arrival date), and a
statement's counts of its payout lines. The stored payouts are a dict here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from receivables.banking import payouts
from receivables.banking.formats import read_statements
from receivables.banking.lines import count_lines
from receivables.kernel.money import Money
from receivables.storage import store
from receivables_local.statement_files import Line, camt053

if TYPE_CHECKING:
    from receivables.banking.statement import Entry

ARRIVAL = 1804204800  # 2027-03-05 00:00 UTC
PAYOUT = {"id": "po_1QxAbCdEf", "amount": 31425, "currency": "eur", "arrival_date": ARRIVAL, "status": "paid"}


def _txn(kind: str, amount: int, fee: int, source: Any = None, currency: str = "eur") -> dict[str, Any]:
    return {
        "type": kind,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": currency,
        "source": source,
    }


TRANSACTIONS = [
    _txn("charge", 10000, 175, {"id": "ch_A", "payment_intent": "pi_A"}),
    _txn("charge", 25000, 400, "ch_B"),
    _txn("refund", -3000, 0, "re_A"),
    _txn("payout", -31425, 0, "po_1QxAbCdEf"),
]


def entry(line: Line) -> Entry:
    (statement,) = read_statements(camt053([line]), "day.xml", 1 << 20).statements
    (found,) = statement.entries
    return found


def test_a_payout_is_summed_up_from_its_balance_transactions() -> None:
    summary = payouts.summarise(PAYOUT, TRANSACTIONS)

    assert (summary.gross, summary.refunds, summary.fees, summary.net) == (
        Money.parse("350.00", "EUR"),
        Money.parse("30.00", "EUR"),
        Money.parse("5.75", "EUR"),
        Money.parse("314.25", "EUR"),
    )
    assert summary.net == summary.amount and summary.to_json()["balanced"]
    assert (summary.charges, summary.payment_intents, summary.transactions) == (
        ("ch_A", "ch_B"),
        ("pi_A",),
        3,
    )
    assert summary.arrival.isoformat() == "2027-03-05"
    shown = payouts.evidence(summary.to_json())
    assert "2 payment(s), gross 350.00 EUR, refunds 30.00 EUR, fees 5.75 EUR, net 314.25 EUR" in shown


def test_a_payout_that_does_not_add_up_is_kept_with_balanced_false() -> None:
    summary = payouts.summarise(PAYOUT, TRANSACTIONS[:2])
    assert summary.net != summary.amount and not summary.to_json()["balanced"]


@pytest.mark.parametrize(
    ("payout", "transactions", "why"),
    [
        ({**PAYOUT, "id": "tr_123456"}, [], "not a payout id"),
        ({**PAYOUT, "currency": "xx"}, [], "ISO 4217"),
        (PAYOUT, [_txn("charge", 100, 2, "ch_1", currency="usd")], "transaction in usd"),
        (PAYOUT, [{**_txn("charge", 100, 2, "ch_1"), "fee": 1.5}], "not an integer"),
    ],
)
def test_a_payout_that_cannot_be_read_is_refused(
    payout: dict[str, Any], transactions: list[dict[str, Any]], why: str
) -> None:
    with pytest.raises(payouts.PayoutError, match=why):
        payouts.summarise(payout, transactions)


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The documents the recognition reads, by partition key (a dict for the table)."""
    documents: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(
        store, "get_document", lambda pk, sk="HEAD": (documents[pk], 1) if pk in documents else None
    )
    return documents


def _store_payout(documents: dict[str, dict[str, Any]]) -> None:
    body = payouts.summarise(PAYOUT, TRANSACTIONS).to_json()
    documents[store.payout_pk("po_1QxAbCdEf")] = body
    documents[store.payout_by_amount_pk("EUR", 31425, "2027-03-05")] = {"payout_id": "po_1QxAbCdEf"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # the payout id in the remittance: the payout, whoever the payer is
        (Line("314.25", "Stripe", text="STRIPE PAYOUT po_1QxAbCdEf"), "payout"),
        (Line("314.25", "Anyone", text="ref po_1QxAbCdEf"), "payout"),
        (Line("314.25", "Stripe", end_to_end="po_1QxAbCdEf"), "payout"),
        # from Stripe for the amount of the payout that arrived that day
        (Line("314.25", "STRIPE PAYMENTS EUROPE", text="transfer"), "payout"),
        (Line("314.25", "Acme", text="STRIPE TRANSFER"), "payout"),
        # not that payout: another amount, another day, or a customer naming no payout
        (Line("300.00", "Stripe", text="po_1QxAbCdEf"), None),
        (Line("314.25", "Acme", text="INV-1 paid via stripe", booked="2027-03-06"), None),
        (Line("314.25", "Acme", text="INV-1"), None),
    ],
)
def test_a_line_is_recognised_as_a_stored_payout(
    stored: dict[str, dict[str, Any]], line: Line, expected: str | None
) -> None:
    _store_payout(stored)
    found = payouts.recognise(entry(line))
    assert (found.payout["payout_id"] if found and found.payout else None) == (
        "po_1QxAbCdEf" if expected else None
    )
    if expected is None:
        assert found is None


def test_a_payout_line_before_its_payout_waits_by_what_it_names(stored: dict[str, dict[str, Any]]) -> None:
    by_id = payouts.recognise(entry(Line("314.25", "Stripe", text="STRIPE po_1QxAbCdEf")))
    assert by_id is not None and by_id.payout is None and by_id.waits_by == ("po_1QxAbCdEf",)
    by_amount = payouts.recognise(entry(Line("314.25", "STRIPE PAYMENTS", text="payout")))
    assert by_amount is not None and by_amount.waits_by == ("EUR#31425#2027-03-05",)
    # "stripe" in a customer's remittance is not enough to hold their payment back
    assert payouts.recognise(entry(Line("314.25", "Acme", text="paid by stripe"))) is None

    _store_payout(stored)
    assert payouts.payout_waited_for(by_id) == payouts.payout_waited_for(by_amount) == "po_1QxAbCdEf"


def test_a_statement_counts_its_payout_lines_with_their_sums() -> None:
    payout = {"gross": "350.00", "fees": "5.75", "net": "314.25"}
    lines: list[dict[str, Any]] = [
        {"status": "payout", "currency": "EUR", "payout": payout},
        {"status": "payout", "currency": "EUR", "payout": {"gross": "10.00", "fees": "0.40", "net": "9.60"}},
        {"status": "payout_pending", "currency": "EUR"},
        {"status": "lettered", "rule": "invoice_number", "currency": "EUR"},
    ]
    counts = count_lines(lines)
    assert counts == {
        "lines": 4,
        "payout": 2,
        "payout_pending": 1,
        "lettered": 1,
        "lettered_by_rule": {"invoice_number": 1},
        "payouts": {"lines": 2, "gross": "360.00", "fees": "6.15", "net": "323.85"},
    }
    assert "payouts" not in count_lines(lines[2:])


def test_a_payout_with_a_dispute_shows_it_beside_the_refunds() -> None:
    dispute = _txn("adjustment", -2500, 2000, "dp_1")
    payout = {**PAYOUT, "amount": 31425 - 4500}
    summary = payouts.summarise(payout, [*TRANSACTIONS, dispute])
    assert (str(summary.other), str(summary.fees), summary.net == summary.amount) == (
        "-25.00 EUR",
        "25.75 EUR",
        True,
    )
    assert "disputes and adjustments -25.00 EUR, fees 25.75 EUR" in payouts.evidence(summary.to_json())
