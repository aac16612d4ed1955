"""Explainable matching of a bank line (a credit `Entry`) to open invoices.

The rules, strongest first (issue 22, item 4); each finding is a `Match` carrying its rule, a
confidence, the allocations it would make and a sentence of evidence a person reads:

- ``structured_reference`` (1.0): an ``RF`` reference, structured or written in the text, that
  is one of our invoices' references. Its check digits catch a mistyped reference, and we
  issued it: nothing is more certain.
- ``end_to_end_id`` (0.98): an EndToEndId, or a reference we issued (a direct-debit
  collection), that the caller knows stands for invoices.
- ``invoice_number`` (0.95 / 0.92 / 0.8): invoice numbers the remittance names, each number
  found exactly once (today's rule, `receivables.payments.cash.candidate_numbers`). Numbers are
  dense and payers mistype them into another existing number, so a number alone is not enough:
  0.95 when the amount or the payer's IBAN confirms it, 0.92 when the payer's name does, 0.8
  (review) when nothing does, 0.7 when the IBAN is known for another customer.
- ``iban_amount`` (0.95 one invoice, 0.92 a combination): the payer's IBAN known for exactly
  one customer, then the amount against that customer's open invoices, exactly
  (`receivables.banking.subset`, bounded; oldest first among equal balances). Short within the
  deduction tolerance (0.65, with its ``shortfall``), ambiguous (0.6), no fit (0.5) and a search
  that gave up (0.4) are only for review.
- ``payer_name`` (at most 0.6): the payer's name close to a customer's; a suggestion, never
  lettered by itself whatever the threshold.

`decide` letters a line when the strongest rule's finding reaches the threshold (0.9) and no
other rule with evidence (0.7 or more) points elsewhere; when one does, the stronger wins only
when it is certain (0.98 or more: a reference we issued), otherwise both go to review.
An invoice in another currency or not collectible is never lettered; the evidence says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from rapidfuzz import fuzz

from receivables.banking.creditor_reference import compact, find_references, is_valid
from receivables.banking.creditor_reference import format as printed
from receivables.banking.open_items import OpenItems, OpenItemsView, normalise_name, number_key
from receivables.banking.statement import Direction
from receivables.banking.subset import find_combinations
from receivables.disputes.deduction_rules import DeductionPolicy, says_on_account
from receivables.kernel.money import Money, sum_money
from receivables.ledger.rules import COLLECTIBLE
from receivables.payments.cash import candidate_numbers, match_receipt, oldest_first, plan_allocation

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from receivables.banking.statement import Entry
    from receivables.ledger.model import Invoice

__all__ = ["Decision", "Match", "OpenItems", "OpenItemsView", "Rule", "baseline_decide", "decide"]

DEFAULT_THRESHOLD = 0.9
CERTAIN = 0.98  # wins over a disagreeing weaker rule
# A finding below this is a suggestion: it neither letters nor contradicts. A number that the
# payer's IBAN contradicts (0.7) is at it: it does not letter, but it still sends the line to a
# person when the amount points elsewhere.
EVIDENCE = 0.7
NAME_THRESHOLD = 90.0  # rapidfuzz token_sort_ratio of normalised names
# A short payment found by amount alone: a suggestion. A window of the tolerance's width (5.00)
# over a customer's combinations catches some combination by chance about once in a hundred
# searches, so a line that is not a short payment at all (an overpayment, a payment on account)
# would be lettered wrongly; with a reference naming the invoices, the shortfall letters.
SHORT_BY_AMOUNT = 0.65
MAX_NUMBERS = 200  # candidate numbers looked up per line (a batch of GetItems on a ledger)
MAX_TEXT = 2000  # remittance characters read (SEPA carries 140; camt a few lines of it)


class Rule(StrEnum):
    """The matching rules, strongest first."""

    STRUCTURED_REFERENCE = "structured_reference"
    END_TO_END_ID = "end_to_end_id"
    INVOICE_NUMBER = "invoice_number"
    IBAN_AMOUNT = "iban_amount"
    PAYER_NAME = "payer_name"


K = TypeVar("K")
V = TypeVar("V")
_POLICY = DeductionPolicy()
_ORDER = {rule: n for n, rule in enumerate(Rule)}


@dataclass(frozen=True, slots=True)
class Match:
    """One rule's finding for a bank line: what it would letter and why.

    ``allocations`` (invoice id, amount) never exceed an invoice's balance and, with
    ``on_account`` (what stays unapplied on the customer), add up to the line's amount exactly.
    ``shortfall`` is set when the line pays the invoices short within the deduction tolerance:
    the deductions flow takes it. A finding without allocations explains why nothing letters."""

    rule: Rule
    confidence: float
    allocations: tuple[tuple[str, Money], ...]
    on_account: Money
    evidence: str
    customer_id: str | None = None
    shortfall: Money | None = None

    @property
    def invoice_ids(self) -> frozenset[str]:
        """The invoices this finding letters."""
        return frozenset(i for i, _ in self.allocations)


@dataclass(frozen=True, slots=True)
class Decision:
    """What becomes of a bank line: ``automatic`` when it is lettered without a person, and the
    ranked ``candidates`` (every finding, best first) with ``reason`` for the review queue."""

    automatic: Match | None
    candidates: list[Match] = field(default_factory=list)
    reason: str = ""


@dataclass(slots=True)
class _Line:
    """One credit line under matching, with what every rule reads of it."""

    entry: Entry
    view: OpenItemsView
    amount: Money
    tolerance: Money
    text: str
    part_payment: bool
    payers: tuple[str, ...]  # the customers the payer's IBAN is known for
    named: frozenset[str] = frozenset()  # invoices a reference in the line names

    @property
    def currency(self) -> str:
        return self.amount.currency

    def refusal(self, invoice: Invoice) -> str | None:
        """Why ``invoice`` cannot take this line's money, or None."""
        if invoice.currency != self.currency:
            return f"{invoice.number} is in {invoice.currency}, the line in {self.currency}"
        if invoice.status not in COLLECTIBLE:
            return f"{invoice.number} is {invoice.status.value.replace('_', ' ')}"
        if invoice.balance.minor <= 0:
            return f"nothing is owed on {invoice.number}"
        return None

    def name_score(self, customer_id: str) -> float:
        """How close the payer's name is to the customer's (0-100)."""
        payer, known = self.entry.counterparty.name, self.view.customer_name(customer_id)
        if not payer or not known:
            return 0.0
        return float(fuzz.token_sort_ratio(normalise_name(payer), normalise_name(known)))


