"""The invoice email: sent once per invoice, to its customer, with a signed pay link.

`send_invoice_email` is what the mailer function does for each ``InvoiceIngested`` event. It
reads the invoice and its customer fresh (the event may be old or repeated), renders the email in
the customer's language, sends it as one MIME message (plain text and HTML alternatives), and
records an ``InvoiceEmailed`` audit event on the invoice together with a once-only marker.

Sending once: the marker is checked before sending, so a redelivered event finds it and sends
nothing; two deliveries racing each other are kept apart by the function's idempotency lock
(Powertools Idempotency on the invoice id), which holds while the first one sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from receivables.adapters.parameters import public_base_url
from receivables.collections.finance import change_customer
from receivables.customers.enrolment import token_for
from receivables.customers.links import LinkScope, sign_link
from receivables.customers.requirements import hold_if_incomplete, missing
from receivables.disputes.deductions import get_deduction
from receivables.documents.originals import is_original, original_location
from receivables.documents.transfer import transfer_for
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, Customer
from receivables.ledger.rules import COLLECTIBLE
from receivables.mail.delivery import DEFAULT_DELIVERY, Attachment, attachments, delivery_of, seller_from_env
from receivables.mail.einvoice import build_credit_note
from receivables.mail.emails import (
    InvoiceEmail,
    render_account_email,
    render_deduction_email,
    render_document_request_email,
    render_enrolment_email,
    render_invoice_email,
    requirement_list,
)
from receivables.mail.headers import header_text, mailbox, new_message
from receivables.payments.methods import parse_bank_accounts
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from receivables.customers.enrolment import Enrolment
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Invoice
    from receivables.mail.delivery import Attachment
    from receivables.mail.einvoice import Seller

MARKER = "invoice-email"
ACTOR = "mailer"
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Who the email is from and where its link points."""

    sender: str  # a verified SES identity: billing@example.com
    seller_name: str
    contact: str  # the address customers write to with questions (Reply-To)
    public_base_url: str  # the HTTP API as customers reach it, without a trailing slash
    link_ttl_days: int = 60
    seller: Seller | None = None  # the seller's Peppol identity, for e-invoices built here
    # Our accounts by currency (``BANK_ACCOUNTS``): the invoice email and its PDF say how to pay
    # an invoice in that currency by transfer, with its RF reference.
    bank_accounts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailSettings:
        """From the variables template.yaml sets on every function that mails customers."""
        sender = env["SENDER_EMAIL"]
        return cls(
            sender=sender,
            seller_name=env.get("SELLER_NAME") or sender,
            contact=env.get("CONTACT_EMAIL") or sender,
            public_base_url=public_base_url(env),
            link_ttl_days=int(env.get("PAY_LINK_TTL_DAYS") or 60),
            seller=seller_from_env(env),
            bank_accounts=parse_bank_accounts(env.get("BANK_ACCOUNTS")),
        )


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What happened: ``action`` is "sent", "already_sent" or "skipped" (with why)."""

    invoice_id: str
    action: str
    detail: str = ""
    message_id: str | None = None


def link_token(
    action: str, invoice: Invoice, customer: Customer, settings: MailSettings, link_key: bytes, clock: Clock
) -> str:
    """A signed, expiring token for ``action`` (``pay``, ``promise``, ``dispute``, ``portal``),
    scoped to the customer and ``invoice`` under the customer's current link generation."""
    expires = int((clock.now() + timedelta(days=settings.link_ttl_days)).timestamp())
    scope = LinkScope(action, invoice.customer_id, invoice.invoice_id, expires, customer.link_generation)
    return sign_link(scope, link_key)


def link_url(
    action: str, invoice: Invoice, customer: Customer, settings: MailSettings, link_key: bytes, clock: Clock
) -> str:
    """The link of ``invoice`` for ``action``: ``<public base>/<action>/<token>``."""
    token = link_token(action, invoice, customer, settings, link_key, clock)
    return f"{settings.public_base_url.rstrip('/')}/{action}/{token}"


