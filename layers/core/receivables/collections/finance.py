"""What the finance API shows and does with invoices and customers: the views (decimal strings
for money), the actions (void, write off, note, collector, credit hold, contact), a customer's
statement and risk score, and the worklist.

Every action is a conditional write of the head with its audit event (`store.apply_changes`),
retried on a concurrent change; ``actor`` is the finance user.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, Customer, Invoice, InvoiceStatus, PartyId
from receivables.ledger.rules import OPEN_RECEIVABLE, LedgerError, void, write_off
from receivables.reporting.aging import bucket_of
from receivables.reporting.service import latest_snapshot
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from receivables.kernel.clock import Clock

# How much a customer's risk weighs in the worklist's expected loss.
RISK_WEIGHT = {"reliable": Decimal("0.5"), "standard": Decimal(1), "risky": Decimal(2)}
# The share of a receivable expected never to be paid, by how late it is: the provision matrix of
# IFRS 9's illustrative examples (Example 12, "provision matrix"), the simplified approach for
# trade receivables. The worklist's expected loss is this rate x the customer's risk weight x the
# open balance (docs/kpis.md).
LOSS_RATES = {
    "current": Decimal("0.003"),
    "1-30": Decimal("0.016"),
    "31-60": Decimal("0.036"),
    "61-90": Decimal("0.066"),
    "90+": Decimal("0.106"),
}


def money_text(minor: int, currency: str) -> str:
    """Minor units as the decimal string the API speaks."""
    return Money(minor, currency).to_decimal_string()


def invoice_json(invoice: Invoice, today: date | None = None) -> dict[str, Any]:
    """An invoice as the API shows it."""
    body: dict[str, Any] = {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "status": invoice.status.value,
        "total": invoice.total.to_decimal_string(),
        "balance": invoice.balance.to_decimal_string(),
        "paid": invoice.paid.to_decimal_string(),
        "credited": invoice.credited.to_decimal_string(),
        "written_off": invoice.written_off.to_decimal_string(),
        "po_number": invoice.po_number,
        "collector": invoice.dunning.collector,
        "dunning": invoice.dunning.status or None,
        "payment_processing": None
        if invoice.dunning.processing is None
        else {
            "payment_intent": invoice.dunning.processing.payment_intent,
            "amount": invoice.dunning.processing.amount.to_decimal_string(),
            "method": invoice.dunning.processing.method,
            "since": invoice.dunning.processing.since,
        },
        "payment_failure": invoice.dunning.payment_failure,
        "awaiting": list(invoice.dunning.awaiting),
        "awaiting_since": invoice.dunning.awaiting_since,
        "contract_reference": invoice.contract_reference,
        "documents": [
            {"kind": d.kind, "content_type": d.content_type, "size": d.size, "added_at": d.added_at}
            for d in invoice.documents
        ],
        "version": invoice.version,
    }
    body["paid_on"] = None if invoice.paid_on is None else invoice.paid_on.isoformat()
    if today is not None:
        body["days_late"] = days_late(invoice, today)
    return body


def days_late(invoice: Invoice, today: date) -> int:
    """Days past due: of an open invoice as of ``today``; of a paid one, when it was paid (0
    when paid on time or when its paid day is unknown); 0 for the rest (credited, void)."""
    if invoice.status in OPEN_RECEIVABLE:
        return max((today - invoice.due_date).days, 0)
    if invoice.status is InvoiceStatus.PAID and invoice.paid_on is not None:
        return max((invoice.paid_on - invoice.due_date).days, 0)
    return 0


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An audit event as the API shows it."""
    return {"seq": event.seq, "type": event.type, "at": event.at, "actor": event.actor, "data": event.data}


def display_name(customer: Customer) -> str:
    """What finance calls the customer: its name, else its ERP reference (the seller's own
    customer number), else its VAT id or email, else its id: never blank."""
    if customer.name:
        return customer.name
    by_scheme = {i.scheme: i.value for i in customer.identifiers}
    for scheme in ("erp", "vat", "legal", "email"):
        if scheme in by_scheme:
            return by_scheme[scheme]
    return customer.email or customer.customer_id


