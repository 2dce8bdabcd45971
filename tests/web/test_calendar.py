"""The per-person iCalendar feed of due dates, behind a secret address that can be rotated."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from icalendar import Calendar

from hindsight.services.accounts import list_users
from hindsight.services.database import Database
from hindsight.services.incidents import create_postmortem
from tests.factories import make_postmortem
from tests.web.conftest import Browser

Make = Callable[[str | None], Browser]
_URL = re.compile(r'<code id="calendar-url" class="secret">([^<]+)</code>')


def _seed(database: Database) -> None:
    with database.transaction() as session:
        users = {a.username: a for a, _ in list_users(session)}
        mine = [
            {"title": "Alert on cert expiry", "owner": "Owner", "due": "2024-04-01"},
            {"title": "Done already", "owner": "owner", "due": "2024-04-02", "status": "done"},
            {"title": "Someone else's", "owner": "teammate", "due": "2024-04-03"},
            {"title": "No due date", "owner": "owner"},
        ]
        pm = make_postmortem(key="2024-03-05-checkout", action_items=mine)
        create_postmortem(session, postmortem=pm, author="boss", actor=users["boss"])
        hidden = make_postmortem(
            key="2024-03-06-leak",
            visibility="restricted",
            action_items=[
                {"title": "Rotate the leaked key", "owner": "owner", "due": "2024-04-04"}
            ],
        )
        create_postmortem(session, postmortem=hidden, author="boss", actor=users["boss"])


def _feed_url(client: Browser) -> str:
    client.page("/settings/notifications")
    made = client.submit("/settings/notifications/calendar")
    assert made.headers["location"] == "/settings/notifications#calendar"  # type: ignore[attr-defined]
    page = client.page("/settings/notifications")
    match = _URL.search(page)
    assert match, "the new address is shown"
    assert _URL.search(client.page("/settings/notifications")) is None  # once
    return match.group(1).replace("http://testserver", "")


def test_the_feed_lists_my_open_due_items_i_may_see_and_rotating_ends_the_old_address(
    browser_for: Make, app_database: Database
) -> None:
    _seed(app_database)
    owner = browser_for("owner")
    url = _feed_url(owner)
    anonymous = TestClient(owner.app)  # a calendar app: no session
    answer = anonymous.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    events = [(str(e["summary"]), e.decoded("dtstart")) for e in calendar.walk("VEVENT")]
    assert events == [("Due: Alert on cert expiry", dt.date(2024, 4, 1))]  # not the restricted one
    [event] = calendar.walk("VEVENT")
    assert "/incidents/2024-03-05-checkout#ai-" in str(event["url"])
    assert str(event["uid"]).startswith("2024-03-05-checkout.ai-")
    assert "Your feed is on" in owner.page("/settings/notifications")

    newer = _feed_url(owner)
    assert newer != url
    assert anonymous.get(url).status_code == 404
    assert anonymous.get(newer).status_code == 200
    owner.page("/settings/notifications")
    owner.submit("/settings/notifications/calendar/revoke")
    assert anonymous.get(newer).status_code == 404
    assert "No calendar feed yet" in owner.page("/settings/notifications")

    boss = browser_for("boss")  # admins see every incident: the restricted item is theirs too
    with app_database.transaction() as session:
        users = {a.username: a for a, _ in list_users(session)}
        pm = make_postmortem(
            key="2024-03-07-boss",
            visibility="restricted",
            action_items=[{"title": "Boss item", "owner": "boss", "due": "2024-05-01"}],
        )
        create_postmortem(session, postmortem=pm, author="owner", actor=users["owner"])
    calendar = Calendar.from_ical(anonymous.get(_feed_url(boss)).content)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["Due: Boss item"]
