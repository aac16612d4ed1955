"""The local runtime's HTTP servers answer a burst of concurrent connections: none is reset
because the listen backlog was full (socketserver's default is 5)."""

from __future__ import annotations

import http.client
import json
import threading
from typing import TYPE_CHECKING

import pytest

from receivables_local.api import ApiServer
from receivables_local.demo.helpers import free_port_base
from receivables_local.invoker import Invoker
from receivables_local.stripe_local.server import LocalStripe, _HttpServer
from tests.integration.test_local_api import GREETER

if TYPE_CHECKING:
    from collections.abc import Iterator

CONCURRENT = 50


@pytest.fixture
def api() -> Iterator[ApiServer]:
    invoker = Invoker(base_environment={"AWS_REGION": "eu-west-1"})
    invoker.register(GREETER)
    server = ApiServer(invoker, [GREETER], free_port_base(1))
    server.start()
    yield server
    server.stop()


def burst(port: int, method: str, path: str, body: bytes | None) -> list[int | str]:
    """``CONCURRENT`` requests, their connections opened at the same moment; each one's status
    (or the error it met)."""
    ready = threading.Barrier(CONCURRENT)
    answers: list[int | str] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            ready.wait()
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            status: int | str = connection.getresponse().status
        except OSError as exc:
            status = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_fifty_concurrent_posts_to_the_local_api_all_get_an_answer(api: ApiServer) -> None:
    answers = burst(api.port, "POST", "/echo", json.dumps({"n": 1}).encode())
    assert answers == [200] * CONCURRENT


def test_fifty_concurrent_requests_to_the_local_stripe_all_get_an_answer() -> None:
    stripe = LocalStripe(port=0)
    stripe.start()
    try:
        port = int(stripe.url.rsplit(":", 1)[1].split("/")[0])
        answers = burst(port, "POST", "/v1/checkout/sessions", b"")
    finally:
        stripe.stop()
    assert len(answers) == CONCURRENT and all(isinstance(a, int) for a in answers), answers


def test_every_local_http_server_listens_with_a_real_backlog(api: ApiServer) -> None:
    assert api._server.request_queue_size >= 128
    assert _HttpServer.request_queue_size >= 128