def customer_json(customer: Customer) -> dict[str, Any]:
    """A customer as the API shows it."""
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "display_name": display_name(customer),
        "identifiers": [{"scheme": i.scheme, "value": i.value} for i in customer.identifiers],
        "email": customer.email,
        "country": customer.country,
        "language": customer.language,
        "payment_terms_days": customer.payment_terms_days,
        "risk": customer.risk,
        "credit_hold": customer.credit_hold,
        "collector": customer.collector,
        "link_generation": customer.link_generation,
        "portal_last_used_at": customer.portal_last_used_at,
        "partial_payments": customer.partial_payments,
        "preferred_method": customer.preferred_method,
        "invoice_delivery": customer.invoice_delivery or "email_pdf",
        "document_requirements": list(customer.document_requirements),
        "autopay": None
        if customer.autopay is None
        else {
            "status": "on",
            "method": customer.autopay.method,
            "payment_method": customer.autopay.payment_method,
            "label": customer.autopay.label,
            "max_per_invoice": None
            if customer.autopay.max_per_invoice is None
            else customer.autopay.max_per_invoice.to_decimal_string(),
            "currency": None
            if customer.autopay.max_per_invoice is None
            else customer.autopay.max_per_invoice.currency,
            "consented_at": customer.autopay.consented_at,
            "consented_by": customer.autopay.consented_by,
        },
        "standing_po": None
        if customer.standing_po is None
        else {
            "number": customer.standing_po.number,
            "amount": customer.standing_po.amount.to_decimal_string(),
            "currency": customer.standing_po.amount.currency,
            "valid_until": customer.standing_po.valid_until.isoformat(),
        },
        "account_owner": customer.account_owner,
        "ask_customer_for_documents": customer.ask_customer_for_documents,
        "profile": customer.profile,
        "credit_limit": None if customer.credit_limit is None else customer.credit_limit.to_decimal_string(),
        "credit_currency": None if customer.credit_limit is None else customer.credit_limit.currency,
        "insured_amount": None
        if customer.insured_amount is None
        else customer.insured_amount.to_decimal_string(),
        "insured_until": None if customer.insured_until is None else customer.insured_until.isoformat(),
        "open_orders": None if customer.open_orders is None else customer.open_orders.to_decimal_string(),
        "credit_level": customer.credit_level,
        "version": customer.version,
    }


# The identifiers a person may name a customer by, strongest first: the ERP reference (the
# seller's own customer number), a VAT id, a legal id, an email address.
NAMED_BY = ("erp", "vat", "legal", "email")


def customer_named(reference: str) -> str:
    """The id of the customer ``reference`` names: our id (``cus_…``), its ERP reference, a VAT
    id, a legal id or an email (one GetItem, then one batch of identifier GetItems); a
    `NotFoundError` that says so when no customer is known by it."""
    text = reference.strip()
    if text.startswith("cus_") and store.get_customer(text) is not None:
        return text
    forms = [PartyId(scheme, text) for scheme in NAMED_BY]
    forms += [PartyId("vat", text.replace(" ", "").upper()), PartyId("email", text.lower())]
    found = store.customers_by_identifier(forms)
    for form in forms:
        if form in found:
            return found[form]
    raise NotFoundError(
        f"no customer is known as {text!r}: give our customer id (cus_…), the ERP reference, "
        "a VAT id or an email address"
    )


def customer_currency(customer_id: str | None) -> str:
    """The currency of the customer's latest invoice (what a standing PO is in by default), else
    EUR: one Query of their index range, one item."""
    if customer_id is None:
        return "EUR"
    invoices, _ = store.customer_invoices(customer_id, 1, None)
    return invoices[0].currency if invoices else "EUR"


