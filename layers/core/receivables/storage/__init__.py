"""Storage: the only package that knows DynamoDB. The PynamoDB records, keys and indexes, the
conditional and transactional writes (`store`), the items the stream keeps beside the ledger
(`projections`: shares, counters, markers) and the portal's sessions (`sessions`), and one change
to an invoice with its audit event, retried on a concurrent change (`changes`).

May import: `receivables.ledger`, `receivables.kernel`.
"""
