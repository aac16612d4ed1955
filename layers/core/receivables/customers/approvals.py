"""Segregation of duties: a change that redirects mail or money waits for a second person.

Some changes are how money is lost without anyone stealing it outright: a customer's AP address
or legal name replaced (the next invoices and links go to a fraudster), a price list or a
purchase order filed (against which the next short payment is "validly" credited). Each such
action has a *mode* in the approval policy, which a controller edits (``GET|PUT
/approvals/policy``):

- ``controller``: a controller's change applies at once; anyone else's becomes a *proposal*;
- ``four_eyes``: every change is a proposal, a controller's too.

A proposal is approved or rejected by a controller who is not the one who proposed it (maker ≠
checker), and only then applied. Each step is an audit event of the proposal (``ChangeProposed``,
``ChangeApproved``, ``ChangeRejected``); the change itself writes its own event, naming the
proposal and both people. Proposals are JSON documents (``APPROVAL#<id>``) listed on gsi3 and,
while pending, on the sparse gsi2, so the waiting list is one Query however many were decided.

The policy also holds the largest credit a deduction's pricing claim may earn without a
controller (`ApprovalPolicy.auto_credit_limit`): above it the claim goes to the owner's decision,
which is a controller's (`receivables.disputes.deductions`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from receivables.customers.contact_changes import (
    SENSITIVE,
    apply_contact_change,
    current_value,
    prepare_contact_change,
)
from receivables.disputes.evidence import save_purchase_order, save_terms
from receivables.kernel.access import Role
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import FieldError, ForbiddenError, InvalidRequestError
from receivables.kernel.money import Money, MoneyError, currency_exponent, parse_decimal
from receivables.kernel.observability import logger
from receivables.ledger.model import AuditEvent
from receivables.ledger.rules import LedgerError
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer

STATUSES = ("pending", "approved", "rejected", "failed")
MODES = ("controller", "four_eyes")

# The actions under the policy, and what each one is.
ACTIONS = {
    "contact_change": "a customer's AP email, legal name, VAT id, country or invoice delivery",
    "terms_change": "a customer's terms and price list",
    "purchase_order": "a customer's purchase order (its prices decide pricing deductions)",
}
DEFAULT_AUTO_CREDIT = Decimal("250")


class SelfApprovalError(ForbiddenError):
    """The checker is the maker: a proposal needs a second person (403)."""


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """Per action, who may change it alone; the pricing credit allowed without a controller."""

    modes: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ACTIONS, "controller"))
    auto_credit: dict[str, Decimal] = field(default_factory=lambda: {"*": DEFAULT_AUTO_CREDIT})
    version: int = 0

    def needs_approval(self, action: str, role: Role | None) -> bool:
        """Whether a change by someone of ``role`` must wait for a second person."""
        mode = self.modes.get(action, "controller")
        return mode == "four_eyes" or role is None or role < Role.CONTROLLER

    def auto_credit_limit(self, currency: str) -> Money:
        """The largest pricing credit a deduction is given without a controller's decision."""
        major = self.auto_credit.get(currency, self.auto_credit.get("*", DEFAULT_AUTO_CREDIT))
        return Money.from_decimal(major.quantize(Decimal(1).scaleb(-currency_exponent(currency))), currency)

    def to_json(self) -> dict[str, Any]:
        """As stored and as the API shows it (amounts as decimal strings)."""
        return {"modes": dict(self.modes), "auto_credit": {k: str(v) for k, v in self.auto_credit.items()}}


def policy_from_json(raw: Any) -> ApprovalPolicy:
    """Validate ``{"modes": {action: mode}, "auto_credit": {"EUR": "250.00", "*": "100"}}``;
    every action must have a mode. `InvalidRequestError` names each bad field."""
    errors: list[FieldError] = []
    if not isinstance(raw, dict):
        raise InvalidRequestError([FieldError("policy", "must be an object with modes and auto_credit")])
    errors.extend(
        FieldError(name, "is not a field of the policy")
        for name in sorted(set(raw) - {"modes", "auto_credit"})
    )
    modes = raw.get("modes")
    if not isinstance(modes, dict):
        errors.append(FieldError("modes", f"must map each of {', '.join(ACTIONS)} to a mode"))
        modes = {}
    for action in sorted(set(modes) | set(ACTIONS)):
        if action not in ACTIONS:
            errors.append(FieldError(f"modes.{action}", "is not an action under approval"))
        elif modes.get(action) not in MODES:
            errors.append(FieldError(f"modes.{action}", f"must be one of {', '.join(MODES)}"))
    credit = raw.get("auto_credit", {"*": str(DEFAULT_AUTO_CREDIT)})
    limits: dict[str, Decimal] = {}
    if not isinstance(credit, dict):
        errors.append(FieldError("auto_credit", "must map currencies (or *) to amounts"))
        credit = {}
    for code, amount in credit.items():
        try:
            value = parse_decimal(str(amount)) if isinstance(amount, (str, int, Decimal)) else None
            if code != "*":
                Money.from_decimal(value if value is not None else Decimal(-1), code)
        except MoneyError as exc:
            errors.append(FieldError(f"auto_credit.{code}", str(exc)))
            continue
        if value is None or value < 0:
            errors.append(FieldError(f"auto_credit.{code}", "must be a decimal string, zero or more"))
            continue
        limits[code] = value
    if errors:
        raise InvalidRequestError(errors)
    return ApprovalPolicy({a: str(modes[a]) for a in ACTIONS}, limits or {"*": DEFAULT_AUTO_CREDIT})


