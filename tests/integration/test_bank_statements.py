"""Bank statements on moto: lines in, receipts lettered by the rule that found them, each line
once across files, balances checked, the review queue decided by hand."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.adapters.s3 import ObjectStore
from receivables.banking import review
from receivables.banking.creditor_reference import creditor_reference
from receivables.banking.intake import import_statement_file
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType, InvoiceStatus
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables_local.functions import function_module, load_function
from receivables_local.statement_files import Line, camt053, camt054
from tests.integration.test_finance_api import event

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.integration.conftest import Aws

S = InvoiceStatus
LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "B-101,2027-02-01,2027-03-03,EUR,C1,Willow Foods GmbH,ap@willow.example,400.00\n"
    "B-102,2027-02-02,2027-03-04,EUR,C1,Willow Foods GmbH,ap@willow.example,250.00\n"
    "B-103,2027-02-03,2027-03-05,EUR,C1,Willow Foods GmbH,ap@willow.example,150.00\n"
    "B-201,2027-02-01,2027-03-03,EUR,C2,Harbour Tools Ltd,ap@harbour.example,1200.00\n"
    "B-301,2027-02-01,2027-03-03,EUR,C3,Quay Bakery SAS,ap@quay.example,99.00\n"
)
WILLOW_IBAN = "DE89370400440532013000"
STRANGER_IBAN = "FR1420041010050500013M02606"


def inv(number: str) -> str:
    return document_id("self", DocumentType.INVOICE, number)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def state(number: str) -> tuple[S, Money]:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    return invoice.status, invoice.balance


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/ledger.csv", LEDGER)
    return aws


def test_given_a_statement_when_imported_then_each_line_letters_by_its_rule(ledger: Aws) -> None:
    # Given the day's statement: an RF reference, an invoice number, and an unknown payer.
    statement = camt053(
        [
            Line("1200.00", "Harbour Tools", reference=creditor_reference(inv("B-201")), bank_ref="R1"),
            Line("99.00", "Quay Bakery", text="Payment invoice B-301 thanks", bank_ref="R2"),
            Line("650.00", "Someone Else", iban=STRANGER_IBAN, text="March", bank_ref="R3"),
        ]
    )

    # When it is imported
    report = import_statement_file(statement, "day.xml", ledger.clock)

    # Then the two lines with evidence are lettered, with a code each, and the third waits.
    (outcome,) = report.statements
    by_ref = {line.position.split("/")[-1]: line for line in outcome.lines}
    assert [line.status for line in outcome.lines] == ["lettered", "lettered", "review"]
    assert [line.rule for line in outcome.lines][:2] == ["structured_reference", "invoice_number"]
    assert state("B-201") == (S.PAID, eur("0.00"))
    assert state("B-301") == (S.PAID, eur("0.00"))
    assert all(line.lettering for line in outcome.lines[:2]), by_ref
    assert outcome.balance_problems == ()
    assert outcome.counts()["lettered_by_rule"] == {"structured_reference": 1, "invoice_number": 1}
    waiting = review.unmatched_lines()
    assert [w["line_id"] for w in waiting] == [outcome.lines[2].line_id]
    allocations = [
        a for a in store.ledger_partition(store.invoice_pk(inv("B-201"))) if getattr(a, "lettering", None)
    ]
    assert [a.lettering for a in allocations] == [outcome.lines[0].lettering]  # type: ignore[union-attr]


def test_the_same_lines_in_a_notification_and_then_the_statement_book_once(ledger: Aws) -> None:
    line = Line("99.00", "Quay Bakery", text="B-301", bank_ref="BANK-77")
    first = import_statement_file(camt054([line]), "noon.xml", ledger.clock)
    again = import_statement_file(camt054([line]), "noon-again.xml", ledger.clock)
    evening = import_statement_file(camt053([line]), "evening.xml", ledger.clock)

    assert [x.status for x in first.statements[0].lines] == ["lettered"]
    assert again.statements[0].repeated
    assert [x.status for x in again.statements[0].lines] == ["lettered"]  # as it was, not twice
    assert [x.status for x in evening.statements[0].lines] == ["duplicate"]
    payments = store.customer_payments(store.get_invoice(inv("B-301")).customer_id)  # type: ignore[union-attr]
    assert len(payments) == 1


def test_an_opening_balance_that_does_not_follow_on_is_reported(ledger: Aws) -> None:
    import_statement_file(camt053([Line("10.00")], statement_id="S1", sequence="1"), "1.xml", ledger.clock)
    report = import_statement_file(
        camt053(
            [Line("5.00")],
            statement_id="S3",
            sequence="3",
            opening="1500.00",
            day="2027-03-07",
            previous_day="2027-03-06",
        ),
        "3.xml",
        ledger.clock,
    )

    (problem,) = report.statements[0].balance_problems
    assert "1500.00 EUR" in problem and "1010.00 EUR" in problem and "statement may be missing" in problem


def test_a_line_lettered_by_hand_remembers_the_payers_iban_for_next_time(ledger: Aws) -> None:
    # Given a transfer of 650.00 from an IBAN the ledger does not know: it waits for review.
    first = import_statement_file(
        camt053([Line("650.00", "W. Foods", iban=WILLOW_IBAN, text="Feb invoices", bank_ref="W1")]),
        "1.xml",
        ledger.clock,
    )
    (waiting,) = first.statements[0].lines
    assert waiting.status == "review"

    # When finance letters it to B-101 and B-102
    done = review.letter_line(
        waiting.line_id, {inv("B-101"): eur("400.00"), inv("B-102"): eur("250.00")}, "ana", ledger.clock
    )

    # Then both are paid under one code, the queue is empty, and the next transfer from that
    # IBAN of exactly B-103's balance letters itself.
    assert done["status"] == "lettered" and done["lettering"]
    assert state("B-101")[0] is S.PAID and state("B-102")[0] is S.PAID
    assert review.unmatched_lines() == []
    second = import_statement_file(
        camt053(
            [Line("150.00", "W. Foods", iban=WILLOW_IBAN, text="thanks", bank_ref="W2")], statement_id="S2"
        ),
        "2.xml",
        ledger.clock,
    )
    (line,) = second.statements[0].lines
    assert (line.status, line.rule) == ("lettered", "iban_amount")
    assert state("B-103")[0] is S.PAID
    assert line.lettering != done["lettering"]


def test_unlettering_puts_the_money_back_as_unapplied_and_the_line_back_in_review(ledger: Aws) -> None:
    report = import_statement_file(
        camt053([Line("99.00", "Quay Bakery", text="B-301", bank_ref="Q1")]), "1.xml", ledger.clock
    )
    (line,) = report.statements[0].lines

    undone = review.unletter_line(line.line_id, "ana", ledger.clock)

    assert undone["status"] == "review"
    assert state("B-301") == (S.OPEN, eur("99.00"))
    payment = store.get_payment(line.payment_id or "")
    assert payment is not None and payment.unapplied == eur("99.00") and payment.allocations == ()
    events = [e for e in store.audit_events(store.payment_pk(payment.payment_id)) if "unlettered" in e.data]
    assert [e.data["unlettered"] for e in events] == [line.lettering]
    assert [w["line_id"] for w in review.unmatched_lines()] == [line.line_id]


def test_a_line_that_is_not_a_customers_payment_is_ignored_with_its_reason(ledger: Aws) -> None:
    report = import_statement_file(
        camt053([Line("42.00", "Tax Office", text="VAT refund Q4", bank_ref="T1")]), "1.xml", ledger.clock
    )
    (line,) = report.statements[0].lines

    review.ignore_line(line.line_id, "a VAT refund, not a customer", "ana", ledger.clock)

    assert review.unmatched_lines() == []
    assert store.unapplied_payments("EUR") == []
    assert review.get_line(line.line_id).body["ignored"]["reason"] == "a VAT refund, not a customer"


def test_a_statement_dropped_in_the_bucket_is_imported_and_moved_with_its_report(ledger: Aws) -> None:
    statements = load_function("statements")
    deps = statements.Dependencies(ledger.settings, ObjectStore(ledger.s3), ledger.clock)
    notification = ledger.put(
        "statements/inbox/2027-03-05.xml",
        camt053([Line("99.00", "Quay Bakery", text="B-301", bank_ref="Z1")]),
    )
    junk = ledger.put("statements/inbox/notes.pdf", b"%PDF-1.7 not a statement")

    (done,) = statements.handle(notification, deps)["objects"]
    (refused,) = statements.handle(junk, deps)["objects"]
    (again,) = statements.handle(notification, deps)["objects"]  # a redelivery

    assert (done["outcome"], done["lettered"], done["review"]) == ("processed", 1, 0)
    assert refused["outcome"] == "rejected"
    assert again["outcome"] == "skipped"
    assert ledger.keys("statements/") == [
        "statements/processed/2027-03-05.xml",
        "statements/processed/2027-03-05.xml.report.json",
        "statements/rejected/notes.pdf",
        "statements/rejected/notes.pdf.report.json",
    ]
    body = ledger.s3.get_object(Bucket="test-invoices", Key="statements/rejected/notes.pdf.report.json")
    report = json.loads(body["Body"].read())
    assert report["refused"][0]["why"].startswith("a PDF")
    assert state("B-301")[0] is S.PAID


def finance_api(ledger: Aws, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, Any]]:
    """Calls of the finance API function in-process on this ledger: ``call(method, resource,
    path=None, **event_fields)`` → (status, JSON body)."""
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (ledger.settings, ledger.clock))

    def call(method: str, resource: str, path: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        response = module.app(event(method, resource, path or resource, **kwargs), None)
        return response["statusCode"], json.loads(response["body"])

    return call


def test_finance_uploads_a_statement_and_works_the_review_queue_through_the_api(
    ledger: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = finance_api(ledger, monkeypatch)

    content = camt053(
        [
            Line("99.00", "Quay Bakery", text="B-301", bank_ref="A1"),
            Line("650.00", "W. Foods", iban=WILLOW_IBAN, text="Feb", bank_ref="A2"),
        ]
    )
    upload = {"name": "day.xml", "content": base64.b64encode(content).decode()}

    assert call("POST", "/statements", body=upload, role="collector")[0] == 403
    status, report = call("POST", "/statements", body=upload)
    assert status == 200, report
    assert [x["status"] for x in report["statements"][0]["lines"]] == ["lettered", "review"]
    _, listed = call("GET", "/statements", role="viewer")
    (summary,) = listed["statements"]
    assert summary["counts"]["lettered_by_rule"] == {"invoice_number": 1}
    _, one = call("GET", "/statements/{statement_id}", f"/statements/{summary['statement']}", role="viewer")
    assert [x["status"] for x in one["lines"]] == ["lettered", "review"]
    _, queue = call("GET", "/bank-lines", query={"status": "unmatched"}, role="viewer")
    (waiting,) = queue["bank_lines"]
    path = f"/bank-lines/{waiting['line_id']}/letter"
    bad = {"invoices": [{"invoice": "B-101", "amount": "-1"}]}
    status, problem = call("POST", "/bank-lines/{line_id}/letter", path, body=bad, role="collector")
    assert status == 400 and problem["errors"][0]["field"] == "invoices[0].amount"
    good = {"invoices": [{"invoice": "B-101", "amount": "400.00"}, {"invoice": "B-102", "amount": "250.00"}]}
    status, done = call("POST", "/bank-lines/{line_id}/letter", path, body=good, role="collector")
    assert status == 200 and done["status"] == "lettered"
    status, _ = call("POST", "/bank-lines/{line_id}/letter", path, body=good, role="collector")
    assert status == 409  # decided already
    assert state("B-101")[0] is S.PAID and state("B-102")[0] is S.PAID


def test_a_returned_transfer_reopens_the_invoices_it_paid_with_the_reason(ledger: Aws) -> None:
    paid = Line("99.00", "Quay Bakery", text="B-301", bank_ref="P1", end_to_end="QB-0305")
    import_statement_file(camt053([paid]), "1.xml", ledger.clock)
    assert state("B-301")[0] is S.PAID
    returned = Line(
        "99.00", "Quay Bakery", debit=True, bank_ref="P2", end_to_end="QB-0305", return_reason="AC04"
    )

    report = import_statement_file(
        camt053([returned], statement_id="S2", sequence="65"), "2.xml", ledger.clock
    )
    again = import_statement_file(
        camt053([returned], statement_id="S3", sequence="66"), "3.xml", ledger.clock
    )

    (line,) = report.statements[0].lines
    assert (line.status, line.rule) == ("returned", "return")
    assert "AC04" in (line.evidence or "")
    assert state("B-301") == (S.OPEN, eur("99.00"))
    reversed_events = [e for e in store.invoice_events(inv("B-301")) if e.type == "PaymentReversed"]
    assert [e.data["reason"] for e in reversed_events] == ["AC04"]
    assert [x.status for x in again.statements[0].lines] == ["duplicate"]  # the bank's reference


def test_the_dashboard_shows_the_bank_lines_awaiting_review(ledger: Aws) -> None:
    from receivables.web.dashboard import dashboard_data, render

    import_statement_file(
        camt053([Line("650.00", "Someone Else", iban=STRANGER_IBAN, text="March", bank_ref="D1")]),
        "1.xml",
        ledger.clock,
    )

    data = dashboard_data(ledger.clock.now().date())

    assert data["bank_lines_waiting"]["count"] == 1
    assert data["bank_lines_waiting"]["amounts"] == {"EUR": "650.00"}
    assert data["bank_lines_waiting"]["oldest"][0]["payer"] == "Someone Else"
    assert "Bank lines awaiting review (1)" in render(data)
