"""Autopay: a customer saves a payment method and consents to be charged on due dates.

Setting it up is a Stripe Checkout Session in setup mode for the customer's Stripe Customer
(created once, its id kept on our customer). When Checkout sends the payer back, the session is
read from Stripe (never from the address alone): complete, in setup mode, for this customer; its
SetupIntent's payment method becomes the consent, with an ``AutopayConsented`` audit event. The
customer turns it off from the portal (``AutopayTurnedOff``); finance sees it on the customer.

The daily sweep (`charge_due`) charges each due invoice of an autopay customer off-session, once:
the idempotency key is the invoice and its attempt number, and the attempt is recorded on the
invoice (``AutopayAttempted``, with its outcome) only after Stripe answered, so a sweep that dies
in between replays the same charge rather than making a second one. A card charge that succeeds
is recorded as a receipt at once (the webhook's copy is then a duplicate); a debit is noted as
processing; a decline hands the invoice to dunning with the reason (`receivables.payments.processing`).
An invoice above the customer's maximum is not charged, and says so once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from receivables.adapters.stripe_api import ChargeDeclinedError, StripeUnavailableError
from receivables.collections.finance import change_customer
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError
from receivables.kernel.money import Money
from receivables.kernel.observability import logger
from receivables.ledger.model import AuditEvent, Autopay, Customer, Invoice
from receivables.ledger.rules import COLLECTIBLE
from receivables.payments.allocation import Receipt, record_receipt
from receivables.payments.processing import mark_processing, record_failure
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from receivables.adapters.stripe_api import StripeGateway
    from receivables.kernel.clock import Clock

ACTOR = "customer:portal"
SETUP_WINDOW_SECONDS = 12 * 3600
DEBIT_CURRENCY = {"sepa_debit": "eur", "us_bank_account": "usd"}


class AutopayError(ConflictError):
    """What the customer asked cannot be done; ``key`` names the portal's message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def stripe_customer(customer: Customer, gateway: StripeGateway, clock: Clock) -> str:
    """The customer's Stripe Customer id, created (once: its key is our customer id) and kept."""

    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    params: dict[str, Any] = {
        "name": customer.name or customer.customer_id,
        "metadata": {"customer_id": customer.customer_id},
    }
    if customer.email:
        params["email"] = customer.email
    created = gateway.create_customer(params, f"customer-{customer.customer_id}")
    stripe_id = str(created["id"])
    change_customer(
        customer.customer_id,
        lambda c: replace(c, stripe_customer_id=stripe_id),
        "StripeCustomerLinked",
        {"stripe_customer_id": stripe_id},
        ACTOR,
        clock,
    )
    return stripe_id


def setup_params(
    customer: Customer, stripe_id: str, method: str, limit: Money | None, base_url: str
) -> dict[str, Any]:
    """The setup-mode Checkout Session that saves ``method`` for off-session charges."""
    metadata = {
        "customer_id": customer.customer_id,
        "source": "autopay",
        "max_per_invoice": "" if limit is None else f"{limit.to_decimal_string()} {limit.currency}",
    }
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": stripe_id,
        "allowed_payment_method_types": [method],
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
        "success_url": f"{base_url}/portal/autopay/done?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base_url}/portal",
    }
    if method in DEBIT_CURRENCY:
        params["currency"] = DEBIT_CURRENCY[method]
    return params


def start_setup(
    customer: Customer, method: str, limit: Money | None, gateway: StripeGateway, base_url: str, clock: Clock
) -> str:
    """Open the setup session; the address of Stripe's page to send the payer to."""
    stripe_id = stripe_customer(customer, gateway, clock)
    params = setup_params(customer, stripe_id, method, limit, base_url)
    window = int(clock.now().timestamp()) // SETUP_WINDOW_SECONDS
    limit_part = "-" if limit is None else f"{limit.minor}{limit.currency}"
    key = f"autopay-setup-{customer.customer_id}-{method}-{limit_part}-{customer.version}-{window}"
    session = gateway.create_session(params, key)
    return str(session["url"])


def _label(payment_method: dict[str, Any]) -> str:
    kind = str(payment_method.get("type"))
    details = payment_method.get(kind) or {}
    last4 = details.get("last4") or "????"
    if kind == "card":
        return f"{str(details.get('brand') or 'card').title()} ···· {last4}"
    name = {"sepa_debit": "SEPA Direct Debit", "us_bank_account": "ACH debit"}.get(kind, kind)
    return f"{name} ···· {last4}"