def invoice_or_404(invoice_id: str) -> Invoice:
    """The invoice, or `NotFoundError`."""
    invoice = (
        store.get_invoice(invoice_id) if invoice_id.startswith("inv_") and len(invoice_id) < 100 else None
    )
    if invoice is None:
        raise NotFoundError(f"no invoice {invoice_id}")
    return invoice


def customer_or_404(customer_id: str) -> Customer:
    """The customer, or `NotFoundError`."""
    customer = store.get_customer(customer_id)
    if customer is None:
        raise NotFoundError(f"no customer {customer_id}")
    return customer


Head = TypeVar("Head", Invoice, Customer)


def _change(
    aggregate_id: str,
    load: Callable[[str], Head],
    how: Callable[[Head], Head],
    kind: str,
    data: dict[str, Any],
    actor: str,
    clock: Clock,
    writes: Sequence[store.Write] = (),
) -> Head:
    """Apply ``how`` to the fresh state ``load`` reads, with a ``kind`` audit event (and the
    items ``writes`` creates or deletes); read again and retried on a concurrent change."""
    for _ in range(5):
        head = load(aggregate_id)
        changed = replace(how(head), version=head.version + 1)
        event = AuditEvent(aggregate_id, changed.version, kind, iso_timestamp(clock.now()), actor, data)
        try:
            store.UnitOfWork().save(changed, event).add(*writes).commit()
            return changed
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"{aggregate_id} kept changing; try again")


def change_invoice(
    invoice_id: str,
    how: Callable[[Invoice], Invoice],
    kind: str,
    data: dict[str, Any],
    actor: str,
    clock: Clock,
) -> Invoice:
    """Apply ``how`` to the invoice's fresh state, with a ``kind`` audit event; retried on a
    concurrent change. `receivables.ledger.rules.LedgerError` when the ledger forbids it."""
    return _change(invoice_id, invoice_or_404, how, kind, data, actor, clock)


def void_invoice(invoice_id: str, reason: str, actor: str, clock: Clock) -> Invoice:
    """Cancel an invoice issued in error."""
    return change_invoice(invoice_id, void, "InvoiceVoided", {"reason": reason}, actor, clock)


def write_off_invoice(invoice_id: str, reason: str, actor: str, clock: Clock) -> Invoice:
    """Write off what is left of an invoice as uncollectable."""
    invoice = invoice_or_404(invoice_id)
    data = {"reason": reason, "amount": invoice.balance.to_decimal_string(), "currency": invoice.currency}
    return change_invoice(invoice_id, write_off, "InvoiceWrittenOff", data, actor, clock)


def add_note(invoice_id: str, text: str, actor: str, clock: Clock) -> Invoice:
    """Put a note on the invoice's history."""
    return change_invoice(invoice_id, lambda i: i, "NoteAdded", {"text": text}, actor, clock)


def assign_collector(invoice_id: str, collector: str, actor: str, clock: Clock) -> Invoice:
    """Make ``collector`` the person who works this invoice."""
    return change_invoice(
        invoice_id,
        lambda i: replace(i, dunning=replace(i.dunning, collector=collector)),
        "CollectorAssigned",
        {"collector": collector},
        actor,
        clock,
    )


def change_customer(
    customer_id: str,
    how: Callable[[Customer], Customer],
    kind: str,
    data: dict[str, Any],
    actor: str,
    clock: Clock,
    writes: Sequence[store.Write] = (),
) -> Customer:
    """Apply ``how`` to the customer's fresh state, with its audit event (and ``writes``, such
    as a key that finds the customer by a new contact address); retried on a concurrent change."""
    return _change(customer_id, customer_or_404, how, kind, data, actor, clock, writes)


# What a call to the customer came to: the outcomes a collector logs.
CALL_OUTCOMES = ("reached", "promised", "disputed", "voicemail", "no_answer", "wrong_number")


