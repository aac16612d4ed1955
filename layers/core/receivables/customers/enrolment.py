"""Customer enrolment: finance invites, the customer fills in their billing details once.

Finance invites a customer (or a prospect, by company name and email) through the API, one or
in bulk. The invitation is a signed link (``enrol`` action, `ENROLMENT_LINK_DAYS` valid), emailed;
a reminder sends a fresh one. The form (`receivables.customers.enrolment_form` validates it) is kept as a
draft until it is submitted. Submitting writes the customer record with its audit event
(``CustomerEnrolled``): their legal name, ids, address, contacts, how they want invoices, how
they pay, what their AP requires, a standing PO, their time zone.

Some changes wait for a controller instead of being applied (`SENSITIVE`): a new AP email
address where one is on file, a legal name other than the one on file, any bank account (the
first one too), a VAT or company id the customer did not have (ingest finds customers by them),
another country, another way of delivering invoices. A prospect's form never writes to an
existing customer whose ids it names. That is how invoice redirection fraud works: a forged "we changed our
details" sends the next invoices, or the next refund, elsewhere. The link honours finance's
revocation (`revoke_links`): it carries the customer's link generation, as the portal's do.
The enrolment is then *submitted*; a controller approves (the changes are
applied, ``EnrolmentApproved``) or rejects them. With nothing to approve, submitting approves.

An enrolment is one JSON document (``ENROL#<id>``, with its audit events), listed for finance on
the listing index (``ENROLMENTS``). Its id is derived from the customer (or the prospect's email),
so inviting twice reaches the same enrolment: a second invitation is a reminder.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import change_customer, customer_currency
from receivables.customers.enrolment_form import Contact, EnrolmentDetails, parse_enrolment
from receivables.customers.links import LinkError, LinkScope, sign_link, verify_link
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError
from receivables.ledger.model import AuditEvent, Customer, PartyId
from receivables.ledger.rules import customer_id_for
from receivables.mail.delivery import DEFAULT_DELIVERY
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from receivables.kernel.clock import Clock

ACTION = "enrol"
ENROLMENT_LINK_DAYS = 14
STATES = ("invited", "opened", "submitted", "approved", "rejected")
OPEN_STATES = ("invited", "opened")
SENSITIVE = ("email", "name", "bank_iban", "identifiers", "country", "invoice_delivery")
ACTOR_CUSTOMER = "customer:enrolment"


class EnrolmentError(ConflictError):
    """A request the enrolment's state does not allow."""


class DetailsTakenError(EnrolmentError):
    """The form names ids (a VAT id, a company id, an address) that are another customer's."""


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One invitation to enrol and what became of it."""

    enrolment_id: str
    state: str
    email: str  # where the invitation went
    company_name: str | None
    customer_id: str | None  # None for a prospect until they submit
    language: str
    invited_at: str
    invited_by: str
    expires: int  # the current link's expiry (epoch seconds)
    reminders: int = 0
    opened_at: str | None = None
    submitted_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    draft: dict[str, Any] | None = None  # EnrolmentDetails.to_json() as last saved
    pending: dict[str, Any] = field(default_factory=dict)  # sensitive changes awaiting approval
    note: str | None = None
    link_generation: int = 0  # the customer's link generation the current link was signed under
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        """The enrolment as stored and as the API shows it."""
        return asdict(self)


def enrolment_id_for(customer_id: str | None, email: str) -> str:
    """The enrolment of a customer (or of the prospect at ``email``): one per party."""
    basis = customer_id or f"prospect:{email.strip().lower()}"
    return "enr_" + hashlib.sha256(basis.encode()).hexdigest()[:20]


def get_enrolment(enrolment_id: str) -> Enrolment | None:
    """The enrolment, or None."""
    if not enrolment_id.startswith("enr_") or len(enrolment_id) > 40:
        return None
    found = store.get_document(store.enrolment_pk(enrolment_id))
    if found is None:
        return None
    body, version = found
    return Enrolment(**{**body, "version": version})


def list_enrolments(state: str | None = None, limit: int = 500) -> list[Enrolment]:
    """Every enrolment, in the order they were first invited; only ``state`` if given."""
    found = [
        Enrolment(**{**body, "version": v})
        for body, v in store.listed_documents(store.ENROLMENTS_LISTING, limit)
    ]
    return [e for e in found if state is None or e.state == state]


def _save(enrolment: Enrolment, kind: str, data: dict[str, Any], actor: str, clock: Clock) -> Enrolment:
    """Write the enrolment at its next version with its audit event; a concurrent change raises
    `store.ConcurrentChangeError`."""
    at = iso_timestamp(clock.now())
    saved = replace(enrolment, version=enrolment.version + 1)
    body = saved.to_json()
    body.pop("version")
    event = AuditEvent(
        saved.enrolment_id,
        saved.version,
        kind,
        at,
        actor,
        {"enrolment_id": saved.enrolment_id, "customer_id": saved.customer_id, **data},
    )
    store.put_document(
        store.enrolment_pk(saved.enrolment_id),
        body,
        saved.version,
        at,
        event,
        listing=(store.ENROLMENTS_LISTING, f"{saved.invited_at}#{saved.enrolment_id}"),
    )
    return saved


def token_for(enrolment: Enrolment, key: bytes) -> str:
    """The signed link token of the enrolment's current invitation."""
    scope = LinkScope(ACTION, enrolment.enrolment_id, None, enrolment.expires, enrolment.link_generation)
    return sign_link(scope, key)


