"""The in-memory Stripe account: its objects, their state changes and the events they emit.

Objects are kept as the JSON dicts the API returns, shaped as Stripe's current API version
(`API_VERSION`): Checkout Sessions (payment and setup mode), PaymentIntents, SetupIntents,
Customers, PaymentMethods, Mandates, Charges, Refunds, Disputes, balance transactions and payouts
(`balance`), Events and webhook endpoints.
A request's own API version (``Stripe-Version``: `RequestInfo.api_version`) decides only which
parameters it may pass: ``payment_method_types`` is an input before 2026-09-30.endive and a 400
from then on (`takes_payment_method_types`), where ``allowed_payment_method_types`` replaces it.
References between them are ids (``PaymentIntent.latest_charge`` is ``"ch_…"``); `Store.expand`
replaces them with the objects for ``expand[]``.

Everything happens under one re-entrant lock, `Store.lock`; the HTTP layer holds it around a whole
idempotent request. Every state change that Stripe announces emits its event, in Stripe's order;
an event's ``data.object`` is a deep copy taken at that moment. Events are handed to ``on_event``
with the endpoints that listen to them (the webhook dispatcher queues them).

Card payments follow Stripe's test cards (`read_card`): 4242 4242 4242 4242 and any other valid
number succeed, 4000 0000 0000 0002 is declined (generic_decline), 4000 0000 0000 9995 lacks funds,
4000 0000 0000 0259 succeeds and is then disputed as fraudulent; the other decline cards of
Stripe's testing page (lost, stolen, expired, incorrect CVC, processing error) are declined too.
4000 0000 0000 0341 can be saved (setup mode) but every charge of it is declined.

Debits (SEPA Direct Debit, ACH Direct Debit: `bank`) are accepted at once and settle later on the
clock: the PaymentIntent is ``processing`` and its Charge ``pending`` until ``debit_settlement_
seconds`` have passed; `Store.settle_due` (called by the server's sweep) then pays or fails each
one as its test number says.
"""

from receivables_local.stripe_local.objects.api import API_VERSION, RequestInfo, StripeError, new_id
from receivables_local.stripe_local.objects.balance import PAYOUT_DELAY_SECONDS, fee_for
from receivables_local.stripe_local.objects.cards import Card, CardInputError, Instrument, read_card
from receivables_local.stripe_local.objects.core import DEBIT_SETTLEMENT_SECONDS
from receivables_local.stripe_local.objects.disputes import DISPUTE_EVIDENCE_FIELDS
from receivables_local.stripe_local.objects.hosted_page import PaymentOutcome
from receivables_local.stripe_local.objects.money import format_amount
from receivables_local.stripe_local.objects.payment_methods import Acceptance
from receivables_local.stripe_local.objects.store import Store

__all__ = [
    "API_VERSION",
    "DEBIT_SETTLEMENT_SECONDS",
    "DISPUTE_EVIDENCE_FIELDS",
    "PAYOUT_DELAY_SECONDS",
    "Acceptance",
    "Card",
    "CardInputError",
    "Instrument",
    "PaymentOutcome",
    "RequestInfo",
    "Store",
    "StripeError",
    "fee_for",
    "format_amount",
    "new_id",
    "read_card",
]
