"""The finance console: the pages finance staff sign in to (dashboard, worklist, customers).

Served at ``/console`` on the HTTP API by the console function; server-rendered (Jinja2,
autoescaped) and usable without JavaScript. Sign-in, sessions, roles and form tokens are in
`auth`; the pages and actions in `service`, through the same domain services the finance API's
routes call (`receivables.collections`); the customer's timeline in `timeline`. It may import the
domains, reporting, storage, adapters, the ledger and the kernel (the layers contract).
"""
