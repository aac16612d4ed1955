"""Pay function: the customer's signed links: pay (GET /pay/{token}), promise to pay (GET|POST
/promise/{token}) and dispute (GET|POST /dispute/{token}, with documents uploaded to S3); the
customer portal (/portal...) and the enrolment form (/enrol/{token}).

The link is checked first (a tampered or expired one gets a 4xx page and costs no Stripe call);
then a Stripe Checkout Session is created for the invoice's current balance and the customer is
sent there with a 303. A paid, disputed or voided invoice gets a page instead. Stripe is reached
only through the official SDK's `StripeClient`, pointed at STRIPE_API_BASE when that is set (the
local runtime's Stripe); the secret key and the link signing key come from Secrets Manager. The
promise link (in every overdue reminder) shows a form and records the customer's promise to pay.

This module only wires: one Chalice blueprint per part, in ``routes/`` (`routes.wiring` builds
what they use). Lambda runs this file with its code directory on ``sys.path``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables.web.security_headers import SECURITY_HEADERS

if TYPE_CHECKING:  # what mypy checks it as (the repository's path); Lambda's is below
    from collections.abc import Callable

    from functions.pay.routes import BLUEPRINTS
else:
    from routes import BLUEPRINTS

app = Chalice(app_name="receivables-pay")
# The portal's downloads: PDFs, e-invoices as received and the files embedded in them.
app.api.binary_types.extend(
    ["application/pdf", "application/xml", "image/png", "image/jpeg", "application/octet-stream"]
)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)


@app.middleware("http")
def html_is_never_unguarded(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Any HTML answer that a route built without them gets the security headers (the pages
    set their own, with their stylesheet and form targets)."""
    response = get_response(event)
    kind = str(response.headers.get("Content-Type", ""))
    if kind.startswith("text/html") and "Content-Security-Policy" not in response.headers:
        response.headers = {**SECURITY_HEADERS, **response.headers}
    return response
