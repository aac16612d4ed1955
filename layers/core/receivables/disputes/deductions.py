"""Deductions against the ledger: a short payment becomes a write-off or a deduction.

`take_shortfalls` runs after a bank transfer or cheque is applied (and again on every redelivery
of it: it is idempotent). For each invoice the payment left short:

- up to the policy's tolerance, the small balance is written off (``SmallBalanceWrittenOff``)
  and the invoice is paid;
- above it, a deduction opens (``DeductionTaken``, document ``DED#<id>``, one per payment and
  invoice): split by reason from the remittance, each part checked where the data allows. Valid
  parts are credited at once (a credit note), invalid ones stay on the invoice's balance and
  dunning chases them, and the open rest goes to its owner through the dispute workflow (the
  invoice under dispute, dunning paused), with the evidence its reason needs.

The dispute's resolution closes the deduction in the same transaction (`resolution_update`):
the credit finance gives is valid, the rest invalid. `report` ages the open ones and sums them
by reason and customer, valid against invalid, with the days deductions outstanding.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from receivables.customers import approvals
from receivables.customers.requirements import po_from_erp
from receivables.disputes.analysis import price_or_quantity
from receivables.disputes.credit_notes import credit_note_for
from receivables.disputes.deduction_rules import (
    EARLY_PAYMENT_DISCOUNT,
    PRICING,
    SHORT_DELIVERY,
    DeductionPolicy,
    Part,
    RemittanceLine,
    cap_cumulative,
    check_discount,
    check_pricing,
    decide_open,
    hold_for_controller,
    lines_in_text,
    policy_from_json,
    says_on_account,
    split,
    total,
)
from receivables.disputes.evidence import load_purchase_order, load_terms
from receivables.disputes.opening import open_dispute_on
from receivables.disputes.service import DisputeError
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.disputes import Reason, Source
from receivables.ledger.model import AuditEvent, Invoice
from receivables.ledger.rules import COLLECTIBLE, LedgerError, write_off_small_balance
from receivables.ledger.terms import parse_payment_terms
from receivables.payments.cash import candidate_numbers, mentioned_invoices
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Sequence

    from receivables.kernel.clock import Clock
    from receivables.ledger.disputes import Dispute, Resolution
    from receivables.ledger.model import Payment

ACTOR = "deductions"
MAX_ATTEMPTS = 5


class ShortPaidReceipt(Protocol):
    """What the deductions read of a receipt (`receivables.payments.allocation.Receipt`): its
    source, date, remittance, targets and the deductions the remittance explains."""

    @property
    def source(self) -> str: ...
    @property
    def received_at(self) -> str: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def target_invoice_ids(self) -> tuple[str, ...]: ...
    @property
    def deductions(self) -> tuple[RemittanceLine, ...]: ...
    @property
    def on_account(self) -> bool: ...


# Sources whose short payments are deductions: the payer chose the amount and may say why.
# A card or debit through Stripe pays what the customer picked on the portal (a partial payment).
REMITTANCE_SOURCES = frozenset({"bank", "cheque", "cash", "manual"})


def load_policy() -> DeductionPolicy:
    """Finance's deduction policy, or the default."""
    return policy_and_version()[0]


def policy_and_version() -> tuple[DeductionPolicy, int]:
    """Finance's deduction policy and its version (0: the default, never saved)."""
    found = store.get_document(store.DEDUCTION_POLICY_PK)
    if found is None:
        return DeductionPolicy(), 0
    return policy_from_json(found[0]), found[1]


def save_policy(policy: DeductionPolicy, version: int, actor: str, clock: Clock) -> int:
    """Replace the policy read at ``version`` (``DeductionPolicyChanged``); the new version."""
    at = iso_timestamp(clock.now())
    event = AuditEvent("deduction-policy", version + 1, "DeductionPolicyChanged", at, actor, policy.to_json())
    store.put_document(store.DEDUCTION_POLICY_PK, policy.to_json(), version + 1, at, event)
    return version + 1


def deduction_id_for(payment_id: str, invoice_id: str) -> str:
    """One deduction per payment and invoice: a redelivered payment finds it."""
    return "ded_" + hashlib.sha256(f"{payment_id}#{invoice_id}".encode()).hexdigest()[:24]


