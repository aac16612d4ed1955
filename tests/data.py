"""Generated test data: large invoice files of the documented CSV layout."""

from __future__ import annotations

HEADER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,"
    "po_number,total_amount,tax_amount\n"
)


def big_csv(rows: int, customers: int = 1000, *, bad_every: int = 0) -> bytes:
    """``rows`` one-line invoices over ``customers`` customers; every ``bad_every``-th row has an
    unreadable amount (0: none)."""
    out = [HEADER]
    for n in range(1, rows + 1):
        c = n % customers
        cents = 10_000 + (n * 7919) % 990_000
        amount = f"{cents // 100}.{cents % 100:02d}" if not bad_every or n % bad_every else "12.3.4"
        tax = f"{cents // 600}.{(cents // 6) % 100:02d}"
        day = 1 + n % 28
        out.append(
            f"BIG-{n:07d},2026-09-{day:02d},2026-10-{day:02d},EUR,C{c:05d},Customer {c},"
            f"ap{c}@customer.example,PO-{n},{amount},{tax}\n"
        )
    return "".join(out).encode()
