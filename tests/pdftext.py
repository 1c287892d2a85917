"""The text a PDF page draws, read without a PDF library: reportlab writes
its content streams ASCII85- and Flate-encoded, and its text as literal
strings shown with ``Tj`` (standard fonts, cp1252)."""

from __future__ import annotations

import base64
import re
import zlib


def _unescape(s: bytes) -> bytes:
    """A PDF literal string's escapes: \\ddd octal, or a backslashed character."""
    return re.sub(
        rb"\\([0-7]{1,3}|.)",
        lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1],
        s,
    )


def pdf_text(pdf: bytes) -> str:
    """The strings the page draws, read from its content stream (ASCII85 and
    Flate, as reportlab writes it), without any PDF library."""
    shown = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            continue
        for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data):
            shown.append(_unescape(s).decode("cp1252"))
    return "\n".join(shown)
