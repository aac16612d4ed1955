"""Banking: the bank's statements in, their receipts lettered. The statement as the bank reports
it (`statement`), its readers (ISO 20022 camt.053 and camt.054, SWIFT MT940), the structured
creditor reference every invoice carries (ISO 11649 ``RF``) and the explainable matching of a
bank line to invoices.

May import: `receivables.ledger`, `receivables.kernel`, `receivables.storage`,
`receivables.adapters` and its sibling domains (`payments` applies the money).
"""
