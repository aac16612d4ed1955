"""The ledger: the domain objects and their invariants. Invoices, credit notes, customers,
payments and their audit events (`model`), disputes (`disputes`), document identities and the
invoice status machine (`rules`), the events the bus carries (`events`), payment terms
(`terms`). Pure: no AWS, no storage.

May import: `receivables.kernel`.
"""
