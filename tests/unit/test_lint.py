"""The lint: sensible on real published writing, firm on blaming or vague writing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hindsight.analysis.lint import Level, lint, prose_findings
from hindsight.domain.actions import ActionItem, ActionKind
from hindsight.domain.incidents import Participant, Severity
from hindsight.domain.timeline import EventKind, KeyMoment, TimelineEvent
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.demo import demo_document
from tests.factories import make_postmortem

REAL = Path(__file__).parent.parent / "data" / "postmortems"


def rules(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.rule for f in findings]


def test_real_reports_written_blamelessly_get_no_language_findings() -> None:
    for name in (
        "2023-01-23-Upgrading-ingress-nginx-caused-brief-outage-in-carbonplan.md",
        "2020-04-15-nginx-tls.md",
        "2018-01-18-reddit-hug.md",
    ):
        assert prose_findings((REAL / name).read_text(encoding="utf-8")) == [], name


def test_real_hindsight_wording_is_found_with_its_words_and_position() -> None:
    text = (REAL / "2021-06-29--actions-budget-terraform-state.md").read_text(encoding="utf-8")
    found = prose_findings(text)
    assert [(f.rule, f.excerpt) for f in found] == [
        ("blameless/hindsight", "should have posted"),
        ("blameless/hindsight", "should have switched"),
    ]
    assert all(text[f.start : f.end] == f.excerpt for f in found)
    text = (REAL / "2022-04-15--no-update-external-ids.md").read_text(encoding="utf-8")
    assert [f.excerpt for f in prose_findings(text)] == ["should have used"]


@pytest.mark.parametrize(
    ("sentence", "rule"),
    [
        ("The outage was caused by human error during the deploy.", "blameless/human-error"),
        ("The operator should have noticed the disk filling up.", "blameless/hindsight"),
        ("He failed to run the migration before the deploy.", "blameless/failed-to"),
        ("A careless change to the load balancer took the site down.", "blameless/judgement"),
        ("Obviously the config was wrong.", "blameless/obviously"),
        ("The on-call engineer was to blame for the delay.", "blameless/blame"),
        ("Someone forgot to renew the certificate.", "blameless/forgot"),
    ],
)
def test_blaming_sentences_are_flagged_with_a_rewrite(sentence: str, rule: str) -> None:
    (finding,) = prose_findings(sentence)
    assert finding.rule == rule and finding.suggestion


@pytest.mark.parametrize(
    "sentence",
    [
        "The certificate expired because renewal relied on a calendar reminder.",
        "The server failed to start within 300 seconds.",
        "The deploy ran without the migration check; nothing in the pipeline required it.",
        "There was no obvious error message in the logs.",
        # The dev corpus's old false alarm: a denial, not a judgement.
        "Second engineer starts looking through the logs but not seing anything obviously wrong.",
        "The dashboards showed nothing obviously wrong.",
        "It isn't obviously related to the deploy.",
    ],
)
def test_neutral_sentences_are_left_alone(sentence: str) -> None:
    assert prose_findings(sentence) == []


def test_a_person_named_as_the_cause_of_a_failure_is_an_error_but_not_in_the_timeline() -> None:
    pm = make_postmortem(
        participants=[Participant(name="Ana Lima")],
        summary="Checkout failed for 42 minutes after Ana broke the payment config in a push.",
    )
    found = [f for f in lint(pm).findings if f.rule == "blameless/person-as-cause"]
    assert [(f.field, f.excerpt, f.level) for f in found] == [("summary", "Ana broke", Level.ERROR)]
    event = TimelineEvent(
        at=dt.datetime(2024, 3, 5, 10, 1, tzinfo=dt.UTC),
        text="Ana pushed the payment config",
        actor="Ana Lima",
        kind=EventKind.CHANGE,
    )
    clean = make_postmortem(
        participants=[Participant(name="Ana Lima")], timeline=[*make_postmortem().timeline, event]
    )
    assert "blameless/person-as-cause" not in rules(lint(clean).findings)


def test_vague_action_items_without_owner_or_date_are_flagged() -> None:
    pm = make_postmortem(action_items=[ActionItem(title="Improve monitoring")])
    found = {f.rule: f for f in lint(pm).findings if f.part == "actions"}
    assert set(found) == {"actions/owner", "actions/due", "actions/concrete"}
    assert found["actions/concrete"].excerpt == "Improve"
    concrete = ActionItem(
        title="Add an alert on checkout 5xx above 1% for 5 minutes",
        owner="payments",
        due=dt.date(2024, 4, 1),
        kind=ActionKind.DETECT,
    )
    assert [
        f for f in lint(make_postmortem(action_items=[concrete])).findings if f.part == "actions"
    ] == []


def test_an_open_item_of_another_postmortem_is_pointed_to() -> None:
    pm = make_postmortem(
        action_items=[
            ActionItem(
                title="Run config changes through the canary stage",
                owner="a",
                due=dt.date(2024, 4, 1),
            )
        ]
    )
    report = lint(
        pm, open_elsewhere=[("2024-01-02-earlier", "Run config changes through canary stage")]
    )
    (duplicate,) = [f for f in report.findings if f.rule == "actions/duplicate"]
    assert "2024-01-02-earlier" in duplicate.message


def test_an_empty_draft_gets_an_error_per_missing_part_and_a_low_score() -> None:
    base = make_postmortem()
    empty = dataclasses.replace(
        base,
        summary="",
        timeline=(),
        action_items=(),
        lessons=(),
        analysis=type(base.analysis)(),
        impact=type(base.impact)(),
        response=type(base.response)(),
    )
    report = lint(empty)
    errors = {f.rule for f in report.errors}
    assert errors == {
        "complete/summary",
        "complete/analysis",
        "complete/impact-number",
        "complete/actions",
    }
    kinds = {(f.rule, f.part) for f in report.findings}
    assert report.score == 100 - 15 * 4 - 3 * (len(kinds) - 4)
    assert not report.checklist["overview"] and not report.checklist["timeline"]


def test_a_sev1_needs_an_action_that_prevents_or_detects() -> None:
    pm = make_postmortem(
        severity=Severity.SEV1,
        action_items=[
            ActionItem(
                title="Write the customer notice template",
                kind=ActionKind.PROCESS,
                owner="x",
                due=dt.date(2024, 4, 1),
            )
        ],
    )
    assert "complete/prevent-or-detect" in rules(lint(pm).errors)


def test_a_long_silence_during_the_impact_is_a_timeline_gap() -> None:
    start = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)
    timeline = [
        TimelineEvent(at=start, text="errors start", key_moment=KeyMoment.IMPACT_STARTED),
        TimelineEvent(
            at=start + dt.timedelta(minutes=5), text="alert", key_moment=KeyMoment.DETECTED
        ),
        TimelineEvent(
            at=start + dt.timedelta(minutes=50), text="rolled back", key_moment=KeyMoment.MITIGATED
        ),
    ]
    (gap,) = [
        f for f in lint(make_postmortem(timeline=timeline)).findings if f.rule == "timeline/gap"
    ]
    assert gap.message.startswith("45 minutes with no event during the impact, after 10:05")


def test_the_published_demo_has_no_errors_and_only_sensible_warnings() -> None:
    report = lint(read_markdown(demo_document(), "demo.md"))
    assert report.errors == []
    assert set(rules(report.findings)) == {
        "timeline/gap",
        "timeline/detection-delay",
        "actions/owner",
        "actions/due",
        "actions/concrete",
    }


def test_a_dismissal_covers_its_finding_only_while_the_text_is_the_same() -> None:
    from hindsight.analysis.findings import Dismissal, Finding, Level
    from hindsight.analysis.lint import LintReport, apply_dismissals

    def finding(sentence: str) -> Finding:
        return Finding(
            "blameless/counterfactual",
            Level.WARNING,
            "lessons",
            "lessons[0].text",
            f"'was overlooked' tells what did not happen (in: “{sentence}”)",
            excerpt="was overlooked",
        )

    before, after = finding("The step was overlooked."), finding("The check was overlooked.")
    assert before.fingerprint != after.fingerprint
    dismissed = Dismissal(before.rule, before.field, "quoted", fingerprint=before.fingerprint)
    legacy = Dismissal(before.rule, before.field, "quoted")  # made before fingerprints
    assert apply_dismissals(LintReport([before]), [dismissed]).findings == []
    assert apply_dismissals(LintReport([after]), [dismissed]).findings == [after]
    assert apply_dismissals(LintReport([after]), [dismissed]).lapsed == [dismissed]
    assert apply_dismissals(LintReport([before]), [dismissed]).lapsed == []
    assert apply_dismissals(LintReport([after]), [legacy]).findings == []
