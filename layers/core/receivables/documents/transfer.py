"""An invoice's bank-transfer instructions, the same wherever a customer reads them (the invoice
email, the invoice's PDF, the portal): our account in the invoice's currency (``BANK_ACCOUNTS``)
and the invoice's ISO 11649 creditor reference, with the request to quote it.

The reference is `receivables.banking.creditor_reference.creditor_reference` of the invoice's id,
printed in groups of four (``RF74 0000 0000 0000 0000 001``): nothing is stored, and a bank line
that carries it, in the structured remittance or in the text, letters to this invoice exactly
(`receivables.banking.matching`, rule ``structured_reference``). The Peppol e-invoice carries the
same reference, compact, as its ``PaymentID`` (`receivables.mail.einvoice`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.banking.creditor_reference import creditor_reference
from receivables.banking.creditor_reference import format as printed
from receivables.documents.words import WORDS, labelled

if TYPE_CHECKING:
    from collections.abc import Mapping

    from receivables.ledger.model import Invoice


@dataclass(frozen=True, slots=True)
class Transfer:
    """How to pay one invoice by bank transfer: our account's details as ``BANK_ACCOUNTS`` gives
    them, and the invoice's ``RF`` reference in groups of four."""

    account: str
    reference: str


def payment_reference(invoice: Invoice) -> str:
    """The invoice's ``RF`` creditor reference as printed: ``RF74 0000 0000 0000 0000 001``."""
    return printed(creditor_reference(invoice.invoice_id))


def transfer_for(invoice: Invoice, bank_accounts: Mapping[str, str] | None) -> Transfer | None:
    """The transfer instructions of ``invoice``, or None when we have no account in its currency
    (then no transfer is offered, as on the portal: `receivables.payments.methods`)."""
    account = (bank_accounts or {}).get(invoice.currency)
    return Transfer(account, payment_reference(invoice)) if account else None


def transfer_lines(transfer: Transfer, language: str) -> list[str]:
    """The instructions as lines of text in ``language`` (a `WORDS` language): the heading, our
    account, the reference and the request to quote it."""
    words = WORDS[language]
    return [
        words["pay_by_bank_transfer"],
        labelled(words["account_details"], transfer.account, language),
        labelled(words["payment_reference"], transfer.reference, language),
        words["quote_reference"],
    ]
