"""JSON evidence read with bounded memory: one document, an array of them, or JSON Lines.

Python objects take up to ~25 times the bytes of the JSON they come from (`{}` is two bytes
of text and a 64-byte dict), so what a file may cost is estimated before it is parsed
(`json_memory`) and nothing larger than MAX_JSON_MEMORY is built at once:
1. a file up to MAX_JSON_BYTES that fits is parsed whole (errors name line and column);
2. otherwise a top-level array is streamed: each element is decoded on its own with the
   standard library's decoder from a buffer that holds little more than that element, and
   each element must fit;
3. otherwise the file is read as JSON Lines, each line bounded the same way;
4. one document that does not fit and is none of these is refused with its estimate.
ijson was tried for step 2 and left out: its `items()` keeps a prefix string per nesting level,
and a 100 KB file of `[[[[…` took the process past its memory before any check could run.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from hindsight.importers import base
from hindsight.importers.base import (
    EvidenceError,
    Progress,
    Record,
    Source,
    SourceFile,
    json_memory,
    parse_json,
    size_text,
    too_dense,
)

_CHUNK = 1 << 20
_ARRAY_START = re.compile(r"\A\ufeff?\s*\[")
_BLANK = re.compile(r"\s*")
_JSON_LINES = object()


def iter_documents(item: SourceFile, progress: Progress) -> Iterator[tuple[int, str, Any]]:
    """The JSON documents in a file, in the order of the module docstring.

    Yields (line, locator, document); the line is 0 when unknown.
    """
    refusal = ""
    if item.size <= base.MAX_JSON_BYTES:
        with item.open(progress) as handle:
            data = handle.read()
        estimate = json_memory(data)
        if estimate <= base.MAX_JSON_MEMORY:
            document = _whole(item.name, data)
            del data
            if isinstance(document, _Concatenated):
                yield from document.elements()
                return
            if document is not _JSON_LINES:
                yield from _elements(document)
                return
            yield from _json_lines(item, progress, "")
            return
        del data
        refusal = str(too_dense(item.name, estimate).problem.reason)
    else:
        refusal = (
            f"{size_text(item.size)} is too large for one JSON document (the limit is "
            f"{size_text(base.MAX_JSON_BYTES)}); give the records as a JSON array or one per line "
            "(JSON Lines), which are read one at a time, or split it"
        )
    if _starts_an_array(item):
        yield from _stream_array(item, progress)
    else:
        yield from _json_lines(item, progress, refusal)


def each_document(source: Source, progress: Progress) -> Iterator[Record]:
    """Every JSON document of every file in `source`, as a Record naming file and place."""
    for item in source.files:
        for _line, locator, document in iter_documents(item, progress):
            yield Record(item.name, locator, document)


class _Concatenated:
    """Several JSON documents written one after another (`cat a.json b.json`), each over
    several lines: read as 'document 1', 'document 2'… with the line each starts on."""

    def __init__(self, documents: list[tuple[int, Any]]) -> None:
        self.documents = documents

    def elements(self) -> Iterator[tuple[int, str, Any]]:
        for index, (line, document) in enumerate(self.documents, start=1):
            yield line, f"document {index} (line {line})", document


def _whole(name: str, data: bytes) -> Any:
    """The parsed document; _JSON_LINES when the file holds one per line; _Concatenated when
    it holds several written one after another over several lines."""
    try:
        return parse_json(name, data)
    except EvidenceError as error:
        if "Extra data" not in str(error):
            raise
    if _first_line_is_a_document(data):
        return _JSON_LINES  # read line by line, without holding every document at once
    documents = _split_concatenated(data.decode("utf-8-sig", errors="replace"))
    lines = sum(1 for line in data.splitlines() if line.strip())
    if documents is None or len(documents) == lines:
        return _JSON_LINES
    return _Concatenated(documents)


def _first_line_is_a_document(data: bytes) -> bool:
    first = data.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def _split_concatenated(text: str) -> list[tuple[int, Any]] | None:
    """The documents of text holding JSON values separated only by blanks, with the line
    each starts on; None when it is not that (a bad document is then reported per line)."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, Any]] = []
    pos, line = 0, 1
    while True:
        blank = _BLANK.match(text, pos)
        end = blank.end() if blank else pos
        line += text.count("\n", pos, end)
        pos = end
        if pos >= len(text):
            return found
        try:
            value, after = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return None
        found.append((line, value))
        line += text.count("\n", pos, after)
        pos = after


def _elements(document: Any) -> Iterator[tuple[int, str, Any]]:
    if isinstance(document, list):
        for index, element in enumerate(document, start=1):
            yield 0, f"item {index}", element
    else:
        yield 0, "", document