def _numbers(invoices: Iterable[Invoice]) -> str:
    names = [i.number for i in invoices]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _first(pairs: Iterable[tuple[K, V]]) -> dict[K, V]:
    """The pairs by key, each key with its first value, in the order first seen."""
    seen: dict[K, V] = {}
    for key, value in pairs:
        seen.setdefault(key, value)
    return seen


def _make(invoices: Sequence[Invoice]) -> str:
    return f"{_numbers(invoices)} {'makes' if len(invoices) == 1 else 'make'}"


def _letter(line: _Line, rule: Rule, confidence: float, targets: Sequence[Invoice], evidence: str) -> Match:
    """A finding that letters ``targets`` (oldest first, each up to its balance), the rest on
    account; the evidence says how the amount compares with what they owe."""
    plan = plan_allocation(line.amount, oldest_first(targets))
    owed = sum_money((i.balance for i in targets), line.currency)
    customers = {i.customer_id for i in targets}
    shortfall = None
    if plan.unapplied.minor:
        evidence += f"; {plan.unapplied} more than they owe stays on account"
    elif owed == line.amount:
        evidence += "; the amount is exactly what they owe"
    elif not line.part_payment and owed - line.amount <= line.tolerance:
        shortfall = owed - line.amount
        evidence += f"; {shortfall} short, within the deduction tolerance: for the deductions flow"
    else:
        evidence += f"; it pays {line.amount} of the {owed} they owe"
    customer = next(iter(customers)) if len(customers) == 1 else None
    return Match(rule, confidence, plan.allocations, plan.unapplied, evidence, customer, shortfall)


