"""Blameless-language rules over sentences: counterfactuals, normative judgement,
person-focused causation and hindsight words. Pure and explainable: each hit names its rule,
the words, the sentence and a neutral rewrite.

Grounded in Dekker's *Field Guide to Understanding 'Human Error'* (counterfactuals say what
people did not do instead of what they did; normative language grades their actions against a
standard known only afterwards; a proximal focus stops at the person nearest the failure), the
Etsy and Google SRE blameless guides (describe what the system and the situation made likely)
and the Learning from Incidents writing guides (hindsight adverbs colour a narrative with the
outcome; a mechanistic account treats a person as the part that broke). The words are in
`language_words.py`. A phrase that is named rather than used (quoted, given as an example, in
advice about wording) is not a hit. The rules were written and tuned on the dev part of
bench/language and its constructed sentences only; the held-out figures are in
docs/benchmarks.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hindsight.analysis import language_words as lexicon

COUNTERFACTUAL = "counterfactual"
NORMATIVE = "normative"
PERSON_CAUSE = "person-cause"
HINDSIGHT = "hindsight"
RULES = (COUNTERFACTUAL, NORMATIVE, PERSON_CAUSE, HINDSIGHT)

EXPLANATIONS = {
    COUNTERFACTUAL: "tells what did not happen, or should have, as if that explained the "
    "outcome; the reader learns nothing about what people did and why it made sense then",
    NORMATIVE: "grades people's actions against a standard that only the outcome revealed",
    PERSON_CAUSE: "makes a person or team the cause; the analysis stops at the person instead "
    "of the conditions that made the action likely",
    HINDSIGHT: "colours the narrative with knowledge of the outcome",
}
ADVICE = {
    COUNTERFACTUAL: "say what did happen, what people knew at the time, and what made the "
    "other path hard to see",
    NORMATIVE: "describe the action and its context with a measurable fact instead of a grade",
    PERSON_CAUSE: "make the system the subject: which condition, tool or process let the "
    "action have this effect?",
    HINDSIGHT: "drop the adverb and tell the event plainly",
}

_PERSON_BASE = rf"(?:{lexicon.PRONOUN}|{lexicon.HANDLE}|{lexicon.ROLE_PHRASE})"
# The same without pronouns, for cause clauses where "because we …" usually explains a
# system ("because we had configured the alert to wait ten minutes").
_PERSON_NAMED_BASE = rf"(?:{lexicon.HANDLE}|{lexicon.ROLE_PHRASE})"
# Past participles of the modal perfect (regular ones and the common irregular ones).
_PARTICIPLE = (
    r"(?:\w+ed|\w+en|known|seen|caught|done|run|taken|made|told|spotted|gone|found|thought|"
    r"sent|set|put|kept|built|written|understood|noticed|switched|posted|rolled)"
)
# Modal perfects of obligation or possibility, not of inference ("may have been relevant").
_MODAL_BODY = (
    r"(?:should|could|would|ought to|must)(?:n't|\s+not)?(?:\s+(?:\w+ly\s+)?have|'ve)\s+"
    r"(?!been\s+(?:caused|related|due|relevant|the cause|a factor|involved|part)\b)"
    # "what could have gone better" is the retrospective's prompt; "would have detected" the
    # usual form of a lesson about a missing safeguard, not a judgement of people.
    r"(?!gone (?:better|worse|wrong)\b)"
    # "users would have experienced the outage": a hypothetical impact, not a lapse.
    r"(?!(?<=would have )(?:experienced|been (?:affected|impacted))\b)"
    r"(?!(?<=would have )(?:detected|caught|alerted|prevented|flagged|warned)\b)"
    rf"(?:been\s+)?{_PARTICIPLE}\b"
)
_MODAL_PERFECT = re.compile(
    rf"\b{_MODAL_BODY}"
    r"|\bmight(?:n't|\s+not)?\s+have\s+been\s+(?:avoided|prevented|caught|detected|noticed|"
    r"spotted)\b",
    re.IGNORECASE,
)
_LAPSE = re.compile(
    r"\b(?:was|were|went|had been|got)\s+(?:\w+ly\s+)?(?:overlooked|unnoticed|"
    r"unacknowledged|unanswered|unchecked|unreviewed|unaddressed|unheeded|missed|ignored|"
    rf"neglected|forgotten|skipped|(?:not|never)\s+{lexicon.HUMAN_CHECKS})\b"
    r"|\bwent unnoticed\b|\boverlooked\b|\bslipped through\b|\bfell through the cracks\b"
    rf"|\b(?:was|were)\s+(?:\w+ly\s+)?{lexicon.CHANGE_VERBS}\s+{lexicon.WITHOUT}",
    re.IGNORECASE,
)
_NORMATIVE = re.compile(
    r"\bcareless(?:ly|ness)?\b|\bsloppy\b|\bsloppiness\b|\bnegligen(?:t|ce|tly)\b|"
    r"\breckless(?:ly|ness)?\b|\bincompeten(?:t|ce)\b|\bstupid\b|\bfoolish\b|\bidiotic\b|"
    r"\bdumb\b|\bunprofessional\b|\binexcusable\b|\bcomplacen(?:t|cy)\b|"
    r"\binattenti(?:ve|on)\b|\b(?:loss|lack) of (?:situation(?:al)? )?awareness\b|"
    r"\bover-?zealous(?:ly)?\b|\bover-?eager(?:ly)?\b|\bhast(?:y|ily)\b|"
    r"\b(?:a |an )?(?:simple|silly|basic|obvious|rookie|careless|avoidable|stupid|dumb) "
    r"(?:mistake|error|oversight|slip)\b|"
    r"\bmistakes? (?:was|were) made\b|\b(?:made|make) (?:a |the )?mistakes?\b|"
    r"\bshould(?:'ve| have)? (?:known|realised|realized)\b|\b(?:ought to|should) know\b|"
    r"\b(?:poor|bad|wrong|lack of) (?:coordination|communication|judgement|judgment|decisions?|"
    r"choices?|calls?|diligence|attention|care|planning|discipline|ownership)\b|"
    r"\b(?:a )?(?:bad|wrong|poor) call\b|"
    rf"\b(?:far |much |way )?too (?:long|slow) to {lexicon.HUMAN_ACTIONS}\b|"
    r"(?<!not )(?<!nothing )(?<!anything )\bobviously\b|\bclearly (?:should|wrong)\b|"
    r"\bat fault\b|\bto blame\b|\bwhose fault\b|\bculprit\b",
    re.IGNORECASE,
)
_HINDSIGHT = re.compile(lexicon.HINDSIGHT_WORDS, re.IGNORECASE)
# "we were not monitoring" is a negated action; "we were not expecting" a state of mind.
_NOT_STATE = r"(?!expecting|seeing|getting|having|aware|sure|being)"
_HUMAN_ERROR = re.compile(
    r"\b(?:human|operator|user|pilot|engineer|personnel) errors?\b|\bpeople problem\b|"
    r"\b(?:a )?training (?:issue|problem|gap)\b|\black of training\b|"
    rf"\bweak(?:est)? link\b|\bbad apples?\b|{lexicon.OWN_FAULT}",
    re.IGNORECASE,
)
_PASSIVE_BY = (
    r"\b(?:was|were|had been|got)\s+(?:\w+ly\s+|\w+\s+){0,3}?(?:altered|deleted|changed|broken|"
    r"caused|applied|run|pushed|removed|misconfigured|overwritten|modified|dropped|"
    r"destroyed|triggered|introduced|made|missed|overlooked|skipped|ignored)\b[^.]*?\bby\s+"
)
_CAUSE_OF_PERSON = (
    r"\b(?:caused by|due to|because of|result of|related to|stems? from|blamed on|"
    r"it turns out that|turned out that)\s+(?:the\s+)?(?:\w+\s+){0,3}?"
)


@dataclass(frozen=True)
class LanguageHit:
    """One rule broken by one sentence: the words at fault and a neutral rewrite."""

    rule: str
    words: str
    sentence: str
    rewrite: str
    start: int
    end: int

    @property
    def explanation(self) -> str:
        """Why the rule exists."""
        return EXPLANATIONS[self.rule]


def _person_pattern(names: Sequence[str], base: str = _PERSON_BASE) -> str:
    named = [re.escape(n) for n in sorted(set(names), key=len, reverse=True) if len(n) >= 3]
    alternatives = [base, *named]
    return "(?:" + "|".join(alternatives) + r")(?![\w-])"


# A pattern and the rules a match breaks: a person's negated action is a counterfactual and
# person-focused at once.
_Shape = tuple[tuple[str, ...], re.Pattern[str]]
_CACHE: dict[tuple[str, ...], tuple[_Shape, ...]] = {}
_VERB_PHRASE = (
    r"(?:'s?\s+)?(?:\s*\([^)]*\))?\s+(?:(?:that|who)\s+)?"
    r"(?:(?:\w+ly|also|still|then|just|even|again|ultimately)\s+)?(?:had\s+)?"
)


def _person_shapes(person: str, named: str) -> list[tuple[tuple[str, ...], str]]:
    """The rule shapes that need a person: subject, agent or cause."""
    subject = rf"(?<![\w@]){person}"
    both = (COUNTERFACTUAL, PERSON_CAUSE)
    return [
        ((PERSON_CAUSE,), rf"{subject}{_VERB_PHRASE}{lexicon.FAILURE_VERBS}\b"),
        (both, rf"{subject}{_VERB_PHRASE}{lexicon.LAPSE_VERBS}\b"),
        (
            both,
            rf"{subject}(?:(?:{_VERB_PHRASE}|[^.;]{{0,60}}?\bbut\s+)"
            rf"(?:did not|didn't|never|failed to|neglected to|forgot to|omitted to)\s+"
            rf"(?:\w+ly\s+)?{lexicon.NOT_A_LAPSE}\w+|\s+(?:were|was)\s+not\s+{_NOT_STATE}\w+ing)\b",
        ),
        # "Nobody checked the lag": a negated action with the person folded into the subject.
        (both, rf"(?<![\w-])(?:nobody|no one|no-one)\s+(?:{lexicon.NOBODY_DID})\b"),
        # Dekker's "they shouldn't have", "they could have": a modal perfect with a subject.
        (both, rf"{subject}\s+(?:\w+ly\s+)?{_MODAL_BODY}"),
        (both, rf"\bhow could\s+{person}\s+not\s+have\s+{_PARTICIPLE}\b"),
        # "if only they had", "had the engineer checked", "if the on-call had looked".
        (
            (COUNTERFACTUAL,),
            rf"\bif only\b|(?:^|[,;]\s*)had\s+{person}\s+(?:\w+ly\s+)?{_PARTICIPLE}\b|"
            rf"\bif\s+{person}\s+had(?:\s+not|n't)?\s+(?:\w+ly\s+)?(?:been\s+)?{_PARTICIPLE}\b",
        ),
        # What was done in place of what hindsight prefers: "instead of reading the logs",
        # "without checking which cluster was selected".
        (both, rf"{subject}\s+[^.;]{{0,80}}?\b(?:instead of|rather than)\s+\w+ing\b"),
        (both, rf"{subject}\s+[^.;]{{0,80}}?{lexicon.WITHOUT}"),
        (
            (NORMATIVE,),
            rf"{subject}\s+(?:were|was|are|is)\s+(?:too |very |rather |far too )?"
            r"(?:slow|late) to\b",
        ),
        (
            (NORMATIVE, PERSON_CAUSE),
            rf"{subject}\s+(?:were|was|are|is|got)\s+(?:too |very |a bit |rather )?"
            rf"(?:{lexicon.GRADES})\b|{subject}{_VERB_PHRASE}(?:rushed|hurried)\s+"
            r"(?:the|it|a|an|this|that|out|through)\b",
        ),
        ((PERSON_CAUSE,), rf"{_PASSIVE_BY}{person}"),
        (
            (PERSON_CAUSE,),
            rf"{_CAUSE_OF_PERSON}(?:{person})(?:'s)?\s+(?:\w+\s+)?"
            r"(?:did|used|ran|made|pushed|deleted|changed|applied|merged|work|change|"
            r"\w+ed|\w+ing|decision|choice|actions?)\b"
            rf"|\b(?:caused|triggered|introduced) by\s+(?:\w+\s+){{0,4}}?{person}"
            rf"|\bbecause\s+{named}\s+(?:\w+ly\s+)?(?:\w+ed|did|didn't|ran|was|were|had)\b"
            rf"|\b(?:root )?cause (?:was|is)\s+(?:\w+\s+){{0,2}}?{named}",
        ),
        (
            (PERSON_CAUSE,),
            rf"{subject}'s\s+(?:(?:{lexicon.GRADES})\s+)?{lexicon.FAULT}\b"
            rf"|{subject}'s\s+(?:{lexicon.GRADES})\s+(?:actions?|decisions?|choices?)\b",
        ),
        ((PERSON_CAUSE,), rf"\b{lexicon.GRADE_NOUNS}\s+(?:of|among|by|from)\s+{person}"),
        ((PERSON_CAUSE,), rf"{subject}{_VERB_PHRASE}{lexicon.BAD_CHANGE}"),
        ((PERSON_CAUSE,), rf"{subject}\s+[^.;,]{{0,60}}?{lexicon.WRONG_TARGET}"),
        # A person as the actor of something done "by mistake": the adverb carries the
        # outcome and the person carries the cause.
        ((PERSON_CAUSE,), rf"{subject}\s+[^.;]{{0,140}}?(?:{lexicon.MISTAKE_ADVERBS})"),
    ]


def _shapes(names: Sequence[str]) -> tuple[_Shape, ...]:
    key = tuple(sorted(set(names)))
    found = _CACHE.get(key)
    if found is None:
        person = _person_pattern(key)
        named = _person_pattern(key, _PERSON_NAMED_BASE)
        found = (
            ((COUNTERFACTUAL,), _MODAL_PERFECT),
            ((COUNTERFACTUAL,), _LAPSE),
            ((NORMATIVE,), _NORMATIVE),
            ((PERSON_CAUSE,), _HUMAN_ERROR),
            ((HINDSIGHT,), _HINDSIGHT),
            *(
                (rules, re.compile(pattern, re.IGNORECASE))
                for rules, pattern in _person_shapes(person, named)
            ),
        )
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _rewrite(rule: str, sentence: str, start: int, end: int) -> str:
    """A neutral rewrite: the sentence itself where removing words fixes it, else a frame."""
    if rule == HINDSIGHT:
        fixed = (sentence[:start] + sentence[end:]).strip(" ,")
        fixed = re.sub(r"\s{2,}", " ", re.sub(r"\s+,", ",", fixed))
        return fixed[:1].upper() + fixed[1:] if fixed else ""
    words = sentence[start:end]
    if rule == COUNTERFACTUAL:
        return (
            f"instead of '{words}', write what happened and what made it reasonable then, "
            "e.g. 'The alert went only to X; nobody else was paged.'"
        )
    if rule == NORMATIVE:
        return (
            f"replace '{words}' with the fact it grades, e.g. 'it took 40 minutes to connect "
            "the errors to the upstream change'"
        )
    return (
        f"instead of '{words}', name the condition: e.g. 'the destroy command ran against the "
        "workspace that was selected; nothing showed which one it was'"
    )


# Mention, not use: guides and templates quote the phrases they warn about ("phrases such as
# 'human error'", "avoid saying who is to blame"); a sentence that names a phrase to avoid
# does not break the rule itself.
_QUOTED = re.compile(
    r"\"[^\"]*\"|(?<!\w)'[^']*'(?!\w)|"  # straight quotes, not apostrophes
    "\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019"  # curly quotes
)
_ADVICE = re.compile(
    r"^\W*(?:(?:so|and|but|then|please)\s+)?(?:avoid|don't|do not|try not to|refrain from|"
    r"never (?:use|write|say|blame|name)|(?:remove|replace|drop) (?:the )?(?:words?|phrases?|"
    r"wording|language|terms?|adverbs?|judgements?|judgments?))\b",
    re.IGNORECASE,
)
_EXAMPLE_BEFORE = re.compile(
    r"\b(?:like|such as|e\.g\.,?|for example,?|for instance,?)\s*[\"'\u201c\u2018]?\s*$",
    re.IGNORECASE,
)
_BLAME_WORDS = re.compile(r"blam|fault|culprit", re.IGNORECASE)
_DENIAL_BEFORE = re.compile(
    r"\b(?:not|no|never|nobody|no one|without|avoid|rather than|instead of)\b", re.IGNORECASE
)


def is_mention(sentence: str, start: int, end: int) -> bool:
    """Whether the words at [start, end) are named rather than used: inside quotes, in a
    sentence of writing advice, given as an example, or blame words denied ("not who is to
    blame")."""
    if any(m.start() <= start and end <= m.end() for m in _QUOTED.finditer(sentence)):
        return True
    if _ADVICE.match(sentence) or _EXAMPLE_BEFORE.search(sentence[:start]):
        return True
    # The denial must be close: "not who is to blame", not "did not fire … was blamed".
    return bool(
        _BLAME_WORDS.search(sentence[start:end])
        and _DENIAL_BEFORE.search(sentence[max(0, start - 40) : start])
    )


def review_sentence(sentence: str, names: Sequence[str] = ()) -> list[LanguageHit]:
    """Every rule `sentence` breaks; `names` are the participants' names (any case)."""
    hits: list[LanguageHit] = []
    for rules, pattern in _shapes(names):
        for match in pattern.finditer(sentence):
            begin, end = match.span()
            if is_mention(sentence, begin, end):
                continue
            for rule in rules:
                if any(h.rule == rule and h.start < end and begin < h.end for h in hits):
                    continue
                hits.append(
                    LanguageHit(
                        rule,
                        match.group(0).strip(" ,;"),
                        sentence,
                        _rewrite(rule, sentence, begin, end),
                        begin,
                        end,
                    )
                )
    return sorted(hits, key=lambda h: (h.start, h.rule))


_HANDLES = re.compile(r"(?<![\w.])@([A-Za-z][\w-]{1,38})")
_ACTOR_AT_START = re.compile(r"^(?:\d{1,2}:\d{2}\s*(?:[AP]M\s+)?)?([A-Z][a-z]{2,})\s+[a-z]+s\b")
_NOT_NAMES = frozenset(
    [
        "team",
        "community",
        "engineer",
        "engineers",
        "service",
        "services",
        "user",
        "users",
        "cluster",
        "ticket",
        "ticketing",
        "investigation",
        "incident",
        "this",
        "that",
        "there",
        "it",
        "everything",
        "nothing",
        "someone",
        "everyone",
        "pod",
        "pods",
        "node",
        "nodes",
        "another",
        "first",
        "second",
        "hub",
        "logs",
        "log",
        "launch",
        "launches",
        "deploy",
        "alerts",
        "alert",
        "the",
        "stackdriver",
        "pingdom",
        "sentry",
        "grafana",
        "prometheus",
        "github",
        "slack",
        "travis",
        "kubernetes",
        "terraform",
        "aws",
        "binder",
        "jupyterhub",
        "mybinder",
        "concourse",
        "course",
        "freshdesk",
    ]
)


def likely_names(sentences: Iterable[str]) -> list[str]:
    """People a report names: @handles, and capitalised words that start two or more
    sentences as the actor of a verb ("Angus assesses the DB")."""
    handles: set[str] = set()
    actors: dict[str, int] = {}
    for sentence in sentences:
        handles.update(f"@{h}" for h in _HANDLES.findall(sentence))
        match = _ACTOR_AT_START.match(sentence)
        if match and match.group(1).lower() not in _NOT_NAMES:
            actors[match.group(1)] = actors.get(match.group(1), 0) + 1
    return sorted(handles | {name for name, count in actors.items() if count >= 2})
