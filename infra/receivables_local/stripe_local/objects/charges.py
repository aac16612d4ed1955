"""Charges: a card pays or is declined at once; a debit is ``pending`` until it settles on the clock
(`Charges.settle_due`), paid or failed as its test account number says."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local.objects.api import NO_REQUEST, new_id
from receivables_local.stripe_local.objects.cards import GENERIC_DECLINE, Card
from receivables_local.stripe_local.objects.disputes import Disputes

if TYPE_CHECKING:
    from receivables_local.stripe_local.bank import DebitFailure
    from receivables_local.stripe_local.objects.api import RequestInfo
    from receivables_local.stripe_local.objects.cards import Decline


def _approved(risk_level: str) -> dict[str, Any]:
    return {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": risk_level,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def _declined(reason: str, seller_message: str, risk_level: str) -> dict[str, Any]:
    return {
        "network_status": "declined_by_network",
        "reason": reason,
        "risk_level": risk_level,
        "seller_message": seller_message,
        "type": "issuer_declined",
    }


def _card_declined(decline: Decline) -> dict[str, Any]:
    message = (
        "The bank did not return any further details with this decline."
        if decline is GENERIC_DECLINE
        else f"The bank returned the decline code `{decline.decline_code}`."
    )
    return _declined(decline.decline_code, message, "normal")


def _doc_url(code: str) -> str:
    return f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"


class Charges(Disputes):
    """Charges of a PaymentIntent, and the settlement of pending debits."""

    def _charge(
        self,
        intent: dict[str, Any],
        method: dict[str, Any],
        status: str,
        *,
        decline: Decline | None = None,
        mandate: str | None = None,
    ) -> dict[str, Any]:
        """A charge of ``intent`` with ``method``: ``succeeded``, ``failed`` (a card ``decline``)
        or ``pending`` (a debit under ``mandate``)."""
        instrument = self._instruments[method["id"]]
        kind = str(method["type"])
        paid = status == "succeeded"
        risk = "normal" if kind == "card" else "not_assessed"
        charge: dict[str, Any] = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if paid else 0,
            "amount_refunded": 0,
            "balance_transaction": None,
            "billing_details": copy.deepcopy(method["billing_details"]),
            "captured": paid,
            "created": self.now(),
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_code": None if decline is None else decline.code,
            "failure_message": None if decline is None else decline.message,
            "livemode": False,
            "metadata": copy.deepcopy(intent["metadata"]),
            "outcome": _approved(risk) if decline is None else _card_declined(decline),
            "paid": paid,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {"type": kind, kind: instrument.charge_details(mandate)},
            "receipt_email": None,
            "refunded": False,
            "status": status,
        }
        self._objects[charge["id"]] = charge
        return charge

    @staticmethod
    def _payment_error(
        charge: dict[str, Any] | None, method: dict[str, Any], code: str, message: str, error_type: str
    ) -> dict[str, Any]:
        """A ``last_payment_error`` / ``last_setup_error``: the error with the payment method."""
        error: dict[str, Any] = {} if charge is None else {"charge": charge["id"]}
        error.update(
            code=code,
            doc_url=_doc_url(code),
            message=message,
            payment_method=copy.deepcopy(method),
            payment_method_type=method["type"],
            type=error_type,
        )
        return error

    def _succeed(
        self, intent: dict[str, Any], method: dict[str, Any], request: RequestInfo
    ) -> dict[str, Any]:
        """A card pays ``intent`` at once: ``charge.succeeded``, ``payment_intent.succeeded``."""
        charge = self._charge(intent, method, "succeeded")
        self._charge_paid(charge)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            payment_method=method["id"],
        )
        self._emit("charge.succeeded", charge, request)
        self._emit("payment_intent.succeeded", intent, request)
        return charge

    def _decline(
        self, intent: dict[str, Any], method: dict[str, Any], decline: Decline, request: RequestInfo
    ) -> dict[str, Any]:
        """The issuer declines a card charge: the failed charge, the intent back to
        ``requires_payment_method`` (``charge.failed``, ``payment_intent.payment_failed``)."""
        charge = self._charge(intent, method, "failed", decline=decline)
        error = self._payment_error(charge, method, decline.code, decline.message, "card_error")
        error["decline_code"] = decline.decline_code
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            last_payment_error=dict(sorted(error.items())),
        )
        self._emit("charge.failed", charge, request)
        self._emit("payment_intent.payment_failed", intent, request)
        return charge

    def _start_debit(
        self, intent: dict[str, Any], method: dict[str, Any], mandate: str, request: RequestInfo
    ) -> dict[str, Any]:
        """Submit a debit: the intent ``processing``, a ``pending`` charge that settles
        ``debit_settlement_seconds`` later (``payment_intent.processing``, ``charge.pending``)."""
        charge = self._charge(intent, method, "pending", mandate=mandate)
        intent.update(
            status="processing",
            latest_charge=charge["id"],
            last_payment_error=None,
            payment_method=method["id"],
        )
        self._emit("payment_intent.processing", intent, request)
        self._emit("charge.pending", charge, request)
        self._pending[charge["id"]] = self.now() + self.debit_settlement_seconds
        return charge

    # -- settlement --------------------------------------------------------------------------

    def settle_due(self) -> int:
        """Settle every pending debit whose time has come by the clock, oldest first, as the bank
        answers for its test number; the number settled. Paid: ``charge.succeeded``,
        ``payment_intent.succeeded`` (and ``checkout.session.async_payment_succeeded`` for a
        Checkout payment; a dispute follows for the dispute numbers). Refused: ``charge.failed``,
        ``payment_intent.payment_failed`` (and ``checkout.session.async_payment_failed``)."""
        with self.lock:
            now = self.now()
            due = [charge_id for charge_id, settles_at in self._pending.items() if settles_at <= now]
            for charge_id in due:
                del self._pending[charge_id]
                self._settle(self._objects[charge_id])
            return len(due)

    def _settle(self, charge: dict[str, Any]) -> None:
        intent = self._objects[charge["payment_intent"]]
        method = self._objects[charge["payment_method"]]
        account = self._instruments[method["id"]]
        assert not isinstance(account, Card), "only debits are pending"
        outcome = account.outcome
        session = next(
            (s for s in self._all("checkout.session") if s["payment_intent"] == intent["id"]), None
        )
        if outcome.failure is not None:
            self._fail_debit(charge, intent, method, session, outcome.failure)
            return
        charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"])
        self._charge_paid(charge)
        self._emit("charge.succeeded", charge, NO_REQUEST)
        intent.update(status="succeeded", amount_received=intent["amount"])
        self._emit("payment_intent.succeeded", intent, NO_REQUEST)
        if session is not None:
            session["payment_status"] = "paid"
            self._emit("checkout.session.async_payment_succeeded", session, NO_REQUEST)
        if outcome.dispute_reason is not None:
            self._open_dispute(charge, outcome.dispute_reason, final=True)

    def _fail_debit(
        self,
        charge: dict[str, Any],
        intent: dict[str, Any],
        method: dict[str, Any],
        session: dict[str, Any] | None,
        failure: DebitFailure,
    ) -> None:
        charge.update(
            status="failed",
            failure_code=failure.code,
            failure_message=failure.message,
            outcome=_declined(failure.code, failure.message, "not_assessed"),
        )
        self._emit("charge.failed", charge, NO_REQUEST)
        error = self._payment_error(charge, method, failure.code, failure.message, "invalid_request_error")
        intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
        self._emit("payment_intent.payment_failed", intent, NO_REQUEST)
        if session is not None:
            self._emit("checkout.session.async_payment_failed", session, NO_REQUEST)
