"""The pay link: a signed token becomes a Stripe Checkout Session for what is owed now.

`open_pay_link` checks the token before anything else (a tampered or expired one costs no
Stripe call), reads the invoice fresh, and answers either a redirect to a Checkout Session for
the *current* balance or a page saying why there is nothing to pay. The session is created with
an idempotency key derived from the invoice, its balance and version, a half-day window and a
digest of the request itself: opening the link twice returns the same session, a changed balance
makes a new one, and so does a second link of the same invoice (its token is in the return URLs,
and Stripe refuses a key sent again with other parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.customers.links import LinkError, verify_link
from receivables.ledger.model import InvoiceStatus
from receivables.ledger.rules import COLLECTIBLE
from receivables.mail.emails import format_money
from receivables.payments.methods import stripe_methods
from receivables.storage import store
from receivables.web.pages import Page

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.kernel.money import Money
    from receivables.ledger.model import Customer, Invoice

# A session is reused for at most this long (Stripe keeps idempotency keys for 24 hours, and
# a session stays open for 24 hours by default).
SESSION_WINDOW_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class PayLinkSettings:
    """Where the customer comes back to, and whom they may write to."""

    public_base_url: str
    contact: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """Go to ``location`` (303 See Other)."""

    location: str
    session_id: str


def checkout_params(invoice: Invoice, customer: Customer | None, token: str, base_url: str) -> dict[str, Any]:
    """The Checkout Session for ``invoice``'s open balance, as Stripe's API takes it."""
    metadata = {
        "invoice_id": invoice.invoice_id,
        "customer_id": invoice.customer_id,
        "invoice_number": invoice.number,
    }
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": invoice.balance.minor,
                    "product_data": {"name": f"Invoice {invoice.number}"},
                },
            }
        ],
        "client_reference_id": invoice.invoice_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": f"Invoice {invoice.number}"},
        "success_url": f"{base_url}/pay/{token}/done?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base_url}/pay/{token}/cancelled",
    }
    if customer is not None and customer.email:
        params["customer_email"] = customer.email
    params["allowed_payment_method_types"] = stripe_methods(
        invoice.currency, customer.preferred_method if customer is not None else None
    )
    return params


MAX_INVOICES_PER_CHECKOUT = 15  # their ids fit one metadata value (Stripe: 500 characters)


def several_checkout_params(
    invoices: list[Invoice],
    customer: Customer,
    base_url: str,
    part: Money | None = None,
    method: str = "card",
) -> dict[str, Any]:
    """One Checkout Session for the open balances of several invoices of one customer, in one
    currency (the portal's "pay selected"): a line per invoice, the invoices in the metadata
    (oldest due first, the order a short payment is allocated in). With ``part`` (less than the
    total, where finance allows it) one line for that amount, towards the same invoices. The
    payer chose ``method`` (card, sepa_debit, us_bank_account) on the portal."""
    ordered = sorted(invoices, key=lambda i: (i.due_date, i.number))
    ids = ",".join(i.invoice_id for i in ordered)
    if len(ordered) > MAX_INVOICES_PER_CHECKOUT or len(ids) > 500:
        raise ValueError(f"at most {MAX_INVOICES_PER_CHECKOUT} invoices in one payment")
    metadata = {"invoice_ids": ids, "customer_id": customer.customer_id, "source": "portal"}
    numbers = ", ".join(i.number for i in ordered)
    lines = [(i.balance, f"Invoice {i.number}") for i in ordered]
    if part is not None:
        lines = [(part, f"Payment towards invoices {numbers}"[:250])]
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": amount.currency.lower(),
                    "unit_amount": amount.minor,
                    "product_data": {"name": name},
                },
            }
            for amount, name in lines
        ],
        "client_reference_id": customer.customer_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": f"Invoices {numbers}"[:1000]},
        "allowed_payment_method_types": [method],
        "success_url": f"{base_url}/portal?paid=1",
        "cancel_url": f"{base_url}/portal",
    }
    if customer.email:
        params["customer_email"] = customer.email
    return params


def several_idempotency_key(
    invoices: list[Invoice], now_seconds: float, part: Money | None = None, method: str = "card"
) -> str:
    """The same while the selection, its balances and versions, and the half-day window stay the
    same: a double submit opens one session, a changed selection a new one."""
    import hashlib

    window = int(now_seconds) // SESSION_WINDOW_SECONDS
    parts = sorted(f"{i.invoice_id}:{i.balance.minor}:{i.version}" for i in invoices)
    parts.append(f"part:{part.minor if part is not None else '-'}")
    parts.append(f"method:{method}")
    return "checkout-many-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + f"-{window}"


def idempotency_key(
    invoice: Invoice,
    now_seconds: float,
    methods: tuple[str, ...] = ("card",),
    params: dict[str, Any] | None = None,
) -> str:
    """The same while the balance, the invoice, the methods offered, the half-day window and the
    request's ``params`` stay the same. Stripe answers a key sent again with other parameters with
    an error, so the key covers everything that can differ between two requests for the invoice:
    the link's token (in the return URLs), the customer's email, the methods."""
    import hashlib
    import json

    window = int(now_seconds) // SESSION_WINDOW_SECONDS
    offered = "" if methods == ("card",) else "-" + ".".join(methods)
    key = f"checkout-{invoice.invoice_id}-{invoice.balance.minor}-{invoice.version}-{window}{offered}"
    if params is None:
        return key
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":")).encode())
    return f"{key}-{digest.hexdigest()[:32]}"


def invoice_for_link(
    token: str, link_key: bytes, clock: Clock, settings: PayLinkSettings, action: str = "pay"
) -> Invoice | Page:
    """The invoice a customer's ``action`` link is for, or the page that says why not (a 400
    for a link that is not ours or not for ``action``, 410 expired or revoked, 404 unknown
    invoice)."""
    noun = "payment link" if action == "pay" else "link"
    try:
        scope = verify_link(token, link_key, clock.now(), action=action)
    except LinkError as exc:
        if exc.reason == "expired":
            return Page(410, f"This {noun} has expired", (f"Please ask {settings.contact} for a new link.",))
        return Page(400, f"This {noun} is not valid", ("Please use the link exactly as you received it.",))
    invoice = store.get_invoice(scope.invoice_id) if scope.invoice_id else None
    if invoice is None or invoice.customer_id != scope.customer_id:
        return Page(404, "Invoice not found", (f"Please contact {settings.contact}.",))
    customer = store.get_customer(scope.customer_id)
    if customer is None or customer.link_generation != scope.generation:
        return Page(
            410, f"This {noun} is no longer valid", (f"Please ask {settings.contact} for a new link.",)
        )
    return invoice


def open_pay_link(
    token: str,
    link_key: bytes,
    create_session: Callable[[dict[str, Any], str], dict[str, Any]],
    clock: Clock,
    settings: PayLinkSettings,
) -> Redirect | Page:
    """What ``GET /pay/{token}`` answers."""
    found = invoice_for_link(token, link_key, clock, settings)
    if isinstance(found, Page):
        return found
    invoice = found
    closed = nothing_to_pay_page(invoice, settings)
    if closed is not None:
        return closed
    customer = store.get_customer(invoice.customer_id)
    params = checkout_params(invoice, customer, token, settings.public_base_url.rstrip("/"))
    methods = tuple(params["allowed_payment_method_types"])
    session = create_session(params, idempotency_key(invoice, clock.now().timestamp(), methods, params))
    if session.get("status") == "complete":
        amount = format_money(invoice.balance, "en")
        return Page(
            200,
            f"Invoice {invoice.number} is being paid",
            (f"A payment of {amount} has been made; the invoice will show as paid shortly.",),
        )
    return Redirect(str(session["url"]), str(session["id"]))


def nothing_to_pay_page(invoice: Invoice, settings: PayLinkSettings) -> Page | None:
    """The page for an invoice that cannot be paid now (paid, disputed, voided ...), else None."""
    if invoice.status is InvoiceStatus.PAID or (invoice.status in COLLECTIBLE and invoice.balance.minor <= 0):
        return Page(200, f"Invoice {invoice.number} is paid", ("Thank you: there is nothing left to pay.",))
    debit = invoice.dunning.processing
    if debit is not None and invoice.status in COLLECTIBLE:
        return Page(
            200,
            f"Invoice {invoice.number} is being paid",
            (
                f"A payment of {format_money(debit.amount, 'en')} is on its way from your bank "
                f"(since {debit.since[:10]}); there is nothing to do.",
            ),
        )
    if invoice.status is InvoiceStatus.DISPUTED:
        return Page(
            409,
            f"Invoice {invoice.number} is under review",
            (
                "You have disputed this invoice, so it cannot be paid online while the dispute is open.",
                f"We will be in touch; you can also write to {settings.contact}.",
            ),
        )
    if invoice.status not in COLLECTIBLE:
        return Page(
            410,
            f"Invoice {invoice.number} is no longer payable",
            (
                f"It has been {invoice.status.value.replace('_', ' ')}.",
                f"Questions? Write to {settings.contact}.",
            ),
        )
    return None


def after_checkout(
    token: str, link_key: bytes, clock: Clock, settings: PayLinkSettings, *, paid: bool
) -> Page:
    """The page a customer comes back to from Checkout (``paid``) or after cancelling it."""
    found = invoice_for_link(token, link_key, clock, settings)
    if isinstance(found, Page):
        return found
    base = settings.public_base_url.rstrip("/")
    if paid:
        return Page(
            200,
            "Thank you for your payment",
            (
                f"Your payment of invoice {found.number} has been received.",
                "A receipt is on its way to your email.",
            ),
        )
    return Page(
        200,
        "Payment cancelled",
        (f"Nothing was charged. Invoice {found.number} is still open.",),
        (("Pay invoice", f"{base}/pay/{token}"),),
    )
