"""The bank lines a person decides: the review queue, lettering by hand, ignoring a line that is
not a customer's payment, and undoing a lettering.

Every line's receipt exists from its import (`receivables.banking.intake`); deciding a line moves
that receipt's money (`receivables.payments.allocation.reallocate`), each decision one audit
event on the payment, and the line's document follows it. Lettering a line whose payer IBAN the
ledger did not know remembers IBAN → customer, so the next transfer from it letters itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.banking import lettering, returns
from receivables.banking.lines import (
    IGNORED,
    LETTERED,
    ON_ACCOUNT,
    PAYOUT_PENDING,
    RETURNED,
    REVIEW,
    iban_identifier,
)
from receivables.disputes.deductions import deduction_id_for, get_deduction
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import Money, MoneyError
from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.payments.allocation import UnknownPaymentError, apply_refund, reallocate
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from receivables.kernel.clock import Clock

MAX_QUEUE = 500
MAX_TARGETS = 30  # invoices one lettering by hand may name


@dataclass(frozen=True, slots=True)
class BankLine:
    """A bank line's document and the version it was read at."""

    body: dict[str, Any]
    version: int

    @property
    def line_id(self) -> str:
        """The line's id (``bl_…``)."""
        return str(self.body["line_id"])


def get_line(line_id: str) -> BankLine:
    """The bank line ``line_id``; `NotFoundError` when there is none."""
    found = store.get_document(store.bank_line_pk(line_id)) if line_id.startswith("bl_") else None
    if found is None:
        raise NotFoundError(f"no bank line {line_id}")
    return BankLine(*found)


def unmatched_lines(limit: int = MAX_QUEUE) -> list[dict[str, Any]]:
    """The lines waiting for a person, oldest booking first, with their ranked candidates."""
    return [body for body, _ in store.waiting_documents(store.UNMATCHED_BANK_LINES, limit)]


def lettering_targets(rows: Any, currency: str, seller: str) -> dict[str, Money]:
    """The invoices and amounts of a lettering by hand, as a request gives them (``[{"invoice":
    id or number, "amount": "120.00"}]``, a number being ``seller``'s), every bad one named
    (`InvalidRequestError`)."""
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_TARGETS:
        raise InvalidRequestError([FieldError("invoices", f"must list 1 to {MAX_TARGETS} invoices")])
    targets: dict[str, Money] = {}
    errors: list[FieldError] = []
    for n, row in enumerate(rows):
        invoice = row.get("invoice") if isinstance(row, dict) else None
        amount = row.get("amount") if isinstance(row, dict) else None
        if not isinstance(invoice, str) or not 0 < len(invoice.strip()) <= 100:
            errors.append(FieldError(f"invoices[{n}].invoice", "must be an invoice id or number"))
            continue
        try:
            money = Money.parse(str(amount), currency)
        except (MoneyError, ValueError):
            errors.append(FieldError(f"invoices[{n}].amount", f"must be a positive amount in {currency}"))
            continue
        if money.minor <= 0:
            errors.append(FieldError(f"invoices[{n}].amount", f"must be a positive amount in {currency}"))
            continue
        key = invoice.strip()
        invoice_id = key if key.startswith("inv_") else document_id(seller, DocumentType.INVOICE, key)
        targets[invoice_id] = targets.get(invoice_id, Money.zero(currency)) + money
    if errors:
        raise InvalidRequestError(errors)
    return targets


