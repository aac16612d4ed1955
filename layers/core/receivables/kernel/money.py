"""Exact money: integer minor units with an ISO 4217 currency; decimal strings at the edges.

No float ever holds an amount. Amounts are parsed from text into `Decimal` and refused when they
carry more precision than the currency has (``"12.345" EUR`` is an error, never a rounding).
Rounding happens only where a rate is applied, once, half-even unless the caller says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from receivables.kernel.errors import ReceivablesError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# ISO 4217 active codes whose minor unit is not 2 (list of 2024 amendment 178).
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    "CLF": 4,
    "UYW": 4,
}

# Every active ISO 4217 code that denotes a currency (funds codes included, metals and testing
# codes such as XAU or XTS excluded: they are not money one invoices in).
ISO_4217_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF
    XPF YER ZAR ZMW ZWG
    """.split()
)

# The largest amount taken in, in major units (a quadrillion): beyond any real invoice, and small
# enough that a sum of many stays exact in Decimal's 28 digits and DynamoDB's 38. Finance's own,
# lower ceiling per currency is `AmountLimits`.
LARGEST_MAJOR = 10**15
LARGEST_DIGITS = 15  # digits before the point of LARGEST_MAJOR - 1
DEFAULT_AMOUNT_LIMIT = Decimal(10**12)


class MoneyError(ReceivablesError, ValueError):
    """An amount or currency that cannot be represented exactly."""


class CurrencyMismatchError(MoneyError):
    """Arithmetic across two currencies."""