def get_deduction(deduction_id: str) -> tuple[dict[str, Any], int] | None:
    """A deduction and its version, or None."""
    return store.get_document(store.deduction_pk(deduction_id))


# --- taking a short payment ---------------------------------------------------------------------
def take_shortfalls(receipt: ShortPaidReceipt, payment: Payment, clock: Clock) -> list[dict[str, Any]]:
    """Write off or open a deduction for each invoice ``payment`` paid short (see the module
    docstring); the deductions (and write-offs) as documents. Nothing for a Stripe payment, a
    payment on account (an instalment, or a remittance calling itself a part payment), one with
    money left over, or one no remittance matched."""
    if (
        receipt.source not in REMITTANCE_SOURCES
        or receipt.on_account
        or (not receipt.deductions and says_on_account(receipt.reference or ""))
        or payment.matched_by not in ("target", "reference")
        or payment.unapplied.minor > 0
    ):
        return []
    paid_on = date.fromisoformat(receipt.received_at[:10])
    taken: list[dict[str, Any]] = []
    invoices = [i for i in (store.get_invoice(i) for i, _ in payment.allocations) if i is not None]
    named = _named_by_remittance(receipt, invoices)
    for invoice in named:
        lines = _lines_for(invoice, receipt, single=len(named) == 1)
        found = take_shortfall(invoice.invoice_id, payment.payment_id, lines, paid_on, clock, read=invoice)
        if found is not None:
            taken.append(found)
    return taken


def _named_by_remittance(receipt: ShortPaidReceipt, invoices: Sequence[Invoice]) -> list[Invoice]:
    """The invoices the payer said they pay (the targets, or the numbers their text names):
    only those can have been paid short on purpose. What the excess of an overpayment left on
    the customer's other open invoices is a part payment of those, never a deduction."""

    if receipt.target_invoice_ids:
        wanted = set(receipt.target_invoice_ids)
        return [i for i in invoices if i.invoice_id in wanted]
    text = receipt.reference or ""
    numbers = {n.casefold() for n in candidate_numbers(text)}
    return [i for i in invoices if i.number.casefold() in numbers] or mentioned_invoices(text, invoices)


def _lines_for(invoice: Invoice, receipt: ShortPaidReceipt, *, single: bool) -> list[RemittanceLine]:
    structured = [
        line
        for line in receipt.deductions
        if (line.invoice is None and single) or (line.invoice or "").strip() == invoice.number
    ]
    if receipt.deductions:
        return structured
    return lines_in_text(receipt.reference or "", invoice.currency)


def take_shortfall(
    invoice_id: str,
    payment_id: str,
    lines: Sequence[RemittanceLine],
    paid_on: date,
    clock: Clock,
    *,
    read: Invoice | None = None,
) -> dict[str, Any] | None:
    """The write-off or deduction for what ``payment_id`` left owing on ``invoice_id``; the one
    taken before when it exists; None when nothing is short. ``read`` is the invoice as the
    caller has just read it (consistently), which the first attempt uses instead of reading it
    again; an attempt that meets a concurrent change reads it afresh."""
    deduction_id = deduction_id_for(payment_id, invoice_id)
    for _ in range(MAX_ATTEMPTS):
        found = get_deduction(deduction_id)
        if found is not None:
            return _ensure_dispute(found[0], found[1], clock)
        fresh = read is not None and read.invoice_id == invoice_id
        invoice, read = (read if fresh else store.get_invoice(invoice_id)), None
        if (
            invoice is None
            or invoice.balance.minor <= 0
            or invoice.status not in COLLECTIBLE
            or invoice.dunning.promise is not None  # a promise to pay the rest later
        ):
            return None
        policy = load_policy()
        try:
            if invoice.balance <= policy.tolerance_in(invoice.currency):
                return _write_off(invoice, deduction_id, payment_id, policy, clock)
            body = _take(invoice, deduction_id, payment_id, lines, paid_on, policy, clock)
        except store.ConcurrentChangeError:
            continue
        return _ensure_dispute(body, 1, clock)
    raise store.StoreError(f"deduction on {invoice_id}: too much contention, try again")


