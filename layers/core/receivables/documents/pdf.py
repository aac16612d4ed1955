"""PDFs for the portal's downloads: an invoice (drawn from its data) and a statement.

An invoice's PDF ends with how to pay it by bank transfer when we have an account in its
currency: our account, its ``RF`` creditor reference and the request to quote it
(`receivables.documents.transfer`).

fpdf2 with its core font (Helvetica, Latin-1): amounts carry their ISO currency code rather than
a symbol the core font may lack (1.200,00 EUR), dates are written as the customer's locale
writes them, and the words are the portal's (`receivables.documents.words.WORDS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.documents.words import WORDS, day

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from fpdf import FPDF

    from receivables.documents.statement import CurrencyStatement
    from receivables.documents.transfer import Transfer
    from receivables.kernel.money import Money
    from receivables.ledger.model import Customer, Invoice


def amount(value: Money, language: str) -> str:
    """``value`` as the locale writes the number, then its currency code: ``1.200,00 EUR``."""
    from babel.numbers import format_decimal

    digits = len(value.to_decimal_string().partition(".")[2])
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return f"{format_decimal(value.to_decimal(), format=pattern, locale=language)} {value.currency}"


def _latin(text: str) -> str:
    """What the core font can draw (anything else becomes '?')."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _document(title: str, seller: str, customer: Customer, dated: date) -> FPDF:
    from datetime import UTC, datetime, time

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(_latin(title))
    pdf.set_author(_latin(seller))
    # Dated by what it shows, not when it was drawn: the same data makes the same document.
    pdf.set_creation_date(datetime.combine(dated, time(), UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, _latin(seller), new_x="LMARGIN", new_y="NEXT")
    # The postal address, when we have it, where a windowed envelope shows it; else the name.
    for line in customer.postal_address or (customer.name or customer.customer_id,):
        pdf.cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


def _rows(pdf: FPDF, rows: Sequence[tuple[str, ...]], widths: tuple[int, ...], right: set[int]) -> None:
    with pdf.table(
        col_widths=widths, text_align=tuple("RIGHT" if i in right else "LEFT" for i in range(len(widths)))
    ) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(_latin(value))


def invoice_pdf(
    invoice: Invoice, customer: Customer, seller: str, language: str, transfer: Transfer | None = None
) -> bytes:
    """The invoice as a PDF: its number and dates, its lines, total, what was paid and credited,
    and what is due; then, with ``transfer``, how to pay it by bank transfer."""
    words = WORDS[language]
    pdf = _document(f"{words['invoice']} {invoice.number}", seller, customer, invoice.issue_date)
    _rows(
        pdf,
        [
            (words["issued"], day(invoice.issue_date, language)),
            (words["due"], day(invoice.due_date, language)),
        ],
        (40, 150),
        set(),
    )
    pdf.ln(4)
    lines = [(words["reference"], words["amount"])]
    lines += [(line.description or line.line_id, amount(line.net, language)) for line in invoice.lines]
    if invoice.tax.minor:
        lines.append((words["tax"], amount(invoice.tax, language)))
    lines += [
        (words["total"], amount(invoice.total, language)),
        (words["kind_payment"], amount(invoice.paid, language)),
        (words["kind_credit_note"], amount(invoice.credited, language)),
        (words["amount_due"], amount(invoice.balance, language)),
    ]
    _rows(pdf, lines, (140, 50), {1})
    if transfer is not None:
        _transfer(pdf, transfer, language)
    return bytes(pdf.output())


def _transfer(pdf: FPDF, transfer: Transfer, language: str) -> None:
    """The transfer instructions: a heading, our account and the reference, then the request to
    quote the reference."""
    words = WORDS[language]
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin(words["pay_by_bank_transfer"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    rows = [(words["account_details"], transfer.account), (words["payment_reference"], transfer.reference)]
    _rows(pdf, rows, (40, 150), set())
    pdf.ln(2)
    pdf.multi_cell(0, 6, _latin(words["quote_reference"]), new_x="LMARGIN", new_y="NEXT")


def statement_pdf(
    statements: list[CurrencyStatement],
    customer: Customer,
    first: date,
    last: date,
    seller: str,
    language: str,
) -> bytes:
    """The statement as a PDF: per currency, the opening balance, each line, the closing balance."""
    words = WORDS[language]
    title = f"{words['statement']}: {day(first, language)} - {day(last, language)}"
    pdf = _document(title, seller, customer, last)
    for s in statements:
        rows = [(words["date"], words["reference"], "", words["amount"], words["balance"])]
        rows.append(("", words["opening"], "", "", amount(s.opening, language)))
        rows += [
            (
                day(line.day, language),
                line.reference,
                words["kind_" + line.kind],
                amount(line.amount, language),
                amount(line.balance, language),
            )
            for line in s.lines
        ]
        rows.append(("", words["closing"], "", "", amount(s.closing, language)))
        _rows(pdf, rows, (28, 52, 30, 40, 40), {3, 4})
        pdf.ln(6)
    return bytes(pdf.output())
