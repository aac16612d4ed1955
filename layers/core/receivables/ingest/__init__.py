"""Ingest: invoice files in (CSV, JSON, UBL/Peppol), each document checked and turned into a
tracked receivable, with a per-file report (`service`, `documents`, the format readers); what the intake
functions work with (`intake`).

May import: the other domain packages, `receivables.reporting`, `receivables.storage`,
`receivables.adapters`, `receivables.ledger`, `receivables.kernel`; never `receivables.web`.
"""