def pay_url(
    invoice: Invoice, customer: Customer, settings: MailSettings, link_key: bytes, clock: Clock
) -> str:
    """The signed, expiring pay link of ``invoice``."""
    return link_url("pay", invoice, customer, settings, link_key, clock)


def account_url(
    invoice: Invoice, customer: Customer, settings: MailSettings, link_key: bytes, clock: Clock
) -> str:
    """The link to the customer's account on the portal, landing on ``invoice``:
    ``<public base>/portal/link/<token>``."""
    token = link_token("portal", invoice, customer, settings, link_key, clock)
    return f"{settings.public_base_url.rstrip('/')}/portal/link/{token}"


def build_message(
    invoice: Invoice,
    customer: Customer,
    url: str,
    settings: MailSettings,
    dispute_url: str,
    portal_url: str,
    files: Sequence[Attachment] = (),
) -> EmailMessage:
    """The invoice email as a MIME message: text first, HTML as the richer alternative, then
    the ``files`` the customer's AP wants (`receivables.mail.delivery`); with the transfer
    instructions and the invoice's RF reference where we have an account in its currency."""
    rendered = render_invoice_email(
        number=invoice.number,
        amount=invoice.balance,
        due=invoice.due_date,
        customer_name=customer.name,
        seller_name=settings.seller_name,
        contact=settings.contact,
        pay_url=url,
        language=customer.language,
        dispute_url=dispute_url,
        account_url=portal_url,
        transfer=transfer_for(invoice, settings.bank_accounts),
    )
    message = mime_message(rendered, customer, settings, invoice.invoice_id)
    for file in files:
        maintype, _, subtype = file.mime.partition("/")
        message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.name)
    return message


def mime_message(
    rendered: InvoiceEmail, customer: Customer, settings: MailSettings, invoice_id: str, kind: str = "invoice"
) -> EmailMessage:
    """A rendered email as one MIME message to ``customer``, from the seller; ``kind`` (the
    invoice email, or a dunning step's action and level) goes in a header for mail filters."""
    assert customer.email is not None
    message = new_message()
    message["Subject"] = header_text(rendered.subject)
    message["From"] = mailbox(settings.seller_name, settings.sender)
    message["To"] = mailbox(customer.name, customer.email)
    message["Reply-To"] = settings.contact
    message["Content-Language"] = rendered.locale
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["X-Receivables-Invoice"] = invoice_id
    message["X-Receivables-Mail"] = kind
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def send_invoice_email(
    invoice_id: str,
    settings: MailSettings,
    link_key: bytes,
    send_raw: Callable[[str, bytes], str],
    clock: Clock,
    read_object: Callable[[str, str], bytes | None] | None = None,
    put_print: Callable[[str, bytes, str], None] | None = None,
) -> MailOutcome:
    """Email invoice ``invoice_id`` to its customer unless it was emailed already, is settled,
    or its customer has no address (then the customer stays flagged for contact details); with
    the files their AP wants attached (``read_object`` reads an e-invoice as it was received).
    A customer on paper (`receivables.mail.delivery.delivery_of`) has it queued for print
    through ``put_print`` instead (`queue_for_print`)."""

    invoice = store.get_invoice(invoice_id)
    if invoice is None:
        return MailOutcome(invoice_id, "skipped", "no such invoice")
    if _already_sent(invoice_id):
        return MailOutcome(invoice_id, "already_sent")
    if invoice.status not in COLLECTIBLE or invoice.balance.minor <= 0:
        return MailOutcome(invoice_id, "skipped", f"the invoice is {invoice.status}: nothing to pay")
    customer = store.get_customer(invoice.customer_id)
    on_paper = customer is not None and delivery_of(customer) == "paper"
    if customer is None or not (customer.email or on_paper):
        return MailOutcome(invoice_id, "skipped", "the customer has no email address")
    if on_paper and not customer.postal_address:
        return MailOutcome(invoice_id, "skipped", "the customer takes paper but has no postal address")

    # Only an invoice that lacks something is read again (and held, once, or given the
    # customer's standing PO): the others are sent as they are.
    if missing(invoice, customer) or invoice.dunning.awaiting:
        lacking = hold_if_incomplete(invoice_id, clock)
        if lacking:
            return MailOutcome(invoice_id, "held", f"the customer's AP needs {', '.join(lacking)}")
        fresh = store.get_invoice(invoice_id)
        if fresh is None:
            return MailOutcome(invoice_id, "skipped", "no such invoice")
        invoice = fresh
    files = attachments(
        invoice, customer, settings.seller_name, settings.seller, read_object, settings.bank_accounts
    )
    if on_paper:
        if put_print is None:
            return MailOutcome(invoice_id, "skipped", "no print queue is configured")
        return queue_for_print(invoice, customer, files, put_print, clock)
    assert customer.email is not None
    message = build_message(
        invoice,
        customer,
        pay_url(invoice, customer, settings, link_key, clock),
        settings,
        link_url("dispute", invoice, customer, settings, link_key, clock),
        account_url(invoice, customer, settings, link_key, clock),
        files,
    )
    message_id = send_raw(customer.email, message.as_bytes())
    delivered = {
        "channel": "email",
        "delivery": customer.invoice_delivery or DEFAULT_DELIVERY,
        "attachments": [
            {"name": f.name, "type": f.mime, "origin": f.origin, "bytes": len(f.data)} for f in files
        ],
    }
    _record_sent(invoice, customer, message_id, message["Subject"], clock, delivered)
    return MailOutcome(invoice_id, "sent", customer.email, message_id)


