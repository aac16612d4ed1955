"""The finance API's routes, one Chalice blueprint per resource; `api` is what they share (the
role check, the one mapping of errors to responses, the query and body parsing), `wiring` what
they are bound to (settings, clock, the AWS clients built on first use)."""
