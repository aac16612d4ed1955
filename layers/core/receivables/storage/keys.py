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
aggregate share         INV#<id> / AGG              (the projections, kept from the stream)
due-date counters       AR#<cur> / DUE#<date>
customer total          ARC#<cur> / <customer>
sales of a day          SALES#<cur> / DAY#<date>
aggregate index         AGG#index / CURRENCIES
activity of a day       ACT#day / <date>
counted marker          <item pk> / AGG#<item sk>
risk counters           RISK#<customer> / COUNTS
risk score of a day     RISK#<customer> / H#<date>
links sent              LINKS#<customer> / SENT
KPI snapshot            KPI#daily / <date>
portal session          SESSION#<id> / SESSION
console session         CONSOLE#<sha256 of id> / SESSION
task                    TASK#<id> / HEAD            gsi2 TASKS#open#<owner>, gsi3 TASKS#customer#<id>
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


# --- projections: the items the stream keeps beside the ledger ----------------------------------
# (`receivables.storage.projections`; what they count is `receivables.reporting.aggregates`'s).
# Counters are (pk, sk) pairs the aggregates hand back to `projections` as they got them.
AGGREGATE_INDEX = ("AGG#index", "CURRENCIES")
SHARE_SK = "AGG"
ACTIVITY_PK = "ACT#day"
_RISK_COUNTS_SK = "COUNTS"
KPI_SNAPSHOT_PK = "KPI#daily"
_DUE_DATE = "DUE#"
_SALES_DAY = "DAY#"
_COUNTED = "AGG#"
_RISK_POINT = "H#"


def share_key(invoice_id: str) -> tuple[str, str]:
    """The item holding an invoice's contribution to the aggregates, beside its head."""
    return invoice_pk(invoice_id), SHARE_SK


def due_dates_pk(currency: str) -> str:
    """The partition of a currency's open receivables, one item per due date."""
    return f"AR#{currency}"


def due_date_key(currency: str, due_date: str) -> tuple[str, str]:
    """The counters of one due date (ISO) in ``currency``."""
    return due_dates_pk(currency), _DUE_DATE + due_date


def due_date_of(sk: str) -> str:
    """The due date (ISO) a due-date counters item is of, from its sort key."""
    return sk.removeprefix(_DUE_DATE)


def customer_totals_pk(currency: str) -> str:
    """The partition of a currency's running totals per customer, one item per customer."""
    return f"ARC#{currency}"


def customer_total_key(currency: str, customer_id: str) -> tuple[str, str]:
    """The running total of one customer in ``currency``."""
    return customer_totals_pk(currency), customer_id


def sales_pk(currency: str) -> str:
    """The partition of a currency's sales, one item per issue date."""
    return f"SALES#{currency}"


def sales_key(currency: str, day: str) -> tuple[str, str]:
    """The sales counters of one issue date (ISO) in ``currency``."""
    return sales_pk(currency), _SALES_DAY + day


def sales_sk(day: str) -> str:
    """The sort key of a sales item of ``day`` (ISO), to bound a Query."""
    return _SALES_DAY + day


def sales_day_of(sk: str) -> str:
    """The issue date (ISO) a sales item is of, from its sort key."""
    return sk.removeprefix(_SALES_DAY)


def counter_partitions(currency: str) -> tuple[str, str, str]:
    """The partitions of a currency's counters (due dates, customers, sales), in that order."""
    return due_dates_pk(currency), customer_totals_pk(currency), sales_pk(currency)


def currency_of_partition(pk: str) -> str:
    """The currency a counters partition (`counter_partitions`) is of."""
    return pk.split("#", 1)[1]


def activity_key(day: str) -> tuple[str, str]:
    """The counters of one day's emails and payments (``day`` ISO)."""
    return ACTIVITY_PK, day


def counted_marker(pk: str, sk: str) -> tuple[str, str]:
    """The marker beside item (``pk``, ``sk``) that says it was counted."""
    return pk, _COUNTED + sk


def risk_pk(customer_id: str) -> str:
    """The partition of a customer's risk: the counters, the history of the score."""
    return f"RISK#{customer_id}"