def invite(
    customer: Customer | None,
    prospect: tuple[str, str] | None,
    language: str | None,
    actor: str,
    clock: Clock,
    send: Callable[[Enrolment], str],
    email: str | None = None,
) -> tuple[Enrolment, str]:
    """Invite ``customer`` (at ``email`` or their email on file) or a ``prospect`` (company
    name, email); ``send`` mails the invitation and answers its message id. Inviting an
    enrolment still open sends a reminder; a finished one starts again. Returns the enrolment
    and what happened: "invited" or "reminded"."""
    address = (email or (customer.email if customer else None) or (prospect[1] if prospect else "")).strip()
    if "@" not in address:
        raise EnrolmentError("there is no email address to send the invitation to")
    customer_id = customer.customer_id if customer else None
    enrolment_id = enrolment_id_for(customer_id, address)
    existing = get_enrolment(enrolment_id)
    expires = int((clock.now() + timedelta(days=ENROLMENT_LINK_DAYS)).timestamp())
    if existing is not None and existing.state in OPEN_STATES:
        return remind(existing, actor, clock, send), "reminded"
    at = iso_timestamp(clock.now())
    fresh = Enrolment(
        enrolment_id=enrolment_id,
        state="invited",
        email=address.lower(),
        company_name=(customer.name if customer else None) or (prospect[0] if prospect else None),
        customer_id=customer_id,
        language=language or (customer.language if customer else None) or "en",
        invited_at=existing.invited_at if existing else at,
        invited_by=actor,
        expires=expires,
        draft=existing.draft if existing else None,
        link_generation=customer.link_generation if customer else 0,
        version=existing.version if existing else 0,
    )
    message_id = send(fresh)
    return _save(
        fresh, "EnrolmentInvited", {"to": fresh.email, "message_id": message_id}, actor, clock
    ), "invited"


def remind(enrolment: Enrolment, actor: str, clock: Clock, send: Callable[[Enrolment], str]) -> Enrolment:
    """Send an open enrolment's invitation again, with a fresh link."""
    if enrolment.state not in OPEN_STATES:
        raise EnrolmentError(f"the enrolment is {enrolment.state}: there is nothing to remind")
    expires = int((clock.now() + timedelta(days=ENROLMENT_LINK_DAYS)).timestamp())
    customer = store.get_customer(enrolment.customer_id) if enrolment.customer_id else None
    generation = customer.link_generation if customer else enrolment.link_generation
    again = replace(enrolment, expires=expires, reminders=enrolment.reminders + 1, link_generation=generation)
    message_id = send(again)
    return _save(
        again,
        "EnrolmentReminded",
        {"to": again.email, "reminder": again.reminders, "message_id": message_id},
        actor,
        clock,
    )