def currency_exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (JPY 0, EUR 2, KWD 3).

    >>> currency_exponent("KWD")
    3
    """
    code = normalise_currency(currency)
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def normalise_currency(currency: str) -> str:
    """Upper-case and check an ISO 4217 code; raise `MoneyError` for anything else."""
    code = currency.strip().upper()
    if code not in ISO_4217_CODES:
        raise MoneyError(f"unknown currency {currency!r}: expected an ISO 4217 code such as EUR")
    return code


def parse_decimal(text: str, *, decimal_comma: bool = False) -> Decimal:
    """Parse a human-written decimal number exactly.

    Accepts ``1234.56``, ``1,234.56``, ``1 234,56``, ``1.234,56`` and, when ``decimal_comma`` is
    true (a semicolon-separated file, say), ``1234,56``. A lone comma followed by exactly three
    digits is ambiguous unless ``decimal_comma`` says how to read it, and is refused.

    >>> parse_decimal("1.234,50")
    Decimal('1234.50')
    """
    raw = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    raw = raw.replace("'", "")  # Swiss grouping: 1'234.50
    if not raw:
        raise MoneyError("empty amount")
    if "," in raw and "." in raw:
        decimal_sep = "," if raw.rfind(",") > raw.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        raw = raw.replace(group_sep, "").replace(decimal_sep, ".")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        if raw.count(",") == 1 and (decimal_comma or len(tail) != 3):
            raw = f"{head}.{tail}"
        elif not decimal_comma and all(len(g) == 3 for g in raw.split(",")[1:]):
            raw = raw.replace(",", "")
        else:
            raise MoneyError(f"ambiguous number {text!r}: write it as 1234.56")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MoneyError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not a finite number: {text!r}")
    if not value.is_zero() and not -30 <= value.adjusted() <= 30:
        raise MoneyError(f"{text!r} is out of range for an amount")
    return value


def bounded_decimal(raw: object) -> Decimal:
    """``raw`` (text, an int or a Decimal; never a float or a bool) as an exact, finite `Decimal`
    of at most 30 digits either side of the point; `InvalidOperation` otherwise, so that a
    quantity or a price such as ``1e999999999`` is refused before any arithmetic overflows.

    >>> bounded_decimal("12.50")
    Decimal('12.50')
    """
    if isinstance(raw, (bool, float)) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidOperation(f"not a decimal: {raw!r}")
    value = Decimal(str(raw).strip())
    if not value.is_finite() or (not value.is_zero() and not -30 <= value.adjusted() <= 30):
        raise InvalidOperation(f"out of range: {raw!r}")
    return value


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``minor`` units of ``currency`` (cents for EUR, yen for JPY).

    >>> Money.parse("1656.25", "EUR")
    Money(minor=165625, currency='EUR')
    >>> str(Money(5, "KWD"))
    '0.005 KWD'
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError(f"minor units must be an int, not {type(self.minor).__name__}")
        object.__setattr__(self, "currency", normalise_currency(self.currency))

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency``."""
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion; raise `MoneyError` if ``value`` has more decimals than allowed."""
        exponent = currency_exponent(currency)
        # adjusted() before any arithmetic: abs() of 1e999999999 raises decimal.Overflow.
        if not value.is_finite() or (not value.is_zero() and not -30 <= value.adjusted() < LARGEST_DIGITS):
            raise MoneyError(f"{value} {currency} is out of range: amounts are under {LARGEST_MAJOR:.0e}")
        scaled = value.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise MoneyError(
                f"{value} has more than {exponent} decimal place(s), the precision of {currency}"
            )
        return cls(int(scaled), currency)

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str, *, decimal_comma: bool = False) -> Money:
        """Parse a decimal string (or an exact number) into minor units of ``currency``."""
        if isinstance(text, (bool, float)):
            raise MoneyError("amounts must be given as decimal strings, never as floats")
        value = text if isinstance(text, Decimal) else parse_decimal(str(text), decimal_comma=decimal_comma)
        return cls.from_decimal(value, currency)

    # --- presentation -------------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        """Decimal places of this currency."""
        return currency_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        """The amount as an exact `Decimal` in major units."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def to_decimal_string(self) -> str:
        """Major units with exactly the currency's decimals: ``"1656.25"``, ``"100"`` for JPY."""
        exponent = self.exponent
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**exponent)
        return f"{sign}{whole}.{frac:0{exponent}d}" if exponent else f"{sign}{whole}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"

    # --- arithmetic ---------------------------------------------------------------------------
    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.minor >= other.minor

    def is_zero(self) -> bool:
        """True for an amount of exactly nothing."""
        return self.minor == 0

    def times(self, factor: Decimal, *, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Multiply by an exact factor (a rate, a quantity), rounding once to the minor unit.

        A float factor is refused by `Decimal` arithmetic itself (TypeError).
        """
        product = (Decimal(self.minor) * factor).quantize(Decimal(1), rounding=rounding)
        return Money(int(product), self.currency)

    def percent(self, rate_percent: Decimal, *, rounding: str = ROUND_HALF_EVEN) -> Money:
        """``rate_percent`` % of this amount, rounded once (half-even by default)."""
        return self.times(rate_percent / Decimal(100), rounding=rounding)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to integer ``weights`` that add up exactly.

        The remainder goes one minor unit at a time to the largest fractional shares (largest
        remainder method; ties to the earliest part), so no unit is created or lost.

        >>> [m.minor for m in Money(100, "EUR").allocate([1, 1, 1])]
        [34, 33, 33]
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise MoneyError("allocation needs non-negative weights with a positive sum")
        total = sum(weights)
        sign = -1 if self.minor < 0 else 1
        amount = abs(self.minor)
        shares = [amount * w // total for w in weights]
        remainders = [amount * w % total for w in weights]
        left = amount - sum(shares)
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
            shares[index] += 1
        return [Money(sign * s, self.currency) for s in shares]


@dataclass(frozen=True, slots=True)
class AmountLimits:
    """The largest amount finance takes in, per currency, in major units (``"*"`` for the rest).

    Parsed from text such as ``"EUR=50000000,JPY=5000000000,*=1000000000"`` (the
    ``AMOUNT_LIMITS`` setting); an amount above its currency's limit is refused at the edge with
    the limit named, never rounded or stored.

    >>> AmountLimits.parse("EUR=1000").limit("EUR")
    Money(minor=100000, currency='EUR')
    """

    per_currency: tuple[tuple[str, Decimal], ...] = ()
    default: Decimal = DEFAULT_AMOUNT_LIMIT

    @classmethod
    def parse(cls, text: str) -> AmountLimits:
        """Read ``CODE=amount`` pairs separated by commas; raise `MoneyError` for a bad one."""
        pairs: list[tuple[str, Decimal]] = []
        default = DEFAULT_AMOUNT_LIMIT
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            code, equals, amount = item.partition("=")
            value = parse_decimal(amount) if equals else None
            if value is None or value <= 0 or value >= LARGEST_MAJOR:
                raise MoneyError(f"amount limit {item!r}: expected CODE=positive amount")
            if code.strip() == "*":
                default = value
            else:
                pairs.append((normalise_currency(code), value))
        return cls(tuple(pairs), default)

    def limit(self, currency: str) -> Money:
        """The largest amount taken in ``currency``."""
        code = normalise_currency(currency)
        major = dict(self.per_currency).get(code, self.default)
        return Money.from_decimal(major.quantize(Decimal(1).scaleb(-currency_exponent(code))), code)

    def check(self, amount: Money) -> Money:
        """``amount`` itself when within its currency's limit (either sign); else `MoneyError`."""
        ceiling = self.limit(amount.currency)
        if abs(amount.minor) > ceiling.minor:
            raise MoneyError(f"is more than the largest amount taken, {ceiling}")
        return amount


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """Add amounts of one currency, starting from zero (so an empty sum is zero)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
