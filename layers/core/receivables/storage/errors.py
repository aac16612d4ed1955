"""What storage raises: `StoreError`, and `ConcurrentChangeError` when optimistic locking
refused a write."""

from __future__ import annotations

from receivables.kernel.errors import ConflictError, ReceivablesError


class StoreError(ReceivablesError):
    """A storage operation that failed for a reason other than a refused condition."""


class ConcurrentChangeError(ConflictError, StoreError):
    """Someone else changed the aggregate since it was read (optimistic locking)."""
