"""openapi.yaml describes the finance API the function serves: the same routes, each with its
path parameters, and the answers every route can give."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from receivables_local.functions import load_function
from tests.conftest import REPO_ROOT

SPEC: dict[str, Any] = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text())
METHODS = ("get", "put", "post", "patch", "delete")
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]


def test_the_document_and_the_app_serve_the_same_routes() -> None:
    app = load_function("finance_api").app
    served = {(method, path) for path, entries in app.routes.items() for method in entries}
    assert {(method, path) for method, path, _ in OPERATIONS} == served


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_each_operation_declares_its_parameters_and_answers(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    declared = {resolve(p)["name"] for p in operation.get("parameters", []) if resolve(p)["in"] == "path"}
    assert declared == set(re.findall(r"{(\w+)}", path))
    answers = set(operation["responses"])
    assert {"401", "403"} <= answers, "every route is authenticated and role-checked"
    assert any(code.startswith("2") for code in answers)
    if path.count("{") or "requestBody" in operation:
        assert answers & {"400", "404"}, "what can be missing or bad says so"
    assert operation["operationId"] and operation["summary"]


def test_operation_ids_are_unique() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))
