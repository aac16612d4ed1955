"""What the functions that read files dropped into the intake bucket (invoices, bank statements)
work with, built once per cold start: their settings, the bucket and the clock."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from receivables.adapters.s3 import ObjectStore
from receivables.kernel.clock import Clock, clock_from_env
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from receivables.kernel.settings import Settings


@dataclass(frozen=True, slots=True)
class IntakeDependencies:
    """What an intake handler works with; tests build their own."""

    settings: Settings
    objects: ObjectStore
    clock: Clock


def intake_dependencies(env: Mapping[str, str]) -> IntakeDependencies:
    """From the function's environment: its settings (the store bound to its table), the bucket
    and the clock."""
    settings = store.bind_environment(env)
    return IntakeDependencies(settings, ObjectStore(endpoint_url=settings.endpoint_url), clock_from_env(env))


def default_intake_dependencies() -> IntakeDependencies:
    """Built once per cold start from the function's environment (``os.environ``); once per
    environment, so that two functions run in one process (the local runtime) keep their own."""
    return _built(tuple(sorted(os.environ.items())))


@cache
def _built(env: tuple[tuple[str, str], ...]) -> IntakeDependencies:
    return intake_dependencies(dict(env))
