"""Payments hardened against the outside probe (issue 28): pay links, POST /payments, customers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables import store
from receivables.checkout import PayLinkSettings, Redirect, open_pay_link
from receivables.links import LinkScope, sign_link
from tests.integration.test_mailer_and_pay_link import KEY, inv

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

LEDGER = (
    "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,total_amount\n"
    "H-1,2026-10-01,2026-10-31,EUR,P1,Payer P,ap@p.example,100.00\n"
    "H-2,2026-10-02,2026-11-01,EUR,Q1,Payer Q,ap@q.example,40.00\n"
)
PAY = PayLinkSettings("https://pay.seller.example", "ar@seller.example")


@pytest.fixture
def ledger(aws: Aws) -> Aws:
    aws.drop("inbox/hardening.csv", LEDGER)
    return aws


def customer_of(number: str) -> str:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    return invoice.customer_id


class StrictStripe:
    """Checkout Sessions with Stripe's idempotency: a key sent again with the same parameters
    returns the first session, with other parameters it is refused (the pay function's 503)."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def __call__(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        if key in self.sessions:
            first, session = self.sessions[key]
            if json.dumps(first, sort_keys=True) != json.dumps(params, sort_keys=True):
                raise RuntimeError(f"idempotency_error: key {key} was used with other parameters")
            return session
        n = len(self.sessions) + 1
        session = {"id": f"cs_test_{n}", "url": f"https://checkout.example/cs_test_{n}", "status": "open"}
        self.sessions[key] = (params, session)
        return session


def pay_token(ledger: Aws, number: str, seconds: int) -> str:
    invoice = store.get_invoice(inv(number))
    assert invoice is not None
    expires = int(ledger.clock.now().timestamp()) + seconds
    return sign_link(LinkScope("pay", invoice.customer_id, invoice.invoice_id, expires), KEY)


# --- D4 --------------------------------------------------------------------------------------------
def test_a_second_valid_pay_link_of_the_same_invoice_opens_checkout_too(ledger: Aws) -> None:
    # Given two valid links of one invoice (a reminder's link beside the invoice email's)
    stripe = StrictStripe()
    first, second = pay_token(ledger, "H-1", 3600), pay_token(ledger, "H-1", 7200)
    assert first != second

    # When the customer opens both, and the first once more
    one = open_pay_link(first, KEY, stripe, ledger.clock, PAY)
    two = open_pay_link(second, KEY, stripe, ledger.clock, PAY)
    again = open_pay_link(first, KEY, stripe, ledger.clock, PAY)

    # Then each gets a Checkout Session returning to its own link; the same link the same session
    assert isinstance(one, Redirect) and isinstance(two, Redirect) and isinstance(again, Redirect)
    assert one.session_id != two.session_id and again.session_id == one.session_id
    urls = sorted(params["success_url"] for params, _ in stripe.sessions.values())
    assert urls == sorted(
        f"{PAY.public_base_url}/pay/{t}/done?session_id={{CHECKOUT_SESSION_ID}}" for t in (first, second)
    )
