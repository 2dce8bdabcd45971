"""Tracker export: an action item becomes a GitHub or Jira issue, its link is stored in the
item's `tracker_url`, and the tracker's webhook keeps the item's status in step.

Every change goes through update_postmortem, so the history records it and the publication
lock (which lets `tracker_url` and `status` change after publication) applies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.config import Settings, TrackerTeam
from hindsight.domain.access import Actor, Role
from hindsight.domain.actions import ActionItem, ActionStatus
from hindsight.domain.editing import set_fields
from hindsight.domain.incidents import Postmortem
from hindsight.errors import (
    HindsightError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hindsight.services.action_items import ItemRef
from hindsight.services.incidents import get_postmortem, update_postmortem
from hindsight.storage.models import ActionItemRow, IncidentRow

TRACKERS = ("github", "jira")
RESPONSE_LIMIT = 2000
MAX_EXPORT = 100
WEBHOOK_AUTHORS = {"github": "github-webhook", "jira": "jira-webhook"}


@dataclass(frozen=True)
class Exported:
    """One item sent to a tracker: where the issue is."""

    key: str
    item_id: str
    tracker_url: str


class TrackerError(HindsightError):
    """The tracker refused the issue or could not be reached. `exported` lists the items of
    the same request already exported (their issues exist and their links are stored)."""

    exported: tuple[Exported, ...] = ()


@dataclass(frozen=True)
class WebhookResult:
    """What a tracker webhook changed: the items it moved to `status` (none when the event
    is not a close or reopen, or names no exported item)."""

    status: str
    items: tuple[tuple[str, str], ...]


def configured_trackers(settings: Settings) -> tuple[str, ...]:
    """The trackers some team can export to: the pages offer only these."""
    teams = settings.trackers.values()
    found = []
    if any(team.github_repository for team in teams):
        found.append("github")
    if settings.jira_url and any(team.jira_project for team in teams):
        found.append("jira")
    return tuple(found)


def team_of(postmortem: Postmortem, item: ActionItem) -> str:
    """The team of the participant named as the item's owner (the first, if several)."""
    for person in postmortem.participants:
        if person.name == item.owner and person.team:
            return person.team
    return ""


def tracker_team(settings: Settings, team: str) -> TrackerTeam:
    """The team's tracker settings, or the "*" entry, or an error saying what to configure."""
    found = settings.trackers.get(team) or settings.trackers.get("*")
    if found is None:
        raise InvalidInputError(
            f"trackers: no entry for team {team or '(none)'!r} and no '*' entry; "
            'set HINDSIGHT_TRACKERS, e.g. \'{"*": {"github_repository": "owner/repo"}}\''
        )
    return found


def issue_text(postmortem: Postmortem, item: ActionItem, link: str) -> str:
    """The issue's body: the item's facts and a link back to its postmortem."""
    lines = [
        f"Action item from the postmortem of {postmortem.key}: {postmortem.title}",
        "",
        f"- Kind: {item.kind.value}",
        f"- Priority: {item.priority.value}",
        f"- Owner: {item.owner or '(none)'}",
        f"- Due: {item.due.isoformat() if item.due else '(none)'}",
        "",
        f"Postmortem: {link}",
    ]
    return "\n".join(lines)


def github_request(team: TrackerTeam, title: str, body: str) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of GitHub's "create an issue" for this team."""
    if not team.github_repository:
        raise InvalidInputError("trackers: this team has no github_repository (owner/repo)")
    payload: dict[str, Any] = {"title": title, "body": body}
    if team.github_labels:
        payload["labels"] = list(team.github_labels)
    return f"/repos/{team.github_repository}/issues", payload


def jira_request(team: TrackerTeam, title: str, body: str) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of Jira's "create issue" (REST v2) for this team."""
    if not team.jira_project:
        raise InvalidInputError("trackers: this team has no jira_project (a project key)")
    fields: dict[str, Any] = {
        "project": {"key": team.jira_project},
        "issuetype": {"name": team.jira_issue_type},
        "summary": title[:255],  # Jira's limit for a summary
        "description": body,
    }
    if team.jira_labels:
        fields["labels"] = list(team.jira_labels)
    return "/rest/api/2/issue", {"fields": fields}