def add_customer_note(
    customer_id: str, text: str, actor: str, clock: Clock, mentioned: Sequence[str] = ()
) -> Customer:
    """Put a note on the customer's history (the customer's timeline, beside their invoices'),
    with the colleagues it mentions (who were told)."""
    data: dict[str, Any] = {"text": text, **({"mentioned": list(mentioned)} if mentioned else {})}
    return change_customer(customer_id, lambda c: c, "NoteAdded", data, actor, clock)


def log_call(customer_id: str, outcome: str, text: str, actor: str, clock: Clock) -> Customer:
    """Record a call to the customer and what it came to (one of `CALL_OUTCOMES`), with a note;
    `receivables.kernel.errors.InvalidRequestError` for an outcome not in the list."""
    if outcome not in CALL_OUTCOMES:
        raise InvalidRequestError([FieldError("outcome", f"must be one of {', '.join(CALL_OUTCOMES)}")])
    data = {"outcome": outcome, "text": text}
    return change_customer(customer_id, lambda c: c, "CallLogged", data, actor, clock)


def set_credit_hold(customer_id: str, on: bool, reason: str, actor: str, clock: Clock) -> Customer:
    """Put the customer on credit hold (``on``) or lift it, saying why."""
    return change_customer(
        customer_id,
        lambda c: replace(c, credit_hold=on),
        "CreditHoldSet" if on else "CreditHoldLifted",
        {"reason": reason},
        actor,
        clock,
    )


def remove_contact(customer_id: str, address: str, actor: str, clock: Clock) -> Customer:
    """``address`` is no longer a contact of the customer: it cannot ask the portal for a link
    any more (links already sent stay valid until finance revokes them). The email on file
    cannot be removed, only replaced."""

    customer = customer_or_404(customer_id)
    contact = PartyId("email", address.strip().lower())
    if contact not in customer.identifiers:
        raise NotFoundError(f"{contact.value} is not a contact of this customer")
    if (customer.email or "").lower() == contact.value:
        raise LedgerError(f"{contact.value} is the email on file: set another one first")
    return change_customer(
        customer_id,
        lambda c: replace(c, identifiers=tuple(i for i in c.identifiers if i != contact)),
        "ContactRemoved",
        {"email": contact.value},
        actor,
        clock,
        writes=[store.customer_key_removal(customer_id, contact)],
    )


def revoke_links(customer_id: str, reason: str, actor: str, clock: Clock) -> Customer:
    """Every link sent to the customer so far stops working (pay, promise, dispute, portal), and
    so do the portal sessions they opened: the customer's link generation goes up by one."""
    return change_customer(
        customer_id,
        lambda c: replace(c, link_generation=c.link_generation + 1),
        "LinksRevoked",
        {"reason": reason},
        actor,
        clock,
    )


# --- statement ----------------------------------------------------------------------------------
def statement(customer_id: str, currency: str, today: date) -> dict[str, Any]:
    """A customer's statement in one currency: every invoice and payment in date order with the
    running balance (``balance``), and on invoice lines what is still open on that invoice
    (``invoice_balance``, with days late)."""
    customer_or_404(customer_id)
    lines: list[tuple[str, str, str, int, dict[str, Any]]] = []
    for document in store.customer_documents(customer_id):
        if document.currency != currency or not isinstance(document, Invoice):
            continue
        invoice = document
        if invoice.status is InvoiceStatus.VOID:
            continue
        lines.append(
            (
                invoice.issue_date.isoformat(),
                "0",
                "invoice",
                invoice.total.minor,
                _statement_invoice(invoice, today),
            )
        )
        for amount, kind in ((invoice.credited, "credit"), (invoice.written_off, "write_off")):
            if amount.minor:
                lines.append(
                    (
                        invoice.issue_date.isoformat(),
                        "2",
                        kind,
                        -amount.minor,
                        {"invoice_id": invoice.invoice_id},
                    )
                )
    for payment in store.customer_payments(customer_id):
        if payment.amount.currency != currency:
            continue
        held = payment.amount.minor - payment.refunded.minor
        lines.append(
            (
                payment.received_at[:10],
                "1",
                "payment",
                -held,
                {"payment_id": payment.payment_id, "reference": payment.reference},
            )
        )
    lines.sort(key=lambda line: (line[0], line[1]))
    running = 0
    rows = []
    for day, _, kind, minor, detail in lines:
        running += minor
        rows.append(
            {
                "date": day,
                "kind": kind,
                "amount": money_text(minor, currency),
                **detail,
                "balance": money_text(running, currency),  # the running balance, after this line
            }
        )
    return {
        "customer_id": customer_id,
        "currency": currency,
        "as_of": today.isoformat(),
        "lines": rows,
        "balance": money_text(running, currency),
    }