def load_policy() -> ApprovalPolicy:
    """The policy in force: the default (every action controller-only) until one is saved."""
    found = store.get_document(store.APPROVAL_POLICY_PK)
    if found is None:
        return ApprovalPolicy()
    body, version = found
    policy = policy_from_json(body)
    return ApprovalPolicy(policy.modes, policy.auto_credit, version)


def save_policy(policy: ApprovalPolicy, version: int, actor: str, clock: Clock) -> int:
    """Replace the policy read at ``version`` (`store.ConcurrentChangeError` if it moved)."""
    at = iso_timestamp(clock.now())
    event = AuditEvent(
        store.APPROVAL_POLICY_PK,
        version + 1,
        "ApprovalPolicyChanged",
        at,
        f"finance:{actor}",
        policy.to_json(),
    )
    store.put_document(store.APPROVAL_POLICY_PK, policy.to_json(), version + 1, at, event)
    return version + 1


# --- proposals -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Proposal:
    """A change waiting for a second person, or what became of it."""

    approval_id: str
    action: str
    subject: str  # what it changes: a customer id
    params: dict[str, Any]  # the validated change, as the action applies it
    summary: str
    proposed_by: str
    proposed_at: str
    status: str = "pending"
    decided_by: str | None = None
    decided_at: str | None = None
    note: str | None = None
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        """As stored and as the API shows it."""
        return {
            "approval_id": self.approval_id,
            "action": self.action,
            "subject": self.subject,
            "params": self.params,
            "summary": self.summary,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at,
            "status": self.status,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "note": self.note,
        }


def _proposal(body: dict[str, Any], version: int) -> Proposal:
    return Proposal(**body, version=version)


def get_proposal(approval_id: str) -> Proposal | None:
    """The proposal, or None."""
    if not approval_id.startswith("apr_") or len(approval_id) > 40:
        return None
    found = store.get_document(store.approval_pk(approval_id))
    return _proposal(*found) if found else None


def list_proposals(status: str | None = "pending", limit: int = 200) -> list[Proposal]:
    """Proposals, oldest first: the pending ones from their sparse index (one Query), or every
    one listed, filtered by ``status``."""
    if status == "pending":
        return [_proposal(b, v) for b, v in store.waiting_documents(store.PENDING_APPROVALS, limit)]
    found = [_proposal(b, v) for b, v in store.listed_documents(store.APPROVALS_LISTING, limit)]
    return [p for p in found if status is None or p.status == status]


def _write(proposal: Proposal, kind: str, data: dict[str, Any], actor: str, at: str) -> Proposal:
    saved = Proposal(**proposal.to_json(), version=proposal.version + 1)
    sort_key = f"{saved.proposed_at}#{saved.approval_id}"
    event = AuditEvent(store.approval_pk(saved.approval_id), saved.version, kind, at, actor, data)
    update = store.document_update(
        store.approval_pk(saved.approval_id),
        saved.to_json(),
        saved.version,
        at,
        listing=(store.APPROVALS_LISTING, sort_key),
        waiting=(store.PENDING_APPROVALS, sort_key) if saved.status == "pending" else None,
    )
    store.UnitOfWork().add(store.audit_event(store.approval_pk(saved.approval_id), event), update).commit()
    return saved


