"""Archive, unarchive and delete: who may, what leaves the lists, what a delete takes along."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.editing import set_field
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.accounts import create_token, create_user
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.evidence import list_evidence
from hindsight.services.imports import import_evidence
from hindsight.services.incidents import (
    IncidentFilter,
    get_postmortem,
    list_postmortems,
    list_revisions,
    update_postmortem,
)
from hindsight.services.reviews import add_comment, add_member
from hindsight.storage.db import downgrade_database, make_engine, upgrade_database
from hindsight.storage.models import Base, IncidentRow
from tests.factories import make_incident
from tests.integration.test_cli import Cli, _new

GIT = (
    Path(__file__).parent.parent / "data" / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
)
KEY = "2024-03-05-checkout-errors"
OTHER = "2024-03-06-search-slow"
NOW = dt.datetime(2024, 4, 1, 12, 0, tzinfo=dt.UTC)


@dataclass
class People:
    owner: Actor
    outsider: Actor
    reader: Actor
    admin: Actor


@pytest.fixture
def people(session: Session) -> People:
    def user(name: str, role: Role) -> Actor:
        return create_user(session, username=name, password="correct horse battery", role=role)

    found = People(
        user("owner", Role.EDITOR),
        user("outsider", Role.EDITOR),
        user("reader", Role.VIEWER),
        user("boss", Role.ADMIN),
    )
    make_incident(session)
    add_member(session, key=KEY, actor=found.admin, username="owner")
    make_incident(session, key=OTHER, title="Search slow")
    return found


def _keys(session: Session, actor: Actor | None, **filters: object) -> list[str]:
    page = list_postmortems(session, actor=actor, filters=IncidentFilter(**filters))  # type: ignore[arg-type]
    return [item.key for item in page.items]


def test_an_archived_incident_leaves_the_list_counts_and_title_search_for_everyone(
    session: Session, people: People
) -> None:
    archive_incident(session, key=KEY, author="owner", actor=people.owner, now=NOW)
    for actor in (None, people.owner, people.outsider, people.reader, people.admin):
        page = list_postmortems(session, actor=actor)
        assert [item.key for item in page.items] == [OTHER]
        assert page.total == 1
        assert _keys(session, actor, text="checkout") == []
        assert list_postmortems(session, actor=actor, filters=IncidentFilter(text="c")).total == 1


def test_an_archived_incident_stays_reachable_by_key_for_admins_and_members_only(
    session: Session, people: People
) -> None:
    archive_incident(session, key=KEY, author="owner", actor=people.owner, now=NOW)
    for actor in (None, people.admin, people.owner):
        stored = get_postmortem(session, key=KEY, actor=actor)
        assert stored.archived_at == NOW and stored.archived_by == "owner"
    for actor in (people.outsider, people.reader):
        with pytest.raises(NotFoundError):
            get_postmortem(session, key=KEY, actor=actor)


def test_the_archived_list_shows_only_archived_incidents_the_reader_may_open(
    session: Session, people: People
) -> None:
    archive_incident(session, key=KEY, author="owner", actor=people.owner, now=NOW)
    assert _keys(session, people.admin, archived=True) == [KEY]
    assert _keys(session, people.owner, archived=True) == [KEY]
    assert _keys(session, people.outsider, archived=True) == []
    assert (
        list_postmortems(
            session, actor=people.outsider, filters=IncidentFilter(archived=True)
        ).total
        == 0
    )


def test_archive_and_unarchive_are_revisions_and_unarchive_brings_it_back(
    session: Session, people: People
) -> None:
    before = get_postmortem(session, key=KEY).version
    archived = archive_incident(session, key=KEY, author="owner", actor=people.owner, now=NOW)
    assert archived.version == before + 1
    restored = unarchive_incident(session, key=KEY, author="boss", actor=people.admin, now=NOW)
    assert restored.archived_at is None and restored.archived_by == ""
    history = list_revisions(session, key=KEY)
    assert [(r.action, r.author, r.version) for r in history[-2:]] == [
        ("archive", "owner", before + 1),
        ("unarchive", "boss", before + 2),
    ]
    assert [(c.field, c.old, c.new) for c in history[-1].changes] == [("archived", True, False)]
    assert set(_keys(session, people.outsider)) == {KEY, OTHER}


def test_an_editor_who_is_not_a_member_and_a_viewer_cannot_archive(
    session: Session, people: People
) -> None:
    for actor in (people.outsider, people.reader):
        with pytest.raises(PermissionDeniedError):
            archive_incident(session, key=KEY, author=actor.username, actor=actor)
    assert get_postmortem(session, key=KEY).archived_at is None


def test_archiving_twice_or_unarchiving_a_live_incident_is_refused(
    session: Session, people: People
) -> None:
    with pytest.raises(InvalidInputError, match="not archived"):
        unarchive_incident(session, key=KEY, author="boss", actor=people.admin)
    archive_incident(session, key=KEY, author="boss", actor=people.admin)
    with pytest.raises(InvalidInputError, match="already archived"):
        archive_incident(session, key=KEY, author="boss", actor=people.admin)


def test_an_archived_incident_is_read_only_until_unarchived(
    session: Session, people: People
) -> None:
    archive_incident(session, key=KEY, author="boss", actor=people.admin)
    with pytest.raises(PermissionDeniedError, match="archived"):
        update_postmortem(
            session,
            key=KEY,
            change=lambda pm: set_field(pm, "title", "New title"),
            author="boss",
            actor=people.admin,
        )


def _rows_per_table(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_deleting_an_incident_removes_everything_it_owns_and_nothing_else(
    session: Session, people: People
) -> None:
    add_comment(session, key=KEY, actor=people.owner, section="impact", body="Looks right")
    for key in (KEY, OTHER):
        import_evidence(
            session,
            key=key,
            kind="git",
            source=Source.open(GIT),
            options=ImportOptions(),
            author="owner",
            actor=people.admin,
        )
    assert list_evidence(session, key=KEY)
    create_token(session, actor=people.owner, name="laptop")
    before = _rows_per_table(session)
    other_before = get_postmortem(session, key=OTHER)

    delete_incident(session, key=KEY, actor=people.admin)

    with pytest.raises(NotFoundError):
        get_postmortem(session, key=KEY)
    after = _rows_per_table(session)
    referencing = {
        fk.parent.table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "incidents"
    }
    for name in referencing:
        column = Base.metadata.tables[name].c.incident_id
        left = session.scalar(
            select(func.count())
            .select_from(Base.metadata.tables[name])
            .where(column.not_in(select(IncidentRow.id)))
        )
        assert left == 0, name
    assert after["incidents"] == before["incidents"] - 1
    assert after["users"] == before["users"] and after["api_tokens"] == before["api_tokens"]
    assert after["factor_categories"] == before["factor_categories"]
    assert after["comments"] == before["comments"] - 1
    assert after["evidence"] == before["evidence"] // 2 > 0
    assert after["evidence_imports"] == before["evidence_imports"] - 1
    assert get_postmortem(session, key=OTHER) == other_before
    assert inspect(session.get_bind()).has_table("incidents")


def test_only_admins_can_delete_an_incident(session: Session, people: People) -> None:
    for actor in (people.owner, people.outsider, people.reader):
        with pytest.raises(PermissionDeniedError, match="only admins"):
            delete_incident(session, key=KEY, actor=actor)
    assert get_postmortem(session, key=KEY).postmortem.key == KEY
    with pytest.raises(NotFoundError):
        delete_incident(session, key="no-such-incident", actor=people.admin)


# -- the CLI ---------------------------------------------------------------------------------


def test_the_cli_archives_lists_archived_unarchives_and_deletes_with_a_confirmation(
    empty_database_url: str,
) -> None:
    cli = Cli(empty_database_url)
    key = _new(cli)
    assert f"Archived {key}" in cli("archive", key).stdout
    assert "No incidents match" in cli("list").stdout
    archived = json.loads(cli("list", "--archived", "--json").stdout)
    assert [item["key"] for item in archived["items"]] == [key]
    assert "Archived" in cli("show", key).stdout
    again = cli("archive", key, ok=False)
    assert again.exit_code == 1 and "already archived" in again.stderr
    assert f"Unarchived {key}" in cli("unarchive", key).stdout
    actions = [r["action"] for r in json.loads(cli("history", key, "--json").stdout)]
    assert actions[-2:] == ["archive", "unarchive"]
    wrong = cli("delete", key, "--confirm", "checkout", ok=False)
    assert wrong.exit_code == 1 and f"--confirm must repeat the key exactly: {key}" in wrong.stderr
    assert cli("delete", key, ok=False).exit_code == 2  # --confirm is required
    assert f"Deleted {key}" in cli("delete", key, "--confirm", key).stdout
    assert "no incident" in cli("show", key, ok=False).stderr


# -- the migration ---------------------------------------------------------------------------


def test_migration_0007_adds_the_archive_columns_to_existing_incidents_and_takes_them_away(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade_database(engine, "0005")
        with engine.begin() as connection:  # a row as 0005 knows it, without the ORM
            connection.execute(
                text(
                    "INSERT INTO incidents (key, title, summary, public_summary, "
                    "report_template, severity, status, review_status, visibility, analysis, "
                    "impact, response, lessons, created_at, updated_at, version) VALUES "
                    "(:key, 'Old', '', '', '', 'SEV3', 'resolved', 'draft', 'internal', "
                    "'{}', '{}', '{}', '[]', :at, :at, 1)"
                ),
                {"key": KEY, "at": NOW.replace(tzinfo=None)},
            )
        upgrade_database(engine, "0007")
        columns = {c["name"] for c in inspect(engine).get_columns("incidents")}
        assert {"archived_at", "archived_by"} <= columns
        indexes = {
            ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("incidents")
        }
        assert indexes["ix_incidents_created_at_id"][-1] == "archived_at"
        with Session(engine) as new:
            assert new.scalar(select(IncidentRow.archived_at)) is None
            assert [i.key for i in list_postmortems(new).items] == [KEY]
        downgrade_database(engine, "0005")
        columns = {c["name"] for c in inspect(engine).get_columns("incidents")}
        assert not {"archived_at", "archived_by"} & columns
        indexes = {
            ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("incidents")
        }
        assert indexes["ix_incidents_created_at_id"] == ["created_at", "id", "visibility"]
        with Session(engine) as old:
            assert old.scalar(text("SELECT key FROM incidents")) == KEY
    finally:
        engine.dispose()