def risk_counts_key(customer_id: str) -> tuple[str, str]:
    """The counters of a customer's risk events (broken promises, failed debits …)."""
    return risk_pk(customer_id), _RISK_COUNTS_SK


def risk_point_sk(day: str) -> str:
    """The sort key of the risk score's point of ``day`` (ISO) in the risk partition."""
    return _RISK_POINT + day


def links_key(customer_id: str) -> tuple[str, str]:
    """The counters of the links a customer was sent (every email to them carries links)."""
    return f"LINKS#{customer_id}", "SENT"


def invoice_id_of(pk: str) -> str | None:
    """The invoice whose partition ``pk`` is, or None when it is another aggregate's."""
    return pk.removeprefix("INV#") if pk.startswith("INV#") else None


# --- portal sessions (`receivables.storage.sessions`) -------------------------------------------
def session_key(session_id: str) -> tuple[str, str]:
    """The item recording one portal session (its random id, never the cookie)."""
    return f"SESSION#{session_id}", "SESSION"


def task_pk(task_id: str) -> str:
    """A finance task (a JSON document)."""
    return f"TASK#{task_id}"


def open_tasks_of(owner: str) -> str:
    """gsi2: the open tasks of one owner, by due date (sparse: a done task leaves it)."""
    return f"TASKS#open#{owner}"


def customer_tasks_listing(customer_id: str) -> str:
    """gsi3: every task about one customer, by due date."""
    return f"TASKS#customer#{customer_id}"


def console_session_key(session_id: str) -> tuple[str, str]:
    """The item recording one finance console session (its random id, the cookie's value)."""
    return f"CONSOLE#{session_id}", "SESSION"


# --- bank statements and their lines (`receivables.banking`) --------------------------------------
STATEMENTS_LISTING = "STATEMENTS"  # gsi3: every statement imported, by import time
UNMATCHED_BANK_LINES = "BANKLINES#unmatched"  # gsi2: the lines waiting for a person


def statement_pk(statement_ref: str) -> str:
    """One bank statement (or notification), by its reference (``st_…``, a digest of the
    account, the bank's statement id and sequence)."""
    return f"STMT#{statement_ref}"


def bank_account_pk(account: str) -> str:
    """What is known of one of our bank accounts: the last closing balance imported."""
    return f"BANKACCT#{account}"


def bank_line_pk(line_id: str) -> str:
    """One line of a bank statement, known across files by its identity (``bl_…``)."""
    return f"BLINE#{line_id}"


def lettering_pk(customer_id: str) -> str:
    """The counter of a customer account's lettering codes."""
    return f"LETTERING#{customer_id}"


def statement_lines_listing(statement_ref: str) -> str:
    """The listing partition (gsi3) of the lines a statement brought, in file order."""
    return f"LINES#{statement_ref}"


def bank_line_by_end_to_end_pk(account: str, end_to_end_id: str) -> str:
    """The pointer from a credit line's EndToEndId to the line (a return names the original)."""
    return f"BLINE-E2E#{account}#{end_to_end_id}"


def bank_line_by_payer_pk(line_id: str) -> str:
    """The pointer from a credit line to itself, listed by its payer IBAN and amount (a return
    that does not carry the EndToEndId finds the original by them)."""
    return f"BLINE-PAYER#{line_id}"


def payout_pk(payout_id: str) -> str:
    """One Stripe payout as its balance transactions describe it (``po_…``)."""
    return f"PAYOUT#{payout_id}"


def payout_by_amount_pk(currency: str, minor: int, arrival: str) -> str:
    """The pointer from a payout's amount and arrival date (ISO) to the payout, for a bank line
    that does not name the payout's id."""
    return f"PAYOUT-AMT#{currency}#{minor}#{arrival}"


def payout_line_waiting_pk(reference: str) -> str:
    """The pointer from a payout (its id, or ``currency#minor#date``) to the bank line that
    waits for it: the line came before the payout's webhook."""
    return f"PAYOUT-WAIT#{reference}"


def payer_amount_listing(account: str, iban: str, currency: str, minor: int) -> str:
    """The listing partition (gsi3) of the credit lines one payer IBAN sent to ``account`` for
    exactly this amount, by booking date."""
    return f"BLINES-PAYER#{account}#{iban}#{currency}#{minor}"
