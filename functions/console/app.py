"""Console function: the finance console, the pages finance staff sign in to, at /console.

Sign-in through the Cognito user pool's managed login (authorization code with PKCE), a
server-side session, the roles of the person's Cognito groups checked for each page and action
(`receivables.web.console`). The routes have no JWT authorizer: a browser carries a session
cookie, not a bearer token; every route but the sign-in's own needs that session.

This module only wires: each route hands the request to `receivables.web.console.service.Console`
(`wiring.console` builds it). Lambda runs this file with its code directory on ``sys.path``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Response

from receivables.web.security_headers import SECURITY_HEADERS

if TYPE_CHECKING:  # what mypy checks it as (the repository's path); Lambda's is below
    from collections.abc import Callable

    from functions.console import wiring

    from receivables.web.console.service import Answer
else:
    import wiring

app = Chalice(app_name="receivables-console")
FORM = ["application/x-www-form-urlencoded"]


def _answer(given: Answer) -> Response:
    return Response(body=given.body, status_code=given.status, headers=dict(given.headers))


def _request() -> Any:
    request = app.current_request
    assert request is not None, "a route runs with its request"
    return request


def _cookies() -> str | None:
    headers: Any = _request().headers or {}
    cookie: str | None = headers.get("cookie")
    return cookie


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


def _body() -> bytes:
    raw = _request().raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


@app.middleware("http")
def html_is_never_unguarded(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Any HTML answer without them gets the security headers (the pages set their own)."""
    response = get_response(event)
    kind = str(response.headers.get("Content-Type", ""))
    if kind.startswith("text/html") and "Content-Security-Policy" not in response.headers:
        response.headers = {**SECURITY_HEADERS, **response.headers}
    return response


@app.route("/console", methods=["GET"])
def dashboard() -> Response:
    """Today's figures, every one a link; the page refreshes itself."""
    return _answer(wiring.console().dashboard(_cookies(), _query()))


@app.route("/console/login", methods=["GET"])
def login() -> Response:
    """To the managed login (code flow with PKCE)."""
    return _answer(wiring.console().login(_query()))


@app.route("/console/callback", methods=["GET"])
def callback() -> Response:
    """Back from the managed login: the code exchanged, the ID token verified, a session."""
    return _answer(wiring.console().callback(_cookies(), _query()))


@app.route("/console/logout", methods=["POST"], content_types=FORM)
def logout() -> Response:
    """End the session, and sign out of the managed login too."""
    return _answer(wiring.console().logout(_cookies(), _body()))


@app.route("/console/signed-out", methods=["GET"])
def signed_out() -> Response:
    """Where the managed login sends the browser after signing out."""
    return _answer(wiring.console().signed_out())


@app.route("/console/worklist", methods=["GET"])
def worklist() -> Response:
    """The ranked worklist with its filters, and the collector of each invoice."""
    return _answer(wiring.console().worklist(_cookies(), _query()))


@app.route("/console/worklist/assign", methods=["POST"], content_types=FORM)
def assign_ticked() -> Response:
    """Assign every ticked invoice of the worklist to a collector (collector)."""
    return _answer(wiring.console().assign_many(_cookies(), _body()))


@app.route("/console/invoices", methods=["GET"])
def invoices() -> Response:
    """The open invoices of a currency and an aging bucket."""
    return _answer(wiring.console().invoices(_cookies(), _query()))


@app.route("/console/invoices/{invoice_id}", methods=["GET"])
def invoice(invoice_id: str) -> Response:
    """One invoice: its figures, documents, history and the actions on it."""
    return _answer(wiring.console().invoice(_cookies(), invoice_id))


@app.route("/console/invoices/{invoice_id}/notes", methods=["POST"], content_types=FORM)
def invoice_note(invoice_id: str) -> Response:
    """A note on the invoice (collector)."""
    return _answer(wiring.console().invoice_note(_cookies(), _body(), invoice_id))


@app.route("/console/invoices/{invoice_id}/promises", methods=["POST"], content_types=FORM)
def invoice_promise(invoice_id: str) -> Response:
    """A promise to pay the invoice (collector)."""
    return _answer(wiring.console().invoice_promise(_cookies(), _body(), invoice_id))


@app.route("/console/invoices/{invoice_id}/disputes", methods=["POST"], content_types=FORM)
def invoice_dispute(invoice_id: str) -> Response:
    """Open a dispute for the customer (collector)."""
    return _answer(wiring.console().open_dispute(_cookies(), _body(), invoice_id))


@app.route("/console/invoices/{invoice_id}/write-off", methods=["POST"], content_types=FORM)
def invoice_write_off(invoice_id: str) -> Response:
    """Write off what is left of the invoice (controller)."""
    return _answer(wiring.console().write_off(_cookies(), _body(), invoice_id))


