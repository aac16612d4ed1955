"""Bank statements in: every credit line becomes a receipt, lettered when the matching is sure.

A file (camt.053, camt.054, MT940, or a ZIP of them) is read by `receivables.banking.formats`;
each statement it holds is imported once and each of its lines once:

- a statement is known by account, the bank's statement id and sequence; imported again (the
  same file twice, a notification the statement repeats) it books nothing twice;
- a line is known by its identity (the bank's reference, else a fingerprint,
  `receivables.banking.statement.Entry.identity`); its receipt's id derives from it, so a line
  met again in another file, or after a crash half-way, is never a second receipt;
- the opening balance is checked against the closing balance of the account's previous
  statement, and the entries against the statement's own balances; a gap is reported;
- a credit line the matching letters automatically (`receivables.banking.matching.decide`) is
  recorded on its invoices with a lettering code; any other credit line is recorded as a receipt
  that waits for a person, in the review queue with its ranked candidates;
- a credit line that is a Stripe payout (`receivables.banking.payouts`) is reconciled against the
  payout's balance transactions, its fees shown, and never lettered: its payments were applied
  when Stripe reported them; before the payout's webhook it waits (``payout_pending``);
- a debit line (a return, bank charges, a transfer of ours) is listed, not booked on customers.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables.banking import lettering, payouts, returns
from receivables.banking.formats import StatementFile, read_statements
from receivables.banking.ledger_view import LedgerView
from receivables.banking.lines import (
    DEBIT,
    DUPLICATE,
    LETTERED,
    PAYOUT,
    PAYOUT_PENDING,
    RETURNED,
    REVIEW,
    count_lines,
    iban_key,
)
from receivables.banking.matching import DEFAULT_THRESHOLD, Decision, Match, decide
from receivables.banking.statement import Direction, Entry, EntryProblem, Statement
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.payments.allocation import Receipt, record_receipt
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.banking.reading import ReadProblem
    from receivables.kernel.clock import Clock

MAX_STATEMENT_BYTES = 64 * 1024 * 1024
MAX_REMITTANCE = 1000  # what a receipt keeps of the remittance (SEPA carries 140 characters)
MAX_CANDIDATES = 5  # what the review queue keeps of a line's ranked candidates


def line_id_of(entry: Entry, account: str) -> str:
    """The ledger's id of a bank line: ``bl_`` and a digest of its identity."""
    return "bl_" + hashlib.sha256(entry.identity(account).encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What became of one line of a statement."""

    position: str
    line_id: str
    direction: str
    amount: Money
    status: str  # lettered, review, duplicate (imported before), debit (listed only), payout…
    rule: str | None = None
    evidence: str | None = None
    payment_id: str | None = None
    lettering: str | None = None
    invoices: tuple[str, ...] = ()  # the ids of the invoices it paid
    customer_id: str | None = None  # whose account its receipt is on, once known
    payout: dict[str, Any] | None = None  # a Stripe payout's gross, fees, net and charges

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; the amount as a decimal string."""
        return {
            "position": self.position,
            "line_id": self.line_id,
            "direction": self.direction,
            "amount": self.amount.to_decimal_string(),
            "currency": self.amount.currency,
            "status": self.status,
            **{
                k: v
                for k, v in (
                    ("rule", self.rule),
                    ("evidence", self.evidence),
                    ("payment_id", self.payment_id),
                    ("lettering", self.lettering),
                    ("customer_id", self.customer_id),
                )
                if v
            },
            **({"invoices": list(self.invoices)} if self.invoices else {}),
            **({"payout": self.payout} if self.payout else {}),
        }


@dataclass(frozen=True, slots=True)
class StatementOutcome:
    """What importing one statement did: its lines, the problems of its unreadable entries, and
    whether its balances follow on from the account's previous statement."""

    statement_key: str
    statement: Statement
    repeated: bool
    lines: tuple[LineOutcome, ...]
    balance_problems: tuple[str, ...] = ()

    def counts(self) -> dict[str, Any]:
        """How many lines by status, lettered lines by rule, the Stripe payouts reconciled
        (`receivables.banking.lines.count_lines`), and the entries that could not be read."""
        return {
            **count_lines(line.to_json() for line in self.lines),
            "problems": len(self.statement.problems),
            "pending_skipped": self.statement.pending_skipped,
        }

    def to_json(self) -> dict[str, Any]:
        """The statement's report: what it is, its balances, counts and every line."""
        return {**statement_summary(self.statement, self.statement_key), **self.body()}

    def body(self) -> dict[str, Any]:
        """The report's part that importing decided (repeated, balances, counts, lines)."""
        return {
            "repeated": self.repeated,
            "balance_problems": list(self.balance_problems),
            "counts": self.counts(),
            "entry_problems": [_problem_json(p) for p in self.statement.problems],
            "lines": [line.to_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class StatementImport:
    """The report of one file: what it was, what could not be read and every statement in it."""

    name: str
    format: str
    refused: tuple[ReadProblem, ...] = ()
    statements: tuple[StatementOutcome, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the intake report and the API."""
        return {
            "file": self.name,
            "format": self.format,
            "refused": [{"where": p.location, "code": p.code, "why": p.message} for p in self.refused],
            "statements": [s.to_json() for s in self.statements],
        }


def import_statement_file(
    data: bytes,
    name: str,
    clock: Clock,
    *,
    sellers: tuple[str, ...] = ("self",),
    threshold: float = DEFAULT_THRESHOLD,
    max_bytes: int = MAX_STATEMENT_BYTES,
) -> StatementImport:
    """Import every statement of the file ``name`` (its bytes ``data``): see the module."""
    read = read_statements(data, name, max_bytes)
    view = LedgerView(sellers)
    outcomes: list[StatementOutcome] = []
    refused: list[ReadProblem] = []
    for part in _flattened(read):
        refused.extend(part.problems)
        for statement in part.statements:
            outcomes.append(import_statement(statement, view, clock, sellers=sellers, threshold=threshold))
    return StatementImport(read.name, read.format, tuple(refused), tuple(outcomes))


def _flattened(read: StatementFile) -> list[StatementFile]:
    return [read, *(m for member in read.members for m in _flattened(member))]


def statement_key_of(statement: Statement) -> str:
    """A statement's reference (``st_…``): a digest of its account, the bank's statement id and
    its sequence, which is how a statement sent again is known."""
    identity = "\x1f".join((statement.account_iban, statement.statement_id, statement.sequence or "-"))
    return "st_" + hashlib.sha256(identity.encode()).hexdigest()[:24]


def import_statement(
    statement: Statement,
    view: LedgerView,
    clock: Clock,
    *,
    sellers: tuple[str, ...] = ("self",),
    threshold: float = DEFAULT_THRESHOLD,
) -> StatementOutcome:
    """Import one statement: record it once, check its balances, and each line once."""
    key = statement_key_of(statement)
    pk = store.statement_pk(key)
    now = iso_timestamp(clock.now())
    summary = {**statement_summary(statement, key), "imported_at": now}
    found = store.get_document(pk)
    repeated = found is not None
    if found is None:
        try:
            store.put_document(pk, summary, 1, now, None, listing=(store.STATEMENTS_LISTING, f"{now}#{key}"))
        except store.ConcurrentChangeError:
            repeated = True
    problems = [] if repeated else balance_problems(statement, clock)
    lines = tuple(
        _import_line(entry, statement, key, view, clock, sellers=sellers, threshold=threshold)
        for entry in statement.entries
    )
    # a payout's webhook may reconcile a waiting line while the statement is being imported
    lines, _ = _payouts_settled(lines)
    outcome = StatementOutcome(key, statement, repeated, lines, tuple(problems))
    if not repeated:
        _record_outcome(key, summary, outcome, clock)
        _, late = _payouts_settled(lines)
        if late:
            payouts.recount_statement(key, late[0], clock)
    return outcome


def _payouts_settled(lines: tuple[LineOutcome, ...]) -> tuple[tuple[LineOutcome, ...], list[str]]:
    """The lines with each waiting payout line as it is stored now, and the ids of those that
    were reconciled meanwhile."""
    changed: list[str] = []
    settled: list[LineOutcome] = []
    for line in lines:
        if line.status == PAYOUT_PENDING:
            found = store.get_document(store.bank_line_pk(line.line_id))
            if found is not None and found[0].get("status") == PAYOUT:
                changed.append(line.line_id)
                line = _outcome_of(found[0])
        settled.append(line)
    return tuple(settled), changed


def statement_summary(statement: Statement, key: str) -> dict[str, Any]:
    """A statement's own facts, as stored and reported: account, ids, dates and balances."""
    return {
        "statement": key,
        "account": statement.account_iban,
        "statement_id": statement.statement_id,
        "sequence": statement.sequence,
        "format": statement.format,
        "kind": statement.kind.value,
        "currency": statement.currency,
        "from": statement.from_date.isoformat() if statement.from_date else None,
        "to": statement.to_date.isoformat() if statement.to_date else None,
        "opening": _balance_json(statement.opening),
        "closing": _balance_json(statement.closing),
        "entries": len(statement.entries),
    }


def _balance_json(balance: Any) -> dict[str, str] | None:
    if balance is None:
        return None
    return {"kind": balance.kind, "amount": balance.amount.to_decimal_string(), "on": balance.on.isoformat()}


def _problem_json(problem: EntryProblem) -> dict[str, str]:
    return {"where": problem.position, "code": problem.code, "why": problem.reason}


def _record_outcome(key: str, summary: dict[str, Any], outcome: StatementOutcome, clock: Clock) -> None:
    """The statement's document at version 2: its counts and balance problems beside its facts."""
    body = {**summary, "counts": outcome.counts(), "balance_problems": list(outcome.balance_problems)}
    now = iso_timestamp(clock.now())
    listing = (store.STATEMENTS_LISTING, f"{summary['imported_at']}#{key}")
    # Another delivery of the same file recorded it first: the same counts.
    with contextlib.suppress(store.ConcurrentChangeError):
        store.put_document(store.statement_pk(key), body, 2, now, None, listing=listing)


# --- balances -----------------------------------------------------------------------------------
def balance_problems(statement: Statement, clock: Clock) -> list[str]:
    """What does not add up: the entries against the statement's opening and closing balances,
    and its opening against the account's previous closing (a statement missing between them).
    The account then remembers this closing when it is the latest."""
    problems: list[str] = []
    opening, closing = statement.opening, statement.closing
    if opening is not None and closing is not None and not statement.problems:
        moved = sum(
            (e.amount if e.direction is Direction.CREDIT else -e.amount for e in statement.entries),
            Money.zero(statement.currency),
        )
        if opening.amount + moved != closing.amount:
            problems.append(
                f"the entries move {moved} but the balance goes from {opening.amount} to "
                f"{closing.amount}: an entry is missing or was read wrongly"
            )
    pk = store.bank_account_pk(statement.account_iban)
    found = store.get_document(pk)
    previous, version = found if found is not None else (None, 0)
    if previous is not None and opening is not None and previous["on"] <= opening.on.isoformat():
        before = Money.parse(previous["amount"], statement.currency)
        if before != opening.amount:
            problems.append(
                f"the opening balance {opening.amount} on {opening.on.isoformat()} is not the closing "
                f"balance {before} of statement {previous['statement_id']} ({previous['on']}): a "
                "statement may be missing between them"
            )
    if closing is not None and (previous is None or previous["on"] <= closing.on.isoformat()):
        body = {
            "amount": closing.amount.to_decimal_string(),
            "on": closing.on.isoformat(),
            "statement_id": statement.statement_id,
        }
        # another statement of the account landed meanwhile; its closing stands
        with contextlib.suppress(store.ConcurrentChangeError):
            store.put_document(pk, body, version + 1, iso_timestamp(clock.now()), None)
    return problems


# --- lines --------------------------------------------------------------------------------------
def _import_line(
    entry: Entry,
    statement: Statement,
    statement_key: str,
    view: LedgerView,
    clock: Clock,
    *,
    sellers: tuple[str, ...],
    threshold: float,
) -> LineOutcome:
    line_id = line_id_of(entry, statement.account_iban)
    found = store.get_document(store.bank_line_pk(line_id))
    if found is not None:
        body = found[0]
        if body.get("statement") != statement_key:
            return LineOutcome(entry.position, line_id, entry.direction.value, entry.amount, DUPLICATE)
        return _outcome_of(body)
    if entry.direction is not Direction.CREDIT or entry.reversal:
        outcome, candidates = _debit(entry, line_id, statement.account_iban, clock)
        _save_line(line_id, entry, statement_key, outcome, None, clock, candidates)
        return outcome
    recognised = payouts.recognise(entry)
    if recognised is not None:
        return _payout_line(entry, line_id, statement_key, recognised, clock)
    decision = decide(entry, view, threshold)
    automatic = decision.automatic
    code = None
    if automatic is not None and automatic.customer_id and automatic.allocations:
        code = lettering.reserve_code(automatic.customer_id, clock)
    else:
        automatic = None
    receipt = Receipt(
        source="bank",
        external_id=line_id,
        amount=entry.amount,
        received_at=f"{(entry.value_date or entry.booking_date).isoformat()}T00:00:00Z",
        method="bank_transfer",
        customer_id=automatic.customer_id if automatic else None,
        reference=entry.remittance.text[:MAX_REMITTANCE] or None,
        target_invoice_ids=tuple(i for i, _ in automatic.allocations) if automatic else (),
        lettering=code,
        match_remittance=False,
        excess_to_others=False,
    )
    recorded = record_receipt(receipt, clock, sellers=sellers)
    paid = tuple(i for i, _ in recorded.payment.allocations)
    status = LETTERED if automatic is not None and paid else REVIEW
    best = automatic or (decision.candidates[0] if decision.candidates else None)
    outcome = LineOutcome(
        entry.position,
        line_id,
        entry.direction.value,
        entry.amount,
        status,
        rule=best.rule.value if best else None,
        evidence=best.evidence if best else decision.reason or None,
        payment_id=recorded.payment.payment_id,
        lettering=code if status == LETTERED else None,
        invoices=paid,
        customer_id=recorded.payment.customer_id,
    )
    _save_line(line_id, entry, statement_key, outcome, decision, clock)
    _point_to_line(entry, line_id, statement.account_iban, clock)
    return outcome


def _payout_line(
    entry: Entry, line_id: str, statement_key: str, recognised: payouts.Recognised, clock: Clock
) -> LineOutcome:
    """A Stripe payout's line: no receipt, no lettering. It is saved waiting for its payout,
    points what it waits by to itself, and is reconciled at once when the payout is stored
    (now, or by its webhook meanwhile)."""
    waiting = LineOutcome(
        entry.position,
        line_id,
        entry.direction.value,
        entry.amount,
        PAYOUT_PENDING,
        rule=payouts.RULE,
        evidence=f"waits for Stripe's report of the payout ({recognised.basis})",
    )
    _save_line(line_id, entry, statement_key, waiting, None, clock, basis=recognised.basis)
    payouts.wait_for_payout(line_id, recognised, clock)
    payout_id = (
        str(recognised.payout["payout_id"]) if recognised.payout else payouts.payout_waited_for(recognised)
    )
    if payout_id is not None:
        payouts.reconcile_line(line_id, payout_id, clock)
    found = store.get_document(store.bank_line_pk(line_id))
    return _outcome_of(found[0]) if found is not None else waiting


def _point_to_line(entry: Entry, line_id: str, account: str, clock: Clock) -> None:
    """What a later return of this credit finds it by: its EndToEndId, and its payer IBAN with
    its amount (a return that does not repeat the EndToEndId)."""
    now = iso_timestamp(clock.now())
    # the same line imported again (another delivery of the file) wrote them already
    if entry.remittance.end_to_end_id:
        pointer = store.bank_line_by_end_to_end_pk(account, entry.remittance.end_to_end_id)
        with contextlib.suppress(store.ConcurrentChangeError):
            store.put_document(pointer, {"line_id": line_id}, 1, now, None)
    if entry.counterparty.iban:
        listing = store.payer_amount_listing(
            account, iban_key(entry.counterparty.iban), entry.amount.currency, entry.amount.minor
        )
        body = {"line_id": line_id, "booking_date": entry.booking_date.isoformat()}
        with contextlib.suppress(store.ConcurrentChangeError):
            store.put_document(
                store.bank_line_by_payer_pk(line_id),
                body,
                1,
                now,
                None,
                listing=(listing, f"{entry.booking_date.isoformat()}#{line_id}"),
            )


def _debit(
    entry: Entry, line_id: str, account: str, clock: Clock
) -> tuple[LineOutcome, list[dict[str, Any]]]:
    """A debit line: a return of a customer's earlier transfer takes its money back off the
    invoices it paid (they are owed again, with the return's reason); a return whose original is
    not certain waits for a person with the credits it may return; anything else (bank charges,
    our own transfers) is listed only."""
    if not (entry.return_reason or entry.reversal):
        return LineOutcome(entry.position, line_id, entry.direction.value, entry.amount, DEBIT), []
    found = returns.original_of(entry, account)
    reason = entry.return_reason or "returned by the bank"
    payment = (
        returns.take_back(found.original, entry.amount, line_id, reason, clock) if found.original else None
    )
    if payment is None:
        waiting = LineOutcome(
            entry.position,
            line_id,
            entry.direction.value,
            entry.amount,
            REVIEW,
            rule="return",
            evidence=found.basis,
        )
        return waiting, [returns.candidate_json(c) for c in found.candidates]
    assert found.original is not None
    returned = LineOutcome(
        entry.position,
        line_id,
        entry.direction.value,
        entry.amount,
        RETURNED,
        rule="return",
        evidence=returns.evidence(found.original, found.basis, reason),
        payment_id=payment.payment_id,
        invoices=tuple(i for i, _ in payment.allocations),
        customer_id=payment.customer_id,
    )
    return returned, []


def _save_line(
    line_id: str,
    entry: Entry,
    statement_key: str,
    outcome: LineOutcome,
    decision: Decision | None,
    clock: Clock,
    returned: list[dict[str, Any]] | None = None,
    *,
    basis: str | None = None,
) -> None:
    """The line's document: the entry as the bank gave it, what became of it and, for the review
    queue, its ranked candidates (on the sparse waiting index while it waits)."""
    now = iso_timestamp(clock.now())
    body = {
        **outcome.to_json(),
        "statement": statement_key,
        "booking_date": entry.booking_date.isoformat(),
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "bank_reference": entry.bank_reference,
        "payer": {
            "name": entry.counterparty.name,
            "iban": entry.counterparty.iban,
            "bic": entry.counterparty.bic,
        },
        "remittance": {
            "unstructured": list(entry.remittance.unstructured),
            "structured": list(entry.remittance.structured),
            "end_to_end_id": entry.remittance.end_to_end_id,
        },
        "return_reason": entry.return_reason,
        "bank_transaction_code": entry.bank_transaction_code,
        "candidates": returned
        or [_match_json(m) for m in (decision.candidates if decision else [])[:MAX_CANDIDATES]],
        "reason": decision.reason if decision else None,
        "recorded_at": now,
        **({"basis": basis} if basis else {}),
    }
    sort_key = f"{entry.booking_date.isoformat()}#{line_id}"
    waiting = (store.UNMATCHED_BANK_LINES, sort_key) if outcome.status == REVIEW else None
    listing = (store.statement_lines_listing(statement_key), f"{entry.position}#{line_id}")
    # another delivery of the same line saved it first, from the same receipt
    with contextlib.suppress(store.ConcurrentChangeError):
        store.UnitOfWork().add(
            store.document_update(store.bank_line_pk(line_id), body, 1, now, listing=listing, waiting=waiting)
        ).commit()


def _match_json(match: Match) -> dict[str, Any]:
    return {
        "rule": match.rule.value,
        "confidence": round(match.confidence, 3),
        "customer_id": match.customer_id,
        "allocations": [{"invoice_id": i, "amount": a.to_decimal_string()} for i, a in match.allocations],
        "on_account": match.on_account.to_decimal_string(),
        "evidence": match.evidence,
        **({"shortfall": match.shortfall.to_decimal_string()} if match.shortfall else {}),
    }


def _outcome_of(body: dict[str, Any]) -> LineOutcome:
    """A line imported before with this same statement (a redelivered file), as it was."""
    return LineOutcome(
        body["position"],
        body["line_id"],
        body["direction"],
        Money.parse(body["amount"], body["currency"]),
        body["status"],
        rule=body.get("rule"),
        evidence=body.get("evidence"),
        payment_id=body.get("payment_id"),
        lettering=body.get("lettering"),
        invoices=tuple(body.get("invoices", ())),
        customer_id=body.get("customer_id"),
        payout=body.get("payout"),
    )
