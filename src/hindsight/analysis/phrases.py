"""The phrase rules of the blameless review: literal blame and hindsight wording ("human
error", "should have known", "careless"), and a named person as the subject of a failure
verb, each with a neutral rewrite. `lint` runs them beside the sentence rules of
analysis/language.py; they also run on any text (`prose_findings`, for other teams' reports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from hindsight.analysis.findings import Finding, Level
from hindsight.domain.incidents import Postmortem

# Blame and hindsight-bias wording, each with a neutral rewrite.
_PEOPLE_PRONOUNS = (
    r"(?:he|she|they|we|i|you|someone|somebody|nobody|the (?:engineer|operator|"
    r"on-?call|developer|admin|team))"
)
_BLAME: tuple[tuple[str, str, str, Level], ...] = (
    (
        r"\bhuman errors?\b",
        "human-error",
        "name the condition that made the error easy (a missing check, a confusing tool)",
        Level.WARNING,
    ),
    (
        r"\bshould(?:n't| not)? (?:have|'ve) (?:been |not )?(?:\w+ed|known|seen|caught|done|run|"
        r"taken|written|made|told|spotted|understood)\b",
        "hindsight",
        "say what was known at the time and what made the other path hard to see",
        Level.WARNING,
    ),
    (
        _PEOPLE_PRONOUNS + r"\s+(?:had\s+)?failed to\b",
        "failed-to",
        "say what happened and what made it likely, not who failed",
        Level.WARNING,
    ),
    (
        r"\bcareless(?:ly|ness)?\b|\bnegligen(?:t|ce)\b|\bsloppy\b|\bincompeten(?:t|ce)\b|"
        r"\breckless(?:ly)?\b|\bstupid\b",
        "judgement",
        "describe the action and its context, not a judgement of the person",
        Level.WARNING,
    ),
    (
        # "nothing obviously wrong" denies what the word would claim: not a judgement.
        r"(?<!not )(?<!n't )(?<!no )(?<!nothing )(?<!anything )\bobviously\b"
        r"|\bshould have been (?:obvious|clear)\b",
        "obviously",
        "remove it: what is obvious now was not obvious then",
        Level.INFO,
    ),
    (
        r"\bat fault\b|\bto blame\b|\bblamed?\b|\bwhose fault\b|\bculprit\b",
        "blame",
        "describe causes in the system, not fault",
        Level.WARNING,
    ),
    (
        _PEOPLE_PRONOUNS + r"\s+(?:forgot|neglected|ignored|didn't bother|did not bother)\b",
        "forgot",
        "describe what the process relied on memory for",
        Level.WARNING,
    ),
)
_BLAME_PATTERNS = [
    (re.compile(p, re.IGNORECASE), rule, hint, level) for p, rule, hint, level in _BLAME
]
_FAILURE_VERBS = (
    r"(?:broke|caused|forgot|failed|missed|ignored|messed up|screwed up|deleted|"
    r"pushed a bad|made a mistake|did not check|didn't check)"
)


def prose_fields(pm: Postmortem) -> Iterator[tuple[str, str, str]]:
    """(part, field, text) of every prose field where blame wording matters."""
    yield "overview", "summary", pm.summary
    yield "analysis", "analysis.trigger", pm.analysis.trigger
    for i, cause in enumerate(pm.analysis.root_causes):
        yield "analysis", f"analysis.root_causes[{i}]", cause
    for i, factor in enumerate(pm.analysis.contributing_factors):
        yield "analysis", f"analysis.contributing_factors[{i}].description", factor.description
    for i, why in enumerate(pm.analysis.five_whys):
        yield "analysis", f"analysis.five_whys[{i}].answer", why.answer
    yield "impact", "impact.narrative", pm.impact.narrative
    for name in ("went_well", "went_wrong", "got_lucky"):
        for i, item in enumerate(getattr(pm.response, name)):
            yield "response", f"response.{name}[{i}]", item
    yield "response", "response.detection_notes", pm.response.detection_notes
    for i, lesson in enumerate(pm.lessons):
        yield "lessons", f"lessons[{i}].text", lesson.text
    for i, action in enumerate(pm.action_items):
        yield "actions", f"action_items[{i}].title", action.title


def people_named(pm: Postmortem) -> list[str]:
    names = {p.name for p in pm.participants} | {e.actor for e in pm.timeline if e.actor}
    first_names = {name.split()[0] for name in names if name.split()}
    return sorted(
        (n for n in names | first_names if len(n) >= 3 and n[0].isupper()), key=len, reverse=True
    )


def blame_findings(pm: Postmortem) -> Iterator[Finding]:
    """Blame and hindsight wording in prose, and people as the subject of a failure."""
    people = people_named(pm)
    person = (
        re.compile(r"\b(" + "|".join(map(re.escape, people)) + r")\s+" + _FAILURE_VERBS + r"\b")
        if people
        else None
    )
    for part, name, text in prose_fields(pm):
        for pattern, rule, hint, level in _BLAME_PATTERNS:
            for match in pattern.finditer(text):
                yield Finding(
                    f"blameless/{rule}",
                    level,
                    part,
                    name,
                    f"'{match.group(0)}' reads as blame or hindsight",
                    hint,
                    match.group(0),
                    match.start(),
                    match.end(),
                )
        if person:
            for match in person.finditer(text):
                yield Finding(
                    "blameless/person-as-cause",
                    Level.ERROR,
                    part,
                    name,
                    f"'{match.group(0)}' makes a person the cause of a failure",
                    "make the system the subject: 'the deploy ran without the "
                    "check' rather than 'Ana forgot the check'",
                    match.group(0),
                    match.start(),
                    match.end(),
                )
    for i, event in enumerate(pm.timeline):
        for pattern, rule, hint, level in _BLAME_PATTERNS[:1] + _BLAME_PATTERNS[3:4]:
            for match in pattern.finditer(event.text):
                yield Finding(
                    f"blameless/{rule}",
                    level,
                    "timeline",
                    f"timeline[{i}].text",
                    f"'{match.group(0)}' reads as blame",
                    hint,
                    match.group(0),
                    match.start(),
                    match.end(),
                )


def prose_findings(text: str, field: str = "text", names: Sequence[str] = ()) -> list[Finding]:
    """Blame and hindsight wording in any text (a Markdown report not written in Hindsight)."""
    people = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
    person = (
        re.compile(r"\b(" + "|".join(map(re.escape, people)) + r")\s+" + _FAILURE_VERBS + r"\b")
        if people
        else None
    )
    found = [
        Finding(
            f"blameless/{rule}",
            level,
            "text",
            field,
            f"'{m.group(0)}' reads as blame or hindsight",
            hint,
            m.group(0),
            m.start(),
            m.end(),
        )
        for pattern, rule, hint, level in _BLAME_PATTERNS
        for m in pattern.finditer(text)
    ]
    if person:
        found += [
            Finding(
                "blameless/person-as-cause",
                Level.ERROR,
                "text",
                field,
                f"'{m.group(0)}' makes a person the cause of a failure",
                "make the system the subject",
                m.group(0),
                m.start(),
                m.end(),
            )
            for m in person.finditer(text)
        ]
    return sorted(found, key=lambda f: f.start)
