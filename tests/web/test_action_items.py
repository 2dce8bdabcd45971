"""The Action items and Insights pages, their API and the CSV exports, per persona."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from hindsight.config import Settings
from hindsight.domain.access import Role
from hindsight.services.accounts import create_user, list_users
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem, get_postmortem, utc_now
from hindsight.services.reviews import add_member
from hindsight.storage.models import UserRow
from hindsight.web.app import create_app
from tests.factories import make_postmortem
from tests.web.conftest import PASSWORD, PERSONAS, Browser
from tests.web.test_api import _token


@dataclass
class Site:
    """One app on one database for the whole module: signing five personas in costs five
    Argon2 hashes, so they are made once per backend, not once per test."""

    database: Database
    clients: dict[str, Browser]
    tokens: dict[str, dict[str, str]]


def seed(database: Database) -> None:
    """Two internal incidents' worth of items (owned by 'owner', by 'teammate', by free text)
    and a restricted incident the outsider and the reader may not see."""
    with database.transaction() as session:
        # One real account made by the service; the others share its password hash (the same
        # password), which saves an Argon2 hash of 64 MiB each.
        first = create_user(session, username="owner", password=PASSWORD, role=Role.EDITOR)
        hashed = session.scalar(select(UserRow.password_hash).where(UserRow.id == first.id))
        for name, role in PERSONAS.items():
            if name != "owner":
                session.add(
                    UserRow(
                        username=name,
                        display_name=name,
                        password_hash=hashed,
                        role=role.value,
                        created_at=utc_now(),
                    )
                )
        session.flush()
        people = {a.username: a for a, _ in list_users(session)}
        items = [
            {"title": "Mine overdue", "owner": "owner", "due": "2020-01-01", "priority": "P1"},
            {"title": "Mine later", "owner": "owner", "due": "2999-01-01"},
            {"title": "Teammate's", "owner": "teammate"},
            {"title": '=HYPERLINK("x")', "owner": "Some contractor"},
        ]
        create_postmortem(
            session,
            postmortem=make_postmortem(key="open-one", title="Open one", action_items=items),
            author="owner",
            actor=people["owner"],
        )
        secret = make_postmortem(
            key="secret",
            title="Credential leak",
            severity="SEV1",
            visibility="restricted",
            action_items=[{"title": "ZEBRA rotate keys", "owner": "owner", "due": "2020-01-01"}],
        )
        create_postmortem(session, postmortem=secret, author="teammate", actor=people["teammate"])
        add_member(session, key="secret", actor=people["teammate"], username="owner")


@pytest.fixture(scope="module")
def site(databases: Any, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    database = open_database(databases.new_url(backend))
    seed(database)
    settings = Settings(
        database_url="unused://",
        admin_password="admin password 1",
        data_dir=tmp_path_factory.mktemp("site"),
    )
    app = create_app(settings, database)
    clients = {}
    for name in (*PERSONAS, None):
        client = Browser(app)
        client.page("/login")
        if name:
            data = {"username": name, "password": PASSWORD, "csrf_token": client.csrf}
            assert client.post("/login", data=data, follow_redirects=False).status_code == 303
            client.page("/")
        clients[name or ""] = client
    tokens = {name: _token(database, name) for name in PERSONAS}
    yield Site(database, clients, tokens)
    for client in clients.values():
        client.close()
    database.dispose()


def version_of(site: Site, key: str) -> int:
    with site.database.reading() as session:
        return get_postmortem(session, key=key).version


def test_the_page_shows_mine_by_default_and_everyone_s_on_request(site: Site) -> None:
    owner = site.clients["owner"]
    page = owner.page("/actions")
    assert "Mine overdue" in page and "Mine later" in page and "ZEBRA rotate keys" in page
    assert "Teammate&#39;s" not in page
    assert "owned by you" in page
    assert re.search(r'href="/incidents/open-one#ai-[0-9a-f]{6}"', page)  # links to the item
    overdue = owner.page("/actions?who=mine&due=overdue")
    assert "Mine overdue" in overdue and "Mine later" not in overdue
    everyone = site.clients["teammate"].page("/actions?who=all")
    assert "Mine overdue" in everyone and "Teammate&#39;s" in everyone
    assert "(free text)" in everyone  # 'Some contractor' is no account
    assert "Nothing is owned by you" in site.clients["reader"].page("/actions")


def test_outsiders_never_see_a_restricted_incident_s_items(site: Site) -> None:
    for persona in ("outsider", "reader"):
        client, headers = site.clients[persona], site.tokens[persona]
        assert "ZEBRA" not in client.page("/actions?who=all")
        assert "ZEBRA" not in client.get("/actions.csv?who=all").text
        listed = client.get("/api/v1/action-items", headers=headers).json()
        assert listed["total"] == 4 and "ZEBRA" not in str(listed)
        insights = client.get("/api/v1/insights?from=2000-01-01", headers=headers).json()
        assert insights["incident_count"] == 1
        assert "Credential" not in client.get("/incidents.csv").text
    boss = site.clients["boss"]
    assert "ZEBRA" in boss.page("/actions?who=all")
    every = boss.get("/api/v1/insights?from=2000-01-01", headers=site.tokens["boss"]).json()
    assert every["incident_count"] == 2


def test_csv_exports_keep_the_filters_and_defuse_formulas(site: Site) -> None:
    client = site.clients["teammate"]
    response = client.get("/actions.csv?who=all&priority=P1")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["title"] for r in rows} == {"Mine overdue"}  # 'ZEBRA…' is P3
    everything = list(csv.DictReader(io.StringIO(client.get("/actions.csv?who=all").text)))
    assert '\'=HYPERLINK("x")' in {r["title"] for r in everything}
    assert len(everything) == 5
    listed = list(csv.DictReader(io.StringIO(client.get("/incidents.csv?severity=SEV1").text)))
    assert [r["key"] for r in listed] == ["secret"]
    assert listed[0]["link"].endswith("/incidents/secret")
    assert 'href="/incidents.csv?severity=SEV1"' in client.page("/?severity=SEV1")


def test_the_insights_page_has_charts_tables_and_csv_downloads(site: Site) -> None:
    client = site.clients["owner"]
    page = client.page("/insights?from=2000-01-01")
    assert page.count("<svg") >= 10 and page.count("Table view") == page.count("<svg")
    assert 'aria-labelledby="chart-incidents-by-month-title' in page
    assert "/insights/incidents-by-month.csv?from=2000-01-01" in page
    data = client.get("/insights/incidents-by-month.csv?from=2000-01-01")
    assert data.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(data.text)))
    assert rows[0][0] == "Month" and sum(int(v) for row in rows[1:] for v in row[1:]) == 2
    assert client.get("/insights/nothing.csv").status_code == 404
    bad = client.get("/insights?from=yesterday")
    assert bad.status_code == 400 and "from: &#39;yesterday&#39; is not a date" in bad.text


def test_a_bulk_change_on_an_unknown_item_changes_nothing_and_says_why(site: Site) -> None:
    client = site.clients["owner"]
    before = version_of(site, "open-one"), version_of(site, "secret")
    picks = re.findall(r'name="item" value="([^"]+)"', client.page("/actions?who=mine"))
    response = client.post(
        "/actions/status",
        data={
            "csrf_token": client.csrf,
            "item": [*picks, "open-one|ai-000000|1"],
            "status": "done",
        },
    )
    assert response.status_code == 404
    assert "open-one: no action item with id &#39;ai-000000&#39;" in response.text
    wont = client.post(
        "/actions/status", data={"csrf_token": client.csrf, "item": picks[:1], "status": "wont_do"}
    )
    assert wont.status_code == 400 and "needs a reason" in wont.text
    assert (version_of(site, "open-one"), version_of(site, "secret")) == before


def test_the_api_lists_filters_and_changes_items_in_bulk(site: Site) -> None:
    client, headers = site.clients[""], site.tokens["teammate"]
    mine = client.get("/api/v1/action-items?who=mine", headers=headers).json()
    assert [i["title"] for i in mine["items"]] == ["Teammate's"]
    item = mine["items"][0]
    assert item["owner_is_account"] and not item["overdue"] and item["age_seconds"] >= 0
    before = version_of(site, "open-one")
    refs = [
        {"key": i["key"], "item_id": i["item_id"], "version": i["version"]} for i in mine["items"]
    ]
    done = client.post(
        "/api/v1/action-items/status", headers=headers, json={"items": refs, "status": "done"}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"changed": 1, "incidents": {"open-one": before + 1}}
    unknown = client.post(
        "/api/v1/action-items/status",
        headers=headers,
        json={"items": [{**refs[0], "item_id": "ai-000000"}], "status": "done"},
    )
    assert unknown.status_code == 404
    assert "no action item with id 'ai-000000'" in unknown.json()["error"]["message"]
    bad = client.get("/api/v1/action-items?due=soon", headers=headers)
    assert bad.status_code == 400 and "due: 'soon'" in bad.json()["error"]["message"]
    refused = client.post(
        "/api/v1/action-items/status",
        headers=site.tokens["reader"],
        json={"items": refs, "status": "open"},
    )
    assert refused.status_code == 403


def test_bulk_mark_done_from_the_page_makes_one_revision_per_postmortem(site: Site) -> None:
    client = site.clients["owner"]
    before = version_of(site, "open-one"), version_of(site, "secret")
    picks = re.findall(r'name="item" value="([^"]+)"', client.page("/actions?who=mine"))
    assert len(picks) == 3
    response = client.post(
        "/actions/status",
        data={"csrf_token": client.csrf, "item": picks, "status": "done", "back": "who=mine"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/actions?changed=3&who=mine"
    assert "Changed 3 action items." in client.page(response.headers["location"])
    assert (version_of(site, "open-one"), version_of(site, "secret")) == (
        before[0] + 1,
        before[1] + 1,
    )
    with site.database.reading() as session:
        for key in ("open-one", "secret"):
            owned = [
                i
                for i in get_postmortem(session, key=key).postmortem.action_items
                if i.owner == "owner"
            ]
            assert {i.status for i in owned} == {"done"}


def test_the_recurrence_rate_is_a_chart_a_table_a_csv_and_in_the_api(site: Site) -> None:
    """'secret' (restricted; the owner is a member, the outsider is not) is linked as a
    recurrence of the earlier 'open-one': one of the owner's two incidents recurs, none of the
    outsider's one."""
    from hindsight.services.recurrence import link_recurrence, unlink_recurrence

    with site.database.transaction() as session:
        link_recurrence(session, key="secret", other_key="open-one", author="boss")
    try:
        client = site.clients["owner"]
        page = client.page("/insights?from=2000-01-01")
        assert "chart-recurrence-by-month" in page
        assert "were linked as a recurrence of an earlier one (1)" in page
        data = client.get("/insights/recurrence-by-month.csv?from=2000-01-01")
        rows = list(csv.reader(io.StringIO(data.text)))
        assert rows[0] == ["Month", "recurrences (% of incidents)"]
        assert [v for row in rows[1:] for v in row[1:] if v] == ["50"]  # this month, 1 of 2
        owner = client.get("/api/v1/insights?from=2000-01-01", headers=site.tokens["owner"])
        assert owner.json()["recurrence"] == {"incidents": 2, "recurrences": 1, "share": 0.5}
        outsider = site.clients["outsider"].get(
            "/api/v1/insights?from=2000-01-01", headers=site.tokens["outsider"]
        )
        assert outsider.json()["recurrence"] == {"incidents": 1, "recurrences": 0, "share": 0.0}
    finally:
        with site.database.transaction() as session:
            unlink_recurrence(session, key="secret", other_key="open-one", author="boss")