def letter_line(
    line_id: str,
    targets: Mapping[str, Money],
    actor: str,
    clock: Clock,
    *,
    on_account_of: str | None = None,
) -> dict[str, Any]:
    """Letter a waiting credit line by hand: its receipt pays exactly ``targets`` (invoice id to
    amount), under a new lettering code, the rest of it waiting on the customer's account. With
    no targets and ``on_account_of`` a customer id, the whole line goes on that customer's
    account (a payment in advance, a transfer with nothing to say what it pays): no lettering
    code, since no invoice is matched yet. Either way the payer's IBAN is remembered."""
    line = _waiting(line_id)
    if line.body.get("direction") == "debit":
        raise ConflictError(f"bank line {line_id} is a debit: name the credit it returns, or ignore it")
    if not targets and not on_account_of:
        raise ConflictError(
            "name the invoices and amounts this line pays, or the customer it is on account of"
        )
    payment_id = str(line.body["payment_id"])
    invoices = store.get_heads(list(targets))
    customers = {getattr(h, "customer_id", None) for h in invoices.values()} | (
        {on_account_of} if on_account_of else set()
    )
    if len(invoices) != len(targets) or len(customers) != 1:
        raise ConflictError("a bank line pays invoices of the ledger, of one customer")
    customer_id = str(customers.pop())
    if on_account_of and store.get_customer(customer_id) is None:
        raise NotFoundError(f"no customer {customer_id}")
    code = lettering.reserve_code(customer_id, clock) if targets else None
    try:
        payment, _ = reallocate(
            payment_id, targets, clock, actor=actor, lettering=code, customer_id=customer_id
        )
    except UnknownPaymentError:
        raise ConflictError(f"the receipt of bank line {line_id} is not in the ledger") from None
    _remember_iban(line.body, customer_id)
    changed = {
        **line.body,
        "status": LETTERED if targets else ON_ACCOUNT,
        "rule": "finance",
        "evidence": f"lettered by {actor}" if targets else f"put on account by {actor}",
        "lettering": code,
        "customer_id": customer_id,
        "invoices": [i for i, _ in payment.allocations],
    }
    return _save(line, changed, clock)


def return_line(line_id: str, credit_line_id: str, actor: str, clock: Clock) -> dict[str, Any]:
    """Decide a waiting return by hand: the debit line ``line_id`` gives back the credit line
    ``credit_line_id`` (of the same account and currency), whose receipt's money comes off the
    invoices it paid, as an automatic return would."""
    line = _waiting(line_id)
    if line.body.get("direction") != "debit":
        raise ConflictError(f"bank line {line_id} is a credit: letter it, or ignore it")
    credit = get_line(credit_line_id)
    if credit.body.get("direction") != "credit" or not credit.body.get("payment_id"):
        raise ConflictError(f"bank line {credit_line_id} is not a credit with a receipt")
    if _account_of(credit.body) != _account_of(line.body) or credit.body["currency"] != line.body["currency"]:
        raise ConflictError("a return gives back a credit of the same account, in the same currency")
    amount = Money.parse(str(line.body["amount"]), str(line.body["currency"]))
    reason = str(line.body.get("return_reason") or "returned by the bank")
    payment = returns.take_back(credit.body, amount, line_id, reason, clock)
    if payment is None:
        raise ConflictError(f"the receipt of bank line {credit_line_id} is not in the ledger")
    changed = {
        **line.body,
        "status": RETURNED,
        "rule": "finance",
        "evidence": returns.evidence(credit.body, f"{actor}'s decision", reason),
        "payment_id": payment.payment_id,
        "invoices": [i for i, _ in payment.allocations],
    }
    return _save(line, changed, clock)


def _account_of(body: dict[str, Any]) -> str | None:
    found = store.get_document(store.statement_pk(str(body["statement"])))
    return found[0].get("account") if found is not None else None


def ignore_line(line_id: str, reason: str, actor: str, clock: Clock) -> dict[str, Any]:
    """A waiting line that is not a customer's payment (a refund from a supplier, a transfer
    between our accounts): its receipt leaves the unapplied queue, ``reason`` on record."""
    line = _waiting(line_id)
    reason = reason.strip()
    if not reason:
        raise ConflictError("say why this line is not a customer's payment")
    payment = store.get_payment(str(line.body["payment_id"])) if line.body.get("payment_id") else None
    if payment is not None and payment.unapplied.minor > 0:
        apply_refund(payment, payment.unapplied, clock, kind="PaymentIgnored", once=f"ignored#{line_id}")
    return _save(line, {**line.body, "status": IGNORED, "ignored": {"by": actor, "reason": reason}}, clock)


