"""ISO 20022 camt.053 (bank-to-customer statement) and camt.054 (debit/credit notification), every
version from ``.001.02`` on, read into `Statement` values.

Elements are read by their local names, whatever version the namespace says (the version is
recorded as ``Statement.format``); how each ``Stmt``/``Ntfctn`` is read, with the differences
between versions, is `receivables.banking.camt_report`.

The file is parsed as a stream (``defusedxml`` iterparse, which refuses DTDs, entities and
external references): each child of a ``Stmt``/``Ntfctn`` is read when it ends and then dropped,
so a statement of 10,000 entries never holds more than one entry's elements. An entry that cannot
be read becomes an `EntryProblem` naming it (``Stmt[1]/Ntry[12]``); the others go through.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from receivables.banking.camt_report import ReportReader, text_at
from receivables.banking.reading import ReadProblem, ReadResult, StatementFileError, clean_text
from receivables.banking.statement import Statement, StatementKind

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(\d{2})")
FIRST_VERSION = 2
# Per message: the element under Document, the report element under it, what the bank sent.
MESSAGES = {
    "camt.053": ("BkToCstmrStmt", "Stmt", StatementKind.STATEMENT),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", StatementKind.NOTIFICATION),
}


def camt_format(namespace: str) -> tuple[str, int] | None:
    """``("camt.053", 8)`` for the camt.053.001.08 namespace; None for any other namespace."""
    match = NAMESPACE.fullmatch(namespace)
    return (match.group(1), int(match.group(2))) if match else None


def read_camt(data: bytes, *, max_bytes: int) -> ReadResult:
    """Read every ``Stmt`` of a camt.053 or ``Ntfctn`` of a camt.054 in ``data``.

    Raise `StatementFileError` when the file as a whole cannot be read: larger than
    ``max_bytes``, a DTD or entity (refused, never expanded), XML that is not well-formed
    (nothing of a truncated file is taken), or XML that is not a camt.053/054 of version
    ``.001.02`` or later (the message says what it is instead).
    """
    if len(data) > max_bytes:
        raise StatementFileError(
            "file_too_large", f"{len(data)} bytes; statements are read up to {max_bytes}"
        )
    reader = _CamtReader()
    try:
        for event, element in iterparse(
            io.BytesIO(data),
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start":
                reader.start(element)
            else:
                reader.end(element)
    except DefusedXmlException as exc:
        raise StatementFileError(
            "unsafe_xml", f"the XML declares a DTD or entities, which are refused ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        raise StatementFileError("malformed_xml", f"not well-formed XML: {exc}") from None
    if reader.format is None:
        raise StatementFileError("malformed_xml", "no XML element found")
    return ReadResult(tuple(reader.statements), tuple(reader.problems))


class _CamtReader:
    """The state of one streamed parse: where we are, and what has been read."""

    def __init__(self) -> None:
        self.stack: list[Element] = []
        self.format: str | None = None
        self.message = ""
        self.kind = StatementKind.STATEMENT
        self.report_tag = ""
        self.created_at: str | None = None
        self.reports = 0
        self.current: ReportReader | None = None
        self.statements: list[Statement] = []
        self.problems: list[ReadProblem] = []

    def start(self, element: Element) -> None:
        """An element opens: check the root and the message, begin a report."""
        namespace, _, name = element.tag[1:].rpartition("}") if element.tag.startswith("{") else ("", "", "")
        name = name or element.tag
        element.tag = name  # local names from here on: paths below read any version alike
        self.stack.append(element)
        depth = len(self.stack)
        if depth == 1:
            self._root(name, namespace)
        elif depth == 2 and name != self.message:
            raise StatementFileError(
                "unsupported_format",
                f"a {self.format} Document holds {name}, where {self.message} was expected",
            )
        elif depth == 3 and name == self.report_tag:
            self.reports += 1
            self.current = ReportReader(
                self.format or "", self.kind, f"{name}[{self.reports}]", self.created_at
            )

    def _root(self, name: str, namespace: str) -> None:
        found = camt_format(namespace)
        if name != "Document" or found is None:
            where = f"in namespace {namespace}" if namespace else "in no namespace"
            raise StatementFileError(
                "unsupported_format",
                f"XML with root element {name} {where}: not a camt.053 or camt.054",
            )
        message, version = found
        if version < FIRST_VERSION:
            raise StatementFileError(
                "unsupported_version",
                f"{namespace}: {message} version .001.{version:02d} is not read; "
                "versions .001.02 and later are",
            )
        self.format = namespace.rpartition(":")[2]
        self.message, self.report_tag, self.kind = MESSAGES[message]

    def end(self, element: Element) -> None:
        """An element closes: a report's child is read, a report finished; both then dropped."""
        self.stack.pop()
        depth = len(self.stack)  # the depth of the parent
        if depth == 3 and self.current is not None:
            self.current.take(element)
        elif depth == 2 and element.tag == self.report_tag and self.current is not None:
            result = self.current.finish()
            if isinstance(result, Statement):
                self.statements.append(result)
            else:
                self.problems.append(result)
            self.current = None
        elif depth == 2 and element.tag == "GrpHdr":
            self.created_at = clean_text(text_at(element, "CreDtTm"))
        else:
            return
        self.stack[-1].remove(element)  # read: let it go, so the tree never grows
