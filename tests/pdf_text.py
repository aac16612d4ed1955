"""The text a PDF drawn by fpdf2 shows, for tests: each text-showing operator's string, in the
order drawn, one per line. fpdf2 compresses its page streams (Flate) and writes core-font text
as literal strings (``(…) Tj``), escaping parentheses and backslashes; nothing else is needed to
read back what our PDFs print."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.DOTALL)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    if code[:1].isdigit():
        return bytes([int(code, 8)])
    return _ESCAPES.get(code, code)


def pdf_text(data: bytes) -> str:
    """The strings the PDF's pages show (Latin-1, as the core fonts encode them), one a line."""
    shown: list[str] = []
    for stream in _STREAM.findall(data):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # not a compressed content stream (an image, metadata)
        shown += [_ESCAPE.sub(_unescape, s).decode("latin-1") for s in _SHOWN.findall(content)]
    return "\n".join(shown)
