"""Credit: how much a customer may owe. Limits and exposure (`limits`), the risk score that
explains itself (`risk`), predicted payment dates and the cash forecast (`forecast`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
