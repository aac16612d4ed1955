"""What a file is: camt, MT940 or a ZIP of them read; anything else refused with what it looks
like; ZIP limits and zip bombs."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from receivables.banking.formats import StatementFile, ZipLimits, read_statements
from tests.unit.banking.builders import CamtEntry, camt, fixture

LIMIT = 10 * 1024 * 1024


def zipped(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def refusal(result: StatementFile) -> tuple[str, str]:
    (problem,) = result.problems
    assert problem.location == "file"
    assert result.refused
    return problem.code, problem.message


@pytest.mark.parametrize(
    ("name", "fmt", "statements"),
    [
        ("camt053-v02-statement.xml", "camt.053.001.02", 1),
        ("camt053-v04-two-accounts.xml", "camt.053.001.04", 2),
        ("camt054-v08-batch.xml", "camt.054.001.08", 1),
        ("mt940-german-sepa.sta", "mt940", 1),
        ("mt940-two-statements.sta", "mt940", 2),
        ("mt940-ing-style.sta", "mt940", 1),
    ],
)
def test_statement_files_are_recognised_by_their_content(name: str, fmt: str, statements: int) -> None:
    # The name is only for the report: a camt named .txt is still a camt.
    result = read_statements(fixture(name), "renamed.txt", LIMIT)

    assert (result.name, result.format, len(result.statements)) == ("renamed.txt", fmt, statements)
    assert not result.refused
    assert result.problems == ()


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "empty_file", "empty file"),
        (b" \r\n\t", "empty_file", "empty file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "unsupported_format", "a PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported_format", "a PNG image"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00",
            "unsupported_format",
            "a legacy Microsoft Office document (.xls, .doc)",
        ),
        (
            b"\x1f\x8b\x08\x00",
            "unsupported_format",
            "a gzip archive (only ZIP archives of statements are read)",
        ),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "unsupported_format", "an HTML page"),
        (b'{"statements": []}', "unsupported_format", "JSON, not a statement"),
        (b"\x00\x01\x02\x03binary", "unsupported_format", "binary data, not a statement"),
        (
            b"Dear customer,\nyour statement is attached.\n",
            "unsupported_format",
            "text that is neither camt.053, camt.054 nor MT940",
        ),
        (
            b"{1:F01BSPKDEHHAXXX0000000000}{2:O9501200240301BSPKDEHHAXXX0000000000240301N}{4:\n:20:X\n:25:Y\n-}",
            "unsupported_format",
            "a SWIFT MT950 message, not an MT940",
        ),
        (
            b":20:INTRADAY\n:25:DE53200505500001234567\n:28C:1\n:34F:EUR0,00\n:13D:2403011200+0100\n",
            "unsupported_format",
            "an MT942 (interim transaction report), not an MT940",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.01"><BkToCstmrStmt/></Document>',
            "unsupported_version",
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.01: camt.053 version .001.01 is not read; "
            "versions .001.02 and later are",
        ),
        (
            b"<?xml version='1.0'?><Document><BkToCstmrStmt/></Document>",
            "unsupported_format",
            "XML with root element Document in no namespace: not a camt.053 or camt.054",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt></Document>',
            "malformed_xml",
            None,
        ),
    ],
)
def test_anything_else_is_refused_saying_what_it_looks_like(
    data: bytes, code: str, message: str | None
) -> None:
    result = read_statements(data, "upload.bin", LIMIT)

    found_code, found_message = refusal(result)
    assert (result.format, found_code) == ("unknown", code)
    if message is not None:
        assert found_message == message
    assert result.statements == ()


def test_a_csv_is_described_by_its_columns() -> None:
    _, message = refusal(read_statements(fixture("bank-export.csv"), "export.csv", LIMIT))

    assert message == (
        "a CSV with columns Buchungstag, Valuta, Auftraggeber/Empfänger, IBAN, Verwendungszweck, "
        "Betrag, Währung: not a camt.053, camt.054 or MT940"
    )


def test_other_iso_20022_xml_is_described_by_its_root_and_namespace() -> None:
    _, message = refusal(read_statements(fixture("pain001-credit-transfer.xml"), "pay.xml", LIMIT))

    assert message == (
        "XML with root element Document in namespace urn:iso:std:iso:20022:tech:xsd:pain.001.001.09: "
        "not a camt.053 or camt.054"
    )


def test_a_file_over_the_limit_is_refused_with_its_size() -> None:
    code, message = refusal(read_statements(fixture("camt053-v02-statement.xml"), "big.xml", 1000))

    assert code == "file_too_large"
    assert "up to 1000 bytes" in message


def test_a_zip_of_two_statement_files_reads_each_member_as_a_file_of_its_own() -> None:
    result = read_statements(fixture("two-statements.zip"), "march.zip", LIMIT)

    assert (result.format, result.problems, result.statements) == ("zip", (), ())
    assert [(m.name, m.format, len(m.statements)) for m in result.members] == [
        ("camt054-v08-batch.xml", "camt.054.001.08", 1),
        ("mt940-ing-style.sta", "mt940", 1),
    ]
    assert [(name, s.statement_id) for name, s in result.every_statement()] == [
        ("march.zip/camt054-v08-batch.xml", "NTFC-20240308-0001"),
        ("march.zip/mt940-ing-style.sta", "P240301000000001"),
    ]


def test_problems_of_every_member_and_entry_are_listed_with_their_file_and_position() -> None:
    # Given a ZIP with a statement holding bad entries, a bad MT940 statement and a PDF
    archive = zipped(
        {
            "bad.xml": fixture("camt053-v06-bad-entries.xml"),
            "lines.sta": fixture("mt940-bad-lines.sta"),
            "scan.pdf": b"%PDF-1.4 ...",
            "__MACOSX/._bad.xml": b"\x00\x05\x16\x07 resource fork",
        }
    )

    # When it is read
    result = read_statements(archive, "upload.zip", LIMIT)

    # Then every problem says in which file and where, the archiver's litter is not a member
    listed = [(name, p.location, p.code) for name, p in result.every_problem()]
    assert ("upload.zip/bad.xml", "Stmt[1]/Ntry[2]", "missing_amount") in listed
    assert ("upload.zip/lines.sta", ":20:[1]/:61:[3]", "invalid_date") in listed
    assert ("upload.zip/lines.sta", ":20:[2]", "unreadable_statement") in listed
    assert ("upload.zip/scan.pdf", "file", "unsupported_format") in listed
    assert [m.name for m in result.members] == ["bad.xml", "lines.sta", "scan.pdf"]
    assert len(listed) == 9 + 4 + 1 + 1


def test_a_zip_with_too_many_members_is_refused() -> None:
    archive = zipped({f"s{i}.xml": camt([CamtEntry("1.00")]) for i in range(4)})

    code, message = refusal(read_statements(archive, "many.zip", LIMIT, zip_limits=ZipLimits(max_members=3)))

    assert code == "too_many_members"
    assert message == "a ZIP of 4 files; at most 3 are read"


def test_a_zip_that_declares_more_than_the_total_limit_is_refused_before_unpacking() -> None:
    archive = zipped({"a.xml": camt([CamtEntry("1.00")] * 50), "b.xml": camt([CamtEntry("1.00")] * 50)})

    result = read_statements(archive, "big.zip", LIMIT, zip_limits=ZipLimits(max_total_bytes=50_000))

    assert refusal(result)[0] == "archive_too_large"
    assert result.members == ()


def test_a_member_over_the_member_limit_is_a_refused_member() -> None:
    archive = zipped({"small.xml": camt([CamtEntry("1.00")]), "large.xml": camt([CamtEntry("1.00")] * 200)})

    result = read_statements(archive, "two.zip", LIMIT, zip_limits=ZipLimits(max_member_bytes=20_000))

    small, large = result.members
    assert (small.format, len(small.statements)) == ("camt.053.001.08", 1)
    assert refusal(large)[0] == "file_too_large"
    assert not result.refused  # the archive itself was read


def test_a_zip_bomb_lying_about_its_size_is_never_inflated_beyond_the_declared_size() -> None:
    # Given 20 MB of zeros compressed to some twenty kilobytes, whose directory claims 1,000
    # bytes
    archive = bytearray(zipped({"bomb.xml": b"\x00" * 20_000_000}))
    directory = archive.rfind(b"PK\x01\x02")
    struct.pack_into("<I", archive, directory + 24, 1000)
    header = archive.find(b"PK\x03\x04")
    struct.pack_into("<I", archive, header + 22, 1000)

    # When it is read
    result = read_statements(bytes(archive), "bomb.zip", LIMIT)

    # Then nothing beyond the declared size was unpacked, and the member is refused
    (member,) = result.members
    assert refusal(member)[0] == "bad_archive"  # zipfile stops at the declared size: a bad CRC


def test_a_real_zip_bomb_within_its_declared_size_is_refused_on_the_total() -> None:
    archive = zipped({f"z{i}.xml": b"\x00" * 4_000_000 for i in range(5)})

    assert refusal(read_statements(archive, "bomb.zip", LIMIT))[0] == "archive_too_large"


def test_nested_archives_encrypted_members_and_office_documents_are_not_read() -> None:
    nested = read_statements(zipped({"inner.zip": zipped({"a.xml": b"<a/>"})}), "outer.zip", LIMIT)
    office = read_statements(
        zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), "book.xlsx", LIMIT
    )
    encrypted = bytearray(zipped({"secret.xml": camt([CamtEntry("1.00")])}, compression=zipfile.ZIP_STORED))
    directory = encrypted.rfind(b"PK\x01\x02")
    struct.pack_into("<H", encrypted, directory + 8, 0x1)

    assert refusal(nested.members[0])[0] == "nested_archive"
    assert refusal(office) == ("unsupported_format", "an Office document (.xlsx, .docx), not a statement")
    assert refusal(read_statements(bytes(encrypted), "enc.zip", LIMIT).members[0])[0] == "encrypted_member"


def test_a_damaged_or_empty_zip_is_refused() -> None:
    damaged = read_statements(b"PK\x03\x04" + b"\x00" * 40, "broken.zip", LIMIT)
    empty = read_statements(zipped({}), "empty.zip", LIMIT)

    assert refusal(damaged)[0] == "bad_archive"
    assert refusal(empty)[0] == "empty_file"
