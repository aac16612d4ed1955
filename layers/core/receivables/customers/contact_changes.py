"""Changing a customer's contact details and preferences, checked field by field.

Some fields redirect mail or money (`SENSITIVE`: the AP email, the legal name, the VAT id, the
country, how invoices are delivered, the standing PO); a change that touches one of them goes through
`receivables.customers.approvals` (a collector proposes, a controller approves). The others (language,
partial payments, requirements, the account owner) apply at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import change_customer, customer_currency, customer_or_404
from receivables.customers.requirements import REQUIREMENTS
from receivables.kernel.company_ids import check_vat
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError
from receivables.ledger.model import PartyId, StandingPo
from receivables.ledger.rules import LedgerError
from receivables.mail.delivery import DELIVERIES
from receivables.payments.methods import METHODS
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer

# standing_po: ingest gives its number to every new invoice, and a PO's prices decide pricing
# deductions.
SENSITIVE = frozenset({"email", "name", "vat_id", "country", "invoice_delivery", "standing_po"})

CONTACT_FIELDS = {"email": 254, "name": 200, "language": 5, "country": 2, "vat_id": 40}
PREFERENCES = {
    "partial_payments",
    "preferred_method",
    "invoice_delivery",
    "document_requirements",
    "standing_po",
    "account_owner",
    "ask_customer_for_documents",
}


def contact_change_errors(body: dict[str, Any]) -> list[FieldError]:
    """What is wrong with a contact change, field by field (empty when it is fine)."""

    known = set(CONTACT_FIELDS) | PREFERENCES
    errors = [FieldError(name, "is not a contact field") for name in sorted(set(body) - known)]
    if "partial_payments" in body and not isinstance(body["partial_payments"], bool):
        errors.append(FieldError("partial_payments", "must be true or false"))
    if "preferred_method" in body and body["preferred_method"] not in (*METHODS, None):
        errors.append(FieldError("preferred_method", f"must be one of {', '.join(METHODS)}, or null"))
    if "invoice_delivery" in body and body["invoice_delivery"] not in DELIVERIES:
        errors.append(FieldError("invoice_delivery", f"must be one of {', '.join(DELIVERIES)}"))
    required = body.get("document_requirements", [])
    if not isinstance(required, list) or not all(isinstance(r, str) and r in REQUIREMENTS for r in required):
        errors.append(FieldError("document_requirements", f"must be a list of {', '.join(REQUIREMENTS)}"))
    if "ask_customer_for_documents" in body and not isinstance(body["ask_customer_for_documents"], bool):
        errors.append(FieldError("ask_customer_for_documents", "must be true or false"))
    owner = body.get("account_owner")
    if owner is not None and (
        not isinstance(owner, str) or "@" not in owner or " " in owner or len(owner) > 254
    ):
        errors.append(FieldError("account_owner", "must be an email address, or null"))
    for name, longest in CONTACT_FIELDS.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= longest):
            errors.append(FieldError(name, f"must be a string of 1 to {longest} characters"))
    email = body.get("email")
    if isinstance(email, str) and ("@" not in email or " " in email):
        errors.append(FieldError("email", "must be an email address"))
    if isinstance(body.get("language"), str) and body["language"] not in ("en", "fr", "de"):
        errors.append(FieldError("language", "must be one of en, fr, de"))
    if not body:
        errors.append(FieldError("body", "names no field to change"))
    return errors


def _standing_po(raw: Any, customer: Customer) -> Any:
    """``{"number", "amount", "valid_until"}`` (the amount in the customer's currency, or with
    ``currency``) as a `StandingPo`; null removes it."""

    if raw is None:
        return None
    errors = []
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("number"), str)
        or not 0 < len(raw["number"]) <= 100
    ):
        raise InvalidRequestError(
            [FieldError("standing_po", "must be {number, amount, valid_until[, currency]}")]
        )

    currency = raw.get("currency") or customer_currency(customer.customer_id)
    try:
        amount = Money.parse(str(raw.get("amount", "")), str(currency))
        if amount.minor <= 0:
            errors.append(FieldError("standing_po.amount", "must be more than zero"))
    except (MoneyError, ValueError):
        errors.append(FieldError("standing_po.amount", "must be a decimal string in the PO's currency"))
        amount = None
    try:
        until = date.fromisoformat(str(raw.get("valid_until", "")))
    except ValueError:
        errors.append(FieldError("standing_po.valid_until", "must be an ISO date"))
        until = None
    if errors or amount is None or until is None:
        raise InvalidRequestError(errors)
    return StandingPo(" ".join(raw["number"].split()), amount, until)


def _add_vat_id(body: dict[str, Any], customer: Customer, changes: dict[str, Any], extra: list[Any]) -> None:
    """The VAT id, checked with the country's check digits and kept compact (the key ingest
    finds the customer by), added to ``changes`` and its key item to ``extra``."""

    country = body.get("country") or customer.country
    if not country:
        raise InvalidRequestError([FieldError("country", "is needed to check the VAT id")])
    vat = PartyId("vat", check_vat(str(country), body["vat_id"]))
    owner = store.customers_by_identifier([vat]).get(vat)
    if owner not in (None, customer.customer_id):
        raise LedgerError("this VAT id is another customer's")
    if owner is None:
        extra.append(store.customer_key(customer.customer_id, vat))
    known_ids = changes.get("identifiers", customer.identifiers)
    if vat not in known_ids:
        changes["identifiers"] = (*known_ids, vat)
    changes.pop("vat_id", None)


def prepare_contact_change(customer: Customer, body: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The customer's fields a change that `contact_change_errors` found fine sets, and the key
    items it adds, without writing anything: the standing PO parsed, the VAT id checked with its
    country's check digits, a new address checked to be no other customer's. A proposal is
    checked this way before it waits for its checker, and again when it is applied."""

    known = set(CONTACT_FIELDS) | PREFERENCES
    email = body.get("email")
    changes: dict[str, Any] = {name: body[name] for name in known if name in body}
    if "document_requirements" in changes:
        changes["document_requirements"] = tuple(dict.fromkeys(changes["document_requirements"]))
    if "standing_po" in changes:
        changes["standing_po"] = _standing_po(changes["standing_po"], customer)
    extra: list[Any] = []
    if isinstance(email, str):
        contact = PartyId("email", email.strip().lower())
        owner = store.customers_by_identifier([contact]).get(contact)
        if owner not in (None, customer.customer_id):
            raise LedgerError("this address is already a contact of another customer")
        if owner is None:
            extra.append(store.customer_key(customer.customer_id, contact))
        if contact not in customer.identifiers:
            changes["identifiers"] = (*customer.identifiers, contact)
    if isinstance(body.get("vat_id"), str):
        _add_vat_id(body, customer, changes, extra)
    return changes, extra


def apply_contact_change(
    customer_id: str,
    body: dict[str, Any],
    actor: str,
    clock: Clock,
    approval: dict[str, Any] | None = None,
) -> Customer:
    """Apply a contact change that `contact_change_errors` found fine (``ContactChanged``, naming
    the approval it went through, if any). The new email becomes a known contact: it can ask the
    portal for a fresh link. A VAT id is checked with its country's check digits."""

    changes, extra = prepare_contact_change(customer_or_404(customer_id), body)
    known = set(CONTACT_FIELDS) | PREFERENCES
    data = {k: v for k, v in body.items() if k in known}
    if approval is not None:
        data["approval"] = approval
    return change_customer(
        customer_id, lambda c: replace(c, **changes), "ContactChanged", data, actor, clock, extra
    )


def current_value(customer: Customer, name: str) -> Any:
    """What the customer record says of contact field ``name`` now (for a proposal's summary)."""
    if name == "vat_id":
        return next((i.value for i in customer.identifiers if i.scheme == "vat"), None)
    return getattr(customer, name, None)