PRINT_QUEUE = "print/queue/"


def queue_for_print(
    invoice: Invoice,
    customer: Customer,
    files: Sequence[Attachment],
    put_print: Callable[[str, bytes, str], None],
    clock: Clock,
) -> MailOutcome:
    """Queue the invoice's letter for print and post: each file under
    ``print/queue/<day>/<invoice id>/``, then a ``manifest.json`` (the address lines, the files in
    print order) that tells the print house the job is complete; recorded once, like an email
    (``InvoiceQueuedForPrint``). A retry writes the same keys again, so nothing is printed twice
    from one job."""
    day = clock.now().date().isoformat()
    folder = f"{PRINT_QUEUE}{day}/{invoice.invoice_id}/"
    for file in files:
        put_print(folder + file.name, file.data, file.mime)
    manifest = {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "customer_id": customer.customer_id,
        "address": list(customer.postal_address),
        "files": [f.name for f in files],
    }
    put_print(folder + "manifest.json", json.dumps(manifest, indent=2).encode(), "application/json")
    delivered = {
        "channel": "paper",
        "delivery": "paper",
        "print_job": folder,
        "address": list(customer.postal_address),
        "attachments": [
            {"name": f.name, "type": f.mime, "origin": f.origin, "bytes": len(f.data)} for f in files
        ],
    }
    _record_sent(invoice, customer, f"print:{folder}", f"Invoice {invoice.number}", clock, delivered)
    return MailOutcome(invoice.invoice_id, "queued_for_print", folder)


def _already_sent(invoice_id: str) -> bool:
    return store.marker_exists(store.invoice_pk(invoice_id), MARKER)