def _statement_invoice(invoice: Invoice, today: date) -> dict[str, Any]:
    """An invoice on a statement line: its own open balance is ``invoice_balance``, since the
    line's ``balance`` is the statement's running balance."""
    body = invoice_json(invoice, today)
    body["invoice_balance"] = body.pop("balance")
    return body


# --- worklist -----------------------------------------------------------------------------------
def non_payment_probability(invoice: Invoice, customer: Customer | None, today: date) -> Decimal:
    """The chance the invoice's balance is never paid: the loss rate of its aging bucket
    (`LOSS_RATES`) times the customer's risk weight (`RISK_WEIGHT`), at most 1."""
    rate = LOSS_RATES[bucket_of(max((today - invoice.due_date).days, 0))]
    weight = RISK_WEIGHT.get(customer.risk if customer else "standard", Decimal(1))
    return min(Decimal(1), rate * weight)


def expected_loss(invoice: Invoice, customer: Customer | None, today: date) -> Money:
    """Probability of non-payment x exposure (the open balance), in money: rounded once, to
    the currency's minor unit, half-even."""
    share = Decimal(invoice.balance.minor) * non_payment_probability(invoice, customer, today)
    return Money(int(share.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), invoice.currency)


def worklist(invoices: Iterable[Invoice], today: date, limit: int) -> list[dict[str, Any]]:
    """Overdue invoices, highest expected loss first."""
    overdue = [
        i for i in invoices if i.status in OPEN_RECEIVABLE and i.due_date < today and i.balance.minor > 0
    ]
    customers = store.get_customers({i.customer_id for i in overdue})
    ranked = sorted(
        ((expected_loss(i, customers.get(i.customer_id), today), i) for i in overdue),
        key=lambda pair: (-pair[0].minor, pair[1].due_date, pair[1].invoice_id),
    )
    rows = []
    for loss, invoice in ranked[:limit]:
        customer = customers.get(invoice.customer_id)
        chance = non_payment_probability(invoice, customer, today) * 100
        rows.append(
            {
                **invoice_json(invoice, today),
                "customer_name": display_name(customer) if customer else None,
                "risk": customer.risk if customer else "standard",
                "non_payment_percent": f"{chance.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}",
                "expected_loss": loss.to_decimal_string(),
            }
        )
    return rows


def ranked_worklist(
    today: date, currency: str | None, limit: int, *, live: bool = True
) -> tuple[list[dict[str, Any]], str | None]:
    """The worklist from the latest daily ranking (the sweep's snapshot, at most a week old),
    its invoices read fresh and ranked again as of ``today``; and the day it was ranked on.

    Without a snapshot (before the first sweep) it is ranked now from every overdue invoice
    when ``live``, else empty."""

    snapshot = latest_snapshot(today)
    if snapshot is None:
        if not live:
            return [], None
        overdue = store.open_receivables_due_by(today - timedelta(days=1))
        return worklist((i for i in overdue if currency in (None, i.currency)), today, limit), None
    ids: list[str] = snapshot.get("worklist", [])
    if currency is not None:
        ids = snapshot["currencies"].get(currency, {}).get("worklist", [])
    # Twice the page: the ranking's head, with room for the invoices paid since it was made.
    fresh = [h for h in store.get_heads(ids[: 2 * limit]).values() if isinstance(h, Invoice)]
    return worklist(fresh, today, limit), snapshot["date"]
