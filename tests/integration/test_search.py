"""Full-text search on both databases: ranking, snippets, syntax, facets, pages, visibility,
and the index kept in step with every change (storage/search/, storage/search_index.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import set_field
from hindsight.domain.search import parse_query
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.backup import restore_backup, write_backup
from hindsight.services.database import Database, open_database
from hindsight.services.incidents import create_postmortem, update_postmortem
from hindsight.services.reviews import add_comment
from hindsight.storage.db import downgrade_database, upgrade_database
from hindsight.storage.models import IncidentMemberRow, UserRow
from hindsight.storage.search import search
from tests.factories import T0, make_incident, make_postmortem


def _user(session: Session, name: str, role: Role) -> Actor:
    # A row, not services.accounts.create_user: hashing a password is slow and not the point.
    row = UserRow(
        username=name, display_name=name, password_hash="x", role=role.value, created_at=T0
    )
    session.add(row)
    session.flush()
    return Actor(row.id, name, name, role)


def _find(session: Session, query: str, actor: Actor | None = None, **options: Any) -> list[str]:
    return [hit.key for hit in search(session, parse_query(query), actor=actor, **options).hits]


def _incident(session: Session, key: str, title: str, **overrides: Any) -> int:
    stored = make_incident(session, key=key, title=title, **overrides)
    return int(
        session.scalar(
            text("SELECT id FROM incidents WHERE key = :k"), {"k": stored.postmortem.key}
        )
    )


def test_a_title_match_ranks_above_a_match_deep_in_the_timeline(session: Session) -> None:
    event = {"at": T0.isoformat(), "text": "Someone mentioned the certificate", "kind": "note"}
    _incident(session, "2024-01-01-a", "Database failover", timeline=[event])
    _incident(session, "2024-01-02-b", "Expired certificate took the API down")
    _incident(session, "2024-01-03-c", "Unrelated disk full")
    assert _find(session, "certificate") == ["2024-01-02-b", "2024-01-01-a"]


def test_snippets_say_which_part_matched_and_mark_the_words(session: Session) -> None:
    _incident(
        session,
        "2024-01-01-a",
        "Checkout errors",
        lessons=["Rotate the <b>certificate</b> before it expires"],
    )
    (hit,) = search(session, parse_query("certificates"), actor=None).hits
    (snippet,) = hit.snippets
    assert snippet.part == "lessons"
    assert [s.text for s in snippet.segments if s.match] == ["certificate"]
    # The text as written, on both engines (escaping it is the page's job).
    assert snippet.text.startswith("Rotate the <b>certificate</b>")


def test_phrases_or_and_exclusion(session: Session) -> None:
    _incident(session, "2024-01-01-a", "Walrus storage broke the llama")
    _incident(session, "2024-01-02-b", "Llama storage of a bad walrus")
    _incident(session, "2024-01-03-c", "Quokka outage")
    assert _find(session, '"walrus storage"') == ["2024-01-01-a"]
    assert set(_find(session, "walrus storage")) == {"2024-01-01-a", "2024-01-02-b"}
    assert set(_find(session, "quokka OR broke")) == {"2024-01-01-a", "2024-01-03-c"}
    assert _find(session, 'llama -"walrus storage"') == ["2024-01-02-b"]
    assert _find(session, "llama -bad") == ["2024-01-01-a"]


def test_pages_cover_every_hit_once_and_the_total_counts_them_all(session: Session) -> None:
    for n in range(7):
        _incident(session, f"2024-01-0{n + 1}-x", f"Queue backlog number {n}")
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = search(session, parse_query("backlog"), actor=None, limit=3, offset=offset)
        assert page.total == 7
        seen += [hit.key for hit in page.hits]
    assert len(seen) == len(set(seen)) == 7


def test_facets_count_every_hit_and_filters_narrow_by_them(session: Session) -> None:
    _incident(session, "2024-01-01-a", "Cache stampede", severity="SEV1", tags=["cache"])
    _incident(session, "2024-01-02-b", "Cache eviction storm", services=["search"], tags=[])
    _incident(session, "2024-01-03-c", "Printer on fire", severity="SEV1")
    results = search(session, parse_query("cache"), actor=None, limit=1)
    assert results.total == 2 and len(results.hits) == 1
    assert dict(results.facets["severity"]) == {"SEV1": 1, "SEV2": 1}
    assert dict(results.facets["service"]) == {"checkout": 1, "search": 1}
    assert dict(results.facets["tag"]) == {"cache": 1}
    assert dict(results.facets["category"]) == {"change": 2}
    assert dict(results.facets["open_actions"]) == {"yes": 2}
    assert dict(results.facets["year"]) == {"2024": 2}
    assert _find(session, "cache", filters={"severity": ["SEV1"]}) == ["2024-01-01-a"]
    assert _find(session, "cache", filters={"service": ["search"], "severity": ["SEV1"]}) == []
    both = {"service": ["search", "checkout"]}
    assert set(_find(session, "cache", filters=both)) == {"2024-01-01-a", "2024-01-02-b"}


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    return {
        "owner": _user(session, "owner", Role.EDITOR),
        "outsider": _user(session, "outsider", Role.EDITOR),
        "viewer": _user(session, "viewer", Role.VIEWER),
        "admin": _user(session, "admin", Role.ADMIN),
    }


def test_restricted_incidents_never_show_or_count_for_people_who_may_not_see_them(
    session: Session, people: dict[str, Actor]
) -> None:
    secret = make_postmortem(
        key="2024-02-01-secret",
        title="Payroll leak",
        visibility="restricted",
        tags=["hush"],
        services=["payroll"],
    )
    create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
    _incident(session, "2024-02-02-open", "Payroll batch slow", services=["batch"])
    expected = {
        "owner": {"2024-02-01-secret", "2024-02-02-open"},
        "admin": {"2024-02-01-secret", "2024-02-02-open"},
        "outsider": {"2024-02-02-open"},
        "viewer": {"2024-02-02-open"},
    }
    for name, keys in expected.items():
        results = search(session, parse_query("payroll"), actor=people[name])
        assert {hit.key for hit in results.hits} == keys, name
        assert results.total == len(keys), name
        assert ("hush" in dict(results.facets.get("tag", []))) == (len(keys) == 2), name
        assert sum(n for _, n in results.facets["service"]) == len(keys), name
    assert search(session, parse_query("hush"), actor=people["outsider"]).total == 0


def test_the_index_follows_edits_comments_archive_and_delete(
    session: Session, people: dict[str, Actor]
) -> None:
    key = "2024-03-01-edited"
    _incident(session, key, "Kafka lag")
    update_postmortem(
        session,
        key=key,
        change=lambda pm: set_field(pm, "title", "Zookeeper quorum lost"),
        author="tester",
    )
    assert _find(session, "kafka") == []
    assert _find(session, "zookeeper") == [key]
    add_comment(
        session, key=key, actor=people["admin"], section="overview", body="Seen with flamingo"
    )
    (hit,) = search(session, parse_query("flamingo"), actor=None).hits
    assert hit.snippets[0].part == "comments"
    archive_incident(session, key=key, author="tester")
    assert _find(session, "zookeeper") == []
    assert _find(session, "zookeeper", include_archived=True) == [key]
    assert _find(session, "zookeeper", people["outsider"], include_archived=True) == []
    session.add(IncidentMemberRow(incident_id=hit.incident_id, user_id=people["outsider"].id))
    assert _find(session, "zookeeper", people["outsider"], include_archived=True) == [key]
    unarchive_incident(session, key=key, author="tester")
    assert _find(session, "zookeeper") == [key]
    delete_incident(session, key=key)
    assert _find(session, "zookeeper") == []
    left = session.scalar(text("SELECT count(*) FROM search_documents"))
    assert left == 0
    assert session.scalar(text("SELECT count(*) FROM search_facets")) == 0


def test_a_refused_change_leaves_the_index_as_it_was(session: Session) -> None:
    key = "2024-03-02-refused"
    _incident(session, key, "Redis failover")
    bad_factor = {"category": "no-such-category", "description": "Gremlins"}

    def change(pm: Any) -> Any:
        renamed = set_field(pm, "title", "Gremlins everywhere")
        return set_field(renamed, "analysis.contributing_factors", [bad_factor])

    with pytest.raises(InvalidPostmortemError):
        update_postmortem(session, key=key, change=change, author="tester")
    assert _find(session, "redis") == [key]
    assert _find(session, "gremlins") == []


@pytest.fixture
def filled(fresh_database: Database) -> Iterator[Database]:
    with fresh_database.transaction() as session:
        make_incident(session, key="2024-04-01-kept", title="Terraform drift")
    yield fresh_database


def test_a_failed_transaction_rolls_the_index_back_with_the_incident(filled: Database) -> None:
    key = "2024-04-01-kept"
    with pytest.raises(RuntimeError), filled.transaction() as session:
        change = lambda pm: set_field(pm, "title", "Ansible drift")  # noqa: E731
        update_postmortem(session, key=key, change=change, author="tester")
        assert _find(session, "ansible") == [key]
        raise RuntimeError("the request failed after the save")
    with filled.reading() as session:
        assert _find(session, "terraform") == [key]
        assert _find(session, "ansible") == []


def test_a_restored_backup_is_searchable(
    filled: Database, make_url: Callable[[str], str], backend: str, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    write_backup(filled, archive)
    target = open_database(make_url(backend))
    try:
        restore_backup(target, archive)
        with target.reading() as session:
            assert _find(session, "terraform") == ["2024-04-01-kept"]
    finally:
        target.dispose()


def test_migration_0010_fills_the_index_for_existing_incidents_and_drops_it(
    filled: Database,
) -> None:
    downgrade_database(filled.engine, "0008")
    with filled.reading() as session:
        tables = session.scalar(
            text("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'search%'")
            if filled.engine.dialect.name == "postgresql"
            else text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'search%'")
        )
        assert tables == 0
    upgrade_database(filled.engine)
    with filled.reading() as session:
        assert _find(session, "drift") == ["2024-04-01-kept"]
        assert session.scalar(select(func.count()).select_from(text("search_facets"))) > 0


def test_migration_0024_fills_the_facet_words_and_back_down_empties_them(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        make_incident(session, key="2024-04-02-one", title="Ledger drift", severity="SEV1")
        make_incident(session, key="2024-04-03-two", title="Ledger lag", severity="SEV3")
    engine = fresh_database.engine
    postgres = engine.dialect.name == "postgresql"
    tokens_sql = text("SELECT tokens FROM search_documents ORDER BY incident_id")
    indexes = text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_search_documents_tokens'")
    with fresh_database.reading() as session:
        written = list(session.scalars(tokens_sql))  # as each save wrote them
    assert all(written)
    downgrade_database(engine, "0023")
    with fresh_database.reading() as session:
        assert list(session.scalars(tokens_sql)) == ([""] * 2 if postgres else written)
        assert not postgres or session.scalar(indexes) == 0
    upgrade_database(engine)
    with fresh_database.reading() as session:
        assert list(session.scalars(tokens_sql)) == written
        assert not postgres or session.scalar(indexes) == 1
        assert _find(session, "ledger", filters={"severity": ["SEV1"]}) == ["2024-04-02-one"]
        both = {"severity": ["SEV1", "SEV3"]}
        assert sorted(_find(session, "ledger", filters=both)) == [
            "2024-04-02-one",
            "2024-04-03-two",
        ]
        assert _find(session, "ledger", filters={"severity": ["SEV2"]}) == []


def test_stop_words_or_punctuation_alone_find_nothing_rather_than_fail(session: Session) -> None:
    _incident(session, "2024-01-01-a", "The outage")
    results = search(session, parse_query("zzzzunknownword"), actor=None)
    assert results.total == 0 and results.hits == [] and results.facets == {}


def test_a_year_facet_comes_from_the_timeline_not_from_when_it_was_typed(
    session: Session,
) -> None:
    event = {"at": dt.datetime(2019, 5, 1, tzinfo=dt.UTC).isoformat(), "text": "x", "kind": "note"}
    _incident(session, "2019-05-01-old", "Ancient mainframe outage", timeline=[event])
    results = search(session, parse_query("mainframe"), actor=None)
    assert dict(results.facets["year"]) == {"2019": 1}


def test_past_the_facet_window_facets_count_the_best_hits_and_say_so(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hindsight.storage.search import results

    monkeypatch.setattr(results, "FACET_WINDOW", 2)
    _incident(session, "2024-05-01-a", "Gopher gopher gopher burrow", severity="SEV1")
    _incident(session, "2024-05-02-b", "Gopher gopher burrow", severity="SEV2")
    _incident(
        session, "2024-05-03-c", "Gopher and a long title about other things", severity="SEV3"
    )
    results = search(session, parse_query("gopher"), actor=None, limit=1)
    assert results.total == 3 and results.facets_over == 2
    assert dict(results.facets["severity"]) == {"SEV1": 1, "SEV2": 1}


@pytest.mark.parametrize(
    "text",
    [
        "NEAR(disk full)",
        "title:redis",
        "redis*",
        "^redis",
        "'; DROP TABLE incidents; --",
        "a AND",
        "disk & | ! :* <-> full",
        '"" "disk" ""',
        "ÄÖÜ straße 東京",
    ],
)
def test_engine_syntax_in_the_box_is_only_words_to_both_engines(
    session: Session, text: str
) -> None:
    _incident(session, "2024-06-01-redis", "Redis disk full near straße")
    results = search(session, parse_query(text), actor=None)
    assert results.total in (0, 1)
    assert session.scalar(text_sql("SELECT count(*) FROM incidents")) == 1


def test_past_the_rank_window_head_matches_come_first_and_pages_cover_every_hit_once(
    session: Session, monkeypatch: pytest.MonkeyPatch, people: dict[str, Actor]
) -> None:
    from hindsight.storage.search import postgres, sqlite

    monkeypatch.setattr(sqlite, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "SLICE", 1)
    event = {"at": T0.isoformat(), "text": "A heron walked by", "kind": "note"}
    deep = [
        _incident(session, f"2024-08-0{n}-deep", f"Quiet day {n}", timeline=[event])
        for n in range(1, 4)
    ]
    titled = [_incident(session, f"2024-08-0{n}-head", f"Heron nest {n}") for n in (4, 5)]
    secret = make_postmortem(key="2024-08-06-secret", title="Heron secret", visibility="restricted")
    create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
    first = search(session, parse_query("heron"), actor=people["outsider"], limit=2)
    assert first.total == 5
    assert {hit.incident_id for hit in first.hits} == set(titled)
    seen = [hit.incident_id for hit in first.hits]
    for offset in (2, 4):
        page = search(
            session, parse_query("heron"), actor=people["outsider"], limit=2, offset=offset
        )
        assert page.total == 5
        seen += [hit.incident_id for hit in page.hits]
    assert sorted(seen) == sorted(deep + titled)
    assert search(session, parse_query("heron"), actor=people["owner"]).total == 6


def test_past_the_rank_window_sqlite_ranks_the_newest_hits_postgresql_head_matches_first(
    session: Session, monkeypatch: pytest.MonkeyPatch, people: dict[str, Actor]
) -> None:
    from hindsight.storage.search import postgres, sqlite

    monkeypatch.setattr(sqlite, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "SLICE", 1)
    titled = _incident(session, "2024-07-01-head", "Egret landing")
    event = {"at": T0.isoformat(), "text": "An egret walked by", "kind": "note"}
    deep = [
        _incident(session, f"2024-07-0{n}-deep", f"Quiet day {n}", timeline=[event])
        for n in (2, 3, 4)
    ]
    secret = make_postmortem(key="2024-07-05-secret", title="Egret", visibility="restricted")
    create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
    hidden = session.scalar(text("SELECT id FROM incidents WHERE key = '2024-07-05-secret'"))
    first = search(session, parse_query("egret"), actor=people["outsider"], limit=2)
    ranked = {hit.incident_id for hit in first.hits}
    if session.get_bind().dialect.name == "sqlite":
        # One scan newest first: the newest hits the reader may see are ranked.
        assert ranked == {deep[1], deep[2]}
    else:
        assert ranked == {titled, deep[2]}
    seen = [
        hit.incident_id
        for offset in (0, 2)
        for hit in search(
            session, parse_query("egret"), actor=people["outsider"], limit=2, offset=offset
        ).hits
    ]
    assert first.total == 4 and sorted(seen) == sorted([titled, *deep])
    # A member's restricted hit is one of the hits like any other: the newest, so ranked.
    mine = search(session, parse_query("egret"), actor=people["owner"], limit=5)
    assert mine.total == 5 and hidden in {hit.incident_id for hit in mine.hits[:2]}


def _ranked(session: Session, query: str, actor: Actor | None = None, **options: Any) -> list:
    results = search(session, parse_query(query), actor=actor, **options)
    return [(hit.incident_id, hit.score) for hit in results.hits]


def test_past_the_total_bound_the_total_is_a_lower_bound_and_the_first_pages_are_unchanged(
    session: Session, monkeypatch: pytest.MonkeyPatch, people: dict[str, Actor]
) -> None:
    from hindsight.storage.search import postgres, sqlite

    monkeypatch.setattr(sqlite, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 2)
    event = {"at": T0.isoformat(), "text": "A puffin flew past", "kind": "note"}
    for n in range(1, 4):
        _incident(session, f"2024-09-0{n}-deep", f"Quiet day {n}", timeline=[event])
    for n in range(4, 7):
        _incident(session, f"2024-09-0{n}-head", f"Puffin colony {n}")
    everything = _ranked(session, "puffin", people["outsider"], limit=6, total_bound=100)
    for bound in (1, 2, 4, 6):
        counted = search(
            session, parse_query("puffin"), actor=people["outsider"], limit=2, total_bound=bound
        )
        assert (counted.total, counted.total_is_lower_bound) == (min(bound, 6), bound < 6)
        assert [(h.incident_id, h.score) for h in counted.hits] == everything[: min(bound, 2)]
        pages = [
            _ranked(session, "puffin", people["outsider"], limit=2, offset=o, total_bound=bound)
            for o in (0, 2, 4, 6)
        ]
        # Paged up to the bound, no further, and each page as it was without a bound.
        assert [pair for page in pages for pair in page] == everything[:bound]


def test_a_phrase_past_the_rank_window_ranks_only_phrase_matches_head_matches_first(
    session: Session, monkeypatch: pytest.MonkeyPatch, people: dict[str, Actor]
) -> None:
    from hindsight.storage.search import postgres, sqlite

    monkeypatch.setattr(sqlite, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 2)
    monkeypatch.setattr(postgres, "SLICE", 1)  # the newest candidates looked for in slices
    deep_event = {"at": T0.isoformat(), "text": "the node pool drained", "kind": "note"}
    words_event = {"at": T0.isoformat(), "text": "a pool for every node", "kind": "note"}
    deep = [
        _incident(session, f"2024-10-0{n}-deep", f"Quiet {n}", timeline=[deep_event])
        for n in (1, 2)
    ]
    apart = _incident(session, "2024-10-03-apart", "Pool of one node", timeline=[words_event])
    head = [_incident(session, f"2024-10-0{n}-head", f"Node pool {n} full") for n in (4, 5, 6)]
    excluded = _incident(session, "2024-10-07-head", "Node pool autoscaler full")
    first = search(session, parse_query('"node pool"'), actor=people["outsider"], limit=2)
    assert first.total == 6 and not first.total_is_lower_bound
    assert {hit.incident_id for hit in first.hits} == {head[2], excluded}
    seen = [
        hit.incident_id
        for offset in (0, 2, 4, 6)
        for hit in search(
            session, parse_query('"node pool"'), actor=people["outsider"], limit=2, offset=offset
        ).hits
    ]
    assert sorted(seen) == sorted([*deep, *head, excluded]) and apart not in seen
    without = search(session, parse_query('"node pool" -autoscaler'), actor=None, limit=2)
    assert without.total == 5 and {hit.incident_id for hit in without.hits} == set(head[1:])
