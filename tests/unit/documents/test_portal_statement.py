"""The customer's statement: per currency, closing = opening + invoiced - credited - paid, and
one range's closing is the next range's opening."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from receivables.documents.statement import build_statement
from receivables.kernel.money import Money
from receivables.ledger.model import CreditNote, Invoice, InvoiceStatus, Payment, SourceRef
from tests.unit.ledger.test_ledger import make_invoice

START = date(2026, 1, 1)
CURRENCIES = ("EUR", "USD", "JPY")


def credit_note(n: int, amount: int, currency: str, day: date) -> CreditNote:
    return CreditNote(
        credit_note_id=f"cn_{n}",
        seller_id="self",
        number=f"CN-{n}",
        customer_id="cus_test",
        currency=currency,
        issue_date=day,
        amount=Money(amount, currency),
        applied=Money.zero(currency),
        invoice_reference=None,
        fingerprint="f",
        source=SourceRef("b", "inbox/x.csv", "csv", "row 2"),
    )


def payment(n: int, amount: int, refunded: int, currency: str, day: date) -> Payment:
    return Payment(
        payment_id=f"pay_{n}",
        customer_id="cus_test",
        amount=Money(amount, currency),
        received_at=f"{day.isoformat()}T10:00:00.000Z",
        method="bank_transfer",
        reference=f"BANK-{n}",
        unapplied=Money.zero(currency),
        refunded=Money(min(refunded, amount), currency),
    )


movement = st.tuples(
    st.sampled_from(("invoice", "void", "credit", "payment")),
    st.integers(1, 10_000_000),
    st.integers(0, 10_000_000),
    st.sampled_from(CURRENCIES),
    st.integers(0, 364),
)


def ledger(moves: list[tuple[str, int, int, str, int]]) -> tuple[list[Invoice | CreditNote], list[Payment]]:
    documents: list[Invoice | CreditNote] = []
    payments: list[Payment] = []
    for n, (kind, amount, refunded, currency, offset) in enumerate(moves):
        day = START + timedelta(days=offset)
        if kind in ("invoice", "void"):
            status = InvoiceStatus.VOID if kind == "void" else InvoiceStatus.OPEN
            documents.append(
                make_invoice(
                    amount, currency, invoice_id=f"inv_{n}", number=f"INV-{n}", issue_date=day, status=status
                )
            )
        elif kind == "credit":
            documents.append(credit_note(n, amount, currency, day))
        else:
            payments.append(payment(n, amount, refunded, currency, day))
    return documents, payments


@given(moves=st.lists(movement, max_size=40), cut=st.integers(1, 363), end=st.integers(0, 364))
def test_closing_is_opening_plus_invoiced_less_credited_and_paid(
    moves: list[tuple[str, int, int, str, int]], cut: int, end: int
) -> None:
    documents, payments = ledger(moves)
    first, last = START + timedelta(days=cut), START + timedelta(days=max(cut, end))
    statements = build_statement(documents, payments, first, last)
    for s in statements:
        invoiced, credited, paid = s.total("invoice"), s.total("credit_note"), s.total("payment")
        assert s.closing == s.opening + invoiced - credited - paid
        assert all(first <= line.day <= last for line in s.lines)
    # Consecutive ranges chain: the closing before `first` is the opening from `first`.
    before = {
        s.currency: s.closing for s in build_statement(documents, payments, START, first - timedelta(days=1))
    }
    for s in statements:
        assert s.opening == before.get(s.currency, Money.zero(s.currency))


def test_a_worked_statement() -> None:
    documents: list[Invoice | CreditNote] = [
        make_invoice(100000, invoice_id="inv_a", number="A", issue_date=date(2026, 9, 20)),
        make_invoice(50000, invoice_id="inv_b", number="B", issue_date=date(2026, 10, 5)),
        make_invoice(
            70000, invoice_id="inv_v", number="V", issue_date=date(2026, 10, 6), status=InvoiceStatus.VOID
        ),
        credit_note(1, 20000, "EUR", date(2026, 10, 10)),
    ]
    payments = [
        payment(2, 60000, 0, "EUR", date(2026, 10, 12)),
        payment(3, 30000, 10000, "EUR", date(2026, 11, 2)),  # outside the range
    ]
    (eur,) = build_statement(documents, payments, date(2026, 10, 1), date(2026, 10, 31))
    assert str(eur.opening) == "1000.00 EUR"
    assert [(ln.kind, ln.reference, str(ln.amount), str(ln.balance)) for ln in eur.lines] == [
        ("invoice", "B", "500.00 EUR", "1500.00 EUR"),
        ("credit_note", "CN-1", "-200.00 EUR", "1300.00 EUR"),
        ("payment", "BANK-2", "-600.00 EUR", "700.00 EUR"),
    ]
    assert str(eur.closing) == "700.00 EUR"
