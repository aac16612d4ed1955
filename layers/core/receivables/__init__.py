"""Receivables: the shared domain, storage and adapters of the accounts-receivable autopilot.

Shipped to every function as the core Lambda layer. Importing the package imports nothing else:
each handler imports only the modules it needs, to keep cold starts short.
"""

__version__ = "0.1.0"
