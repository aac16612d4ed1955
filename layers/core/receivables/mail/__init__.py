"""Mail: what is emailed. The mailer's decisions (`mailer`), the invoice email and its attachments
(`emails`, `delivery`), Peppol e-invoices built from the ledger (`einvoice`), address headers
that keep any display name intact (`headers`), which mail an event calls for (`dispatch`), and
what a function that mails builds once (`outbox`), the colleagues a note mentions (`mentions`).
May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`."""
