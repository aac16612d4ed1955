"""The CSV invoice layout, streamed: one row per invoice, or one row per line with the invoice's
fields repeated on consecutive rows. Comma or semicolon; UTF-8 with or without BOM; a semicolon
file reads ``1234,56`` as a decimal comma.
"""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING, Any

from receivables.ingest.fields import HEADER_FIELDS, LINE_FIELDS, FieldDocument, build_document
from receivables.ingest.model import FileRejectedError, Problem, RejectedDocument

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from receivables.ingest.model import ParseResult

# Other names ERP exports give the same columns (compared after lower-casing, trimming and
# turning spaces and dashes into underscores).
ALIASES = {
    "type": "document_type",
    "doc_type": "document_type",
    "invoice_no": "invoice_number",
    "invoice_id": "invoice_number",
    "number": "invoice_number",
    "invoice_date": "issue_date",
    "date": "issue_date",
    "due": "due_date",
    "terms": "payment_terms",
    "customer_id": "customer_ref",
    "customer_number": "customer_ref",
    "customer": "customer_name",
    "email": "customer_email",
    "vat_id": "customer_vat",
    "vat_number": "customer_vat",
    "po": "po_number",
    "purchase_order": "po_number",
    "contract": "contract_reference",
    "dispute": "disputed",
    "in_dispute": "disputed",
    "dispute_reason": "disputed",
    "contested": "disputed",
    "total": "total_amount",
    "amount": "total_amount",
    "gross_amount": "total_amount",
    "tax": "tax_amount",
    "vat_amount": "tax_amount",
    "prepaid": "prepaid_amount",
    "amount_payable": "amount_due",
    "description": "line_description",
    "quantity": "line_quantity",
    "unit_price": "line_unit_price",
    "unit": "line_unit_code",
    "net_amount": "line_amount",
    "tax_percent": "line_tax_percent",
}
REQUIRED_COLUMNS = ("invoice_number", "issue_date", "currency")
KNOWN_COLUMNS = frozenset(HEADER_FIELDS) | frozenset(LINE_FIELDS)
_GROUP_CONSISTENT = (
    "document_type",
    "seller_id",
    "issue_date",
    "due_date",
    "currency",
    "customer_ref",
    "customer_vat",
    "customer_email",
    "total_amount",
    "tax_amount",
)
_CHUNK_LINE_LIMIT = 1 << 20


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _canonical_column(name: str) -> str:
    """A header's column: camelCase and PascalCase split into words (``invoiceNumber``,
    ``CustomerID``, ``PONumber``), then lower-cased, spaces, dashes and dots as underscores, and
    the other names ERP exports use (`ALIASES`) mapped to ours."""
    words = _CAMEL.sub("_", name.strip())
    key = re.sub(r"[\s.\-]+", "_", words).lower()
    return ALIASES.get(key, key)


class _Lines:
    """Decoded physical lines from byte chunks, remembering which lines were unusable."""

    def __init__(self, chunks: Iterable[bytes], max_row_bytes: int) -> None:
        self._chunks = chunks
        self._max = max_row_bytes
        self.bad: dict[int, Problem] = {}
        self.line_no = 0

    def __iter__(self) -> Iterator[str]:
        pending = b""
        started = False
        for chunk in self._chunks:
            if not started and chunk:
                _check_file_start(chunk[:4096])
                started = True
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                yield self._decode(raw + b"\n")
            if len(pending) > max(self._max, _CHUNK_LINE_LIMIT):
                raise FileRejectedError(
                    "row_too_long", f"line {self.line_no + 1} is longer than {self._max} bytes"
                )
        if pending:
            yield self._decode(pending)

    def _decode(self, raw: bytes) -> str:
        self.line_no += 1
        if self.line_no == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if len(raw) > self._max:
            self.bad[self.line_no] = Problem(
                f"row {self.line_no}", "row_too_long", f"the row is longer than {self._max} bytes"
            )
            return "\n"
        nul = raw.find(b"\x00")
        if nul >= 0 and self.line_no > 1:  # in the header it is a binary file (_check_file_start)
            self.bad[self.line_no] = Problem(
                f"row {self.line_no}",
                "not_text",
                f"the row holds a NUL byte (at position {nul + 1}), which is not text; remove it "
                "and upload the row again",
            )
            return "\n"
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = (
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}); "
                "save the file as UTF-8"
            )
            if self.line_no == 1:
                raise FileRejectedError("not_utf8", f"line 1 is {message}") from None
            self.bad[self.line_no] = Problem(f"row {self.line_no}", "not_utf8", message)
            return "\n"


def _check_file_start(start: bytes) -> None:
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejectedError("not_utf8", "the file is UTF-16; save it as UTF-8")
    # A NUL in the header, or a header that is not text, is a binary file; a NUL further down is a
    # problem of its row, and the other rows still go in.
    header = start.split(b"\n", 1)[0]
    if b"\x00" in header or (b"\x00" in start and not _is_text(header)):
        raise FileRejectedError("not_text", "the file is binary, not CSV text")


