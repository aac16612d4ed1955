"""The console's pages and actions: each takes what the request carries (its cookies, query or
form) and gives an `Answer` that the function only copies out.

Pages: the dashboard (today's figures, every one a link; it refreshes itself every
`REFRESH_SECONDS` without JavaScript, and those refreshes do not keep an idle session alive),
the invoices of an aging bucket, the worklist (ranked as the finance API ranks it, filtered by
collector, currency, risk class and bucket) and a customer's page (their account, invoices and
timeline). Actions (collector and up): assign an invoice's collector, note, log a call, record a
promise to pay; each through the domain service the finance API's route calls, with the
session's form token checked first. Any page or action without a session sends the browser to
sign in (a GET) or says so (a POST); a role too low is a 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from receivables.adapters.cognito import SignInError
from receivables.banking import review
from receivables.collections import finance, tasks
from receivables.collections.dunning.service import parse_promise, record_promise
from receivables.collections.tasks import customer_tasks, open_tasks
from receivables.credit import risk
from receivables.customers import enrolment
from receivables.customers.requirements import open_requests
from receivables.disputes import deciding
from receivables.disputes.deductions import deductions
from receivables.disputes.opening import open_dispute_on, parse_lines
from receivables.disputes.service import dispute_summary
from receivables.kernel.access import Role
from receivables.kernel.errors import (
    FieldError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ReceivablesError,
)
from receivables.kernel.observability import logger
from receivables.ledger.disputes import Reason, Source
from receivables.ledger.model import Invoice
from receivables.ledger.rules import COLLECTIBLE, OPEN_RECEIVABLE
from receivables.mail.mentions import mentioned
from receivables.reporting.aging import BUCKET_NAMES, BUCKETS, bucket_of
from receivables.reporting.csv_export import to_csv
from receivables.storage import store
from receivables.web.console.auth import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    FormTokenError,
    Identity,
    SessionEndedError,
    check_form_token,
    cookie,
    cookies_of,
    safe_next,
)
from receivables.web.console.charts import aging_bars, bars_height, dso_trend
from receivables.web.console.pages import CONSOLE_STYLE, render
from receivables.web.console.timeline import customer_timeline, entry
from receivables.web.dashboard import dashboard_data
from receivables.web.http_errors import status_of
from receivables.web.portal.service import link_recipient
from receivables.web.security_headers import security_headers

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer
    from receivables.web.console.auth import SignIn

REFRESH_SECONDS = 5
MAX_FORM_BYTES = 16 * 1024
MAX_TEXT = 2000
BUCKET_ROWS = 200
WORKLIST_ROWS = 200
RISKS = ("reliable", "standard", "risky")
MAX_BULK = 100  # invoices one bulk action may name


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, body, headers (a list value: the header repeated)."""

    status: int
    body: str
    headers: dict[str, str | list[str]] = field(default_factory=dict)


def form_of(body: bytes | str | None) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each); `InvalidRequestError` when too big."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    if len(raw) > MAX_FORM_BYTES:
        raise InvalidRequestError([FieldError("form", f"is larger than {MAX_FORM_BYTES} bytes")])
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=250)
    return {name: values[0] for name, values in parsed.items()}