def propose(
    action: str, subject: str, params: dict[str, Any], summary: str, proposer: str, clock: Clock
) -> Proposal:
    """Record a change for a second person (``ChangeProposed``). The same change proposed again
    while it waits is the same proposal (its id derives from what it changes), so a retried
    request makes one."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    basis = json.dumps([action, subject, params], sort_keys=True, separators=(",", ":"), default=str)
    for round_ in range(100):
        digest = hashlib.sha256(f"{basis}#{round_}".encode()).hexdigest()[:20]
        existing = get_proposal(f"apr_{digest}")
        if existing is None:
            break
        if existing.status == "pending":
            return existing
    else:  # pragma: no cover - a hundred identical proposals decided in a row
        raise LedgerError("this change has been proposed too many times")
    at = iso_timestamp(clock.now())
    fresh = Proposal(f"apr_{digest}", action, subject, params, summary, proposer, at)
    data = {"approval_id": fresh.approval_id, "action": action, "subject": subject, "params": params}
    return _write(fresh, "ChangeProposed", data, proposer, at)


def decide(approval_id: str, approve: bool, note: str, checker: str, clock: Clock) -> Proposal:
    """The checker approves (``ChangeApproved``, then the change is applied) or rejects
    (``ChangeRejected``: nothing changes). The checker must not be the proposer
    (`SelfApprovalError`); a decided proposal cannot be decided again (`LedgerError`).

    The decision is written first, on condition that the proposal is still the version read, so
    of two controllers deciding at once one wins and the other gets a `LedgerError`; a change that
    can no longer be applied (the address became another customer's meanwhile) leaves the
    proposal ``failed`` with the reason (``ChangeFailed``) and raises."""
    proposal = get_proposal(approval_id)
    if proposal is None:
        raise LookupError(f"no approval {approval_id}")
    if proposal.status != "pending":
        raise LedgerError(f"the proposal is {proposal.status}: there is nothing to decide")
    if proposal.proposed_by == checker:
        raise SelfApprovalError("you proposed this change: another controller must decide it")
    at = iso_timestamp(clock.now())
    decided = Proposal(
        **{
            **proposal.to_json(),
            "status": "approved" if approve else "rejected",
            "decided_by": checker,
            "decided_at": at,
            "note": note or None,
        },
        version=proposal.version,
    )
    kind = "ChangeApproved" if approve else "ChangeRejected"
    try:
        decided = _write(decided, kind, {"approval_id": approval_id, "note": note}, checker, at)
    except store.ConcurrentChangeError:
        raise LedgerError("the proposal was decided meanwhile: read it again") from None
    if approve:
        try:
            APPLIERS[proposal.action](proposal, checker, clock)
        except Exception as exc:
            failed = Proposal(
                **{**decided.to_json(), "status": "failed", "note": str(exc)}, version=decided.version
            )
            _write(failed, "ChangeFailed", {"approval_id": approval_id, "reason": str(exc)}, checker, at)
            raise
    return decided


def _apply_contact_change(proposal: Proposal, checker: str, clock: Clock) -> None:

    apply_contact_change(
        proposal.subject,
        proposal.params,
        f"finance:{checker}",
        clock,
        approval={"approval_id": proposal.approval_id, "proposed_by": proposal.proposed_by},
    )


def _apply_terms_change(proposal: Proposal, checker: str, clock: Clock) -> None:

    save_terms(
        proposal.subject, proposal.params, f"finance:{checker} (approval {proposal.approval_id})", clock
    )


def _apply_purchase_order(proposal: Proposal, checker: str, clock: Clock) -> None:

    actor = f"finance:{checker} (approval {proposal.approval_id})"
    save_purchase_order(proposal.subject, proposal.params["number"], proposal.params["order"], actor, clock)


APPLIERS: dict[str, Callable[[Proposal, str, Clock], None]] = {
    "contact_change": _apply_contact_change,
    "terms_change": _apply_terms_change,
    "purchase_order": _apply_purchase_order,
}


# --- a change, or its proposal: what the finance API's customer routes call --------------------
def change_terms(
    customer_id: str, terms: dict[str, Any], role: Role | None, maker: str, actor: str, clock: Clock
) -> tuple[dict[str, Any] | None, Proposal | None]:
    """File the customer's terms (``terms_document``'s shape) as ``actor``, or, when the policy
    needs a second person for ``role``, propose them as ``maker``: (saved, None) or (None, proposal)."""

    if load_policy().needs_approval("terms_change", role):
        prices = ", ".join(f"{item} {price}" for item, price in list(terms["price_list"].items())[:20])
        summary = f"requires_po {terms['requires_po']}; price list: {prices or 'none'}"
        return None, propose("terms_change", customer_id, terms, summary, maker, clock)
    return save_terms(customer_id, terms, actor, clock), None


def change_purchase_order(
    customer_id: str,
    number: str,
    order: dict[str, Any],
    role: Role | None,
    maker: str,
    actor: str,
    clock: Clock,
) -> tuple[dict[str, Any] | None, Proposal | None]:
    """File one of the customer's purchase orders as ``actor``, or propose it as ``maker`` (as
    `change_terms`)."""

    if load_policy().needs_approval("purchase_order", role):
        summary = f"PO {number}: {len(order['lines'])} line(s) in {order['currency']}, " + ", ".join(
            f"{line['description']} {line['quantity']} x {line['unit_price']}" for line in order["lines"][:5]
        )
        return None, propose(
            "purchase_order", customer_id, {"number": number, "order": order}, summary, maker, clock
        )
    return save_purchase_order(customer_id, number, order, actor, clock), None


def change_contact(
    customer: Customer, body: dict[str, Any], role: Role | None, maker: str, actor: str, clock: Clock
) -> tuple[Customer, Proposal | None]:
    """Change the customer's contact details as ``actor``: (changed, None); a change of a field
    that redirects mail, when the policy needs a second person for ``role``, is proposed as
    ``maker`` instead: (customer as it is, proposal). Every bad field is named now."""

    if SENSITIVE & set(body) and load_policy().needs_approval("contact_change", role):
        prepare_contact_change(customer, body)  # every bad field is named now, not at approval
        summary = "; ".join(f"{k}: {current_value(customer, k)!r} -> {body[k]!r}" for k in sorted(body))
        proposal = propose("contact_change", customer.customer_id, body, summary, maker, clock)
        logger.info("contact change proposed", extra={"customer_id": customer.customer_id, "by": maker})
        return customer, proposal
    return apply_contact_change(customer.customer_id, body, actor, clock), None
