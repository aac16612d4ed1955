"""The local runtime's HTTP API: Chalice apps behind one port, invoked with their own environment."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from receivables_local.api import ApiServer, api_functions
from receivables_local.demo.helpers import free_port_base
from receivables_local.invoker import Invoker, LocalFunction
from receivables_local.template import FunctionSpec

if TYPE_CHECKING:
    from collections.abc import Iterator

GREETER = LocalFunction(
    logical_id="GreeterFunction",
    physical_name="stack-GreeterFunction-ABC",
    code_dir="tests/fixtures/functions/greeter",
    handler="app.app",
    environment={"GREETING": "Hello"},
)


@pytest.fixture
def api() -> Iterator[tuple[str, Invoker]]:
    invoker = Invoker(base_environment={"AWS_REGION": "eu-west-1"})
    invoker.register(GREETER)
    server = ApiServer(invoker, [GREETER], free_port_base(1))
    server.start()
    yield server.url, invoker
    server.stop()


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_a_route_runs_in_the_function_with_its_own_environment(api: tuple[str, Invoker]) -> None:
    url, invoker = api

    status, body = call(f"{url}/greetings/Ada")

    assert status == 200
    assert body == {"greeting": "Hello, Ada", "function": "stack-GreeterFunction-ABC"}
    assert [i.function for i in invoker.history] == ["GreeterFunction"]


def test_bodies_query_strings_and_chalice_errors_pass_through(api: tuple[str, Invoker]) -> None:
    url, _ = api

    assert call(f"{url}/echo?page=2", "POST", {"a": 1}) == (200, {"body": {"a": 1}, "query": {"page": "2"}})
    status, body = call(f"{url}/greetings/nobody")
    assert (status, body["Code"]) == (404, "NotFoundError")


def test_an_unknown_route_is_refused_as_api_gateway_does(api: tuple[str, Invoker]) -> None:
    url, _ = api

    assert call(f"{url}/nowhere") == (403, {"message": "Missing Authentication Token"})


def test_a_failing_handler_is_a_server_error(api: tuple[str, Invoker]) -> None:
    url, _ = api

    status, _ = call(f"{url}/boom")

    assert status == 500


def test_only_functions_with_an_api_event_are_served() -> None:
    specs = {
        "GreeterFunction": FunctionSpec("GreeterFunction", "x", "app.app", {}, {"Get": {"Type": "HttpApi"}}),
        "IngestFunction": FunctionSpec(
            "IngestFunction", "y", "app.h", {}, {"S3": {"Type": "EventBridgeRule"}}
        ),
    }
    ingest = LocalFunction("IngestFunction", "ingest", "y", "app.h", {})

    assert api_functions(specs, {"GreeterFunction": GREETER, "IngestFunction": ingest}) == [GREETER]
