"""Which invoice needs what: each requirement a customer may set, met or missing, in order; and
the references as their fields take them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from receivables.customers.requirements import (
    REQUIREMENTS,
    RequirementError,
    clean_reference,
    missing,
    provided,
)
from receivables.ledger.model import Customer, InvoiceDocument
from tests.unit.ledger.test_ledger import make_invoice

NOTE = InvoiceDocument(
    "delivery_note", "documents/inv_test/delivery_note/0123456789abcdef", 900, "application/pdf", "t", "c"
)


def customer(*requires: str) -> Customer:
    return Customer("cus_test", "Acme", (), "ap@acme.example", document_requirements=requires)


@pytest.mark.parametrize(
    ("requires", "changes", "lacking"),
    [
        ((), {}, ()),
        (("po_number",), {}, ("po_number",)),
        (("po_number",), {"po_number": "PO-1"}, ()),
        (("contract_reference",), {"po_number": "PO-1"}, ("contract_reference",)),
        (("contract_reference",), {"contract_reference": "MSA-9"}, ()),
        (("delivery_note",), {}, ("delivery_note",)),
        (("delivery_note",), {"documents": (NOTE,)}, ()),
        (("timesheet",), {"documents": (NOTE,)}, ("timesheet",)),  # a delivery note is not a timesheet
        (("timesheet", "po_number", "delivery_note"), {"documents": (NOTE,)}, ("po_number", "timesheet")),
    ],
)
def test_what_an_invoice_lacks_for_its_customer(
    requires: tuple[str, ...], changes: dict[str, object], lacking: tuple[str, ...]
) -> None:
    invoice = replace(make_invoice(), **changes)  # type: ignore[arg-type]

    assert missing(invoice, customer(*requires)) == lacking
    assert all(provided(invoice, r) for r in REQUIREMENTS if r in requires and r not in lacking)


def test_an_unknown_customer_requires_nothing() -> None:
    assert missing(make_invoice(), None) == ()


@pytest.mark.parametrize(
    ("text", "kept"), [("  PO   4711 ", "PO 4711"), ("MSA-2026/04", "MSA-2026/04"), ("x" * 100, "x" * 100)]
)
def test_a_reference_is_kept_with_its_whitespace_collapsed(text: str, kept: str) -> None:
    assert clean_reference(text, "po_number") == kept


@pytest.mark.parametrize("text", ["", "   ", "x" * 101])
def test_an_empty_or_overlong_reference_is_refused_with_its_limits(text: str) -> None:
    with pytest.raises(RequirementError, match="1 to 100 characters"):
        clean_reference(text, "contract_reference")


def test_a_po_number_is_the_erps_only_if_the_invoice_came_with_it() -> None:
    from dataclasses import replace

    from receivables.customers.requirements import po_from_erp
    from receivables.ledger.model import AuditEvent
    from tests.unit.ledger.test_ledger import make_invoice

    def event(kind: str, **data: object) -> AuditEvent:
        return AuditEvent("inv_1", 1, kind, "2026-11-01T00:00:00.000Z", "x", dict(data))

    with_po = replace(make_invoice(10000), po_number="PO-1")
    assert po_from_erp(with_po, [event("InvoiceIngested", po_number="PO-1")])
    assert not po_from_erp(with_po, [event("InvoiceIngested", po_number=None)]), "given later"
    # An invoice held for its PO and released by the one the portal gave (no PurchaseOrderGiven)
    released = [event("InvoiceIngested"), event("InvoiceReleased", po_number="PO-1", given="po_number")]
    assert not po_from_erp(with_po, released)
    assert po_from_erp(with_po, [event("InvoiceIngested")]), "an older invoice, nothing given since"
    assert not po_from_erp(make_invoice(10000), [event("InvoiceIngested")]), "no PO at all"