def _document(
    invoice: Invoice, deduction_id: str, payment_id: str, parts: Sequence[Part], now: str, **more: Any
) -> dict[str, Any]:
    currency = invoice.currency
    return {
        "deduction_id": deduction_id,
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "payment_id": payment_id,
        "currency": currency,
        "amount": total(parts, currency).to_decimal_string(),
        "parts": [p.to_json() for p in parts],
        "valid": total(parts, currency, "valid").to_decimal_string(),
        "invalid": total(parts, currency, "invalid").to_decimal_string(),
        "open": total(parts, currency, "open").to_decimal_string(),
        "opened_at": now,
        "resolved_at": None if total(parts, currency, "open").minor else now,
        "owner": None,
        "dispute_id": None,
        "credit_note": None,
    } | more


def _write_off(
    invoice: Invoice, deduction_id: str, payment_id: str, policy: DeductionPolicy, clock: Clock
) -> dict[str, Any]:
    now = iso_timestamp(clock.now())
    tolerance = policy.tolerance_in(invoice.currency)
    part = Part(
        "small_balance", invoice.balance, validity="written_off", check=f"under the {tolerance} tolerance"
    )
    body = _document(invoice, deduction_id, payment_id, [part], now, status="written_off", resolved_at=now)
    changed = replace(write_off_small_balance(invoice), version=invoice.version + 1, updated_at=now)
    data = _invoice_data(invoice, deduction_id, payment_id) | {
        "amount": invoice.balance.to_decimal_string(),
        "tolerance": tolerance.to_decimal_string(),
        "status_to": changed.status.value,
        "settled": True,
    }
    store.apply_changes(
        [
            (
                changed,
                AuditEvent(invoice.invoice_id, changed.version, "SmallBalanceWrittenOff", now, ACTOR, data),
            )
        ],
        writes=[_event(deduction_id, 1, "SmallBalanceWrittenOff", now, body), _record(body, 1, now)],
    )
    return body


def _take(
    invoice: Invoice,
    deduction_id: str,
    payment_id: str,
    lines: Sequence[RemittanceLine],
    paid_on: date,
    policy: DeductionPolicy,
    clock: Clock,
) -> dict[str, Any]:
    now = iso_timestamp(clock.now())
    already = credited_by_reason(invoice.invoice_id, invoice.currency)
    parts = [
        c
        for p in split(invoice.balance, lines, invoice.customer_id, policy)
        for c in cap_cumulative(_checked(p, invoice, paid_on), already)
    ]
    auto_credit = approvals.load_policy().auto_credit_limit(invoice.currency)
    parts = hold_for_controller(parts, auto_credit, invoice.credited)
    open_parts = [p for p in parts if p.validity == "open"]
    main = max(open_parts, key=lambda p: p.amount.minor).reason if open_parts else None
    owner = policy.owner_for(main, invoice.customer_id) if main else None
    valid = total(parts, invoice.currency, "valid")
    status = "open" if open_parts else "resolved"
    body = _document(invoice, deduction_id, payment_id, parts, now, status=status, owner=owner)
    changes: list[tuple[Any, AuditEvent]] = []
    creations: list[store.Creation] = []
    extra = [_event(deduction_id, 1, "DeductionTaken", now, body)]
    if valid.minor > 0:
        note, changed, allocation = credit_note_for(
            invoice, valid, f"D{deduction_id[-6:].upper()}", deduction_id, now
        )
        body["credit_note"] = note.number
        changed = replace(changed, version=invoice.version + 1, updated_at=now)
        by_reason: dict[str, Money] = {}
        for part in parts:
            if part.validity == "valid":
                by_reason[part.reason] = (
                    by_reason.get(part.reason, Money.zero(invoice.currency)) + part.amount
                )
        data = _invoice_data(invoice, deduction_id, payment_id) | {
            "credited": valid.to_decimal_string(),
            "by_reason": {reason: amount.to_decimal_string() for reason, amount in sorted(by_reason.items())},
            "credit_note": note.number,
            "balance": changed.balance.to_decimal_string(),
            "status_to": changed.status.value,
            "settled": changed.balance.minor <= 0,
        }
        changes.append(
            (changed, AuditEvent(invoice.invoice_id, changed.version, "DeductionCredited", now, ACTOR, data))
        )
        note_data = {"invoice_id": invoice.invoice_id, "deduction_id": deduction_id, "number": note.number}
        note_event = AuditEvent(
            note.credit_note_id,
            1,
            "CreditNoteIssued",
            now,
            ACTOR,
            note_data | {"amount": valid.to_decimal_string(), "currency": valid.currency},
        )
        creations.append(store.Creation.credit_note(note, note_event))
        extra.append(allocation)
    store.apply_changes(changes, creations=creations, writes=[*extra, _record(body, 1, now)])
    return body