def confirm_setup(customer: Customer, session_id: str, gateway: StripeGateway, clock: Clock) -> Customer:
    """Checkout sent the payer back from ``session_id``: if Stripe says it saved a payment
    method for this customer, that is their consent (recorded once)."""

    session = gateway.retrieve_session(session_id, ("setup_intent.payment_method",))
    metadata = session.get("metadata") or {}
    intent = session.get("setup_intent")
    if (
        session.get("mode") != "setup"
        or session.get("status") != "complete"
        or metadata.get("customer_id") != customer.customer_id
        or metadata.get("source") != "autopay"
        or not customer.stripe_customer_id
        or session.get("customer") != customer.stripe_customer_id
        or not isinstance(intent, dict)
        or intent.get("status") != "succeeded"
        or not isinstance(intent.get("payment_method"), dict)
    ):
        raise AutopayError("autopay_failed")
    payment_method: dict[str, Any] = intent["payment_method"]
    if customer.autopay is not None and customer.autopay.payment_method == payment_method["id"]:
        return customer  # the page was reloaded: consent is on record already
    limit_text = str(metadata.get("max_per_invoice") or "")
    limit = None
    if limit_text:
        amount, _, currency = limit_text.partition(" ")
        limit = Money.parse(amount, currency)
    now = iso_timestamp(clock.now())
    consent = Autopay(
        payment_method=str(payment_method["id"]),
        method=str(payment_method.get("type")),
        label=_label(payment_method),
        consented_at=now,
        consented_by=customer.email or ACTOR,
        max_per_invoice=limit,
    )
    return change_customer(
        customer.customer_id,
        lambda c: replace(c, autopay=consent),
        "AutopayConsented",
        {
            "payment_method": consent.payment_method,
            "method": consent.method,
            "label": consent.label,
            "max_per_invoice": limit_text or None,
            "setup_intent": intent.get("id"),
            "checkout_session": session_id,
            "mandate": intent.get("mandate"),
        },
        ACTOR,
        clock,
    )


def turn_off(customer_id: str, actor: str, clock: Clock) -> Customer:
    """No more automatic charges (an audit event records who turned it off, and what it was)."""

    def off(c: Customer) -> Customer:
        return replace(c, autopay=None)

    before = store.get_customer(customer_id)
    was = before.autopay if before is not None else None
    return change_customer(
        customer_id,
        off,
        "AutopayTurnedOff",
        {"payment_method": was.payment_method if was else None, "label": was.label if was else None},
        actor,
        clock,
    )


# --- the sweep ----------------------------------------------------------------------------------


@dataclass
class ChargeOutcome:
    """What one sweep's autopay did, per outcome: invoice ids."""

    charged: list[str] = field(default_factory=list)
    processing: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)  # above the maximum, or a mandate of another currency
    errors: list[str] = field(default_factory=list)  # tried again at the next sweep


def due_for_autopay(
    today: date, receivables: Iterable[Invoice] | None = None
) -> list[tuple[Invoice, Customer]]:
    """The invoices due by ``today`` (Query on the due-date index, unless the caller read it:
    ``receivables``) of customers with autopay on, due on or after the day they consented (an
    invoice already late then was not part of the consent), not yet tried, not disputed, not on
    hold, and with no debit on its way."""
    read = store.collectible_invoices_due_by(today) if receivables is None else receivables
    due = [
        i
        for i in read
        if i.due_date <= today
        and i.status in COLLECTIBLE
        and i.balance.minor > 0
        and i.dunning.autopay_attempts == 0
        and i.dunning.processing is None
        and not (i.dunning.paused_until and i.dunning.paused_until >= today.isoformat())
    ]
    customers = store.get_customers({i.customer_id for i in due})
    chosen: list[tuple[Invoice, Customer]] = []
    for invoice in due:
        customer = customers.get(invoice.customer_id)
        consent = customer.autopay if customer is not None else None
        if customer is None or consent is None or invoice.due_date.isoformat() < consent.consented_at[:10]:
            continue
        chosen.append((invoice, customer))
    return chosen


def charge_params(invoice: Invoice, customer: Customer, consent: Autopay) -> dict[str, Any]:
    """The off-session PaymentIntent for the invoice's balance."""
    metadata = {
        "invoice_id": invoice.invoice_id,
        "customer_id": invoice.customer_id,
        "invoice_number": invoice.number,
        "source": "autopay",
    }
    return {
        "amount": invoice.balance.minor,
        "currency": invoice.currency.lower(),
        "customer": customer.stripe_customer_id,
        "payment_method": consent.payment_method,
        "allowed_payment_method_types": [consent.method],
        "confirm": True,
        "off_session": True,
        "metadata": metadata,
        "description": f"Invoice {invoice.number} (automatic payment)",
    }


def charge_due(
    clock: Clock, gateway: StripeGateway, receivables: Iterable[Invoice] | None = None
) -> ChargeOutcome:
    """Charge every invoice `due_for_autopay` once (see the module docstring); ``receivables``
    are the open receivables if the caller read them already. One invoice's error is logged and
    counted, and the others are still charged."""

    outcome = ChargeOutcome()
    for invoice, customer in due_for_autopay(clock.now().date(), receivables):
        try:
            _charge_one(invoice, customer, clock, gateway, outcome)
        except Exception:  # noqa: BLE001 - one invoice must not hold back the others, nor the dunning
            logger.exception("autopay charge failed", extra={"invoice_id": invoice.invoice_id})
            outcome.errors.append(invoice.invoice_id)
    return outcome


