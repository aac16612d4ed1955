"""Stripe payouts on the bank statement: reconciled against the payout's balance transactions,
never lettered to invoices a second time.

The money of card and debit payments reaches the ledger through Stripe's webhooks, invoice by
invoice, when the customer pays. Days later Stripe pays the balance out to our bank account in
one transfer, less its fees: that line on the statement is not a customer's payment, and
lettering it again would count the money twice. So:

- ``payout.paid`` (`record_payout`, from the webhook): the payout's balance transactions, read
  from Stripe, are summed up (`summarise`: gross, refunds, fees, net, the charges and their
  PaymentIntents) and stored once as the payout's document with an audit event, found by its id
  and by its amount and arrival date;
- a statement line is a payout (`recognise`) when its remittance names a payout id (``po_…``),
  or when it comes from Stripe ("STRIPE" in the payer's name or the remittance) for exactly the
  amount of a payout that arrived that day; it gets no receipt and no lettering, its status is
  ``payout`` and its evidence the gross, the fees and the net of the charges it pays out;
- a payout line met before the payout's webhook waits (``payout_pending``), found by the payout
  id it names, or by its amount and date; storing the payout reconciles it (`reconcile_waiting`),
  and the statement's counts follow. Either side writes first and then reads what the other
  wrote, so one of them always sees both.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from receivables.banking.lines import PAYOUT, PAYOUT_PENDING, count_lines
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ReceivablesError
from receivables.kernel.money import Money, MoneyError, normalise_currency
from receivables.ledger.model import AuditEvent
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from receivables.banking.statement import Entry
    from receivables.kernel.clock import Clock

RULE = "stripe_payout"
ACTOR = "stripe"
PAYOUT_ID = re.compile(r"\bpo_[A-Za-z0-9]{6,}\b")
_STRIPE = re.compile(r"\bSTRIPE\b", re.IGNORECASE)
# What a payout's document keeps of its charges' ids (a day's payout of a busy account holds
# thousands; the counts and sums stay whole).
MAX_LISTED_CHARGES = 200
_MONEY_IN = frozenset({"charge", "payment"})
_FILE_COUNTS = ("problems", "pending_skipped")


class PayoutError(ReceivablesError):
    """A payout whose balance transactions cannot be read as one (another currency, not
    integers): nothing is stored."""


@dataclass(frozen=True, slots=True)
class PayoutSummary:
    """A payout as its balance transactions describe it: ``gross`` the payments in, ``refunds``
    what was given back, ``other`` any other movement (adjustments), ``fees`` Stripe's fees and
    ``net`` what reached the bank (gross - refunds + other - fees = the payout's amount)."""

    payout_id: str
    amount: Money
    arrival: date
    gross: Money
    refunds: Money
    other: Money
    fees: Money
    net: Money
    charges: tuple[str, ...]
    payment_intents: tuple[str, ...]
    transactions: int

    def to_json(self) -> dict[str, Any]:
        """The payout's document: amounts as decimal strings in its currency."""
        return {
            "payout_id": self.payout_id,
            "currency": self.amount.currency,
            "amount": self.amount.to_decimal_string(),
            "arrival_date": self.arrival.isoformat(),
            "gross": self.gross.to_decimal_string(),
            "refunds": self.refunds.to_decimal_string(),
            "other": self.other.to_decimal_string(),
            "fees": self.fees.to_decimal_string(),
            "net": self.net.to_decimal_string(),
            "charges_count": len(self.charges),
            "charges": list(self.charges[:MAX_LISTED_CHARGES]),
            "payment_intents": list(self.payment_intents[:MAX_LISTED_CHARGES]),
            "transactions": self.transactions,
            "balanced": self.net == self.amount,
        }


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayoutError(f"{name} {value!r} is not an integer")
    return value


def _source_ids(source: Any) -> tuple[str | None, str | None]:
    """The charge id and its PaymentIntent of a transaction's ``source`` (an id, or the charge
    when ``data.source`` was expanded)."""
    if isinstance(source, dict):
        intent = source.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        return (str(source.get("id")) if source.get("id") else None), (str(intent_id) if intent_id else None)
    return (str(source) if source else None), None


def summarise(payout: Mapping[str, Any], transactions: Iterable[Mapping[str, Any]]) -> PayoutSummary:
    """Sum up a payout's balance transactions (as ``GET /v1/balance_transactions?payout=…``
    lists them; the payout's own ``payout`` transaction is left out). `PayoutError` when they
    are not of the payout's currency or not integers of minor units.

    >>> s = summarise(
    ...     {"id": "po_1a2b3c4d", "amount": 9762, "currency": "eur", "arrival_date": 1804032000},
    ...     [{"type": "charge", "amount": 10000, "fee": 238, "net": 9762, "currency": "eur",
    ...       "source": "ch_1"}],
    ... )
    >>> (str(s.gross), str(s.fees), str(s.net), s.charges)
    ('100.00 EUR', '2.38 EUR', '97.62 EUR', ('ch_1',))
    """
    payout_id = str(payout.get("id") or "")
    if not PAYOUT_ID.fullmatch(payout_id):
        raise PayoutError(f"{payout_id!r} is not a payout id")
    try:
        currency = normalise_currency(str(payout.get("currency") or ""))
        amount = Money(_int(payout.get("amount"), "amount"), currency)
    except MoneyError:
        raise PayoutError(f"payout {payout_id} has no ISO 4217 currency") from None
    arrival = datetime.fromtimestamp(_int(payout.get("arrival_date"), "arrival_date"), UTC).date()
    sums = {"gross": 0, "refunds": 0, "other": 0, "fees": 0, "net": 0}
    charges: list[str] = []
    intents: list[str] = []
    count = 0
    for txn in transactions:
        kind = str(txn.get("type") or "")
        if kind == "payout":
            continue
        if str(txn.get("currency") or "").upper() != currency:
            raise PayoutError(f"payout {payout_id} holds a transaction in {txn.get('currency')}")
        count += 1
        gross, fee, net = (_int(txn.get(k), k) for k in ("amount", "fee", "net"))
        if kind in _MONEY_IN:
            sums["gross"] += gross
            charge, intent = _source_ids(txn.get("source"))
            if charge:
                charges.append(charge)
            if intent:
                intents.append(intent)
        elif kind == "refund":
            sums["refunds"] -= gross
        else:
            sums["other"] += gross
        sums["fees"] += fee
        sums["net"] += net
    money = {k: Money(v, currency) for k, v in sums.items()}
    return PayoutSummary(
        payout_id,
        amount,
        arrival,
        money["gross"],
        money["refunds"],
        money["other"],
        money["fees"],
        money["net"],
        tuple(charges),
        tuple(intents),
        count,
    )


def evidence(payout: Mapping[str, Any]) -> str:
    """What a payout line's evidence says: the payout, its charges, gross, fees and net."""
    currency = payout["currency"]
    refunds, other = payout.get("refunds", "0"), payout.get("other", "0")
    refunded = f", refunds {refunds} {currency}" if Money.parse(str(refunds), currency).minor else ""
    if Money.parse(str(other), currency).minor:
        refunded += f", disputes and adjustments {other} {currency}"
    return (
        f"Stripe payout {payout['payout_id']} of {payout['arrival_date']}: {payout['charges_count']} "
        f"payment(s), gross {payout['gross']} {currency}{refunded}, fees {payout['fees']} {currency}, "
        f"net {payout['net']} {currency}; the payments were applied when Stripe reported them"
    )


def line_payout(payout: Mapping[str, Any]) -> dict[str, Any]:
    """What a payout line's document keeps of its payout."""
    keep = (
        "payout_id",
        "arrival_date",
        "gross",
        "refunds",
        "other",
        "fees",
        "net",
        "charges_count",
        "charges",
    )
    return {k: payout[k] for k in keep if k in payout}


# --- the webhook side ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PayoutRecorded:
    """What storing a payout did: ``duplicate`` when it was stored before, and the bank lines
    that waited for it and are reconciled now."""

    payout: dict[str, Any]
    duplicate: bool
    reconciled: tuple[str, ...] = ()


def get_payout(payout_id: str) -> tuple[dict[str, Any], int] | None:
    """A stored payout's document and version, or None."""
    return store.get_document(store.payout_pk(payout_id)) if PAYOUT_ID.fullmatch(payout_id) else None


def record_payout(summary: PayoutSummary, clock: Clock) -> PayoutRecorded:
    """Store the payout once (its document and a ``StripePayoutRecorded`` audit event, in one
    transaction), point its amount and arrival date to it, and reconcile the bank lines that
    waited for it. A second delivery stores nothing and reconciles what still waits."""
    pk = store.payout_pk(summary.payout_id)
    now = iso_timestamp(clock.now())
    body = {**summary.to_json(), "recorded_at": now}
    duplicate = False
    try:
        event = AuditEvent(summary.payout_id, 1, "StripePayoutRecorded", now, ACTOR, dict(body))
        store.put_document(pk, body, 1, now, event)
    except store.ConcurrentChangeError:
        duplicate = True
    pointer = store.payout_by_amount_pk(
        summary.amount.currency, summary.amount.minor, summary.arrival.isoformat()
    )
    # another payout of the same amount arrived that day: the first keeps the pointer (a line
    # that names its payout id still finds the second)
    with contextlib.suppress(store.ConcurrentChangeError):
        store.put_document(pointer, {"payout_id": summary.payout_id}, 1, now, None)
    found = get_payout(summary.payout_id)
    assert found is not None
    return PayoutRecorded(found[0], duplicate, reconcile_waiting(summary.payout_id, clock))


def _waiting_refs(currency: str, minor: int, day: str) -> str:
    return f"{currency}#{minor}#{day}"


def reconcile_waiting(payout_id: str, clock: Clock) -> tuple[str, ...]:
    """Reconcile the bank lines that wait for the stored payout ``payout_id`` (by its id, or by
    its amount and arrival date); the ids of the lines reconciled now."""
    found = get_payout(payout_id)
    if found is None:
        return ()
    payout = found[0]
    minor = Money.parse(str(payout["amount"]), str(payout["currency"])).minor
    refs = (payout_id, _waiting_refs(str(payout["currency"]), minor, str(payout["arrival_date"])))
    done: list[str] = []
    for ref in refs:
        pointer = store.get_document(store.payout_line_waiting_pk(ref))
        if pointer is not None and reconcile_line(str(pointer[0]["line_id"]), payout_id, clock):
            done.append(str(pointer[0]["line_id"]))
    return tuple(done)


# --- the statement side -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Recognised:
    """A statement line that is a Stripe payout: the payout stored for it (None while its
    webhook has not come) and what it waits by (the payout id, or ``currency#minor#date``)."""

    payout: dict[str, Any] | None
    waits_by: tuple[str, ...]
    basis: str


def payout_id_in(entry: Entry) -> str | None:
    """The payout id a line's remittance or references name, if any."""
    texts = [entry.remittance.text, *entry.remittance.structured, entry.remittance.end_to_end_id or ""]
    for text in texts:
        found = PAYOUT_ID.search(text)
        if found:
            return found.group(0)
    return None


def _from_stripe(entry: Entry) -> bool:
    return bool(_STRIPE.search(entry.counterparty.name or "") or _STRIPE.search(entry.remittance.text))


def recognise(entry: Entry) -> Recognised | None:
    """Whether a credit line is a Stripe payout (see the module); None when it is not."""
    payout_id = payout_id_in(entry)
    if payout_id is not None:
        found = get_payout(payout_id)
        if found is not None and _fits(found[0], entry):
            return Recognised(found[0], (), f"the remittance names {payout_id}")
        if found is None:
            return Recognised(None, (payout_id,), f"the remittance names {payout_id}")
        return None  # it names a payout of another amount: not that payout
    if not _from_stripe(entry):
        return None
    days = sorted({d.isoformat() for d in (entry.booking_date, entry.value_date) if d is not None})
    amount = entry.amount
    for day in days:
        pointer = store.get_document(store.payout_by_amount_pk(amount.currency, amount.minor, day))
        if pointer is not None:
            found = get_payout(str(pointer[0]["payout_id"]))
            if found is not None:
                return Recognised(found[0], (), f"from Stripe, the amount of the payout that arrived {day}")
    if not _STRIPE.search(entry.counterparty.name or ""):
        return None  # "stripe" in a customer's remittance alone does not make a payout
    refs = tuple(_waiting_refs(amount.currency, amount.minor, d) for d in days)
    return Recognised(None, refs, "from Stripe, for the amount of a payout not reported yet")


def _fits(payout: Mapping[str, Any], entry: Entry) -> bool:
    return (
        str(payout["currency"]) == entry.amount.currency
        and Money.parse(str(payout["amount"]), entry.amount.currency) == entry.amount
    )


def wait_for_payout(line_id: str, recognised: Recognised, clock: Clock) -> None:
    """Point what the line waits by to it (the first line waiting by a reference keeps it)."""
    now = iso_timestamp(clock.now())
    for ref in recognised.waits_by:
        with contextlib.suppress(store.ConcurrentChangeError):
            store.put_document(store.payout_line_waiting_pk(ref), {"line_id": line_id}, 1, now, None)


def payout_waited_for(recognised: Recognised) -> str | None:
    """The payout stored meanwhile for what a waiting line waits by, if any."""
    for ref in recognised.waits_by:
        if PAYOUT_ID.fullmatch(ref):
            if get_payout(ref) is not None:
                return ref
            continue
        currency, minor, day = ref.split("#")
        pointer = store.get_document(store.payout_by_amount_pk(currency, int(minor), day))
        if pointer is not None:
            return str(pointer[0]["payout_id"])
    return None


def reconcile_line(line_id: str, payout_id: str, clock: Clock) -> bool:
    """A line that waits for a payout (``payout_pending``) is reconciled with it: its status
    ``payout`` with the evidence, the payout's document names the line, an audit event
    ``StripePayoutReconciled``, and the statement's counts (once its import has counted them),
    all in one transaction. False when the line is not waiting, not for this amount, or the
    payout was reconciled with another line already (it stays waiting, for a person to see)."""
    for _ in range(3):  # another line of the statement, or another payout, changed it meanwhile
        line = store.get_document(store.bank_line_pk(line_id))
        payout = get_payout(payout_id)
        if line is None or payout is None or line[0].get("status") != PAYOUT_PENDING:
            return False
        body, version = line
        if payout[0].get("bank_line") not in (None, line_id):
            return False  # a payout reaches the bank once: another line is not it
        if body["currency"] != payout[0]["currency"] or Money.parse(
            str(body["amount"]), str(body["currency"])
        ) != Money.parse(str(payout[0]["amount"]), str(body["currency"])):
            return False
        try:
            _commit_reconciliation(body, version, payout, clock)
        except store.ConcurrentChangeError:
            continue
        return True
    return False


def _commit_reconciliation(
    body: dict[str, Any], version: int, payout: tuple[dict[str, Any], int], clock: Clock
) -> None:
    now = iso_timestamp(clock.now())
    line_id, statement = str(body["line_id"]), str(body["statement"])
    doc, doc_version = payout
    changed = {
        **body,
        "status": PAYOUT,
        "rule": RULE,
        "evidence": f"{evidence(doc)} ({body.get('basis') or 'recognised'})",
        "payout": line_payout(doc),
        "reconciled_at": now,
    }
    work = store.UnitOfWork().add(
        store.document_update(
            store.bank_line_pk(line_id),
            changed,
            version + 1,
            now,
            listing=(store.statement_lines_listing(statement), f"{body['position']}#{line_id}"),
        )
    )
    payout_id = str(doc["payout_id"])
    work.add(
        store.document_update(
            store.payout_pk(payout_id),
            {**doc, "bank_line": line_id, "statement": statement},
            doc_version + 1,
            now,
        )
    )
    data = {
        "bank_line": line_id,
        "statement": statement,
        "amount": doc["amount"],
        "currency": doc["currency"],
    }
    work.add(
        store.audit_event(
            store.payout_pk(payout_id),
            AuditEvent(payout_id, doc_version + 1, "StripePayoutReconciled", now, "bank", data),
        )
    )
    recount = _recount(statement, changed, clock)
    if recount is not None:
        work.add(recount)
    work.commit()


def _recount(statement_ref: str, changed: dict[str, Any], clock: Clock) -> store.Write | None:
    """The statement's next version with its counts taken again from its lines (``changed`` in
    place of the stored one), or None while its import has not counted them yet (it will)."""
    found = store.get_document(store.statement_pk(statement_ref))
    if found is None or "counts" not in found[0]:
        return None
    statement, version = found
    lines = [
        changed if b.get("line_id") == changed["line_id"] else b
        for b, _ in store.listed_documents(store.statement_lines_listing(statement_ref), None)
    ]
    # what the import counted of the file itself (unreadable entries, pending ones) stays
    kept = {k: v for k, v in statement["counts"].items() if k in _FILE_COUNTS}
    counts = {**count_lines(lines), **kept}
    now = iso_timestamp(clock.now())
    listing = (store.STATEMENTS_LISTING, f"{statement['imported_at']}#{statement_ref}")
    return store.document_update(
        store.statement_pk(statement_ref), {**statement, "counts": counts}, version + 1, now, listing=listing
    )


def recount_statement(statement_ref: str, line_id: str, clock: Clock) -> None:
    """Count a statement's lines again (a payout line of it was reconciled while it was being
    imported, after the import had counted it as waiting)."""
    line = store.get_document(store.bank_line_pk(line_id))
    if line is None:
        return
    update = _recount(statement_ref, line[0], clock)
    if update is not None:
        with contextlib.suppress(store.ConcurrentChangeError):  # counted again by another meanwhile
            store.UnitOfWork().add(update).commit()
