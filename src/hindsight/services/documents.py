"""Export postmortems as files and import them back (create or update by key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.incidents import Postmortem
from hindsight.errors import DocumentError, Located
from hindsight.rendering.html import markdown_to_html
from hindsight.rendering.json_form import read_json, render_json
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.incidents import check_categories, get_postmortem, save_postmortem

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class DocumentFormat(StrEnum):
    """The file forms a postmortem round-trips through."""

    MARKDOWN = "markdown"
    JSON = "json"


def format_for_path(path: Path) -> DocumentFormat:
    """Markdown for .md/.markdown, JSON for .json; anything else is refused."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return DocumentFormat.MARKDOWN
    if suffix == ".json":
        return DocumentFormat.JSON
    raise DocumentError([Located(str(path), 0, "", "unknown file type; use .md or .json")])


def render_document(postmortem: Postmortem, fmt: DocumentFormat) -> str:
    """The postmortem in the chosen form."""
    return (
        render_markdown(postmortem) if fmt is DocumentFormat.MARKDOWN else render_json(postmortem)
    )


def export_postmortem(session: Session, *, key: str, fmt: DocumentFormat) -> str:
    """The stored postmortem with this key, as a document."""
    return render_document(get_postmortem(session, key=key).postmortem, fmt)


def parse_document(text: str, *, source: str, fmt: DocumentFormat) -> Postmortem:
    """Read one document; raise DocumentError with file, line and field on any fault."""
    if fmt is DocumentFormat.MARKDOWN:
        return read_markdown(text, source)
    return read_json(text, source)


def read_document_file(path: Path) -> Postmortem:
    """Read and parse one file, refusing oversized and undecodable files with a clear reason."""
    fmt = format_for_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(
                [
                    Located(
                        str(path),
                        0,
                        "",
                        f"is {size} bytes; a postmortem "
                        f"file may be at most {MAX_DOCUMENT_BYTES} bytes",
                    )
                ]
            )
        raw = path.read_bytes()
    except OSError as error:
        raise DocumentError([Located(str(path), 0, "", error.strerror or str(error))]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DocumentError([Located(str(path), line, "", "is not UTF-8 text")]) from None
    return parse_document(text, source=str(path), fmt=fmt)


@dataclass(frozen=True)
class ImportResult:
    """What importing one file did."""

    source: str
    key: str
    outcome: str  # created, updated or unchanged
    version: int


def import_documents(session: Session, *, paths: Sequence[Path], author: str) -> list[ImportResult]:
    """Import every file or none: all are parsed and checked before anything is written."""
    parsed = [(path, read_document_file(path)) for path in paths]
    problems: list[Located] = []
    seen: dict[str, Path] = {}
    for path, postmortem in parsed:
        if postmortem.key in seen:
            problems.append(
                Located(
                    str(path),
                    0,
                    "key",
                    f"'{postmortem.key}' is also the key "
                    f"of {seen[postmortem.key]}; each file needs its own key",
                )
            )
        seen[postmortem.key] = path
        try:
            check_categories(session, postmortem)
        except InvalidPostmortemError as error:
            problems.extend(Located(str(path), 0, p.field, p.message) for p in error.problems)
    if problems:
        raise DocumentError(problems)
    results = []
    for path, postmortem in parsed:
        outcome, stored = save_postmortem(session, postmortem=postmortem, author=author)
        results.append(ImportResult(str(path), postmortem.key, outcome, stored.version))
    return results


def render_body_html(postmortem: Postmortem) -> str:
    """The Markdown form's body (everything after the front matter) as safe HTML."""
    document = render_markdown(postmortem)
    body = document.split("\n---\n", 1)[1]
    return markdown_to_html(body)


def render_prose_html(text: str, *, image_hosts: Sequence[str] = ()) -> str:
    """A prose field (Markdown) as safe HTML; images only from the app or `image_hosts`."""
    return markdown_to_html(text, image_hosts=image_hosts)