def from_link(token: str, key: bytes, clock: Clock) -> Enrolment:
    """The enrolment a link opens: authentic, unexpired, the enrolment's current invitation
    (a link a reminder replaced still works until it expires), and still open for the
    customer. `LinkError` or `EnrolmentError` otherwise."""
    scope = verify_link(token, key, clock.now(), action=ACTION)
    enrolment = get_enrolment(scope.customer_id)
    if enrolment is None:
        raise LinkError("malformed", "the link is not one of ours")
    customer = store.get_customer(enrolment.customer_id) if enrolment.customer_id else None
    if customer is not None and scope.generation != customer.link_generation:
        raise LinkError("revoked", "this link is no longer valid: ask for a new one")
    return enrolment


def opened(enrolment: Enrolment, clock: Clock) -> Enrolment:
    """The first time the form is opened (``EnrolmentOpened``); later opens change nothing."""
    if enrolment.state != "invited":
        return enrolment
    try:
        return _save(
            replace(enrolment, state="opened", opened_at=iso_timestamp(clock.now())),
            "EnrolmentOpened",
            {},
            ACTOR_CUSTOMER,
            clock,
        )
    except store.ConcurrentChangeError:
        fresh = get_enrolment(enrolment.enrolment_id)
        return fresh or enrolment


def currency_of(enrolment: Enrolment) -> str:
    """The currency a standing PO is in: the customer's latest invoice's, else EUR."""

    return customer_currency(enrolment.customer_id)


def details_of(enrolment: Enrolment) -> EnrolmentDetails:
    """What the form shows: the draft, else what the customer record already says."""

    if enrolment.draft is not None:
        return EnrolmentDetails.from_json(enrolment.draft)
    customer = store.get_customer(enrolment.customer_id) if enrolment.customer_id else None
    if customer is None:
        return EnrolmentDetails(legal_name=enrolment.company_name, contacts=())
    if customer.profile:
        return EnrolmentDetails.from_json(customer.profile)
    vat = next((i.value for i in customer.identifiers if i.scheme == "vat"), None)
    contact = (
        (Contact(customer.name or "", customer.email, "accounts_payable", customer.language or "en"),)
        if customer.email
        else ()
    )
    return EnrolmentDetails(
        legal_name=customer.name,
        country=customer.country,
        vat_id=vat,
        contacts=contact,
        invoice_delivery=customer.invoice_delivery,
        preferred_method=customer.preferred_method,
        requirements=customer.document_requirements,
        standing_po=customer.standing_po,
    )


def save_draft(
    enrolment: Enrolment, fields: Mapping[str, str], requirements: Sequence[str], clock: Clock
) -> tuple[Enrolment, list[FieldError]]:
    """Keep what the customer filled in so far (the valid values; the errors name the rest)."""

    _open_or_raise(enrolment)
    details, errors = parse_enrolment(
        fields, requirements, currency_of(enrolment), complete=False, language=enrolment.language
    )
    saved = _save(
        replace(
            enrolment,
            draft=details.to_json(),
            state="opened",
            opened_at=enrolment.opened_at or iso_timestamp(clock.now()),
        ),
        "EnrolmentDraftSaved",
        {"errors": len(errors)},
        ACTOR_CUSTOMER,
        clock,
    )
    return saved, errors


def _open_or_raise(enrolment: Enrolment) -> None:
    if enrolment.state not in OPEN_STATES:
        raise EnrolmentError(f"this enrolment is {enrolment.state}")


