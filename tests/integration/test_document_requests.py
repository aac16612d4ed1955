"""Document requirements end to end on moto: an invoice held for a PO number and a delivery note,
the documentation request to the account owner and the customer's AP, the uploads on the portal
(hostile ones refused with their reason), the invoice mailed with its document once complete; a
standing PO; a re-sent invoice that brings its PO; reminders and finance's list."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import date, timedelta
from html import unescape
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from receivables.adapters.attachments import s3_attachments
from receivables.adapters.s3 import processed_reader
from receivables.collections.finance import change_customer
from receivables.customers.requirements import open_requests, remind_open_requests
from receivables.kernel.clock import FixedClock
from receivables.kernel.money import Money
from receivables.ledger.model import StandingPo
from receivables.mail.mailer import MailSettings, send_documentation_request, send_invoice_email
from receivables.storage import store
from receivables.web.portal.service import Portal
from receivables_local.functions import function_module, load_function
from tests.integration.conftest import BUCKET
from tests.integration.test_portal import KEY, LEDGER, customer_of, get, inv, link, post, sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

SETTINGS = MailSettings("billing@seller.example", "Seller", "ar@seller.example", "https://p.example")
HEADER = LEDGER.splitlines()[0]
NEXT = HEADER + "\nA-9,2026-11-01,2026-12-01,EUR,ALPHA,Alpha Foods,ap@alpha.example,90.00\n"
PDF = b"%PDF-1.7\n" + b"delivery note " * 200


class Outbox:
    """SES as the mailer sees it: (to, raw message) -> message id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, email.message.EmailMessage]] = []

    def __call__(self, to: str, raw: bytes) -> str:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.sent.append((to, message))
        return f"m{len(self.sent)}"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for t, m in self.sent if t == address]


def require(aws: Aws, number: str, *needs: str, **changes: Any) -> None:
    change_customer(
        customer_of(number),
        lambda c: replace(c, document_requirements=needs, **changes),
        "Test",
        {},
        "t",
        aws.clock,
    )


def reader() -> Any:
    return processed_reader(BUCKET, None, 10 * 1024 * 1024, ("processed/", "documents/"))


@pytest.fixture
def portal(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    aws.drop("inbox/portal.csv", LEDGER)
    require(
        aws,
        "A-1",
        "po_number",
        "delivery_note",
        account_owner="owner@seller.example",
        ask_customer_for_documents=True,
    )
    report = aws.report(aws.drop("inbox/next.csv", NEXT)["destination"])
    assert report["summary"]["blocked"] == 1, report
    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    files = s3_attachments(BUCKET)
    monkeypatch.setattr(
        wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False, files=files, read_object=reader())
    )
    with Client(module.app) as client:
        yield client


def kinds(number: str) -> list[str]:
    return [e.type for e in store.invoice_events(inv(number))]


