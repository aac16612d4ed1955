"""Documents: what a customer reads, on the web and in the mail alike. The words in their
language (`words`), the statement of account (`statement`), the PDFs of an invoice and a statement
(`pdf`), an invoice's bank-transfer instructions with its ``RF`` creditor reference (`transfer`),
and an e-invoice as it was received with its embedded files (`originals`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
