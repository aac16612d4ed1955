"""Shared test setup: fake AWS credentials for the whole session, before any client exists."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from receivables.storage import store
from receivables_local.aws import FAKE_CREDENTIALS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables_local.runtime import LocalRuntime

for _name, _value in FAKE_CREDENTIALS.items():
    os.environ[_name] = _value
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
os.environ["AWS_REGION"] = "eu-west-1"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Receivables")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

REPO_ROOT = Path(__file__).resolve().parents[1]
EINVOICES = REPO_ROOT / "tests" / "fixtures" / "einvoices"
SAMPLES = REPO_ROOT / "samples"


@contextmanager
def store_bound_to(runtime: LocalRuntime) -> Iterator[None]:
    """Point the test's own store reads at ``runtime``'s table, and back where they were after:
    a later test in this process must not read from an emulator that has stopped."""
    assert runtime.stack is not None
    previous = store.binding()
    store.bind(runtime.stack.resources["Table"], runtime.region, runtime.aws_endpoint)
    try:
        yield
    finally:
        store.bind(*previous)
