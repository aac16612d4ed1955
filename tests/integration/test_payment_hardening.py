"""Payments hardened against the outside probe (issue 28): pay links, POST /payments, customers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from receivables.customers.links import LinkScope, sign_link
from receivables.kernel.errors import InvalidRequestError
from receivables.kernel.money import Money
from receivables.ledger.model import InvoiceStatus
from receivables.payments.allocation import Receipt, payment_id_for, record_receipt
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings, Redirect, open_pay_link
from receivables_local.functions import function_module, load_function
from tests.integration.test_credit_and_manual_payments import api_event
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


# --- POST /payments --------------------------------------------------------------------------------
@pytest.fixture
def finance(ledger: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """POST /payments of the finance API, in-process on the ledger's clock (2026-11-02 09:00)."""
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (ledger.settings, ledger.clock))

    def call(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = module.app(api_event("POST", "/payments", body), None)
        return response["statusCode"], json.loads(response["body"])

    return call


def transfer(**fields: Any) -> dict[str, Any]:
    return {
        "amount": "100.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "external_id": "BANK-H-1",
        "received_at": "2026-11-02",
        **fields,
    }


def untouched() -> bool:
    """Neither invoice paid, no payment recorded."""
    p, q = store.get_invoice(inv("H-1")), store.get_invoice(inv("H-2"))
    assert p is not None and q is not None
    return (p.balance, q.balance) == (Money(10000, "EUR"), Money(4000, "EUR")) and store.get_payment(
        payment_id_for("bank", "BANK-H-1")
    ) is None


def fields_of(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in body["errors"]}


# --- D6 --------------------------------------------------------------------------------------------
def test_a_payment_never_pays_another_customers_invoice(finance: Any) -> None:
    # Given customer Q's transfer naming P's invoice
    # When finance records it
    status, body = finance(transfer(customer_id=customer_of("H-2"), invoices=["H-1"]))

    # Then it is refused, naming the invoice, and nothing is booked
    assert status == 400 and "another customer" in fields_of(body)["invoices[0]"]
    assert untouched()


def test_a_transfer_naming_invoices_of_two_customers_pays_neither(finance: Any) -> None:
    status, body = finance(transfer(amount="140.00", invoices=["H-1", "H-2"]))

    assert status == 400 and set(fields_of(body)) == {"invoices[1]"}
    assert untouched()


def test_a_receipt_never_pays_another_customers_invoice_and_its_money_waits_on_the_payer(
    ledger: Aws,
) -> None:
    # Given a receipt of customer Q whose targets name P's invoice (and none of Q's)
    q = customer_of("H-2")
    receipt = Receipt(
        "stripe",
        "pi_q",
        Money(10000, "EUR"),
        "2026-11-02T09:00:00.000Z",
        "card",
        q,
        "stripe pi_q",
        (inv("H-1"),),
    )

    # When the ledger records it
    outcome = record_receipt(receipt, ledger.clock)

    # Then P's invoice is untouched, nor is Q's guessed at: the money waits on Q, the refusal audited
    p_invoice, q_invoice = store.get_invoice(inv("H-1")), store.get_invoice(inv("H-2"))
    assert p_invoice is not None and p_invoice.status is InvoiceStatus.OPEN
    assert q_invoice is not None and q_invoice.status is InvoiceStatus.OPEN
    payment = outcome.payment
    assert (payment.customer_id, payment.allocations, payment.unapplied) == (q, (), Money(10000, "EUR"))
    (received,) = store.audit_events(store.payment_pk(payment.payment_id))
    (refusal,) = received.data["refused_targets"]
    assert refusal["invoice_id"] == inv("H-1") and "not of the payer" in refusal["reason"]
    assert [p.payment_id for p in store.unapplied_payments("EUR")] == [payment.payment_id]


# --- D15 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "received_at",
    ["2099-01-01", "0001-01-01", "1999-12-31", "2015-12-31", "2026-11-04", "0001-01-01T00:00:00+05:00"],
)
def test_a_payment_dated_implausibly_is_refused(finance: Any, received_at: str) -> None:
    # The clock says 2026-11-02 09:00: a day ahead at most, from 2016-01-01 (ten years back)
    status, body = finance(transfer(received_at=received_at))

    assert status == 400 and set(fields_of(body)) == {"received_at"}
    assert untouched()


@pytest.mark.parametrize("received_at", ["2026-11-03", "2016-01-01", "2026-11-03T08:59:00Z"])
def test_a_payment_dated_within_the_window_is_recorded(finance: Any, received_at: str) -> None:
    status, body = finance(transfer(received_at=received_at, invoices=["H-1"]))
    assert status == 201, body


def test_a_payment_of_an_unknown_customer_is_refused_naming_customer_id(finance: Any) -> None:
    status, body = finance(transfer(customer_id="cus_nobody", reference="H-1"))

    assert status == 400 and set(fields_of(body)) == {"customer_id"}
    assert untouched()


def test_an_invoice_number_that_matches_nothing_is_refused_naming_it(finance: Any) -> None:
    status, body = finance(transfer(invoices=["H-1", "H-404"]))

    assert status == 400 and fields_of(body) == {"invoices[1]": "H-404 matches no invoice"}
    assert untouched()


@pytest.mark.parametrize("amount", ["1000000000000000000000000000.00", "10000000000000.01"])
def test_an_amount_beyond_any_real_payment_is_refused(finance: Any, amount: str) -> None:
    status, body = finance(transfer(amount=amount))

    assert status == 400 and set(fields_of(body)) == {"amount"}
    assert untouched()


def test_the_ledger_itself_refuses_a_receipt_typed_in_with_a_date_far_ahead(ledger: Aws) -> None:
    receipt = Receipt(
        "bank",
        "BANK-H-1",
        Money(10000, "EUR"),
        "2099-01-01T00:00:00.000Z",
        "bank_transfer",
        entered_by_hand=True,
    )
    with pytest.raises(InvalidRequestError, match="received_at"):
        record_receipt(receipt, ledger.clock)
    assert untouched()