def _starts_an_array(item: SourceFile) -> bool:
    with item.open() as handle:
        head = handle.read(64 * 1024).decode("utf-8", errors="replace")
    return bool(_ARRAY_START.match(head))


def _json_lines(
    item: SourceFile, progress: Progress, refusal: str
) -> Iterator[tuple[int, str, Any]]:
    """One document per line; when the first line is not a whole document (or is too long to
    read), the file is one document too large to read, and `refusal` (if any) says so."""
    first = True
    try:
        for number, text in item.lines(progress):
            if not text.strip():
                continue
            document = _parse_line(item.name, number, text)
            first = False
            yield number, f"line {number}", document
    except EvidenceError:
        if first and refusal:
            raise EvidenceError(item.name, refusal) from None
        raise


def _parse_line(name: str, number: int, text: str) -> Any:
    if (estimate := json_memory(text)) > base.MAX_JSON_MEMORY:
        raise too_dense(name, estimate, line=number)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise EvidenceError(
            name, f"not valid JSON: {error.msg} at column {error.colno}", line=number
        ) from None
    except RecursionError:
        raise EvidenceError(name, "the JSON is nested too deeply", line=number) from None


class _ArrayReader:
    """Decodes the elements of a top-level JSON array from a growing text buffer.

    Steps for each element: skip blanks and the comma; try to decode; when the decoder stops
    where the buffer ends (or at an unterminated string) and the file goes on, read more and
    try again; an element never ends exactly at the buffer's end unless the file does (a
    number cut in two would parse). The buffer is cut after decoded elements, and whenever it
    grows, what it holds beyond the last element must fit in base.MAX_JSON_MEMORY: no decode ever
    builds more than that.
    """

    def __init__(self, item: SourceFile, handle: Any) -> None:
        self.item, self.handle = item, handle
        self.decoder = json.JSONDecoder()
        self.incremental = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.buffer, self.pos, self.eof, self.lines_before = "", 0, False, 0

    def more(self) -> None:
        raw = self.handle.read(_CHUNK)
        try:
            self.buffer += self.incremental.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            raise EvidenceError(self.item.name, f"not UTF-8 text ({error.reason})") from None
        self.eof = not raw

    def more_of_this_element(self) -> None:
        """Read on into the element at `pos`: all the buffer holds from there is (the start of)
        that element, so it is what must fit."""
        if (estimate := json_memory(self.buffer, self.pos)) > base.MAX_JSON_MEMORY:
            raise too_dense(self.item.name, estimate, line=self.line(), element=True)
        self.more()

    def line(self, at: int | None = None) -> int:
        at = self.pos if at is None else at
        return self.lines_before + self.buffer.count("\n", 0, at) + 1

    def compact(self) -> None:
        if self.pos > _CHUNK:
            self.lines_before += self.buffer.count("\n", 0, self.pos)
            self.buffer, self.pos = self.buffer[self.pos :], 0

    def next_char(self) -> str:
        """The next character after blanks ('' at the end of the file)."""
        while True:
            match = _BLANK.match(self.buffer, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buffer) or self.eof:
                return self.buffer[self.pos : self.pos + 1]
            self.more()

    def fail(self, reason: str, at: int | None = None) -> EvidenceError:
        return EvidenceError(self.item.name, f"not valid JSON: {reason}", line=self.line(at))

    def element(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                cut = error.pos >= len(self.buffer) - 8 or error.msg.startswith("Unterminated")
                if self.eof or not cut:
                    raise self.fail(f"{error.msg} at column {error.colno}", error.pos) from None
                self.more_of_this_element()
                continue
            except RecursionError:
                raise EvidenceError(
                    self.item.name, "the JSON is nested too deeply", line=self.line()
                ) from None
            if end + 4 > len(self.buffer) and not self.eof:  # '12' of '12e-3' would parse
                self.more_of_this_element()
                continue
            self.pos = end
            return value


def _stream_array(item: SourceFile, progress: Progress) -> Iterator[tuple[int, str, Any]]:
    """Steps: after '[', repeatedly: the end ']', or (after the first) a comma, then an element."""
    with item.open(progress) as handle:
        reader = _ArrayReader(item, handle)
        reader.more()
        start = _ARRAY_START.match(reader.buffer)
        assert start is not None  # _starts_an_array said so
        reader.pos = start.end()
        index = 0
        while (char := reader.next_char()) != "]":
            if char == "":
                raise reader.fail("the array is not closed")
            if index:
                if char != ",":
                    raise reader.fail("expecting ',' between the elements of the array")
                reader.pos += 1
                if reader.next_char() in ("]", ""):
                    raise reader.fail("a comma before the end of the array")
            index += 1
            yield 0, f"item {index}", reader.element()
            reader.compact()
