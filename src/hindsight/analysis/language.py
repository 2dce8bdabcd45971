"""Blameless-language rules over sentences: counterfactuals, normative judgement,
person-focused causation and hindsight words. Pure and explainable: each hit names its rule,
the words, the sentence and a neutral rewrite.

Grounded in Dekker's *Field Guide to Understanding 'Human Error'* (counterfactuals say what
people did not do instead of what they did; normative language grades their actions against a
standard known only afterwards; a proximal focus stops at the person nearest the failure), the
Etsy and Google SRE blameless guides (describe what the system and the situation made likely)
and the Learning from Incidents writing guides (hindsight adverbs colour a narrative with the
outcome). The rules were written and tuned on the dev part of bench/language only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

# People written without a name: pronouns, roles, teams, handles.
_ROLE = (
    r"(?:engineers?|operators?|on-?call(?:ers?)?|developers?|admins?|administrators?|sres?|"
    r"responders?|team members?|maintainers?|staff|reviewers?|author)"
)
_PRONOUN = r"(?:he|she|they|we|i|you|someone|somebody|nobody|no one)"
_HANDLE = r"@[\w.-]+"
_PERSON_BASE = (
    rf"(?:{_PRONOUN}|{_HANDLE}|(?:the|an?|our|one of the|another|second|first)\s+"
    rf"(?:\w+\s+)?{_ROLE}|the\s+[\w-]+\s+team|responders|engineers|operators|developers|"
    r"(?<![\w-])[A-Z][\w-]*\s+team members?)"
)
# Modal perfects of obligation or possibility, not of inference ("may have been relevant").
_MODAL_PERFECT = re.compile(
    r"\b(?:should|could|would|ought to|must)(?:n't| not)?\s+(?:\w+ly\s+)?(?:have|'ve)\s+"
    r"(?!been\s+(?:caused|related|due|relevant|the cause|a factor|involved|part)\b)"
    # "what could have gone better" is the retrospective's prompt; "would have detected" the
    # usual form of a lesson about a missing safeguard, not a judgement of people.
    r"(?!gone (?:better|worse|wrong)\b)"
    # "users would have experienced the outage": a hypothetical impact, not a lapse.
    r"(?!(?<=would have )(?:experienced|been (?:affected|impacted))\b)"
    r"(?!(?<=would have )(?:detected|caught|alerted|prevented|flagged|warned)\b)"
    r"(?:been\s+)?(?:\w+ed|\w+en|known|seen|caught|done|run|taken|made|told|spotted|gone|"
    r"found|thought|sent|set|put|kept|built|written|understood|noticed|switched|posted)\b",
    re.IGNORECASE,
)
_IF_ONLY = re.compile(
    r"\bif only\b|\bhad (?:we|they|he|she|i|someone)\s+\w+|\bif (?:we|they|he|she|i|someone|"
    r"the team) had(?: not|n't)?\s+\w+",
    re.IGNORECASE,
)
_LAPSE = re.compile(
    r"\b(?:was|were|went|had been|got|is|are)\s+(?:\w+ly\s+)?(?:overlooked|unnoticed|"
    r"not (?:caught|noticed|spotted|detected by anyone)|missed|ignored|neglected|forgotten)\b"
    r"|\bwent unnoticed\b|\boverlooked\b",
    re.IGNORECASE,
)
_NEGATED_ACTION = (
    r"(?:did not|didn't|never|failed to|neglected to|forgot to|omitted to)\s+"
    r"(?:\w+ly\s+)?(?!know|think|expect|see|have|need|want|appear|seem|get|find|receive|hear|"
    r"lose|run out|go\b|feel\b)"
    r"\w+"
)
_NORMATIVE = re.compile(
    r"\bcareless(?:ly|ness)?\b|\bsloppy\b|\bsloppiness\b|\bnegligen(?:t|ce|tly)\b|"
    r"\breckless(?:ly|ness)?\b|\bincompeten(?:t|ce)\b|\bstupid\b|\bfoolish\b|"
    r"\bover-?zealous(?:ly)?\b|\bover-?eager(?:ly)?\b|\bhast(?:y|ily)\b|"
    r"\b(?:a |an )?(?:simple|silly|basic|obvious|rookie|careless) (?:mistake|error|oversight)\b|"
    r"\bmistakes? (?:was|were) made\b|\b(?:made|make) (?:a |the )?mistakes?\b|"
    r"\bshould(?:'ve| have)? (?:known|realised|realized)\b|\b(?:ought to|should) know\b|"
    r"\b(?:poor|bad|wrong|lack of) (?:coordination|communication|judgement|judgment|decisions?|"
    r"choices?|diligence|attention|care|planning|discipline|ownership)\b|"
    r"(?<!not )(?<!nothing )(?<!anything )\bobviously\b|\bclearly (?:should|wrong)\b|"
    r"\bat fault\b|\bto blame\b|\bwhose fault\b|\bculprit\b",
    re.IGNORECASE,
)
_HINDSIGHT = re.compile(
    r"\bunfortunately\b|\bmistakenly\b|\binadvertently\b|\baccidentally\b|\baccidental\b|"
    r"\berroneously\b|\bwrongly\b|\bby (?:mistake|accident)\b|\bunwittingly\b|"
    r"\bunintentional(?:ly)?\b|\bunknowingly\b",
    re.IGNORECASE,
)
_MISTAKE_ADVERB = (
    r"\bby (?:mistake|accident)\b|\bmistakenly\b|\baccidentally\b|\binadvertently\b|"
    r"\bunintentionally\b|\bunwittingly\b"
)
_GRADES = r"careless|sloppy|negligent|reckless|over-?zealous|over-?eager|hasty"
# "we were not monitoring" is a negated action; "we were not expecting" a state of mind.
_NOT_STATE = r"(?!expecting|seeing|getting|having|aware|sure|being)"
_HUMAN_ERROR = re.compile(r"\b(?:human|operator|user|pilot|engineer) errors?\b", re.IGNORECASE)
_FAILURE_VERBS = (
    r"(?:broke|caused|forgot|failed|missed|ignored|overlooked|skipped|neglected|"
    r"misconfigured|mistyped|messed up|screwed up|pushed a bad|made a mistake|"
    r"triggered the (?:incident|outage)|"
    r"wasn't (?:fully )?aware|was not (?:fully )?aware|did not check|didn't check|"
    r"should have|should've)"
)
_PASSIVE_BY = (
    r"\b(?:was|were|had been|got)\s+(?:\w+ly\s+|\w+\s+){0,3}?(?:altered|deleted|changed|broken|"
    r"caused|applied|run|pushed|removed|misconfigured|overwritten|modified|dropped|"
    r"destroyed|triggered|introduced)\b[^.]*?\bby\s+"
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


def _person_pattern(names: Sequence[str]) -> str:
    named = [re.escape(n) for n in sorted(set(names), key=len, reverse=True) if len(n) >= 3]
    alternatives = [_PERSON_BASE, *named]
    return "(?:" + "|".join(alternatives) + r")(?![\w-])"


@dataclass(frozen=True)
class _Compiled:
    person_failure: re.Pattern[str]
    person_negated: re.Pattern[str]
    person_slow: re.Pattern[str]
    passive_by: re.Pattern[str]
    cause_of_person: re.Pattern[str]
    person_by_mistake: re.Pattern[str]
    person_graded: re.Pattern[str]


_CACHE: dict[tuple[str, ...], _Compiled] = {}


def _compiled(names: Sequence[str]) -> _Compiled:
    key = tuple(sorted(set(names)))
    found = _CACHE.get(key)
    if found is None:
        person = _person_pattern(key)
        verb_phrase = (
            r"(?:'s?\s+)?(?:\s*\([^)]*\))?\s+(?:(?:that|who)\s+)?"
            r"(?:(?:\w+ly|also|still|then|just|even|again)\s+)?(?:had\s+)?"
        )
        found = _Compiled(
            re.compile(rf"(?<![\w@]){person}{verb_phrase}{_FAILURE_VERBS}\b", re.IGNORECASE),
            re.compile(
                rf"(?<![\w@]){person}(?:(?:{verb_phrase}|[^.;]{{0,60}}?\bbut\s+){_NEGATED_ACTION}"
                rf"|\s+(?:were|was)\s+not\s+{_NOT_STATE}\w+ing)\b",
                re.IGNORECASE,
            ),
            re.compile(
                rf"(?<![\w@]){person}\s+(?:were|was|are|is)\s+(?:too |very |rather )?"
                r"(?:slow|late) to\b",
                re.IGNORECASE,
            ),
            re.compile(rf"{_PASSIVE_BY}{person}", re.IGNORECASE),
            re.compile(
                rf"{_CAUSE_OF_PERSON}(?:{person})(?:'s)?\s+(?:\w+\s+)?"
                r"(?:did|used|ran|made|pushed|deleted|changed|applied|merged|work|change|"
                r"\w+ed)\b",
                re.IGNORECASE,
            ),
            # A person as the actor of something done "by mistake": the adverb carries the
            # outcome and the person carries the cause.
            re.compile(
                rf"(?<![\w@]){person}\s+[^.;]{{0,140}}?(?:{_MISTAKE_ADVERB})", re.IGNORECASE
            ),
            # A person graded as the subject ("we were overzealous on step 3").
            re.compile(
                rf"(?<![\w@]){person}\s+(?:were|was|are|is|got)\s+(?:too |very |a bit |rather )?"
                rf"(?:{_GRADES})\b",
                re.IGNORECASE,
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


def _hits(rule: str, sentence: str, patterns: Iterable[re.Pattern[str]]) -> list[LanguageHit]:
    found: list[LanguageHit] = []
    for pattern in patterns:
        for match in pattern.finditer(sentence):
            if any(h.start < match.end() and match.start() < h.end for h in found):
                continue
            found.append(
                LanguageHit(
                    rule,
                    match.group(0).strip(),
                    sentence,
                    _rewrite(rule, sentence, match.start(), match.end()),
                    match.start(),
                    match.end(),
                )
            )
    return found


def review_sentence(sentence: str, names: Sequence[str] = ()) -> list[LanguageHit]:
    """Every rule `sentence` breaks; `names` are the participants' names (any case)."""
    compiled = _compiled(names)
    hits = [
        *_hits(COUNTERFACTUAL, sentence, (_MODAL_PERFECT, _IF_ONLY, _LAPSE)),
        *_hits(NORMATIVE, sentence, (_NORMATIVE, compiled.person_slow)),
        *_hits(
            PERSON_CAUSE,
            sentence,
            (
                _HUMAN_ERROR,
                compiled.person_failure,
                compiled.passive_by,
                compiled.cause_of_person,
                compiled.person_by_mistake,
                compiled.person_graded,
            ),
        ),
        *_hits(HINDSIGHT, sentence, (_HINDSIGHT,)),
    ]
    negated = _hits(COUNTERFACTUAL, sentence, (compiled.person_negated,))
    if negated:
        hits += negated
        if not any(h.rule == PERSON_CAUSE for h in hits):
            hits.append(
                LanguageHit(
                    PERSON_CAUSE,
                    negated[0].words,
                    sentence,
                    _rewrite(PERSON_CAUSE, sentence, negated[0].start, negated[0].end),
                    negated[0].start,
                    negated[0].end,
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