def _refused(line: _Line, rule: Rule, evidence: str, customer_id: str | None = None) -> Match:
    return Match(rule, 0.0, (), line.amount, evidence, customer_id)


def _named(
    line: _Line, rule: Rule, confidence: float, found: Sequence[tuple[str, Invoice]], notes: list[str]
) -> list[Match]:
    """A finding for invoices a reference names: the payable ones lettered, the others refused
    with their reason (and the finding then left to a person)."""
    unique = _first((i.invoice_id, (why, i)) for why, i in found)
    refusals = {i.invoice_id: line.refusal(i) for _, i in unique.values()}
    payable = [i for _, i in unique.values() if refusals[i.invoice_id] is None]
    notes = notes + [f"{why}: not lettered" for why in refusals.values() if why]
    said = "; ".join(why for why, _ in unique.values())
    if not payable:
        return [_refused(line, rule, "; ".join([said, *notes]).strip("; "))] if said or notes else []
    match = _letter(line, rule, confidence if not notes else min(confidence, 0.85), payable, said)
    if notes:
        match = _with(match, evidence=f"{match.evidence}; {'; '.join(notes)}: for a person")
    return [match]


def _with(match: Match, **changes: object) -> Match:
    return replace(match, **changes)  # type: ignore[arg-type]


# --- the rules ------------------------------------------------------------------------------
def structured_reference(line: _Line) -> list[Match]:
    """An ``RF`` reference in the structured remittance or the text that is an invoice's."""
    remittance = line.entry.remittance
    refs = [(compact(s), "the structured remittance") for s in remittance.structured if is_valid(s)]
    refs += [(r, "the remittance text") for u in remittance.unstructured for r in find_references(u)]
    found: list[tuple[str, Invoice]] = []
    notes: list[str] = []
    unknown: list[str] = []
    for ref, where in _first(refs).items():
        invoices = line.view.by_reference(ref)
        if len(invoices) == 1:
            found.append((f"{printed(ref)} in {where} is the reference of {invoices[0].number}", invoices[0]))
        elif invoices:
            notes.append(
                f"{printed(ref)} is the reference of {len(invoices)} invoices ({_numbers(invoices)})"
            )
        elif where == "the structured remittance":
            unknown.append(f"{printed(ref)} in {where} is none of our invoices' references")
    matches = _named(line, Rule.STRUCTURED_REFERENCE, 1.0, found, notes)
    return matches or ([_refused(line, Rule.STRUCTURED_REFERENCE, "; ".join(unknown))] if unknown else [])


def end_to_end_id(line: _Line) -> list[Match]:
    """An EndToEndId or another reference we issued, standing for the invoices it collects."""
    e2e = line.entry.remittance.end_to_end_id
    said = [("EndToEndId", e2e)] if e2e else []
    said += [("the remittance", word.strip(".,;:()")) for word in line.text.split()]
    found: list[tuple[str, Invoice]] = []
    notes: list[str] = []
    for where, ref in dict.fromkeys(said):
        for invoice_id in line.view.issued(ref):
            invoice = line.view.invoice(invoice_id)
            if invoice is None:
                notes.append(f"{ref} in {where} is our reference for {invoice_id}, no longer known")
            else:
                found.append((f"{ref} in {where} is the reference we issued for {invoice.number}", invoice))
    return _named(line, Rule.END_TO_END_ID, CERTAIN, found, notes)


