"""`receivables demo`: the story of the system, told on the local runtime.

`story` starts `receivables local` in this process and runs the chapters in order:

- `ingest` (1-4): the sample invoices of every supported format (the Peppol examples and a CSV
  with bad rows among them) dropped into the bucket with boto3, as a user would, one notification
  delivered a second time, and what became of everything, read back from the emulator: per file,
  per customer, the rejection reports, and the events on the bus.
- `payments` (5-8): the invoice emails in SES, a card payment through the emailed link and the
  local Stripe's checkout page, a declined card, a card payment disputed by the bank, bank
  transfers recorded through the finance API (matched from their reference; a partial one; an
  overpayment whose credit pays the customer's next invoice when it arrives).
- `dunning` (9): simulated weeks of reminders on their days, a payment that stops them, a broken
  promise, and credit hold.
- `disputes` (10): a duplicate settled without a person, and a partial credit decided by finance.
- `portal` (11), `enrolment` (12), `credit` (13), `statements` (14: the bank's statements of two
  days, lettered by rule, Stripe's payouts reconciled with their fees, one line by hand, a
  return), `finance` (15) and `reconciliation` (16).

What the chapters share (ports, HTTP, emailed links, the ledger read back) is in `helpers`; the
chapters import it and nothing else of the demo, and `story` imports the chapters.
"""
