"""Ingest one object of the inbox: detect its format, parse, write, report, move it on."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.ingest import json_format, ubl
from receivables.ingest.csv_format import parse_csv
from receivables.ingest.documents import DocumentWriter
from receivables.ingest.fields import date_order_of
from receivables.ingest.model import FileRejectedError, ParsedDocument, Problem, ProblemLog
from receivables.kernel.clock import iso_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from receivables.adapters.s3 import ObjectStore, StoredObject
    from receivables.ingest.model import ParseResult
    from receivables.kernel.clock import Clock
    from receivables.kernel.settings import Settings

INBOX = "inbox/"
PROCESSED = "processed/"
REJECTED = "rejected/"
FORMATS = {".csv": "csv", ".json": "json", ".xml": "ubl"}
MAX_LISTED_CREATED = 1000
# What a parser can raise on hostile input that its own checks did not foresee.
_PARSER_FAILURES = (ValueError, TypeError, ArithmeticError, LookupError, RecursionError, csv.Error)


@dataclass(frozen=True, slots=True)
class ObjectEvent:
    """An S3 "object created" notification, reduced to what ingestion needs."""

    bucket: str
    key: str
    etag: str | None = None
    size: int | None = None
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What became of one object; ``report`` is the JSON written beside it."""

    outcome: str  # "processed", "rejected", or "skipped" (stale or repeated notification)
    destination: str | None
    report: dict[str, Any]


def _format_of(key: str) -> str:
    dot = key.rfind(".")
    extension = key[dot:].lower() if dot > key.rfind("/") else ""
    if extension not in FORMATS:
        shown = extension or "no extension"
        raise FileRejectedError(
            "unsupported_format",
            f"{shown} is not an invoice format: name the file .csv, .json or .xml",
        )
    return FORMATS[extension]


def _sniff(first_bytes: bytes, fmt: str) -> None:
    start = first_bytes.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    looks = {b"<": "ubl", b"{": "json", b"[": "json"}.get(start)
    if fmt in ("ubl", "json") and looks != fmt:
        expected = "XML" if fmt == "ubl" else "JSON"
        raise FileRejectedError(
            "wrong_format", f"the file is named as {expected} but does not hold {expected}"
        )
    if fmt == "csv" and start in (b"<", b"{"):
        raise FileRejectedError("wrong_format", "the file is named .csv but holds XML or JSON")


def ingest_object(
    event: ObjectEvent,
    objects: ObjectStore,
    settings: Settings,
    clock: Clock,
) -> IngestReport:
    """Ingest the object that ``event`` announces, exactly once in effect.

    A repeated or stale notification (the object was already moved on, or replaced since) is
    skipped. Otherwise every good document is written, the object moves to ``processed/`` (or to
    ``rejected/`` when anything was wrong, with ``<key>.error.json`` beside it listing every
    problem) and the report is returned.
    """
    if not event.key.startswith(INBOX):
        return IngestReport("skipped", None, {"reason": f"{event.key} is not under {INBOX}"})
    current = objects.head(event.bucket, event.key)
    if current is None or (event.etag and current.etag != event.etag.strip('"')):
        reason = "already moved on" if current is None else "replaced by a newer upload"
        return IngestReport("skipped", None, {"reason": f"{event.key}: {reason}"})

    relative = event.key[len(INBOX) :]
    started = clock.now()
    writer: DocumentWriter | None = None
    file_problem: Problem | None = None
    fmt = "unknown"
    try:
        fmt = _format_of(event.key)
        writer = DocumentWriter(
            (event.bucket, event.key, fmt),
            clock,
            default_terms_days=settings.default_payment_terms_days,
        )
        for result in _guarded(_parse(current, fmt, objects, settings)):
            if isinstance(result, ParsedDocument):
                writer.add(result)
            else:
                writer.outcome.problems.extend(result.problems)
        writer.finish()
    except FileRejectedError as exc:
        file_problem = exc.problem

    outcome = writer.outcome if writer is not None else None
    problems = outcome.problems if outcome else ProblemLog()
    # The file's own problem is listed first, whatever the cap left out of the others.
    listed = ([file_problem] if file_problem else []) + problems.listed
    problem_count = len(problems) + (1 if file_problem else 0)
    rejected = problem_count > 0
    destination = (REJECTED if rejected else PROCESSED) + relative
    created = outcome.created if outcome else []
    report: dict[str, Any] = {
        "object": {
            "bucket": event.bucket,
            "key": event.key,
            "version_id": current.version_id,
            "format": fmt,
        },
        "outcome": "rejected" if rejected else "processed",
        "moved_to": destination,
        "started_at": iso_timestamp(started),
        "finished_at": iso_timestamp(clock.now()),
        "summary": {
            "created": len(created),
            "duplicates": len(outcome.duplicates) if outcome else 0,
            "problems": problem_count,
            "conflicts": problems.count("conflict"),
            "credit_notes_applied": outcome.credit_notes_applied if outcome else 0,
            "customers_created": outcome.customers_created if outcome else 0,
            "customers_needing_contact_details": sorted(outcome.needs_contact_details) if outcome else [],
            "blocked": len(outcome.blocked) if outcome else 0,
            "completed": len(outcome.completed) if outcome else 0,
            "disputes_opened": len(outcome.disputes_opened) if outcome else 0,
        },
        "problems": [p.to_json() for p in listed],
        "problems_listed": len(listed),
        "problems_left_out": problems.left_out,
        "created": created[:MAX_LISTED_CREATED],
        "created_listed": min(len(created), MAX_LISTED_CREATED),
        "duplicates": outcome.duplicates[:MAX_LISTED_CREATED] if outcome else [],
        "duplicates_listed": min(len(outcome.duplicates), MAX_LISTED_CREATED) if outcome else 0,
        # Invoices held until their customer's AP has what it requires (not sent; requested).
        "blocked": outcome.blocked[:MAX_LISTED_CREATED] if outcome else [],
        # Re-sent invoices that brought what a stored one lacked (a PO number): now complete.
        "completed": outcome.completed if outcome else [],
        # Invoices the file marks disputed: a dispute was opened on each (dunning pauses).
        "disputes_opened": outcome.disputes_opened[:MAX_LISTED_CREATED] if outcome else [],
    }
    if problems.left_out:
        report["problems_note"] = (
            f"This report lists the first {len(listed)} of the {problem_count} problems found; "
            f"the other {problems.left_out} are counted but not listed. Fix these, upload the file "
            "again, and its report lists the next ones (invoices already taken in count as duplicates)."
        )
    suffix = ".error.json" if rejected else ".report.json"
    objects.put_json(event.bucket, destination + suffix, report)
    objects.move(current, destination)
    return IngestReport(report["outcome"], destination, report)


