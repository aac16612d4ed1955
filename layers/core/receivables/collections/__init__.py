"""Collections: getting paid what is due. Dunning (the policy, the planner, the service, the
daily sweep, the reminder templates: `dunning`) and finance's actions on invoices and customers
(`finance`: void, write off, notes, collector, credit hold).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
