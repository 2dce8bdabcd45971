"""Issue 9: every list item has an identity; edits, history, undo and merges address items by
id; key moments follow one order; several fields change as one edit. On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import append_item, remove_item, set_field, set_fields
from hindsight.domain.incidents import Postmortem
from hindsight.errors import ConflictError, InvalidInputError
from hindsight.rendering.history import describe_changes
from hindsight.services.history import restore_item, revert_revision
from hindsight.services.incidents import get_postmortem, list_revisions, update_postmortem
from tests.factories import make_incident

KEY = "2024-03-05-checkout-errors"
ACTIONS = [
    {"title": "Alpha", "kind": "prevent"},
    {"title": "Bravo", "kind": "detect"},
    {"title": "Charlie", "kind": "process"},
]


def _edit(session: Session, change, version: int | None = None, force: bool = False):  # type: ignore[no-untyped-def]
    return update_postmortem(
        session, key=KEY, change=change, author="t", expected_version=version, force=force
    )


def _ids(pm: Postmortem) -> dict[str, str]:
    return {a.title: a.id for a in pm.action_items}


def test_every_list_item_gets_a_stable_id_that_survives_edits(session: Session) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    pm = stored.postmortem
    ids = [e.id for e in pm.timeline] + [a.id for a in pm.action_items]
    ids += [p.id for p in pm.participants] + [lesson.id for lesson in pm.lessons]
    ids += [f.id for f in pm.analysis.contributing_factors] + [w.id for w in pm.analysis.five_whys]
    assert all(ids) and len(set(ids)) == len(ids)
    before = _ids(pm)
    # Moving an event in time reorders the timeline; its id goes with it.
    first = pm.timeline[0]
    moved = _edit(session, lambda p: set_field(p, f"timeline.{first.id}.text", "Config pushed!"))
    assert moved.postmortem.timeline[0].id == first.id
    removed = _edit(session, lambda p: remove_item(p, f"action_items.{before['Alpha']}"))
    assert _ids(removed.postmortem) == {k: v for k, v in before.items() if k != "Alpha"}
    assert get_postmortem(session, key=KEY).postmortem.action_items[0].id == before["Bravo"]


def test_keep_mine_after_a_concurrent_remove_writes_only_that_item(session: Session) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    ids = _ids(stored.postmortem)
    # Tab B removes Bravo.
    _edit(session, lambda p: remove_item(p, f"action_items.{ids['Bravo']}"), stored.version)

    # Tab A, still on the old version, edits Bravo's owner.
    def tab_a(p: Postmortem) -> Postmortem:
        return set_field(p, f"action_items.{ids['Bravo']}.owner", "Ana")

    with pytest.raises(ConflictError) as conflict:
        _edit(session, tab_a, stored.version)
    assert conflict.value.conflicts[0][1] == "Bravo"
    kept = _edit(session, tab_a, stored.version, force=True).postmortem
    titles = {a.title: a for a in kept.action_items}
    assert set(titles) == {"Alpha", "Bravo", "Charlie"}
    assert titles["Bravo"].owner == "Ana" and titles["Bravo"].id == ids["Bravo"]
    assert titles["Charlie"].owner == "" and titles["Charlie"].kind == "process"


def test_two_people_editing_different_items_or_sections_do_not_conflict(session: Session) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    ids = _ids(stored.postmortem)
    _edit(session, lambda p: set_field(p, "impact.narrative", "Checkout failed."), stored.version)
    _edit(session, lambda p: set_field(p, f"action_items.{ids['Alpha']}.owner", "Bo"), 1)
    merged = _edit(session, lambda p: append_item(p, "lessons", "Canaries for config"), 1)
    pm = merged.postmortem
    assert pm.impact.narrative == "Checkout failed."
    assert {a.title: a.owner for a in pm.action_items}["Alpha"] == "Bo"
    assert [lesson.text for lesson in pm.lessons] == ["Config is code", "Canaries for config"]
    assert merged.version == 4


def test_a_real_conflict_names_the_field_and_both_values(session: Session) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    charlie = _ids(stored.postmortem)["Charlie"]
    _edit(session, lambda p: set_field(p, f"action_items.{charlie}.status", "done"), 1)
    with pytest.raises(ConflictError) as conflict:
        _edit(session, lambda p: set_field(p, f"action_items.{charlie}.status", "in_progress"), 1)
    assert conflict.value.conflicts == (
        (f"action_items.{charlie}.status", "Charlie", "in_progress", "done"),
    )
    assert "Charlie: status" in str(conflict.value)


def test_history_describes_changes_in_domain_words(session: Session) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    ids = _ids(stored.postmortem)
    _edit(
        session,
        lambda p: append_item(
            p, "timeline", {"at": "2024-03-05T09:53:00Z", "text": "Merged #287", "kind": "deploy"}
        ),
    )
    _edit(session, lambda p: set_field(p, f"action_items.{ids['Alpha']}.status", "done"))
    _edit(session, lambda p: remove_item(p, "analysis.contributing_factors.0"))
    lines = [
        [line.text for line in describe_changes(r.changes)]
        for r in list_revisions(session, key=KEY)[1:]
    ]
    assert lines == [
        ["added event 'Merged #287' at 2024-03-05 09:53 UTC"],
        ["action item 'Alpha': status open → done"],
        ["removed factor 'No config lint'"],
    ]


def test_a_removed_item_is_restored_with_its_id_and_a_revision_is_reverted(
    session: Session,
) -> None:
    stored = make_incident(session, action_items=ACTIONS)
    ids = _ids(stored.postmortem)
    removed = _edit(session, lambda p: remove_item(p, f"action_items.{ids['Bravo']}"))
    item = f"action_items.{ids['Bravo']}"
    restored = restore_item(session, key=KEY, version=removed.version, item=item, author="t")
    assert _ids(restored.postmortem) == ids
    with pytest.raises(InvalidInputError, match="already in the postmortem"):
        restore_item(session, key=KEY, version=removed.version, item=item, author="t")
    edited = _edit(session, lambda p: set_fields(p, {"title": "New", "severity": "SEV1"}))
    reverted = revert_revision(session, key=KEY, version=edited.version, author="t").postmortem
    assert (reverted.title, reverted.severity) == ("Checkout errors after a config push", "SEV2")
    actions = [r.action for r in list_revisions(session, key=KEY)]
    assert actions[-2:] == ["update", "revert"] and "restore" in actions


def test_a_revert_is_refused_when_a_later_revision_changed_the_same_field(
    session: Session,
) -> None:
    make_incident(session)
    first = _edit(session, lambda p: set_field(p, "title", "One"))
    _edit(session, lambda p: set_field(p, "title", "Two"))
    with pytest.raises(InvalidInputError, match="changed again after version"):
        revert_revision(session, key=KEY, version=first.version, author="t")


def test_key_moments_out_of_order_are_refused_naming_both_moments(session: Session) -> None:
    stored = make_incident(session)
    detected = stored.postmortem.key_moments()["detected"]
    with pytest.raises(InvalidPostmortemError, match=r"'detected' .* before 'impact started'"):
        _edit(session, lambda p: set_field(p, f"timeline.{detected.id}.at", "2024-03-01T00:00Z"))


def test_a_contradiction_kept_with_a_reason_shows_inconsistent_not_a_negative_time(
    session: Session,
) -> None:
    from hindsight.analysis.lint import lint
    from hindsight.analysis.metrics import compute_response_metrics, format_duration

    stored = make_incident(session)
    detected = stored.postmortem.key_moments()["detected"]
    kept = _edit(
        session,
        lambda p: set_fields(
            p,
            {
                f"timeline.{detected.id}.at": "2024-03-01T00:00Z",
                "moment_order_note": "the pager's clock was three days behind",
            },
        ),
    ).postmortem
    assert format_duration(compute_response_metrics(kept).time_to_detect) == "inconsistent"
    rules = {(f.rule, f.level.value) for f in lint(kept).findings}
    assert ("complete/moment-order", "error") in rules


def test_business_cost_and_currency_are_set_together_in_either_order(session: Session) -> None:
    make_incident(session)
    for values in (
        {"impact.cost.business_cost": 12000, "impact.cost.currency": "USD"},
        {"impact.cost.currency": "EUR", "impact.cost.business_cost": 900},
    ):
        cost = _edit(session, lambda p, v=values: set_fields(p, v)).postmortem.impact.cost
        assert (cost.business_cost, cost.currency) == (
            values["impact.cost.business_cost"],
            values["impact.cost.currency"],
        )


def test_a_5000_character_title_is_refused_with_the_limit(session: Session) -> None:
    make_incident(session)
    with pytest.raises(InvalidPostmortemError, match=r"5,000 characters long; the limit is 200"):
        _edit(session, lambda p: set_field(p, "title", "x" * 5000))
    assert get_postmortem(session, key=KEY).version == 1
