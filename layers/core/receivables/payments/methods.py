"""Which ways to pay fit an invoice's currency, the customer's preferred one first.

Cards fit every currency; SEPA Direct Debit is for euros, ACH debit for US dollars; a bank
transfer is offered where the seller has an account in that currency (``BANK_ACCOUNTS``, e.g.
``{"EUR": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"}``), with the invoice numbers as
the remittance text so the payment matches itself when it arrives.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

METHODS = ("card", "sepa_debit", "us_bank_account", "bank_transfer")
STRIPE_METHODS = frozenset({"card", "sepa_debit", "us_bank_account"})
DEBIT_CURRENCY = {"sepa_debit": "EUR", "us_bank_account": "USD"}


def methods_for(currency: str, preferred: str | None, bank_accounts: Mapping[str, str]) -> list[str]:
    """The methods that fit ``currency``, in our order, with ``preferred`` first if it fits."""
    fit = [
        m
        for m in METHODS
        if (m == "card")
        or (m in DEBIT_CURRENCY and DEBIT_CURRENCY[m] == currency)
        or (m == "bank_transfer" and currency in bank_accounts)
    ]
    if preferred in fit:
        fit.remove(preferred)
        fit.insert(0, preferred)
    return fit


def stripe_methods(currency: str, preferred: str | None) -> list[str]:
    """The Checkout ``allowed_payment_method_types`` for ``currency``, the preferred one first
    (the pinned API version, 2026-10-28.endive, takes no ``payment_method_types`` any more)."""
    return [m for m in methods_for(currency, preferred, {}) if m in STRIPE_METHODS]


def parse_bank_accounts(text: str | None) -> dict[str, str]:
    """``BANK_ACCOUNTS`` (a JSON object: currency -> the account details to print); {} if unset.
    Raises ValueError naming what is wrong."""
    if not text or not text.strip():
        return {}
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and len(k) == 3 and k.isupper() and isinstance(v, str) and v.strip()
        for k, v in raw.items()
    ):
        raise ValueError("BANK_ACCOUNTS must map ISO 4217 codes (EUR) to non-empty account details")
    return {str(k): str(v).strip() for k, v in raw.items()}