def submit(
    enrolment: Enrolment, fields: Mapping[str, str], requirements: Sequence[str], clock: Clock
) -> tuple[Enrolment, list[FieldError]]:
    """Validate the whole form; when it is complete, write the customer record (the sensitive
    changes wait for a controller) and the enrolment's new state. The errors, if any, name each
    field that is wrong, in the customer's language, and nothing is written but the draft."""

    _open_or_raise(enrolment)
    details, errors = parse_enrolment(
        fields, requirements, currency_of(enrolment), complete=True, language=enrolment.language
    )
    if errors:
        kept, _ = save_draft(enrolment, fields, requirements, clock)
        return kept, errors
    customer = _write_customer(enrolment, details, clock)
    pending = _sensitive_changes(customer, details)
    at = iso_timestamp(clock.now())
    submitted = replace(
        enrolment,
        customer_id=customer.customer_id,
        draft=details.to_json(),
        state="submitted" if pending else "approved",
        submitted_at=at,
        decided_at=None if pending else at,
        decided_by=None if pending else "automatic: no payment or AP address change",
        pending=pending,
    )
    return _save(submitted, "EnrolmentSubmitted", {"pending": sorted(pending)}, ACTOR_CUSTOMER, clock), []


def _ap_contact(details: EnrolmentDetails) -> tuple[str | None, str | None]:
    """The AP contact's email and language (the first contact in that role)."""
    contact = next((c for c in details.contacts if c.role == "accounts_payable"), None)
    return (contact.email.lower(), contact.language) if contact else (None, None)


def _sensitive_changes(customer: Customer, details: EnrolmentDetails) -> dict[str, Any]:
    """What the form changes that a controller must approve: a different AP email address or
    legal name than the one on file, and a bank account other than the one on file (a first one
    too: whoever holds the link must not be able to name the account money is taken from)."""
    email, _ = _ap_contact(details)
    pending: dict[str, Any] = {}
    if email and customer.email and email != customer.email.lower():
        pending["email"] = email
    if details.legal_name and customer.name and details.legal_name != customer.name:
        pending["name"] = details.legal_name
    on_file = (customer.profile or {}).get("bank_iban")
    if details.bank_iban and details.bank_iban != on_file:
        pending["bank_iban"] = details.bank_iban
    # A VAT or company id finds the customer at ingest: claiming one would bring another
    # company's invoices here. How invoices are delivered and the country are the customer's
    # record as finance keeps it: changed only by a controller, as through the finance API.
    claimed = sorted(i.key() for i in _identifiers(details, None) if i not in customer.identifiers)
    if claimed:
        pending["identifiers"] = claimed
    if details.country and customer.country and details.country != customer.country:
        pending["country"] = details.country
    delivery = customer.invoice_delivery or DEFAULT_DELIVERY
    if details.invoice_delivery and details.invoice_delivery != delivery:
        pending["invoice_delivery"] = details.invoice_delivery
    return pending


def _identifiers(details: EnrolmentDetails, email: str | None) -> list[PartyId]:
    ids = []
    if details.vat_id:
        ids.append(PartyId("vat", details.vat_id))
    if details.registration_id and details.country:
        ids.append(PartyId("legal", f"{details.country}:{details.registration_id}"))
    if email:
        ids.append(PartyId("email", email))
    return ids


def _write_customer(enrolment: Enrolment, details: EnrolmentDetails, clock: Clock) -> Customer:
    """The customer record with the form's details, less what needs approval (kept as it was).
    A prospect becomes a customer here, unless one of its ids is already a customer's."""

    email, language = _ap_contact(details)
    wanted = _identifiers(details, email)
    known = store.customers_by_identifier(wanted)
    if enrolment.customer_id is None and known:
        # A prospect's form never writes to an existing customer, whose ids it names.
        raise DetailsTakenError("these details are another customer's already; please contact us")
    customer_id = enrolment.customer_id
    if customer_id is None:
        return _create_customer(enrolment, details, wanted, clock)
    current = store.get_customer(customer_id)
    if current is None:
        raise EnrolmentError("the customer is gone")
    pending = _sensitive_changes(current, details)
    taken = {i for i, owner in known.items() if owner != customer_id}
    new_ids = [
        i
        for i in wanted
        if i not in current.identifiers
        and i not in taken
        and not (i.scheme == "email" and pending.get("email"))
        and i.key() not in pending.get("identifiers", ())
    ]

    def apply(c: Customer) -> Customer:
        return _with_details(c, details, None if "email" in pending else email, language, pending, new_ids)

    return change_customer(
        customer_id,
        apply,
        "CustomerEnrolled",
        {"enrolment_id": enrolment.enrolment_id, "held_for_approval": sorted(pending)},
        ACTOR_CUSTOMER,
        clock,
        [store.customer_key(customer_id, i) for i in new_ids],
    )


