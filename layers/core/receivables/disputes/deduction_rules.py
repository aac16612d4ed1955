"""Deductions, as pure rules: a customer pays an invoice short and says (or not) why.

- *Tolerance*: a shortfall up to the policy's tolerance in its currency is written off (a few
  cents of bank charges or rounding are not worth a person's time); above it, a deduction opens.
- *Reasons*: what the remittance says (structured lines with the customer's own reason codes, or
  words in the free text) is mapped to our reasons: the customer's codes first, then the codes
  every customer uses, then keywords; the policy's default when nothing matches. One shortfall
  that names several reasons with amounts is split; the rest of it takes the first reason named.
- *Checks*: an early-payment discount is valid when the payment came within the discount period
  of the invoice's terms, up to the discount's amount; a pricing claim is valid up to what the
  lines are overbilled against the PO or price list on file. What no data can decide goes to an
  owner (a rule by reason and customer), with the evidence the reason needs.

Every split and check conserves money: the parts of a deduction always add up to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date

    from receivables.ledger.terms import CashDiscount

PRICING = "pricing"
PROMOTION = "promotion"
EARLY_PAYMENT_DISCOUNT = "early_payment_discount"
SHORT_DELIVERY = "short_delivery"
FREIGHT = "freight"
RETURNS = "returns"
OTHER = "other"
REASONS = (PRICING, PROMOTION, EARLY_PAYMENT_DISCOUNT, SHORT_DELIVERY, FREIGHT, RETURNS, OTHER)

# What the owner needs in hand to decide a deduction of each reason.
EVIDENCE: dict[str, tuple[str, ...]] = {
    PRICING: ("price_agreement",),
    PROMOTION: ("promotion_agreement",),
    EARLY_PAYMENT_DISCOUNT: (),
    SHORT_DELIVERY: ("proof_of_delivery",),
    FREIGHT: ("freight_terms",),
    RETURNS: ("return_authorisation",),
    OTHER: (),
}

# Reason codes many payers use in remittance advice (X12 820 adjustment codes and common
# shorthand), read when the customer has no mapping of its own for a code.
COMMON_CODES: dict[str, str] = {
    "01": PRICING,
    "PR": PRICING,
    "PD": PRICING,
    "AA": PROMOTION,
    "PA": PROMOTION,
    "PROMO": PROMOTION,
    "CD": EARLY_PAYMENT_DISCOUNT,
    "DI": EARLY_PAYMENT_DISCOUNT,
    "SKONTO": EARLY_PAYMENT_DISCOUNT,
    "SH": SHORT_DELIVERY,
    "DM": SHORT_DELIVERY,
    "FR": FREIGHT,
    "RT": RETURNS,
    "RA": RETURNS,
}

# Words of the free remittance text, in English, French and German, by reason.
KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"skonto|escompte|early[\s-]*pay\w*|cash\s+discount|prompt\s+pay\w*|\bdiscount", EARLY_PAYMENT_DISCOUNT),
    (r"promo\w*|allowance|rebate|co-?op|remise|werbekosten", PROMOTION),
    (r"pric\w*|prix|preis\w*|overcharg\w*|overbill\w*", PRICING),
    (r"damag\w*|broken|short\w*|missing|manquant|besch[aä]digt|fehlmenge", SHORT_DELIVERY),
    (r"freight|shipping|carriage|transport|fracht|port\b", FREIGHT),
    (r"return\w*|retour\w*|r[üu]ckgabe|r[üu]cksendung", RETURNS),
)
# A remittance that calls itself a part payment means the rest to follow: not a deduction.
_ON_ACCOUNT = re.compile(
    r"part(?:ial)?[\s-]*pay\w*|instal+ment|on\s+account|a[\s-]?compte|teilzahlung|abschlag\w*|anzahlung",
    re.IGNORECASE,
)
_KEYWORD_PATTERNS = tuple((re.compile(p, re.IGNORECASE), reason) for p, reason in KEYWORDS)
# "<label> 47.60" or "<label>: 47,60 EUR": a reason and its amount in free text.
_LABELLED_AMOUNT = re.compile(
    r"(?P<label>[^\W\d_][^\d\n;]{1,40}?)\s*[:=]?\s*(?:EUR|USD|GBP|CHF|€|\$|£)?\s*"
    r"(?P<amount>\d{1,9}(?:[.,]\d{3})*[.,]\d{2})(?!\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class OwnerRule:
    """Who works deductions of ``reason`` for ``customer_id`` ("*": any)."""

    reason: str
    customer_id: str
    owner: str

    def specificity(self) -> int:
        """A rule naming the customer beats one naming the reason, which beats a catch-all."""
        return (2 if self.customer_id != "*" else 0) + (1 if self.reason != "*" else 0)


@dataclass(frozen=True, slots=True)
class DeductionPolicy:
    """Finance's rules for short payments."""

    tolerance: dict[str, Money] = field(
        default_factory=lambda: {
            "EUR": Money(500, "EUR"),
            "USD": Money(500, "USD"),
            "GBP": Money(500, "GBP"),
            "CHF": Money(500, "CHF"),
        }
    )
    default_reason: str = OTHER
    # The customer's own reason codes to ours: {"cus_…": {"Z07": "pricing"}}; "*" for everyone.
    reason_codes: dict[str, dict[str, str]] = field(default_factory=dict)
    owners: tuple[OwnerRule, ...] = ()

    def tolerance_in(self, currency: str) -> Money:
        """The shortfall written off without a deduction (zero in a currency not set)."""
        return self.tolerance.get(currency, Money.zero(currency))

    def reason_for(self, customer_id: str, code: str | None, text: str = "") -> str | None:
        """Our reason for the customer's ``code`` (or, without one, the ``text``), or None."""
        if code:
            key = code.strip().upper()
            for mapping in (self.reason_codes.get(customer_id, {}), self.reason_codes.get("*", {})):
                found = {k.upper(): v for k, v in mapping.items()}.get(key)
                if found:
                    return found
            if key in COMMON_CODES:
                return COMMON_CODES[key]
        return reason_in_text(f"{code or ''} {text}")

    def owner_for(self, reason: str, customer_id: str) -> str | None:
        """The owner of a deduction of ``reason`` for ``customer_id`` by the most specific rule."""
        matching = [
            r for r in self.owners if r.reason in (reason, "*") and r.customer_id in (customer_id, "*")
        ]
        return max(matching, key=OwnerRule.specificity).owner if matching else None

    def to_json(self) -> dict[str, Any]:
        """The policy as stored and shown (amounts as decimal strings)."""
        return {
            "tolerance": {c: m.to_decimal_string() for c, m in sorted(self.tolerance.items())},
            "default_reason": self.default_reason,
            "reason_codes": {c: dict(sorted(m.items())) for c, m in sorted(self.reason_codes.items())},
            "owners": [
                {"reason": r.reason, "customer_id": r.customer_id, "owner": r.owner} for r in self.owners
            ],
        }


