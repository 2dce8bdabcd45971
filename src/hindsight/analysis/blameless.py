"""The language rules (analysis/language.py) as lint findings, for stored postmortems and for
any Markdown text; and the five-whys check: each answer a condition of the system, and a
chain that ends at a person gets a finding."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from hindsight.analysis.findings import Finding, Level
from hindsight.analysis.language import (
    ADVICE,
    EXPLANATIONS,
    HINDSIGHT,
    NORMATIVE,
    PERSON_CAUSE,
    LanguageHit,
    review_sentence,
)
from hindsight.analysis.sentences import markdown_sentences
from hindsight.domain.rca import Why

# The rule ids lint reports; "hindsight" is already taken by today's modal-perfect rule.
RULE_IDS = {
    "counterfactual": "blameless/counterfactual",
    NORMATIVE: "blameless/normative",
    PERSON_CAUSE: "blameless/person-cause",
    HINDSIGHT: "blameless/hindsight-word",
}
_LEVELS = {PERSON_CAUSE: Level.WARNING, HINDSIGHT: Level.INFO}


def hit_finding(hit: LanguageHit, part: str, field: str, text: str) -> Finding:
    """A finding for one language hit in the field `field` whose full text is `text`."""
    at = text.find(hit.words)
    return Finding(
        RULE_IDS[hit.rule],
        _LEVELS.get(hit.rule, Level.WARNING),
        part,
        field,
        f"'{hit.words}' {EXPLANATIONS[hit.rule]} (in: \u201c{hit.sentence[:160]}\u201d)",
        f"{ADVICE[hit.rule]}; a neutral rewrite: {hit.rewrite}",
        hit.words,
        at,
        at + len(hit.words) if at >= 0 else -1,
    )


def _overlaps(finding: Finding, others: Sequence[Finding]) -> bool:
    return any(
        o.field == finding.field
        and o.start >= 0
        and finding.start >= 0
        and o.start < finding.end
        and finding.start < o.end
        for o in others
    )


def language_findings(
    fields: Iterable[tuple[str, str, str]],
    names: Sequence[str],
    already: Sequence[Finding] = (),
) -> Iterator[Finding]:
    """Language findings in each (part, field, text); words already reported by another
    finding of the same field (`already`) are not reported twice."""
    for part, field, text in fields:
        if not text.strip():
            continue
        for sentence in markdown_sentences(text):
            for hit in review_sentence(sentence.text, names):
                finding = hit_finding(hit, part, field, text)
                if not _overlaps(finding, already):
                    yield finding


def text_language_findings(text: str, names: Sequence[str] = ()) -> Iterator[tuple[Finding, int]]:
    """Language findings in a Markdown document, each with the line of its sentence."""
    for sentence in markdown_sentences(text):
        for hit in review_sentence(sentence.text, names):
            yield hit_finding(hit, "text", f"line {sentence.line}", sentence.text), sentence.line


_HUMAN = re.compile(
    r"\b(?:human|operator|user|engineer) error\b|\bmistakes?\b|\bcareless|\bforgot\b|"
    r"\bdid(?:n't| not) (?:check|notice|follow|read|test)\b|\bwasn't (?:fully )?aware\b|"
    r"^\s*(?:because\s+)?(?:the\s+)?(?:\w+\s+)?(?:engineer|operator|on-?call|developer|"
    r"admin|person|team member|someone|he|she|they|we|i)\b",
    re.IGNORECASE,
)


def _about_a_person(answer: str, names: Sequence[str]) -> str:
    """The words that make `answer` about a person rather than a condition, or ''."""
    match = _HUMAN.search(answer)
    if match:
        return match.group(0).strip()
    for name in names:
        if len(name) >= 3 and re.match(rf"\s*(?:because\s+)?{re.escape(name)}\b", answer):
            return name
    for hit in review_sentence(answer, names):
        if hit.rule in (PERSON_CAUSE, NORMATIVE):
            return hit.words
    return ""


def five_whys_findings(whys: Sequence[Why], names: Sequence[str]) -> Iterator[Finding]:
    """Each answer checked as a condition of the system; the chain ending at a person or at
    'human error' is a warning that suggests the next question to ask."""
    answered = [(i, w) for i, w in enumerate(whys) if w.answer.strip()]
    for position, (i, why) in enumerate(answered):
        words = _about_a_person(why.answer, names)
        if not words:
            continue
        last = position == len(answered) - 1
        yield Finding(
            "analysis/five-whys-person" if last else "analysis/five-whys-condition",
            Level.WARNING if last else Level.INFO,
            "analysis",
            f"analysis.five_whys[{i}].answer",
            (
                f"the five whys end at a person ('{words}'), not at a condition of the system"
                if last
                else f"why {i + 1} answers with a person ('{words}') rather than a condition"
            ),
            "ask one more why: what made that action reasonable at the time — what did "
            "the tool show, what did the process expect, what pressure was there?",
            words,
            why.answer.find(words),
            why.answer.find(words) + len(words) if words in why.answer else -1,
        )
