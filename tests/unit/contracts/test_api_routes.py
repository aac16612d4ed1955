"""template.yaml declares every route the API functions serve, and nothing else."""

from __future__ import annotations

import pytest

from receivables_local.functions import load_function
from receivables_local.template import load_template

TEMPLATE = load_template()


def declared(logical_id: str) -> set[tuple[str, str]]:
    events = TEMPLATE["Resources"][logical_id]["Properties"].get("Events", {})
    return {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
        for e in events.values()
        if e["Type"] in ("HttpApi", "Api")
    }


def served(function: str) -> set[tuple[str, str]]:
    app = load_function(function).app
    return {(method, path) for path, entries in app.routes.items() for method in entries}


@pytest.mark.parametrize(
    ("logical_id", "function"),
    [("FinanceApiFunction", "finance_api"), ("PayFunction", "pay"), ("ConsoleFunction", "console")],
)
def test_the_template_and_the_app_agree_on_every_route(logical_id: str, function: str) -> None:
    assert declared(logical_id) == served(function)