def says_on_account(text: str) -> bool:
    """Whether a remittance calls the payment a part payment (the rest to follow).

    >>> says_on_account("Invoice INV-7 part payment"), says_on_account("INV-7 less skonto")
    (True, False)
    """
    return bool(_ON_ACCOUNT.search(text))


def reason_in_text(text: str) -> str | None:
    """The first reason whose words the text holds, or None.

    >>> reason_in_text("less 2% Skonto")
    'early_payment_discount'
    """
    for pattern, reason in _KEYWORD_PATTERNS:
        if pattern.search(text):
            return reason
    return None


def policy_from_json(body: Any) -> DeductionPolicy:
    """A policy from JSON, every field checked; `InvalidRequestError` names each bad one."""

    if not isinstance(body, dict):
        raise InvalidRequestError([FieldError("policy", "must be an object")])
    errors = [
        FieldError(k, "is not a field of the deduction policy")
        for k in sorted(set(body) - set(DeductionPolicy().to_json()))
    ]
    tolerance: dict[str, Money] = {}
    raw_tolerance = body.get("tolerance", DeductionPolicy().to_json()["tolerance"])
    if not isinstance(raw_tolerance, dict):
        errors.append(FieldError("tolerance", 'must map currencies to amounts: {"EUR": "5.00"}'))
        raw_tolerance = {}
    for currency, amount in raw_tolerance.items():
        try:
            money = Money.parse(str(amount), str(currency))
            if not isinstance(amount, str) or money.minor < 0:
                raise ValueError
            tolerance[money.currency] = money
        except (MoneyError, InvalidOperation, ValueError):
            errors.append(
                FieldError(
                    f"tolerance.{currency}", "must be a decimal string, zero or more, in that currency"
                )
            )
    default = body.get("default_reason", OTHER)
    if default not in REASONS:
        errors.append(FieldError("default_reason", f"must be one of {', '.join(REASONS)}"))
    codes = body.get("reason_codes", {})
    if not isinstance(codes, dict) or not all(
        isinstance(m, dict) and all(isinstance(k, str) and 0 < len(k) <= 20 for k in m)
        for m in codes.values()
    ):
        errors.append(FieldError("reason_codes", 'must map "*" or a customer id to {code: reason}'))
        codes = {}
    for customer, mapping in codes.items():
        errors += [
            FieldError(f"reason_codes.{customer}.{code}", f"must be one of {', '.join(REASONS)}")
            for code, reason in mapping.items()
            if reason not in REASONS
        ]
    owners = _owners(body.get("owners", []), errors)
    if errors:
        raise InvalidRequestError(errors)
    return DeductionPolicy(tolerance, str(default), {c: dict(m) for c, m in codes.items()}, tuple(owners))