def _record_sent(
    invoice: Invoice,
    customer: Customer,
    message_id: str,
    subject: str,
    clock: Clock,
    delivered: dict[str, Any] | None = None,
) -> None:
    kind = "InvoiceQueuedForPrint" if (delivered or {}).get("channel") == "paper" else "InvoiceEmailed"
    """The audit event and the once-only marker, in one transaction; retried on a concurrent
    change of the invoice (a payment may land while the email goes out)."""
    for _ in range(MAX_ATTEMPTS):
        now = iso_timestamp(clock.now())
        event = AuditEvent(
            invoice.invoice_id,
            invoice.version + 1,
            kind,
            now,
            ACTOR,
            {
                "invoice_id": invoice.invoice_id,
                "number": invoice.number,
                "customer_id": customer.customer_id,
                "to": customer.email,
                "subject": subject,
                "message_id": message_id,
                "language": customer.language,
                **(delivered or {}),
            },
        )
        changed = replace(invoice, version=invoice.version + 1, updated_at=now)
        try:
            store.apply_changes(
                [(changed, event)], writes=[store.marker(store.invoice_pk(invoice.invoice_id), MARKER, now)]
            )
            return
        except store.ConcurrentChangeError:
            fresh = store.get_invoice(invoice.invoice_id)
            if fresh is None or _already_sent(invoice.invoice_id):
                return
            invoice = fresh
    raise store.StoreError(f"invoice {invoice.number} was emailed but its record kept changing")


def send_account_link(
    customer: Customer,
    address: str,
    settings: MailSettings,
    link_key: bytes,
    send_raw: Callable[[str, bytes], str],
    clock: Clock,
) -> str:
    """Email ``address`` (a known contact of ``customer``) a fresh link to their account on the
    portal, under the customer's current link generation, and record it (``PortalLinkSent``);
    returns the message id."""

    expires = int((clock.now() + timedelta(days=settings.link_ttl_days)).timestamp())
    token = sign_link(
        LinkScope("portal", customer.customer_id, None, expires, customer.link_generation), link_key
    )
    rendered = render_account_email(
        customer_name=customer.name,
        seller_name=settings.seller_name,
        contact=settings.contact,
        account_url=f"{settings.public_base_url.rstrip('/')}/portal/link/{token}",
        days=settings.link_ttl_days,
        language=customer.language,
    )
    message = mime_message(rendered, replace(customer, email=address), settings, "", "account_link")
    message_id = send_raw(address, message.as_bytes())

    change_customer(
        customer.customer_id,
        lambda c: c,
        "PortalLinkSent",
        {"customer_id": customer.customer_id, "to": address, "message_id": message_id},
        ACTOR,
        clock,
    )
    return message_id


def _mark_sent(pk: str, name: str, clock: Clock) -> bool:
    """Record that mail ``name`` about aggregate ``pk`` went out (a once-only marker beside it);
    False if a concurrent delivery of the same event recorded it first."""
    try:
        store.apply_changes([], writes=[store.marker(pk, name, iso_timestamp(clock.now()))])
    except store.ConcurrentChangeError:
        return False
    return True


def send_payment_failed_notice(
    detail: dict[str, Any], settings: MailSettings, send_raw: Callable[[str, bytes], str], clock: Clock
) -> MailOutcome:
    """Tell finance (the team's address, ``CONTACT_EMAIL``) that a debit or an automatic charge
    failed, from the ``PaymentFailed`` event's detail: which invoice, customer, method and why,
    and that dunning resumes. Once per event (a marker beside the invoice)."""
    invoice_id = str(detail.get("invoice_id") or "")
    event_id = str(detail.get("event_id") or "")
    invoice = store.get_invoice(invoice_id) if invoice_id else None
    if invoice is None or not event_id:
        return MailOutcome(invoice_id, "skipped", "no such invoice")
    name = f"NOTICE#{event_id}"
    if store.marker_exists(store.invoice_pk(invoice_id), name):
        return MailOutcome(invoice_id, "already_sent")
    customer = store.get_customer(invoice.customer_id)
    who = (customer.name if customer else None) or invoice.customer_id
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = settings.contact
    message["Subject"] = header_text(f"Payment failed: invoice {invoice.number} ({who})")
    message.set_content(
        "\n".join(
            [
                f"A payment of invoice {invoice.number} for {who} failed.",
                "",
                f"Method:   {detail.get('method')}",
                f"Payment:  {detail.get('payment_intent')}",
                f"Reason:   {detail.get('reason')}",
                f"Balance:  {invoice.balance}",
                f"Due:      {invoice.due_date.isoformat()}",
                "",
                "The invoice is owed again and dunning resumes where it stood.",
                f"Invoice:  {settings.public_base_url.rstrip('/')}/invoices/{invoice.invoice_id}",
            ]
        )
    )
    message_id = send_raw(settings.contact, message.as_bytes())
    if not _mark_sent(store.invoice_pk(invoice_id), name, clock):
        return MailOutcome(invoice_id, "already_sent")
    return MailOutcome(invoice_id, "sent", settings.contact, message_id)


