"""What every invoice format is parsed into, and how problems are reported (what, where, why)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from receivables.kernel.errors import ReceivablesError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import date

    from receivables.kernel.money import Money
    from receivables.ledger.disputes import Reason
    from receivables.ledger.model import Buyer, DocumentType, InvoiceLine


@dataclass(frozen=True, slots=True)
class Problem:
    """One specific thing wrong with an input.

    ``location`` says where (``row 12``, ``item 3``, ``document``, ``file``), ``field`` which
    value (a CSV column, a JSON path, a UBL element), ``code`` what kind of problem for machines
    and ``message`` why, for people.
    """

    location: str
    code: str
    message: str
    field: str | None = None
    number: str | None = None  # the document number, when it could be read

    def to_json(self) -> dict[str, Any]:
        """The problem as it appears in an error report."""
        out: dict[str, Any] = {"location": self.location, "code": self.code}
        if self.number is not None:
            out["number"] = self.number
        if self.field is not None:
            out["field"] = self.field
        out["message"] = self.message
        return out


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """An invoice or credit note in one shape, whatever format it arrived in."""

    doc_type: DocumentType
    seller_id: str
    number: str
    buyer: Buyer
    currency: str
    issue_date: date
    due_date: date | None
    payment_terms: str | None
    total: Money  # tax inclusive
    tax: Money
    prepaid: Money
    payable: Money
    lines: tuple[InvoiceLine, ...]
    location: str
    po_number: str | None = None
    buyer_reference: str | None = None
    billing_reference: str | None = None
    contract_reference: str | None = None
    # The ERP marks the invoice contested (`receivables.ingest.fields.read_disputed`): a dispute
    # is opened on it when it arrives, with this reason.
    disputed: Reason | None = None


@dataclass(frozen=True, slots=True)
class RejectedDocument:
    """A document that could not be parsed, with every reason found."""

    location: str
    problems: tuple[Problem, ...]


ParseResult = ParsedDocument | RejectedDocument

# A report lists the first problems of a file and counts all of them: a file of a million bad rows
# must not become a report, or a memory footprint, of a million problems.
MAX_LISTED_PROBLEMS = 1000
# A message quotes the value it is about; a value can be as long as a row.
MAX_MESSAGE_CHARS = 500


@dataclass(slots=True)
class ProblemLog:
    """The problems of one file: the first ``limit`` kept for its report, every one counted.

    >>> log = ProblemLog(limit=1)
    >>> log.extend([Problem("row 2", "invalid_date", "..."), Problem("row 3", "invalid_date", "...")])
    >>> (len(log), len(log.listed), log.left_out, log.count("invalid_date"))
    (2, 1, 1, 2)
    """

    limit: int = MAX_LISTED_PROBLEMS
    listed: list[Problem] = field(default_factory=list)
    total: int = 0
    by_code: Counter[str] = field(default_factory=Counter)

    def append(self, problem: Problem) -> None:
        """Count ``problem``; keep it if fewer than ``limit`` are kept."""
        self.total += 1
        self.by_code[problem.code] += 1
        if len(self.listed) < self.limit:
            if len(problem.message) > MAX_MESSAGE_CHARS:
                problem = replace(problem, message=problem.message[: MAX_MESSAGE_CHARS - 3] + "...")
            self.listed.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        """`append` each of ``problems``."""
        for problem in problems:
            self.append(problem)

    def count(self, code: str) -> int:
        """How many problems of ``code`` there were, listed or not."""
        return self.by_code[code]

    @property
    def left_out(self) -> int:
        """How many problems were counted but not kept."""
        return self.total - len(self.listed)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.listed)


class FileRejectedError(ReceivablesError):
    """The whole file is unusable (wrong type, not UTF-8, no header, too large, hostile XML)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.problem = Problem(location="file", code=code, message=message, field=field)


@dataclass(slots=True)
class ProblemCollector:
    """Gathers the problems of one document so that all of them are reported, not just the first."""

    location: str
    number: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, field: str | None = None) -> None:
        """Record one problem at this document's location."""
        self.problems.append(Problem(self.location, code, message, field, self.number))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def rejected(self) -> RejectedDocument:
        """The document as rejected, with everything found."""
        return RejectedDocument(self.location, tuple(self.problems))