def credited_by_reason(invoice_id: str, currency: str) -> dict[str, Money]:
    """What earlier deductions credited on the invoice, by reason (its ``DeductionCredited``
    events; one Query of the invoice's partition). An event written before reasons were kept
    counts for every reason: a credit is never given twice for want of knowing why."""
    found: dict[str, Money] = {}
    by_deductions = Money.zero(currency)
    for event in store.invoice_events(invoice_id):
        if event.type != "DeductionCredited":
            continue
        by_deductions += Money.parse(str(event.data.get("credited", "0")), currency)
        reasons = event.data.get("by_reason")
        if not isinstance(reasons, dict):
            reasons = dict.fromkeys((PRICING, EARLY_PAYMENT_DISCOUNT), event.data.get("credited", "0"))
        for reason, amount in reasons.items():
            found[reason] = found.get(reason, Money.zero(currency)) + Money.parse(str(amount), currency)
    # What else credited the invoice (a dispute settled or decided, a credit note from the ERP)
    # may have answered the same claim: it counts for every reason.
    invoice = store.get_invoice(invoice_id)
    other = (invoice.credited - by_deductions) if invoice is not None else Money.zero(currency)
    if other.minor > 0:
        for reason in {*found, PRICING, EARLY_PAYMENT_DISCOUNT}:
            found[reason] = found.get(reason, Money.zero(currency)) + other
    return found


def _checked(part: Part, invoice: Invoice, paid_on: date) -> list[Part]:
    """The checks the data allows for ``part``'s reason."""
    if part.reason == EARLY_PAYMENT_DISCOUNT:
        payment_terms = parse_payment_terms(invoice.payment_terms)
        discount = payment_terms.discount if payment_terms is not None else None
        return check_discount(part, discount, invoice.issue_date, paid_on, invoice.payable, invoice.balance)
    if part.reason == PRICING:
        # Only the PO the invoice came with from the ERP: a PO number given to it afterwards (by
        # a collector, or the customer's AP) is one person's word, not a ground for a credit.

        erp = po_from_erp(invoice, store.invoice_events(invoice.invoice_id))
        po = load_purchase_order(invoice.customer_id, invoice.po_number) if erp else None
        terms = load_terms(invoice.customer_id)
        if po is None and not terms.price_list:
            return [part]
        finding = price_or_quantity(invoice, po, terms)
        against = f"PO {po.number}" if po is not None else "the price list"
        overbilled = (
            Money.parse(finding.facts["overbilled"], invoice.currency)
            if finding.confirmed
            else Money.zero(invoice.currency)
        )
        return check_pricing(part, overbilled, against)
    return [part]


def _ensure_dispute(body: dict[str, Any], version: int, clock: Clock) -> dict[str, Any]:
    """Open the deduction's dispute when it has an open part and none yet (taken, then the
    process stopped before: the next delivery finishes it)."""

    if body.get("status") != "open" or body.get("dispute_id"):
        return body
    currency = body["currency"]
    open_amount = Money.parse(body["open"], currency)
    reasons = [p["reason"] for p in body["parts"] if p["validity"] == "open"]
    reason = {PRICING: Reason.PRICING, SHORT_DELIVERY: Reason.QUANTITY}.get(reasons[0], Reason.OTHER)
    comment = "Deduction: " + "; ".join(
        f"{p['reason']} {p['amount']} {currency}" + (f" (code {p['code']})" if p["code"] else "")
        for p in body["parts"]
        if p["validity"] == "open"
    )
    try:
        dispute, _ = open_dispute_on(
            body["invoice_id"], Source.DEDUCTION, reason, ACTOR, clock, amount=open_amount, comment=comment
        )
    except (DisputeError, LedgerError, InvalidRequestError):
        return body  # the invoice is no longer open to a dispute: the deduction stays unrouted
    now = iso_timestamp(clock.now())
    changed = body | {"dispute_id": dispute.dispute_id}
    try:
        store.apply_changes(
            [],
            writes=[
                _event(
                    body["deduction_id"],
                    version + 1,
                    "DeductionRouted",
                    now,
                    {
                        "deduction_id": body["deduction_id"],
                        "dispute_id": dispute.dispute_id,
                        "owner": body.get("owner"),
                        "customer_id": body["customer_id"],
                        "invoice_id": body["invoice_id"],
                        "number": body["number"],
                        "open": body["open"],
                        "currency": currency,
                        "evidence_needed": sorted({e for p in body["parts"] for e in p["evidence_needed"]}),
                    },
                ),
                store.new_document(
                    store.dispute_deduction_pk(dispute.dispute_id),
                    store.HEAD,
                    {"deduction_id": body["deduction_id"]},
                    1,
                    now,
                ),
                _record(changed, version + 1, now),
            ],
        )
    except store.ConcurrentChangeError:
        found = get_deduction(body["deduction_id"])
        return found[0] if found else body
    return changed