def send_documentation_request(
    detail: dict[str, Any],
    settings: MailSettings,
    link_key: bytes,
    send_raw: Callable[[str, bytes], str],
    clock: Clock,
) -> MailOutcome:
    """An ``InvoiceHeld`` or ``DocumentsReminded`` event: ask for what the invoice lacks. The
    account owner named on the customer (else finance's address) is told which invoice waits
    for what; the customer's AP is asked through the portal where the customer is configured for
    it (`Customer.ask_customer_for_documents`). Once per event (a marker beside the invoice)."""

    invoice_id = str(detail.get("invoice_id") or "")
    event_id = str(detail.get("event_id") or "")
    invoice = store.get_invoice(invoice_id) if invoice_id else None
    if invoice is None or not event_id:
        return MailOutcome(invoice_id, "skipped", "no such invoice")
    lacking = invoice.dunning.awaiting
    if not lacking:
        return MailOutcome(invoice_id, "skipped", "the invoice is complete")
    name = f"DOCREQ#{event_id}"
    if store.marker_exists(store.invoice_pk(invoice_id), name):
        return MailOutcome(invoice_id, "already_sent")
    customer = store.get_customer(invoice.customer_id)
    who = (customer.name if customer else None) or invoice.customer_id
    owner = (customer.account_owner if customer else None) or settings.contact
    reminder = int(detail.get("reminder") or 0)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = owner
    message["Subject"] = header_text(
        f"{'Reminder: i' if reminder else 'I'}nvoice {invoice.number} ({who}) waits for "
        f"{requirement_list(lacking, 'en').replace('your ', 'their ')}"
    )
    asked = customer is not None and customer.ask_customer_for_documents and bool(customer.email)
    message.set_content(
        "\n".join(
            [
                f"Invoice {invoice.number} for {who} is held: their accounts-payable desk needs "
                f"{', '.join(lacking)} on every invoice, and this one lacks it.",
                "",
                f"Amount:   {invoice.balance}",
                f"Due:      {invoice.due_date.isoformat()}",
                f"Held:     {invoice.dunning.awaiting_since}",
                f"Reminder: {reminder}" if reminder else "First request.",
                "",
                "We asked the customer's AP through the portal."
                if asked
                else "Please obtain it from the customer.",
                "The invoice is sent as soon as what it lacks is given",
                "(on the portal, through the API, or in a new version of the invoice).",
                f"Invoice:  {settings.public_base_url.rstrip('/')}/invoices/{invoice.invoice_id}",
            ]
        )
    )
    message_id = send_raw(owner, message.as_bytes())
    if asked and customer is not None and customer.email:
        rendered = render_document_request_email(
            number=invoice.number,
            amount=invoice.balance,
            missing=lacking,
            customer_name=customer.name,
            seller_name=settings.seller_name,
            contact=settings.contact,
            invoice_url=account_url(invoice, customer, settings, link_key, clock),
            language=customer.language,
        )
        request = mime_message(rendered, customer, settings, invoice_id, "documentation_request")
        send_raw(customer.email, request.as_bytes())
    if not _mark_sent(store.invoice_pk(invoice_id), name, clock):
        return MailOutcome(invoice_id, "already_sent")
    return MailOutcome(invoice_id, "sent", owner, message_id)


