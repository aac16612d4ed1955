"""`Store`: every resource of the local account in one object, and what happens on its own."""

from __future__ import annotations

from receivables_local.stripe_local.objects.customers import Customers
from receivables_local.stripe_local.objects.events import Events
from receivables_local.stripe_local.objects.hosted_page import HostedPage
from receivables_local.stripe_local.objects.refunds import Refunds


class Store(HostedPage, Customers, Refunds, Events):
    """Every object of the local account, with the operations of the API and the hosted page."""

    def next_due(self) -> int | None:
        """The earliest epoch second at which something happens here on its own (a pending debit
        settles, an open Checkout Session expires, money becomes available to pay out); None when
        nothing waits for the clock."""
        with self.lock:
            dues = list(self._pending.values())
            dues += [s["expires_at"] for s in self._all("checkout.session") if s["status"] == "open"]
            payout = self.next_payout_due()
            if payout is not None:
                dues.append(payout)
            return min(dues) if dues else None