def invoice_number(line: _Line) -> list[Match]:
    """Invoice numbers the remittance names, each found exactly once, confirmed (or not) by the
    amount, the payer's IBAN or name."""
    # Too short to be told from other figures (as mentioned_invoices): left out.
    candidates = [
        n for n in candidate_numbers(line.text) if len(number_key(n)) >= 4 and any(c.isdigit() for c in n)
    ]
    named = line.view.numbered(candidates[:MAX_NUMBERS])
    found: list[tuple[str, Invoice]] = []
    notes: list[str] = []
    for key in dict.fromkeys(number_key(n) for n in candidates):
        invoices = named.get(key, ())
        if len(invoices) == 1:
            found.append((f"{invoices[0].number} is named in the remittance", invoices[0]))
        elif invoices:
            notes.append(f"{invoices[0].number} is the number of {len(invoices)} invoices")
    matches = _named(line, Rule.INVOICE_NUMBER, 0.95, found, notes)
    if not matches or not matches[0].allocations or matches[0].confidence < 0.95:
        return matches
    return [_confirmed(line, matches[0])]


def _confirmed(line: _Line, match: Match) -> Match:
    """How much an invoice-number finding is worth: what confirms it, or contradicts it."""
    customers = {i.customer_id for i in (line.view.invoice(x) for x in match.invoice_ids) if i}
    if len(customers) > 1:
        return _with(
            match, confidence=0.7, evidence=f"{match.evidence}; the numbers are of {len(customers)} customers"
        )
    customer = customers.pop()
    name = line.view.customer_name(customer) or customer
    if len(line.payers) == 1 and line.payers[0] != customer:
        other = line.view.customer_name(line.payers[0]) or line.payers[0]
        why = f"but the payer's IBAN is known for {other}, not {name}: a mistyped number?"
        return _with(match, confidence=0.7, evidence=f"{match.evidence}; {why}")
    if line.payers == (customer,):
        return _with(match, evidence=f"{match.evidence}; the payer's IBAN is known for {name}")
    if match.on_account.is_zero() and (match.shortfall or _owed(line, match) == line.amount):
        return match
    score = line.name_score(customer)
    if score >= NAME_THRESHOLD:
        why = f"the payer's name is close to {name}'s ({score:.0f})"
        return _with(match, confidence=0.92, evidence=f"{match.evidence}; {why}")
    why = "nothing else confirms it (amount, IBAN, payer's name): for a person"
    return _with(match, confidence=0.8, evidence=f"{match.evidence}; {why}")


def _owed(line: _Line, match: Match) -> Money:
    invoices = (line.view.invoice(i) for i in match.invoice_ids)
    return sum_money((i.balance for i in invoices if i), line.currency)


def iban_amount(line: _Line) -> list[Match]:
    """The payer's IBAN known for one customer, then the amount against their open invoices."""
    iban = line.entry.counterparty.iban
    if not iban or not line.payers:
        return []
    if len(line.payers) > 1:
        why = f"the payer's IBAN {iban} is known for {len(line.payers)} customers: not matched by amount"
        return [_refused(line, Rule.IBAN_AMOUNT, why)]
    customer = line.payers[0]
    who = f"the payer's IBAN {iban} is known for {line.view.customer_name(customer) or customer}"
    return by_amount(line, Rule.IBAN_AMOUNT, customer, who, 1.0)


def payer_name(line: _Line) -> list[Match]:
    """Customers whose name is close to the payer's: suggestions only, never lettered alone."""
    payer = line.entry.counterparty.name
    if not payer or len(line.payers) == 1:
        return []
    close = line.view.customers_named(payer, NAME_THRESHOLD)[:3]
    scale = 0.6 if len(close) == 1 else 0.4
    found = []
    for customer, score in close:
        known = line.view.customer_name(customer) or customer
        who = f"the payer's name {payer!r} is close to {known} ({score:.0f}): a suggestion"
        found += by_amount(line, Rule.PAYER_NAME, customer, who, scale)
    return found


