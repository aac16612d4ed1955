"""A Stripe-compatible HTTP server on loopback, for tests and the local runtime.

`LocalStripe` serves the part of Stripe's v1 API that Receivables uses (Checkout Sessions in
payment and setup mode, Customers, PaymentIntents with off-session charges, SetupIntents,
PaymentMethods, Mandates, Charges, Refunds, Disputes, Events, webhook endpoints) to the official
``stripe`` SDK, a hosted Checkout page that takes Stripe's test cards and test bank accounts (SEPA
and ACH Direct Debit, which settle later on the server's clock: ``debit_settlement_seconds``), and
signed webhook deliveries with retries. State is in memory, per instance. Standard library only.

    server = LocalStripe(port=0)
    server.start()
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": server.url})
"""

from receivables_local.stripe_local.server import LocalStripe

__all__ = ["LocalStripe"]