def _with_details(
    customer: Customer,
    details: EnrolmentDetails,
    email: str | None,
    language: str | None,
    pending: Mapping[str, Any],
    new_ids: Sequence[PartyId],
) -> Customer:
    profile = details.to_json()
    if "bank_iban" in pending:
        profile["bank_iban"] = (customer.profile or {}).get("bank_iban")
    return replace(
        customer,
        name=customer.name if "name" in pending else (details.legal_name or customer.name),
        country=customer.country if "country" in pending else (details.country or customer.country),
        email=email or customer.email,
        language=language or customer.language,
        identifiers=(*customer.identifiers, *new_ids),
        invoice_delivery=customer.invoice_delivery
        if "invoice_delivery" in pending
        else (details.invoice_delivery or customer.invoice_delivery),
        preferred_method=details.preferred_method or customer.preferred_method,
        document_requirements=details.requirements,
        standing_po=details.standing_po,
        profile=profile,
        postal_address=details.postal_address() or customer.postal_address,
    )


def _create_customer(
    enrolment: Enrolment, details: EnrolmentDetails, ids: list[PartyId], clock: Clock
) -> Customer:

    email, language = _ap_contact(details)
    # A new customer is known by its address until a controller approves the VAT and company
    # ids it claims (`_sensitive_changes` holds them): ingest finds customers by those, and a
    # prospect must not catch the invoices of a company no one has enrolled yet.
    contacts = [i for i in ids if i.scheme == "email"] or [PartyId("email", enrolment.email)]
    at = iso_timestamp(clock.now())
    customer = _with_details(
        Customer(customer_id_for(contacts[0].key()), None, (), None, created_at=at, version=1),
        details,
        email,
        language,
        {"bank_iban": details.bank_iban} if details.bank_iban else {},
        contacts,
    )
    event = AuditEvent(
        customer.customer_id,
        1,
        "CustomerEnrolled",
        at,
        ACTOR_CUSTOMER,
        {"customer_id": customer.customer_id, "enrolment_id": enrolment.enrolment_id, "prospect": True},
    )
    refused = store.create_all([store.Creation.customer(customer, event)])
    if refused:
        raise DetailsTakenError("these details are another customer's already; please contact us")
    return customer


def decide(enrolment_id: str, approve: bool, note: str, actor: str, clock: Clock) -> Enrolment:
    """A controller approves the changes a submitted enrolment holds (they are applied to the
    customer: ``EnrolmentApproved``), or rejects them (nothing changes: ``EnrolmentRejected``)."""

    enrolment = get_enrolment(enrolment_id)
    if enrolment is None:
        raise EnrolmentError(f"no enrolment {enrolment_id}")
    if enrolment.state != "submitted" or enrolment.customer_id is None:
        raise EnrolmentError(f"the enrolment is {enrolment.state}: there is nothing to decide")
    if approve and enrolment.pending:
        _apply_pending(enrolment, actor, clock, change_customer)
    decided = replace(
        enrolment,
        state="approved" if approve else "rejected",
        decided_at=iso_timestamp(clock.now()),
        decided_by=actor,
        note=note or None,
    )
    kind = "EnrolmentApproved" if approve else "EnrolmentRejected"
    return _save(decided, kind, {"changes": enrolment.pending, "note": note}, actor, clock)


