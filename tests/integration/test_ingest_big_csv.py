"""A 100,000-invoice CSV: written in batches, bad rows reported, nothing lost.

That the file is streamed rather than loaded is shown in tests/unit/ingest/test_csv_format.py (the parser
yields its first document having read only the first rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store
from tests.data import big_csv

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

ROWS = 100_000


@pytest.mark.slow
def test_given_100k_rows_with_bad_ones_then_every_good_row_is_a_receivable(aws: Aws) -> None:
    data = big_csv(ROWS, customers=2_000, bad_every=10_000)
    notification = aws.put("inbox/big/export.csv", data)
    del data

    result = aws.deliver(notification)

    assert (result["outcome"], result["created"], result["problems"]) == ("rejected", ROWS - 10, 10)
    report = aws.report(result["destination"])
    bad_rows = [f"row {n + 1}" for n in range(10_000, ROWS + 1, 10_000)]  # the header is row 1
    assert [p["location"] for p in report["problems"]] == bad_rows
    assert {p["field"] for p in report["problems"]} == {"total_amount"}
    assert report["summary"]["customers_created"] == 2_000
    assert report["created_listed"] == 1_000
    for number in ("BIG-0000001", "BIG-0050001", "BIG-0099999"):
        assert store.get_invoice(document_id("self", DocumentType.INVOICE, number)) is not None
    assert store.get_invoice(document_id("self", DocumentType.INVOICE, "BIG-0010000")) is None