def send_enrolment_invitation(
    enrolment: Enrolment, settings: MailSettings, link_key: bytes, send_raw: Callable[[str, bytes], str]
) -> str:
    """Email the enrolment's invitation (or a reminder: the same words, a fresh link) to the
    address it was sent to, in the enrolment's language; the message id."""
    from datetime import UTC, datetime

    url = f"{settings.public_base_url.rstrip('/')}/enrol/{token_for(enrolment, link_key)}"
    rendered = render_enrolment_email(
        customer_name=enrolment.company_name,
        seller_name=settings.seller_name,
        contact=settings.contact,
        form_url=url,
        expires=datetime.fromtimestamp(enrolment.expires, UTC).date(),
        language=enrolment.language,
    )
    to = Customer(enrolment.customer_id or "", enrolment.company_name, (), enrolment.email)
    message = mime_message(rendered, to, settings, "", "enrolment_invitation")
    return send_raw(enrolment.email, message.as_bytes())


CREDIT_NOTE_MARKER = "EMAILED"


def send_credit_note(
    detail: dict[str, Any],
    settings: MailSettings,
    send_raw: Callable[[str, bytes], str],
    clock: Clock,
    read_object: Callable[[str, str], bytes | None] | None = None,
) -> MailOutcome:
    """A ``CreditNoteIngested`` event: email the credit note, as a Peppol BIS Billing 3.0 UBL
    CreditNote (as received when it came as one, else built from the ledger with the seller's
    Peppol identity), to a customer whose AP takes e-documents (``invoice_delivery``
    ``email_einvoice``); the others see it on their statement and the portal. Once per credit
    note (a marker and ``CreditNoteEmailed``, in one transaction)."""

    credit_note_id = str(detail.get("credit_note_id") or "")
    note = store.get_credit_note(credit_note_id) if credit_note_id else None
    if note is None:
        return MailOutcome(credit_note_id, "skipped", "no such credit note")
    customer = store.get_customer(note.customer_id)
    if customer is None or not customer.email or customer.invoice_delivery != "email_einvoice":
        return MailOutcome(credit_note_id, "skipped", "the customer takes no e-documents by email")
    pk = store.credit_note_pk(credit_note_id)
    if store.marker_exists(pk, CREDIT_NOTE_MARKER):
        return MailOutcome(credit_note_id, "already_sent")
    location = original_location(note)
    data = read_object(*location) if location is not None and read_object is not None else None
    origin = "received" if data is not None and is_original(data, note) else "built"
    if origin == "built":
        if settings.seller is None:
            return MailOutcome(credit_note_id, "skipped", "the seller's Peppol identity is not configured")
        invoice = store.get_invoice(note.applied_invoice_id) if note.applied_invoice_id else None
        data = build_credit_note(note, customer, settings.seller, invoice)
    assert data is not None
    message = new_message()
    message["Subject"] = header_text(f"Credit note {note.number} from {settings.seller_name}: {note.amount}")
    message["From"] = mailbox(settings.seller_name, settings.sender)
    message["To"] = mailbox(customer.name, customer.email)
    message["Reply-To"] = settings.contact
    message["X-Receivables-Mail"] = "credit_note"
    reference = f" on invoice {note.invoice_reference}" if note.invoice_reference else ""
    message.set_content(
        f"Hello {customer.name or ''},\n\n"
        f"Please find credit note {note.number} for {note.amount}{reference}, "
        "as a Peppol e-invoice (UBL).\n\n"
        f"Questions? Write to {settings.contact}.\n\n{settings.seller_name}"
    )
    name = (
        "credit-note-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in note.number)[:80] + ".xml"
    )
    message.add_attachment(data, maintype="application", subtype="xml", filename=name)
    message_id = send_raw(customer.email, message.as_bytes())
    delivered = {
        "credit_note_id": credit_note_id,
        "customer_id": note.customer_id,
        "to": customer.email,
        "message_id": message_id,
        "channel": "email",
        "attachments": [{"name": name, "type": "application/xml", "origin": origin, "bytes": len(data)}],
    }
    for _ in range(MAX_ATTEMPTS):  # the credit may be applied to an invoice meanwhile
        now = iso_timestamp(clock.now())
        event = AuditEvent(credit_note_id, note.version + 1, "CreditNoteEmailed", now, ACTOR, delivered)
        try:
            store.apply_changes(
                [(replace(note, version=note.version + 1), event)],
                writes=[store.marker(pk, CREDIT_NOTE_MARKER, now)],
            )
            return MailOutcome(credit_note_id, "sent", customer.email, message_id)
        except store.ConcurrentChangeError:
            fresh = store.get_credit_note(credit_note_id)
            if fresh is None or store.marker_exists(pk, CREDIT_NOTE_MARKER):
                return MailOutcome(credit_note_id, "already_sent")
            note = fresh
    raise store.StoreError(f"credit note {note.number} was emailed but its record kept changing")


