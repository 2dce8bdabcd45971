"""Lint other teams' postmortems (Markdown without Hindsight's front matter, PDF) through the
archive reader: completeness by mapped part, action items and timeline from the postmortem the
reader builds, and the language rules on the report's own sentences — every finding placed on
a line of the original file (of the extracted text, for a PDF)."""

from __future__ import annotations

import re
from pathlib import Path

from hindsight.analysis.archive import ArchiveError, ArchiveReport, read_report
from hindsight.analysis.blameless import text_language_findings
from hindsight.analysis.findings import Finding
from hindsight.analysis.language import is_mention, likely_names
from hindsight.analysis.lint import LintReport, lint, prose_findings
from hindsight.analysis.sentences import markdown_sentences
from hindsight.errors import Located, UnreadableDocumentError

# Hindsight's part names -> the archive reader's.
_ARCHIVE_PARTS = {
    "overview": ("summary", "participants"),
    "timeline": ("timeline",),
    "analysis": ("analysis",),
    "impact": ("impact",),
    "response": ("response", "went_well", "went_wrong", "got_lucky"),
    "lessons": ("lessons",),
    "actions": ("action_items",),
}
_ACTION_INDEX = re.compile(r"^action_items\[(\d+)\]")


def read_archive_report(path: Path, data: bytes) -> ArchiveReport:
    """The report read by the archive reader; unreadable input raises
    UnreadableDocumentError with the file, line and reason."""
    try:
        return read_report(data, str(path))
    except ArchiveError as error:
        raise UnreadableDocumentError([Located(str(path), error.line, "", error.message)]) from None


def _heading_line(report: ArchiveReport, part: str) -> int:
    names = _ARCHIVE_PARTS.get(part, ())
    lines = [p.heading_line for p in report.parts if p.part in names and p.heading_line > 0]
    return min(lines) if lines else 1


def _place(report: ArchiveReport, finding: Finding) -> int:
    """The line of the action item at fault, else of its part's heading."""
    match = _ACTION_INDEX.match(finding.field)
    if match and int(match.group(1)) < len(report.actions):
        return report.actions[int(match.group(1))].line
    return _heading_line(report, finding.part)


def lint_archive_report(path: Path, data: bytes) -> tuple[LintReport, list[int]]:
    """Every finding of the report at `path`, with its line."""
    report = read_archive_report(path, data)
    text = report.source_text
    if not text.strip():
        raise UnreadableDocumentError([Located(str(path), 1, "", "has no text to review")])
    postmortem = report.to_postmortem()
    base = lint(postmortem)
    structural = [f for f in base.findings if not f.rule.startswith("blameless/")]
    placed = [(f, _place(report, f)) for f in structural]
    names = likely_names(s.text for s in markdown_sentences(text))
    names += [p.name for p in postmortem.participants]
    language = list(text_language_findings(text, names))
    seen = {(line, f.excerpt.lower()) for f, line in language}
    # The older phrase rules, sentence by sentence like the language rules, so that a phrase
    # a guide only names ("avoid saying who is to blame") is not reported either.
    for sentence in markdown_sentences(text):
        for finding in prose_findings(sentence.text, names=names):
            key = (sentence.line, finding.excerpt.lower())
            if key not in seen and not is_mention(sentence.text, finding.start, finding.end):
                seen.add(key)
                language.append((finding, sentence.line))
    placed += sorted(language, key=lambda pair: pair[1])
    findings = [f for f, _ in placed]
    lines = [line for _, line in placed]
    return LintReport(findings, base.checklist), lines