def by_amount(line: _Line, rule: Rule, customer: str, who: str, scale: float) -> list[Match]:
    """The customer's open invoices that the amount pays: one, or the one combination that sums
    to it exactly, or short within the tolerance; else candidates for a person."""
    # Among invoices of equal balance the amount cannot choose: the one a reference in the line
    # names comes first, then the oldest (a stable sort keeps the view's oldest-first order).
    invoices = sorted(
        (i for i in line.view.open_of(customer) if i.currency == line.currency),
        key=lambda i: i.invoice_id not in line.named,
    )
    if not invoices:
        return [_refused(line, rule, f"{who}; they have no open invoice in {line.currency}", customer)]
    balances = [i.balance.minor for i in invoices]
    exact = find_combinations(balances, line.amount.minor)
    search, what = exact, "exactly"
    if exact.complete and not exact.solutions and not line.part_payment and line.tolerance.minor:
        search = find_combinations(balances, line.amount.minor + 1, line.amount.minor + line.tolerance.minor)
        what = "short within the deduction tolerance"
    beyond = len(invoices) - search.considered
    scope = (
        f"the {search.considered} oldest of their {len(invoices)} open invoices"
        if beyond
        else (f"their {len(invoices)} open invoices")
    )
    if search.unique is not None and not beyond:
        chosen = [invoices[i] for i in search.unique]
        confidence = (0.95 if len(chosen) == 1 else 0.92) if search is exact else SHORT_BY_AMOUNT
        said = f"{who}; of {scope}, only {_make(chosen)} the amount {what}"
        return [_letter(line, rule, confidence * scale, chosen, said)]
    if search.solutions:
        found = []
        for solution in search.solutions:
            chosen = [invoices[i] for i in solution]
            doubt = "other combinations too" if len(search.solutions) > 1 else f"only {scope} were searched"
            said = f"{who}; {_make(chosen)} the amount {what}, but {doubt}: for a person"
            found.append(_letter(line, rule, 0.6 * scale, chosen, said))
        return found
    if not search.complete:
        said = f"{who}; the search of {scope} gave up after {search.steps} steps rather than guess"
        return [_letter(line, rule, 0.4 * scale, invoices, f"{said}; suggested oldest first")]
    said = f"{who}; no combination of {scope} makes the amount; suggested oldest first"
    return [_letter(line, rule, 0.5 * scale, invoices, said)]


# --- deciding ---------------------------------------------------------------------------------
def decide(
    entry: Entry,
    view: OpenItemsView,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    policy: DeductionPolicy | None = None,
) -> Decision:
    """Match one bank line: every rule's findings, ranked, and the one lettered automatically
    when it reaches ``threshold`` and no rule with evidence disagrees (see the module's rules).

    ``policy`` gives the deduction tolerance (a short payment within it still letters, its
    shortfall then taken by the deductions flow); its default is `DeductionPolicy()`'s."""
    if not 0 < threshold <= 1:
        raise ValueError("the threshold is a confidence, above 0 and at most 1")
    if entry.direction is not Direction.CREDIT or entry.amount.minor <= 0:
        return Decision(None, [], "not a customer's payment: a debit or nothing credited")
    line = _line(entry, view, policy or _POLICY)
    found = [*structured_reference(line), *end_to_end_id(line), *invoice_number(line)]
    line.named = frozenset(i for m in found for i in m.invoice_ids)
    found += [*iban_amount(line), *payer_name(line)]
    ranked = sorted(found, key=lambda m: (-m.confidence, _ORDER[m.rule]))
    return _choose(ranked, threshold, view)


def _line(entry: Entry, view: OpenItemsView, policy: DeductionPolicy) -> _Line:
    text = entry.remittance.text[:MAX_TEXT]
    iban = entry.counterparty.iban
    payers = tuple(view.customers_of_iban(iban)) if iban else ()
    tolerance = policy.tolerance_in(entry.amount.currency)
    return _Line(entry, view, entry.amount, tolerance, text, says_on_account(text), payers)


