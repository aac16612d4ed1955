"""Reporting: what finance reads; it never writes to the ledger. The stream-kept aggregates
(`aggregates`, the risk counters among them), the aging report and the KPIs (`aging`, `kpis`: pure
figures; `service` reads the aggregates), CSV exports (`csv_export`) and the reconciliation of the
whole table (`reconcile`; its report in `reconcile_report`, its checks of money in
`reconcile_money`, of the aggregates and the audit trail in `reconcile_trail`).

May import: `receivables.storage`, `receivables.ledger`, `receivables.kernel`.
"""
