"""The table the records are bound to (once per cold start, or per test), the connection, and
the low-level call for what records cannot express (`dispatch`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.connection import Connection

from receivables.kernel.settings import Settings
from receivables.storage.records import RECORD_TYPES, LedgerRecord

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pynamodb.models import Model


# --- binding ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Binding:
    table_name: str = "receivables"
    region: str = "us-east-1"
    host: str | None = None
    connection: Connection | None = None


_binding = _Binding()


def bind(table_name: str, region: str, host: str | None = None) -> None:
    """Point every record type at ``table_name`` (call once per cold start, or per test)."""
    records: tuple[type[Model], ...] = (LedgerRecord, *RECORD_TYPES)
    for record in records:
        meta: Any = record.Meta
        meta.table_name, meta.region, meta.host = table_name, region, host
        record._connection = None
    _binding.table_name, _binding.region, _binding.host = table_name, region, host
    _binding.connection = None


def binding() -> tuple[str, str, str | None]:
    """The table, region and endpoint the records are bound to (to bind them back later)."""
    return _binding.table_name, _binding.region, _binding.host


def connection() -> Connection:
    if _binding.connection is None:
        _binding.connection = Connection(region=_binding.region, host=_binding.host)
    return _binding.connection


def create_table() -> None:
    """Create the table from the records' own schema (tests and tools; AWS uses template.yaml)."""
    if not LedgerRecord.exists():
        LedgerRecord.create_table(wait=True)


# --- raw calls (aggregate counters) -------------------------------------------------------------
def dispatch(operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A low-level DynamoDB call on the bound table, for what records cannot express: counters
    added to attributes named at run time (`projections`, `counters`), the portal's sessions
    (`sessions`), the audits' scan (`audits`). Storage's own: the package gives its callers
    plain values. ``TableName`` is filled in; the response carries ``ConsumedCapacity``."""
    calls: dict[str, Any] = {"TableName": _binding.table_name, **arguments}
    if operation == "TransactWriteItems":
        calls.pop("TableName")
        for item in calls["TransactItems"]:
            for body in item.values():
                body.setdefault("TableName", _binding.table_name)
    response: dict[str, Any] = connection().dispatch(operation, calls)
    return response


def bind_environment(env: Mapping[str, str]) -> Settings:
    """A function's settings, read once from its environment at cold start, with the records
    bound to its table (the one line every handler's dependencies begin with)."""
    settings = Settings.from_env(env)
    bind(settings.table_name, settings.region, settings.endpoint_url)
    return settings
