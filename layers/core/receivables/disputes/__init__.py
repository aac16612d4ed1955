"""Disputes: what customers contest. The service the workflow and the API call: opening
(`opening`), the workflow's steps (`workflow`), finance's decision (`deciding`), what a dispute is
judged against (`evidence`) and what they share (`service`); the analysis rules (`analysis`),
chargebacks (`chargebacks`), the deductions of short payments and their rules (`deductions`,
`deduction_rules`), the emails (`emails`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
