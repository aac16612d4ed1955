"""The open items a bank line is matched against, read from the ledger as the matching asks.

Per line the matching asks a few questions (this reference, these numbers, this IBAN, this
customer's open invoices): each is a GetItem or a Query by key, so the work per line does not
grow with the ledger. Invoices are read fresh each time (the line before may have paid one); what
does not change during an import (who an IBAN belongs to, customers' names) is read once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.banking.creditor_reference import invoice_id_of
from receivables.banking.lines import iban_identifier, iban_key
from receivables.banking.open_items import OpenItems, number_key
from receivables.ledger.model import DocumentType, Invoice
from receivables.ledger.rules import document_id
from receivables.payments.cash import oldest_first
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


_NAME_PAGE = 500


class LedgerView:
    """`receivables.banking.open_items.OpenItemsView` over the ledger (the store must be bound).

    ``sellers`` are the seller ids an invoice number may be issued under (a number is unique per
    seller, `receivables.ledger.rules.document_id`)."""

    def __init__(self, sellers: Sequence[str] = ("self",)) -> None:
        self._sellers = tuple(sellers)
        self._ibans: dict[str, tuple[str, ...]] = {}
        self._names: OpenItems | None = None
        self._customer_names: dict[str, str | None] = {}

    def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice of that id, open or not; None when unknown."""
        return store.get_invoice(invoice_id)

    def by_reference(self, reference: str) -> Sequence[Invoice]:
        """The invoice an ``RF`` reference we issued stands for (it encodes the invoice's id)."""
        invoice_id = invoice_id_of(reference)
        invoice = store.get_invoice(invoice_id) if invoice_id else None
        return (invoice,) if invoice is not None else ()

    def by_number(self, number: str) -> Sequence[Invoice]:
        """The invoices of that number under each seller (one GetItem for all of them)."""
        ids = [document_id(seller, DocumentType.INVOICE, number.strip()) for seller in self._sellers]
        return [h for h in store.get_heads(ids).values() if isinstance(h, Invoice)]

    def numbered(self, candidates: Sequence[str]) -> Mapping[str, Sequence[Invoice]]:
        """The invoices the candidate numbers name exactly as written, under each seller, by
        `number_key` (one batch of GetItems for all of them)."""
        ids = [document_id(s, DocumentType.INVOICE, n.strip()) for s in self._sellers for n in candidates]
        found: dict[str, list[Invoice]] = {}
        for head in store.get_heads(ids).values():
            if isinstance(head, Invoice):
                found.setdefault(number_key(head.number), []).append(head)
        return found

    def issued(self, reference: str) -> Sequence[str]:
        """Nothing yet: the references we issue (direct debits) are collected through Stripe,
        whose events apply the money themselves."""
        return ()

    def customers_of_iban(self, iban: str) -> Sequence[str]:
        """The customer a payer IBAN is known for (from enrolment or a confirmed lettering)."""
        key = iban_key(iban)
        if key not in self._ibans:
            found = store.customers_by_identifier([iban_identifier(key)])
            self._ibans[key] = tuple(found.values())
        return self._ibans[key]

    def open_of(self, customer_id: str) -> Sequence[Invoice]:
        """A customer's collectible invoices with a balance, oldest due first (one Query)."""
        return oldest_first(d for d in store.customer_documents(customer_id) if isinstance(d, Invoice))

    def customer_name(self, customer_id: str) -> str | None:
        """The customer's name as finance knows it (read once per customer)."""
        if customer_id not in self._customer_names:
            customer = store.get_customer(customer_id)
            self._customer_names[customer_id] = customer.name if customer is not None else None
        return self._customer_names[customer_id]

    def customers_named(self, name: str, threshold: float) -> Sequence[tuple[str, float]]:
        """The customers whose name is close to ``name`` (every customer's name is read once,
        page by page, the first time a line asks)."""
        if self._names is None:
            self._names = OpenItems.build((), customer_names=dict(_customer_names()))
        return self._names.customers_named(name, threshold)


def _customer_names() -> list[tuple[str, str | None]]:
    names: list[tuple[str, str | None]] = []
    cursor = None
    while True:
        page, cursor = store.customers_by_name(_NAME_PAGE, cursor)
        names.extend((c.customer_id, c.name) for c in page)
        if cursor is None:
            return names
