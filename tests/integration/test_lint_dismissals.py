"""Dismissing a lint finding with a reason: it stops counting, the history records it, it
can be taken back; bad requests change nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.services.incidents import list_revisions, update_postmortem
from hindsight.services.lint import lint_stored
from hindsight.services.lint_dismissals import dismiss_finding, restore_finding
from hindsight.storage.db import downgrade_database, make_engine, upgrade_database
from tests.factories import make_incident

LESSON = "The verification step was overlooked."


def _incident(session: Session) -> str:
    return make_incident(session, lessons=[{"text": LESSON}]).postmortem.key


def _counterfactual(session: Session, key: str):  # type: ignore[no-untyped-def]
    report = lint_stored(session, key=key)
    return [f for f in report.findings if f.rule == "blameless/counterfactual"], report


def test_a_dismissed_finding_stops_counting_and_the_history_records_why(
    session: Session,
) -> None:
    key = _incident(session)
    (finding,), before = _counterfactual(session, key)
    dismiss_finding(
        session,
        key=key,
        rule=finding.rule,
        field=finding.field,
        reason="a quoted lesson, kept as written",
        author="ana",
    )
    found, after = _counterfactual(session, key)
    assert found == []
    assert [(f.rule, d.reason, d.author) for f, d in after.dismissed] == [
        ("blameless/counterfactual", "a quoted lesson, kept as written", "ana")
    ]
    assert after.score >= before.score
    last = list_revisions(session, key=key)[-1]
    assert last.action == "dismiss-finding" and last.author == "ana"
    assert "a quoted lesson, kept as written" in last.note
    restore_finding(session, key=key, rule=finding.rule, field=finding.field, author="ana")
    found, again = _counterfactual(session, key)
    assert len(found) == 1 and again.dismissed == [] and again.score == before.score
    assert list_revisions(session, key=key)[-1].action == "restore-finding"


def _set_lesson(session: Session, key: str, lesson: str) -> None:
    def change(pm):  # type: ignore[no-untyped-def]
        return dataclasses.replace(pm, lessons=[dataclasses.replace(pm.lessons[0], text=lesson)])

    update_postmortem(session, key=key, change=change, author="ana")


def test_a_dismissal_holds_while_the_text_stays_and_lapses_when_it_changes(
    session: Session,
) -> None:
    key = _incident(session)
    (finding,), _ = _counterfactual(session, key)
    dismissal = dismiss_finding(
        session, key=key, rule=finding.rule, field=finding.field, reason="quoted", author="ana"
    )
    assert dismissal.fingerprint == finding.fingerprint
    # Another part of the text changes: the dismissed sentence is as it was.
    _set_lesson(session, key, LESSON + " We now run it in CI.")
    found, report = _counterfactual(session, key)
    assert found == [] and len(report.dismissed) == 1
    # The dismissed sentence itself changes: the finding counts again.
    _set_lesson(session, key, "The verification step was overlooked twice.")
    (again,), report = _counterfactual(session, key)
    assert report.dismissed == [] and again.fingerprint != finding.fingerprint
    assert [d.reason for d in report.lapsed] == ["quoted"]
    # Dismissing it again replaces the stale dismissal (one per rule and field).
    dismiss_finding(
        session, key=key, rule=again.rule, field=again.field, reason="still quoted", author="bo"
    )
    found, report = _counterfactual(session, key)
    assert found == [] and [d.reason for _, d in report.dismissed] == ["still quoted"]
    assert report.lapsed == []


@pytest.mark.parametrize(
    ("rule", "field", "reason", "message"),
    [
        ("blameless/counterfactual", "lessons[0].text", "  ", "reason"),
        ("blameless/normative", "lessons[0].text", "not there", "no finding 'blameless/normative'"),
    ],
)
def test_a_dismissal_without_a_reason_or_of_no_finding_is_refused_and_changes_nothing(
    session: Session, rule: str, field: str, reason: str, message: str
) -> None:
    key = _incident(session)
    versions = len(list_revisions(session, key=key))
    with pytest.raises(InvalidInputError, match=message):
        dismiss_finding(session, key=key, rule=rule, field=field, reason=reason, author="ana")
    assert len(list_revisions(session, key=key)) == versions
    assert lint_stored(session, key=key).dismissed == []


def test_restoring_a_finding_that_is_not_dismissed_is_not_found(session: Session) -> None:
    key = _incident(session)
    with pytest.raises(NotFoundError, match="no dismissed finding"):
        restore_finding(
            session, key=key, rule="blameless/counterfactual", field="lessons[0].text", author="a"
        )


def test_migration_0014_adds_and_removes_the_dismissals_table(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        assert "lint_dismissals" in inspect(engine).get_table_names()
        downgrade_database(engine, "0008")
        assert "lint_dismissals" not in inspect(engine).get_table_names()
        upgrade_database(engine)
        assert "lint_dismissals" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_migration_0017_adds_and_removes_the_fingerprint(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("lint_dismissals")}
        assert "fingerprint" in columns
        downgrade_database(engine, "0014")
        columns = {c["name"] for c in inspect(engine).get_columns("lint_dismissals")}
        assert "fingerprint" not in columns and "rule" in columns
        upgrade_database(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("lint_dismissals")}
        assert "fingerprint" in columns
    finally:
        engine.dispose()
