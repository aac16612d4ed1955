"""What a statement file is, and reading it: camt.053 or camt.054 (by root element and
namespace), MT940 (by its ``:20:`` and ``:25:`` tags, with or without the SWIFT envelope) or a ZIP
of several; anything else is refused with a report that says what it looks like.

The result keeps, per file and per ZIP member, the statements read and the problems found (what,
where, why), so that intake can write the same per-file report as invoice intake does.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receivables.banking import camt, mt940
from receivables.banking.reading import ReadProblem, StatementFileError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from receivables.banking.statement import Statement

ZIP = "zip"
UNKNOWN = "unknown"
# What a reader may raise on hostile input its own checks did not foresee: the file is refused
# with a report rather than failing the caller.
_READER_FAILURES = (ValueError, TypeError, ArithmeticError, LookupError, RecursionError, RuntimeError)
_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "a legacy Microsoft Office document (.xls, .doc)"),
    (b"\x1f\x8b", "a gzip archive (only ZIP archives of statements are read)"),
    (b"Rar!", "a RAR archive (only ZIP archives of statements are read)"),
    (b"7z\xbc\xaf", "a 7-Zip archive (only ZIP archives of statements are read)"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_MT_TAG = re.compile(r"(?m)^:(20|25):")
_SWIFT_TYPE = re.compile(r"\{2:[IO](\d{3})")
_MAX_COLUMNS_SHOWN = 8
_MIN_COLUMNS = 3


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """How much of a ZIP is read: members, and uncompressed bytes per member and in all. A ZIP
    over any limit is refused as a whole (a zip bomb is not read in part)."""

    max_members: int = 200
    max_member_bytes: int | None = None  # None: the caller's file limit
    max_total_bytes: int | None = None  # None: the caller's file limit


@dataclass(frozen=True, slots=True)
class StatementFile:
    """What one file held: its ``format`` (``camt.053.001.08``, ``camt.054.001.02``, ``mt940``,
    ``zip``, or ``unknown`` when refused), the statements read and the problems of the file or of
    a whole statement (an entry's problems are on its statement). A ZIP's members are files of
    their own, with their names inside the archive."""

    name: str
    format: str
    statements: tuple[Statement, ...] = ()
    problems: tuple[ReadProblem, ...] = ()
    members: tuple[StatementFile, ...] = ()

    @property
    def refused(self) -> bool:
        """True when the file as a whole could not be read (its problem is at ``file``)."""
        return any(p.location == "file" for p in self.problems)

    def every_statement(self) -> Iterator[tuple[str, Statement]]:
        """``(file name, statement)`` for this file's statements and its members'."""
        for statement in self.statements:
            yield self.name, statement
        for member in self.members:
            for name, statement in member.every_statement():
                yield f"{self.name}/{name}", statement

    def every_problem(self) -> Iterator[tuple[str, ReadProblem]]:
        """``(file name, problem)`` for every problem found, entries' included (their position
        as the location), in the order of the file."""
        for problem in self.problems:
            yield self.name, problem
        for statement in self.statements:
            for entry_problem in statement.problems:
                yield self.name, ReadProblem(entry_problem.position, entry_problem.code, entry_problem.reason)
        for member in self.members:
            for name, problem in member.every_problem():
                yield f"{self.name}/{name}", problem


def read_statements(
    data: bytes,
    name: str,
    max_bytes: int,
    *,
    zip_limits: ZipLimits | None = None,
) -> StatementFile:
    """Read the statements of one file (``name`` is for the report; the content decides).

    Never raises for what the file holds: a file that is not a statement, too large, hostile or
    broken comes back with ``format="unknown"`` (or its format) and a problem at ``file`` that
    says what it looks like, e.g. ``a PDF`` or ``XML with root element Document in namespace
    urn:iso:std:iso:20022:tech:xsd:pain.001.001.09: not a camt.053 or camt.054``.

    >>> read_statements(b"", "empty.xml", 1000).problems[0].message
    'empty file'
    """
    if not data.strip():
        return _refused(name, "empty_file", "empty file")
    if len(data) > max_bytes:
        return _refused(
            name, "file_too_large", f"{len(data)} bytes; statements are read up to {max_bytes} bytes"
        )
    if data.startswith(_ZIP_MAGIC):
        return _read_zip(data, name, max_bytes, zip_limits or ZipLimits())
    return _read_one(data, name, max_bytes)


def _refused(name: str, code: str, message: str, fmt: str = UNKNOWN) -> StatementFile:
    return StatementFile(name, fmt, problems=(ReadProblem("file", code, message),))


def _read_one(data: bytes, name: str, max_bytes: int) -> StatementFile:
    kind = _kind(data)
    if kind is None:
        return _refused(name, "unsupported_format", describe(data))
    try:
        if kind == "xml":
            result = camt.read_camt(data, max_bytes=max_bytes)
        else:
            result = mt940.read_mt940(data, max_bytes=max_bytes)
    except StatementFileError as exc:
        return StatementFile(name, UNKNOWN, problems=(exc.problem,))
    except _READER_FAILURES as exc:
        return _refused(
            name, "unreadable_file", f"the file could not be read ({type(exc).__name__}: {exc})"[:300]
        )
    fmt = result.statements[0].format if result.statements else _format_of(data, kind)
    return StatementFile(name, fmt, result.statements, result.problems)


def _format_of(data: bytes, kind: str) -> str:
    if kind != "xml":
        return mt940.FORMAT
    match = camt.NAMESPACE.search(data[:4096].decode("utf-8", "replace"))
    return match.group(0).rpartition(":")[2] if match else UNKNOWN


def _kind(data: bytes) -> str | None:
    """``xml`` for a camt candidate, ``mt940`` for MT940 text, None for anything else."""
    head = _text_head(data)
    if head is None:
        return None
    start = head.lstrip("\ufeff \t\r\n")
    if start.startswith("<") and not re.match(r"(?i)<!doctype\s+html|<html", start):
        return "xml"
    if _is_mt940(head):
        return "mt940"
    return None


def _is_mt940(text: str) -> bool:
    """``:20:`` and ``:25:`` at the start of lines (once the SWIFT envelope is taken off), and
    neither another SWIFT message type nor an MT942's floor limit (``:34F:``) without balances."""
    swift = _SWIFT_TYPE.search(text[:400])
    if swift and swift.group(1) != "940":
        return False
    body = mt940.without_envelope(text)
    if ":34F:" in body and ":60F:" not in body and ":60M:" not in body:
        return False
    return {m.group(1) for m in _MT_TAG.finditer(body)} == {"20", "25"}


