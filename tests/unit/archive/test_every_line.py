"""Nothing is dropped: every non-blank line of every real report lands in the Postmortem."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hindsight.analysis.archive import DEFAULT_HEADINGS, ArchiveReport, read_report
from hindsight.analysis.archive.clock import MONTHS, ZONE_NAMES
from hindsight.domain.codec import postmortem_to_dict
from hindsight.domain.incidents import Postmortem

ARCHIVE = Path(__file__).parents[2] / "data" / "archive"
REPORTS = sorted(p for p in ARCHIVE.rglob("*.md"))
# Words that only say *when* (they become the event's time, not its text).
TIME_WORDS = (
    set(MONTHS)
    | set(ZONE_NAMES)
    | {"am", "pm", "ca", "at", "on", "the", "of", "st", "nd", "rd", "th", "utc", "gmt", "approx"}
)


def tokens(text: str) -> list[str]:
    text = re.sub(r"\[([^\]]*)\]\(([^)\s]*)\)", r"\1 \2", text)  # [text](url) -> text url
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # [text][ref] -> text
    return re.findall(r"[a-z0-9]+", text.lower())


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


@cache
def imported(path: Path) -> tuple[ArchiveReport, Postmortem]:
    zone = "Europe/London" if "moj-" in str(path) else None
    report = read_report(path.read_bytes(), str(path.relative_to(ARCHIVE)), zone=zone)
    return report, report.to_postmortem()


def _time_line_lands(line: str, number: int, postmortem: Postmortem) -> bool:
    """A row's time became an event's time; its other words are in that event's text."""
    for event in postmortem.timeline:
        if any(p.locator == f"line {number}" for p in event.provenance):
            local = event.local_time
            hours = {
                str(local.hour),
                f"{local.hour:02d}",
                str(local.hour % 12 or 12),
                f"{local.hour % 12 or 12:02d}",
            }
            words = re.findall(r"[a-z]+|\d+", line.lower())
            text = set(tokens(event.text)) | set(re.findall(r"[a-z]+|\d+", event.text.lower()))
            stated = any(h in words for h in hours) and (
                f"{local.minute:02d}" in words or local.minute == 0
            )
            rest = [
                w
                for w in words
                if w not in text
                and w not in TIME_WORDS
                and not w.isdigit()
                and not re.fullmatch(r"\d+(?:am|pm|h|hrs)?", w)
            ]
            return stated and not rest
    return False


def _check_line(
    report: ArchiveReport,
    postmortem: Postmortem,
    number: int,
    line: str,
    corpus: str,
    words: set[str],
) -> str | None:
    """None when the line landed, else why not. List markers and checkboxes are structure
    (the checkbox is the item's status)."""
    line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s*)?", "", line)
    found = tokens(line)
    if not found or f" {' '.join(found)} " in corpus:
        return None
    roles = {p.role for p in report.placements if p.line == number}
    if not roles:
        return "has no placement"
    if "event time" in roles and _time_line_lands(line, number, postmortem):
        return None
    if "date" in roles and all(w in TIME_WORDS or w.isdigit() or w in words for w in found):
        return None
    if "heading" in roles or "title" in roles:
        label = re.sub(r"^\s*(?:#+|[-*+])\s*|\*\*|:.*$", "", line)
        rest = tokens(line.split(":", 1)[1]) if ":" in line else []
        if ("title" in roles and " ".join(tokens(postmortem.title)) in " ".join(found)) or (
            DEFAULT_HEADINGS.match(label) and all(w in words for w in rest)
        ):
            return None
    if "item" in roles and all(w in words for w in found):
        return None
    return f"{sorted(roles)}: its words are not in the postmortem"


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: str(p.relative_to(ARCHIVE)))
def test_every_non_blank_line_of_a_real_report_lands_somewhere(path: Path) -> None:
    report, postmortem = imported(path)
    texts = [*strings(postmortem_to_dict(postmortem)), postmortem.title]
    corpus = " " + " ".join(" ".join(tokens(text)) for text in texts) + " "
    words = set(corpus.split())
    lost = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line.strip():
            why = _check_line(report, postmortem, number, line, corpus, words)
            if why:
                lost.append(f"line {number} {why}: {line.strip()[:100]}")
    assert not lost, "\n".join(lost)


def test_the_every_line_check_notices_a_dropped_line() -> None:
    """The check above can fail: a line whose words appear nowhere is reported."""
    path = ARCHIVE / "univaf-incidents" / "2021-06-03--database-full.md"
    report, postmortem = imported(path)
    corpus = " " + " ".join(tokens(" ".join(strings(postmortem_to_dict(postmortem))))) + " "
    why = _check_line(report, postmortem, 9999, "zebra quartz unicorn", corpus, set(corpus.split()))
    assert why == "has no placement"


def test_every_real_report_is_read_and_counted() -> None:
    assert len(REPORTS) == 69  # mybinder 23+2, MoJ 22+1, 2i2c 7, univaf 5+1, templates 7+1
