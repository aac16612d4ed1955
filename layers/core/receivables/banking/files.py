"""Statement files dropped into the intake bucket under ``statements/inbox/``: each imported once
(`receivables.banking.intake`), then moved to ``statements/processed/`` with its report beside it
(``<name>.report.json``), or to ``statements/rejected/`` when nothing in it could be read.

A repeated or stale notification (the object moved on already, or was replaced since) is skipped;
a file imported again after a crash books nothing twice (statements and lines are known by their
identities), so the move is the last step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from receivables.banking.intake import MAX_STATEMENT_BYTES, import_statement_file
from receivables.kernel.clock import iso_timestamp

if TYPE_CHECKING:
    from receivables.adapters.s3 import ObjectStore
    from receivables.ingest.service import ObjectEvent
    from receivables.kernel.clock import Clock

INBOX = "statements/inbox/"
PROCESSED = "statements/processed/"
REJECTED = "statements/rejected/"


def import_statement_object(
    event: ObjectEvent,
    objects: ObjectStore,
    clock: Clock,
    *,
    sellers: tuple[str, ...] = ("self",),
    max_bytes: int = MAX_STATEMENT_BYTES,
) -> dict[str, Any]:
    """Import the statement file ``event`` announces; its report (also written beside it)."""
    if not event.key.startswith(INBOX):
        return {"key": event.key, "outcome": "skipped", "reason": f"not under {INBOX}"}
    current = objects.head(event.bucket, event.key)
    if current is None or (event.etag and current.etag != event.etag.strip('"')):
        reason = "already moved on" if current is None else "replaced by a newer upload"
        return {"key": event.key, "outcome": "skipped", "reason": reason}
    relative = event.key[len(INBOX) :]
    started = iso_timestamp(clock.now())
    if current.size > max_bytes:
        report: dict[str, Any] = {
            "file": relative,
            "format": "unknown",
            "refused": [
                {"where": relative, "code": "too_large", "why": f"{current.size} bytes; at most {max_bytes}"}
            ],
            "statements": [],
        }
    else:
        report = import_statement_file(
            objects.read(current), relative, clock, sellers=sellers, max_bytes=max_bytes
        ).to_json()
    rejected = not report["statements"]
    destination = (REJECTED if rejected else PROCESSED) + relative
    document = {
        "object": {"bucket": event.bucket, "key": event.key, "version_id": current.version_id},
        "outcome": "rejected" if rejected else "processed",
        "moved_to": destination,
        "started_at": started,
        "finished_at": iso_timestamp(clock.now()),
        **report,
    }
    objects.put_json(event.bucket, destination + ".report.json", document)
    objects.move(current, destination)
    return {"key": event.key, "outcome": document["outcome"], "destination": destination, "report": document}