def send_credit_notice(
    detail: dict[str, Any], settings: MailSettings, send_raw: Callable[[str, bytes], str], clock: Clock
) -> MailOutcome:
    """A ``CreditThresholdCrossed`` (or ``CreditInsuranceExceeded``) event: tell the customer's
    account owner (else finance's address) that their exposure reached a threshold of the credit
    limit, and whether they are now on credit hold (or that it is over the insured amount). Once
    per event (a marker beside the customer)."""
    customer_id = str(detail.get("customer_id") or "")
    event_id = str(detail.get("event_id") or "")
    customer = store.get_customer(customer_id) if customer_id else None
    if customer is None or not event_id:
        return MailOutcome(customer_id, "skipped", "no such customer")
    pk = store.customer_pk(customer_id)
    name = f"CREDIT#{event_id}"
    if store.marker_exists(pk, name):
        return MailOutcome(customer_id, "already_sent")
    seen = detail.get("exposure") or {}
    owner = customer.account_owner or settings.contact
    insurance = "over_insured" in detail
    what = "is over the insured amount" if insurance else f"reached {detail.get('level')} % of their limit"
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = owner
    message["Subject"] = header_text(f"Credit: {customer.name or customer_id} {what}")
    message.set_content(
        "\n".join(
            [
                f"{customer.name or customer_id}'s exposure {what}"
                + (": the part above the cover is not insured." if insurance else "."),
                "",
                f"Exposure:   {seen.get('total')} {seen.get('currency')}"
                f" (receivables {seen.get('receivables')}, open orders {seen.get('open_orders')})",
                f"Limit:      {seen.get('limit')} {seen.get('currency')}",
                f"Overdue:    {seen.get('overdue')} (oldest {seen.get('oldest_overdue_days')} days)",
                f"Insured:    {seen.get('insured') or 'no cover in force'}",
                f"Credit hold: {'yes' if detail.get('credit_hold') else 'no'}",
                "",
                f"Customer:   {settings.public_base_url.rstrip('/')}/customers/{customer_id}",
            ]
        )
    )
    return _sent_once(customer_id, owner, send_raw(owner, message.as_bytes()), pk, name, clock)


