"""Finance API function: what finance staff do through the authenticated HTTP API.

Payments (record a transfer, the unapplied queue, list), dunning (the policy, the sweep now, a
promise to pay), disputes (open, list, decide), invoices (list with filters and cursors, history,
void, write-off, note, collector, the documents a customer's AP requires), customers (list,
statement, risk, credit hold, contact, terms, purchase orders), credit, deductions, approvals,
enrolments and the reports (aging, KPIs, worklist, dashboard); every list also as CSV.

This module only wires: one Chalice blueprint per resource, in ``routes/``. Every route needs an
authenticated caller (Cognito JWT authorizer on AWS, the local token locally) with a role
(`receivables.kernel.access`), checked by `routes.api.Resource.endpoint`, which also turns the
kernel's errors into responses (`receivables.web.http_errors`). Lambda runs this file with its
code directory on ``sys.path``: ``routes`` is imported as a top-level package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Chalice

if TYPE_CHECKING:  # what mypy checks it as (the repository's path); Lambda's is below
    from functions.finance_api.routes import BLUEPRINTS
else:
    from routes import BLUEPRINTS

app = Chalice(app_name="receivables-finance")
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)
