"""An explainable review of a postmortem draft: completeness, action items, blameless language,
timeline. `lint` is a pure function; each finding says which rule, how serious, where (part and
field, and the offending words with their position), why, and what to write instead.

Blameless language follows the Google SRE and Etsy practice: describe what the system and the
situation made likely, not who should have known better. Names are fine in the timeline as
actors; they are flagged when a prose sentence makes a person the subject of a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from hindsight.analysis.blameless import five_whys_findings, language_findings
from hindsight.analysis.findings import Dismissal, Finding, Level
from hindsight.analysis.phrases import blame_findings, people_named, prose_fields, prose_findings
from hindsight.analysis.silences import timeline_findings
from hindsight.domain.actions import ActionKind, ActionStatus
from hindsight.domain.incidents import Postmortem, Severity
from hindsight.domain.moments import describe_disorder
from hindsight.domain.timeline import KeyMoment

__all__ = [
    "Dismissal",
    "Finding",
    "Level",
    "LintReport",
    "apply_dismissals",
    "blame_findings",
    "lint",
    "prose_findings",
]

PARTS = ("overview", "timeline", "analysis", "impact", "response", "lessons", "actions")


WEIGHTS = {Level.ERROR: 15, Level.WARNING: 3, Level.INFO: 1}


@dataclass(frozen=True)
class Problem:
    """Findings of one rule in one part, counted once: twelve action items without an owner
    are one problem with a count of twelve."""

    rule: str
    level: Level
    part: str
    count: int
    first: Finding


@dataclass(frozen=True)
class PartScore:
    """How complete a part is (no completeness error) and how clear (language problems)."""

    complete: bool
    clarity_problems: int
    problems: int


@dataclass(frozen=True)
class LintReport:
    """All findings, a 0-100 score, and whether each part is done."""

    findings: list[Finding]
    checklist: dict[str, bool] = field(default_factory=dict)
    dismissed: list[tuple[Finding, Dismissal]] = field(default_factory=list)
    # Dismissals that no longer apply: the text they were about changed (or is gone).
    lapsed: list[Dismissal] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """The findings grouped by rule and part, worst first."""
        groups: dict[tuple[str, str], list[Finding]] = {}
        for finding in self.findings:
            groups.setdefault((finding.rule, finding.part), []).append(finding)
        problems = [
            Problem(rule, max(fs, key=lambda f: WEIGHTS[f.level]).level, part, len(fs), fs[0])
            for (rule, part), fs in groups.items()
        ]
        return sorted(problems, key=lambda p: -WEIGHTS[p.level])

    @property
    def score(self) -> int:
        """100 minus 15 per error, 3 per warning, 1 per note, each problem counted once
        however often it repeats; never below 0."""
        return max(0, 100 - sum(WEIGHTS[p.level] for p in self.problems))

    @property
    def parts(self) -> dict[str, PartScore]:
        """Per part: complete (no error there) and clear (no language problem there)."""
        problems = self.problems
        return {
            part: PartScore(
                self.checklist.get(part, True),
                sum(1 for p in problems if p.part == part and p.rule.startswith("blameless/")),
                sum(1 for p in problems if p.part == part),
            )
            for part in PARTS
        }

    @property
    def errors(self) -> list[Finding]:
        """The findings that block publication."""
        return [f for f in self.findings if f.level is Level.ERROR]


_VAGUE = re.compile(
    r"^\s*(?:improve|enhance|better|look into|investigate|consider|review|"
    r"revisit|think about|monitor|be more careful|make sure|ensure|try to|"
    r"work on|fix issues?)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")


def _impact_quantified(pm: Postmortem) -> bool:
    impact = pm.impact
    numbers = [
        impact.users_affected,
        impact.failed_requests,
        impact.downtime_minutes,
        impact.error_budget_burned_percent,
        impact.support_tickets,
        impact.data_loss.records_lost,
        impact.cost.business_cost,
        impact.cost.responder_hours,
    ]
    return any(n is not None for n in numbers) or bool(_NUMBER.search(impact.narrative))


def moment_order_findings(pm: Postmortem) -> Iterator[Finding]:
    """Key moments kept out of order (with a reason): an error until they agree."""
    moments = pm.key_moments()
    for pair in pm.moment_disorder():
        yield Finding(
            "complete/moment-order",
            Level.ERROR,
            "timeline",
            "timeline",
            f"key moments are inconsistent: {describe_disorder(pair, moments)} "
            f"(kept because: {pm.moment_order_note})",
            "check the times against the evidence; publishing needs a recorded override while "
            "they contradict each other",
        )


def completeness_findings(pm: Postmortem) -> Iterator[Finding]:
    """Each part present and substantive; key moments; impact with a number."""
    words = len(pm.summary.split())
    if words < 15:
        yield Finding(
            "complete/summary",
            Level.ERROR if not words else Level.WARNING,
            "overview",
            "summary",
            "the overview is missing"
            if not words
            else "the overview is shorter than two sentences",
            "say what happened, who was affected, for how long, and how it ended",
        )
    moments = pm.key_moments()
    yield from moment_order_findings(pm)
    for moment in (KeyMoment.IMPACT_STARTED, KeyMoment.DETECTED, KeyMoment.RESOLVED):
        if moment not in moments:
            yield Finding(
                "complete/key-moment",
                Level.WARNING,
                "timeline",
                "timeline",
                f"no event is marked '{moment.value}'",
                "mark it on the timeline so the response metrics can be computed",
            )
    if not pm.analysis.trigger.strip() and not pm.analysis.root_causes:
        yield Finding(
            "complete/analysis",
            Level.ERROR,
            "analysis",
            "analysis",
            "no trigger and no root cause",
            "what set it off, and why was that possible? The five whys help",
        )
    if not _impact_quantified(pm):
        yield Finding(
            "complete/impact-number",
            Level.ERROR,
            "impact",
            "impact",
            "the impact has no number",
            "give at least one: users affected, failed requests, minutes down, "
            "error budget burned, tickets, cost",
        )
    if not pm.response.went_well and not pm.response.went_wrong:
        yield Finding(
            "complete/response",
            Level.WARNING,
            "response",
            "response",
            "nothing on how the response went",
            "list what went well, what went wrong and where you got lucky",
        )
    if not pm.lessons:
        yield Finding(
            "complete/lessons",
            Level.WARNING,
            "lessons",
            "lessons",
            "no lessons learned",
            "what would you tell a team facing the same thing?",
        )
    if not pm.action_items:
        yield Finding(
            "complete/actions",
            Level.ERROR,
            "actions",
            "action_items",
            "no action items",
            "what will change so this cannot happen again, or is found sooner?",
        )
    elif pm.severity in (Severity.SEV1, Severity.SEV2) and not any(
        a.kind in (ActionKind.PREVENT, ActionKind.DETECT) for a in pm.action_items
    ):
        yield Finding(
            "complete/prevent-or-detect",
            Level.ERROR,
            "actions",
            "action_items",
            f"a {pm.severity.value} needs at least one action item that prevents or "
            "detects a recurrence",
            "add one of kind 'prevent' or 'detect'",
        )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]{3,}", text.lower())}


def action_findings(
    pm: Postmortem, open_elsewhere: Sequence[tuple[str, str]] = ()
) -> Iterator[Finding]:
    """Owner, due date, a concrete verb and bounded scope; no duplicate of an open item in
    another postmortem (`open_elsewhere` holds (incident key, title) pairs)."""
    for i, action in enumerate(pm.action_items):
        where = f"action_items[{i}]"
        if action.status in (ActionStatus.DONE, ActionStatus.WONT_DO):
            continue
        if not action.owner:
            yield Finding(
                "actions/owner",
                Level.WARNING,
                "actions",
                f"{where}.owner",
                f"'{action.title}' has no owner",
                "name a person or a team",
            )
        if action.due is None:
            yield Finding(
                "actions/due",
                Level.WARNING,
                "actions",
                f"{where}.due",
                f"'{action.title}' has no due date",
                "give a date it will be done by",
            )
        vague = _VAGUE.match(action.title)
        if vague:
            yield Finding(
                "actions/concrete",
                Level.WARNING,
                "actions",
                f"{where}.title",
                f"'{vague.group(0).strip()}' is not a concrete, bounded change",
                "start with the change itself: 'Add an alert on checkout 5xx above "
                "1% for 5 minutes', not 'Improve monitoring'",
                vague.group(0).strip(),
                vague.start(),
                vague.end(),
            )
        mine = _words(action.title)
        for key, title in open_elsewhere:
            theirs = _words(title)
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= 0.6:
                yield Finding(
                    "actions/duplicate",
                    Level.INFO,
                    "actions",
                    f"{where}.title",
                    f"'{action.title}' looks like the open item '{title}' of {key}",
                    "link to it instead of opening a second one",
                )
                break


def lint(pm: Postmortem, *, open_elsewhere: Sequence[tuple[str, str]] = ()) -> LintReport:
    """Every finding for `pm`, and its per-part checklist."""
    blame = list(blame_findings(pm))
    people = people_named(pm)
    findings = [
        *completeness_findings(pm),
        *timeline_findings(pm),
        *blame,
        *language_findings(prose_fields(pm), people, blame),
        *five_whys_findings(pm.analysis.five_whys, people),
        *action_findings(pm, open_elsewhere),
    ]
    checklist = {
        part: not any(f.part == part and f.level is Level.ERROR for f in findings) for part in PARTS
    }
    checklist["timeline"] = checklist["timeline"] and bool(pm.timeline)
    return LintReport(findings, checklist)


def apply_dismissals(report: LintReport, dismissals: Sequence[Dismissal]) -> LintReport:
    """The report without the findings the author dismissed (same rule and field, and the same
    text: see Finding.fingerprint); they are kept beside it with their dismissal. A finding
    whose text changed since it was dismissed counts again. A part whose only errors were
    dismissed is done."""
    kept: list[Finding] = []
    dismissed: list[tuple[Finding, Dismissal]] = []
    for finding in report.findings:
        cover = next((d for d in dismissals if d.covers(finding)), None)
        if cover is None:
            kept.append(finding)
        else:
            dismissed.append((finding, cover))
    checklist = {
        part: done
        or (
            any(f.part == part and f.level is Level.ERROR for f, _ in dismissed)
            and not any(f.part == part and f.level is Level.ERROR for f in kept)
        )
        for part, done in report.checklist.items()
    }
    used = {id(d) for _, d in dismissed}
    lapsed = [d for d in dismissals if id(d) not in used]
    return LintReport(kept, checklist, dismissed, lapsed)