def _owners(raw: Any, errors: list[Any]) -> list[OwnerRule]:

    if not isinstance(raw, list) or len(raw) > 200:
        errors.append(FieldError("owners", "must be a list of at most 200 {reason, customer_id, owner}"))
        return []
    owners: list[OwnerRule] = []
    for n, rule in enumerate(raw):
        if (
            not isinstance(rule, dict)
            or rule.get("reason", "*") not in (*REASONS, "*")
            or not isinstance(rule.get("customer_id", "*"), str)
            or not isinstance(rule.get("owner"), str)
            or "@" not in rule["owner"]
        ):
            errors.append(
                FieldError(
                    f"owners[{n}]", 'must be {"reason": a reason or "*", "customer_id", "owner": email}'
                )
            )
            continue
        owners.append(OwnerRule(rule.get("reason", "*"), rule.get("customer_id", "*"), rule["owner"]))
    return owners


# --- what the remittance says -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RemittanceLine:
    """One line of a remittance advice explaining a shortfall: which invoice (its number, or None
    for the payment's), how much (None: the rest), the customer's ``code`` and their ``note``."""

    invoice: str | None = None
    amount: Money | None = None
    code: str | None = None
    note: str = ""


def lines_in_text(text: str, currency: str) -> list[RemittanceLine]:
    """Reasons with amounts in free remittance text ("skonto 47.60, damaged 120,00"); a reason
    word without an amount gives a line for the rest.

    >>> [(l.note, l.amount) for l in lines_in_text("INV-7 less Skonto 47.60", "EUR")]
    [('less Skonto', Money(minor=4760, currency='EUR'))]
    """
    found: list[RemittanceLine] = []
    for match in _LABELLED_AMOUNT.finditer(text):
        label = match.group("label").strip(" :=-,")
        if reason_in_text(label) is None:
            continue
        raw = match.group("amount")
        decimal = raw[:-3].replace(".", "").replace(",", "") + "." + raw[-2:]
        try:
            found.append(RemittanceLine(amount=Money.parse(decimal, currency), note=label))
        except (MoneyError, InvalidOperation, ValueError):
            continue
    if not found and reason_in_text(text) is not None:
        found.append(RemittanceLine(note=text.strip()[:200]))
    return found


