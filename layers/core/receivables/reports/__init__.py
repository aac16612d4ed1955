"""What finance reads: the aging report, the KPIs and the worklist (pure figures in `aging`,
`kpis`; reading the aggregates in `service`)."""
