"""Enrolment on moto: finance invites a customer and a prospect through the API, each opens the
emailed link, saves a draft with a mistake, corrects it and submits; the customer record takes the
details; a new AP address or bank account waits for a controller, who approves (or rejects) it."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from receivables.customers.enrolment import get_enrolment, list_enrolments
from receivables.ledger.model import DocumentType, PartyId
from receivables.ledger.rules import document_id
from receivables.mail.mailer import MailSettings, send_enrolment_invitation
from receivables.storage import store
from receivables.web.checkout import PayLinkSettings
from receivables_local.functions import function_module, load_function
from tests.integration.test_finance_api import event
from tests.integration.test_portal import KEY, LEDGER, customer_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

SETTINGS = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "https://p.example")
FORM = {
    "legal_name": "Alpha Foods GmbH",
    "country": "DE",
    "vat_id": "DE 136 695 976",
    "registration_id": "Berlin HRB 12345",
    "address_line1": "Hauptstraße 1",
    "postcode": "10115",
    "city": "Berlin",
    "time_zone": "Europe/Berlin",
    "contact_0_name": "Petra Payables",
    "contact_0_email": "ap@alpha.example",
    "contact_0_role": "accounts_payable",
    "contact_0_language": "de",
    "invoice_delivery": "email_einvoice",
    "peppol_endpoint": "9930:DE136695976",
    "preferred_method": "sepa_debit",
    "bank_iban": "DE89 3704 0044 0532 0130 00",
}


class World:
    """The finance API, the pay function's form and the invitations they mailed."""

    def __init__(self, aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
        self.aws = aws
        self.mails: list[tuple[str, Any]] = []
        self.finance = load_function("finance_api")
        monkeypatch.setattr(
            function_module("finance_api", "routes.wiring"), "context", lambda: (aws.settings, aws.clock)
        )
        monkeypatch.setattr(
            function_module("finance_api", "routes.wiring"), "invitation_sender", lambda: self.send
        )
        pay = load_function("pay")
        pay_wiring = function_module("pay", "routes.wiring")
        deps = pay_wiring.Dependencies(
            PayLinkSettings("https://p.example", "ar@seller.example"), lambda: KEY, None, aws.clock
        )
        monkeypatch.setattr(pay_wiring, "default_dependencies", lambda: deps)
        self.pay = Client(pay.app)

    def send(self, enrolment: Any) -> str:
        def raw(to: str, data: bytes) -> str:
            self.mails.append((to, email.message_from_bytes(data, policy=email.policy.default)))
            return f"m{len(self.mails)}"

        return send_enrolment_invitation(enrolment, SETTINGS, KEY, raw)

    def api(
        self, method: str, resource: str, path: str | None = None, body: Any = None, role: str = "collector"
    ) -> tuple[int, Any]:
        answer = self.finance.app(event(method, resource, path or resource, body=body, role=role), None)
        return answer["statusCode"], json.loads(answer["body"])

    def link_to(self, address: str) -> str:
        message = [m for to, m in self.mails if to == address][-1]
        text = message.get_body(("plain",)).get_content()
        found = re.search(r"https://p\.example(/enrol/\S+)", text)
        assert found is not None, text
        return found.group(1)

    def post(self, path: str, fields: dict[str, Any], action: str) -> tuple[int, str]:
        body = urlencode({**fields, "action": action}, doseq=True)
        answer = self.pay.http.post(
            path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body
        )
        return answer.status_code, answer.body.decode()


@pytest.fixture
def world(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    aws.drop("inbox/portal.csv", LEDGER)
    yield World(aws, monkeypatch)


def test_invite_enrol_with_a_mistake_corrected_then_approve_the_new_ap_address(world: World) -> None:
    alpha = customer_of("A-1")
    status, invited = world.api(
        "POST",
        "/enrolments",
        body={
            "customers": [alpha],
            "prospects": [{"company_name": "Gamma GmbH", "email": "ap@gamma.example"}],
        },
    )
    assert status == 201, invited
    assert [i["outcome"] for i in invited["invitations"]] == ["invited", "invited"]
    enrolment_id = invited["invitations"][0]["enrolment"]["enrolment_id"]
    link = world.link_to("ap@alpha.example")

    form = world.pay.http.get(link)
    assert form.status_code == 200 and 'id="legal_name"' in form.body.decode()
    assert 'value="Alpha Foods"' in form.body.decode()  # what the record already says
    assert get_enrolment(enrolment_id).state == "opened"  # type: ignore[union-attr]

    mistyped = {**FORM, "vat_id": "DE136695977", "contact_0_email": "payables@alpha.example"}
    status, page = world.post(link, mistyped, "save")
    assert status == 200 and 'id="saved"' in page and 'id="error-vat_id"' in page
    draft = get_enrolment(enrolment_id).draft  # type: ignore[union-attr]
    assert draft is not None and draft["vat_id"] is None and draft["city"] == "Berlin"
    status, page = world.post(link, mistyped, "submit")
    assert status == 400 and 'aria-invalid="true" aria-describedby="error-vat_id"' in page
    assert store.get_customer(alpha).profile is None  # type: ignore[union-attr]

    status, page = world.post(link, {**mistyped, "vat_id": "DE136695976"}, "submit")
    assert status == 200 and 'id="pending"' in page

    customer = store.get_customer(alpha)
    assert customer is not None
    assert customer.name == "Alpha Foods", "a new legal name waits for a controller"
    assert customer.invoice_delivery is None, "another delivery waits for a controller"
    assert PartyId("vat", "DE136695976") not in customer.identifiers, "so does a VAT id ingest would match"
    assert customer.email == "ap@alpha.example", "a new AP address waits for a controller"
    assert customer.profile is not None and customer.profile.get("bank_iban") is None, (
        "a first bank account waits for a controller too"
    )
    enrolment = get_enrolment(enrolment_id)
    assert enrolment is not None and (enrolment.state, enrolment.pending) == (
        "submitted",
        {
            "email": "payables@alpha.example",
            "name": "Alpha Foods GmbH",
            "bank_iban": "DE89370400440532013000",
            "identifiers": ["legal:DE:Berlin (Charlottenburg) HRB 12345", "vat:DE136695976"],
            "invoice_delivery": "email_einvoice",
        },
    )
    assert world.post(link, FORM, "submit")[0] == 409, "a submitted form is closed"

    approve = ("/enrolments/{enrolment_id}/approve", f"/enrolments/{enrolment_id}/approve")
    assert world.api("POST", *approve, body={})[0] == 403, "only a controller approves"
    status, approved = world.api(
        "POST", *approve, body={"note": "called Petra back on +49 30 1234"}, role="controller"
    )
    assert status == 200 and approved["enrolment"]["state"] == "approved"
    customer = store.get_customer(alpha)
    assert customer is not None and customer.email == "payables@alpha.example"
    assert customer.name == "Alpha Foods GmbH" and customer.profile is not None
    assert customer.profile["bank_iban"] == "DE89370400440532013000"
    assert customer.invoice_delivery == "email_einvoice"
    # The billing address, as an envelope would carry it (for invoices on paper).
    assert customer.postal_address == ("Alpha Foods GmbH", "Hauptstraße 1", "10115 Berlin", "DE")
    assert PartyId("vat", "DE136695976") in customer.identifiers
    assert PartyId("email", "payables@alpha.example") in customer.identifiers
    assert [e.type for e in store.audit_events(store.customer_pk(alpha))][-2:] == [
        "CustomerEnrolled",
        "ContactChanged",
    ]

    status, listed = world.api("GET", "/enrolments", role="viewer")
    assert status == 200 and sorted(e["state"] for e in listed["enrolments"]) == ["approved", "invited"]
    status, one = world.api("GET", "/enrolments/{enrolment_id}", f"/enrolments/{enrolment_id}", role="viewer")
    assert [h["type"] for h in one["history"]] == [
        "EnrolmentInvited",
        "EnrolmentOpened",
        "EnrolmentDraftSaved",
        "EnrolmentDraftSaved",
        "EnrolmentSubmitted",
        "EnrolmentApproved",
    ]


def test_a_prospect_becomes_a_customer_and_a_second_invitation_is_a_reminder(world: World) -> None:
    prospect = {"company_name": "Gamma GmbH", "email": "ap@gamma.example"}
    world.api("POST", "/enrolments", body={"prospects": [prospect], "language": "fr"})
    status, again = world.api("POST", "/enrolments", body={"prospects": [prospect]})
    assert status == 201 and again["invitations"][0]["outcome"] == "reminded"
    assert len([m for to, m in world.mails if to == "ap@gamma.example"]) == 2
    first = next(m for to, m in world.mails if to == "ap@gamma.example")
    assert (
        "merci de nous indiquer" in first["Subject"]
        and "Gamma GmbH" in first.get_body(("plain",)).get_content()
    )

    link = world.link_to("ap@gamma.example")
    assert "Raison sociale" in world.pay.http.get(link).body.decode()
    gamma = {
        **FORM,
        "legal_name": "Gamma GmbH",
        "vat_id": "FR40303265045",
        "registration_id": "303 265 045",
        "peppol_endpoint": "0002:303265045",
        "country": "FR",
        "contact_0_email": "ap@gamma.example",
        "postcode": "75001",
        "city": "Paris",
        "time_zone": "Europe/Paris",
        "requirements": ["po_number", "delivery_note"],
    }
    status, _ = world.post(link, gamma, "submit")

    assert status == 200
    enrolment_id = again["invitations"][0]["enrolment"]["enrolment_id"]
    enrolment = get_enrolment(enrolment_id)
    assert enrolment is not None and enrolment.customer_id is not None
    assert (enrolment.state, enrolment.pending) == (
        "submitted",
        {"bank_iban": "DE89370400440532013000", "identifiers": ["legal:FR:303265045", "vat:FR40303265045"]},
    )
    customer = store.get_customer(enrolment.customer_id)
    assert customer is not None and customer.email == "ap@gamma.example" and customer.country == "FR"
    assert customer.document_requirements == ("po_number", "delivery_note")
    vat = PartyId("vat", "FR40303265045")
    assert store.customers_by_identifier([vat]) == {}, "a prospect's VAT id finds no invoices until approved"
    approve = ("/enrolments/{enrolment_id}/approve", f"/enrolments/{enrolment_id}/approve")
    assert world.api("POST", *approve, body={"note": "VIES checked"}, role="controller")[0] == 200
    assert store.customers_by_identifier([vat]) == {vat: customer.customer_id}


def test_a_bank_account_change_waits_for_a_controller_who_may_reject_it(world: World) -> None:
    alpha = customer_of("A-1")
    world.api("POST", "/enrolments", body={"customers": [alpha]})
    link = world.link_to("ap@alpha.example")
    assert world.post(link, FORM, "submit")[0] == 200
    enrolment_id = get_enrolment(f"{_id(alpha)}").enrolment_id  # type: ignore[union-attr]
    first = get_enrolment(enrolment_id)
    assert first is not None and first.state == "submitted", "even the first bank account waits"
    approve = ("/enrolments/{enrolment_id}/approve", f"/enrolments/{enrolment_id}/approve")
    assert world.api("POST", *approve, body={"note": "mandate checked"}, role="controller")[0] == 200

    world.api("POST", "/enrolments", body={"customers": [alpha]})  # a new round: details change
    link = world.link_to("ap@alpha.example")
    status, page = world.post(link, {**FORM, "bank_iban": "GB82 WEST 1234 5698 7654 32"}, "submit")
    assert status == 200 and 'id="pending"' in page
    customer = store.get_customer(alpha)
    assert customer is not None and customer.profile is not None
    assert customer.profile["bank_iban"] == "DE89370400440532013000", "kept until a controller approves"

    reject = ("/enrolments/{enrolment_id}/reject", f"/enrolments/{enrolment_id}/reject")
    status, rejected = world.api(
        "POST", *reject, body={"reason": "the customer never asked"}, role="controller"
    )
    assert status == 200 and rejected["enrolment"]["state"] == "rejected"
    customer = store.get_customer(alpha)
    assert customer is not None and customer.profile is not None
    assert customer.profile["bank_iban"] == "DE89370400440532013000"
    assert world.api("POST", *reject, body={"reason": "again"}, role="controller")[0] == 409


def test_links_that_are_not_an_invitations_are_refused(world: World) -> None:
    alpha = customer_of("A-1")
    world.api("POST", "/enrolments", body={"customers": [alpha]})
    link = world.link_to("ap@alpha.example")
    token = link.rsplit("/", 1)[1]
    body, signature = token.split(".")
    answers = {
        "tampered": world.pay.http.get(f"/enrol/{body}.{signature[:-2]}xx").status_code,
        "garbage": world.pay.http.get("/enrol/nonsense").status_code,
        "expired": None,
    }
    world.aws.clock.advance_to(world.aws.clock.now() + timedelta(days=15))
    answers["expired"] = world.pay.http.get(link).status_code
    assert answers == {"tampered": 404, "garbage": 404, "expired": 404}
    status, errors = world.api(
        "POST",
        "/enrolments",
        body={"customers": ["cus_nobody"], "prospects": [{"company_name": "", "email": "x"}]},
    )
    assert status == 400 and {e["field"] for e in errors["errors"]} == {
        "customers[0]",
        "prospects[0].company_name",
    }


def _id(customer_id: str) -> str:
    from receivables.customers.enrolment import enrolment_id_for

    return enrolment_id_for(customer_id, "")


def test_a_prospects_form_never_writes_to_an_existing_customer(world: World) -> None:
    # Given a prospect invited at an address of their own, who names Alpha's VAT id in the form
    alpha = customer_of("A-1")
    world.api("POST", "/enrolments", body={"customers": [alpha]})
    first = world.link_to("ap@alpha.example")
    assert world.post(first, FORM, "submit")[0] == 200
    approve = ("/enrolments/{enrolment_id}/approve", f"/enrolments/{_id(alpha)}/approve")
    assert world.api("POST", *approve, body={}, role="controller")[0] == 200
    before = store.get_customer(alpha)
    prospect = {"company_name": "Totally New Ltd", "email": "mallory@evil.example"}
    world.api("POST", "/enrolments", body={"prospects": [prospect]})
    link = world.link_to("mallory@evil.example")

    # When they submit it
    status, page = world.post(link, {**FORM, "contact_0_email": "mallory@evil.example"}, "submit")

    # Then Alpha is untouched and nothing waits to be approved onto Alpha
    assert status == 409 and "another customer" in page
    assert store.get_customer(alpha) == before
    (mallory,) = [e for e in list_enrolments() if e.email == "mallory@evil.example"]
    assert mallory.customer_id is None and mallory.pending == {}


def test_a_prospect_cannot_catch_the_invoices_of_a_company_it_names_by_vat(world: World) -> None:
    # Given a prospect invited at its own address, which names a VAT id no customer has yet
    world.api(
        "POST",
        "/enrolments",
        body={"prospects": [{"company_name": "Bigco", "email": "mallory@evil.example"}]},
    )
    link = world.link_to("mallory@evil.example")
    claimed = {
        **FORM,
        "legal_name": "Bigco SA",
        "country": "FR",
        "vat_id": "FR40303265045",
        "registration_id": "303 265 045",
        "peppol_endpoint": "0002:303265045",
        "contact_0_email": "mallory@evil.example",
        "postcode": "75001",
        "city": "Paris",
        "time_zone": "Europe/Paris",
    }
    assert world.post(link, claimed, "submit")[0] == 200

    # When the real company's invoice arrives from the ERP with that VAT id
    world.aws.drop(
        "inbox/bigco.csv",
        "invoice_number,issue_date,due_date,currency,customer_ref,customer_name,customer_email,"
        "customer_vat,total_amount\n"
        "BIG-1,2026-10-01,2026-10-31,EUR,BIGCO,Bigco SA,ap@bigco.example,FR40303265045,50000.00\n",
    )

    # Then it is not the prospect's: the VAT id waits for a controller's approval of the enrolment
    (mallory,) = [e for e in list_enrolments() if e.email == "mallory@evil.example"]
    big = store.get_invoice(document_id("self", DocumentType.INVOICE, "BIG-1"))
    assert big is not None and big.customer_id != mallory.customer_id
    assert mallory.pending["identifiers"] == ["legal:FR:303265045", "vat:FR40303265045"]