def send_deduction_notice(
    detail: dict[str, Any], settings: MailSettings, send_raw: Callable[[str, bytes], str], clock: Clock
) -> MailOutcome:
    """A ``DeductionRouted`` event: tell the deduction's owner (else the customer's account
    owner, else finance's address) what was deducted and why, the evidence to gather and the
    dispute to decide it on. Once per deduction (a marker beside it)."""

    deduction_id = str(detail.get("deduction_id") or "")
    found = get_deduction(deduction_id) if deduction_id else None
    if found is None:
        return MailOutcome(deduction_id, "skipped", "no such deduction")
    deduction = found[0]
    pk, name = store.deduction_pk(deduction_id), "owner-told"
    if store.marker_exists(pk, name):
        return MailOutcome(deduction_id, "already_sent")
    customer = store.get_customer(deduction["customer_id"])
    owner = deduction.get("owner") or (customer.account_owner if customer else None) or settings.contact
    who = (customer.name if customer else None) or deduction["customer_id"]
    currency = deduction["currency"]
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = owner
    message["Subject"] = header_text(
        f"Deduction: {who} paid invoice {deduction['number']} {deduction['open']} {currency} short"
    )
    parts = [
        f"  {p['reason']:<24}{p['amount']:>12} {currency}  {p['validity']}"
        + (f" (code {p['code']})" if p.get("code") else "")
        + (f": {p['check']}" if p.get("check") else "")
        for p in deduction["parts"]
    ]
    evidence = sorted({e for p in deduction["parts"] for e in p.get("evidence_needed", [])})
    base = settings.public_base_url.rstrip("/")
    message.set_content(
        "\n".join(
            [
                f"{who} paid invoice {deduction['number']} short by {deduction['amount']} {currency}.",
                f"{deduction['open']} {currency} waits for your decision.",
                "",
                *parts,
                "",
                f"Evidence to gather: {', '.join(e.replace('_', ' ') for e in evidence) or 'none required'}",
                f"Decide it:  {base}/disputes/{deduction.get('dispute_id')}",
                f"Deduction:  {base}/deductions/{deduction_id}",
            ]
        )
    )
    return _sent_once(deduction_id, owner, send_raw(owner, message.as_bytes()), pk, name, clock)


def send_deduction_refusal(
    detail: dict[str, Any],
    settings: MailSettings,
    link_key: bytes,
    send_raw: Callable[[str, bytes], str],
    clock: Clock,
) -> MailOutcome:
    """A ``DeductionTaken`` event whose checks refused part of the deduction (a discount taken
    late, a pricing claim the price list does not bear out): tell the customer, in their
    language, what was accepted, what was not and why, with a link to pay the balance. Once per
    deduction (a marker beside it); nothing when every part was accepted or waits for its owner
    (who decides, and the dispute's outcome email tells the customer)."""

    deduction_id = str(detail.get("deduction_id") or "")
    found = get_deduction(deduction_id) if deduction_id else None
    if found is None:
        return MailOutcome(deduction_id, "skipped", "no such deduction")
    deduction = found[0]
    currency = deduction["currency"]
    if Money.parse(deduction["invalid"], currency).minor <= 0:
        return MailOutcome(deduction_id, "skipped", "nothing was refused")
    pk, name = store.deduction_pk(deduction_id), "customer-told"
    if store.marker_exists(pk, name):
        return MailOutcome(deduction_id, "already_sent")
    invoice = store.get_invoice(deduction["invoice_id"])
    customer = store.get_customer(deduction["customer_id"])
    if invoice is None or customer is None or not customer.email:
        return MailOutcome(deduction_id, "skipped", "no email address")
    rendered = render_deduction_email(
        number=deduction["number"],
        currency=currency,
        short=deduction["amount"],
        invalid=deduction["invalid"],
        parts=deduction["parts"],
        customer_name=customer.name,
        seller_name=settings.seller_name,
        contact=settings.contact,
        pay_url=account_url(invoice, customer, settings, link_key, clock),
        language=customer.language,
    )
    message = mime_message(rendered, customer, settings, invoice.invoice_id, "deduction")
    return _sent_once(
        deduction_id, customer.email, send_raw(customer.email, message.as_bytes()), pk, name, clock
    )


def _sent_once(what: str, to: str, message_id: str, pk: str, name: str, clock: Clock) -> MailOutcome:
    """The outcome of the email just sent about ``what``, marked sent beside ``pk`` so that a
    redelivered event does not send it again; "already_sent" when another delivery marked it."""
    if not _mark_sent(pk, name, clock):
        return MailOutcome(what, "already_sent")
    return MailOutcome(what, "sent", to, message_id)
