"""Running totals of the receivables, kept current from the table's stream.

The aging report, the KPIs and the dashboard read these few items instead of the invoices, so
what they read grows with the number of currencies, due dates and customers, never with the
number of invoices. Each invoice *contributes* to them; when a new version of the invoice comes
down the stream, its new contribution replaces its old one:

=========================  ===========  ==============================================
item (pk / sk)             one per      attributes (minor units, counts)
=========================  ===========  ==============================================
AR#<cur> / DUE#<date>      due date     open, invoices, disputed, disputed_invoices
ARC#<cur> / <customer>     customer     open, invoices, disputed, disputed_invoices,
                                        d_<due date> (open, per date)
SALES#<cur> / DAY#<date>   issue date   sales, issued, disputed (invoices disputed)
AGG#index / CURRENCIES     table        currencies, sellers (string sets)
INV#<id> / AGG             invoice      its contribution and the version it is of
ACT#day / <date>           day          emails sent (invoice, reminder, final_notice),
                                        payments received (p_<cur> count, r_<cur> sum)
<item pk> / AGG#<item sk>  counted      a marker: this email or payment is counted
=========================  ===========  ==============================================

Exactly once, in order: the stream delivers at least once and a retried batch can replay older
records after newer ones, so every contribution is written in one transaction with the counter
changes it causes, on condition that it is newer than the stored one. A replay fails that
condition and changes nothing.

Activity (the emails and payments of a day) counts things that happen once: an email's audit
event, a payment's first version. Each is counted in one transaction with a marker put beside the
item on condition that it does not exist, so a replay finds the marker and counts nothing.

Sales count an invoice on its issue date unless it is void. Every invoice counts as *issued*,
void or not (a duplicate was issued, and is often disputed), and as *disputed* once it has ever
been disputed: both on its issue date, so the dispute rate compares like with like.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from receivables.kernel.money import Money
from receivables.ledger.model import InvoiceStatus
from receivables.ledger.rules import OPEN_RECEIVABLE
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables.ledger.model import Invoice

INDEX_KEY = ("AGG#index", "CURRENCIES")
SHARE_SK = "AGG"
DUE_PREFIX = "d_"


@dataclass(frozen=True, slots=True)
class Share:
    """What one version of an invoice adds to the aggregates."""

    version: int
    currency: str
    customer_id: str
    issue_date: str
    due_date: str
    open: int  # the balance still owed (0 unless open, partially paid or disputed)
    disputed: bool  # in dispute now
    sales: int  # the total, unless void
    ever_disputed: bool

    @classmethod
    def of(cls, invoice: Invoice, before: Share | None = None) -> Share:
        """The contribution of ``invoice``; ``before`` carries what it ever was (disputed)."""
        owed = invoice.status in OPEN_RECEIVABLE and invoice.balance.minor > 0
        disputed = invoice.status is InvoiceStatus.DISPUTED
        return cls(
            version=invoice.version,
            currency=invoice.currency,
            customer_id=invoice.customer_id,
            issue_date=invoice.issue_date.isoformat(),
            due_date=invoice.due_date.isoformat(),
            open=invoice.balance.minor if owed else 0,
            disputed=disputed and owed,
            sales=0 if invoice.status is InvoiceStatus.VOID else invoice.total.minor,
            ever_disputed=disputed or (before is not None and before.ever_disputed),
        )

    def counters(self, sign: int) -> Iterator[tuple[tuple[str, str], str, int]]:
        """(item key, attribute, amount) for every counter this share adds (sign 1) or takes
        back (sign -1)."""
        cur, owed = self.currency, 1 if self.open > 0 else 0
        due = ("AR#" + cur, "DUE#" + self.due_date)
        yield due, "open", sign * self.open
        yield due, "invoices", sign * owed
        yield due, "disputed", sign * (self.open if self.disputed else 0)
        yield due, "disputed_invoices", sign * (owed if self.disputed else 0)
        customer = ("ARC#" + cur, self.customer_id)
        yield customer, "open", sign * self.open
        yield customer, "invoices", sign * owed
        yield customer, "disputed", sign * (self.open if self.disputed else 0)
        yield customer, "disputed_invoices", sign * (owed if self.disputed else 0)
        yield customer, DUE_PREFIX + self.due_date, sign * self.open
        sales = ("SALES#" + cur, "DAY#" + self.issue_date)
        yield sales, "sales", sign * self.sales
        yield sales, "issued", sign  # a void invoice was issued too (and may have been disputed)
        yield sales, "disputed", sign * (1 if self.ever_disputed else 0)

    def to_item(self, invoice_id: str) -> dict[str, Any]:
        """The stored contribution (DynamoDB's attribute-value form)."""
        return {
            "pk": {"S": store.invoice_pk(invoice_id)},
            "sk": {"S": SHARE_SK},
            "kind": {"S": "aggregate_share"},
            "version": {"N": str(self.version)},
            "currency": {"S": self.currency},
            "customer_id": {"S": self.customer_id},
            "issue_date": {"S": self.issue_date},
            "due_date": {"S": self.due_date},
            "open": {"N": str(self.open)},
            "disputed": {"BOOL": self.disputed},
            "sales": {"N": str(self.sales)},
            "ever_disputed": {"BOOL": self.ever_disputed},
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Share:
        """Back from `to_item`."""
        return cls(
            version=int(item["version"]["N"]),
            currency=item["currency"]["S"],
            customer_id=item["customer_id"]["S"],
            issue_date=item["issue_date"]["S"],
            due_date=item["due_date"]["S"],
            open=int(item["open"]["N"]),
            disputed=item["disputed"]["BOOL"],
            sales=int(item["sales"]["N"]),
            ever_disputed=item["ever_disputed"]["BOOL"],
        )


def changes(before: Share | None, after: Share) -> dict[tuple[str, str], dict[str, int]]:
    """The counter changes that replace ``before`` by ``after``: per item, per attribute, the
    non-zero amounts to add."""
    merged: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for share, sign in ((before, -1), (after, 1)):
        if share is not None:
            for key, attribute, amount in share.counters(sign):
                merged[key][attribute] += amount
    return {
        key: {a: n for a, n in attributes.items() if n}
        for key, attributes in merged.items()
        if any(attributes.values())
    }


def _stored_share(invoice_id: str) -> Share | None:
    response = store.dispatch(
        "GetItem",
        {"Key": {"pk": {"S": store.invoice_pk(invoice_id)}, "sk": {"S": SHARE_SK}}, "ConsistentRead": True},
    )
    item = response.get("Item")
    return Share.from_item(item) if item else None


def _update(key: tuple[str, str], amounts: dict[str, int]) -> dict[str, Any]:
    names = {f"#a{i}": attribute for i, attribute in enumerate(amounts)}
    values = {f":v{i}": {"N": str(amount)} for i, amount in enumerate(amounts.values())}
    return {
        "Update": {
            "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(amounts))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def apply_invoice(invoice: Invoice, attempts: int = 5) -> bool:
    """Bring the aggregates up to ``invoice`` (one version of it, from the stream).

    True when they changed; False when a newer or the same version was applied before (a
    replayed or late record). Raises `store.StoreError` when transactions keep conflicting.
    """
    for _ in range(attempts):
        before = _stored_share(invoice.invoice_id)
        if before is not None and before.version >= invoice.version:
            return False
        after = Share.of(invoice, before)
        put = {
            "Put": {
                "Item": after.to_item(invoice.invoice_id),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if before is not None:  # exactly the share read, so the changes are computed from it
            put["Put"]["ConditionExpression"] = "version = :before"
            put["Put"]["ExpressionAttributeValues"] = {":before": {"N": str(before.version)}}
        items = [put, *(_update(key, amounts) for key, amounts in changes(before, after).items())]
        if before is None:
            items.append(
                {
                    "Update": {
                        "Key": {"pk": {"S": INDEX_KEY[0]}, "sk": {"S": INDEX_KEY[1]}},
                        "UpdateExpression": "ADD currencies :c, sellers :s",
                        "ExpressionAttributeValues": {
                            ":c": {"SS": [after.currency]},
                            ":s": {"SS": [invoice.seller_id]},
                        },
                    }
                }
            )
        if _written(items):
            return True
        # Cancelled: another record of this invoice, or a conflict on a counter: read again.
    raise store.StoreError(f"the aggregates of {invoice.invoice_id} kept conflicting")


def _written(items: list[dict[str, Any]]) -> bool:
    """Write ``items`` in one transaction: True, or False when it was cancelled (a condition
    failed or another transaction held an item); any other error is raised."""
    try:
        store.dispatch("TransactWriteItems", {"TransactItems": items})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        return False
    return True


# --- compaction: what the counters no longer hold -------------------------------------------------
def _zero_condition(names: list[str]) -> dict[str, Any]:
    return {
        "ConditionExpression": " AND ".join(f"#a{i} = :zero" for i in range(len(names))),
        "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(names)},
        "ExpressionAttributeValues": {":zero": {"N": "0"}},
    }


def _conditionally(operation: str, arguments: dict[str, Any]) -> bool:
    try:
        store.dispatch(operation, arguments)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False  # a contribution landed meanwhile: it stays


def compact(currency: str) -> int:
    """Remove what the counters of ``currency`` no longer hold, so that what the aging reads
    stays bounded by what is open: a customer's due dates with nothing left on them, and the
    due-date and customer items that hold nothing at all. Every removal is conditional on the
    counters still being zero, so a contribution that lands meanwhile is never lost. Returns the
    number of items changed (the daily sweep runs it)."""
    changed = 0
    reads = Reads()
    for pk in ("AR#" + currency, "ARC#" + currency):
        for item in query(pk, reads):
            counters = [name for name, value in item.items() if "N" in value]
            zero = [name for name in counters if int(item[name]["N"]) == 0]
            key = {"pk": item["pk"], "sk": item["sk"]}
            if zero and zero == counters:
                changed += _conditionally("DeleteItem", {"Key": key, **_zero_condition(counters)})
            elif dates := [name for name in zero if name.startswith(DUE_PREFIX)]:
                arguments = _zero_condition(dates)
                arguments["UpdateExpression"] = "REMOVE " + ", ".join(arguments["ExpressionAttributeNames"])
                changed += _conditionally("UpdateItem", {"Key": key, **arguments})
    return changed


# --- activity: the emails and payments of a day -----------------------------------------------
ACTIVITY_PK = "ACT#day"
EMAIL_KINDS = {
    "InvoiceEmailed": "invoice",
    "ReminderSent": "reminder",
    "FinalNoticeSent": "final_notice",
    "PortalLinkSent": "portal_link",
}


def count_once(
    marker: tuple[str, str], counters: dict[tuple[str, str], dict[str, int]], attempts: int = 5
) -> bool:
    """Add to ``counters`` (item key to attribute amounts) once for ``marker`` (the counted
    item's own key with ``AGG#`` before its sort key); False when it was counted before."""
    put = {
        "Put": {
            "Item": {"pk": {"S": marker[0]}, "sk": {"S": marker[1]}, "kind": {"S": "aggregate_marker"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    items = [put, *(_update(key, amounts) for key, amounts in counters.items())]
    for _ in range(attempts):
        if _written(items):
            return True
        found = store.dispatch(
            "GetItem", {"Key": {"pk": {"S": marker[0]}, "sk": {"S": marker[1]}}, "ConsistentRead": True}
        )
        if found.get("Item"):
            return False  # counted by an earlier delivery
    raise store.StoreError(f"counting {marker[0]} {marker[1]} kept conflicting")


# The risk events the stream counts per customer (credit.risk scores from these counters), and
# where: the customer's risk partition, its counters item.
COUNTERS = {
    "PromiseBroken": "broken_promises",
    "PromiseKept": "promises_kept",
    "PaymentFailed": "failed_debits",
    "ChargebackOpened": "chargebacks",
    "DisputeOpened": "disputes",
}
COUNTS_SK = "COUNTS"


def risk_pk(customer_id: str) -> str:
    """The partition of a customer's risk: the counters, the current score, the history."""
    return f"RISK#{customer_id}"


def links_key(customer_id: str) -> tuple[str, str]:
    """The item counting the links a customer was sent (every email to them carries links)."""
    return ("LINKS#" + customer_id, "SENT")


def risk_customer(image: dict[str, Any]) -> str | None:
    """The customer whose risk the event a stream record's NewImage holds bears on (a broken
    promise, a failed debit, a dispute, a chargeback, a rating imported), or None."""
    kind = image.get("type", {}).get("S")
    if image.get("kind", {}).get("S") != "event" or (
        kind not in COUNTERS and kind != "ExternalRatingImported"
    ):
        return None
    customer_id = json.loads(image.get("data", {}).get("S") or "{}").get("customer_id")
    if not customer_id and image["pk"]["S"].startswith("INV#"):
        invoice = store.get_invoice(image["pk"]["S"].removeprefix("INV#"))
        customer_id = invoice.customer_id if invoice is not None else None
    return str(customer_id) if customer_id else None


def apply_activity(image: dict[str, Any], risk_customer_id: str | None = None) -> bool:
    """Count the email or payment a stream record's NewImage holds (an email also in its
    customer's links sent), or the risk event in the risk counters of ``risk_customer_id`` (its
    customer, found by `risk_customer`); False when it is none of them or was counted before."""
    kind = image.get("kind", {}).get("S")
    pk, sk = image["pk"]["S"], image["sk"]["S"]
    event_type = image.get("type", {}).get("S")
    if kind == "event" and event_type in COUNTERS:
        if risk_customer_id is None:
            return False
        counters = {(risk_pk(risk_customer_id), COUNTS_SK): {COUNTERS[event_type]: 1}}
        return count_once((pk, "AGG#" + sk), counters)
    if kind == "event" and image.get("type", {}).get("S") in EMAIL_KINDS:
        day = image["at"]["S"][:10]
        counters = {(ACTIVITY_PK, day): {EMAIL_KINDS[image["type"]["S"]]: 1}}
        customer_id = json.loads(image.get("data", {}).get("S") or "{}").get("customer_id")
        if customer_id:
            counters[links_key(str(customer_id))] = {"links_sent": 1}
        return count_once((pk, "AGG#" + sk), counters)
    if kind == "payment" and sk == store.HEAD:
        currency, day = image["currency"]["S"], image["received_at"]["S"][:10]
        amounts = {"p_" + currency: 1, "r_" + currency: int(image["amount"]["N"])}
        return count_once((pk, "AGG#" + sk), {(ACTIVITY_PK, day): amounts})
    return False


def links_sent(customer_id: str) -> int:
    """How many emails (each with its links) the customer was sent."""
    key = links_key(customer_id)
    response = store.dispatch("GetItem", {"Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}}})
    return number(response.get("Item") or {}, "links_sent")


@dataclass(frozen=True, slots=True)
class Activity:
    """One day's emails (by kind) and payments received (count and minor units, by currency)."""

    day: str
    emails: dict[str, int]
    payments: dict[str, tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; amounts as decimal strings."""
        return {
            "date": self.day,
            "emails": self.emails,
            "emails_total": sum(self.emails.values()),
            "payments": {
                cur: {"count": count, "amount": Money(minor, cur).to_decimal_string()}
                for cur, (count, minor) in sorted(self.payments.items())
            },
        }


def activity(first: str, last: str, reads: Reads) -> list[Activity]:
    """Every day from ``first`` to ``last`` (ISO dates) that had an email or a payment, oldest first."""
    days = []
    for item in query(ACTIVITY_PK, reads, (first, last)):
        currencies = {name[2:] for name in item if name.startswith("p_")}
        days.append(
            Activity(
                day=item["sk"]["S"],
                emails={kind: number(item, kind) for kind in EMAIL_KINDS.values() if number(item, kind)},
                payments={c: (number(item, "p_" + c), number(item, "r_" + c)) for c in currencies},
            )
        )
    return days


# --- reading ------------------------------------------------------------------------------------
@dataclass
class Reads:
    """What reading the aggregates cost: items returned and read capacity consumed."""

    items: int = 0
    capacity: float = 0.0

    def add(self, response: dict[str, Any]) -> None:
        self.items += int(response.get("Count", 1 if response.get("Item") else 0))
        consumed = response.get("ConsumedCapacity") or {}
        self.capacity += float(consumed.get("CapacityUnits", 0.0))


def query(pk: str, reads: Reads, sk_between: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Every item of partition ``pk`` (optionally with sk in a range), all pages."""
    arguments: dict[str, Any] = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
    }
    if sk_between:
        arguments["KeyConditionExpression"] += " AND sk BETWEEN :lo AND :hi"
        arguments["ExpressionAttributeValues"].update(
            {":lo": {"S": sk_between[0]}, ":hi": {"S": sk_between[1]}}
        )
    items: list[dict[str, Any]] = []
    while True:
        response = store.dispatch("Query", arguments)
        reads.add(response)
        items.extend(response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return items
        arguments["ExclusiveStartKey"] = last


def _index(reads: Reads) -> dict[str, Any]:
    response = store.dispatch("GetItem", {"Key": {"pk": {"S": INDEX_KEY[0]}, "sk": {"S": INDEX_KEY[1]}}})
    reads.add(response)
    return response.get("Item") or {}


def currencies(reads: Reads) -> list[str]:
    """The currencies any invoice was ever in."""
    return sorted(_index(reads).get("currencies", {}).get("SS", []))


def sellers(reads: Reads) -> list[str]:
    """The sellers any invoice was ever issued by (a second legal entity, a Peppol sender)."""
    return sorted(_index(reads).get("sellers", {}).get("SS", []))


def number(item: dict[str, Any], attribute: str) -> int:
    """An integer counter of a raw item (0 when absent)."""
    return int(item.get(attribute, {}).get("N", "0"))


def customer_total(customer_id: str, currency: str) -> dict[str, int]:
    """A customer's running total in ``currency`` (one GetItem): ``open``, ``invoices`` and the
    open amount per due date (``d_<date>``); empty when they owe nothing in it."""
    response = store.dispatch(
        "GetItem", {"Key": {"pk": {"S": "ARC#" + currency}, "sk": {"S": customer_id}}, "ConsistentRead": True}
    )
    item = response.get("Item") or {}
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}
