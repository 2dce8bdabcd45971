"""Text of a PDF report, page by page, with pypdf (pure: bytes in, text out)."""

from __future__ import annotations

import io
import unicodedata

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from hindsight.analysis.archive.model import ArchiveError


def pdf_text(data: bytes, name: str) -> str:
    """The text of every page, pages separated by a blank line."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ArchiveError(name, 0, "is an encrypted PDF; export it without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        if isinstance(error, ArchiveError):
            raise
        raise ArchiveError(name, 0, f"is not a readable PDF ({error}); export it again") from None
    text = "\n\n".join(page.strip("\n") for page in pages)
    # Extraction leaves control characters and lone bullets where the layout had glyphs.
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\n\t" else c
        for c in text
    )
    if not text.strip():
        raise ArchiveError(
            name, 0, "is a PDF with no text (a scan?); only PDFs with text can be imported"
        )
    return text
