"""The web: the pages people open. The customer portal (`portal`), the pay, promise and dispute
link pages (`checkout`, `promise_link`, `dispute_link`), small answer pages (`pages`), the
dashboard (`dashboard`) and the security headers every page carries (`security_headers`).

May import: anything under `receivables` (the top layer); only handlers import it.
"""