@dataclass(frozen=True, slots=True)
class Part:
    """One reason's share of a deduction, and what its check found."""

    reason: str
    amount: Money
    code: str | None = None
    note: str = ""
    validity: str = "open"  # "open" (an owner decides), "valid" (credited), "invalid" (chased)
    check: str = ""  # why, when a check decided it
    # What the check found, for a message in the customer's language: "discount_late" with its
    # facts ({"paid_on", "deadline", "percent"}), "discount_no_terms", "discount_beyond"
    # ({"allowed"}), "pricing_agrees" ({"against"}), "pricing_beyond" ({"overbilled"}), "owner".
    finding: str = ""
    facts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """As stored and shown."""
        return {
            "reason": self.reason,
            "amount": self.amount.to_decimal_string(),
            "code": self.code,
            "note": self.note,
            "validity": self.validity,
            "check": self.check,
            "finding": self.finding,
            "facts": dict(self.facts),
            "evidence_needed": list(EVIDENCE.get(self.reason, ())) if self.validity == "open" else [],
        }


def split(
    shortfall: Money, lines: Sequence[RemittanceLine], customer_id: str, policy: DeductionPolicy
) -> list[Part]:
    """The shortfall's parts by reason: each line with an amount takes it (never more than what
    is left), and the rest goes to the first line without an amount, else to the first reason
    named, else to the default. The parts add up to ``shortfall`` exactly."""
    parts: list[Part] = []
    left = shortfall
    for line in lines:
        if line.amount is None or line.amount.currency != shortfall.currency or left.minor <= 0:
            continue
        taken = min(line.amount, left)
        if taken.minor > 0:
            reason = policy.reason_for(customer_id, line.code, line.note) or policy.default_reason
            parts.append(Part(reason, taken, line.code, line.note))
            left = left - taken
    if left.minor > 0:
        rest = next((line for line in lines if line.amount is None), None)
        if rest is not None:
            reason = policy.reason_for(customer_id, rest.code, rest.note) or policy.default_reason
            parts.append(Part(reason, left, rest.code, rest.note))
        else:
            named = parts[0] if parts else None
            reason = named.reason if named else policy.default_reason
            parts.append(Part(reason, left, None, "the rest of the shortfall"))
    return _merged(parts)


def _merged(parts: Iterable[Part]) -> list[Part]:
    """Parts of the same reason and code as one."""
    merged: dict[tuple[str, str | None], Part] = {}
    for part in parts:
        key = (part.reason, part.code)
        if key in merged:
            before = merged[key]
            note = before.note if part.note in before.note else f"{before.note}; {part.note}".strip("; ")
            merged[key] = Part(part.reason, before.amount + part.amount, part.code, note)
        else:
            merged[key] = part
    return list(merged.values())


