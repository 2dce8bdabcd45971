"""Rules for the text people write, shared by validation and the Markdown reader.

Prose is free Markdown, but it lives inside a document whose own structure is made of
headings of level 1 to 3. So prose may use `####` and deeper headings, and any heading
inside a fenced code block, but not a level 1-3 heading of its own, and every fence it
opens must close. One function, `iter_headings`, decides what a heading is for both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_HEADING = re.compile(r"^ {0,3}(#{1,3})(?:[ \t]+(.*?))?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Zl", "Zp", "Co", "Cn"}
_ALLOWED_CONTROLS = {"\n", "\t"}
# Translation tables that delete the allowed controls, for the fast path of _check_characters.
_WITHOUT = {
    frozenset(allowed): {ord(char): None for char in allowed}
    for allowed in ({"\t"}, {"\n", "\t"}, set())
}


@dataclass(frozen=True)
class Heading:
    """A level 1-3 heading outside any fenced code block; `index` is the 0-based line."""

    index: int
    level: int
    text: str


def _closes(fence: str, match: re.Match[str] | None, line: str) -> bool:
    """A closing fence: the same character, at least as long, nothing else on the line."""
    if match is None or match.group(1)[0] != fence[0]:
        return False
    return len(match.group(1)) >= len(fence) and not line.strip(" `~")


def iter_headings(lines: Sequence[str]) -> Iterator[Heading]:
    """Yield the structural headings of `lines`, skipping fenced code blocks."""
    fence: str | None = None
    for index, line in enumerate(lines):
        fence_match = _FENCE.match(line)
        if fence is not None:
            if _closes(fence, fence_match, line):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            continue
        match = _HEADING.match(line)
        if match:
            yield Heading(index=index, level=len(match.group(1)), text=match.group(2) or "")


def find_unclosed_fence(lines: Sequence[str]) -> int | None:
    """Return the 0-based line of a code fence that never closes, or None."""
    fence: str | None = None
    opened = 0
    for index, line in enumerate(lines):
        fence_match = _FENCE.match(line)
        if fence is None and fence_match:
            fence, opened = fence_match.group(1), index
        elif fence is not None and _closes(fence, fence_match, line):
            fence = None
    return opened if fence is not None else None


def _without(value: str, allowed: set[str]) -> str:
    table = _WITHOUT.get(frozenset(allowed)) or {ord(char): None for char in allowed}
    return value.translate(table)


def _check_characters(value: str, field: str, allowed: set[str]) -> None:
    # Fast path: every forbidden character is also "not printable", and most text is printable
    # once its allowed line breaks and tabs are set aside (str.isprintable runs in C).
    if value.isprintable() or _without(value, allowed).isprintable():
        return
    for position, char in enumerate(value):
        if char in allowed:
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES or char == "\ufeff":
            raise ValueError(
                f"{field}: character {char!r} at position {position + 1} is not allowed "
                "(control and unassigned characters cannot be stored)"
            )


# Limits: a title or a name fits a line; prose fits a long report section, not a book.
LINE_LIMIT = 500
TEXT_LIMIT = 10_000
PROSE_LIMIT = 50_000
ITEMS_LIMIT = 500


def check_length(value: str, field: str, limit: int) -> None:
    """Refuse text longer than `limit` characters, saying by how much."""
    if len(value) > limit:
        raise ValueError(
            f"{field}: is {len(value):,} characters long; the limit is {limit:,} "
            f"(shorten it by {len(value) - limit:,})"
        )


def clean_line(
    value: str, field: str, *, required: bool = False, max_length: int = LINE_LIMIT
) -> str:
    """Normalise a one-line text value: trimmed, no line breaks or control characters."""
    value = value.strip()
    check_length(value, field, max_length)
    if "\n" in value or "\r" in value:
        raise ValueError(f"{field}: must be a single line; remove the line breaks")
    _check_characters(value, field, {"\t"})
    if required and not value:
        raise ValueError(f"{field}: is required and cannot be empty")
    return value


def clean_text(
    value: str, field: str, *, required: bool = False, max_length: int = TEXT_LIMIT
) -> str:
    """Normalise a short text that may span lines (a chat message): trimmed, no controls."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    check_length(value, field, max_length)
    _check_characters(value, field, _ALLOWED_CONTROLS)
    if required and not value:
        raise ValueError(f"{field}: is required and cannot be empty")
    return value


def clean_prose(value: str, field: str, *, max_length: int = PROSE_LIMIT) -> str:
    """Normalise a prose value (Markdown): unified newlines, trimmed, structure-safe."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    check_length(value, field, max_length)
    _check_characters(value, field, _ALLOWED_CONTROLS)
    lines = value.split("\n")
    for heading in iter_headings(lines):
        raise ValueError(
            f"{field}: line {heading.index + 1} is a level {heading.level} heading; "
            "prose may use '####' and deeper headings only"
        )
    unclosed = find_unclosed_fence(lines)
    if unclosed is not None:
        raise ValueError(f"{field}: the code fence opened on line {unclosed + 1} is never closed")
    return value


def clean_items(values: Sequence[str], field: str) -> tuple[str, ...]:
    """Normalise a list of one-line statements; empty entries are refused."""
    if len(values) > ITEMS_LIMIT:
        raise ValueError(f"{field}: has {len(values):,} entries; the limit is {ITEMS_LIMIT:,}")
    return tuple(
        clean_line(item, f"{field}[{index}]", required=True) for index, item in enumerate(values)
    )


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def clean_slug(value: str, field: str, *, max_length: int = 80) -> str:
    """Normalise a lowercase identifier such as an incident key or a category name."""
    value = value.strip()
    if not _SLUG.match(value) or len(value) > max_length:
        raise ValueError(
            f"{field}: {value!r} must be lowercase letters, digits and dashes, "
            f"starting with a letter or digit, at most {max_length} characters"
        )
    return value


def slugify(text: str, *, max_length: int = 60) -> str:
    """Turn a title into a slug: 'Reddit hugs mybinder!' -> 'reddit-hugs-mybinder'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "incident"


_FORBIDDEN_RUN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff\u2028\u2029]+")


def tidy(value: str, *, limit: int, one_line: bool = False) -> str:
    """Make text from another tool storable: control characters dropped, trimmed, at most
    `limit` characters (an ellipsis marks a cut). `one_line` also folds line breaks."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        value = " ".join(value.split())
    value = _FORBIDDEN_RUN.sub(" ", value)
    if not value.isprintable():
        value = "".join(
            char
            for char in value
            if char in _ALLOWED_CONTROLS or unicodedata.category(char) not in _FORBIDDEN_CATEGORIES
        )
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