def form_lists(body: bytes | str | None) -> dict[str, list[str]]:
    """A urlencoded form's fields with every value of each (the checked boxes of a list)."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    return parse_qs(
        raw[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=False, max_num_fields=250
    )


def _text(form: dict[str, str], name: str, *, required: bool = True, longest: int = MAX_TEXT) -> str:
    value = form.get(name, "").strip()
    if (required and not value) or len(value) > longest:
        raise InvalidRequestError([FieldError(name, f"must be 1 to {longest} characters")])
    return value


@dataclass
class Console:
    """The console over one sign-in (`receivables.web.console.auth.SignIn`) and the ledger's clock."""

    sign_in: SignIn
    clock: Clock
    form_targets: tuple[str, ...] = ()  # where a form's redirect may lead: the managed login
    # Releases a dispute's workflow waiting for finance (Step Functions' SendTaskSuccess).
    send_task_success: Callable[..., Any] | None = None
    seller: str = "self"  # whose invoice numbers a lettering by hand names
    # Mails a customer's contact a fresh portal link (SES); its message id.
    send_link: Callable[[Customer, str], str] | None = None
    # Tells the colleagues a note mentions (addresses, by, about, url, text): those who were told.
    tell_mentioned: Callable[[list[str], str, str, str, str], list[str]] | None = None

    # --- answers -------------------------------------------------------------------------------
    def _html(self, status: int, body: str, **headers: str | list[str]) -> Answer:
        targets = (*self.form_targets, self.sign_in.login.login_url)
        return Answer(
            status,
            body,
            {
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-store",
                **security_headers((CONSOLE_STYLE,), targets),
                **headers,
            },
        )

    def _page(self, template: str, me: Identity | None, status: int = 200, **values: Any) -> Answer:
        values.setdefault("errors", [])
        values.setdefault("notice", "")
        values.setdefault("refresh_url", "")
        values.setdefault("refresh_seconds", REFRESH_SECONDS)
        return self._html(status, render(template, me=me, **values))

    def _message(
        self,
        status: int,
        title: str,
        paragraphs: tuple[str, ...],
        links: tuple[tuple[str, str], ...] = (),
        me: Identity | None = None,
        cookies: tuple[str, ...] = (),
    ) -> Answer:
        body = render(
            "message.html",
            me=me,
            title=title,
            paragraphs=paragraphs,
            links=links,
            errors=[],
            notice="",
            refresh_url="",
            refresh_seconds=REFRESH_SECONDS,
        )
        if cookies:
            return self._html(status, body, **{"Set-Cookie": list(cookies)})
        return self._html(status, body)

    @staticmethod
    def _redirect(location: str, *cookies: str) -> Answer:
        headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
        if cookies:
            headers["Set-Cookie"] = list(cookies)
        return Answer(303, "", headers)

    def _refused(self, exc: ReceivablesError, me: Identity | None) -> Answer:
        status = status_of(exc) or 500
        if isinstance(exc, InvalidRequestError):
            return self._message(
                400,
                "That could not be done",
                tuple(f"{e.field}: {e.reason}" for e in exc.errors),
                (("Dashboard", COOKIE_PATH),),
                me,
            )
        titles = {403: "Not allowed", 404: "Not found", 409: "That could not be done"}
        return self._message(status, titles.get(status, "That could not be done"), (str(exc),), (), me)

    def _signed_in(
        self,
        cookie_header: str | None,
        next_path: str,
        view: Callable[[Identity], Answer],
        *,
        active: bool = True,
    ) -> Answer:
        """``view`` for the person signed in; the sign-in first when there is nobody."""
        try:
            me = self.sign_in.current(cookies_of(cookie_header), active=active)
        except SessionEndedError:
            return self._redirect(f"{COOKIE_PATH}/login?{urlencode({'next': next_path})}")
        try:
            return view(me)
        except ReceivablesError as exc:  # a 4xx of the kernel's hierarchy is a page; else a 500
            if status_of(exc) is None:
                raise
            return self._refused(exc, me)

    def _action(
        self,
        cookie_header: str | None,
        body: bytes | str | None,
        needed: Role,
        act: Callable[[Identity, dict[str, str]], str],
    ) -> Answer:
        """A form's action: the session, the role, the form token, then ``act``, which says where
        to go next (303)."""
        try:
            me = self.sign_in.current(cookies_of(cookie_header))
        except SessionEndedError:
            return self._message(
                401,
                "Please sign in again",
                ("Your session has ended; nothing was changed.",),
                (("Sign in", f"{COOKIE_PATH}/login"),),
            )
        try:
            form = form_of(body)
            check_form_token(me, form.get("csrf"))
            me.require(needed)
            return self._redirect(act(me, form))
        except FormTokenError as exc:
            return self._message(403, "The form has expired", (str(exc),), (("Dashboard", COOKIE_PATH),), me)
        except ReceivablesError as exc:
            if status_of(exc) is None:
                raise
            return self._refused(exc, me)

    # --- signing in and out -------------------------------------------------------------------
    def login(self, query: dict[str, str]) -> Answer:
        """To the managed login, with a fresh state and PKCE verifier in the sign-in cookie."""
        location, login_cookie = self.sign_in.start(query.get("next"))
        return self._redirect(location, login_cookie)

    def callback(self, cookie_header: str | None, query: dict[str, str]) -> Answer:
        """The managed login's answer: a session, then the page the person asked for."""
        clear = cookie(LOGIN_COOKIE, "", 0, secure=self.sign_in.secure)
        again = (("Sign in again", f"{COOKIE_PATH}/login"),)
        if query.get("error"):
            return self._message(
                400, "Sign-in refused", ("The sign-in page said: " + query["error"][:200],), again
            )
        try:
            session_cookie, next_path, me = self.sign_in.finish(
                cookies_of(cookie_header), query.get("state"), query.get("code")
            )
        except SignInError as exc:
            logger.warning("console sign-in refused", extra={"reason": exc.reason})
            return self._message(400, "Sign-in refused", (exc.reason,), again, cookies=(clear,))
        except ForbiddenError as exc:
            return self._message(403, "Not allowed", (str(exc),), again, cookies=(clear,))
        logger.info("console sign-in", extra={"user": me.subject, "role": me.role.name.lower()})
        return self._redirect(next_path, session_cookie, clear)

    def logout(self, cookie_header: str | None, body: bytes | str | None) -> Answer:
        """End the session (its form token checked when there is one) and sign out of the managed login."""
        cookies = cookies_of(cookie_header)
        try:
            me = self.sign_in.current(cookies, active=False)
        except SessionEndedError:
            me = None
        if me is not None:
            try:
                check_form_token(me, form_of(body).get("csrf"))
            except (FormTokenError, InvalidRequestError) as exc:
                return self._message(
                    403, "The form has expired", (str(exc),), (("Dashboard", COOKIE_PATH),), me
                )
        cleared, location = self.sign_in.sign_out(cookies)
        return self._redirect(location, cleared)

    def signed_out(self) -> Answer:
        """Where the managed login sends the browser after signing out."""
        return self._message(
            200,
            "Signed out",
            ("You have signed out of the finance console.",),
            (("Sign in", f"{COOKIE_PATH}/login"),),
        )

    # --- pages ----------------------------------------------------------------------------------
    def today(self) -> date:
        return self.clock.now().date()

    def dashboard(self, cookie_header: str | None, query: dict[str, str]) -> Answer:
        """Today's figures; refreshing itself (``?refresh=auto``, which is not activity)."""

        def view(me: Identity) -> Answer:
            data = dashboard_data(self.today())
            charts = {
                c["currency"]: {"bars": aging_bars(c), "trend": dso_trend(c.get("trend") or [])}
                for c in data["currencies"]
            }
            return self._page(
                "dashboard.html",
                me,
                title="Dashboard",
                data=data,
                charts=charts,
                bars_height=bars_height(),
                buckets=BUCKET_NAMES,
                refresh_url=f"{COOKIE_PATH}?refresh=auto",
            )

        return self._signed_in(cookie_header, COOKIE_PATH, view, active=query.get("refresh") != "auto")

    def invoices(self, cookie_header: str | None, query: dict[str, str]) -> Answer:
        """The open invoices of one currency (and one aging bucket), earliest due first."""
        next_path = _with_query(f"{COOKIE_PATH}/invoices", query)

        def view(me: Identity) -> Answer:
            currency = (query.get("currency") or "").upper() or None
            bucket = query.get("bucket") or None
            if bucket is not None and bucket not in BUCKET_NAMES:
                raise InvalidRequestError([FieldError("bucket", f"must be one of {', '.join(BUCKET_NAMES)}")])
            today = self.today()
            due_from, due_to = _due_range(bucket, today)
            found, more = store.open_invoices_by_due(BUCKET_ROWS, None, due_from, due_to)
            rows = [i for i in found if currency in (None, i.currency) and i.status in OPEN_RECEIVABLE]
            names = store.get_customers({i.customer_id for i in rows})
            shown = [
                {
                    **finance.invoice_json(i, today),
                    "customer_name": names[i.customer_id].name if i.customer_id in names else None,
                }
                for i in rows
            ]
            if query.get("format") == "csv":
                return _csv("invoices", shown, INVOICE_COLUMNS)
            title = " ".join(p for p in ("Open invoices", currency or "", bucket or "") if p)
            return self._page(
                "invoices.html",
                me,
                title=title,
                invoices=shown,
                truncated=more is not None,
                csv_url=_with_query(f"{COOKIE_PATH}/invoices", {**query, "format": "csv"}),
            )

        return self._signed_in(cookie_header, next_path, view)

    def worklist(self, cookie_header: str | None, query: dict[str, str]) -> Answer:
        """The worklist, ranked as the finance API ranks it, with its filters."""
        next_path = _with_query(f"{COOKIE_PATH}/worklist", query)

        def view(me: Identity) -> Answer:
            filters = {
                name: (query.get(name) or "").strip() for name in ("collector", "currency", "risk", "bucket")
            }
            errors = []
            if filters["risk"] and filters["risk"] not in RISKS:
                errors.append(FieldError("risk", f"must be one of {', '.join(RISKS)}"))
            if filters["bucket"] and filters["bucket"] not in BUCKET_NAMES:
                errors.append(FieldError("bucket", f"must be one of {', '.join(BUCKET_NAMES)}"))
            if errors:
                raise InvalidRequestError(errors)
            currency = filters["currency"].upper() or None
            rows, ranked_on = finance.ranked_worklist(self.today(), currency, WORKLIST_ROWS)
            currencies = sorted({r["currency"] for r in rows} | ({currency} if currency else set()))
            shown = [
                r
                for r in rows
                if (not filters["collector"] or (r.get("collector") or "") == filters["collector"])
                and (not filters["risk"] or r.get("risk") == filters["risk"])
                and (not filters["bucket"] or bucket_of(int(r.get("days_late") or 0)) == filters["bucket"])
            ]
            if query.get("format") == "csv":
                return _csv("worklist", shown, WORKLIST_COLUMNS)

            mine = open_tasks(me.username)
            return self._page(
                "worklist.html",
                me,
                title="Worklist",
                rows=shown,
                ranked_on=ranked_on,
                filters=filters,
                currencies=currencies,
                risks=RISKS,
                buckets=[b for b in BUCKET_NAMES if b != "current"],
                may_assign=me.may(Role.COLLECTOR),
                back=next_path,
                csv_url=_with_query(f"{COOKIE_PATH}/worklist", {**query, "format": "csv"}),
                tasks=mine,
                today=self.today().isoformat(),
            )

        return self._signed_in(cookie_header, next_path, view)

    def customer(
        self,
        cookie_header: str | None,
        customer_id: str,
        query: dict[str, str] | None = None,
    ) -> Answer:
        """A customer whole: account, contacts, terms, risk, invoices, the timeline, and the actions."""

        next_path = f"{COOKIE_PATH}/customers/{quote(customer_id, safe='')}"

        def view(me: Identity) -> Answer:
            today = self.today()
            customer = finance.customer_or_404(customer_id)
            invoices, _ = store.customer_invoices(customer_id, 100, None)
            open_balance: dict[str, int] = {}
            for invoice in invoices:
                if invoice.status in OPEN_RECEIVABLE:
                    open_balance[invoice.currency] = (
                        open_balance.get(invoice.currency, 0) + invoice.balance.minor
                    )
            body = finance.customer_json(customer)
            contacts = sorted(
                {i.value for i in customer.identifiers if i.scheme == "email"} | {customer.email or ""} - {""}
            )
            try:
                score = risk.current(customer, today).to_json()
            except ReceivablesError:
                score = None
            return self._page(
                "customer.html",
                me,
                title=customer.name or customer_id,
                customer=body,
                contacts=contacts,
                risk=score,
                open_balance=[
                    (code, finance.money_text(minor, code)) for code, minor in sorted(open_balance.items())
                ],
                invoices=[finance.invoice_json(i, today) for i in invoices],
                promisable=[
                    finance.invoice_json(i, today)
                    for i in invoices
                    if i.status in COLLECTIBLE and i.balance.minor > 0
                ],
                timeline=customer_timeline(customer_id, invoices),
                outcomes=finance.CALL_OUTCOMES,
                may_act=me.may(Role.COLLECTOR),
                may_hold=me.may(Role.CONTROLLER),
                tasks=[t for t in customer_tasks(customer_id) if t["status"] == "open"],
                today=today.isoformat(),
                notice="A fresh portal link is on its way." if (query or {}).get("sent") == "link" else "",
            )

        return self._signed_in(cookie_header, next_path, view)

    def invoice(self, cookie_header: str | None, invoice_id: str) -> Answer:
        """One invoice: its figures, documents and history, and the actions on it."""

        def view(me: Identity) -> Answer:
            invoice = finance.invoice_or_404(invoice_id)
            customer = store.get_customer(invoice.customer_id)
            history = [entry(e, invoice.number) for e in store.invoice_events(invoice_id)]
            promise = invoice.dunning.promise
            return self._page(
                "invoice.html",
                me,
                title=f"Invoice {invoice.number}",
                invoice=finance.invoice_json(invoice, self.today()),
                customer_name=customer.name if customer else invoice.customer_id,
                promise=(promise.date, promise.amount.to_decimal_string()) if promise else None,
                history=list(reversed(history)),
                collectible=invoice.status in COLLECTIBLE and invoice.balance.minor > 0,
                reasons=[r.value for r in Reason],
                may_act=me.may(Role.COLLECTOR),
                may_control=me.may(Role.CONTROLLER),
                back=_invoice_path(invoice_id),
            )

        return self._signed_in(cookie_header, _invoice_path(invoice_id), view)

    # --- actions --------------------------------------------------------------------------------
    def assign(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """Make someone the collector of an invoice (collector), then back to the worklist."""

        def act(me: Identity, form: dict[str, str]) -> str:
            collector = _text(form, "collector", longest=200)
            finance.assign_collector(invoice_id, collector, me.actor, self.clock)
            return safe_next(form.get("back") or f"{COOKIE_PATH}/worklist")

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def assign_many(self, cookie_header: str | None, body: bytes | str | None) -> Answer:
        """Make someone the collector of every invoice ticked on the worklist (collector)."""

        def act(me: Identity, form: dict[str, str]) -> str:
            collector = _text(form, "collector", longest=200)
            invoices = form_lists(body).get("invoice", [])
            if not 0 < len(invoices) <= MAX_BULK:
                raise InvalidRequestError([FieldError("invoice", f"tick 1 to {MAX_BULK} invoices")])
            for invoice_id in dict.fromkeys(invoices):
                finance.assign_collector(invoice_id, collector, me.actor, self.clock)
            return safe_next(form.get("back") or f"{COOKIE_PATH}/worklist")

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def invoice_note(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """A note on the invoice's history (collector), as ``POST /invoices/{id}/notes``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            finance.add_note(invoice_id, _text(form, "text"), me.actor, self.clock)
            return _invoice_path(invoice_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def invoice_promise(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """A promise to pay the invoice (collector), as ``POST /invoices/{id}/promise``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            invoice = finance.invoice_or_404(invoice_id)
            day, amount = parse_promise(invoice, form.get("date"), form.get("amount"))
            record_promise(invoice_id, day, amount, me.actor, self.clock)
            return _invoice_path(invoice_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def open_dispute(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """Open a dispute for the customer (collector), as ``POST /invoices/{id}/disputes``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            invoice = finance.invoice_or_404(invoice_id)
            errors: list[FieldError] = []
            try:
                reason = Reason(form.get("reason", ""))
            except ValueError:
                errors.append(FieldError("reason", f"must be one of {', '.join(r.value for r in Reason)}"))
            amount, _ = parse_lines(invoice, form.get("amount"), None, errors)  # no lines on this form
            if errors:
                raise InvalidRequestError(errors)
            comment = _text(form, "comment", required=False)
            open_dispute_on(
                invoice_id, Source.FINANCE, reason, me.actor, self.clock, amount=amount, comment=comment
            )
            return _invoice_path(invoice_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def write_off(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """Write off what is left of the invoice (controller), as ``POST /invoices/{id}/write-off``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            reason = _text(form, "reason", longest=500)
            finance.write_off_invoice(invoice_id, reason, me.actor, self.clock)
            return _invoice_path(invoice_id)

        return self._action(cookie_header, body, Role.CONTROLLER, act)

    def void(self, cookie_header: str | None, body: bytes | str | None, invoice_id: str) -> Answer:
        """Cancel an invoice issued in error (controller), as ``POST /invoices/{id}/void``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            reason = _text(form, "reason", longest=500)
            finance.void_invoice(invoice_id, reason, me.actor, self.clock)
            return _invoice_path(invoice_id)

        return self._action(cookie_header, body, Role.CONTROLLER, act)

    def resend_link(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """Mail one of the customer's known contacts a fresh link to their portal (collector), as
        ``POST /customers/{id}/links`` does."""

        def act(me: Identity, form: dict[str, str]) -> str:
            customer = finance.customer_or_404(customer_id)
            address = link_recipient(customer, form.get("email") or None)
            if self.send_link is None:
                raise AssertionError("the console is built with its link sender")
            self.send_link(customer, address)
            logger.info("portal link sent", extra={"customer_id": customer_id, "by": me.subject})
            return f"{_customer_path(customer_id)}?sent=link"

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def add_task(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """A task about the customer for someone (collector): on their worklist until done."""

        def act(me: Identity, form: dict[str, str]) -> str:
            title, owner, due = tasks.parse_task(
                form.get("title"), form.get("owner"), form.get("due"), self.today()
            )
            tasks.create_task(customer_id, title, owner, due, me.actor, self.clock)
            return _customer_path(customer_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def task_done(self, cookie_header: str | None, body: bytes | str | None, task_id: str) -> Answer:
        """Mark a task done (collector); back to the page it was done from."""

        def act(me: Identity, form: dict[str, str]) -> str:
            tasks.complete_task(task_id, me.actor, self.clock)
            return safe_next(form.get("back") or f"{COOKIE_PATH}/worklist")

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def credit_hold(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """Put the customer on credit hold or lift it, saying why (controller), as ``PUT
        /customers/{id}/credit-hold`` does."""

        def act(me: Identity, form: dict[str, str]) -> str:
            if form.get("on") not in ("true", "false"):
                raise InvalidRequestError([FieldError("on", "must be true or false")])
            reason = _text(form, "reason", longest=500)
            finance.set_credit_hold(customer_id, form["on"] == "true", reason, me.actor, self.clock)
            return _customer_path(customer_id)

        return self._action(cookie_header, body, Role.CONTROLLER, act)

    def note(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """A note on the customer's timeline (collector)."""

        def act(me: Identity, form: dict[str, str]) -> str:
            text = _text(form, "text")
            customer = finance.customer_or_404(customer_id)
            addresses = [a for a in mentioned(text) if a != me.username.lower()]
            told: list[str] = []
            if addresses and self.tell_mentioned is not None:
                url = f"{self.sign_in.base_url.rstrip('/')}{_customer_path(customer_id)}"
                told = self.tell_mentioned(addresses, me.username, customer.name or customer_id, url, text)
            finance.add_customer_note(customer_id, text, me.actor, self.clock, mentioned=told)
            return _customer_path(customer_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def call(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """A call to the customer and its outcome (collector)."""

        def act(me: Identity, form: dict[str, str]) -> str:
            text = _text(form, "text", required=False)
            finance.log_call(customer_id, form.get("outcome", ""), text, me.actor, self.clock)
            return _customer_path(customer_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def promise(self, cookie_header: str | None, body: bytes | str | None, customer_id: str) -> Answer:
        """A promise to pay one of the customer's invoices (collector): dunning waits until then."""

        def act(me: Identity, form: dict[str, str]) -> str:
            invoice = finance.invoice_or_404(form.get("invoice_id", ""))
            if invoice.customer_id != customer_id:
                raise NotFoundError(f"no invoice {invoice.invoice_id} of this customer")
            day, amount = parse_promise(invoice, form.get("date"), form.get("amount"))
            record_promise(invoice.invoice_id, day, amount, me.actor, self.clock)
            return _customer_path(customer_id)

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    # --- queues ---------------------------------------------------------------------------------
    def queues(self, cookie_header: str | None) -> Answer:
        """What waits for a person: disputes awaiting a decision (the decision form, controller)
        and bank lines the matching left (letter or ignore, collector)."""

        def view(me: Identity) -> Answer:
            # Waiting with a task token: a dispute decided a moment ago (its token spent, the
            # workflow carrying the decision out) is no longer anyone's to decide.
            waiting = [
                dispute_summary(d)
                for d in store.open_disputes()
                if d.status.value == "awaiting_finance" and d.task_token
            ]
            heads = store.get_heads([d["invoice_id"] for d in waiting])
            names = store.get_customers({d["customer_id"] for d in waiting})

            def row(dispute: dict[str, Any]) -> dict[str, Any]:
                head = heads.get(dispute["invoice_id"])
                invoice = head if isinstance(head, Invoice) else None
                customer = names.get(dispute["customer_id"])
                return {
                    **dispute,
                    "number": invoice.number if invoice else dispute["invoice_id"],
                    "balance": invoice.balance.to_decimal_string() if invoice else "",
                    "currency": invoice.currency if invoice else "",
                    "customer_name": customer.name if customer else None,
                }

            disputes = [row(d) for d in waiting]
            lines = [_line_row(line) for line in review.unmatched_lines(BUCKET_ROWS)]
            return self._page(
                "queues.html",
                me,
                title="Queues",
                disputes=disputes,
                lines=lines,
                **_other_queues(),
                may_decide=me.may(Role.CONTROLLER),
                may_letter=me.may(Role.COLLECTOR),
            )

        return self._signed_in(cookie_header, f"{COOKIE_PATH}/queues", view)

    def decide_dispute(self, cookie_header: str | None, body: bytes | str | None, dispute_id: str) -> Answer:
        """Finance's decision on a dispute that waits for it (controller), as ``POST
        /disputes/{id}/decision`` takes it; the workflow then carries it out."""

        def act(me: Identity, form: dict[str, str]) -> str:
            if not dispute_id.startswith("dsp_") or store.get_dispute(dispute_id) is None:
                raise NotFoundError(f"no dispute {dispute_id}")
            fields = {
                k: form[k].strip() for k in ("decision", "credit", "reason", "corrected_total") if form.get(k)
            }
            dispute, token = deciding.decide(dispute_id, fields, me.actor, self.clock)
            if self.send_task_success is None:
                raise AssertionError("the console is built with the workflow's SendTaskSuccess")
            deciding.deliver_decision(dispute, token, self.send_task_success)
            return f"{COOKIE_PATH}/queues"

        return self._action(cookie_header, body, Role.CONTROLLER, act)

    def decide_enrolment(
        self, cookie_header: str | None, body: bytes | str | None, enrolment_id: str, approve: bool
    ) -> Answer:
        """Apply the changes a submitted enrolment holds (a new AP address, a new bank account) or
        refuse them (controller; a refusal says why), as ``POST /enrolments/{id}/approve|reject``."""

        def act(me: Identity, form: dict[str, str]) -> str:
            note = _text(form, "note" if approve else "reason", required=not approve, longest=500)
            if enrolment.get_enrolment(enrolment_id) is None:
                raise NotFoundError(f"no enrolment {enrolment_id}")
            enrolment.decide(enrolment_id, approve, note, me.actor, self.clock)
            return f"{COOKIE_PATH}/queues"

        return self._action(cookie_header, body, Role.CONTROLLER, act)

    def letter_line(self, cookie_header: str | None, body: bytes | str | None, line_id: str) -> Answer:
        """Letter a waiting bank line to an invoice (its id or number, and the amount), or put it
        on a customer's account (collector), as ``POST /bank-lines/{id}/letter`` does."""

        def act(me: Identity, form: dict[str, str]) -> str:
            line = review.get_line(line_id)
            on_account = form.get("on_account", "").strip()
            targets = (
                {}
                if on_account
                else review.lettering_targets(
                    [{"invoice": form.get("invoice", ""), "amount": form.get("amount", "")}],
                    str(line.body["currency"]),
                    self.seller,
                )
            )
            review.letter_line(line_id, targets, me.actor, self.clock, on_account_of=on_account or None)
            return f"{COOKIE_PATH}/queues"

        return self._action(cookie_header, body, Role.COLLECTOR, act)

    def ignore_line(self, cookie_header: str | None, body: bytes | str | None, line_id: str) -> Answer:
        """A waiting bank line that is not a customer's payment (collector): the reason is required."""

        def act(me: Identity, form: dict[str, str]) -> str:
            review.ignore_line(line_id, _text(form, "reason", longest=500), me.actor, self.clock)
            return f"{COOKIE_PATH}/queues"

        return self._action(cookie_header, body, Role.COLLECTOR, act)


def _other_queues() -> dict[str, Any]:
    """The deductions open by owner, the enrolments waiting for approval and the invoices held
    for a document: each one Query of its own index."""

    by_owner: dict[str, list[dict[str, Any]]] = {}
    for d in deductions("open"):
        reasons = sorted({str(p.get("reason")) for p in d.get("parts") or [] if p.get("validity") == "open"})
        row = {**d, "reasons": ", ".join(reasons)}
        by_owner.setdefault(str(d.get("owner") or "unassigned"), []).append(row)
    held = [
        {
            "invoice_id": r.invoice.invoice_id,
            "number": r.invoice.number,
            "customer_id": r.invoice.customer_id,
            "missing": ", ".join(r.missing),
            "since": r.since or "",
            "reminders": r.reminders,
        }
        for r in open_requests()
    ]
    enrolments = [
        {
            "enrolment_id": e.enrolment_id,
            "company": e.company_name or e.email,
            "email": e.email,
            "submitted_at": e.submitted_at or "",
            "pending": ", ".join(sorted(e.pending)),
        }
        for e in enrolment.list_enrolments("submitted")
    ]
    return {"deductions_by_owner": sorted(by_owner.items()), "held": held, "enrolments": enrolments}


def _line_row(line: dict[str, Any]) -> dict[str, Any]:
    """A waiting bank line as the queue shows it, with what its best candidate suggests."""
    candidates = [c for c in line.get("candidates") or [] if isinstance(c, dict)]
    best = candidates[0] if candidates else {}
    first = (best.get("allocations") or [{}])[0]
    payer = line.get("payer") or {}
    remittance = line.get("remittance") or {}
    return {
        "line_id": line["line_id"],
        "booking_date": line.get("booking_date") or "",
        "amount": line.get("amount") or "",
        "currency": line.get("currency") or "",
        "debit": line.get("direction") == "debit",
        "payer_name": payer.get("name") or "",
        "payer_iban": payer.get("iban") or "",
        "remittance": " ".join(remittance.get("unstructured") or []),
        "candidates": [
            {
                "rule": c.get("rule") or "",
                "customer_id": c.get("customer_id"),
                "allocations": [(a.get("invoice_id"), a.get("amount")) for a in c.get("allocations") or []],
            }
            for c in candidates[:3]
        ],
        "suggested_invoice": first.get("invoice_id") or "",
        "suggested_amount": first.get("amount") or line.get("amount") or "",
        "suggested_customer": best.get("customer_id") or "",
    }


# What a table's CSV download holds (the filters applied), in this order.
INVOICE_COLUMNS = (
    "number",
    "invoice_id",
    "customer_name",
    "customer_id",
    "currency",
    "total",
    "balance",
    "issue_date",
    "due_date",
    "days_late",
    "status",
    "collector",
)
WORKLIST_COLUMNS = (*INVOICE_COLUMNS, "risk", "expected_loss")


def _csv(name: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Answer:
    """``rows`` (their ``columns``) as a CSV download."""

    body = to_csv([{c: row.get(c) for c in columns} for row in rows]) if rows else ",".join(columns) + "\r\n"
    return Answer(
        200,
        body,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _with_query(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _invoice_path(invoice_id: str) -> str:
    return f"{COOKIE_PATH}/invoices/{quote(invoice_id, safe='')}"


def _customer_path(customer_id: str) -> str:
    return f"{COOKIE_PATH}/customers/{quote(customer_id, safe='')}"


def _due_range(bucket: str | None, today: date) -> tuple[date | None, date | None]:
    """The due dates of the invoices in ``bucket`` as of ``today`` (None: every open one)."""

    if bucket is None:
        return None, None
    for name, low, high in BUCKETS:
        if name == bucket:
            if low is None:  # current: not yet due
                return today, None
            return (today - timedelta(days=high) if high is not None else None), today - timedelta(days=low)
    raise AssertionError("checked against BUCKET_NAMES")
