"""Payments: cash application. Receipts and their allocation to invoices (`allocation`,
`cash`), manual receipts (`manual`), Stripe's events (`stripe_events`), debits still processing
(`processing`), autopay (`autopay`) and payment methods (`methods`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
