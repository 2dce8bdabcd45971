"""Lint postmortems: stored ones (with the open action items of other incidents) and Markdown
files in a folder (for teams that keep postmortems in Git)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.lint import Finding, Level, LintReport, lint
from hindsight.domain.access import Actor
from hindsight.domain.timeline import TimelineEvent
from hindsight.errors import DocumentError, Located, UnreadableDocumentError
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.documents import NOT_A_POSTMORTEM, decode_text, has_front_matter
from hindsight.services.incidents import get_postmortem
from hindsight.storage.models import ActionItemRow, IncidentRow
from hindsight.storage.visibility import where_visible


def lint_stored(session: Session, *, key: str, actor: Actor | None = None) -> LintReport:
    """Lint the stored postmortem `key`, comparing its actions with the open ones of other
    incidents `actor` may see (a finding quotes their key and title)."""
    postmortem = get_postmortem(session, key=key, actor=actor).postmortem
    query = (
        select(IncidentRow.key, ActionItemRow.title)
        .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
        .where(ActionItemRow.status.in_(["open", "in_progress"]), IncidentRow.key != key)
        .limit(5000)
    )
    rows = session.execute(where_visible(query, actor))
    report = lint(postmortem, open_elsewhere=[(k, t) for k, t in rows])
    from hindsight.services.recurrence import recurrence_lint  # it builds on this module's peers

    recurs = recurrence_lint(session, key=key, actor=actor)
    return LintReport([*report.findings, *recurs], report.checklist) if recurs else report


@dataclass(frozen=True)
class FileReport:
    """A Markdown file's findings, each placed on a line of the file."""

    path: Path
    report: LintReport
    lines: list[int]


def _line_of(text: str, finding: Finding, heading_lines: dict[str, int]) -> int:
    """The line of the offending words, else of the quoted item, else of the part's heading."""
    quoted = re.search(r"'([^']{8,})'", finding.message)
    for needle in (finding.excerpt, quoted.group(1) if quoted else ""):
        at = text.find(needle) if needle else -1
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return heading_lines.get(finding.part, 1)


def _order_findings(text: str, timeline: Sequence[TimelineEvent]) -> Iterator[tuple[Finding, int]]:
    """Timeline rows written out of time order (Hindsight reads them sorted; a person reading
    the file does not)."""
    latest: TimelineEvent | None = None
    placed = [(text.find(f"| {e.text} |"), e) for e in timeline]
    for at, event in sorted((p for p in placed if p[0] >= 0), key=lambda p: p[0]):
        if latest is not None and event.at < latest.at:
            finding = Finding(
                "timeline/order",
                Level.WARNING,
                "timeline",
                "timeline",
                f"this row ({event.at:%Y-%m-%d %H:%M} UTC) is written after a later one "
                f"({latest.at:%Y-%m-%d %H:%M} UTC)",
                "keep the table in time order",
                event.text[:80],
            )
            yield finding, text.count("\n", 0, at) + 1
        else:
            latest = event


def _headings(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    names = {
        "timeline": "timeline",
        "root cause": "analysis",
        "impact": "impact",
        "response": "response",
        "lessons": "lessons",
        "action": "actions",
        "overview": "overview",
        "summary": "overview",
    }
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            lowered = line.lower()
            for word, part in names.items():
                if word in lowered and part not in found:
                    found[part] = number
    return found


@dataclass(frozen=True)
class PostmortemFiles:
    """The postmortems to lint, read, and the Markdown files of searched folders that are not
    postmortems (a README, say), set aside."""

    texts: list[tuple[Path, str]]
    skipped: list[Path]


def _read(path: Path, *, found_in_folder: bool) -> str | None:
    """The file's text; None for a folder's Markdown file that is not a postmortem."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        reason = "no such file or folder" if isinstance(error, FileNotFoundError) else None
        raise UnreadableDocumentError(
            [Located(str(path), 0, "", reason or f"cannot read: {error.strerror or error}")]
        ) from None
    text = decode_text(raw, str(path))
    if has_front_matter(text):
        return text
    if found_in_folder:
        return None
    raise UnreadableDocumentError([Located(str(path), 1, "", NOT_A_POSTMORTEM)])


def read_postmortem_files(paths: Iterable[Path]) -> PostmortemFiles:
    """Read every file named and every `.md` file in the folders named. A file that cannot be
    read, is not text or (when named) is not a postmortem raises UnreadableDocumentError
    listing every such file: a score for it would mean nothing."""
    texts: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    problems: list[Located] = []
    for named in paths:
        in_folder = named.is_dir()
        for path in sorted(named.rglob("*.md")) if in_folder else [named]:
            try:
                text = _read(path, found_in_folder=in_folder)
            except UnreadableDocumentError as error:
                problems += error.problems
                continue
            if text is None:
                skipped.append(path)
            else:
                texts.append((path, text))
    if problems:
        raise UnreadableDocumentError(problems)
    return PostmortemFiles(texts, skipped)


def lint_texts(files: Iterable[tuple[Path, str]]) -> list[FileReport]:
    """Lint each postmortem's text; one that does not parse gets its reading problems as
    error-level findings, each placed on the line at fault."""
    reports: list[FileReport] = []
    for path, text in files:
        try:
            postmortem = read_markdown(text, str(path))
        except DocumentError as error:
            findings = [
                Finding("read", Level.ERROR, "file", p.field, p.reason) for p in error.problems
            ]
            lines = [max(p.line, 1) for p in error.problems]
            reports.append(FileReport(path, LintReport(findings), lines))
            continue
        report = lint(postmortem)
        headings = _headings(text)
        lines = [_line_of(text, f, headings) for f in report.findings]
        for finding, line in _order_findings(text, postmortem.timeline):
            report.findings.append(finding)
            lines.append(line)
        reports.append(FileReport(path, report, lines))
    return reports


def lint_files(paths: Iterable[Path]) -> list[FileReport]:
    """Lint every file named and every postmortem in the folders named (see
    `read_postmortem_files` for what is refused)."""
    return lint_texts(read_postmortem_files(paths).texts)
