"""The matching on a generated day: 2,000 bank lines against 20,000 invoices of 2,000 customers
(RF references on some, mistyped invoice numbers on others, several invoices per transfer, part
and short payments, overpayments, unknown payers, a few debits), beside today's rule. The
generator is `tests.unit.banking.generated`, which the statement benchmark can reuse."""

from __future__ import annotations

from receivables.banking.matching import baseline_decide, decide
from tests.unit.banking.generated import generate, measure


def test_no_wrong_automatic_lettering_and_far_more_than_todays_rule() -> None:
    data = generate(lines=2000, invoices=20000, customers=2000, seed=22)
    view = data.view()

    ours = measure(data, lambda entry: decide(entry, view))
    today = measure(data, lambda entry: baseline_decide(entry, view))

    figures = (
        f"auto {ours.auto_share:.3f} wrong {ours.wrong} ties {ours.ties} incomplete {ours.incomplete} "
        f"by rule {dict(ours.by_rule)}; today's rule: auto {today.auto_share:.3f} wrong {today.wrong}"
    )
    assert ours.wrong == 0, f"{figures}; wrong by kind {dict(ours.wrong_kinds)}"
    assert ours.auto_share >= 0.7, figures
    assert ours.auto_share >= today.auto_share + 0.3, figures
    # The tie rule (oldest first among equal balances of one customer) stays rare.
    assert ours.ties <= 0.03 * ours.automatic, figures
    # The check has teeth: numbers are dense, so today's rule letters mistyped ones wrongly.
    assert today.wrong > 0 and today.wrong_kinds["number_typo"] > 0, figures
    assert set(ours.by_rule) == {"structured_reference", "end_to_end_id", "invoice_number", "iban_amount"}


def test_debits_and_unknown_payers_are_never_lettered() -> None:
    data = generate(lines=600, invoices=3000, customers=300, seed=7)
    view = data.view()
    for entry in data.entries:
        if data.truth[entry.position].kind in ("debit", "unknown"):
            assert decide(entry, view).automatic is None, entry
