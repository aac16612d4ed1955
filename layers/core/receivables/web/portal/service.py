"""What the portal's routes do, without the web framework: each takes the request's parts and
returns an `Answer` (status, headers, body).

Access: a portal link (``/portal/link/<token>``, in every invoice email) is verified, checked
against the customer's link generation, and opens a session (`receivables.web.portal.session`),
recorded server-side (`receivables.storage.sessions`); every other route reads the
session from its cookie and checks it against its record and the customer again, so revoked
links and signing out end their sessions at once. Each route reads the data of the session's
customer only: nothing in a request names a customer, an invoice or a payment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from receivables.adapters.stripe_api import StripeRefusedError
from receivables.collections.finance import change_customer
from receivables.customers.links import LinkError, LinkScope, sign_link, verify_link
from receivables.customers.requirements import REFERENCES, RequirementError, provide_reference
from receivables.documents.originals import (
    SAFE_TYPES,
    embedded,
    invoice_image,
    is_original,
    original_location,
)
from receivables.documents.pdf import invoice_pdf, statement_pdf
from receivables.documents.statement import build_statement
from receivables.documents.transfer import payment_reference, transfer_for
from receivables.documents.words import LANGUAGES, WORDS, language_of
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.model import Invoice, PartyId
from receivables.ledger.rules import COLLECTIBLE, OPEN_RECEIVABLE
from receivables.payments.autopay import AutopayError, confirm_setup, start_setup, turn_off
from receivables.payments.methods import methods_for, stripe_methods
from receivables.storage import store
from receivables.web.checkout import several_checkout_params, several_idempotency_key
from receivables.web.portal.account import account, statement_csv
from receivables.web.portal.pages import PORTAL_STYLE, render
from receivables.web.portal.paying import apply_credit, autopay_limit, part_to_pay, remember_method
from receivables.web.portal.requests import keep_upload, upload_forms
from receivables.web.portal.session import (
    Session,
    SessionRefusedError,
    check_csrf,
    check_generation,
    clear_cookie,
    csrf_token,
    open_session,
    session_from_cookies,
    set_cookie,
)
from receivables.web.security_headers import security_headers

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from receivables.adapters.attachments import Attachments
    from receivables.adapters.stripe_api import StripeGateway
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer

PORTAL_ACTION = "portal"
ACTOR_PORTAL = "customer:portal"
FORM_LINK_SECONDS = 3600
PER_ADDRESS_PER_HOUR = 3
PER_CLIENT_PER_HOUR = 20
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[a-z]{2,}")
LONGEST_STATEMENT = timedelta(days=3 * 366)
STATUS_OF_DENIAL = {"no_session": 401, "expired": 401, "revoked": 410, "invalid": 400, "csrf": 403}


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: the web framework only copies it out."""

    status: int
    body: str | bytes  # bytes: a document (a PDF)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def html(cls, status: int, body: str, **headers: str) -> Answer:
        """A page; never cached, never framed, never leaking its address as a Referer, its
        forms posting to the portal only (`posting_to` adds an upload's origin)."""
        return cls(
            status,
            body,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-store",
                **security_headers((PORTAL_STYLE,)),
                **headers,
            },
        )

    def posting_to(self, targets: Iterable[str]) -> Answer:
        """This page, its forms allowed to post to the origins of ``targets`` too (S3's, for a
        presigned upload)."""
        policy = security_headers((PORTAL_STYLE,), targets)["Content-Security-Policy"]
        return replace(self, headers={**self.headers, "Content-Security-Policy": policy})

    @classmethod
    def redirect(cls, location: str, **headers: str) -> Answer:
        """A 303 to ``location`` (after a link or a form)."""
        return cls(303, "", {"Location": location, "Cache-Control": "no-store", **headers})