def _is_text(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:  # a header cut at 4096 bytes may end inside a character
        return exc.start >= len(line) - 3
    return True


def parse_csv(
    chunks: Iterable[bytes],
    *,
    default_seller_id: str,
    max_row_bytes: int = 64 * 1024,
    max_lines: int = 1000,
    date_order: str | None = None,
) -> Iterator[ParseResult]:
    """Parse a CSV byte stream into documents, one at a time, without holding the file
    (``date_order``: how it writes slashed dates, declared by its key, `date_order_of`).

    Raises `FileRejectedError` when the file as a whole is unusable (empty, not UTF-8, a header
    without the required columns); a bad row becomes a `RejectedDocument` and parsing goes on.
    """
    lines = _Lines(chunks, max_row_bytes)
    line_iter = iter(lines)
    header_line = next(line_iter, None)
    while header_line is not None and not header_line.strip():
        header_line = next(line_iter, None)
    if header_line is None:
        raise FileRejectedError("empty_file", "the file is empty")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    decimal_comma = delimiter == ";"

    def all_lines() -> Iterator[str]:
        yield header_line
        yield from line_iter

    csv.field_size_limit(max_row_bytes)
    reader = csv.reader(all_lines(), delimiter=delimiter)
    columns = _read_header(next(reader))
    labels = {canonical: original for original, canonical in columns if canonical}
    group: list[tuple[int, dict[str, str]]] = []
    group_key: tuple[str, str] | None = None
    any_rows = False
    for row in _rows(reader, lines, columns, delimiter):
        any_rows = True
        if isinstance(row, RejectedDocument):
            yield row
            continue
        key = (row[1].get("document_type", "").strip().lower(), row[1].get("invoice_number", "").strip())
        if group and (key != group_key or not key[1]):
            yield _document_from_rows(group, labels, default_seller_id, decimal_comma, max_lines, date_order)
            group = []
        group_key = key
        group.append(row)
    if group:
        yield _document_from_rows(group, labels, default_seller_id, decimal_comma, max_lines, date_order)
    # Rows past the last record that were unusable (a bad last line, say) are still reported.
    for problem in lines.bad.values():
        any_rows = True
        yield RejectedDocument(problem.location, (problem,))
    if not any_rows:
        raise FileRejectedError("no_rows", "the file has a header but no rows: no invoice was in it")


def _rows(
    reader: Any, lines: _Lines, columns: list[tuple[str, str | None]], delimiter: str
) -> Iterator[tuple[int, dict[str, str]] | RejectedDocument]:
    """The non-blank records as (row number, canonical fields), or the reason a record is unusable."""
    last_line = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield _row_problem(last_line, "malformed_row", f"unreadable CSV: {exc}")
            continue
        row_no = reader.line_num
        bad = [lines.bad.pop(n) for n in range(last_line + 1, row_no + 1) if n in lines.bad]
        last_line = row_no
        if bad:
            yield RejectedDocument(f"row {row_no}", tuple(bad))
        elif not any(cell.strip() for cell in record):
            continue
        elif len(record) != len(columns):
            yield _row_problem(
                row_no,
                "malformed_row",
                f"{len(record)} fields where the header has {len(columns)}"
                f" (is a value with a {delimiter!r} missing its quotes?)",
            )
        else:
            yield (
                row_no,
                {
                    canonical: value
                    for (_, canonical), value in zip(columns, record, strict=True)
                    if canonical
                },
            )


def _row_problem(row_no: int, code: str, message: str) -> RejectedDocument:
    return RejectedDocument(f"row {row_no}", (Problem(f"row {row_no}", code, message),))


def _read_header(header: list[str]) -> list[tuple[str, str | None]]:
    columns: list[tuple[str, str | None]] = []
    seen: dict[str, str] = {}
    for original in header:
        canonical = _canonical_column(original)
        if not canonical:
            columns.append((original, None))
            continue
        if canonical in seen:
            raise FileRejectedError(
                "duplicate_column",
                f"the columns {seen[canonical]!r} and {original!r} both mean {canonical}",
                original,
            )
        seen[canonical] = original
        # Columns we do not know (an ERP's own) are carried along and ignored.
        columns.append((original, canonical if canonical in KNOWN_COLUMNS else None))
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if "total_amount" not in seen and "line_amount" not in seen:
        missing.append("total_amount (or line_amount)")
    if missing:
        raise FileRejectedError(
            "missing_columns",
            f"the header lacks {', '.join(missing)}; it has {', '.join(header) or 'nothing'}",
        )
    return columns


def _document_from_rows(
    rows: list[tuple[int, dict[str, str]]],
    labels: dict[str, str],
    default_seller_id: str,
    decimal_comma: bool,
    max_lines: int,
    date_order: str | None = None,
) -> ParseResult:
    first_no, first = rows[0]
    location = f"row {first_no}" if len(rows) == 1 else f"rows {first_no}-{rows[-1][0]}"
    for row_no, row in rows[1:]:
        for name in _GROUP_CONSISTENT:
            value = row.get(name, "").strip()
            if value and value != first.get(name, "").strip():
                problem = Problem(
                    f"row {row_no}",
                    "inconsistent_rows",
                    f"{value!r} differs from {first.get(name, '')!r} on row {first_no} of the same invoice",
                    labels.get(name, name),
                    first.get("invoice_number", "").strip() or None,
                )
                return RejectedDocument(location, (problem,))
    lines = [
        (f"row {row_no}", row)
        for row_no, row in rows
        if any(row.get(name, "").strip() for name in LINE_FIELDS)
    ]
    return build_document(
        FieldDocument(header=first, lines=lines, location=location, field_label=labels),
        default_seller_id=default_seller_id,
        decimal_comma=decimal_comma,
        max_lines=max_lines,
        date_order=date_order,
    )