def _choose(ranked: list[Match], threshold: float, view: OpenItemsView) -> Decision:
    telling = [
        m for m in ranked if m.allocations and m.rule is not Rule.PAYER_NAME and m.confidence >= EVIDENCE
    ]
    if not telling:
        why = (
            "no rule found the invoices it pays: for a person"
            if ranked
            else ("nothing in the line points to an open invoice or a known customer")
        )
        return Decision(None, ranked, why)
    lead = min(telling, key=lambda m: (_ORDER[m.rule], -m.confidence))
    wider = [
        m
        for m in telling
        if m.invoice_ids > lead.invoice_ids
        and m.on_account.is_zero()
        and m.shortfall is None
        and lead.on_account.minor
        and m.customer_id is not None
        and m.customer_id == lead.customer_id
    ]
    if wider:  # the number names some invoices, the amount shows which others it pays too
        best = wider[0]
        lead = _with(
            best,
            confidence=min(best.confidence, lead.confidence),
            evidence=f"{lead.evidence.split(';')[0]}; and {best.evidence}",
        )
    rivals = [m for m in telling if not m.invoice_ids <= lead.invoice_ids]
    if rivals and lead.confidence < CERTAIN:
        other = rivals[0]
        why = (
            f"the rules disagree: {lead.rule} points to {_ids(lead, view)}, "
            f"{other.rule} to {_ids(other, view)}: for a person"
        )
        return Decision(None, ranked, why)
    if lead.confidence < threshold:
        return Decision(
            None, ranked, f"{lead.rule} at {lead.confidence:.2f} is below {threshold:.2f}: for a person"
        )
    if rivals:
        lead = _with(
            lead, evidence=f"{lead.evidence}; {rivals[0].rule} pointed elsewhere, the reference wins"
        )
    return Decision(lead, [lead, *(m for m in ranked if m is not lead)], f"lettered by {lead.rule}")


def _ids(match: Match, view: OpenItemsView) -> str:
    numbers = ((view.invoice(i), i) for i in match.invoice_ids)
    return ", ".join(sorted(invoice.number if invoice else i for invoice, i in numbers))


# --- today's rule, for the benchmark -------------------------------------------------------------
def baseline_decide(entry: Entry, view: OpenItemsView) -> Decision:
    """Today's matching of a bank transfer, on the same view: the invoice numbers the remittance
    holds verbatim (`candidate_numbers`, as `payments.allocation` looks them up); when they are
    one customer's, `match_receipt` letters them (an excess going on to that customer's other
    invoices, oldest first) and nothing confirms or questions it."""
    if entry.direction is not Direction.CREDIT or entry.amount.minor <= 0:
        return Decision(None, [], "not a customer's payment")
    text = entry.remittance.text
    numbers = candidate_numbers(text)[:100]
    exact = set(numbers)
    named = {i.invoice_id: i for found in view.numbered(numbers).values() for i in found if i.number in exact}
    payers = {i.customer_id for i in named.values()}
    if len(payers) != 1:
        return Decision(None, [], "today's rule found no invoice number of one customer")
    customer = payers.pop()
    open_invoices = list(view.open_of(customer))
    match = match_receipt(entry.amount, text, open_invoices, customer_known=True, named_ids=list(named))
    if match.plan is None or not match.plan.allocations:
        return Decision(None, [], "today's rule found the numbers but nothing open to letter")
    said = f"today's rule ({match.matched_by}): {', '.join(i.number for i in named.values())} named"
    lettered = Match(Rule.INVOICE_NUMBER, 1.0, match.plan.allocations, match.plan.unapplied, said, customer)
    return Decision(lettered, [lettered], "lettered by today's invoice-number rule")
