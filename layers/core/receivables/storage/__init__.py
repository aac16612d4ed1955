"""Storage: the only package that knows DynamoDB. Callers import `store`, the facade of the
reads by key and index (`reads`), the listings' pages and cursors (`listings`), the unit of work
and the items that go with a change (`unit_of_work`), every key and index partition (`keys`),
the items the stream keeps beside the ledger (`projections`: shares, counters, markers), the
portal's sessions (`sessions`), the table binding (`connection`), the rate-limit counters
(`counters`), the offline audits' whole-table reads (`audits`) and storage's errors (`errors`);
and `changes`, one change to an invoice with its audit event, retried on a concurrent change.
The PynamoDB records (`records`) and their conversion to and from the ledger's objects
(`mapping`) never leave the package: an import-linter contract forbids them, and PynamoDB, to
every other package.

May import: `receivables.ledger`, `receivables.kernel`.
"""