def _guarded(results: Iterable[ParseResult]) -> Iterator[ParseResult]:
    """The parser's results; a parser that fails on the file (rather than on one of its documents,
    which it reports itself) rejects the file with a report, instead of leaving it in the inbox for
    Lambda to retry in vain. Failures of the store or of S3 are not these, and still raise."""
    found = iter(results)
    count = 0
    while True:
        try:
            result = next(found)
        except StopIteration:
            return
        except _PARSER_FAILURES as exc:
            after = f" after {count} document(s)" if count else ""
            raise FileRejectedError(
                "unreadable_file",
                f"the file could not be read{after} ({type(exc).__name__}: {str(exc)[:200]})",
            ) from exc
        count += 1
        yield result


def _parse(obj: StoredObject, fmt: str, objects: ObjectStore, settings: Settings) -> Iterable[ParseResult]:
    limit = {
        "csv": settings.max_csv_bytes,
        "json": settings.max_json_bytes,
        "ubl": settings.max_xml_bytes,
    }[fmt]
    if obj.size == 0:
        raise FileRejectedError("empty_file", "the file is empty")
    if obj.size > limit:
        raise FileRejectedError(
            "file_too_large",
            f"{obj.size} bytes; {fmt.upper()} files are accepted up to {limit} bytes",
        )
    if fmt == "csv":
        chunks = objects.chunks(obj)
        first = next(chunks, b"")
        _sniff(first, fmt)

        def replay() -> Iterable[bytes]:
            yield first
            yield from chunks

        return parse_csv(
            replay(),
            default_seller_id=settings.default_seller_id,
            max_row_bytes=settings.max_row_bytes,
            max_lines=settings.max_lines_per_invoice,
            date_order=date_order_of(obj.key),
        )
    data = objects.read(obj)
    _sniff(data[:64], fmt)
    if fmt == "json":
        return json_format.parse_json(
            data,
            default_seller_id=settings.default_seller_id,
            max_lines=settings.max_lines_per_invoice,
            max_bytes=limit,
        )

    def one_document() -> Iterator[ParseResult]:  # parsed when read, so within `_guarded`
        yield ubl.parse_ubl(data)

    return one_document()


def object_events(event: dict[str, Any]) -> list[ObjectEvent]:
    """The objects an S3 notification (``Records[].s3``) or an EventBridge "Object Created"
    event announces. Keys in S3 notifications arrive URL-encoded (``a+b.csv`` is ``a b.csv``)."""
    from urllib.parse import unquote_plus

    if event.get("detail-type") == "Object Created" and event.get("source") == "aws.s3":
        detail = event.get("detail", {})
        obj = detail.get("object", {})
        return [
            ObjectEvent(
                bucket=detail["bucket"]["name"],
                key=obj["key"],
                etag=obj.get("etag"),
                size=obj.get("size"),
                version_id=obj.get("version-id"),
            )
        ]
    found = []
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        found.append(
            ObjectEvent(
                bucket=s3["bucket"]["name"],
                key=unquote_plus(s3["object"]["key"]),
                etag=s3["object"].get("eTag"),
                size=s3["object"].get("size"),
                version_id=s3["object"].get("versionId"),
            )
        )
    return found
