"""Stripe through the official SDK's `StripeClient`: the calls the portal, the sweep, the disputes
and the webhook (a payout's balance transactions) make.

The client is built on first use (importing ``stripe`` costs cold start only where a call is
made) and again when the secret rotates; ``api_base`` points it at the local runtime's Stripe.
Every call that creates something carries an idempotency key. A card refused off-session is not
an outage: it comes back as `ChargeDeclinedError` with the PaymentIntent Stripe created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from receivables.kernel.errors import ReceivablesError, UnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable


class StripeUnavailableError(UnavailableError):
    """Stripe could not be reached or refused the request: try again later."""


class StripeRefusedError(StripeUnavailableError):
    """Stripe refused the request itself (no such session, a bad parameter): trying again will
    not help."""


class ChargeDeclinedError(ReceivablesError):
    """An off-session charge was declined: ``payment_intent`` is the PaymentIntent (with its
    ``last_payment_error``), ``reason`` the decline message."""

    def __init__(self, reason: str, payment_intent: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payment_intent = payment_intent


def stripe_client(api_key: str, api_base: str | None = None) -> Any:
    """The one way we build the SDK's `StripeClient`: two network retries, pointed at
    ``api_base`` (the local runtime's Stripe) when it is given."""
    # The SDK loads on the first call that needs it, not at cold start.
    import stripe

    addresses: Any = {"api": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=2)


class StripeGateway:
    """The Stripe calls we make, with the secret read through ``api_key`` (cached by the caller)."""

    def __init__(self, api_key: Callable[[], str], api_base: str | None = None) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._clients: dict[str, Any] = {}

    def _client(self) -> Any:
        secret = self._api_key()
        client = self._clients.get(secret)
        if client is None:
            client = self._clients[secret] = stripe_client(secret, self._api_base)
        return client

    def _call(self, call: Callable[[Any], Any]) -> dict[str, Any]:
        import stripe

        try:
            result = call(self._client())
        except stripe.InvalidRequestError as exc:
            raise StripeRefusedError(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise StripeUnavailableError(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        data: dict[str, Any] = result.to_dict()
        return data

    def stage_dispute_evidence(self, dispute_id: str, evidence: dict[str, str]) -> dict[str, Any]:
        """Stage a chargeback's evidence on Stripe, without submitting it (finance submits)."""
        params: Any = {"evidence": evidence, "submit": False}
        return self._call(lambda c: c.v1.disputes.update(dispute_id, params=params))

    def create_session(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        """A Checkout Session (payment or setup mode)."""
        return self._call(
            lambda c: c.v1.checkout.sessions.create(
                params=cast("Any", params), options={"idempotency_key": key}
            )
        )

    def retrieve_session(self, session_id: str, expand: tuple[str, ...] = ()) -> dict[str, Any]:
        """A Checkout Session, with ``expand`` paths (``setup_intent.payment_method``)."""
        params: Any = {"expand": list(expand)} if expand else None
        return self._call(lambda c: c.v1.checkout.sessions.retrieve(session_id, params=params))

    def create_customer(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        """A Stripe Customer (the owner of saved payment methods)."""
        return self._call(
            lambda c: c.v1.customers.create(params=cast("Any", params), options={"idempotency_key": key})
        )

    def payout_transactions(self, payout_id: str) -> list[dict[str, Any]]:
        """Every balance transaction the payout ``payout_id`` paid out (its own ``payout``
        transaction included), each ``source`` expanded (a charge, with its PaymentIntent), read
        page by page (100 at a time, ``starting_after``) to the end."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: Any = {"payout": payout_id, "limit": 100, "expand": ["data.source"]}
            if after is not None:
                params["starting_after"] = after

            def listed(client: Any, params: Any = params) -> Any:
                return client.v1.balance_transactions.list(params=params)

            page = self._call(listed)
            data = list(page.get("data") or [])
            found.extend(data)
            if not page.get("has_more") or not data:
                return found
            after = str(data[-1]["id"])

    def charge(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        """Create and confirm a PaymentIntent off-session: succeeded or processing; a decline
        raises `ChargeDeclinedError` with the PaymentIntent."""
        import stripe

        try:
            intent = self._client().v1.payment_intents.create(
                params=cast("Any", params), options={"idempotency_key": key}
            )
        except stripe.CardError as exc:
            error = exc.error
            raw = error.payment_intent if error is not None else None
            payment_intent: dict[str, Any] = raw.to_dict() if raw is not None else {}
            raise ChargeDeclinedError(str(exc.user_message or exc), payment_intent) from exc
        except stripe.InvalidRequestError as exc:
            # Refused for good (a detached method, a mandate that cannot pay this currency):
            # the invoice goes to dunning with Stripe's reason, rather than being tried daily.
            raise ChargeDeclinedError(f"Stripe refused the charge: {exc.user_message or exc}", {}) from exc
        except stripe.StripeError as exc:
            raise StripeUnavailableError(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        data: dict[str, Any] = intent.to_dict()
        return data
