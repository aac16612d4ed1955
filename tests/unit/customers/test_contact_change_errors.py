"""A contact change is checked field by field; any JSON value gives field errors, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from receivables.customers.contact_changes import contact_change_errors


@pytest.mark.parametrize(
    "requirements",
    [[["po_number"]], [{"a": 1}], ["po_number", ["delivery_note"]], [[[[[[]]]]]], [1, 2], "po_number", None],
)
def test_document_requirements_that_are_not_a_list_of_names_are_a_field_error(requirements: Any) -> None:
    # Given a change whose document requirements nest lists (found by the outside probe: a 500)
    body = {"document_requirements": requirements}

    # When it is checked
    errors = contact_change_errors(body)

    # Then it is the one field error, naming the field
    assert [e.field for e in errors] == ["document_requirements"]


def test_known_requirements_pass() -> None:
    assert contact_change_errors({"document_requirements": ["po_number", "delivery_note"]}) == []