@app.route("/console/invoices/{invoice_id}/void", methods=["POST"], content_types=FORM)
def invoice_void(invoice_id: str) -> Response:
    """Cancel an invoice issued in error (controller)."""
    return _answer(wiring.console().void(_cookies(), _body(), invoice_id))


@app.route("/console/invoices/{invoice_id}/collector", methods=["POST"], content_types=FORM)
def assign_collector(invoice_id: str) -> Response:
    """Assign the invoice to a collector (collector)."""
    return _answer(wiring.console().assign(_cookies(), _body(), invoice_id))


@app.route("/console/queues", methods=["GET"])
def queues() -> Response:
    """Disputes awaiting a decision and bank lines to match, with their forms."""
    return _answer(wiring.console().queues(_cookies()))


@app.route("/console/disputes/{dispute_id}/decision", methods=["POST"], content_types=FORM)
def dispute_decision(dispute_id: str) -> Response:
    """Decide a dispute that waits for finance (controller)."""
    return _answer(wiring.console().decide_dispute(_cookies(), _body(), dispute_id))


@app.route("/console/enrolments/{enrolment_id}/approve", methods=["POST"], content_types=FORM)
def approve_enrolment(enrolment_id: str) -> Response:
    """Apply the changes a submitted enrolment holds (controller)."""
    return _answer(wiring.console().decide_enrolment(_cookies(), _body(), enrolment_id, approve=True))


@app.route("/console/enrolments/{enrolment_id}/reject", methods=["POST"], content_types=FORM)
def reject_enrolment(enrolment_id: str) -> Response:
    """Refuse the changes a submitted enrolment holds, saying why (controller)."""
    return _answer(wiring.console().decide_enrolment(_cookies(), _body(), enrolment_id, approve=False))


@app.route("/console/bank-lines/{line_id}/letter", methods=["POST"], content_types=FORM)
def letter_bank_line(line_id: str) -> Response:
    """Letter a waiting bank line to an invoice, or put it on a customer's account (collector)."""
    return _answer(wiring.console().letter_line(_cookies(), _body(), line_id))


@app.route("/console/bank-lines/{line_id}/ignore", methods=["POST"], content_types=FORM)
def ignore_bank_line(line_id: str) -> Response:
    """A waiting bank line that is no customer's payment (collector)."""
    return _answer(wiring.console().ignore_line(_cookies(), _body(), line_id))


@app.route("/console/customers/{customer_id}", methods=["GET"])
def customer(customer_id: str) -> Response:
    """A customer whole: account, invoices, timeline, actions."""
    return _answer(wiring.console().customer(_cookies(), customer_id, _query()))


@app.route("/console/customers/{customer_id}/credit-hold", methods=["POST"], content_types=FORM)
def customer_credit_hold(customer_id: str) -> Response:
    """Put the customer on credit hold or lift it (controller)."""
    return _answer(wiring.console().credit_hold(_cookies(), _body(), customer_id))


@app.route("/console/customers/{customer_id}/links", methods=["POST"], content_types=FORM)
def customer_link(customer_id: str) -> Response:
    """Mail a known contact of the customer a fresh portal link (collector)."""
    return _answer(wiring.console().resend_link(_cookies(), _body(), customer_id))


@app.route("/console/customers/{customer_id}/tasks", methods=["POST"], content_types=FORM)
def customer_task(customer_id: str) -> Response:
    """A task about the customer for someone (collector)."""
    return _answer(wiring.console().add_task(_cookies(), _body(), customer_id))


@app.route("/console/tasks/{task_id}/done", methods=["POST"], content_types=FORM)
def task_done(task_id: str) -> Response:
    """Mark a task done (collector)."""
    return _answer(wiring.console().task_done(_cookies(), _body(), task_id))


@app.route("/console/customers/{customer_id}/notes", methods=["POST"], content_types=FORM)
def customer_note(customer_id: str) -> Response:
    """A note on the customer's timeline (collector)."""
    return _answer(wiring.console().note(_cookies(), _body(), customer_id))


@app.route("/console/customers/{customer_id}/calls", methods=["POST"], content_types=FORM)
def customer_call(customer_id: str) -> Response:
    """A call to the customer with its outcome (collector)."""
    return _answer(wiring.console().call(_cookies(), _body(), customer_id))


@app.route("/console/customers/{customer_id}/promises", methods=["POST"], content_types=FORM)
def customer_promise(customer_id: str) -> Response:
    """A promise to pay one of the customer's invoices (collector)."""
    return _answer(wiring.console().promise(_cookies(), _body(), customer_id))
