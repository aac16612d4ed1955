"""The invoice's own documents on the portal: a Peppol e-invoice's embedded PDF is the invoice
download, the XML is downloadable as received, its embedded files are attachments; a file
replaced under the same name is not handed out; another customer gets a 404; the invoice page
links to the dispute and promise forms with links made for the session's customer."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest
from chalice.test import Client

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from receivables.web.portal.service import Portal
from receivables_local.functions import function_module, load_function
from tests.integration.conftest import BUCKET
from tests.integration.test_portal import KEY, LEDGER, get, inv, link, sign_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.integration.conftest import Aws

EINVOICE = "tests/fixtures/einvoices/base-example.xml"
PDF = b"%PDF-1.4\n% the invoice image as the seller sent it\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n timesheet"
UBL_INVOICE = document_id("vat:GB1232434", DocumentType.INVOICE, "Snippet1")


def with_attachments(xml: str) -> str:
    """The Peppol example with an invoice image (PDF) and a timesheet (PNG) embedded."""
    references = "".join(
        "<cac:AdditionalDocumentReference>"
        f"<cbc:ID>{name}</cbc:ID><cbc:DocumentDescription>{what}</cbc:DocumentDescription>"
        "<cac:Attachment>"
        f'<cbc:EmbeddedDocumentBinaryObject mimeCode="{mime}" filename="{name}">'
        f"{base64.b64encode(data).decode()}</cbc:EmbeddedDocumentBinaryObject>"
        "</cac:Attachment></cac:AdditionalDocumentReference>\n    "
        for name, what, mime, data in (
            ("Snippet1.pdf", "Invoice", "application/pdf", PDF),
            ("timesheet.png", "Timesheet", "image/png", PNG),
        )
    )
    return xml.replace("<cac:AccountingSupplierParty>", references + "<cac:AccountingSupplierParty>", 1)


@pytest.fixture
def portal(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    from tests.conftest import REPO_ROOT

    aws.drop("inbox/portal.csv", LEDGER)
    xml = with_attachments((REPO_ROOT / EINVOICE).read_text())
    assert aws.drop("inbox/peppol/Snippet1.xml", xml)["outcome"] == "processed"

    def read(bucket: str, key: str) -> bytes | None:
        try:
            data: bytes = aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except aws.s3.exceptions.NoSuchKey:
            return None
        return data

    from receivables.adapters.attachments import s3_attachments
    from receivables.web.checkout import PayLinkSettings

    module = load_function("pay")
    wiring = function_module("pay", "routes.wiring")
    monkeypatch.setattr(wiring, "portal", lambda: Portal(KEY, aws.clock, secure=False, read_object=read))
    # The dispute and promise forms of the same function, on the same key and clock.
    deps = wiring.Dependencies(
        PayLinkSettings("https://p.example", "ar@seller.example"), lambda: KEY, None, aws.clock
    )
    monkeypatch.setattr(wiring, "default_dependencies", lambda: deps)
    monkeypatch.setattr(wiring, "attachments", lambda: s3_attachments(BUCKET))
    with Client(module.app) as client:
        yield client


def ubl_session(aws: Aws, portal: Client) -> str:
    from receivables.customers.links import LinkScope, sign_link

    invoice = store.get_invoice(UBL_INVOICE)
    assert invoice is not None
    scope = LinkScope(
        "portal", invoice.customer_id, invoice.invoice_id, int(aws.clock.now().timestamp()) + 600, 0
    )
    return sign_in(portal, sign_link(scope, KEY))


def test_the_einvoice_its_image_and_its_attachments_download_as_received(aws: Aws, portal: Client) -> None:
    cookie = ubl_session(aws, portal)

    page = get(portal, f"/portal/invoices/{UBL_INVOICE}", cookie).body.decode()
    pdf = get(portal, f"/portal/invoices/{UBL_INVOICE}/pdf", cookie)
    original = get(portal, f"/portal/invoices/{UBL_INVOICE}/original", cookie)
    png = get(portal, f"/portal/invoices/{UBL_INVOICE}/attachments/2", cookie)

    assert 'id="download-original"' in page and "timesheet.png" in page and "Timesheet" in page
    assert pdf.status_code == 200 and pdf.body == PDF  # the seller's own image, not a rendering
    assert original.headers["Content-Type"] == "application/xml"
    stored = aws.s3.get_object(Bucket=BUCKET, Key="processed/peppol/Snippet1.xml")["Body"].read()
    assert original.body == stored
    assert png.headers["Content-Type"] == "image/png" and png.body == PNG
    assert (
        png.headers["X-Content-Type-Options"] == "nosniff"
        and "attachment;" in png.headers["Content-Disposition"]
    )
    assert get(portal, f"/portal/invoices/{UBL_INVOICE}/attachments/3", cookie).status_code == 404


def test_a_file_replaced_under_the_same_name_is_not_handed_out(aws: Aws, portal: Client) -> None:
    cookie = ubl_session(aws, portal)
    other = (aws.s3.get_object(Bucket=BUCKET, Key="processed/peppol/Snippet1.xml")["Body"].read()).replace(
        b"<cbc:IssueDate>2017-11-13", b"<cbc:IssueDate>2017-11-14"
    )
    aws.s3.put_object(Bucket=BUCKET, Key="processed/peppol/Snippet1.xml", Body=other)

    assert get(portal, f"/portal/invoices/{UBL_INVOICE}/original", cookie).status_code == 404
    rendered = get(portal, f"/portal/invoices/{UBL_INVOICE}/pdf", cookie)
    assert rendered.status_code == 200 and rendered.body.startswith(b"%PDF") and rendered.body != PDF


def test_a_csv_invoice_has_no_original_to_hand_out(aws: Aws, portal: Client) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    page = get(portal, f"/portal/invoices/{inv('A-1')}", cookie).body.decode()

    assert 'id="download-original"' not in page  # the CSV holds other customers' invoices
    assert get(portal, f"/portal/invoices/{inv('A-1')}/original", cookie).status_code == 404


@pytest.mark.parametrize("path", ["", "/pdf", "/original", "/attachments/1"])
def test_another_customer_gets_a_404_for_every_document(aws: Aws, portal: Client, path: str) -> None:
    beta = sign_in(portal, link(aws, "B-1"))

    answer = get(portal, f"/portal/invoices/{UBL_INVOICE}{path}", beta)

    assert answer.status_code == 404 and PDF not in answer.body and b"Snippet1" not in answer.body


def test_the_invoice_page_opens_the_dispute_and_promise_forms_of_this_customer(
    aws: Aws, portal: Client
) -> None:
    cookie = sign_in(portal, link(aws, "A-1"))
    page = get(portal, f"/portal/invoices/{inv('A-1')}", cookie).body.decode()
    dispute = page.split('id="dispute" href="', 1)[1].split('"', 1)[0]
    promise = page.split('id="promise" href="', 1)[1].split('"', 1)[0]

    forms: dict[str, Any] = {path: get(portal, path) for path in (dispute, promise)}

    for path, answer in forms.items():
        assert answer.status_code == 200, path
        assert "A-1" in answer.body.decode() and "B-1" not in answer.body.decode()
