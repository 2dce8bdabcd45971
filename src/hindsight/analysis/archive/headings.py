"""The one heading table: which section headings (in any common wording) map to which part.

A team extends it by configuration (`HINDSIGHT_ARCHIVE_HEADINGS`, a JSON object of part to
phrases; docs/configuration.md): `DEFAULT_HEADINGS.extended({"impact": ["blast radius"]})`.
A heading matches a phrase when the phrase's words appear in it in order; the longest matching
phrase wins, so "What went well" is `went_well`, not `response`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hindsight.analysis.archive.model import PARTS

_DEFAULT: dict[str, tuple[str, ...]] = {
    "summary": (
        "summary",
        "overview",
        "context",
        "background",
        "description",
        "executive summary",
        "incident summary",
        "introduction",
        "what happened",
        "abstract",
        "status",
        "problem statement",
    ),
    "timeline": (
        "timeline",
        "key events",
        "events",
        "chronology",
        "sequence of events",
        "time line",
        "follow up timeline",
        "chain of events",
        "incident timing",
        "incident timeline",
    ),
    "participants": ("responders", "participants", "people involved", "attendees"),
    "analysis": (
        "root cause",
        "root causes",
        "cause",
        "causes",
        "trigger",
        "contributing factors",
        "contributing factor",
        "five whys",
        "5 whys",
        "analysis",
        "why did",
        "technical details",
        "what caused",
    ),
    "impact": (
        "impact",
        "customer impact",
        "user impact",
        "blast radius",
        "affected",
        "summary of impact",
    ),
    "response": (
        "detection",
        "response",
        "resolution",
        "recovery",
        "mitigation",
        "identified",
        "time to repair",
        "time to resolve",
        "how was it detected",
        "how we responded",
        "communications",
        "supporting information",
    ),
    "went_well": ("what went well", "went well", "things that went well", "what went right"),
    "went_wrong": (
        "what went wrong",
        "went wrong",
        "what didn t go so well",
        "didn t go well",
        "what went poorly",
        "things that went wrong",
        "what could have gone better",
        "what went badly",
        "challenges",
    ),
    "got_lucky": ("where we got lucky", "got lucky", "lucky"),
    "lessons": ("lessons", "lessons learned", "lessons learnt", "learnings", "takeaways"),
    "action_items": (
        "action items",
        "action item",
        "actions",
        "follow ups",
        "follow up",
        "followups",
        "review actions",
        "remediation",
        "next steps",
        "corrective actions",
        "todo",
        "improvements",
        "recommendations",
        "preventive actions",
        "preventative measures",
        "corrective and preventative measures",
    ),
}


def normalise(text: str) -> str:
    """Lowercase words only: '**What Didn't Go So Well?**' -> 'what didn t go so well'."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class HeadingTable:
    """Part name -> the heading phrases that mean it."""

    phrases: Mapping[str, Sequence[str]]

    def __post_init__(self) -> None:
        for part in self.phrases:
            if part not in PARTS:
                raise ValueError(
                    f"archive headings: {part!r} is not a part; use one of {', '.join(PARTS)}"
                )
        # Normalised once: (phrase, part), longest first, so the first hit is the best one.
        ordered: list[tuple[str, str]] = []
        for part, phrases in self.phrases.items():
            ordered += [(normalise(p), part) for p in phrases if normalise(p)]
        ordered.sort(key=lambda item: -len(item[0]))
        object.__setattr__(self, "_ordered", tuple(ordered))
        object.__setattr__(self, "_whole", {phrase: part for phrase, part in reversed(ordered)})

    def extended(self, extra: Mapping[str, Sequence[str]]) -> HeadingTable:
        """This table with more phrases per part (a team's own wording)."""
        merged = {part: tuple(words) for part, words in self.phrases.items()}
        for part, words in extra.items():
            merged[part] = (*merged.get(part, ()), *words)
        return HeadingTable(merged)

    def match(self, heading: str, *, whole: bool = False) -> str | None:
        """The part a heading means, or None. `whole`: the heading must be the phrase itself
        (used for bold labels such as '**Impact**:', which are easily confused with prose)."""
        normal = normalise(heading)
        if whole:
            found: str | None = self._whole.get(normal)  # type: ignore[attr-defined]
            return found
        words = f" {normal} "
        for phrase, part in self._ordered:  # type: ignore[attr-defined]
            if len(phrase) <= len(normal) and f" {phrase} " in words:
                return str(part)
        return None


DEFAULT_HEADINGS = HeadingTable(_DEFAULT)
