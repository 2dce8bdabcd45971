"""Tracker export and webhooks, against a local server that checks each request body against
GitHub's and Jira's published schemas (tests/trackers_server.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from hindsight.config import Settings, TrackerTeam
from hindsight.domain.editing import set_fields
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.services.action_items import ItemRef
from hindsight.services.incidents import get_postmortem, list_revisions, update_postmortem
from hindsight.services.trackers import TrackerError, apply_webhook, export_action_items
from tests.factories import make_incident
from tests.trackers_server import TrackerServer, schema_errors, tracker_server

SECRET = "s3cret-for-tests"
PEOPLE = [{"name": "Ana", "role": "incident_commander", "team": "payments"}]
ITEMS = [
    {"title": "Add config lint to CI", "owner": "Ana", "due": "2024-04-01", "priority": "P2"},
    {"title": "Page on checkout 5xx", "kind": "detect", "owner": "Bo"},
]


@pytest.fixture(scope="module")
def server() -> Iterator[TrackerServer]:
    with tracker_server() as running:
        yield running


@pytest.fixture
def settings(server: TrackerServer) -> Settings:
    server.received.clear()
    server.refused.clear()
    return Settings(
        github_api_url=server.url,
        github_token="ghp_test",
        github_webhook_secret=SECRET,
        jira_url=server.url,
        jira_email="ops@example.com",
        jira_token="jira-token",
        jira_webhook_secret=SECRET,
        base_url="https://hindsight.example.com",
        trackers={
            "payments": TrackerTeam(
                github_repository="acme/payments",
                github_labels=["postmortem", "P2"],
                jira_project="PAY",
                jira_issue_type="Bug",
                jira_labels=["postmortem"],
            ),
            "*": TrackerTeam(github_repository="acme/ops", jira_project="OPS"),
        },
    )


def _incident(session: Session) -> tuple[str, list[str]]:
    stored = make_incident(session, participants=PEOPLE, action_items=ITEMS)
    return stored.postmortem.key, [item.id for item in stored.postmortem.action_items]


def _items(session: Session, key: str) -> dict[str, tuple[str, str]]:
    postmortem = get_postmortem(session, key=key).postmortem
    return {i.id: (i.status.value, i.tracker_url) for i in postmortem.action_items}


def _signed(payload: object, secret: str = SECRET) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_schema_check_refuses_bodies_the_vendors_would_refuse() -> None:
    assert schema_errors("/repos/a/b/issues", {"body": "no title"})
    assert schema_errors("/repos/a/b/issues", {"title": "x", "labels": "one"})
    assert schema_errors("/rest/api/2/issue", {"fields": {"summary": "no project"}})
    assert schema_errors(
        "/rest/api/2/issue",
        {
            "fields": {
                "project": {"key": "P"},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "labels": ["has space"],
            }
        },
    )
    assert not schema_errors("/repos/a/b/issues", {"title": "x", "labels": ["a"]})


def test_export_to_github_sends_a_valid_issue_to_the_teams_repository_and_stores_the_link(
    session: Session, settings: Settings, server: TrackerServer
) -> None:
    key, ids = _incident(session)
    done = export_action_items(
        session,
        settings=settings,
        items=[ItemRef(key, ids[0]), ItemRef(key, ids[1])],
        tracker="github",
        actor=None,
        author="ana",
    )
    assert [r.errors for r in server.received] == [[], []]
    first, second = server.received
    assert first.path == "/repos/acme/payments/issues"  # Ana is in payments
    assert second.path == "/repos/acme/ops/issues"  # Bo is in no team: the "*" entry
    assert first.body["title"] == "Add config lint to CI"
    assert first.body["labels"] == ["postmortem", "P2"]
    assert f"https://hindsight.example.com/incidents/{key}#{ids[0]}" in first.body["body"]
    assert first.headers["Authorization"] == "Bearer ghp_test"
    links = _items(session, key)
    assert links[ids[0]][1] == done[0].tracker_url == "https://github.com/acme/payments/issues/1"
    assert links[ids[1]][1] == "https://github.com/acme/ops/issues/2"
    notes = [r.note for r in list_revisions(session, key=key)]
    assert notes.count("exported to github") == 2


def test_export_to_jira_sends_a_valid_issue_to_the_teams_project(
    session: Session, settings: Settings, server: TrackerServer
) -> None:
    key, ids = _incident(session)
    export_action_items(
        session,
        settings=settings,
        items=[ItemRef(key, ids[0])],
        tracker="jira",
        actor=None,
        author="ana",
    )
    (sent,) = server.received
    assert sent.errors == []
    assert sent.path == "/rest/api/2/issue"
    assert sent.body["fields"]["project"] == {"key": "PAY"}
    assert sent.body["fields"]["issuetype"] == {"name": "Bug"}
    assert sent.body["fields"]["labels"] == ["postmortem"]
    assert sent.headers["Authorization"].startswith("Basic ")
    assert _items(session, key)[ids[0]][1] == f"{server.url}/browse/PAY-1"


def test_an_item_already_exported_is_refused_before_any_issue_is_created(
    session: Session, settings: Settings, server: TrackerServer
) -> None:
    key, ids = _incident(session)
    refs = [ItemRef(key, ids[0])]
    export_action_items(
        session, settings=settings, items=refs, tracker="github", actor=None, author="a"
    )
    with pytest.raises(InvalidInputError, match="already has a tracker issue"):
        export_action_items(
            session,
            settings=settings,
            items=[ItemRef(key, ids[1]), *refs],
            tracker="github",
            actor=None,
            author="a",
        )
    assert len(server.received) == 1
    assert _items(session, key)[ids[1]][1] == ""


def test_bad_requests_name_what_is_wrong_and_store_nothing(
    session: Session, settings: Settings, server: TrackerServer
) -> None:
    key, ids = _incident(session)
    before = _items(session, key)
    with pytest.raises(InvalidInputError, match="tracker: 'gitlab' is not one of github, jira"):
        export_action_items(
            session,
            settings=settings,
            items=[ItemRef(key, ids[0])],
            tracker="gitlab",
            actor=None,
            author="a",
        )
    with pytest.raises(NotFoundError, match="no action item with id 'ai-nothere'"):
        export_action_items(
            session,
            settings=settings,
            items=[ItemRef(key, "ai-nothere")],
            tracker="github",
            actor=None,
            author="a",
        )
    server.refused.add("acme/payments")
    with pytest.raises(TrackerError, match="answered 404"):
        export_action_items(
            session,
            settings=settings,
            items=[ItemRef(key, ids[0])],
            tracker="github",
            actor=None,
            author="a",
        )
    unconfigured = settings.model_copy(update={"trackers": {}})
    with pytest.raises(InvalidInputError, match="no entry for team 'payments'"):
        export_action_items(
            session,
            settings=unconfigured,
            items=[ItemRef(key, ids[0])],
            tracker="jira",
            actor=None,
            author="a",
        )
    assert _items(session, key) == before


def _exported(session: Session, settings: Settings, tracker: str) -> tuple[str, str, str]:
    key, ids = _incident(session)
    (done,) = export_action_items(
        session,
        settings=settings,
        items=[ItemRef(key, ids[0])],
        tracker=tracker,
        actor=None,
        author="a",
    )
    return key, ids[0], done.tracker_url


def test_a_signed_github_close_marks_the_item_done_and_a_reopen_opens_it(
    session: Session, settings: Settings
) -> None:
    key, item, url = _exported(session, settings, "github")
    for action, status in (("closed", "done"), ("reopened", "open")):
        body, signature = _signed({"action": action, "issue": {"html_url": url, "number": 1}})
        result = apply_webhook(
            session,
            settings=settings,
            tracker="github",
            event="issues",
            body=body,
            signature=signature,
        )
        assert result.items == ((key, item),)
        assert _items(session, key)[item][0] == status
    authors = [r.author for r in list_revisions(session, key=key)]
    assert authors[-2:] == ["github-webhook", "github-webhook"]


def test_a_github_close_with_a_bad_signature_changes_nothing(
    session: Session, settings: Settings
) -> None:
    key, item, url = _exported(session, settings, "github")
    versions = len(list_revisions(session, key=key))
    body, _ = _signed({"action": "closed", "issue": {"html_url": url}})
    _, wrong = _signed({"action": "closed", "issue": {"html_url": url}}, secret="not-the-secret")
    for signature in (wrong, "", "sha1=abc"):
        with pytest.raises(PermissionDeniedError, match="signature does not match"):
            apply_webhook(
                session,
                settings=settings,
                tracker="github",
                event="issues",
                body=body,
                signature=signature,
            )
    assert _items(session, key)[item][0] == "open"
    assert len(list_revisions(session, key=key)) == versions


def test_other_github_events_change_nothing(session: Session, settings: Settings) -> None:
    key, item, url = _exported(session, settings, "github")
    body, signature = _signed({"action": "labeled", "issue": {"html_url": url}})
    result = apply_webhook(
        session, settings=settings, tracker="github", event="issues", body=body, signature=signature
    )
    assert result.items == ()
    body, signature = _signed({"action": "closed", "issue": {"html_url": url}})
    result = apply_webhook(
        session, settings=settings, tracker="github", event="push", body=body, signature=signature
    )
    assert result.items == () and _items(session, key)[item][0] == "open"


def _jira_event(url: str, category: str) -> dict[str, object]:
    issue_key = url.rsplit("/", 1)[1]
    status = {
        "name": "Done" if category == "done" else "To Do",
        "statusCategory": {"key": category},
    }
    return {
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": issue_key, "fields": {"status": status}},
    }


def test_a_signed_jira_update_to_done_closes_the_item_and_back_reopens_it(
    session: Session, settings: Settings
) -> None:
    key, item, url = _exported(session, settings, "jira")
    for category, status in (("done", "done"), ("new", "open")):
        body, signature = _signed(_jira_event(url, category))
        apply_webhook(
            session, settings=settings, tracker="jira", event="", body=body, signature=signature
        )
        assert _items(session, key)[item][0] == status


def test_a_jira_update_with_a_bad_signature_changes_nothing(
    session: Session, settings: Settings
) -> None:
    key, item, url = _exported(session, settings, "jira")
    body, _ = _signed(_jira_event(url, "done"))
    _, wrong = _signed(_jira_event(url, "done"), secret="wrong")
    with pytest.raises(PermissionDeniedError):
        apply_webhook(
            session, settings=settings, tracker="jira", event="", body=body, signature=wrong
        )
    assert _items(session, key)[item][0] == "open"


def test_a_published_postmortems_item_can_be_exported_and_followed_but_not_retitled(
    session: Session, settings: Settings
) -> None:
    stored = make_incident(
        session, participants=PEOPLE, action_items=ITEMS, review_status="published"
    )
    key, item = stored.postmortem.key, stored.postmortem.action_items[0].id
    (done,) = export_action_items(
        session,
        settings=settings,
        items=[ItemRef(key, item)],
        tracker="github",
        actor=None,
        author="a",
    )
    body, signature = _signed({"action": "closed", "issue": {"html_url": done.tracker_url}})
    apply_webhook(
        session,
        settings=settings,
        tracker="github",
        event="issues",
        body=body,
        signature=signature,
    )
    assert _items(session, key)[item] == ("done", done.tracker_url)
    with pytest.raises(PermissionDeniedError):
        update_postmortem(
            session,
            key=key,
            author="a",
            change=lambda pm: set_fields(pm, {f"action_items.{item}.title": "Other"}),
        )


def test_a_jira_update_that_does_not_change_the_status_leaves_the_item_alone(
    session: Session, settings: Settings
) -> None:
    key, item, url = _exported(session, settings, "jira")
    event = {**_jira_event(url, "done"), "changelog": {"items": [{"field": "summary"}]}}
    body, signature = _signed(event)
    result = apply_webhook(
        session, settings=settings, tracker="jira", event="", body=body, signature=signature
    )
    assert result.items == () and _items(session, key)[item][0] == "open"
    event["changelog"] = {"items": [{"field": "status", "toString": "Done"}]}
    body, signature = _signed(event)
    apply_webhook(
        session, settings=settings, tracker="jira", event="", body=body, signature=signature
    )
    assert _items(session, key)[item][0] == "done"


def test_a_jira_label_with_a_space_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match="jira_labels"):
        TrackerTeam(jira_project="P", jira_labels=["post mortem"])