def upload(aws: Aws, page: str, kind: str, body: bytes) -> str:
    """What the browser's presigned POST does: the object lands at the form's key."""
    form = page.split(f'id="upload-{kind}"', 1)[1].split("</form>", 1)[0]
    key = unescape(re.search(r'name="key" value="([^"]+)"', form).group(1))  # type: ignore[union-attr]
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def test_an_invoice_held_for_a_po_and_a_delivery_note_goes_out_with_them(aws: Aws, portal: Client) -> None:
    outbox = Outbox()
    held = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock, reader())
    assert held.action == "held" and outbox.sent == []
    event = store.invoice_events(inv("A-9"))[-1]
    assert event.type == "InvoiceHeld" and event.data["missing"] == ["po_number", "delivery_note"]

    # The request: the account owner is told, the customer's AP is asked through the portal. Once.
    detail = {"invoice_id": inv("A-9"), "event_id": f"{inv('A-9')}#{event.seq}", **event.data}
    asked = send_documentation_request(detail, SETTINGS, KEY, outbox, aws.clock)
    again = send_documentation_request(detail, SETTINGS, KEY, outbox, aws.clock)
    assert (asked.action, again.action) == ("sent", "already_sent")
    owner = outbox.to("owner@seller.example")
    ap = outbox.to("ap@alpha.example")
    assert len(owner) == 1 and "A-9" in owner[0]["Subject"] and "purchase order" in owner[0]["Subject"]
    assert len(ap) == 1 and ap[0]["X-Receivables-Mail"] == "documentation_request"
    assert "/portal/link/" in ap[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [r.invoice.number for r in open_requests()] == ["A-9"]

    cookie = sign_in(portal, link(aws, "A-9"))
    page = get(portal, f"/portal/invoices/{inv('A-9')}", cookie).body.decode()
    assert 'id="po-number"' in page and 'id="upload-delivery_note"' in page
    key = upload(aws, page, "delivery_note", PDF)
    kept = get(portal, f"/portal/invoices/{inv('A-9')}/uploaded?key={key}", cookie)
    assert kept.status_code == 200 and "the document is kept" in kept.body.decode()
    assert kinds("A-9")[-1] == "DocumentAttached"
    reloaded = get(portal, f"/portal/invoices/{inv('A-9')}/uploaded?key={key}", cookie)
    assert reloaded.status_code == 200 and kinds("A-9").count("DocumentAttached") == 1

    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    given = post(portal, f"/portal/invoices/{inv('A-9')}/po", cookie, csrf=csrf, po_number="PO 4711")
    assert given.status_code == 200
    assert kinds("A-9")[-1] == "InvoiceReleased" and open_requests() == []

    sent = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock, reader())
    assert sent.action == "sent"
    invoice_mail = [
        m for m in outbox.to("ap@alpha.example") if m["X-Receivables-Mail"] != "documentation_request"
    ]
    names = {part.get_filename(): part.get_content_type() for part in invoice_mail[0].iter_attachments()}
    assert names == {
        "invoice-A-9.pdf": "application/pdf",
        "delivery-note-1-invoice-A-9.pdf": "application/pdf",
    }
    delivered = store.invoice_events(inv("A-9"))[-1]
    assert delivered.type == "InvoiceEmailed" and {a["origin"] for a in delivered.data["attachments"]} == {
        "rendered",
        "uploaded",
    }

    download = get(portal, f"/portal/invoices/{inv('A-9')}/documents/1", cookie)
    assert download.status_code == 200 and download.body == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"MZ\x90\x00 an executable calling itself a PDF", "only PDF, PNG and JPEG"),
        (b"<html><script>alert(1)</script></html>", "only PDF, PNG and JPEG"),
        (b"%PDF-1.7\n" + b"x" * (10 * 1024 * 1024), "larger than 10 MB"),
        (b"", "only PDF, PNG and JPEG"),
    ],
    ids=["executable", "html", "oversized", "empty"],
)
def test_a_hostile_upload_is_refused_with_its_reason_and_deleted(
    aws: Aws, portal: Client, body: bytes, reason: str
) -> None:
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock, reader())
    cookie = sign_in(portal, link(aws, "A-9"))
    page = get(portal, f"/portal/invoices/{inv('A-9')}", cookie).body.decode()
    key = upload(aws, page, "delivery_note", body)

    refused = get(portal, f"/portal/invoices/{inv('A-9')}/uploaded?key={key}", cookie)

    assert refused.status_code == 400 and reason in refused.body.decode()
    assert aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount") == 0
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.documents == () and "DocumentAttached" not in kinds("A-9")


def test_only_the_invoices_own_upload_keys_are_taken(aws: Aws, portal: Client) -> None:
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock, reader())
    alpha = sign_in(portal, link(aws, "A-9"))
    beta = sign_in(portal, link(aws, "B-1"))
    aws.s3.put_object(Bucket=BUCKET, Key="processed/portal.csv.copy", Body=PDF)
    page = get(portal, f"/portal/invoices/{inv('A-9')}", alpha).body.decode()
    key = upload(aws, page, "delivery_note", PDF)
    answers = {
        "another key": get(
            portal, f"/portal/invoices/{inv('A-9')}/uploaded?key=processed/portal.csv.copy", alpha
        ),
        "climbing": get(
            portal, f"/portal/invoices/{inv('A-9')}/uploaded?key=documents/{inv('A-9')}/../../x", alpha
        ),
        "another customer": get(portal, f"/portal/invoices/{inv('A-9')}/uploaded?key={key}", beta),
        "no session": get(portal, f"/portal/invoices/{inv('A-9')}/uploaded?key={key}"),
    }

    assert {k: v.status_code for k, v in answers.items()} == {
        "another key": 400,
        "climbing": 400,
        "another customer": 404,
        "no session": 401,
    }
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.documents == ()


