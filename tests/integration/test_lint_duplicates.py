"""Lint's duplicate check reads only the most recently added action items of other incidents."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hindsight.services import lint as lint_service
from hindsight.services.incidents import create_postmortem
from hindsight.services.lint import lint_stored
from tests.factories import make_postmortem

ITEM = "Alert on certificate expiry 30 days ahead"


def _store(session: Session, key: str, titles: list[str]) -> None:
    items = [{"title": t, "owner": "Ana", "due": "2024-05-01"} for t in titles]
    create_postmortem(session, postmortem=make_postmortem(key=key, action_items=items), author="t")


def _duplicates(session: Session, key: str) -> list[str]:
    report = lint_stored(session, key=key)
    return [f.message for f in report.findings if f.rule == "actions/duplicate"]


def test_an_open_item_of_a_recent_incident_is_found_as_a_duplicate(session: Session) -> None:
    _store(session, "earlier", [ITEM])
    _store(session, "later", [ITEM.replace("30", "thirty")])
    assert _duplicates(session, "later") == [
        f"'{ITEM.replace('30', 'thirty')}' looks like the open item '{ITEM}' of earlier"
    ]


def test_items_older_than_the_window_are_not_read(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(session, "earlier", [ITEM])
    _store(session, "busy", ["Rotate the on-call pager", "Document the failover", "Add a canary"])
    _store(session, "later", [ITEM])
    monkeypatch.setattr(lint_service, "RECENT_ITEMS", 4)  # the busy incident's 3 and later's 1
    assert _duplicates(session, "later") == []
    monkeypatch.setattr(lint_service, "RECENT_ITEMS", 5)
    assert len(_duplicates(session, "later")) == 1