def _headers(settings: Settings, tracker: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if tracker == "github":
        headers["Accept"] = "application/vnd.github+json"
        headers["X-GitHub-Api-Version"] = "2022-11-28"
        if settings.github_token:
            headers["Authorization"] = f"Bearer {settings.github_token}"
    elif settings.jira_token:
        pair = f"{settings.jira_email}:{settings.jira_token}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return headers


def _post(settings: Settings, tracker: str, url: str, payload: dict[str, Any]) -> Any:
    data = json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers=_headers(settings, tracker)
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.delivery_timeout_seconds) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        text = error.read(RESPONSE_LIMIT).decode(errors="replace")
        raise TrackerError(f"{tracker}: {url} answered {error.code}: {text}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise TrackerError(f"{tracker}: could not create the issue at {url}: {reason}") from None


def _base(settings: Settings, tracker: str) -> str:
    base = settings.github_api_url if tracker == "github" else settings.jira_url
    if not base:
        raise InvalidInputError("jira_url: set HINDSIGHT_JIRA_URL to your Jira site's address")
    return base.rstrip("/")


def create_issue(
    settings: Settings, tracker: str, postmortem: Postmortem, item: ActionItem, link: str
) -> str:
    """Create the item's issue in the tracker and return the issue's web address."""
    team = tracker_team(settings, team_of(postmortem, item))
    body = issue_text(postmortem, item, link)
    build = github_request if tracker == "github" else jira_request
    path, payload = build(team, item.title, body)
    base = _base(settings, tracker)
    answer = _post(settings, tracker, base + path, payload)
    if tracker == "github":
        url = answer.get("html_url") if isinstance(answer, dict) else None
    else:
        issue_key = answer.get("key") if isinstance(answer, dict) else None
        url = f"{base}/browse/{issue_key}" if isinstance(issue_key, str) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise TrackerError(f"{tracker}: the answer to {base + path} names no issue address")
    return url


def _setting(values: dict[str, Any]) -> Callable[[Postmortem], Postmortem]:
    def change(current: Postmortem) -> Postmortem:
        return set_fields(current, values)

    return change


def _check_tracker(tracker: str) -> None:
    if tracker not in TRACKERS:
        raise InvalidInputError(f"tracker: {tracker!r} is not one of {', '.join(TRACKERS)}")


def export_action_items(
    session: Session,
    *,
    settings: Settings,
    items: Sequence[ItemRef],
    tracker: str,
    actor: Actor | None,
    author: str,
) -> list[Exported]:
    """Create one tracker issue per item and store each link in the item's `tracker_url`.

    Steps per item: read it (visibility applies), refuse one already exported, create the
    issue, then store the link through update_postmortem. Items are checked before any issue
    is created. A tracker failure part-way raises TrackerError naming the items already
    exported; their links are in the session, and the web and CLI commit them so that trying
    again does not create their issues twice."""
    _check_tracker(tracker)
    if not items:
        raise InvalidInputError("items: choose at least one action item")
    if len(items) > MAX_EXPORT:
        raise InvalidInputError(f"items: at most {MAX_EXPORT} at a time (got {len(items)})")
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError("viewers cannot export action items; ask for the editor role")
    found = [_exportable(session, ref, actor) for ref in items]
    done: list[Exported] = []
    for stored, item in found:
        link = f"{settings.base_url.rstrip('/')}/incidents/{stored.key}#{item.id}"
        try:
            url = create_issue(settings, tracker, stored, item, link)
        except TrackerError as problem:
            problem.exported = tuple(done)
            raise
        update_postmortem(
            session,
            key=stored.key,
            change=_setting({f"action_items.{item.id}.tracker_url": url}),
            author=author,
            actor=actor,
            note=f"exported to {tracker}",
        )
        done.append(Exported(stored.key, item.id, url))
    return done


def _exportable(
    session: Session, ref: ItemRef, actor: Actor | None
) -> tuple[Postmortem, ActionItem]:
    postmortem = get_postmortem(session, key=ref.key, actor=actor).postmortem
    item = next((i for i in postmortem.action_items if i.id == ref.item_id), None)
    if item is None:
        raise NotFoundError(f"{ref.key}: no action item with id '{ref.item_id}'")
    if item.tracker_url:
        raise InvalidInputError(
            f"{ref.key} {ref.item_id}: already has a tracker issue ({item.tracker_url}); "
            "clear its tracker link first to export it again"
        )
    return postmortem, item


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """True when `header` is "sha256=" and the HMAC-SHA256 of the body under the secret
    (GitHub's X-Hub-Signature-256; Jira's X-Hub-Signature). No secret: never true."""
    if not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def github_status(event: str, payload: Any) -> tuple[str, str] | None:
    """(issue address, new item status) for an `issues` closed or reopened event."""
    if event != "issues" or not isinstance(payload, dict):
        return None
    target = {"closed": ActionStatus.DONE, "reopened": ActionStatus.OPEN}.get(
        str(payload.get("action"))
    )
    issue = payload.get("issue")
    url = issue.get("html_url") if isinstance(issue, dict) else None
    if target is None or not isinstance(url, str):
        return None
    return url, target.value


def jira_status(site: str, payload: Any) -> tuple[str, str] | None:
    """(issue address, new item status) for a `jira:issue_updated` event that changed the
    status: a status in the "done" category closes the item; any other reopens it."""
    if not isinstance(payload, dict) or payload.get("webhookEvent") != "jira:issue_updated":
        return None
    # An update that names its changes but not the status (a comment, a new summary) leaves
    # the item as it is, even if someone changed it in Hindsight meanwhile.
    changes = (payload.get("changelog") or {}).get("items")
    if isinstance(changes, list) and not any(
        isinstance(c, dict) and c.get("field") == "status" for c in changes
    ):
        return None
    issue = payload.get("issue") or {}
    key = issue.get("key") if isinstance(issue, dict) else None
    status = ((issue.get("fields") or {}).get("status") or {}) if isinstance(issue, dict) else {}
    category = (status.get("statusCategory") or {}).get("key") if isinstance(status, dict) else None
    if not isinstance(key, str) or not isinstance(category, str):
        return None
    target = ActionStatus.DONE if category == "done" else ActionStatus.OPEN
    return f"{site.rstrip('/')}/browse/{key}", target.value


def apply_webhook(
    session: Session, *, settings: Settings, tracker: str, event: str, body: bytes, signature: str
) -> WebhookResult:
    """Check the delivery's signature, then give the items exported as that issue the status
    the event names. A bad or missing signature raises PermissionDeniedError and changes
    nothing; an event that is not a close or reopen changes nothing."""
    _check_tracker(tracker)
    secret = settings.github_webhook_secret if tracker == "github" else settings.jira_webhook_secret
    if not signature_matches(secret, body, signature):
        raise PermissionDeniedError(
            f"{tracker} webhook: the signature does not match the configured secret "
            f"(HINDSIGHT_{tracker.upper()}_WEBHOOK_SECRET)"
        )
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise InvalidInputError(f"{tracker} webhook: the body is not JSON ({error})") from None
    found = (
        github_status(event, payload)
        if tracker == "github"
        else jira_status(settings.jira_url, payload)
    )
    if found is None:
        return WebhookResult("", ())
    url, status = found
    return WebhookResult(status, _move(session, url, status, WEBHOOK_AUTHORS[tracker]))


def _move(session: Session, url: str, status: str, author: str) -> tuple[tuple[str, str], ...]:
    rows = session.execute(
        select(IncidentRow.key, ActionItemRow.item_id)
        .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
        # The `<> ''` lets the partial index ix_action_items_tracker_url serve the lookup.
        .where(ActionItemRow.tracker_url == url, ActionItemRow.tracker_url != "")
        .order_by(IncidentRow.key, ActionItemRow.item_id)
    ).all()
    moved = []
    for key, item_id in rows:
        current = get_postmortem(session, key=key).postmortem
        item = next(i for i in current.action_items if i.id == item_id)
        # Reopening touches only closed items; an item in progress stays in progress.
        if item.status.value == status or (status == "open" and not item.is_closed):
            continue
        update_postmortem(
            session,
            key=key,
            change=_setting({f"action_items.{item_id}.status": status}),
            author=author,
            note=f"{author}: issue {url}",
        )
        moved.append((key, item_id))
    return tuple(moved)