# --- the owner's decision, through the dispute ----------------------------------------------------
def resolution_update(dispute: Dispute, resolution: Resolution, now: str) -> list[store.Write]:
    """The deduction a dispute's resolution closes, to write in the resolution's transaction
    (the deduction and its audit event): the credit given is valid, the rest of the open parts
    invalid."""
    found = _deduction_of(dispute.dispute_id)
    if found is None:
        return []
    body, version = found
    currency = body["currency"]
    credit = resolution.credit if resolution.action in ("accept", "credit") else None
    by = f"decided by {resolution.by}" + (f": {resolution.reason}" if resolution.reason else "")
    parts = decide_open([_part(raw, currency) for raw in body["parts"]], credit, by)
    changed = body | {
        "parts": [p.to_json() for p in parts],
        "valid": total(parts, currency, "valid").to_decimal_string(),
        "invalid": total(parts, currency, "invalid").to_decimal_string(),
        "open": Money.zero(currency).to_decimal_string(),
        "status": "resolved",
        "resolved_at": now,
    }
    event = _event(
        body["deduction_id"],
        version + 1,
        "DeductionResolved",
        now,
        {
            "deduction_id": body["deduction_id"],
            "dispute_id": dispute.dispute_id,
            "customer_id": body["customer_id"],
            "invoice_id": body["invoice_id"],
            "valid": changed["valid"],
            "invalid": changed["invalid"],
            "currency": currency,
            "by": resolution.by,
        },
    )
    return [_record(changed, version + 1, now), event]


def _deduction_of(dispute_id: str) -> tuple[dict[str, Any], int] | None:
    link = store.get_document(store.dispute_deduction_pk(dispute_id))
    return None if link is None else get_deduction(str(link[0]["deduction_id"]))


def _part(raw: dict[str, Any], currency: str) -> Part:
    return Part(
        raw["reason"],
        Money.parse(raw["amount"], currency),
        raw.get("code"),
        raw.get("note", ""),
        raw["validity"],
        raw.get("check", ""),
        raw.get("finding", ""),
        dict(raw.get("facts") or {}),
    )


# --- records --------------------------------------------------------------------------------------
def _record(body: dict[str, Any], version: int, now: str) -> store.Write:
    """The deduction's item: listed by the day it was taken (gsi3), and on the sparse index of
    open ones (gsi2) while it waits for its owner."""
    key = f"{body['opened_at']}#{body['deduction_id']}"
    waiting = (store.OPEN_DEDUCTIONS, key) if body.get("status") == "open" else None
    return store.document_update(
        store.deduction_pk(body["deduction_id"]),
        body,
        version,
        now,
        (store.DEDUCTIONS_LISTING, key),
        waiting=waiting,
    )


def _event(deduction_id: str, seq: int, kind: str, now: str, data: dict[str, Any]) -> store.Write:
    payload = {k: v for k, v in data.items() if k != "status"} | {"deduction_id": deduction_id}
    return store.audit_event(
        store.deduction_pk(deduction_id), AuditEvent(deduction_id, seq, kind, now, ACTOR, payload)
    )


def _invoice_data(invoice: Invoice, deduction_id: str, payment_id: str) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "deduction_id": deduction_id,
        "payment_id": payment_id,
        "currency": invoice.currency,
        "status_from": invoice.status.value,
    }


