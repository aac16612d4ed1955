"""An invoice its customer's AP cannot process yet (no PO number) is held: not mailed, not
reminded; the customer gives the PO number on the portal, the invoice is released and mailed
with it, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from receivables.collections.dunning.planner import plan
from receivables.collections.dunning.policy import DEFAULT_POLICY
from receivables.collections.finance import change_customer
from receivables.mail.mailer import MailSettings, send_invoice_email
from receivables.storage import store
from receivables.web.portal.service import Portal
from receivables_local.functions import function_module, load_function
from tests.integration.test_portal import KEY, LEDGER, csrf_of, customer_of, get, inv, link, post, sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

SETTINGS = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "https://p.example")
NEXT = LEDGER.splitlines()[0] + "\nA-9,2026-11-01,2026-12-01,EUR,ALPHA,Alpha Foods,ap@alpha.example,90.00\n"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, to: str, raw: bytes) -> str:
        self.sent.append(to)
        return f"m{len(self.sent)}"


@pytest.fixture
def portal(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    aws.drop("inbox/portal.csv", LEDGER)
    change_customer(
        customer_of("A-1"),
        lambda c: replace(c, document_requirements=("po_number",)),
        "Test",
        {},
        "t",
        aws.clock,
    )
    aws.drop("inbox/next.csv", NEXT)
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False))
    with Client(module.app) as client:
        yield client


def kinds(number: str) -> list[str]:
    return [e.type for e in store.invoice_events(inv(number))]


def test_a_held_invoice_is_not_mailed_nor_reminded_until_its_po_arrives(aws: Aws, portal: Client) -> None:
    outbox = Outbox()

    held = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock)
    again = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock)

    assert (held.action, held.detail) == ("held", "the customer's AP needs po_number")
    assert again.action == "held" and outbox.sent == [] and kinds("A-9").count("InvoiceHeld") == 1
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.dunning.awaiting == ("po_number",)
    late = aws.clock.now() + timedelta(days=60)
    assert plan(invoice, store.get_customer(invoice.customer_id), DEFAULT_POLICY, late).action == "wait"

    cookie = sign_in(portal, link(aws, "A-9"))
    home = get(portal, "/portal", cookie).body.decode()
    assert "Waiting for a document from you" in home
    page = get(portal, f"/portal/invoices/{inv('A-9')}", cookie).body.decode()
    assert 'id="po-number"' in page
    given = post(
        portal, f"/portal/invoices/{inv('A-9')}/po", cookie, csrf=csrf_of(page), po_number=" PO 4711 "
    )

    assert given.status_code == 200 and "PO number is recorded" in given.body.decode()
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.po_number == "PO 4711" and invoice.dunning.awaiting == ()
    assert kinds("A-9")[-1] == "InvoiceReleased"
    sent = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock)
    assert sent.action == "sent" and outbox.sent == ["ap@alpha.example"]


def test_the_po_form_is_the_customers_own_and_takes_its_csrf_token(aws: Aws, portal: Client) -> None:
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock)
    beta = sign_in(portal, link(aws, "B-1"))
    beta_csrf = csrf_of(get(portal, "/portal", beta).body.decode())
    alpha = sign_in(portal, link(aws, "A-9"))
    answers: dict[str, Any] = {
        "another customer": post(
            portal, f"/portal/invoices/{inv('A-9')}/po", beta, csrf=beta_csrf, po_number="X"
        ),
        "no csrf": post(portal, f"/portal/invoices/{inv('A-9')}/po", alpha, po_number="X"),
        "no session": post(portal, f"/portal/invoices/{inv('A-9')}/po", None, po_number="X"),
    }

    assert {k: v.status_code for k, v in answers.items()} == {
        "another customer": 404,
        "no csrf": 403,
        "no session": 401,
    }
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.po_number is None