def test_a_standing_po_covers_invoices_up_to_its_amount(aws: Aws) -> None:
    aws.drop("inbox/portal.csv", LEDGER)
    po = StandingPo("BLANKET-7", Money(100_00, "EUR"), date(2026, 12, 31))
    require(aws, "A-1", "po_number", standing_po=po)
    aws.drop(
        "inbox/next.csv",
        HEADER + "\nA-9,2026-11-01,2026-12-01,EUR,ALPHA,Alpha Foods,ap@alpha.example,90.00\n"
        "A-10,2026-11-02,2026-12-02,EUR,ALPHA,Alpha Foods,ap@alpha.example,20.00\n",
    )
    outbox = Outbox()

    first = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock)
    second = send_invoice_email(inv("A-10"), SETTINGS, KEY, outbox, aws.clock)

    assert (first.action, second.action) == ("sent", "held")  # 90 + 20 is more than the PO's 100
    covered = store.get_invoice(inv("A-9"))
    assert covered is not None and covered.po_number == "BLANKET-7"
    assert [e.type for e in store.invoice_events(inv("A-9"))][-2:] == ["PurchaseOrderGiven", "InvoiceEmailed"]


def test_a_new_version_of_the_invoice_carrying_its_po_releases_it(aws: Aws) -> None:
    aws.drop("inbox/portal.csv", LEDGER)
    require(aws, "A-1", "po_number")
    first = aws.report(aws.drop("inbox/next.csv", NEXT)["destination"])
    blocked = first["blocked"]
    assert [(b["number"], b["missing"]) for b in blocked] == [("A-9", ["po_number"])]
    assert "awaiting document" in blocked[0]["reason"]
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock)

    resent = aws.report(
        aws.drop(
            "inbox/next-v2.csv",
            HEADER
            + ",po_number\nA-9,2026-11-01,2026-12-01,EUR,ALPHA,Alpha Foods,ap@alpha.example,90.00,PO-88\n",
        )["destination"]
    )

    assert resent["completed"][0]["po_number"] == "PO-88"
    assert resent["summary"]["conflicts"] == 0
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.po_number == "PO-88" and invoice.dunning.awaiting == ()
    released = store.invoice_events(inv("A-9"))[-1]
    assert released.type == "InvoiceReleased" and released.actor == "ingest"


def test_open_requests_are_reminded_after_the_configured_days(aws: Aws) -> None:
    aws.drop("inbox/portal.csv", LEDGER)
    require(aws, "A-1", "timesheet")
    aws.drop("inbox/next.csv", NEXT)
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock)

    soon = FixedClock(aws.clock.now() + timedelta(days=4))
    later = FixedClock(aws.clock.now() + timedelta(days=5))
    assert remind_open_requests(5, soon) == []
    assert remind_open_requests(5, later) == [inv("A-9")]
    assert remind_open_requests(5, later) == []  # reminded: the next one is five days on

    (request,) = open_requests()
    assert (request.missing, request.reminders) == (("timesheet",), 1)
    event = store.invoice_events(inv("A-9"))[-1]
    assert event.type == "DocumentsReminded" and event.data["reminder"] == 1


