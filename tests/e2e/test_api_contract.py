"""The finance API keeps the contract openapi.yaml states, on the local runtime: schemathesis
generates requests from the document (valid ones and, for the 400 answers, invalid ones) and
checks every answer: no 5xx, a status code the document lists, its content type, its schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import REPO_ROOT
from tests.e2e.test_local_runtime import local
from tests.e2e.test_payments import ingest, invoice, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

EXAMPLES = 25  # per operation and mode: about 1,500 requests, a minute on 2 cores
ROWS = (
    "CT-1,2026-06-01,2026-07-01,EUR,C-CT1,Contract Foods,ap@ct1.example,1200.00\n"
    "CT-2,2026-11-01,2027-01-01,USD,C-CT2,Contract Goods,ap@ct2.example,75.50\n"
)


SCHEMA = schemathesis.openapi.from_path(REPO_ROOT / "openapi.yaml")
SCHEMA.config.generation.update(max_examples=EXAMPLES, deterministic=True)


@pytest.fixture(scope="module")
def finance_api(local: tuple[dict[str, Any], Any, Path]) -> dict[str, Any]:
    """The local API's address and token, over a ledger with invoices in it (so listings and
    reports answer with bodies to check, not only empty ones)."""
    connection, _, _ = local
    ingest(connection, "contract", ROWS)
    wait_for("the invoices", lambda: invoice(connection, "CT-2"))
    return {
        "base_url": connection["endpoints"]["api"],
        "headers": {"Authorization": f"Bearer {connection['api_token']}"},
    }


@SCHEMA.parametrize()
def test_no_generated_request_breaks_the_contract(case: Any, finance_api: dict[str, Any]) -> None:
    case.call_and_validate(
        **finance_api,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
