"""Lint postmortems: stored ones (with the open action items of other incidents) and Markdown
files in a folder (for teams that keep postmortems in Git)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.analysis.archive.findings import archive_findings
from hindsight.analysis.findings import Finding, Level
from hindsight.analysis.lint import LintReport, apply_dismissals, lint
from hindsight.domain.access import Actor
from hindsight.domain.actions import ActionStatus
from hindsight.domain.timeline import TimelineEvent
from hindsight.errors import DocumentError, Located, UnreadableDocumentError
from hindsight.rendering.form import FORMAT_MARKER
from hindsight.rendering.json_form import read_json
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.archive_import import archive_flags
from hindsight.services.documents import (
    MAX_DOCUMENT_BYTES,
    decode_text,
    has_front_matter,
)
from hindsight.services.incidents import get_postmortem, visible_incident_id
from hindsight.services.lint_archive import lint_archive_report
from hindsight.services.lint_dismissals import list_dismissals
from hindsight.storage.models import ActionItemRow, IncidentRow
from hindsight.storage.visibility import where_visible

# A duplicate is looked for among the open ones of the 1,000 most recently added action items
# of other incidents: all open items (~250,000 at 100,000 incidents) were most of a postmortem
# page's cost, and the duplicate a team opens again is most often of a recent incident.
RECENT_ITEMS = 1000


def lint_stored(session: Session, *, key: str, actor: Actor | None = None) -> LintReport:
    """Lint the stored postmortem `key`, comparing its actions with the open ones of other
    incidents `actor` may see (a finding quotes their key and title)."""
    postmortem = get_postmortem(session, key=key, actor=actor).postmortem
    rows: list[tuple[str, str]] = []
    if any(
        a.status not in (ActionStatus.DONE, ActionStatus.WONT_DO) for a in postmortem.action_items
    ):
        newest = session.scalar(select(func.max(ActionItemRow.id))) or 0
        query = (
            select(IncidentRow.key, ActionItemRow.title)
            .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
            .where(
                ActionItemRow.id > newest - RECENT_ITEMS,  # a walk of the primary key
                ActionItemRow.status.in_(["open", "in_progress"]),
                IncidentRow.key != key,
            )
        )
        rows = [(k, t) for k, t in session.execute(where_visible(query, actor))]
    report = lint(postmortem, open_elsewhere=rows)
    from hindsight.services.recurrence import recurrence_lint  # it builds on this module's peers

    incident = visible_incident_id(session, key=key, actor=actor)
    extra = [
        *archive_findings(archive_flags(session, incident_id=incident)),
        *recurrence_lint(session, key=key, actor=actor),
    ]
    if extra:
        report = LintReport([*report.findings, *extra], report.checklist)
    return apply_dismissals(report, list_dismissals(session, incident))


@dataclass(frozen=True)
class FileReport:
    """A Markdown file's findings, each placed on a line of the file."""

    path: Path
    report: LintReport
    lines: list[int]


def _line_of(
    text: str, finding: Finding, heading_lines: dict[str, int], searched_from: dict[str, int]
) -> int:
    """The line of the offending words, else of the quoted item, else of the part's heading.
    Words that occur several times are placed at their next occurrence each time they are
    reported (`searched_from` remembers where the last one was), so a repeated excerpt is
    reported at the line where it occurs, not always at the first."""
    quoted = re.search(r"'([^']{8,})'", finding.message)
    for needle in (finding.excerpt, quoted.group(1) if quoted else ""):
        at = text.find(needle, searched_from.get(needle, 0)) if needle else -1
        if at < 0 and needle:
            at = text.find(needle)
        if at >= 0:
            searched_from[needle] = at + len(needle)
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
    reports: list[tuple[Path, bytes]] = field(default_factory=list)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, refused past MAX_DOCUMENT_BYTES or when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise UnreadableDocumentError(
                [
                    Located(
                        str(path),
                        0,
                        "",
                        f"is {size} bytes; a postmortem file may be at most "
                        f"{MAX_DOCUMENT_BYTES} bytes",
                    )
                ]
            )
        return path.read_bytes()
    except OSError as error:
        reason = "no such file or folder" if isinstance(error, FileNotFoundError) else None
        raise UnreadableDocumentError(
            [Located(str(path), 0, "", reason or f"cannot read: {error.strerror or error}")]
        ) from None


