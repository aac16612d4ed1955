"""Customers: who pays. Enrolment and its form (`enrolment`; `enrolment_form`, with its fields,
messages and per-country identifier rules in `enrolment_fields`, `enrolment_messages` and
`enrolment_ids`), the documents their AP requires (`requirements`), contact changes and the
maker-and-checker approvals (`contact_changes`, `approvals`), signed links (`links`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