# --- reports --------------------------------------------------------------------------------------
AGE_BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, None, "90+"))


def deductions(
    status: str | None = None, customer_id: str | None = None, since: str | None = None
) -> list[dict[str, Any]]:
    """Deductions of ``status`` and ``customer_id`` when given, newest first: the open ones from
    their sparse index (however old), the others taken ``since`` (an ISO instant) from the
    listing by day. One Query each, never the whole history unless asked for."""
    if status == "open":
        found = [body for body, _ in store.waiting_documents(store.OPEN_DEDUCTIONS)]
    else:
        found = [body for body, _ in store.listed_documents(store.DEDUCTIONS_LISTING, None, since=since)]
    return [
        d
        for d in reversed(found)
        if (status is None or d.get("status") == status) and customer_id in (None, d["customer_id"])
    ]


def report(today: date, days: int = 90) -> dict[str, Any]:
    """Per currency: the open deductions aged by days since taken (however old), the days
    deductions outstanding (open now / taken in the last ``days`` days, times the days), and what
    was taken in those days, found valid, invalid, written off and still open, by reason and by
    customer."""
    since = iso_timestamp(datetime.combine(today - timedelta(days=days), datetime.min.time()))
    currencies: dict[str, dict[str, Any]] = {}
    for body in deductions(since=since):
        currency = body["currency"]
        row = currencies.setdefault(currency, _empty(currency))
        zero = Money.zero(currency)
        for raw in body["parts"]:
            part = _part(raw, currency)
            for key in ("by_reason", "by_customer"):
                group = part.reason if key == "by_reason" else body["customer_id"]
                sums = row[key].setdefault(group, dict.fromkeys(("taken", *_VALIDITIES), zero))
                sums["taken"] = sums["taken"] + part.amount
                sums[part.validity] = sums[part.validity] + part.amount
            row["totals"][part.validity] = row["totals"][part.validity] + part.amount
        row["taken_in_period"] = row["taken_in_period"] + Money.parse(body["amount"], currency)
    for body in deductions("open"):
        currency = body["currency"]
        row = currencies.setdefault(currency, _empty(currency))
        open_amount = Money.parse(body["open"], currency)
        age = (today - date.fromisoformat(body["opened_at"][:10])).days
        label = next(lbl for low, high, lbl in AGE_BUCKETS if age >= low and (high is None or age <= high))
        row["open_aged"][label] = row["open_aged"][label] + open_amount
        row["open_now"] = row["open_now"] + open_amount
        row["open_count"] += 1
    return {
        "as_of": today.isoformat(),
        "period_days": days,
        "currencies": {c: _shown(row, days) for c, row in sorted(currencies.items())},
    }


_VALIDITIES = ("valid", "invalid", "open", "written_off")


def _empty(currency: str) -> dict[str, Any]:
    zero = Money.zero(currency)
    return {
        "totals": dict.fromkeys(_VALIDITIES, zero),
        "by_reason": {},
        "by_customer": {},
        "open_aged": {label: zero for _, _, label in AGE_BUCKETS},
        "open_count": 0,
        "open_now": zero,
        "taken_in_period": zero,
    }


def _shown(row: dict[str, Any], days: int) -> dict[str, Any]:
    def amounts(sums: dict[str, Money]) -> dict[str, str]:
        return {k: v.to_decimal_string() for k, v in sums.items()}

    open_total: Money = row["open_now"]
    taken: Money = row["taken_in_period"]
    ddo = None if taken.minor <= 0 else round(open_total.minor * days / taken.minor, 1)
    decided = row["totals"]["valid"].minor + row["totals"]["invalid"].minor
    return {
        "totals": amounts(row["totals"]),
        "open_count": row["open_count"],
        "open_now": open_total.to_decimal_string(),
        "open_aged": amounts(row["open_aged"]),
        "taken_in_period": taken.to_decimal_string(),
        "days_deductions_outstanding": ddo,
        "valid_share_percent": None
        if not decided
        else round(100 * row["totals"]["valid"].minor / decided, 1),
        "by_reason": {k: amounts(v) for k, v in sorted(row["by_reason"].items())},
        "by_customer": {k: amounts(v) for k, v in sorted(row["by_customer"].items())},
    }
