"""Paying through the portal: the methods that fit the currency (the preferred one first), bank
transfer instructions, a debit shown as processing, and autopay: consent through Checkout in
setup mode, charged by the sweep once per due invoice, declined into dunning, turned off."""

from __future__ import annotations

import html
import itertools
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from receivables.adapters.stripe_api import ChargeDeclinedError
from receivables.banking.creditor_reference import compact, creditor_reference, format, is_valid
from receivables.banking.ledger_view import LedgerView
from receivables.banking.matching import Rule, decide
from receivables.banking.statement import Direction, Entry, Remittance
from receivables.collections.finance import change_customer
from receivables.kernel.money import Money
from receivables.payments.allocation import Receipt, record_receipt
from receivables.payments.autopay import charge_due
from receivables.payments.stripe_events import handle_event
from receivables.storage import store
from receivables.web.portal.service import Portal
from receivables_local.functions import function_module, load_function
from tests.integration.test_portal import KEY, LEDGER, csrf_of, customer_of, get, inv, link, post, sign_in
from tests.pdf_text import pdf_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

ACCOUNTS = {"EUR": "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"}


class FakeStripe:
    """Stripe as the portal and the sweep call it: Customers, Checkout Sessions (payment and
    setup mode), and off-session charges whose outcome each test chooses."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.customers: list[tuple[dict[str, Any], str]] = []
        self.charges: list[tuple[dict[str, Any], str]] = []
        self.outcome = "succeeded"  # or "processing", "declined"
        self._ids = itertools.count(1)

    def create_customer(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        self.customers.append((params, key))
        return {"id": f"cus_stripe_{params['metadata']['customer_id'][-6:]}", **params}

    def create_session(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        session_id = f"cs_test_{next(self._ids)}"
        session = {
            "id": session_id,
            "url": f"https://checkout.example/{session_id}",
            "status": "open",
            **params,
        }
        self.sessions[session_id] = session
        return session

    def complete_setup(self, session_id: str, kind: str = "card") -> None:
        """The payer saves a card (or a SEPA mandate) on Stripe's page."""
        details = {"brand": "visa", "last4": "4242"} if kind == "card" else {"last4": "3000"}
        method = {"id": f"pm_{session_id}", "type": kind, kind: details}
        intent = {
            "id": f"seti_{session_id}",
            "status": "succeeded",
            "payment_method": method,
            "mandate": None,
        }
        self.sessions[session_id].update(status="complete", setup_intent=intent)

    def retrieve_session(self, session_id: str, expand: tuple[str, ...] = ()) -> dict[str, Any]:
        return self.sessions[session_id]

    def charge(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        self.charges.append((params, key))
        intent = {"id": f"pi_{key}", "amount": params["amount"], "amount_received": 0, "status": self.outcome}
        if self.outcome == "declined":
            raise ChargeDeclinedError(
                "Your card was declined.", {**intent, "status": "requires_payment_method"}
            )
        if self.outcome == "succeeded":
            intent["amount_received"] = params["amount"]
        return intent


@pytest.fixture
def stripe() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def portal(aws: Aws, monkeypatch: pytest.MonkeyPatch, stripe: FakeStripe) -> Iterator[Client]:
    aws.drop("inbox/portal.csv", LEDGER)
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(
        wiring,
        "portal",
        lambda: Portal(
            KEY,
            aws.clock,
            secure=False,
            base_url="https://p.example",
            create_session=stripe.create_session,
            bank_accounts=ACCOUNTS,
            gateway=stripe,  # type: ignore[arg-type]
        ),
    )
    with Client(module.app) as client:
        yield client


def pay(portal: Client, cookie: str, method: str, *numbers: str) -> Any:
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    fields = [("csrf", token), ("method", method), *(("invoice", inv(n)) for n in numbers)]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return portal.http.post("/portal/pay", headers=headers, body=urlencode(fields).encode())


def buttons(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('name="method" value="')[1:]]


def test_the_methods_that_fit_the_currency_are_offered_the_preferred_first(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    assert buttons(get(portal, "/portal", cookie).body.decode())[:3] == [
        "card",
        "sepa_debit",
        "bank_transfer",
    ]

    refused = pay(portal, cookie, "us_bank_account", "A-1")  # ACH is for US dollars
    chosen = pay(portal, cookie, "sepa_debit", "A-1", "A-2")

    assert refused.status_code == 400 and "not available" in refused.body.decode()
    assert chosen.status_code == 303
    (params,) = [s for s in stripe.sessions.values() if s["mode"] == "payment"]
    assert params["allowed_payment_method_types"] == ["sepa_debit"]
    alpha = store.get_customer(customer_of("A-1"))
    assert alpha is not None and alpha.preferred_method == "sepa_debit"
    events = store.audit_events(store.customer_pk(alpha.customer_id))
    assert [e.data["preferred_method"] for e in events if e.type == "PreferredMethodChanged"] == [
        "sepa_debit"
    ]
    assert buttons(get(portal, "/portal", cookie).body.decode())[0] == "sepa_debit"


def test_a_bank_transfer_shows_our_account_and_a_reference_that_matches_itself(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    cookie = sign_in(portal, link(aws, "A-2"))
    answer = pay(portal, cookie, "bank_transfer", "A-2", "A-1")
    page = answer.body.decode()

    assert answer.status_code == 200 and stripe.sessions == {}
    assert 'data-amount="1250.00"' in page and ACCOUNTS["EUR"] in page
    reference = page.split('id="transfer-reference">', 1)[1].split("<", 1)[0]
    assert reference == "A-1 A-2"  # oldest due first

    at = aws.clock.now().isoformat().replace("+00:00", "Z")
    record_receipt(
        Receipt("bank", "T-77", Money(125000, "EUR"), at, "bank_transfer", reference=reference), aws.clock
    )
    for number in ("A-1", "A-2"):
        invoice = store.get_invoice(inv(number))
        assert invoice is not None and invoice.status.value == "paid", number


def test_a_debit_shows_as_processing_on_the_portal(aws: Aws, portal: Client, stripe: FakeStripe) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    pay(portal, cookie, "sepa_debit", "A-1")
    (session,) = stripe.sessions.values()
    completed = {
        **session,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "unpaid",
        "payment_intent": "pi_sepa_1",
        "payment_method_types": ["sepa_debit"],  # what Stripe computed from the allowed types
        "amount_total": 100000,
        "currency": "eur",
        "created": int(aws.clock.now().timestamp()),
    }
    handle_event(
        {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": completed}}, aws.clock
    )

    row = (
        get(portal, "/portal", cookie)
        .body.decode()
        .split(f'id="inv-{inv("A-1")}"', 1)[1]
        .split("</tr>", 1)[0]
    )
    assert "Payment processing" in row
    invoice = store.get_invoice(inv("A-1"))
    assert invoice is not None and invoice.status.value == "open" and invoice.balance == Money(100000, "EUR")


def set_up_autopay(aws: Aws, portal: Client, stripe: FakeStripe, cookie: str, **fields: str) -> Any:
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    started = post(portal, "/portal/autopay", cookie, csrf=token, consent="1", **fields)
    assert started.status_code == 303, started.body
    session_id = started.headers["Location"].rsplit("/", 1)[1]
    stripe.complete_setup(session_id, fields.get("method", "card"))
    return get(portal, f"/portal/autopay/done?session_id={session_id}", cookie)


def test_autopay_is_consented_through_checkout_in_setup_mode_and_turned_off(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    assert post(portal, "/portal/autopay", cookie, csrf=token, method="card").status_code == 400  # no consent

    done = set_up_autopay(aws, portal, stripe, cookie, method="card", max_per_invoice="700")

    assert done.status_code == 200 and "Automatic payment is on" in done.body.decode()
    (setup,) = stripe.sessions.values()
    assert setup["mode"] == "setup" and setup["allowed_payment_method_types"] == ["card"]
    assert setup["success_url"] == "https://p.example/portal/autopay/done?session_id={CHECKOUT_SESSION_ID}"
    alpha = store.get_customer(customer_of("A-1"))
    assert alpha is not None and alpha.autopay is not None
    assert (alpha.autopay.label, alpha.autopay.max_per_invoice) == ("Visa ···· 4242", Money(70000, "EUR"))
    assert setup["customer"] == alpha.stripe_customer_id
    assert 'id="autopay-on"' in get(portal, "/portal", cookie).body.decode()

    token = csrf_of(get(portal, "/portal", cookie).body.decode())
    assert post(portal, "/portal/autopay/off", cookie, csrf=token).status_code == 200
    alpha = store.get_customer(customer_of("A-1"))
    assert alpha is not None and alpha.autopay is None
    kinds = [e.type for e in store.audit_events(store.customer_pk(alpha.customer_id))]
    assert kinds.count("AutopayConsented") == 1 and kinds.count("AutopayTurnedOff") == 1


def consent_since(aws: Aws, number: str, day: str) -> None:
    """Say the customer of invoice ``number`` consented to autopay on ``day``."""
    from dataclasses import replace

    from receivables.collections.finance import change_customer

    def back(customer: Any) -> Any:
        return replace(customer, autopay=replace(customer.autopay, consented_at=f"{day}T09:00:00.000Z"))

    change_customer(customer_of(number), back, "Test", {}, "test", aws.clock)


def test_a_made_up_setup_session_is_refused_not_an_outage(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    from receivables.adapters.stripe_api import StripeRefusedError

    def missing(session_id: str, expand: tuple[str, ...] = ()) -> dict[str, Any]:
        raise StripeRefusedError(f"InvalidRequestError: No such checkout.session: '{session_id}'")

    stripe.retrieve_session = missing  # type: ignore[method-assign]
    cookie = sign_in(portal, link(aws, "A-1"))

    assert get(portal, "/portal/autopay/done?session_id=cs_test_nope", cookie).status_code == 400


def test_invoices_late_before_the_consent_are_not_charged(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:

    cookie = sign_in(portal, link(aws, "A-1"))
    set_up_autopay(aws, portal, stripe, cookie, method="card")
    consent_since(aws, "A-1", "2026-10-02")  # A-1 fell due on 1 October, before the consent

    assert charge_due(aws.clock, stripe) == type(charge_due(aws.clock, stripe))()  # type: ignore[arg-type]
    assert stripe.charges == []


def test_one_invoices_error_does_not_stop_the_others(aws: Aws, portal: Client, stripe: FakeStripe) -> None:
    aws.drop(
        "inbox/more.csv",
        LEDGER.splitlines()[0] + "\nA-3,2026-09-15,2026-10-15,EUR,ALPHA,Alpha Foods,ap@alpha.example,10.00\n",
    )
    cookie = sign_in(portal, link(aws, "A-1"))
    set_up_autopay(aws, portal, stripe, cookie, method="card")
    consent_since(aws, "A-1", "2026-09-01")
    real = stripe.charge

    def flaky(params: dict[str, Any], key: str) -> dict[str, Any]:
        if params["metadata"]["invoice_number"] == "A-1":
            raise KeyError("a bug in one charge")
        return real(params, key)

    stripe.charge = flaky  # type: ignore[method-assign]

    outcome = charge_due(aws.clock, stripe)  # type: ignore[arg-type]

    assert (outcome.errors, outcome.charged) == ([inv("A-1")], [inv("A-3")])


def test_another_customers_setup_session_gives_no_consent(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    alpha = sign_in(portal, link(aws, "A-1"))
    beta = sign_in(portal, link(aws, "B-1"))
    set_up_autopay(aws, portal, stripe, alpha, method="card")
    (alphas,) = stripe.sessions

    stolen = get(portal, f"/portal/autopay/done?session_id={alphas}", beta)

    assert stolen.status_code == 400
    beta_customer = store.get_customer(customer_of("B-1"))
    assert beta_customer is not None and beta_customer.autopay is None


@pytest.mark.parametrize(
    ("outcome", "limit", "expected"),
    [
        ("succeeded", "700", "paid"),
        ("processing", "", "partially_paid"),
        ("declined", "", "partially_paid"),
        ("succeeded", "500", "partially_paid"),  # 600.00 owed is above the maximum: not charged
    ],
)
def test_the_sweep_charges_due_invoices_once(
    aws: Aws, portal: Client, stripe: FakeStripe, outcome: str, limit: str, expected: str
) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    method = "sepa_debit" if outcome == "processing" else "card"
    set_up_autopay(aws, portal, stripe, cookie, method=method, max_per_invoice=limit)
    consent_since(aws, "A-1", "2026-09-20")  # before A-1 fell due
    at = aws.clock.now().isoformat().replace("+00:00", "Z")
    record_receipt(
        Receipt(
            "bank",
            "T-1",
            Money(40000, "EUR"),
            at,
            "bank_transfer",
            target_invoice_ids=(inv("A-1"),),
            on_account=True,
        ),
        aws.clock,
    )
    stripe.outcome = outcome

    first = charge_due(aws.clock, stripe)  # type: ignore[arg-type]
    again = charge_due(aws.clock, stripe)  # type: ignore[arg-type]

    invoice = store.get_invoice(inv("A-1"))
    assert invoice is not None and invoice.status.value == expected
    assert again == type(again)(), "each invoice is tried once"
    events = [e for e in store.invoice_events(inv("A-1")) if e.type == "AutopayAttempted"]
    assert len(events) == 1
    if limit == "500":
        assert first.over_limit == [inv("A-1")] and stripe.charges == []
        return
    ((params, key),) = stripe.charges  # A-2 is not due yet, Beta has no autopay
    assert key == f"autopay-{inv('A-1')}-1" and params["amount"] == 60000 and params["off_session"] is True
    assert params["metadata"]["source"] == "autopay"
    if outcome == "processing":
        assert invoice.dunning.processing is not None and invoice.dunning.processing.method == "sepa_debit"
    if outcome == "declined":
        assert first.declined == [inv("A-1")]
        assert "Your card was declined." in (invoice.dunning.payment_failure or "")
        failed = [e for e in store.invoice_events(inv("A-1")) if e.type == "PaymentFailed"]
        assert len(failed) == 1 and failed[0].data["reason"] == "Your card was declined."


def shown(page: str, element: str) -> str:
    return html.unescape(page.split(f'id="{element}">', 1)[1].split("<", 1)[0])


@pytest.mark.parametrize(
    ("language", "label", "asks"),
    [
        ("en", "Payment reference", "Please quote this reference with your transfer"),
        ("de", "Zahlungsreferenz", "Bitte geben Sie diese Referenz bei Ihrer Überweisung an"),
    ],
)
def test_the_invoice_page_and_its_pdf_give_our_account_and_the_invoices_rf_reference(
    aws: Aws, portal: Client, language: str, label: str, asks: str
) -> None:
    """Issue 22: an open invoice's page says how to pay it by transfer, in the customer's
    language, with its RF reference; a bank line quoting that reference letters exactly."""
    change_customer(customer_of("A-1"), lambda c: replace(c, language=language), "Test", {}, "t", aws.clock)
    cookie = sign_in(portal, link(aws, "A-1"))

    page = get(portal, f"/portal/invoices/{inv('A-1')}", cookie).body.decode()

    printed = format(creditor_reference(inv("A-1")))
    assert shown(page, "transfer-reference") == printed and is_valid(printed)
    assert shown(page, "transfer-account") == ACCOUNTS["EUR"]
    assert f"<th>{label}</th>" in page and asks in page
    text = pdf_text(get(portal, f"/portal/invoices/{inv('A-1')}/pdf", cookie).body).split("\n")
    assert text[text.index(label) + 1] == printed

    for remittance in (Remittance((f"Alpha Foods {printed}",)), Remittance((), (compact(printed),))):
        entry = Entry(
            "Ntry[1]", Money(100000, "EUR"), Direction.CREDIT, aws.clock.now().date(), remittance=remittance
        )
        decision = decide(entry, LedgerView())
        assert decision.automatic is not None and decision.automatic.rule is Rule.STRUCTURED_REFERENCE
        assert decision.automatic.allocations == ((inv("A-1"), Money(100000, "EUR")),)


def test_a_paid_invoice_shows_no_transfer_instructions(aws: Aws, portal: Client) -> None:
    at = aws.clock.now().isoformat().replace("+00:00", "Z")
    record_receipt(
        Receipt("bank", "T-1", Money(25000, "EUR"), at, "bank_transfer", reference="A-2"), aws.clock
    )
    cookie = sign_in(portal, link(aws, "A-2"))

    page = get(portal, f"/portal/invoices/{inv('A-2')}", cookie).body.decode()
    document = get(portal, f"/portal/invoices/{inv('A-2')}/pdf", cookie).body

    assert 'id="transfer"' not in page and format(creditor_reference(inv("A-2"))) not in page
    assert "RF" not in pdf_text(document)
    assert 'id="transfer-reference"' in get(portal, f"/portal/invoices/{inv('A-1')}", cookie).body.decode()


def test_paying_one_invoice_by_transfer_quotes_its_rf_reference(
    aws: Aws, portal: Client, stripe: FakeStripe
) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))

    page = pay(portal, cookie, "bank_transfer", "A-2").body.decode()

    assert shown(page, "transfer-reference") == format(creditor_reference(inv("A-2")))
    assert 'data-amount="250.00"' in page and ACCOUNTS["EUR"] in page and stripe.sessions == {}
    assert "<th>Payment reference</th>" in page and 'id="quote-reference"' in page
