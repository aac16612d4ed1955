"""The customer pays on the hosted page: a card charge, a debit under a single-use mandate, or (in
setup mode) a payment method saved with a SetupIntent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local.objects.api import NO_REQUEST, StripeError
from receivables_local.stripe_local.objects.cards import Card
from receivables_local.stripe_local.objects.checkout import CheckoutSessions
from receivables_local.stripe_local.objects.payment_intents import PaymentIntents
from receivables_local.stripe_local.objects.payment_methods import PaymentMethods
from receivables_local.stripe_local.objects.setup_intents import SetupIntents

if TYPE_CHECKING:
    from receivables_local.stripe_local.bank import BankAccount
    from receivables_local.stripe_local.objects.cards import Instrument
    from receivables_local.stripe_local.objects.payment_methods import Acceptance


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What the customer's confirmation did: done (paid, submitted for debit, or saved; and
    where to go) or declined (and why)."""

    paid: bool
    redirect_url: str | None = None
    decline_message: str | None = None


class HostedPage(CheckoutSessions, PaymentIntents, PaymentMethods, SetupIntents):
    """What the customer does on a session's hosted page."""

    def session_email(self, session: dict[str, Any]) -> str | None:
        """The email the hosted page already knows: ``customer_email``, else the customer's."""
        with self.lock:
            if session.get("customer_email"):
                return str(session["customer_email"])
            customer = self._objects.get(str(session.get("customer") or ""))
            email = customer.get("email") if customer is not None else None
            return str(email) if email else None

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self._get("checkout.session", session_id)
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.", param="session")
        return session

    @staticmethod
    def _success_url(session: dict[str, Any]) -> str:
        return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", str(session["id"]))

    def _complete(self, session: dict[str, Any], email: str, name: str | None, payment_status: str) -> None:
        session.update(
            status="complete",
            payment_status=payment_status,
            url=None,
            customer_details={
                "address": None,
                "email": email,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        self._emit("checkout.session.completed", session, NO_REQUEST)

    def pay(self, session_id: str, card: Card, email: str, name: str | None) -> PaymentOutcome:
        """The customer confirms the hosted page (payment mode) with ``card``: charge it, then
        complete the session or record the decline. The caller checked that the session is open."""
        with self.lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session)
            method = self._new_payment_method(card, email, name)
            decline = card.decline
            if decline is not None:
                self._decline(intent, method, decline, NO_REQUEST)
                return PaymentOutcome(paid=False, decline_message=decline.message)
            charge = self._succeed(intent, method, NO_REQUEST)
            self._complete(session, email, name, "paid")
            reason = card.dispute_reason
            if reason is not None:
                self._open_dispute(charge, reason)
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def pay_debit(
        self, session_id: str, account: BankAccount, email: str, name: str, acceptance: Acceptance
    ) -> PaymentOutcome:
        """The customer confirms the hosted page (payment mode) with a bank account and accepts
        the mandate: the PaymentIntent is ``processing`` with a ``pending`` charge and the session
        completes unpaid (``payment_intent.processing``, ``charge.pending``,
        ``checkout.session.completed``); the bank answers when the debit settles (`settle_due`)."""
        with self.lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session)
            method = self._new_payment_method(account, email, name)
            single_use = {"amount": intent["amount"], "currency": intent["currency"]}
            mandate = self._new_mandate(method, acceptance, single_use)
            self._start_debit(intent, method, mandate, NO_REQUEST)
            self._complete(session, email, name, "unpaid")
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def save(
        self, session_id: str, instrument: Instrument, email: str, name: str | None, acceptance: Acceptance
    ) -> PaymentOutcome:
        """The customer confirms the hosted page of a setup-mode session: a SetupIntent saves the
        card or account (with a multi-use mandate for a debit) and attaches it to the session's
        customer (``setup_intent.created``, ``setup_intent.succeeded``, ``payment_method.attached``,
        ``checkout.session.completed``). A card the issuer refuses records the refusal
        (``setup_intent.setup_failed``) and the session stays open."""
        with self.lock:
            session = self._open_session(session_id)
            setup = self._setup_intent_for(session)
            method = self._new_payment_method(instrument, email, name)
            decline = instrument.setup_decline if isinstance(instrument, Card) else None
            if decline is not None:
                error = self._payment_error(None, method, decline.code, decline.message, "card_error")
                error["decline_code"] = decline.decline_code
                setup.update(status="requires_payment_method", last_setup_error=dict(sorted(error.items())))
                self._emit("setup_intent.setup_failed", setup, NO_REQUEST)
                return PaymentOutcome(paid=False, decline_message=decline.message)
            mandate = None if isinstance(instrument, Card) else self._new_mandate(method, acceptance, None)
            customer = session["customer"]
            method["customer"] = customer
            setup.update(
                status="succeeded", payment_method=method["id"], mandate=mandate, last_setup_error=None
            )
            self._emit("setup_intent.succeeded", setup, NO_REQUEST)
            if customer is not None:
                self._emit("payment_method.attached", method, NO_REQUEST)
            self._complete(session, email, name, "no_payment_required")
            return PaymentOutcome(paid=True, redirect_url=self._success_url(session))

    def _intent_for(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session's PaymentIntent, created (``payment_intent.created``) at the first attempt."""
        if session["payment_intent"] is not None:
            return self._objects[session["payment_intent"]]
        data = self._intent_data[session["id"]]
        intent = self._new_intent(
            amount=int(session["amount_total"]),
            currency=str(session["currency"]),
            customer=session["customer"],
            description=data["description"],
            metadata=data["metadata"],
            methods=list(session["payment_method_types"]),
            allowed=session["allowed_payment_method_types"],
        )
        session["payment_intent"] = intent["id"]
        self._emit("payment_intent.created", intent, NO_REQUEST)
        return intent
