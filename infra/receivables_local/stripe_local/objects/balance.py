"""The account's balance: a balance transaction for every movement of money, and automatic payouts.

Every charge that succeeds (a card at once, a debit when it settles) adds a ``charge`` balance
transaction: its ``amount``, Stripe's ``fee`` (`fee_for`, the one place the local prices live),
``net`` = amount - fee, ``available_on`` `PAYOUT_DELAY_SECONDS` later (at the start of that UTC
day, as Stripe dates it) and ``source`` the charge; the charge's ``balance_transaction`` names it.
A refund adds a negative ``refund`` transaction, available at once (Stripe keeps the fee); a
dispute an ``adjustment`` that takes the amount back with the dispute fee, and another that gives
the amount back when the dispute is won.

Automatic payouts are off unless the store is made with ``automatic_payouts`` (the local runtime
turns them on; the tests of everything else keep the events they expect). When on, the clock
pays out (`Balance.pay_out_due`, fired by the server's sweep or the runtime's clock at
`Balance.next_payout_due`) everything that has become available, per currency: a ``payout``
object (``po_…``, ``automatic``, ``status`` ``paid``, ``arrival_date`` the next UTC day), its own
negative ``payout`` balance transaction, and the ``payout.created`` and ``payout.paid`` webhooks.
A currency whose available balance is not positive is carried over to the next payout.
``GET /v1/balance_transactions?payout=po_…`` lists what one payout paid out (the payout's own
transaction included, as at Stripe).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.objects.api import NO_REQUEST, new_id
from receivables_local.stripe_local.objects.core import StoreCore
from receivables_local.stripe_local.objects.money import currency_exponent

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params

DAY_SECONDS = 24 * 3600
# How long a charge's money stays pending before it may be paid out (Stripe's standard payout
# schedule in most of the EEA: two days after the charge).
PAYOUT_DELAY_SECONDS = 2 * DAY_SECONDS

# Stripe's standard prices (stripe.com/pricing, for an account in the EEA), in one place:
# - cards: 1.5 % + 0.25 of the currency's unit per successful charge (standard EEA cards; the
#   local Stripe applies it to every card and currency);
# - SEPA Direct Debit: 0.35 per successful debit;
# - ACH Direct Debit: 0.8 %, at most 5.00.
# - a dispute: the disputed amount is taken back at once, with a fee of 20.00 kept whatever the
#   outcome; a dispute won gives the amount back.
# Refunds cost nothing more and give no fee back.
CARD_FEE_BASIS_POINTS = 150
CARD_FEE_FIXED_HUNDREDTHS = 25  # 0.25 of the currency's unit
SEPA_DEBIT_FEE_HUNDREDTHS = 35
ACH_DEBIT_FEE_BASIS_POINTS = 80
ACH_DEBIT_FEE_CAP_HUNDREDTHS = 500
DISPUTE_FEE_HUNDREDTHS = 2000


def _hundredths(hundredths: int, currency: str) -> int:
    """An amount given in hundredths of the currency's unit, in its minor units (0.25 EUR is 25
    cents, 0 yen, 250 fils)."""
    return int(hundredths * 10 ** currency_exponent(currency) // 100)


def _basis_points(amount: int, points: int) -> int:
    """``points`` ten-thousandths of ``amount``, rounded half up to a minor unit."""
    return (amount * points + 5000) // 10000


def fee_for(method_type: str, amount: int, currency: str) -> int:
    """Stripe's fee, in minor units, for a successful charge of ``amount`` by ``method_type``
    (``card``, ``sepa_debit``, ``us_bank_account``): see the prices above."""
    if method_type == "sepa_debit":
        return _hundredths(SEPA_DEBIT_FEE_HUNDREDTHS, currency)
    if method_type == "us_bank_account":
        return min(
            _basis_points(amount, ACH_DEBIT_FEE_BASIS_POINTS),
            _hundredths(ACH_DEBIT_FEE_CAP_HUNDREDTHS, currency),
        )
    return _basis_points(amount, CARD_FEE_BASIS_POINTS) + _hundredths(CARD_FEE_FIXED_HUNDREDTHS, currency)


def _day_start(epoch: int) -> int:
    return epoch - epoch % DAY_SECONDS


class Balance(StoreCore):
    """Balance transactions, payouts, and paying out on the clock."""

    def _add_transaction(
        self, kind: str, amount: int, fee: int, currency: str, source: str, available_on: int
    ) -> dict[str, Any]:
        """One balance transaction (``txn_…``), pending until ``available_on``."""
        now = self.now()
        fee_details = (
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        )
        txn: dict[str, Any] = {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available_on,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": None,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": kind,
            "source": source,
            "status": "available" if available_on <= now else "pending",
            "type": kind,
        }
        self._objects[txn["id"]] = txn
        return txn

    def _charge_paid(self, charge: dict[str, Any]) -> None:
        """The money of a charge that succeeded enters the balance: its ``charge`` transaction."""
        amount, currency = int(charge["amount"]), str(charge["currency"])
        fee = fee_for(str(charge["payment_method_details"]["type"]), amount, currency)
        available = self.now() + self.payout_delay_seconds
        if self.payout_delay_seconds >= DAY_SECONDS:
            available = _day_start(available)
        txn = self._add_transaction("charge", amount, fee, currency, str(charge["id"]), available)
        charge["balance_transaction"] = txn["id"]

    def _refund_paid(self, refund: dict[str, Any]) -> None:
        """A refund leaves the balance at once: a negative ``refund`` transaction."""
        txn = self._add_transaction(
            "refund", -int(refund["amount"]), 0, str(refund["currency"]), str(refund["id"]), self.now()
        )
        refund["balance_transaction"] = txn["id"]

    def _dispute_withdrawn(self, dispute: dict[str, Any]) -> None:
        """A dispute takes its amount back from the balance at once, with the dispute fee: an
        ``adjustment`` transaction, listed on the dispute."""
        currency = str(dispute["currency"])
        fee = _hundredths(DISPUTE_FEE_HUNDREDTHS, currency)
        txn = self._add_transaction(
            "adjustment", -int(dispute["amount"]), fee, currency, str(dispute["id"]), self.now()
        )
        txn["reporting_category"] = "dispute"
        dispute["balance_transactions"].append(copy.deepcopy(txn))

    def _dispute_reinstated(self, dispute: dict[str, Any]) -> None:
        """A dispute won gives the amount back (the fee stays with Stripe)."""
        txn = self._add_transaction(
            "adjustment", int(dispute["amount"]), 0, str(dispute["currency"]), str(dispute["id"]), self.now()
        )
        txn["reporting_category"] = "dispute_reversal"
        dispute["balance_transactions"].append(copy.deepcopy(txn))

    # -- listing -------------------------------------------------------------------------------

    def list_balance_transactions(self, params: Params) -> dict[str, Any]:
        """``GET /v1/balance_transactions``, newest first; ``payout`` (what one payout paid out,
        its own transaction included), ``type``, ``source`` and ``currency`` filter."""
        with self.lock:
            items = self._all("balance_transaction")
            payout = forms.string(params, "payout")
            if payout is not None:
                self._get("payout", payout, 400, "payout")
                items = [t for t in items if self._payout_of.get(t["id"]) == payout or t["source"] == payout]
            for key in ("type", "source", "currency"):
                wanted = forms.string(params, key)
                if wanted is not None:
                    items = [t for t in items if t[key] == wanted]
            return self.page(items, params, "/v1/balance_transactions")

    def list_payouts(self, params: Params) -> dict[str, Any]:
        """``GET /v1/payouts``, newest first; ``status`` filters."""
        with self.lock:
            items = self._all("payout")
            status = forms.string(params, "status")
            if status is not None:
                items = [p for p in items if p["status"] == status]
            return self.page(items, params, "/v1/payouts")

    # -- paying out ----------------------------------------------------------------------------

    def _unpaid(self) -> list[dict[str, Any]]:
        """The transactions no payout has taken yet, oldest first."""
        return [
            t
            for t in reversed(self._all("balance_transaction"))
            if t["type"] != "payout" and t["id"] not in self._payout_of
        ]

    def next_payout_due(self) -> int | None:
        """When money next becomes available to pay out (None with payouts off, or nothing
        waiting but what was carried over)."""
        with self.lock:
            if not self.automatic_payouts:
                return None
            # Money in sets a payout's time; a refund waits for the next one (it cannot make one).
            dues = [
                int(t["available_on"])
                for t in self._unpaid()
                if int(t["net"]) > 0 and t["id"] not in self._carried
            ]
            return min(dues) if dues else None

    def pay_out_due(self) -> int:
        """Pay out everything available by the clock, one payout per currency whose available
        balance is positive; the number of payouts made (0 with payouts off)."""
        with self.lock:
            if not self.automatic_payouts:
                return 0
            now = self.now()
            by_currency: dict[str, list[dict[str, Any]]] = {}
            for txn in self._unpaid():
                if int(txn["available_on"]) <= now:
                    txn["status"] = "available"
                    by_currency.setdefault(str(txn["currency"]), []).append(txn)
            made = 0
            for currency, txns in sorted(by_currency.items()):
                amount = sum(int(t["net"]) for t in txns)
                if amount <= 0:
                    self._carried.update(t["id"] for t in txns)
                    continue
                self._pay_out(currency, amount, txns, now)
                made += 1
            return made

    def _pay_out(self, currency: str, amount: int, txns: list[dict[str, Any]], now: int) -> None:
        payout_id = new_id("po_")
        own = self._add_transaction("payout", -amount, 0, currency, payout_id, now)
        payout: dict[str, Any] = {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": _day_start(now) + DAY_SECONDS,
            "automatic": True,
            "balance_transaction": own["id"],
            "created": now,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": None,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "original_payout": None,
            "reconciliation_status": "completed",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": None,
            "status": "paid",
            "type": "bank_account",
        }
        self._objects[payout_id] = payout
        for txn in txns:
            self._payout_of[str(txn["id"])] = payout_id
            self._carried.discard(str(txn["id"]))
        self._emit("payout.created", copy.deepcopy(payout), NO_REQUEST)
        self._emit("payout.paid", payout, NO_REQUEST)