@dataclass(frozen=True, slots=True)
class Portal:
    """What the portal works with: the link signing key, the clock, whether it is on HTTPS, and
    Stripe Checkout."""

    link_key: bytes
    clock: Clock
    secure: bool = True
    base_url: str = ""  # the public address of the portal, for Checkout to come back to
    create_session: Callable[[dict[str, Any], str], dict[str, Any]] | None = None  # Stripe Checkout
    # Mails a fresh link to a known contact: (customer, address) -> message id.
    send_link: Callable[[Customer, str], str] | None = None
    seller_name: str = ""  # on the PDFs
    # Sessions and rate limits run on the wall clock: the same as ``clock`` in AWS; on the local
    # runtime's accelerated clock a 30-minute session would last a fiftieth of a second.
    wall: Clock | None = None
    bank_accounts: dict[str, str] = field(default_factory=dict)  # currency -> our account, for transfers
    gateway: StripeGateway | None = None  # Stripe, for autopay (setup sessions, Customers)
    # Reads an object of the invoice bucket (bucket, key) -> bytes, or None if there is none.
    read_object: Callable[[str, str], bytes | None] | None = None
    files: Attachments | None = None  # presigned uploads of the documents a held invoice lacks

    @property
    def _wall(self) -> Clock:
        return self.wall or self.clock

    # --- access ------------------------------------------------------------------------------
    def open_link(self, token: str) -> Answer:
        """``GET /portal/link/<token>``: a session for the link's customer, then their account."""
        now = self.clock.now()
        try:
            link = verify_link(token, self.link_key, now, action=PORTAL_ACTION)
        except LinkError as exc:
            return self.denied(
                SessionRefusedError("expired" if exc.reason == "expired" else "invalid", str(exc))
            )
        customer = store.get_customer(link.customer_id)
        if customer is None:
            return self.denied(SessionRefusedError("invalid", "no such customer"))
        try:
            check_generation(link.generation, customer.link_generation)
        except SessionRefusedError as exc:
            return self.denied(exc, customer)
        _record_use(customer, link.invoice_id, self.clock)
        session = open_session(link, self.link_key, self._wall.now())
        store.record_session(session.session_id, session.customer_id, session.expires, self._at())
        landing = f"#inv-{link.invoice_id}" if link.invoice_id else ""
        return Answer.redirect(f"/portal{landing}", **{"Set-Cookie": set_cookie(session, secure=self.secure)})

    def session(self, cookies: str | None) -> tuple[Session, Customer]:
        """The request's session and its customer, or `SessionRefusedError`."""
        session = session_from_cookies(cookies, self.link_key, self._wall.now())
        if not store.session_is_open(session.session_id, session.customer_id):  # signed out
            raise SessionRefusedError("expired", "your session has ended: open the link in your email again")
        customer = store.get_customer(session.customer_id)
        if customer is None:
            raise SessionRefusedError("invalid", "no such customer")
        check_generation(session.generation, customer.link_generation)
        return session, customer

    def _at(self) -> str:

        return iso_timestamp(self._wall.now())

    def denied(self, exc: SessionRefusedError, customer: Customer | None = None) -> Answer:
        """The page that says why there is no access (and how to get it)."""
        language = language_of(customer.language if customer else None)
        body = _message(language, "denied_title", exc.reason)
        headers = (
            {"Set-Cookie": clear_cookie(secure=self.secure)} if exc.reason in ("revoked", "expired") else {}
        )
        return Answer.html(STATUS_OF_DENIAL.get(exc.reason, 403), body, **headers)

    def start(self, language: str | None = None) -> Answer:
        """``GET /portal/start``: ask for a fresh link by entering an email address."""
        chosen = language_of(language)
        return Answer.html(
            200,
            render(
                "start.html",
                chosen,
                title=_words(chosen, "account"),
                sent=False,
                session_forms=False,
                csrf="",
            ),
        )

    def request_link(self, form: bytes, client: str) -> Answer:
        """``POST /portal/start``: mail a fresh link if the address is a known contact.

        The answer is the same whether or not the address is known (no account enumeration).
        Requests are limited per address (`PER_ADDRESS_PER_HOUR`, counted whatever the answer)
        and per client (`PER_CLIENT_PER_HOUR`: over it, a 429)."""
        fields = _form(form)
        language = language_of(fields.get("language"))
        address = " ".join(fields.get("email", "").split()).lower()
        now = self._wall.now()
        window, expires = now.strftime("%Y-%m-%dT%H"), int(now.timestamp()) + 2 * 3600
        if not store.within_rate("client#" + _digest(client), window, PER_CLIENT_PER_HOUR, expires):
            return Answer.html(429, _message(language, "account", "slow_down"), **{"Retry-After": "3600"})
        if EMAIL.fullmatch(address) and store.within_rate(
            "email#" + _digest(address), window, PER_ADDRESS_PER_HOUR, expires
        ):
            customer = known_contact(address)
            if customer is not None and self.send_link is not None:
                self.send_link(customer, address)
        body = render(
            "start.html", language, title=_words(language, "account"), sent=True, session_forms=False, csrf=""
        )
        return Answer.html(200, body)

    # --- pages -------------------------------------------------------------------------------
    def home(self, cookies: str | None, query: dict[str, str] | None = None) -> Answer:
        """``GET /portal``: open invoices (to tick and pay), credits, recent payments, disputes
        and promises; ``?paid=1`` when Checkout sends the payer back."""
        try:
            session, customer = self.session(cookies)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        today = self.clock.now().date()
        body = render(
            "home.html",
            language,
            title=f"{_words(language, 'account')}: {customer.name or ''}".rstrip(": "),
            csrf=csrf_token(session, self.link_key),
            session_forms=True,
            statement_from=today.replace(day=1).isoformat(),
            statement_to=today.isoformat(),
            paid=(query or {}).get("paid") in ("1", "credit"),
            partial_payments=customer.partial_payments,
            autopay=customer.autopay,
            autopay_offered=self.create_session is not None,
            **account(customer, today, self.bank_accounts),
        )
        return Answer.html(200, body)

    def statement(self, cookies: str | None, query: dict[str, str]) -> Answer:
        """``GET /portal/statement?from=&to=[&format=csv]``: the statement for a date range."""
        try:
            session, customer = self.session(cookies)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        try:
            first, last = date.fromisoformat(query.get("from", "")), date.fromisoformat(query.get("to", ""))
        except ValueError:
            first = last = date.max
        if first == date.max or first > last or last - first > LONGEST_STATEMENT:
            body = _message(language, "statement", "bad_range", csrf_token(session, self.link_key))
            return Answer.html(400, body)
        statements = build_statement(
            store.customer_documents(customer.customer_id),
            store.customer_payments(customer.customer_id),
            first,
            last,
        )
        if query.get("format") == "pdf":
            name = f"statement-{first.isoformat()}-{last.isoformat()}.pdf"
            document = statement_pdf(statements, customer, first, last, self.seller_name, language)
            return _pdf(document, name)
        if query.get("format") == "csv":
            name = f"statement-{first.isoformat()}-{last.isoformat()}.csv"
            return Answer(
                200,
                statement_csv(statements),
                {
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Cache-Control": "no-store",
                },
            )
        body = render(
            "statement.html",
            language,
            title=_words(language, "statement"),
            csrf=csrf_token(session, self.link_key),
            session_forms=True,
            statements=statements,
            first=first.isoformat(),
            last=last.isoformat(),
            first_day=first,
            last_day=last,
        )
        return Answer.html(200, body)

    def _own_invoice(
        self, cookies: str | None, invoice_id: str
    ) -> tuple[Session, Customer, Invoice] | Answer:
        """The session's customer's invoice ``invoice_id``; else the answer: the session's
        denial, or a 404 that says nothing more (another customer's invoice, or none)."""
        try:
            session, customer = self.session(cookies)
        except SessionRefusedError as exc:
            return self.denied(exc)
        invoice = (
            store.get_invoice(invoice_id) if invoice_id.startswith("inv_") and len(invoice_id) < 100 else None
        )
        if invoice is None or invoice.customer_id != customer.customer_id:
            language = language_of(customer.language)
            return Answer.html(404, _message(language, "invoice", "not_found"))
        return session, customer, invoice

    def _original(self, invoice: Invoice) -> bytes | None:
        """The e-invoice file the invoice was made from, if it was one and is still that file."""

        location = original_location(invoice)
        if location is None or self.read_object is None:
            return None
        data = self.read_object(*location)
        return data if data is not None and is_original(data, invoice) else None

    def invoice_page(self, cookies: str | None, invoice_id: str, notice: str = "") -> Answer:
        """``GET /portal/invoices/<id>``: the invoice, how to pay it by bank transfer (our
        account and its RF reference, while it is payable and we have an account in its
        currency), its downloads (the PDF, the e-invoice as received and the files embedded in
        it), and the dispute and promise-to-pay forms."""

        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        session, customer, invoice = own
        original = self._original(invoice)
        language = language_of(customer.language)
        uploads = upload_forms(invoice, self.files, self.base_url)
        body = render(
            "invoice.html",
            language,
            title=f"{_words(language, 'invoice')} {invoice.number}",
            invoice=invoice,
            transfer=transfer_for(invoice, self.bank_accounts) if _payable(invoice) else None,
            original=original is not None,
            attachments=embedded(original) if original is not None else [],
            dispute_url=self._form_link("dispute", invoice, customer)
            if invoice.status in OPEN_RECEIVABLE
            else None,
            promise_url=self._form_link("promise", invoice, customer)
            if invoice.status in COLLECTIBLE
            else None,
            csrf=csrf_token(session, self.link_key),
            session_forms=True,
            uploads=uploads,
            notice=_words(language, notice) if notice else "",
            notice_ok=notice == "upload_received",
        )
        return Answer.html(200, body).posting_to(u.url for u in uploads)

    def _form_link(self, action: str, invoice: Invoice, customer: Customer) -> str:
        """The dispute or promise form of ``invoice``: its signed link, made for this session's
        customer under their link generation, valid for an hour."""
        expires = int(self.clock.now().timestamp()) + FORM_LINK_SECONDS
        scope = LinkScope(action, customer.customer_id, invoice.invoice_id, expires, customer.link_generation)
        return f"/{action}/{sign_link(scope, self.link_key)}"

    def give_reference(self, cookies: str | None, invoice_id: str, form: bytes) -> Answer:
        """``POST /portal/invoices/<id>/po``: the PO number or contract reference the customer's
        AP needs on a held invoice (the form's ``po_number`` or ``contract_reference``); the
        invoice is released and mailed once it lacks nothing more."""

        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        session, customer, invoice = own
        fields = _form(form)
        try:
            check_csrf(fields.get("csrf"), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        csrf = csrf_token(session, self.link_key)
        given = [what for what in REFERENCES if what in fields and what in invoice.dunning.awaiting]
        if not given:
            return Answer.html(409, _message(language, "invoice", "not_found", csrf))
        try:
            for what in given:
                invoice = provide_reference(invoice.invoice_id, what, fields[what], ACTOR_PORTAL, self.clock)
        except RequirementError:
            return Answer.html(400, _message(language, "invoice", "po_needed", csrf))
        done = "po_received" if not invoice.dunning.awaiting else "reference_received"
        return Answer.html(200, _message(language, "invoice", done, csrf))

    # The PO form's route kept its name when contract references joined it.
    give_po_number = give_reference

    def document_attached(self, cookies: str | None, invoice_id: str, key: str) -> Answer:
        """``GET /portal/invoices/<id>/uploaded``: where S3 sends the browser after an
        upload. The object is checked (size, first bytes) and kept with the invoice, or deleted
        with the reason; either way the invoice page follows."""

        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        _, customer, invoice = own
        language = language_of(customer.language)
        if self.files is None:
            return Answer.html(404, _message(language, "invoice", "not_found"))
        problem, _ = keep_upload(invoice, key, self.files, ACTOR_PORTAL, self.clock)
        answer = self.invoice_page(cookies, invoice_id, notice=problem or "upload_received")
        return replace(answer, status=400) if problem else answer

    def invoice_upload(self, cookies: str | None, invoice_id: str, index: str) -> Answer:
        """``GET /portal/invoices/<id>/documents/<n>``: a document kept with the invoice, as a
        download of the type its bytes showed."""
        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        _, customer, invoice = own
        n = int(index) if index.isascii() and index.isdigit() else 0
        document = invoice.documents[n - 1] if 0 < n <= len(invoice.documents) else None
        data = (
            self.read_object(invoice.source.bucket, document.key) if document and self.read_object else None
        )
        if document is None or data is None:
            return Answer.html(404, _message(language_of(customer.language), "invoice", "not_found"))
        extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[document.content_type]
        return _download(
            data, document.content_type, f"{document.kind}-{n}-{_safe(invoice.number)}.{extension}"
        )

    def invoice_document(self, cookies: str | None, invoice_id: str) -> Answer:
        """``GET /portal/invoices/<id>/pdf``: one of the customer's invoices as a PDF: the PDF
        its e-invoice came with, else one rendered from the invoice's data."""

        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        _, customer, invoice = own
        original = self._original(invoice)
        image = invoice_image(embedded(original)) if original is not None else None
        if image is not None:
            return _download(image.data, "application/pdf", f"invoice-{_safe(invoice.number)}.pdf")
        language = language_of(customer.language)
        transfer = transfer_for(invoice, self.bank_accounts) if _payable(invoice) else None
        document = invoice_pdf(invoice, customer, self.seller_name, language, transfer)
        return _pdf(document, f"invoice-{_safe(invoice.number)}.pdf")

    def invoice_original(self, cookies: str | None, invoice_id: str) -> Answer:
        """``GET /portal/invoices/<id>/original``: the e-invoice file exactly as received."""
        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        _, customer, invoice = own
        original = self._original(invoice)
        if original is None:
            return Answer.html(404, _message(language_of(customer.language), "invoice", "not_found"))
        return _download(original, "application/xml", f"invoice-{_safe(invoice.number)}.xml")

    def invoice_attachment(self, cookies: str | None, invoice_id: str, index: str) -> Answer:
        """``GET /portal/invoices/<id>/attachments/<n>``: the n-th file embedded in the e-invoice."""

        own = self._own_invoice(cookies, invoice_id)
        if isinstance(own, Answer):
            return own
        _, customer, invoice = own
        original = self._original(invoice)
        attachments = embedded(original) if original is not None else []
        chosen = next((a for a in attachments if str(a.index) == index), None)
        if chosen is None:
            return Answer.html(404, _message(language_of(customer.language), "invoice", "not_found"))
        mime = chosen.mime if chosen.mime in SAFE_TYPES else "application/octet-stream"
        return _download(chosen.data, mime, chosen.name)

    # --- forms -------------------------------------------------------------------------------
    def change_language(self, cookies: str | None, form: bytes) -> Answer:
        """``POST /portal/language``: the customer's language, for the portal and the emails."""
        try:
            session, customer = self.session(cookies)
            fields = _form(form)
            check_csrf(fields.get("csrf"), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        chosen = fields.get("language", "")
        if chosen in LANGUAGES and chosen != language_of(customer.language):
            change_customer(
                customer.customer_id,
                lambda c: replace(c, language=chosen),
                "LanguageChanged",
                {"language": chosen},
                "customer:portal",
                self.clock,
            )
        return Answer.redirect("/portal")

    def pay(self, cookies: str | None, form: bytes) -> Answer:
        """``POST /portal/pay``: one Checkout Session for the invoices the payer ticked."""

        try:
            session, customer = self.session(cookies)
            fields = _form_lists(form)
            check_csrf(next(iter(fields.get("csrf", [])), None), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        chosen = list(dict.fromkeys(fields.get("invoice", [])))
        heads = store.get_heads(i for i in chosen[:100] if i.startswith("inv_") and len(i) < 100)
        invoices = [h for h in heads.values() if isinstance(h, Invoice)]
        payable = [
            i
            for i in invoices
            if i.customer_id == customer.customer_id
            and i.status in COLLECTIBLE
            and i.balance.minor > 0
            and i.dunning.processing is None  # being paid already: not twice
        ]
        currencies = {i.currency for i in payable}
        if not chosen or len(payable) != len(chosen) or len(currencies) != 1 or self.create_session is None:
            body = _message(language, "open_invoices", "cannot_pay", csrf_token(session, self.link_key))
            return Answer.html(400, body)
        if fields.get("use_credit") == ["1"]:
            payable = apply_credit(customer, payable, self.clock)
            if not payable:
                return Answer.redirect("/portal?paid=credit")
        part, problem = part_to_pay(customer, payable, next(iter(fields.get("amount", [])), ""))
        currency = payable[0].currency
        method = next(iter(fields.get("method", [])), "") or "card"
        if method not in methods_for(currency, customer.preferred_method, self.bank_accounts):
            problem = problem or "method_not_offered"
        if problem is None and method == "bank_transfer":
            remember_method(customer, method, self.clock)
            return self._transfer(language, session, payable, part)
        if problem is None:
            try:
                params = several_checkout_params(payable, customer, self.base_url.rstrip("/"), part, method)
            except ValueError:
                problem = "too_many"
        if problem is not None:
            return Answer.html(
                400, _message(language, "open_invoices", problem, csrf_token(session, self.link_key))
            )
        key = several_idempotency_key(payable, self.clock.now().timestamp(), part, method)
        checkout = self.create_session(params, key)
        remember_method(customer, method, self.clock)
        return Answer.redirect(str(checkout["url"]))

    def _transfer(
        self, language: str, session: Session, invoices: list[Invoice], part: Money | None
    ) -> Answer:
        """The bank transfer instructions: the amount, our account in that currency, and the
        reference to quote: for one invoice its RF creditor reference (a bank line carrying it
        letters exactly), for several their numbers as the remittance text (one RF reference
        names one invoice; a transfer quoting the numbers matches itself)."""
        ordered = sorted(invoices, key=lambda i: (i.due_date, i.number))
        total = Money.zero(ordered[0].currency)
        for invoice in ordered:
            total = total + invoice.balance
        one = len(ordered) == 1
        reference = payment_reference(ordered[0]) if one else " ".join(i.number for i in ordered)
        body = render(
            "transfer.html",
            language,
            title=_words(language, "pay_by_bank_transfer"),
            amount=part or total,
            account=self.bank_accounts[total.currency],
            reference=reference,
            single=one,
            csrf=csrf_token(session, self.link_key),
            session_forms=True,
        )
        return Answer.html(200, body)

    def autopay_start(self, cookies: str | None, form: bytes) -> Answer:
        """``POST /portal/autopay``: with the consent ticked, a setup-mode Checkout Session to
        save the chosen method (the consent is recorded when Stripe confirms it, `autopay_done`)."""

        try:
            session, customer = self.session(cookies)
            fields = _form(form)
            check_csrf(fields.get("csrf"), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        csrf = csrf_token(session, self.link_key)
        if self.gateway is None:
            return Answer.html(503, _message(language, "autopay", "autopay_failed", csrf))
        if fields.get("consent") != "1":
            return Answer.html(400, _message(language, "autopay", "autopay_consent_needed", csrf))
        currencies = sorted({d.currency for d in store.customer_documents(customer.customer_id)})
        method = fields.get("method") or "card"
        offered = {m for c in currencies for m in stripe_methods(c, None)} | {"card"}
        limit, problem = autopay_limit(fields.get("max_per_invoice", ""), currencies)
        if method not in offered:
            problem = "method_not_offered"
        if problem is not None:
            return Answer.html(400, _message(language, "autopay", problem, csrf))
        url = start_setup(customer, method, limit, self.gateway, self.base_url.rstrip("/"), self.clock)
        return Answer.redirect(url)

    def autopay_done(self, cookies: str | None, query: dict[str, str]) -> Answer:
        """``GET /portal/autopay/done?session_id=…``: Stripe's answer read from Stripe itself;
        the consent is recorded if it saved a method for this customer."""

        try:
            session, customer = self.session(cookies)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        csrf = csrf_token(session, self.link_key)
        checkout_id = query.get("session_id", "")
        if self.gateway is None or not re.fullmatch(r"cs_[A-Za-z0-9_]{1,200}", checkout_id):
            return Answer.html(400, _message(language, "autopay", "autopay_failed", csrf))
        try:
            confirm_setup(customer, checkout_id, self.gateway, self.clock)
        except AutopayError as exc:
            return Answer.html(400, _message(language, "autopay", exc.key, csrf))
        except StripeRefusedError:  # no such session (a made-up or mistyped address)
            return Answer.html(400, _message(language, "autopay", "autopay_failed", csrf))
        return Answer.html(200, _message(language, "autopay", "autopay_done", csrf))

    def autopay_off(self, cookies: str | None, form: bytes) -> Answer:
        """``POST /portal/autopay/off``: no more automatic charges, from now on."""

        try:
            session, customer = self.session(cookies)
            check_csrf(_form(form).get("csrf"), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        language = language_of(customer.language)
        if customer.autopay is not None:
            turn_off(customer.customer_id, ACTOR_PORTAL, self.clock)
        return Answer.html(
            200, _message(language, "autopay", "autopay_stopped", csrf_token(session, self.link_key))
        )

    def sign_out(self, cookies: str | None, form: bytes) -> Answer:
        """``POST /portal/logout``: the session ends server-side (its cookie is refused from
        now on, wherever it was copied to) and the cookie is cleared."""
        try:
            session, customer = self.session(cookies)
            check_csrf(_form(form).get("csrf"), session, self.link_key)
        except SessionRefusedError as exc:
            return self.denied(exc)
        store.end_session(session.session_id, self._at())  # False: a sign-out racing this one ended it
        language = language_of(customer.language)
        body = _message(language, "signed_out", "no_session")
        return Answer.html(200, body, **{"Set-Cookie": clear_cookie(secure=self.secure)})


def _record_use(customer: Customer, invoice_id: str | None, clock: Clock) -> None:
    """When a link last opened the portal, on the customer (finance sees it), with an audit
    event: who came in, and through which invoice's email."""

    at = iso_timestamp(clock.now())
    change_customer(
        customer.customer_id,
        lambda c: replace(c, portal_last_used_at=at),
        "PortalOpened",
        {"invoice_id": invoice_id, "link_generation": customer.link_generation},
        "customer:portal",
        clock,
    )


def _download(data: bytes, mime: str, name: str) -> Answer:
    """A file to save, never to render in the portal's origin."""
    headers = {
        "Content-Type": mime,
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Answer(200, data, headers)


def _pdf(document: bytes, name: str) -> Answer:
    return _download(document, "application/pdf", name)


def _safe(text: str) -> str:
    """A document number as a file name: letters, digits, dot, dash and underscore."""
    return re.sub(r"[^\w.-]", "_", text)[:80]


def _digest(text: str) -> str:
    """What a rate limit is kept under: a digest, so that no address is stored in the clear."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:32]


def known_contact(address: str) -> Customer | None:
    """The customer whose contact ``address`` is (their email, or an email they were invoiced
    under), or None: a GetItem on the customer key, then the customer."""

    found = store.customers_by_identifier([PartyId("email", address)])
    customer = store.get_customer(next(iter(found.values()))) if found else None
    if customer is None:
        return None
    known = {(customer.email or "").lower()} | {
        i.value.lower() for i in customer.identifiers if i.scheme == "email"
    }
    return customer if address in known else None


def link_recipient(customer: Customer, address: str | None) -> str:
    """Where finance may mail the customer a fresh portal link: ``address`` if it is one of their
    known contacts, else their email on file (`ConflictError` when they have none,
    `InvalidRequestError` for an address that is not theirs)."""
    given = address if address is not None else customer.email
    if not isinstance(given, str) or not given.strip():
        raise ConflictError("the customer has no email address on file: set their contact first")
    given = given.strip().lower()
    contact = known_contact(given)
    if contact is None or contact.customer_id != customer.customer_id:
        raise InvalidRequestError([FieldError("email", "is not a known contact of this customer")])
    return given


def _message(language: str, title: str, message: str, csrf: str | None = None) -> str:
    """A page that says one thing; with the session's forms (and a way back) when ``csrf``."""
    return render(
        "message.html",
        language,
        title=_words(language, title),
        message=_words(language, message),
        back=csrf is not None,
        session_forms=csrf is not None,
        csrf=csrf or "",
    )


def _payable(invoice: Invoice) -> bool:
    """Whether the portal tells how to pay ``invoice`` by transfer: it is owed, collectible, and
    no payment of it is on its way already."""
    return invoice.status in COLLECTIBLE and invoice.balance.minor > 0 and invoice.dunning.processing is None


def _words(language: str, key: str) -> str:
    return WORDS[language][key]


def _form_lists(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(body.decode("utf-8"), max_num_fields=120)
    except (UnicodeDecodeError, ValueError):
        return {}


def _form(body: bytes) -> dict[str, str]:
    return {name: values[0] for name, values in _form_lists(body).items() if values}