# --- checks -------------------------------------------------------------------------------------
def check_discount(
    part: Part,
    discount: CashDiscount | None,
    issue_date: date,
    paid_on: date,
    payable: Money,
    shortfall: Money | None = None,
) -> list[Part]:
    """An early-payment discount taken: valid within the terms' period up to the discount's
    amount (one minor unit of rounding allowed); what is taken late, without terms granting it,
    or beyond the discount is invalid and chased. A discount is earned by paying the rest in the
    period: a "discount" that leaves more than the discount again unpaid (a token payment
    calling itself a Skonto) earns nothing, and all of it is chased. ``shortfall`` is everything
    the payment left owing, whatever reasons the remittance gives for the rest of it: a discount
    is not earned by calling the unpaid balance freight."""
    if discount is None:
        return [
            replace_validity(
                part, "invalid", "the invoice's terms grant no early-payment discount", "discount_no_terms"
            )
        ]
    deadline = discount.deadline(issue_date)
    facts = {
        "paid_on": paid_on.isoformat(),
        "deadline": deadline.isoformat(),
        "percent": str(discount.percent),
    }
    if paid_on > deadline:
        late = (paid_on - deadline).days
        return [
            replace_validity(
                part,
                "invalid",
                f"paid on {paid_on}, {late} day(s) after the {discount.percent} % discount period "
                f"ended on {deadline}",
                "discount_late",
                facts,
            )
        ]
    allowed = Money(discount.of(payable.minor), payable.currency)
    within = f"{discount.percent} % of {payable} within {discount.days} days (until {deadline})"
    facts |= {"allowed": allowed.to_decimal_string()}
    elsewhere = (shortfall or part.amount) - part.amount  # the rest of the shortfall, other reasons'
    if part.amount - allowed <= allowed < elsewhere:
        # The payment left more unpaid than the discount, under other reasons: the discount
        # stands or falls with them, so their owner decides it too.
        check = (
            f"a {discount.percent} % discount is earned by paying the rest by {deadline}; "
            f"{elsewhere} of the rest is claimed for other reasons: for the owner to decide"
        )
        return [Part(part.reason, part.amount, part.code, part.note, "open", check, "", facts)]
    if part.amount.minor <= allowed.minor + 1:
        return [
            replace_validity(
                part, "valid", f"taken on {paid_on}: {within} allows {allowed}", "discount_valid", facts
            )
        ]
    excess = part.amount - allowed
    if excess > allowed:
        return [
            replace_validity(
                part,
                "invalid",
                f"a {discount.percent} % discount is earned by paying the rest by {deadline}; "
                f"{excess} beyond the {allowed} it allows was left unpaid",
                "discount_beyond",
                facts,
            )
        ]
    return [
        replace_validity(
            Part(part.reason, allowed, part.code, part.note),
            "valid",
            f"{within} allows {allowed}",
            "discount_valid",
            facts,
        ),
        replace_validity(
            Part(part.reason, excess, part.code, part.note),
            "invalid",
            f"{excess} taken beyond the {allowed} the discount allows",
            "discount_beyond",
            facts,
        ),
    ]


def check_pricing(part: Part, overbilled: Money | None, against: str) -> list[Part]:
    """A pricing claim against what the lines are overbilled by (None: nothing on file to
    compare with, so an owner decides): valid up to it, the rest invalid."""
    if overbilled is None:
        return [part]
    facts = {"against": against, "overbilled": overbilled.to_decimal_string()}
    if overbilled.minor <= 0:
        return [
            replace_validity(part, "invalid", f"every line agrees with {against}", "pricing_agrees", facts)
        ]
    valid_check = f"the lines are overbilled by {overbilled} against {against}"
    if part.amount <= overbilled:
        return [replace_validity(part, "valid", valid_check, "pricing_valid", facts)]
    return [
        replace_validity(
            Part(part.reason, overbilled, part.code, part.note), "valid", valid_check, "pricing_valid", facts
        ),
        replace_validity(
            Part(part.reason, part.amount - overbilled, part.code, part.note),
            "invalid",
            f"claimed beyond the {overbilled} the lines are overbilled by",
            "pricing_beyond",
            facts,
        ),
    ]


