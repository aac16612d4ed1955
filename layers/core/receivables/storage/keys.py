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


def event_sk(seq: int) -> str:
    return f"EVT#{seq:08d}"


def due_shard(invoice_id: str) -> str:
    return f"DUE#{zlib.crc32(invoice_id.encode()) % DUE_SHARDS}"


HEAD = "HEAD"


def dispute_pk(dispute_id: str) -> str:
    return f"DSP#{dispute_id}"