def _text_head(data: bytes, size: int = 65536) -> str | None:
    """The start of ``data`` as text, or None when it is binary."""
    head = data[:size]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the end of the sample
            return head[: exc.start].decode("utf-8")
        return head.decode("latin-1")


def describe(data: bytes) -> str:
    """What ``data`` looks like, for a refusal: ``a PDF``, ``a CSV with columns Date, Amount``,
    ``an HTML page``, ``JSON``, ``an MT942 (interim transaction report), not an MT940``…"""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if data.startswith(_ZIP_MAGIC):
        return "a ZIP archive"
    head = _text_head(data)
    if head is None:
        return "binary data, not a statement"
    start = head.lstrip("\ufeff \t\r\n")
    if re.match(r"(?i)<!doctype\s+html|<html", start):
        return "an HTML page"
    swift = _SWIFT_TYPE.search(head[:400])
    if swift and swift.group(1) != "940":
        return f"a SWIFT MT{swift.group(1)} message, not an MT940"
    if start[:1] in ("{", "["):
        return "JSON, not a statement"
    if ":34F:" in head and ":20:" in head:
        return "an MT942 (interim transaction report), not an MT940"
    if ":20:" in head or ":25:" in head:
        return "text with some MT940 tags, but not both :20: (the statement) and :25: (the account)"
    if columns := _csv_columns(head):
        shown = ", ".join(columns[:_MAX_COLUMNS_SHOWN]) + (", …" if len(columns) > _MAX_COLUMNS_SHOWN else "")
        return f"a CSV with columns {shown}: not a camt.053, camt.054 or MT940"
    return "text that is neither camt.053, camt.054 nor MT940"


def _csv_columns(text: str) -> list[str] | None:
    """The header of a table: three columns or more, and a second row as wide."""
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    if len(lines) < 2:  # a header and a row at least
        return None
    delimiter = max(";,\t|", key=lambda d: lines[0].count(d))
    header, row = (next(csv.reader(io.StringIO(line), delimiter=delimiter)) for line in lines[:2])
    if len(header) < _MIN_COLUMNS or len(row) != len(header):
        return None
    return [cell.strip()[:40] for cell in header]


def _read_zip(data: bytes, name: str, max_bytes: int, limits: ZipLimits) -> StatementFile:
    member_limit = limits.max_member_bytes or max_bytes
    total_limit = limits.max_total_bytes or max_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir() and not _is_noise(i.filename)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return _refused(name, "bad_archive", f"a damaged ZIP archive ({exc})", ZIP)
    if any(i.filename == "[Content_Types].xml" for i in infos):
        return _refused(name, "unsupported_format", "an Office document (.xlsx, .docx), not a statement", ZIP)
    if not infos:
        return _refused(name, "empty_file", "a ZIP archive without files", ZIP)
    if len(infos) > limits.max_members:
        return _refused(
            name,
            "too_many_members",
            f"a ZIP of {len(infos)} files; at most {limits.max_members} are read",
            ZIP,
        )
    declared = sum(i.file_size for i in infos)
    if declared > total_limit:
        return _refused(
            name,
            "archive_too_large",
            f"the ZIP unpacks to {declared} bytes; at most {total_limit} are read",
            ZIP,
        )
    members: list[StatementFile] = []
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            members.append(
                _refused(info.filename, "encrypted_member", "an encrypted file: it cannot be read")
            )
            continue
        if info.file_size > member_limit:
            message = f"{info.file_size} bytes unpacked; a file in a ZIP is read up to {member_limit} bytes"
            members.append(_refused(info.filename, "file_too_large", message))
            continue
        budget = min(member_limit, total_limit - total)
        try:
            with archive.open(info) as member:
                content = member.read(budget + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            members.append(_refused(info.filename, "bad_archive", f"the file cannot be unpacked ({exc})"))
            continue
        if len(content) > budget:
            # More than the sizes checked above allow (zipfile stops at the declared size, so this
            # is a defence in depth): a zip bomb; none of it is read.
            limit = "its limit" if budget == member_limit else "what is left of the archive's limit"
            return _refused(
                name,
                "archive_too_large",
                f"{info.filename} unpacks to more than {budget} bytes ({limit}); the ZIP is not read",
                ZIP,
            )
        total += len(content)
        if content.startswith(_ZIP_MAGIC):
            members.append(_refused(info.filename, "nested_archive", "a ZIP inside the ZIP is not read", ZIP))
            continue
        members.append(read_statements(content, info.filename, member_limit))
    return StatementFile(name, ZIP, members=tuple(members))


def _is_noise(filename: str) -> bool:
    """What archivers add beside the files (macOS resource forks and folder settings)."""
    base = filename.rpartition("/")[2]
    return filename.startswith("__MACOSX/") or base.startswith("._") or base in (".DS_Store", "Thumbs.db")