def _apply_pending(enrolment: Enrolment, actor: str, clock: Clock, change_customer: Any) -> None:
    pending = enrolment.pending
    assert enrolment.customer_id is not None
    email = pending.get("email")
    contact = PartyId("email", email) if email else None
    claimed = [PartyId(*key.split(":", 1)) for key in pending.get("identifiers", ())]
    extra = []
    owners = store.customers_by_identifier([*claimed, *([contact] if contact else [])])
    if contact is not None:
        owner = owners.get(contact)
        if owner not in (None, enrolment.customer_id):
            raise EnrolmentError("this AP address is another customer's contact")
        if owner is None:
            extra.append(store.customer_key(enrolment.customer_id, contact))
    for identifier in claimed:
        if owners.get(identifier) not in (None, enrolment.customer_id):
            raise EnrolmentError(f"{identifier.key()} is another customer's")
        if owners.get(identifier) is None:
            extra.append(store.customer_key(enrolment.customer_id, identifier))

    def apply(c: Customer) -> Customer:
        profile = dict(c.profile or {})
        if "bank_iban" in pending:
            profile["bank_iban"] = pending["bank_iban"]
        added = [i for i in (*claimed, *([contact] if contact else [])) if i not in c.identifiers]
        return replace(
            c,
            name=pending.get("name") or c.name,
            email=email or c.email,
            identifiers=(*c.identifiers, *added),
            country=pending.get("country") or c.country,
            invoice_delivery=pending.get("invoice_delivery") or c.invoice_delivery,
            profile=profile,
        )

    change_customer(
        enrolment.customer_id,
        apply,
        "ContactChanged",
        {"enrolment_id": enrolment.enrolment_id, "approved": sorted(pending), **pending},
        actor,
        clock,
        extra,
    )


# --- who finance invites ----------------------------------------------------------------------
MAX_INVITATIONS = 100


def is_contact_of(customer: Customer, address: Any) -> bool:
    """Whether ``address`` is the customer's email on file or one of their known contacts."""
    if not isinstance(address, str) or "@" not in address:
        return False
    wanted = address.strip().lower()
    if customer.email and customer.email.strip().lower() == wanted:
        return True
    contact = PartyId("email", wanted)
    return store.customers_by_identifier([contact]).get(contact) == customer.customer_id


def invitees(body: dict[str, Any]) -> tuple[list[tuple[Any, Any, str | None]], list[FieldError]]:
    """The (customer, prospect, email) to invite, from ``customers`` and ``prospects``."""
    errors: list[FieldError] = []
    wanted: list[tuple[Any, Any, str | None]] = []
    customers, prospects = body.get("customers", []), body.get("prospects", [])
    if not isinstance(customers, list) or not isinstance(prospects, list):
        return [], [FieldError("body", "customers and prospects are lists")]
    if (not customers and not prospects) or len(customers) + len(prospects) > MAX_INVITATIONS:
        errors.append(FieldError("body", f"names 1 to {MAX_INVITATIONS} customers or prospects"))
    for n, item in enumerate(customers):
        item = {"customer_id": item} if isinstance(item, str) else item
        email = item.get("email") if isinstance(item, dict) else None
        customer = store.get_customer(str(item.get("customer_id", ""))) if isinstance(item, dict) else None
        if customer is None:
            errors.append(FieldError(f"customers[{n}]", "is not a customer"))
        elif not (email or customer.email):
            errors.append(FieldError(f"customers[{n}].email", "is needed: the customer has no email on file"))
        elif email is not None and not is_contact_of(customer, email):
            # The link opens the customer's billing details: it goes only where their mail goes.
            errors.append(
                FieldError(
                    f"customers[{n}].email",
                    "is not a known contact of this customer: change their contact first",
                )
            )
        else:
            wanted.append((customer, None, email))
    for n, item in enumerate(prospects):
        name = item.get("company_name") if isinstance(item, dict) else None
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
            errors.append(FieldError(f"prospects[{n}].company_name", "must be 1 to 200 characters"))
        elif not isinstance(email, str) or "@" not in email or " " in email.strip() or len(email) > 254:
            errors.append(FieldError(f"prospects[{n}].email", "must be an email address"))
        else:
            wanted.append((None, (name.strip(), email.strip()), None))
    return wanted, errors
