"""Banking: the bank's statements in, their receipts lettered. The statement as the bank reports
it (`statement`); its readers (`formats` over `camt`, `camt_report`, `mt940`, `reading`); the
structured creditor reference every invoice carries (`creditor_reference`, ISO 11649 ``RF``);
the explainable matching of a bank line to invoices (`matching`, over the view of `open_items`
or the ledger's `ledger_view`, with the bounded search of `subset`); lettering codes
(`lettering`); importing statements (`intake`, and files from the bucket: `files`), returns of
earlier credits (`returns`), Stripe's payouts reconciled against their balance transactions
(`payouts`) and the lines a person decides (`review`).

May import: `receivables.ledger`, `receivables.kernel`, `receivables.storage`,
`receivables.adapters` and its sibling domains (`payments` applies the money).
"""
