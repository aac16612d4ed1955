"""Returns without their EndToEndId, returns decided by hand, and lines put on a customer's
account by hand, on moto."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from receivables.banking import review
from receivables.banking.intake import import_statement_file
from receivables.kernel.errors import ConflictError, NotFoundError
from receivables.storage import store
from receivables_local.statement_files import Line, camt053
from tests.integration.test_bank_statements import WILLOW_IBAN, S, eur, finance_api, inv, ledger, state

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

__all__ = ["ledger"]  # the fixture, shared with the statement tests


def _from_willow(amount: str, text: str, ref: str) -> Line:
    return Line(amount, "Willow Foods", iban=WILLOW_IBAN, text=text, bank_ref=ref)


def _import(ledger: Aws, lines: list[Line], n: int) -> list[review.BankLine]:
    report = import_statement_file(
        camt053(lines, statement_id=f"S{n}", sequence=str(60 + n), day=f"2027-03-{n:02d}"),
        f"{n}.xml",
        ledger.clock,
    )
    return [review.get_line(x.line_id) for x in report.statements[0].lines]


def test_a_return_without_its_end_to_end_id_finds_the_one_credit_from_that_iban(ledger: Aws) -> None:
    # Given B-101 paid by a transfer from Willow's IBAN, and another transfer of another amount
    (paid, other) = _import(
        ledger,
        [
            Line("400.00", "Willow Foods", iban=WILLOW_IBAN, text="B-101", bank_ref="W1"),
            Line("250.00", "Willow Foods", iban=WILLOW_IBAN, text="B-102", bank_ref="W2"),
        ],
        5,
    )
    assert paid.body["status"] == other.body["status"] == "lettered"

    # When the bank returns 400.00 to that IBAN (MD06), naming no EndToEndId
    back = Line("400.00", "Willow Foods", iban=WILLOW_IBAN, debit=True, bank_ref="R1", return_reason="MD06")
    (returned,) = _import(ledger, [back], 6)

    # Then B-101 is owed again with the reason, and B-102 stays paid.
    assert (returned.body["status"], returned.body["rule"]) == ("returned", "return")
    assert paid.line_id in returned.body["evidence"] and "IBAN" in returned.body["evidence"]
    assert state("B-101") == (S.OPEN, eur("400.00"))
    assert state("B-102")[0] is S.PAID
    reasons = [
        e.data.get("reason") for e in store.invoice_events(inv("B-101")) if e.type == "PaymentReversed"
    ]
    assert reasons == ["MD06"]


def test_a_return_that_may_give_back_two_credits_waits_and_is_decided_by_hand(ledger: Aws) -> None:
    # Given two transfers of 150.00 from the same IBAN (B-103 and, on account, the next one)
    (first,) = _import(ledger, [_from_willow("150.00", "B-103", "W1")], 5)
    (second,) = _import(
        ledger, [Line("150.00", "Willow", iban=WILLOW_IBAN, text="advance", bank_ref="W2")], 6
    )
    assert first.body["status"] == "lettered" and second.body["status"] == "review"
    review.letter_line(second.line_id, {}, "ana", ledger.clock, on_account_of=first.body["customer_id"])

    # When a return of 150.00 names neither
    back = Line("150.00", "Willow", iban=WILLOW_IBAN, debit=True, bank_ref="R1", return_reason="AC04")
    (waiting,) = _import(ledger, [back], 7)

    # Then it waits for a person with both credits as candidates, nothing reversed yet
    assert waiting.body["status"] == "review" and "say which" in waiting.body["evidence"]
    assert {c["line_id"] for c in waiting.body["candidates"]} == {first.line_id, second.line_id}
    assert state("B-103")[0] is S.PAID
    with pytest.raises(ConflictError, match="debit"):
        review.letter_line(waiting.line_id, {inv("B-103"): eur("150.00")}, "ana", ledger.clock)

    # When finance says it returns the first, B-103 is owed again; the advance stays on account
    decided = review.return_line(waiting.line_id, first.line_id, "ana", ledger.clock)
    assert decided["status"] == "returned" and "AC04" in decided["evidence"]
    assert state("B-103") == (S.OPEN, eur("150.00"))
    advance = store.get_payment(str(second.body["payment_id"]))
    assert advance is not None and advance.unapplied == eur("150.00")
    assert review.unmatched_lines() == []
    with pytest.raises(ConflictError):
        review.return_line(waiting.line_id, first.line_id, "ana", ledger.clock)


def test_a_line_put_on_account_by_hand_waits_on_the_customer_and_remembers_the_iban(ledger: Aws) -> None:
    (line,) = _import(
        ledger, [Line("500.00", "W. Foods", iban=WILLOW_IBAN, text="advance", bank_ref="A1")], 5
    )
    customer_id = store.get_invoice(inv("B-101")).customer_id  # type: ignore[union-attr]

    done = review.letter_line(line.line_id, {}, "ana", ledger.clock, on_account_of=customer_id)

    assert (done["status"], done["lettering"], done["customer_id"]) == ("on_account", None, customer_id)
    payment = store.get_payment(str(line.body["payment_id"]))
    assert payment is not None and payment.customer_id == customer_id
    assert payment.unapplied == eur("500.00") and payment.allocations == ()
    assert state("B-101") == (S.OPEN, eur("400.00"))
    assert review.unmatched_lines() == []
    # the next transfer from that IBAN is known to be Willow's
    (next_line,) = _import(ledger, [_from_willow("250.00", "ok", "A2")], 6)
    assert (next_line.body["status"], next_line.body["rule"]) == ("lettered", "iban_amount")
    assert next_line.body["customer_id"] == customer_id and state("B-102")[0] is S.PAID


def test_a_line_cannot_go_on_the_account_of_a_customer_who_does_not_exist(ledger: Aws) -> None:
    (line,) = _import(ledger, [Line("10.00", "Nobody", text="?", bank_ref="N1")], 5)
    with pytest.raises(NotFoundError, match="no customer"):
        review.letter_line(line.line_id, {}, "ana", ledger.clock, on_account_of="cus_nope")
    assert review.get_line(line.line_id).body["status"] == "review"


def test_finance_puts_a_line_on_account_and_decides_a_return_through_the_api(
    ledger: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = finance_api(ledger, monkeypatch)

    def call(resource: str, line_id: str, body: Any, role: str = "collector") -> tuple[int, Any]:
        return api("POST", resource, resource.replace("{line_id}", line_id), body=body, role=role)

    (first,) = _import(ledger, [_from_willow("150.00", "B-103", "W1")], 5)
    (second,) = _import(ledger, [_from_willow("150.00", "advance", "W2")], 6)
    customer_id = first.body["customer_id"]
    letter = "/bank-lines/{line_id}/letter"

    status, problem = call(letter, second.line_id, {"on_account": customer_id, "invoices": []})
    assert status == 400 and problem["errors"][0]["field"] == "on_account"
    assert call(letter, second.line_id, {"on_account": customer_id}, role="viewer")[0] == 403
    status, done = call(letter, second.line_id, {"on_account": customer_id})
    assert status == 200 and done["status"] == "on_account"

    back = Line("150.00", "Willow", iban=WILLOW_IBAN, debit=True, bank_ref="R1", return_reason="AC04")
    (waiting,) = _import(ledger, [back], 7)
    status, problem = call("/bank-lines/{line_id}/return", waiting.line_id, {})
    assert status == 400 and problem["errors"][0]["field"] == "returns"
    status, done = call("/bank-lines/{line_id}/return", waiting.line_id, {"returns": second.line_id})
    assert status == 200 and done["status"] == "returned"
    advance = store.get_payment(str(second.body["payment_id"]))
    assert advance is not None and advance.unapplied.minor == 0 and advance.refunded == eur("150.00")
    assert state("B-103")[0] is S.PAID  # the other credit stays on its invoice
