"""The JSON layout: one invoice, a list, or {"invoices": [...]}; exact numbers; item-level problems."""

from __future__ import annotations

import json

import pytest

from receivables.ingest.json_format import parse_json
from receivables.ingest.model import FileRejectedError, ParsedDocument, RejectedDocument
from receivables.kernel.money import Money
from receivables.ledger.model import DocumentType
from tests.conftest import SAMPLES

MINIMAL = {
    "number": "J-1",
    "issue_date": "2026-03-01",
    "currency": "EUR",
    "customer": {"ref": "C1", "email": "AP@Example.com"},
    "total": "100.00",
}


def parse(payload: object) -> list[ParsedDocument | RejectedDocument]:
    return list(parse_json(json.dumps(payload).encode(), default_seller_id="self"))


def test_the_documented_sample_parses() -> None:
    results = list(parse_json((SAMPLES / "invoices.json").read_bytes(), default_seller_id="self"))
    invoice, credit = results
    assert isinstance(invoice, ParsedDocument) and isinstance(credit, ParsedDocument)
    assert invoice.total == Money(180000, "GBP")
    assert invoice.lines[0].net == Money(150000, "GBP")
    assert invoice.buyer.language == "en"
    assert invoice.location == "item 1"
    assert (credit.doc_type, credit.billing_reference) == (DocumentType.CREDIT_NOTE, "INV-2026-1001")


@pytest.mark.parametrize("shape", ["object", "list", "wrapped"])
def test_every_shape_is_accepted(shape: str) -> None:
    payload = {"object": MINIMAL, "list": [MINIMAL], "wrapped": {"invoices": [MINIMAL]}}[shape]
    [doc] = parse(payload)
    assert isinstance(doc, ParsedDocument)
    assert doc.buyer.email == "ap@example.com"
    assert doc.location == ("document" if shape == "object" else "item 1")


def test_json_numbers_are_read_exactly_never_through_a_float() -> None:
    raw = (
        b'{"number": "J-2", "issue_date": "2026-03-01", "currency": "EUR", '
        b'"customer": {"ref": "C1"}, "total": 0.29}'
    )
    [doc] = list(parse_json(raw, default_seller_id="self"))
    assert isinstance(doc, ParsedDocument)
    assert doc.total == Money(29, "EUR")  # float(0.29) * 100 would be 28.999999999999996


def test_a_bad_invoice_is_rejected_with_its_json_path_and_the_good_ones_go_through() -> None:
    bad = {**MINIMAL, "number": "J-BAD", "total": True, "lines": [{"amount": "x"}]}
    results = parse([MINIMAL, bad, "not an object"])
    assert isinstance(results[0], ParsedDocument)
    assert isinstance(results[1], RejectedDocument)
    assert results[1].problems[0].field == "/1/total"
    assert results[1].problems[0].number == "J-BAD"
    assert isinstance(results[2], RejectedDocument)
    assert results[2].problems[0].location == "item 3"


def test_a_bad_line_amount_names_the_line() -> None:
    bad = {**MINIMAL, "total": None, "lines": [{"amount": "1.00"}, {"amount": "1.234"}]}
    [rejected] = parse([bad])
    assert isinstance(rejected, RejectedDocument)
    assert rejected.problems[0].field == "/0/lines/1: amount"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"{not json", "malformed_json"),
        (b"42", "malformed_json"),
        (b"\xff\xfe{", "not_utf8"),
    ],
)
def test_an_unusable_file_is_rejected_whole(data: bytes, code: str) -> None:
    with pytest.raises(FileRejectedError) as caught:
        list(parse_json(data, default_seller_id="self"))
    assert caught.value.problem.code == code
