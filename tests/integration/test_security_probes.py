"""The outside probe of issue 28, kept alive: every finance route x role x identifier kind, every
request-body field x bad-value class (hypothesis), the finance API function in-process on moto.

The routes and their roles come from openapi.yaml (each operation's summary names its role), so a
route added later is probed without anyone writing a test for it. What must hold: no token is a
401, a lower role a 403, and nothing a caller sends is ever a 5xx.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receivables_local.functions import function_module, load_function
from tests.integration.test_finance_api import HEADER, ROWS, event
from tests.unit.contracts.test_openapi import OPERATIONS, resolve

if TYPE_CHECKING:
    from tests.integration.conftest import Aws

ROLES = ("viewer", "collector", "controller")


def needed_role(operation: dict[str, Any]) -> str:
    """The role the operation's summary names: "... (collector)"."""
    found = re.search(r"\((viewer|collector|controller)\b", operation["summary"])
    assert found, f"{operation['operationId']}'s summary names no role"
    return found.group(1)


def concrete(path: str, value: str = "x_1") -> str:
    return re.sub(r"{\w+}", value, path)


@pytest.fixture
def call(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``call(method, resource, path, body=..., role=..., query=...)`` -> (status, body); a None
    role sends no token. Mail and Step Functions are fakes: the probe is of the API's edges."""
    aws.drop("inbox/w.csv", HEADER + ROWS)
    boto3.client("events", region_name=aws.settings.region).create_event_bus(
        Name=str(aws.settings.event_bus_name)
    )
    module = load_function("finance_api")
    wiring = function_module("finance_api", "routes.wiring")
    monkeypatch.setattr(wiring, "context", lambda: (aws.settings, aws.clock))
    monkeypatch.setattr(wiring, "invitation_sender", lambda: lambda enrolment: "m-1")
    monkeypatch.setattr(wiring, "link_sender", lambda: lambda customer, address: "m-2")

    def run(
        method: str, resource: str, path: str, role: str | None = "controller", **kwargs: Any
    ) -> tuple[int, Any]:
        request = event(method, resource, path, **{k: v for k, v in kwargs.items() if k != "raw"})
        request["headers"]["content-type"] = CONTENT_TYPES.get((method, resource), "application/json")
        if role is None:
            request["requestContext"].pop("authorizer")
        else:
            request["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = f"[{role}]"
        if "raw" in kwargs:
            request["body"] = kwargs["raw"]
        response = module.app(request, None)
        return response["statusCode"], response["body"]

    return run


CONTENT_TYPES = {
    (m, p): next(iter(resolve(o["requestBody"])["content"])) for m, p, o in OPERATIONS if "requestBody" in o
}


def test_no_route_answers_without_a_token_or_to_a_lower_role(call: Any) -> None:
    wrong = []
    for method, path, operation in OPERATIONS:
        needed = ROLES.index(needed_role(operation))
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        answers = {role: call(method, path, concrete(path), role=role, body=body) for role in (None, *ROLES)}
        expected: dict[str | None, int] = {None: 401, **dict.fromkeys(ROLES[:needed], 403)}
        wrong += [
            (method, path, role, answers[role]) for role, code in expected.items() if answers[role][0] != code
        ]
        status, answer = answers[ROLES[needed]]
        if status in (401, 403) or status >= 500:
            wrong.append((method, path, ROLES[needed], (status, answer)))
    assert wrong == []


IDENTIFIERS = [
    "nope",
    "inv_" + "0" * 24,
    "cus_" + "z" * 300,
    "pay_%00",
    "ünïcödé",
    "..%2F..%2Fetc%2Fpasswd",
    "apr_' OR 1=1 --",
    "enr_" + "a" * 2000,
]


def test_no_identifier_kind_makes_a_route_fail(call: Any) -> None:
    wrong = []
    for method, path, _ in (o for o in OPERATIONS if "{" in o[1]):
        body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
        for identifier in IDENTIFIERS:
            status, answer = call(method, path, concrete(path, identifier), body=body)
            if status >= 500 or (status == 200 and method != "GET"):
                wrong.append((method, path, identifier, status, answer))
    assert wrong == []


def body_fields(operation: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {})
    schema = resolve(resolve(content).get("content", {}).get("application/json", {}).get("schema", {}) or {})
    return sorted(schema.get("properties", {}))


WITH_BODIES = [(m, p, o) for m, p, o in OPERATIONS if body_fields(o)]
# Beyond Decimal's own exponent range: abs() of them raised decimal.Overflow, not a ValueError.
OVERFLOWING = ["1e999999999", "-1e999999999", "1e-999999999"]
BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        ["1e400", "9" * 40, "-0.001", "12.345", "\r\nBcc: x@y.example", "\x00", "<script>", "EURO"]
    ),
    st.sampled_from(OVERFLOWING),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.just([[[[[[[[[[]]]]]]]]]]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_bad_field_value_is_a_server_error(call: Any, data: st.DataObject) -> None:
    method, path, operation = data.draw(st.sampled_from(WITH_BODIES), label="route")
    name = data.draw(st.sampled_from(body_fields(operation)), label="field")
    value = data.draw(BAD_VALUES, label="value")
    status, answer = call(method, path, concrete(path, "x_1"), body={name: value})
    assert status < 500, (method, path, name, value, answer)


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": 1, "a": 2}',
        "[" * 3000 + "]" * 3000,
        "\x00",
        "null",
        "[]",
        '"text"',
        "1e400",
        "{" + '"k":1,' * 50000 + '"k":2}',
    ],
    ids=["duplicate-key", "deep", "nul", "null", "array", "string", "huge-number", "big"],
)
def test_no_malformed_body_is_a_server_error(call: Any, raw: str) -> None:
    for method, path, _ in WITH_BODIES:
        status, answer = call(method, path, concrete(path), raw=raw)
        assert status < 500 and status != 200, (method, path, answer)


def test_every_answer_is_json_with_a_reason(call: Any) -> None:
    status, body = call("POST", "/payments", "/payments", raw='{"amount": NaN}')
    assert status == 400 and json.loads(body)["errors"][0]["field"] == "body"


def test_no_field_of_any_route_overflows_on_a_huge_exponent(call: Any) -> None:
    wrong = []
    for method, path, operation in WITH_BODIES:
        for name in body_fields(operation):
            for value in OVERFLOWING:
                status, answer = call(method, path, concrete(path, "x_1"), body={name: value})
                if status >= 500:
                    wrong.append((method, path, name, value, answer))
    assert wrong == []


def test_unicode_digits_in_a_number_are_a_400_not_a_500(call: Any) -> None:
    wrong = []
    for resource in ("/invoices", "/customers", "/payments", "/worklist", "/deductions", "/forecast"):
        for value in ("²", "①", "٣"):
            name = "weeks" if resource == "/forecast" else "limit"
            status, answer = call("GET", resource, resource, role="viewer", query={name: value})
            if status != 400:
                wrong.append((resource, value, status, answer))
    assert wrong == []


def test_an_identifier_too_long_for_a_key_never_reaches_dynamodb(aws: Aws) -> None:
    from receivables.storage import store

    long_id = "inv_" + "x" * 20_000
    assert store.get_invoice(long_id) is None and store.get_heads([long_id]) == {}
    assert store.get_customer("cus_" + "y" * 5000) is None and store.get_document("P#" + "z" * 5000) is None