def cap_cumulative(parts: Sequence[Part], already: dict[str, Money]) -> list[Part]:
    """``parts`` with each valid one kept within what its allowance (a discount's ``allowed``, a
    pricing claim's ``overbilled``) leaves after what was credited before for the same reason on
    the invoice (``already``, by reason, updated in place): a discount is given once, an
    overbilling credited once, however many short payments claim them. The rest is invalid.

    >>> eur = Money(5000, "EUR")
    >>> claim = Part("pricing", eur, validity="valid", facts={"overbilled": "50.00"})
    >>> [p.validity for p in cap_cumulative([claim], {"pricing": Money(2000, "EUR")})]
    ['valid', 'invalid']
    """
    kept: list[Part] = []
    for part in parts:
        allowance_text = part.facts.get("allowed") or part.facts.get("overbilled")
        if part.validity != "valid" or allowance_text is None:
            kept.append(part)
            continue
        currency = part.amount.currency
        allowance = Money.parse(allowance_text, currency)
        before = already.get(part.reason, Money.zero(currency))
        room = max(allowance - before, Money.zero(currency))
        if part.amount <= room:
            kept.append(part)
            already[part.reason] = before + part.amount
            continue
        if room.minor > 0:
            kept.append(
                replace_validity(
                    Part(part.reason, room, part.code, part.note),
                    "valid",
                    part.check,
                    part.finding,
                    part.facts,
                )
            )
        facts = part.facts | {"credited_before": before.to_decimal_string()}
        kept.append(
            replace_validity(
                Part(part.reason, part.amount - room, part.code, part.note),
                "invalid",
                f"{before} of the {allowance} allowed was credited on this invoice already",
                "already_credited",
                facts,
            )
        )
        already[part.reason] = before + room
    return kept


CREDITED_BY_CHECK = frozenset({PRICING, EARLY_PAYMENT_DISCOUNT})


def hold_for_controller(parts: Sequence[Part], limit: Money, before: Money) -> list[Part]:
    """Valid parts (a pricing claim, a discount: what a check credits) made open again, for the
    owner's decision (a controller's), when they and what the invoice was credited ``before``
    come to more than ``limit``: a check rests on data people filed or typed (a price list, a PO,
    the date a payment is recorded as received), and credit notes above the limit must not
    follow from one person's word alone (segregation of duties), nor from many small claims. The
    check's finding is kept in the part's check text."""
    credited = sum(
        (p.amount for p in parts if p.reason in CREDITED_BY_CHECK and p.validity == "valid"), before
    )
    if credited <= limit:
        return list(parts)
    held = []
    for part in parts:
        if part.reason in CREDITED_BY_CHECK and part.validity == "valid":
            check = (
                f"{part.check}; with {before} credited before, above the {limit} credited without a "
                "controller: for the owner to decide"
            )
            held.append(
                Part(part.reason, part.amount, part.code, part.note, "open", check, "", dict(part.facts))
            )
        else:
            held.append(part)
    return held


def decide_open(parts: Sequence[Part], credit: Money | None, by: str) -> list[Part]:
    """The owner's decision on the open parts: ``credit`` (None: nothing) is valid, taken from
    the open parts in order, and the rest of them invalid; decided parts stay as they were."""
    left = credit
    decided: list[Part] = []
    for part in parts:
        if part.validity != "open":
            decided.append(part)
            continue
        valid = min(left, part.amount) if left is not None else Money.zero(part.amount.currency)
        if left is not None:
            left = left - valid
        if valid.minor:
            accepted = Part(part.reason, valid, part.code, part.note)
            decided.append(replace_validity(accepted, "valid", by, "owner"))
        if (part.amount - valid).minor:
            rest = Part(part.reason, part.amount - valid, part.code, part.note)
            decided.append(replace_validity(rest, "invalid", by, "owner"))
    return decided


def replace_validity(
    part: Part, validity: str, check: str, finding: str = "", facts: dict[str, str] | None = None
) -> Part:
    """``part`` decided, and why (a sentence for finance, a finding and its facts for the
    customer's message)."""
    return Part(part.reason, part.amount, part.code, part.note, validity, check, finding, dict(facts or {}))


def total(parts: Iterable[Part], currency: str, validity: str | None = None) -> Money:
    """The parts' sum (only those of ``validity``, when given)."""
    return sum((p.amount for p in parts if validity is None or p.validity == validity), Money.zero(currency))


def parse_decimal_amount(raw: Any, currency: str) -> Money | None:
    """A decimal-string amount in ``currency``, or None."""
    if not isinstance(raw, str):
        return None
    try:
        return Money.parse(raw, currency) if Decimal(raw) >= 0 else None
    except (MoneyError, InvalidOperation, ValueError):
        return None
