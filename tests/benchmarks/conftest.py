"""Benchmarks print `name=value` lines (run with `make bench`); they are not part of `make test`."""

from __future__ import annotations


def report(name: str, value: float | int | str) -> None:
    """Print one figure in the `name=value` form the issues quote."""
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}={text}", flush=True)
