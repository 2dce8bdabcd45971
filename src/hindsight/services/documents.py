"""Export postmortems as files and import them back (create or update by key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.incidents import Postmortem
from hindsight.errors import DocumentError, Located, UnreadableDocumentError
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
    raise UnreadableDocumentError(
        [Located(str(path), 0, "", "unknown file type; use .md or .json")]
    )


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


NOT_A_POSTMORTEM = (
    "is not a postmortem: it must start with a '---' line opening the YAML front matter"
)


def decode_text(raw: bytes, source: str) -> str:
    """The file's text (UTF-8, with or without a byte-order mark); binary data such as an image
    raises UnreadableDocumentError naming the line of the first undecodable byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableDocumentError([Located(source, line, "", "is not UTF-8 text")]) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UnreadableDocumentError([Located(source, line, "", "is binary, not text")])
    return text


def has_front_matter(text: str) -> bool:
    """Whether the text opens with the '---' line of a Markdown postmortem's front matter."""
    return text.split("\n", 1)[0].strip() == "---"


def read_document_file(path: Path) -> Postmortem:
    """Read and parse one file. A file that cannot be read as text at all (missing, oversized,
    not UTF-8, of an unknown type) raises UnreadableDocumentError; a postmortem whose content
    is refused raises DocumentError."""
    fmt = format_for_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocumentError(
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
        raise UnreadableDocumentError(
            [Located(str(path), 0, "", error.strerror or str(error))]
        ) from None
    text = decode_text(raw, str(path))
    if fmt is DocumentFormat.MARKDOWN and not has_front_matter(text):
        raise UnreadableDocumentError([Located(str(path), 1, "", NOT_A_POSTMORTEM)])
    return parse_document(text, source=str(path), fmt=fmt)


@dataclass(frozen=True)
class ImportResult:
    """What importing one file did."""

    source: str
    key: str
    outcome: str  # created, updated or unchanged
    version: int


def _read_all(paths: Sequence[Path]) -> tuple[list[tuple[Path, Postmortem]], list[DocumentError]]:
    """Every file read, and every file's problems: one bad file does not hide the next."""
    parsed: list[tuple[Path, Postmortem]] = []
    failures: list[DocumentError] = []
    for path in paths:
        try:
            parsed.append((path, read_document_file(path)))
        except DocumentError as error:
            failures.append(error)
    return parsed, failures


def _check_all(session: Session, parsed: list[tuple[Path, Postmortem]]) -> list[Located]:
    """Problems only visible across files or against the database: shared keys, categories."""
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
    return problems


def import_documents(session: Session, *, paths: Sequence[Path], author: str) -> list[ImportResult]:
    """Import every file or none.

    Steps: read and parse every file, collecting each one's problems; check the parsed ones
    against each other and the taxonomy; if anything is wrong, raise one DocumentError listing
    every problem of every file in the order given (UnreadableDocumentError if some file could
    not be read at all); only then write.
    """
    parsed, failures = _read_all(paths)
    problems = [problem for failure in failures for problem in failure.problems]
    problems += _check_all(session, parsed)
    if problems:
        order = {str(path): index for index, path in enumerate(paths)}
        problems.sort(key=lambda problem: order.get(problem.source, len(order)))
        unreadable = any(isinstance(failure, UnreadableDocumentError) for failure in failures)
        raise (UnreadableDocumentError if unreadable else DocumentError)(problems)
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