def test_finance_sets_requirements_gives_a_po_and_uploads_a_timesheet(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tests.integration.test_finance_api import event

    aws.drop("inbox/portal.csv", LEDGER)
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    settings = aws.with_settings(documents_bucket=BUCKET).settings
    monkeypatch.setattr(wiring, "context", lambda: (settings, aws.clock))
    wiring.invoice_files.cache_clear()

    def call(
        method: str, resource: str, path: str, body: Any = None, role: str = "collector"
    ) -> tuple[int, Any]:
        response = module.app(event(method, resource, path, body=body, role=role), None)
        return response["statusCode"], json.loads(response["body"])

    contact = f"/customers/{customer_of('A-1')}/contact"
    status, changed = call(
        "PATCH",
        "/customers/{customer_id}/contact",
        contact,
        {
            "document_requirements": ["po_number", "timesheet"],
            "standing_po": {"number": "SPO-1", "amount": "50.00", "valid_until": "2026-10-31"},
            "account_owner": "owner@seller.example",
        },
        role="controller",  # a standing PO goes on every new invoice: a collector's is a proposal
    )
    assert status == 200, changed
    assert changed["customer"]["standing_po"] == {
        "number": "SPO-1",
        "amount": "50.00",
        "currency": "EUR",
        "valid_until": "2026-10-31",
    }
    bad = call(
        "PATCH",
        "/customers/{customer_id}/contact",
        contact,
        {"standing_po": {"number": "X", "amount": "1.001"}},
    )
    assert bad[0] == 400 and {e["field"] for e in bad[1]["errors"]} == {
        "standing_po.amount",
        "standing_po.valid_until",
    }

    aws.drop("inbox/next.csv", NEXT)
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock)  # issued after the PO expired
    status, listed = call("GET", "/document-requests", "/document-requests", role="viewer")
    assert status == 200 and [(r["number"], r["missing"]) for r in listed["requests"]] == [
        ("A-9", ["po_number", "timesheet"])
    ]

    references = ("/invoices/{invoice_id}/references", f"/invoices/{inv('A-9')}/references")
    status, body = call("POST", *references, {"po_number": "PO-1"})
    assert status == 200 and body["invoice"]["awaiting"] == ["timesheet"]
    assert call("POST", *references, {"po_number": "PO-2"})[0] == 409  # it carries one already
    assert call("POST", *references, {"signature": "x"})[0] == 400

    documents = ("/invoices/{invoice_id}/documents", f"/invoices/{inv('A-9')}/documents")
    status, started = call("POST", *documents, {"kind": "timesheet"})
    assert status == 201 and "success_action_redirect" not in started["upload"]["fields"]
    assert call("POST", *documents, {"kind": "passport"})[0] == 400
    key = started["upload"]["key"]
    confirm = ("/invoices/{invoice_id}/documents/confirm", f"/invoices/{inv('A-9')}/documents/confirm")
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"<svg onload=alert(1)>")
    refused = call("POST", *confirm, {"key": key})
    assert refused[0] == 400 and "only PDF, PNG and JPEG" in refused[1]["errors"][0]["reason"]
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    status, kept = call("POST", *confirm, {"key": key})
    assert (
        status == 200
        and kept["invoice"]["awaiting"] == []
        and kept["invoice"]["documents"][0]["kind"] == "timesheet"
    )
    assert store.invoice_events(inv("A-9"))[-1].type == "InvoiceReleased"

    status, document = call(
        "GET",
        "/invoices/{invoice_id}/documents/{index}",
        f"/invoices/{inv('A-9')}/documents/1",
        role="viewer",
    )
    assert status == 200 and document["content_type"] == "image/png"
    assert "response-content-disposition=attachment" in document["url"]
    assert (
        call(
            "GET",
            "/invoices/{invoice_id}/documents/{index}",
            f"/invoices/{inv('A-9')}/documents/2",
            role="viewer",
        )[0]
        == 404
    )
    assert call("POST", *documents, {"kind": "timesheet"}, role="viewer")[0] == 403


def test_the_dashboard_counts_the_invoices_blocked_by_missing_documents(aws: Aws) -> None:
    from receivables.web.dashboard import dashboard_data, render

    aws.drop("inbox/portal.csv", LEDGER)
    require(aws, "A-1", "delivery_note")
    aws.drop("inbox/next.csv", NEXT)
    send_invoice_email(inv("A-9"), SETTINGS, KEY, Outbox(), aws.clock)
    send_invoice_email(inv("A-2"), SETTINGS, KEY, Outbox(), aws.clock)

    data = dashboard_data(aws.clock.now().date())

    blocked = data["blocked_by_documents"]
    assert (blocked["count"], blocked["amounts"]) == (2, {"EUR": "340.00"})
    assert [b["number"] for b in blocked["oldest"]] == ["A-9", "A-2"]
    assert 'data-testid="blocked-count">2<' in render(data)


def test_an_invoice_is_released_when_its_customer_no_longer_requires_what_it_lacks(aws: Aws) -> None:
    aws.drop("inbox/portal.csv", LEDGER)
    require(aws, "A-1", "timesheet")
    aws.drop("inbox/next.csv", NEXT)
    outbox = Outbox()
    assert send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock).action == "held"

    require(aws, "A-1")  # finance drops the requirement
    assert (
        remind_open_requests(5, FixedClock(aws.clock.now() + timedelta(days=9))) == []
    )  # closed, not reminded
    assert open_requests() == [] and kinds("A-9")[-1] == "InvoiceReleased"
    sent = send_invoice_email(inv("A-9"), SETTINGS, KEY, outbox, aws.clock)  # as the release sets off

    assert sent.action == "sent"
    invoice = store.get_invoice(inv("A-9"))
    assert invoice is not None and invoice.dunning.awaiting == ()
    assert kinds("A-9")[-2:] == ["InvoiceReleased", "InvoiceEmailed"]