def _charge_one(
    invoice: Invoice, customer: Customer, clock: Clock, gateway: StripeGateway, outcome: ChargeOutcome
) -> None:

    consent = customer.autopay
    assert consent is not None
    limit = consent.max_per_invoice
    if limit is not None and (limit.currency != invoice.currency or invoice.balance > limit):
        _attempted(invoice.invoice_id, "over_limit", None, clock, limit=limit)
        outcome.over_limit.append(invoice.invoice_id)
        return
    debit_currency = DEBIT_CURRENCY.get(consent.method)
    if debit_currency is not None and debit_currency != invoice.currency.lower():
        reason = f"a {consent.method} mandate cannot pay {invoice.currency}"
        _attempted(invoice.invoice_id, "not_payable", None, clock, reason=reason)
        outcome.over_limit.append(invoice.invoice_id)
        return
    key = f"autopay-{invoice.invoice_id}-{invoice.dunning.autopay_attempts + 1}"
    try:
        intent = gateway.charge(charge_params(invoice, customer, consent), key)
    except ChargeDeclinedError as exc:
        _declined(invoice, consent, exc.payment_intent, exc.reason, clock)
        outcome.declined.append(invoice.invoice_id)
        return
    except StripeUnavailableError:
        logger.warning(
            "autopay: Stripe unavailable, tried again tomorrow", extra={"invoice_id": invoice.invoice_id}
        )
        outcome.errors.append(invoice.invoice_id)
        return  # tomorrow's sweep tries again with the same key
    status = str(intent.get("status"))
    if status == "succeeded":
        _succeeded(invoice, intent, consent, clock)
        outcome.charged.append(invoice.invoice_id)
    elif status == "processing":
        amount = Money(int(intent["amount"]), invoice.currency)
        mark_processing(str(intent["id"]), amount, consent.method, [invoice.invoice_id], clock)
        _attempted(invoice.invoice_id, "processing", str(intent["id"]), clock)
        outcome.processing.append(invoice.invoice_id)
    else:
        _declined(invoice, consent, intent, f"the charge is {status}", clock)
        outcome.declined.append(invoice.invoice_id)


def _succeeded(invoice: Invoice, intent: dict[str, Any], consent: Autopay, clock: Clock) -> None:

    received = iso_timestamp(clock.now())
    receipt = Receipt(
        source="stripe",
        external_id=str(intent["id"]),
        amount=Money(int(intent["amount_received"] or intent["amount"]), invoice.currency),
        received_at=received,
        method=consent.method,
        customer_id=invoice.customer_id,
        reference=f"stripe {intent['id']}",
        target_invoice_ids=(invoice.invoice_id,),
    )
    record_receipt(receipt, clock)
    _attempted(invoice.invoice_id, "succeeded", str(intent["id"]), clock)


def _declined(invoice: Invoice, consent: Autopay, intent: dict[str, Any], reason: str, clock: Clock) -> None:

    intent_id = str(intent.get("id") or f"autopay-{invoice.invoice_id}")
    record_failure(
        intent_id, [invoice.invoice_id], reason, clock, method=consent.method, only_if_processing=False
    )
    _attempted(invoice.invoice_id, "declined", intent_id, clock, reason=reason)


def _attempted(
    invoice_id: str,
    result: str,
    payment_intent: str | None,
    clock: Clock,
    *,
    reason: str | None = None,
    limit: Money | None = None,
) -> None:
    """Count the attempt on the invoice, with its outcome (once: a replayed sweep finds it)."""
    for _ in range(5):
        invoice = store.get_invoice(invoice_id)
        if invoice is None or invoice.dunning.autopay_attempts > 0:
            return
        now = iso_timestamp(clock.now())
        state = replace(invoice.dunning, autopay_attempts=invoice.dunning.autopay_attempts + 1)
        changed = replace(invoice, dunning=state, version=invoice.version + 1, updated_at=now)
        data: dict[str, Any] = {
            "invoice_id": invoice_id,
            "number": invoice.number,
            "customer_id": invoice.customer_id,
            "attempt": state.autopay_attempts,
            "result": result,
            "payment_intent": payment_intent,
            "reason": reason,
            "max_per_invoice": None if limit is None else limit.to_decimal_string(),
        }
        event = AuditEvent(invoice_id, changed.version, "AutopayAttempted", now, "autopay", data)
        try:
            store.apply_changes([(changed, event)])
        except store.ConcurrentChangeError:
            continue
        return
    raise store.StoreError(f"invoice {invoice_id}: too much contention, try again")