def unletter_line(line_id: str, actor: str, clock: Clock) -> dict[str, Any]:
    """Undo a line's lettering: the money it put on invoices waits unapplied again, the line
    back in the review queue; one audit event on the payment names the code undone."""
    line = get_line(line_id)
    code = line.body.get("lettering")
    if line.body.get("status") != LETTERED or not code:
        raise ConflictError(f"bank line {line_id} is not lettered")
    _refuse_if_shortfall_taken(line)
    reallocate(str(line.body["payment_id"]), {}, clock, actor=actor, unlettered=str(code))
    changed = {**line.body, "status": REVIEW, "unlettered": code, "lettering": None, "invoices": []}
    return _save(line, changed, clock)


def _refuse_if_shortfall_taken(line: BankLine) -> None:
    """A lettering that paid an invoice short may have written the rest off or opened a
    deduction for it; undoing the lettering would leave that standing on a payment that no
    longer exists. Such a deduction is decided first (rejected: the customer owes it again)."""
    payment_id = str(line.body["payment_id"])
    for invoice_id in line.body.get("invoices", []):
        found = get_deduction(deduction_id_for(payment_id, invoice_id))
        if found is None:
            continue
        body = found[0]
        granted = Money.parse(str(body.get("valid", "0")), str(body["currency"]))
        if body.get("status") != "resolved" or granted.minor > 0:
            raise ConflictError(
                f"lettering {line.body.get('lettering')} took invoice {body.get('number')}'s shortfall as"
                f" deduction {body['deduction_id']} ({body.get('status')}): reject the deduction before"
                " undoing the lettering"
            )


def _waiting(line_id: str) -> BankLine:
    """The line, waiting for a person: in the review queue, or taken for a Stripe payout whose
    webhook has not come (a person may decide it is not one: letter it or ignore it)."""
    line = get_line(line_id)
    if line.body.get("status") not in (REVIEW, PAYOUT_PENDING):
        raise ConflictError(f"bank line {line_id} is {line.body.get('status')}, not waiting for review")
    return line


def _remember_iban(body: dict[str, Any], customer_id: str) -> None:
    """Remember the payer's IBAN for ``customer_id`` unless the ledger knows it already (for
    them or another customer: then it stays with the first)."""
    iban = (body.get("payer") or {}).get("iban")
    if not iban:
        return
    identifier = iban_identifier(iban)
    if store.customers_by_identifier([identifier]):
        return
    # Another decision remembered it meanwhile: the first one stands.
    with contextlib.suppress(store.ConcurrentChangeError):
        store.UnitOfWork().add(store.customer_key(customer_id, identifier)).commit()


def _save(line: BankLine, body: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """The line's next version; on the review queue while it waits, off it otherwise."""
    now = iso_timestamp(clock.now())
    waiting_key = f"{body['booking_date']}#{line.line_id}"
    listing = (store.statement_lines_listing(body["statement"]), f"{body['position']}#{line.line_id}")
    update = store.document_update(
        store.bank_line_pk(line.line_id),
        {**body, "decided_at": now},
        line.version + 1,
        now,
        listing=listing,
        waiting=(store.UNMATCHED_BANK_LINES, waiting_key) if body["status"] == REVIEW else None,
    )
    try:
        store.UnitOfWork().add(update).commit()
    except store.ConcurrentChangeError:
        raise ConflictError(f"bank line {line.line_id} changed meanwhile: read it again") from None
    return body


def list_statements(limit: int = 100) -> list[dict[str, Any]]:
    """The statements imported, newest first: per statement its account, dates, balances,
    counts by status and by rule, and the balance problems found."""
    found = store.listed_documents(store.STATEMENTS_LISTING, None)
    return [body for body, _ in reversed(found)][:limit]


def get_statement(statement_ref: str) -> dict[str, Any]:
    """One statement with every line it brought, in file order; `NotFoundError` when unknown."""
    found = store.get_document(store.statement_pk(statement_ref)) if statement_ref.startswith("st_") else None
    if found is None:
        raise NotFoundError(f"no statement {statement_ref}")
    lines = store.listed_documents(store.statement_lines_listing(statement_ref), None)
    return {**found[0], "lines": [_line_summary(body) for body, _ in lines]}


def _line_summary(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("candidates", "remittance")}
