"""Lambda without Docker: the local runtime runs each function's handler in this process.

A function is found by the code directory template.yaml gives it (``functions/ingest``) and run
with the environment moto holds for it (what template.yaml set, references resolved by
CloudFormation) plus the local endpoint. Environment variables are process-wide, so handlers take
turns under one lock, as if each function had a reserved concurrency of one; asynchronous
invocations (EventBridge targets, stream batches) queue for a worker thread, so a handler that
writes to S3 or DynamoDB never waits for the handler its write triggers.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from receivables_local.functions import load_module, own_modules

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger("receivables.local.invoker")


@dataclass(frozen=True, slots=True)
class LocalFunction:
    """A deployed function as the local runtime knows it."""

    logical_id: str
    physical_name: str
    code_dir: str  # relative to the repository root
    handler: str  # "app.lambda_handler"
    environment: dict[str, str]


@dataclass(slots=True)
class Invocation:
    """One finished invocation, kept for the demo's story and for tests."""

    function: str
    ok: bool
    result: Any
    error: str | None = None
    seconds: float = 0.0  # wall time the handler took


@dataclass
class _Context:
    """The slice of Lambda's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""
    aws_request_id: str = "local"
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class FairLock:
    """A lock taken in the order it was asked for (Python's own lock lets any waiter win).

    The asynchronous worker runs one queued invocation after another: with a plain lock it takes
    the lock back the moment it lets it go, and a synchronous invocation (a Step Functions task
    waiting for its Lambda) could wait behind a whole backlog of scheduled sweeps, seconds that
    are simulated weeks on the accelerated clock. Here each waiter is served in turn."""

    def __init__(self) -> None:
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> FairLock:
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turns.wait_for(lambda: self._serving == ticket)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._turns:
            self._serving += 1
            self._turns.notify_all()


@dataclass
class Invoker:
    """Runs handlers in-process; `invoke_async` queues, `invoke` runs now and returns."""

    base_environment: dict[str, str]
    overrides: dict[str, str] = field(default_factory=dict)  # applied over each function's own
    functions: dict[str, LocalFunction] = field(default_factory=dict)  # by physical name
    history: list[Invocation] = field(default_factory=list)
    _lock: FairLock = field(default_factory=lambda: FairLock())
    _queue: queue.Queue[tuple[str, Any, Callable[[], None] | None] | None] = field(
        default_factory=queue.Queue
    )
    _pending: int = 0  # queued, not yet finished
    _running: int = 0  # synchronous invocations asked for, not yet finished
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _worker: threading.Thread | None = None

    def register(self, function: LocalFunction) -> None:
        """Make ``function`` invocable by its physical name."""
        self.functions[function.physical_name] = function

    def find(self, name_or_arn: str) -> LocalFunction | None:
        """The function named by a physical name or an ARN (``…:function:<name>[:qualifier]``)."""
        if ":function:" in name_or_arn:
            name_or_arn = name_or_arn.split(":function:")[1].split(":")[0]
        return self.functions.get(name_or_arn)

    def start(self) -> None:
        """Start the worker that runs queued (asynchronous) invocations; every function starts
        cold."""
        self.cold_start()
        self._worker = threading.Thread(target=self._work, name="lambda-async", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Let the worker finish what it holds, then end it (and drop what the functions built
        on this runtime, whose endpoints are about to close)."""
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=30)
        self.cold_start()

    def cold_start(self) -> None:
        """Forget what the handlers built at their cold start, as a new Lambda container would:
        the ``@cache`` builders of each handler module and of its own modules (its ``routes``),
        and Powertools' default parameter providers (a boto3 client each, made against whatever
        endpoint was set when first used). In one process, a handler module is shared with tests
        and with earlier runtimes."""
        from aws_lambda_powertools.utilities.parameters.base import clear_caches

        clear_caches()  # type: ignore[no-untyped-call]  # Powertools' way to drop its default providers
        for function in self.functions.values():
            module_name = function.handler.rpartition(".")[0]
            # A first import runs module-level code (the shared Logger reads its level then): it
            # runs with the function's environment, as on Lambda.
            with self._lock, self._environment(function):
                module = load_module(function.code_dir, module_name)
            for own in own_modules(module):  # the handler and its routes, wiring...
                for value in list(vars(own).values()):
                    if (
                        callable(getattr(value, "cache_clear", None))
                        and getattr(value, "__module__", "") == own.__name__
                    ):
                        value.cache_clear()

    def invoke_async(self, name_or_arn: str, event: Any, done: Callable[[], None] | None = None) -> None:
        """Queue an invocation, as Lambda's asynchronous invocation does; ``done`` is called
        once it has run."""
        with self._idle:
            self._pending += 1
        self._queue.put((name_or_arn, event, done))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no queued invocation is left (or ``timeout`` seconds pass)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def probe(self) -> tuple[bool, int]:
        """For the local clock: busy while an invocation is queued or running; the progress mark
        is the number of invocations finished."""
        with self._idle:
            return self._pending > 0 or self._running > 0, len(self.history)

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        """Run the function now and return its result (or the error it raised)."""
        with self._idle:
            self._running += 1
        try:
            return self._invoke(name_or_arn, event)
        finally:
            with self._idle:
                self._running -= 1

    def _invoke(self, name_or_arn: str, event: Any) -> Invocation:
        function = self.find(name_or_arn)
        if function is None:
            invocation = Invocation(name_or_arn, False, None, f"no local function {name_or_arn}")
            self.history.append(invocation)
            return invocation
        with self._lock:
            invocation = self._run(function, event)
        self.history.append(invocation)
        return invocation

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            name, event, done = item
            try:
                invocation = self._invoke(name, event)
                if not invocation.ok:
                    log.warning("async invocation of %s failed: %s", name, invocation.error)
            finally:
                if done is not None:
                    done()
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def handler_of(self, function: LocalFunction) -> Any:
        """The handler object itself (a Chalice app for the API functions), imported as the
        function would import it: with its own environment."""
        with self._lock, self._environment(function):
            return self._load(function)

    def _load(self, function: LocalFunction) -> Any:
        module_name, _, attribute = function.handler.rpartition(".")
        return getattr(load_module(function.code_dir, module_name), attribute)

    @contextmanager
    def _environment(self, function: LocalFunction) -> Iterator[None]:
        # CloudFormation may resolve a parameter to a number: Lambda's environment is text.
        wanted = {
            **self.base_environment,
            **{name: str(value) for name, value in function.environment.items()},
            **self.overrides,
            "AWS_LAMBDA_FUNCTION_NAME": function.physical_name,
        }
        # Put back only what this invocation set: the process's other threads (a test runner
        # among them) may change their own variables meanwhile.
        saved = {name: os.environ.get(name) for name in wanted}
        try:
            os.environ.update(wanted)
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _run(self, function: LocalFunction, event: Any) -> Invocation:
        started = time.perf_counter()
        try:
            with self._environment(function):
                handler = self._load(function)
                # Events cross a JSON boundary on Lambda: give the handler a fresh copy.
                payload = json.loads(json.dumps(event))
                result = handler(payload, _Context(function.physical_name))
            return Invocation(function.logical_id, True, result, seconds=time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - a handler's failure is the invocation's result
            log.warning("%s failed: %s", function.logical_id, traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
            return Invocation(function.logical_id, False, None, error, time.perf_counter() - started)
        finally:
            _forget_metrics()


def _forget_metrics() -> None:
    """Each Lambda function has its own process; here they share the one Metrics object of
    receivables.kernel.observability. With metrics disabled (locally) Powertools never clears it, and
    at 100 values it prints them anyway: clear it after every invocation, as a new process would
    start empty."""
    import sys

    observability = sys.modules.get("receivables.kernel.observability")
    if observability is not None:
        observability.metrics.clear_metrics()
