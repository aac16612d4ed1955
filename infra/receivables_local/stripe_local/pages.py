"""The hosted pages: a Checkout Session's page at ``/c/pay/{session}`` (`checkout_page` renders it)
with its form POSTs, one form per payment method of the session (card, SEPA Direct Debit, ACH
Direct Debit; in setup mode they save the method to the session's customer), and a debit
mandate's text at ``/mandates/{id}``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from receivables_local.stripe_local import checkout_page
from receivables_local.stripe_local.bank import BankInputError, read_iban, read_us_bank_account
from receivables_local.stripe_local.messages import html_response
from receivables_local.stripe_local.objects import Acceptance, Card, CardInputError, StripeError, read_card
from receivables_local.stripe_local.routes import ID

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables_local.stripe_local.messages import Request, Response
    from receivables_local.stripe_local.objects import Instrument, PaymentOutcome, Store

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class HostedPages:
    """The pages a customer opens in a browser, over the store."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self._clock = clock

    def checkout(self, request: Request) -> Response:
        """``/c/pay/{session}``: an open session's page (GET) or its form POST (`_pay`); the notice
        of a session no longer open; 404 when there is no such session."""
        match = re.fullmatch(r"/c/pay/" + ID, request.path)
        if match is None:
            return html_response(
                404, checkout_page.render_notice("Not found", "There is no such checkout page.")
            )
        if request.method not in ("GET", "POST"):
            page = checkout_page.render_notice("Method not allowed", "Open this page in a browser.")
            return html_response(405, page, {"Allow": "GET, POST"})
        session_id = match.group(1)
        with self.store.lock:
            self.store.expire_due()
            self.store.settle_due()
            try:
                session = self.store.retrieve("checkout.session", session_id)
            except StripeError:
                return html_response(
                    404,
                    checkout_page.render_notice("Not found", "This checkout page does not exist."),
                )
            if session["status"] != "open":
                intent_id = session.get("payment_intent")
                intent = self.store.retrieve("payment_intent", str(intent_id)) if intent_id else None
                return self._closed(session, intent)
            if request.method == "GET":
                page = checkout_page.render_checkout(
                    session,
                    self.store.session_products(session_id),
                    known_email=self.store.session_email(session),
                )
                return html_response(200, page)
            return self._pay(session, request)

    @staticmethod
    def _closed(session: dict[str, Any], intent: dict[str, Any] | None) -> Response:
        """The page of a session that is no longer open: done (paid, saved, a debit processing
        or refused by the bank), or expired (410)."""
        if session["status"] == "expired":
            cancel = session.get("cancel_url")
            page = checkout_page.render_notice(
                "Session expired",
                "This checkout session has expired. Ask for a new payment link.",
                link=str(cancel) if cancel else None,
            )
            return html_response(410, page)
        if session["mode"] == "setup":
            title, message = "Already saved", "Your payment details are already saved. Thank you!"
        elif session["payment_status"] == "paid":
            title, message = "Already paid", "This checkout session is already paid. Thank you!"
        elif intent is not None and intent["status"] == "requires_payment_method":
            title, message = (
                "Payment failed",
                "Your bank did not accept this payment. Ask for a new payment link.",
            )
        else:
            title, message = "Payment processing", "Your bank is processing this payment. Thank you!"
        page = checkout_page.render_notice(
            title,
            message,
            link=str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", str(session["id"])),
            link_text="Continue",
        )
        return html_response(200, page)

    def _pay(self, session: dict[str, Any], request: Request) -> Response:
        """The form POST: ``method`` (card when absent) says which form; bad input or a refusal
        shows the page again with ``#error`` (402), success redirects (303) to ``success_url``."""
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        method = form.get("method") or "card"
        name = form.get("name", "").strip()
        typed_email = form.get("email", "").strip()
        session_id = str(session["id"])
        known_email = self.store.session_email(session)

        def refused(message: str) -> Response:
            page = checkout_page.render_checkout(
                session,
                self.store.session_products(session_id),
                error=message,
                method=method,
                name=name,
                email=typed_email,
                known_email=known_email,
            )
            return html_response(402, page)

        if method not in session["payment_method_types"]:
            return refused("This payment method is not available for this checkout session.")
        email = known_email or typed_email
        if not email:
            return refused("Your email is incomplete.")
        if not _EMAIL.match(email):
            return refused("Your email address is invalid.")
        try:
            instrument = self._instrument(method, form)
        except (CardInputError, BankInputError) as exc:
            return refused(str(exc))
        if method != "card" and not name:
            return refused("Your name is incomplete.")
        outcome = self._confirm(session, instrument, email, name, request)
        if not outcome.paid:
            return refused(outcome.decline_message or "Your card was declined.")
        location = str(outcome.redirect_url)
        if session["mode"] == "setup":
            title = "Saved"
        elif method == "card":
            title = "Paid"
        else:
            title = "Payment submitted"
        page = checkout_page.render_notice(
            title, "Thank you! Redirecting…", link=location, link_text="Continue"
        )
        return html_response(303, page, {"Location": location})

    def _instrument(self, method: str, form: dict[str, str]) -> Instrument:
        """The card or bank account of the submitted form, checked."""
        if method == "sepa_debit":
            return read_iban(form.get("iban", ""))
        if method == "us_bank_account":
            return read_us_bank_account(form.get("routing_number", ""), form.get("account_number", ""))
        card: Card = read_card(
            form.get("cardnumber", ""), form.get("exp", ""), form.get("cvc", ""), self._clock()
        )
        return card

    def _confirm(
        self, session: dict[str, Any], instrument: Instrument, email: str, name: str, request: Request
    ) -> PaymentOutcome:
        session_id = str(session["id"])
        acceptance = Acceptance(request.client_address, request.headers.get("User-Agent"))
        if session["mode"] == "setup":
            return self.store.save(session_id, instrument, email, name or None, acceptance)
        if isinstance(instrument, Card):
            return self.store.pay(session_id, instrument, email, name or None)
        return self.store.pay_debit(session_id, instrument, email, name, acceptance)

    def mandate(self, path: str) -> Response:
        """``/mandates/{id}``: the text the customer accepted, with the mandate's reference."""
        match = re.fullmatch(r"/mandates/" + ID, path)
        try:
            mandate = self.store.retrieve("mandate", match.group(1) if match else "")
        except StripeError:
            return html_response(404, checkout_page.render_notice("Not found", "There is no such mandate."))
        return html_response(200, checkout_page.render_mandate(mandate))
