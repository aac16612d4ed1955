"""Matching a bank line to open invoices: the rules as a table, ambiguity, refusals, rules that
disagree, overpayments, and today's rule beside them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from receivables.banking.creditor_reference import creditor_reference, format
from receivables.banking.matching import (
    Decision,
    Match,
    OpenItems,
    Rule,
    baseline_decide,
    decide,
)
from receivables.banking.open_items import normalise_name
from receivables.banking.statement import Direction, Entry, Party, Remittance
from receivables.disputes.deduction_rules import DeductionPolicy
from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, InvoiceStatus
from tests.unit.ledger.test_ledger import make_invoice

S = InvoiceStatus


def invoice(
    key: str, number: str, customer: str, minor: int, month: int, currency: str = "EUR", **changes: Any
) -> Invoice:
    due = date(2027, month, 28)
    return replace(
        make_invoice(minor, currency),
        invoice_id=f"inv_{key}",
        number=number,
        customer_id=customer,
        issue_date=due - timedelta(days=30),
        due_date=due,
        **changes,
    )


A1 = invoice("a1", "INV-2027-0101", "cus_a", 100000, 1)
A2 = invoice("a2", "INV-2027-0102", "cus_a", 25000, 2)
A3 = invoice("a3", "INV-2027-0103", "cus_a", 40000, 3)
B1 = invoice("b1", "INV-2027-0201", "cus_b", 100000, 1)
B2 = invoice("b2", "INV-2027-0202", "cus_b", 9990, 2)
U1 = invoice("u1", "INV-2027-0301", "cus_u", 50000, 1, "USD")
P1 = invoice("p1", "INV-2027-0401", "cus_a", 30000, 1, balance=Money.zero("EUR"), status=S.PAID)
D1 = invoice("d1", "INV-2027-0501", "cus_b", 30000, 1, status=S.DISPUTED)
S1, S2, S3 = (invoice(f"s{m}", f"INV-2027-060{m}", "cus_s", 10000, m) for m in (1, 2, 3))
NAMES = {
    "cus_a": "Keller Logistik GmbH",
    "cus_b": "Dupont Services SAS",
    "cus_u": "Acme Inc.",
    "cus_s": "Schmidt Bau AG",
}
IBAN_A, IBAN_B, IBAN_S = "DE01100000000000000001", "FR7630001000000000000002", "DE03100000000000000003"
VIEW = OpenItems.build(
    [A1, A2, A3, B1, B2, U1, P1, D1, S1, S2, S3],
    customer_names=NAMES,
    ibans={IBAN_A: "cus_a", IBAN_B: "cus_b", IBAN_S: "cus_s"},
    issued={"DD-2027-000001": ["inv_a2"]},
)


def rf(inv: Invoice) -> str:
    return creditor_reference(inv.invoice_id)


def line(
    amount: str,
    text: str = "",
    *,
    structured: tuple[str, ...] = (),
    e2e: str | None = None,
    iban: str | None = None,
    name: str | None = None,
    currency: str = "EUR",
    direction: Direction = Direction.CREDIT,
) -> Entry:
    return Entry(
        position="Ntry[1]",
        amount=Money.parse(amount, currency),
        direction=direction,
        booking_date=date(2027, 6, 1),
        counterparty=Party(name, iban),
        remittance=Remittance((text,) if text else (), structured, e2e),
    )


def numbers(match: Match | None) -> set[str]:
    if match is None:
        return set()
    return {i.number for i in (VIEW.invoice(x) for x in match.invoice_ids) if i}


# (why, line, rule of the best candidate, its invoices, lettered automatically)
TABLE: list[tuple[str, Entry, Rule | None, set[str], bool]] = [
    (
        "RF, structured",
        line("1000.00", structured=(rf(A1),)),
        Rule.STRUCTURED_REFERENCE,
        {"INV-2027-0101"},
        True,
    ),
    (
        "RF in the text, spaced",
        line("1000.00", f"Zahlung {format(rf(A1))}"),
        Rule.STRUCTURED_REFERENCE,
        {"INV-2027-0101"},
        True,
    ),
    (
        "RF, partial payment",
        line("600.00", structured=(rf(A1),)),
        Rule.STRUCTURED_REFERENCE,
        {"INV-2027-0101"},
        True,
    ),
    (
        "RF of two invoices",
        line("1250.00", f"{rf(A1)} {rf(A2)}"),
        Rule.STRUCTURED_REFERENCE,
        {"INV-2027-0101", "INV-2027-0102"},
        True,
    ),
    (
        "EndToEndId we issued",
        line("250.00", "SEPA", e2e="DD-2027-000001"),
        Rule.END_TO_END_ID,
        {"INV-2027-0102"},
        True,
    ),
    (
        "number, amount confirms",
        line("250.00", "Rechnung INV 2027 0102"),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0102"},
        True,
    ),
    (
        "number, IBAN confirms a part",
        line("100.00", "INV-2027-0102", iban=IBAN_A),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0102"},
        True,
    ),
    (
        "number, name confirms a part",
        line("100.00", "inv2027/0102", name="KELLER LOGISTIK"),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0102"},
        True,
    ),
    ("number alone, a part", line("100.00", "INV-2027-0102"), Rule.INVOICE_NUMBER, {"INV-2027-0102"}, False),
    (
        "two numbers",
        line("1400.00", "INV-2027-0101 INV-2027-0103"),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0101", "INV-2027-0103"},
        True,
    ),
    (
        "number, short within tolerance",
        line("997.00", "INV-2027-0101"),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0101"},
        True,
    ),
    ("IBAN, one invoice", line("250.00", "Zahlung", iban=IBAN_A), Rule.IBAN_AMOUNT, {"INV-2027-0102"}, True),
    (
        "IBAN, two invoices",
        line("1250.00", "Zahlung", iban=IBAN_A),
        Rule.IBAN_AMOUNT,
        {"INV-2027-0101", "INV-2027-0102"},
        True,
    ),
    (
        "IBAN, three invoices",
        line("1650.00", "", iban=IBAN_A),
        Rule.IBAN_AMOUNT,
        {"INV-2027-0101", "INV-2027-0102", "INV-2027-0103"},
        True,
    ),
    (
        "IBAN, short by amount alone",
        line("1247.50", "Zahlung", iban=IBAN_A),
        Rule.IBAN_AMOUNT,
        {"INV-2027-0101", "INV-2027-0102"},
        False,
    ),
    ("IBAN, equal balances: oldest", line("100.00", iban=IBAN_S), Rule.IBAN_AMOUNT, {"INV-2027-0601"}, True),
    (
        "IBAN, equal balances: two oldest",
        line("200.00", iban=IBAN_S),
        Rule.IBAN_AMOUNT,
        {"INV-2027-0601", "INV-2027-0602"},
        True,
    ),
    (
        "number picks among equal balances",
        line("100.00", "INV-2027-0603", iban=IBAN_S),
        Rule.INVOICE_NUMBER,
        {"INV-2027-0603"},
        True,
    ),
    ("IBAN, nothing fits", line("333.00", iban=IBAN_A), Rule.IBAN_AMOUNT, {"INV-2027-0101"}, False),
    (
        "payer's name only",
        line("250.00", "Zahlung", name="Keller Logistik", iban="DE99"),
        Rule.PAYER_NAME,
        {"INV-2027-0102"},
        False,
    ),
    ("unknown payer", line("80.00", "Spende", iban="AT11", name="Hans Privat"), None, set(), False),
    ("RF of a USD invoice", line("500.00", structured=(rf(U1),)), Rule.STRUCTURED_REFERENCE, set(), False),
    ("RF of a paid invoice", line("300.00", structured=(rf(P1),)), Rule.STRUCTURED_REFERENCE, set(), False),
    ("number of a disputed invoice", line("300.00", "INV-2027-0501"), Rule.INVOICE_NUMBER, set(), False),
    ("a debit", line("250.00", "INV-2027-0102", direction=Direction.DEBIT), None, set(), False),
]


@pytest.mark.parametrize(
    ("entry", "rule", "expected", "automatic"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_the_rules(entry: Entry, rule: Rule | None, expected: set[str], automatic: bool) -> None:
    decision = decide(entry, VIEW)
    best = decision.automatic or (decision.candidates[0] if decision.candidates else None)
    assert (best.rule if best else None) is rule, decision
    assert numbers(best) == expected, decision
    assert (decision.automatic is not None) is automatic, decision
    assert decision.reason


def test_a_structured_reference_says_where_it_was_found() -> None:
    decision = decide(line("1000.00", structured=(rf(A1),)), VIEW)
    assert decision.automatic is not None and decision.automatic.confidence == 1.0
    assert decision.automatic.evidence.startswith(
        f"{format(rf(A1))} in the structured remittance is the reference of INV-2027-0101"
    )


def test_a_short_payment_carries_its_shortfall_for_the_deductions_flow() -> None:
    decision = decide(line("997.00", "INV-2027-0101"), VIEW)
    assert decision.automatic is not None
    assert decision.automatic.shortfall == Money(300, "EUR")
    assert decision.automatic.allocations == (("inv_a1", Money(99700, "EUR")),)
    # Without a tolerance it is a partial payment; said to be one, it is never a deduction.
    none = DeductionPolicy(tolerance={})
    partial = decide(line("997.00", "INV-2027-0101", iban=IBAN_A), VIEW, policy=none).automatic
    assert partial is not None and partial.shortfall is None
    said = decide(line("997.00", "Teilzahlung INV-2027-0101", iban=IBAN_A), VIEW).automatic
    assert said is not None and said.shortfall is None
    assert "it pays 997.00 EUR of the 1000.00 EUR they owe" in said.evidence


def test_a_short_payment_by_amount_alone_is_a_candidate_with_its_shortfall() -> None:
    decision = decide(line("1247.50", "Zahlung", iban=IBAN_A), VIEW)
    best = decision.candidates[0]
    assert decision.automatic is None and best.shortfall == Money(250, "EUR")
    assert "short within the deduction tolerance" in best.evidence


def test_an_overpayment_letters_the_balance_and_leaves_the_rest_on_account() -> None:
    decision = decide(line("300.00", structured=(rf(A2),)), VIEW)
    auto = decision.automatic
    assert auto is not None
    assert auto.allocations == (("inv_a2", Money(25000, "EUR")),) and auto.on_account == Money(5000, "EUR")
    assert "50.00 EUR more than they owe stays on account" in auto.evidence


def test_another_currency_is_refused_with_the_reason() -> None:
    decision = decide(line("500.00", structured=(rf(U1),)), VIEW)
    assert decision.automatic is None
    assert "INV-2027-0301 is in USD, the line in EUR: not lettered" in decision.candidates[0].evidence


@pytest.mark.parametrize(("inv", "why"), [(P1, "INV-2027-0401 is paid"), (D1, "INV-2027-0501 is disputed")])
def test_an_invoice_not_collectible_is_refused_with_the_reason(inv: Invoice, why: str) -> None:
    decision = decide(line("300.00", structured=(rf(inv),)), VIEW)
    assert decision.automatic is None and why in decision.candidates[0].evidence


def test_a_payable_invoice_beside_a_refused_one_goes_to_a_person() -> None:
    decision = decide(line("550.00", f"{rf(A2)} {rf(P1)}"), VIEW)
    assert decision.automatic is None
    best = decision.candidates[0]
    assert numbers(best) == {"INV-2027-0102"} and "INV-2027-0401 is paid" in best.evidence


# --- ambiguity --------------------------------------------------------------------------------
def test_two_combinations_that_sum_exactly_are_ambiguous() -> None:
    ledger = [invoice("x1", "X-1001", "cus_x", 30000, 1), invoice("x2", "X-1002", "cus_x", 10000, 2)]
    ledger.append(invoice("x3", "X-1003", "cus_x", 20000, 3))
    view = OpenItems.build(ledger, ibans={"DE55": "cus_x"})
    decision = decide(line("300.00", iban="DE55"), view)
    assert decision.automatic is None
    combos = [c for c in decision.candidates if c.rule is Rule.IBAN_AMOUNT]
    assert len(combos) == 2 and all("other combinations too" in c.evidence for c in combos)


def test_an_iban_known_for_two_customers_is_not_matched_by_amount() -> None:
    view = OpenItems.build([A1, A2, B1], ibans=[("DE77", "cus_a"), ("DE77", "cus_b")])
    decision = decide(line("250.00", iban="DE77"), view)
    assert decision.automatic is None and "known for 2 customers" in decision.candidates[0].evidence


def test_a_number_two_invoices_share_is_not_lettered() -> None:
    twin = invoice("t1", "INV-2027-0102", "cus_b", 25000, 2, seller_id="other")
    decision = decide(line("250.00", "INV-2027-0102"), OpenItems.build([A2, twin]))
    assert decision.automatic is None and "number of 2 invoices" in decision.candidates[0].evidence


def test_a_reference_two_invoices_share_is_detected_and_not_lettered() -> None:
    shared = rf(A1)
    view = OpenItems.build([A1, B1], references={"inv_a1": shared, "inv_b1": shared})
    decision = decide(line("1000.00", structured=(shared,)), view)
    assert decision.automatic is None and "reference of 2 invoices" in decision.candidates[0].evidence


def test_a_customer_with_sixty_open_invoices_gives_up_rather_than_guess() -> None:
    many = [invoice(f"m{n}", f"M-{n:04d}", "cus_m", 100000 + 997 * n, 1 + n % 12) for n in range(60)]
    view = OpenItems.build(many, ibans={"DE60": "cus_m"})
    target = sum(i.balance.minor for i in many[5:11]) + 1
    decision = decide(line(Money(target, "EUR").to_decimal_string(), iban="DE60"), view)
    assert decision.automatic is None
    assert "gave up after" in decision.candidates[0].evidence
    assert "the 25 oldest of their 60 open invoices" in decision.candidates[0].evidence


def test_a_combination_found_among_the_oldest_of_many_is_only_a_candidate() -> None:
    many = [invoice(f"m{n}", f"M-{n:04d}", "cus_m", 100000 + 997 * n, 1 + n % 12) for n in range(30)]
    view = OpenItems.build(many, ibans={"DE60": "cus_m"})
    oldest = view.open_of("cus_m")[0]
    decision = decide(line(oldest.balance.to_decimal_string(), iban="DE60"), view)
    assert decision.automatic is None and "only the 25 oldest" in decision.candidates[0].evidence


# --- rules that disagree ----------------------------------------------------------------------
def test_a_reference_wins_over_a_number_that_points_elsewhere() -> None:
    decision = decide(line("1000.00", f"{rf(A1)} INV-2027-0201"), VIEW)
    assert decision.automatic is not None and numbers(decision.automatic) == {"INV-2027-0101"}
    assert "pointed elsewhere, the reference wins" in decision.automatic.evidence
    assert any(numbers(c) == {"INV-2027-0201"} for c in decision.candidates)


def test_a_number_the_iban_contradicts_goes_to_review_with_both() -> None:
    # The number is cus_a's, the payer's IBAN cus_b's, whose open B2 has exactly this amount.
    decision = decide(line("99.90", "INV-2027-0102", iban=IBAN_B), VIEW)
    assert decision.automatic is None and decision.reason.startswith("the rules disagree")
    found = {(c.rule, frozenset(numbers(c))) for c in decision.candidates}
    assert (Rule.INVOICE_NUMBER, frozenset({"INV-2027-0102"})) in found
    assert (Rule.IBAN_AMOUNT, frozenset({"INV-2027-0202"})) in found
    number = next(c for c in decision.candidates if c.rule is Rule.INVOICE_NUMBER)
    assert "known for Dupont Services SAS, not Keller Logistik GmbH" in number.evidence


def test_the_amount_shows_the_other_invoices_a_named_one_was_paid_with() -> None:
    decision = decide(line("1250.00", "INV-2027-0101 and others", iban=IBAN_A), VIEW)
    auto = decision.automatic
    assert auto is not None and numbers(auto) == {"INV-2027-0101", "INV-2027-0102"}
    assert auto.on_account.is_zero() and auto.evidence.startswith("INV-2027-0101 is named in the remittance")


def test_the_payers_name_is_never_applied_by_itself() -> None:
    entry = line("250.00", "Zahlung", name="Keller Logistik GmbH")
    for threshold in (0.01, 0.5, 0.9, 1.0):
        decision = decide(entry, VIEW, threshold)
        assert decision.automatic is None
        assert decision.candidates[0].rule is Rule.PAYER_NAME
        assert "a suggestion" in decision.candidates[0].evidence


def test_a_lower_threshold_applies_a_number_alone() -> None:
    assert decide(line("100.00", "INV-2027-0102"), VIEW, 0.8).automatic is not None
    with pytest.raises(ValueError, match="threshold"):
        decide(line("100.00", "INV-2027-0102"), VIEW, 0)


def test_candidates_are_ranked_best_first() -> None:
    decision = decide(line("99.90", "INV-2027-0102", iban=IBAN_B), VIEW)
    confidences = [c.confidence for c in decision.candidates]
    assert confidences == sorted(confidences, reverse=True)


# --- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Müller Logistik GmbH & Co. KG", "muller logistik"),
        ("SOCIÉTÉ GÉNÉRALE SAS", "societe generale"),
        ("Acme, Inc.", "acme"),
        ("Van Dijk B.V.", "van dijk"),
        ("Ferrari S.p.A.", "ferrari"),
        ("Nordisk A/S", "nordisk"),
        ("Smith & Sons Ltd", "smith sons"),
    ],
)
def test_names_are_compared_without_case_accents_or_legal_forms(raw: str, normal: str) -> None:
    assert normalise_name(raw) == normal


def test_a_name_close_to_two_customers_suggests_both_with_less_confidence() -> None:
    a = invoice("k1", "K-1001", "cus_k1", 25000, 1)
    b = invoice("k2", "K-1002", "cus_k2", 25000, 1)
    names = {"cus_k1": "Keller Logistik GmbH", "cus_k2": "Keller Logistik AG"}
    decision = decide(line("250.00", name="KELLER LOGISTIK"), OpenItems.build([a, b], customer_names=names))
    suggestions = [c for c in decision.candidates if c.rule is Rule.PAYER_NAME]
    assert {c.customer_id for c in suggestions} == {"cus_k1", "cus_k2"}
    assert all(c.confidence < 0.5 for c in suggestions)


# --- today's rule -------------------------------------------------------------------------------
def test_the_baseline_letters_any_number_it_finds_verbatim() -> None:
    assert numbers(baseline_decide(line("250.00", "INV-2027-0102"), VIEW).automatic) == {"INV-2027-0102"}
    # It letters a number whatever the payer's IBAN says...
    contradicted = baseline_decide(line("99.90", "INV-2027-0102", iban=IBAN_B), VIEW)
    assert numbers(contradicted.automatic) == {"INV-2027-0102"}
    # ...and spreads an excess over the customer's other invoices, oldest first.
    spread = baseline_decide(line("1100.00", "INV-2027-0102"), VIEW).automatic
    assert spread is not None and numbers(spread) == {"INV-2027-0102", "INV-2027-0101"}
    for nothing in (line("250.00", structured=(rf(A2),)), line("250.00", iban=IBAN_A)):
        assert baseline_decide(nothing, VIEW).automatic is None
    assert baseline_decide(line("250.00", "INV-2027-0102", direction=Direction.DEBIT), VIEW).automatic is None


def test_a_decision_without_candidates_says_why() -> None:
    decision = decide(line("80.00", "Spende"), VIEW)
    assert decision == Decision(None, [], decision.reason) and "nothing in the line" in decision.reason
