"""The finance API's routes, one Chalice blueprint per resource; `api` is what they share (the
role check, the one mapping of errors to responses, the query and body parsing), `wiring` what
they are bound to (settings, clock, the AWS clients built on first use). `BLUEPRINTS` lists them
for the app to register."""

from . import (
    approvals,
    banking,
    credit,
    customers,
    deductions,
    disputes,
    dunning,
    enrolments,
    invoices,
    payments,
    reports,
)

BLUEPRINTS = (
    payments.bp,
    invoices.bp,
    customers.bp,
    disputes.bp,
    deductions.bp,
    credit.bp,
    enrolments.bp,
    reports.bp,
    dunning.bp,
    approvals.bp,
    banking.bp,
)