def _is_hindsight_json(text: str) -> bool:
    """Whether the text is a JSON object carrying Hindsight's format marker."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and FORMAT_MARKER in data


def _read(path: Path, *, found_in_folder: bool, archive: bool) -> tuple[str, str | None]:
    """What the file is and its text: ("hindsight", text) for a Hindsight Markdown or JSON
    postmortem, ("report", None) for another team's report (for the archive reader),
    ("skip", None) for a folder's Markdown file that is not a postmortem (a README).
    A file named on its own without Hindsight front matter is another team's report."""
    if path.suffix.lower() == ".pdf":
        return "report", None
    raw = _read_bytes(path)
    text = decode_text(raw, str(path))
    if not text.strip():
        raise UnreadableDocumentError([Located(str(path), 1, "", "is empty: nothing to review")])
    if path.suffix.lower() == ".json":
        if _is_hindsight_json(text):
            return "hindsight", text
        raise UnreadableDocumentError([Located(str(path), 1, "", NOT_HINDSIGHT_JSON)])
    if has_front_matter(text):
        return "hindsight", text
    if found_in_folder and not archive:
        return "skip", None
    return "report", None


NOT_HINDSIGHT_JSON = (
    f"is JSON but not a Hindsight postmortem: it must be an object with a '{FORMAT_MARKER}' "
    "format field (as `hindsight export --format json` writes); other teams' reports are read "
    "from Markdown or PDF"
)


def read_postmortem_files(paths: Iterable[Path], *, archive: bool = False) -> PostmortemFiles:
    """Read every file named and every `.md` file in the folders named. A file named on its
    own is detected: a Hindsight Markdown (front matter) or JSON postmortem is read as text;
    any other Markdown or a PDF is another team's report, kept as bytes for the archive
    reader (`lint_reports`). In a folder, Markdown without front matter (a README) is set
    aside unless `archive`, which also takes the folder's PDF files as reports. A file that
    cannot be read, is not text, is empty or is JSON of another kind raises
    UnreadableDocumentError listing every such file: a score for it would mean nothing."""
    texts: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    reports: list[tuple[Path, bytes]] = []
    problems: list[Located] = []
    for named in paths:
        in_folder = named.is_dir()
        found = sorted(named.rglob("*.md")) if in_folder else [named]
        if in_folder and archive:
            found = sorted([*found, *named.rglob("*.pdf")])
        for path in found:
            try:
                kind, text = _read(path, found_in_folder=in_folder, archive=archive)
                if kind == "report":
                    reports.append((path, _read_bytes(path)))
            except UnreadableDocumentError as error:
                problems += error.problems
                continue
            if kind == "skip":
                skipped.append(path)
            elif text is not None:
                texts.append((path, text))
    if problems:
        raise UnreadableDocumentError(problems)
    return PostmortemFiles(texts, skipped, reports)


def lint_reports(reports: Iterable[tuple[Path, bytes]]) -> list[FileReport]:
    """Lint other teams' reports through the archive reader (see services/lint_archive)."""
    results = []
    problems: list[Located] = []
    for path, data in reports:
        try:
            report, lines = lint_archive_report(path, data)
        except UnreadableDocumentError as error:
            problems += error.problems
            continue
        results.append(FileReport(path, report, lines))
    if problems:
        raise UnreadableDocumentError(problems)
    return results


def lint_texts(files: Iterable[tuple[Path, str]]) -> list[FileReport]:
    """Lint each postmortem's text; one that does not parse gets its reading problems as
    error-level findings, each placed on the line at fault."""
    reports: list[FileReport] = []
    for path, text in files:
        try:
            postmortem = (
                read_json(text, str(path))
                if path.suffix.lower() == ".json"
                else read_markdown(text, str(path))
            )
        except DocumentError as error:
            findings = [
                Finding("read", Level.ERROR, "file", p.field, p.reason) for p in error.problems
            ]
            lines = [max(p.line, 1) for p in error.problems]
            reports.append(FileReport(path, LintReport(findings), lines))
            continue
        report = lint(postmortem)
        headings = _headings(text)
        searched: dict[str, int] = {}
        lines = [_line_of(text, f, headings, searched) for f in report.findings]
        for finding, line in _order_findings(text, postmortem.timeline):
            report.findings.append(finding)
            lines.append(line)
        reports.append(FileReport(path, report, lines))
    return reports


def lint_files(paths: Iterable[Path]) -> list[FileReport]:
    """Lint every file named and every postmortem in the folders named (see
    `read_postmortem_files` for what is refused)."""
    return lint_texts(read_postmortem_files(paths).texts)
