"""The keys of the one table: every partition and sort key is spelled here.

Keys (one table; ``HEAD`` is an aggregate's current state, ``EVT#nnnnnnnn`` its audit trail):

======================  ==========================  =====================================
item                    pk / sk                     indexes
======================  ==========================  =====================================
invoice                 INV#<id> / HEAD             gsi1 CUST#<customer> / INV#<issued>#<id>
                                                    gsi2 DUE#<shard> / <due>#<id> (sparse:
                                                    only while collectible)
credit note             CN#<id> / HEAD              gsi1 CUST#<customer> / CN#<issued>#<id>
customer                CUS#<id> / HEAD
customer identifier     CKEY#<scheme>:<value> / KEY
audit event             <aggregate pk> / EVT#<seq>
allocation              INV#<id> / ALLOC#<source type>#<allocation id>
dispute                 DSP#<id> / HEAD             gsi1 CUST#<customer> / DSP#<opened>#<id>
                                                    gsi2 DISPUTES#open / <opened>#<id> (sparse:
                                                    until it ends)
dispute of an invoice   INV#<id> / DSP#<dispute id>
(listings)                                          gsi3 ISSUED#<yyyy-mm> / <issued>#<id> (invoices),
                                                    RECEIVED#<yyyy-mm> / <at>#<id> (payments),
                                                    CUSTOMERS / <name>#<id> (customers)
======================  ==========================  =====================================

Access patterns: invoice by id (GetItem); invoice by (seller, number) (GetItem: the id is
derived from them, `receivables.ledger.rules.document_id`); a customer's documents (Query gsi1);
collectible invoices by due date for the sweep (Query gsi2, one query per shard); an aggregate's
audit events in order (Query pk, sk begins_with EVT#). Nothing scans.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from receivables.ledger.model import (
        PartyId,
    )

DUE_SHARDS = 8  # write-sharding of the sparse due-date index: no hot partition at any volume


# --- keys ---------------------------------------------------------------------------------------
def invoice_pk(invoice_id: str) -> str:
    return f"INV#{invoice_id}"


def credit_note_pk(credit_note_id: str) -> str:
    return f"CN#{credit_note_id}"


def payment_pk(payment_id: str) -> str:
    return f"PAY#{payment_id}"


def customer_pk(customer_id: str) -> str:
    return f"CUS#{customer_id}"


def customer_key_pk(identifier: PartyId) -> str:
    return f"CKEY#{identifier.key()}"


# --- the domains' JSON documents (`reads.get_document`, `unit_of_work.document_update`) ------------
# Policies: one document each, versioned, with its audit trail.
DUNNING_POLICY_PK = "POLICY#dunning"
DISPUTE_POLICY_PK = "POLICY#disputes"
CREDIT_POLICY_PK = "CREDIT#policy"
DEDUCTION_POLICY_PK = "DEDUCTION#policy"
APPROVAL_POLICY_PK = "APPROVAL#policy"

# Partitions of the listing index (gsi3) and of the sparse waiting index (gsi2).
DEDUCTIONS_LISTING = "DEDUCTIONS"
OPEN_DEDUCTIONS = "DEDUCTIONS#open"
ENROLMENTS_LISTING = "ENROLMENTS"
APPROVALS_LISTING = "APPROVALS"
PENDING_APPROVALS = "APPROVALS#pending"

# The invoices held until the customer's AP gets the documents it requires (one item each).
DOCUMENT_REQUESTS_PK = "DOCREQ#open"


def terms_pk(customer_id: str) -> str:
    """The customer's terms and conditions on file (what a dispute is judged against)."""
    return f"TERMS#{customer_id}"


def purchase_order_pk(customer_id: str, number: str) -> str:
    """A purchase order the customer filed, by its number."""
    return f"PO#{customer_id}#{number}"


def deduction_pk(deduction_id: str) -> str:
    """A deduction taken from a payment, with its audit trail."""
    return f"DED#{deduction_id}"


def dispute_deduction_pk(dispute_id: str) -> str:
    """The pointer from the dispute a deduction was routed to back to the deduction."""
    return f"DED#dispute#{dispute_id}"


def enrolment_pk(enrolment_id: str) -> str:
    """A customer's enrolment (its invitation, form and answers), with its audit trail."""
    return f"ENROL#{enrolment_id}"


def approval_pk(approval_id: str) -> str:
    """A maker's proposal waiting for its checker, with its audit trail."""
    return f"APPROVAL#{approval_id}"


def payment_intent_pk(payment_intent: str) -> str:
    """What is remembered of a Stripe PaymentIntent (a failure told once)."""
    return f"STRIPE#{payment_intent}"


def event_sk(seq: int) -> str:
    return f"EVT#{seq:08d}"


def due_shard(invoice_id: str) -> str:
    return f"DUE#{zlib.crc32(invoice_id.encode()) % DUE_SHARDS}"


HEAD = "HEAD"


def dispute_pk(dispute_id: str) -> str:
    return f"DSP#{dispute_id}"
