"""The full-text index: what is indexed for each incident, and keeping it in step.

Two tables outside the models (they are derived data, so backups leave them out and a restore
rebuilds them): `search_documents`, one row per incident holding the text of every part, one
column per part; and `search_facets`, one row per (incident, facet, value) for facet counts
and filters. Both cascade-delete with their incident. On SQLite an FTS5 table over
`search_documents` (external content, kept in step by triggers) does the matching; on
PostgreSQL a generated, weighted `tsvector` column with a GIN index does.

Each document also holds what search filters on, so a hit is never joined to its wide
`incidents` row (migration 0020): `restricted` and `archived` flags (membership is read live
from `incident_members`), and on SQLite `tokens`, one opaque word per facet value and flag
(`facet_token`), which FTS5 indexes in a column of its own so that visibility and facet
filters are part of the MATCH expression, answered from the index alone. PostgreSQL filters
on the flags in SQL and, since migration 0024, on facet values through a GIN index of
`to_tsvector('simple', tokens)` (storage/search/tokens.py). PostgreSQL also keeps
`head`, a small weighted `tsvector` of the parts that weigh most (title, summary, analysis,
lessons), with a GIN index of its own: search ranks a bounded candidate set drawn first from
the hits that match there (storage/search/).

`reindex_incidents` is called by every write path in the same transaction (create, update,
comment, archive, unarchive); deletes cascade. It reads the incident through plain table
definitions, not the ORM models, so migrations can use it to fill the index for existing
incidents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from hindsight.domain.search import strip_marks
from hindsight.storage.search_words import split_sql

# Parts, in the order of the FTS5 columns, with their weights: FTS5 bm25 column weights and
# PostgreSQL setweight letters (A counts most).
PARTS: tuple[tuple[str, float, str], ...] = (
    ("title", 10.0, "A"),
    ("summary", 4.0, "B"),
    ("analysis", 3.0, "B"),
    ("lessons", 3.0, "B"),
    ("actions", 2.0, "C"),
    ("impact", 2.0, "C"),
    ("response", 2.0, "C"),
    ("timeline", 1.0, "D"),
    ("comments", 1.0, "D"),
)
PART_NAMES = tuple(name for name, _, _ in PARTS)
# The parts a hit is first looked for in when there are too many hits to rank them all.
HEAD_PARTS = ("title", "summary", "analysis", "lessons")
TABLES = ("search_documents", "search_facets", "search_fts")
OPEN_ACTION_STATUSES = ("open", "in_progress")

_meta = sa.MetaData()
# Only so the foreign keys below resolve; never created from here.
sa.Table("incidents", _meta, sa.Column("id", sa.Integer, primary_key=True))


def _incident_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "incidents.id", ondelete="CASCADE", name=f"fk_{table}_incident_id_incidents"
    )


documents = sa.Table(
    "search_documents",
    _meta,
    sa.Column(
        "incident_id",
        sa.Integer,
        _incident_fk("search_documents"),
        primary_key=True,
        autoincrement=False,
    ),
    *(sa.Column(name, sa.Text) for name in PART_NAMES),
    sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("tokens", sa.Text, nullable=False, server_default=""),
)
facets = sa.Table(
    "search_facets",
    _meta,
    sa.Column("incident_id", sa.Integer, _incident_fk("search_facets"), primary_key=True),
    sa.Column("facet", sa.String(20), primary_key=True),
    sa.Column("value", sa.String(200), primary_key=True),
)
_incidents = sa.table(
    "incidents",
    *(
        sa.column(n)
        for n in ("id", "title", "summary", "severity", "status", "review_status", "visibility")
    ),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("archived_at", sa.DateTime(timezone=True)),
    *(sa.column(n, sa.JSON) for n in ("analysis", "impact", "response", "lessons")),
)
_children = {
    "timeline": sa.table(
        "timeline_events",
        sa.column("incident_id"),
        sa.column("text"),
        sa.column("at", sa.DateTime(timezone=True)),
    ),
    "actions": sa.table(
        "action_items", sa.column("incident_id"), sa.column("title"), sa.column("status")
    ),
    "comments": sa.table("comments", sa.column("incident_id"), sa.column("body")),
    "service": sa.table("incident_services", sa.column("incident_id"), sa.column("name")),
    "tag": sa.table("incident_tags", sa.column("incident_id"), sa.column("name")),
    "links": sa.table("incident_links", sa.column("incident_id"), sa.column("other_id")),
}


def facet_token(facet: str, value: str) -> str:
    """The word standing for one facet value (or flag: facet "access") in the `tokens`
    column: hex, so both engines' tokenizers keep it whole, and ending in a digit, so the
    porter stemmer leaves it alone; nothing a person types in the search box reaches that
    column."""
    digest = hashlib.blake2b(f"{facet}\0{value}".encode(), digest_size=8).hexdigest()
    return f"f{digest}0"


RESTRICTED_TOKEN = facet_token("access", "restricted")
ARCHIVED_TOKEN = facet_token("access", "archived")


def document_tokens(restricted: bool, archived: bool, values: Iterable[tuple[str, str]]) -> str:
    """The `tokens` of a document: its flags' words, then a word per facet value, sorted."""
    flags = [RESTRICTED_TOKEN] * restricted + [ARCHIVED_TOKEN] * archived
    return " ".join([*flags, *sorted(facet_token(f, v) for f, v in values)])


def _join(values: Iterable[Any]) -> str:
    return "\n".join(strip_marks(str(v)) for v in values if v)


def _analysis_text(analysis: dict[str, Any]) -> str:
    factors = analysis.get("contributing_factors") or []
    whys = analysis.get("five_whys") or []
    return _join(
        [analysis.get("trigger"), *(analysis.get("root_causes") or [])]
        + [f.get("description") for f in factors]
        + [part for w in whys for part in (w.get("question"), w.get("answer"))]
    )


def _response_text(response: dict[str, Any]) -> str:
    lists = [
        item
        for name in ("went_well", "went_wrong", "got_lucky")
        for item in response.get(name) or []
    ]
    return _join([response.get("detection_notes"), *lists, response.get("communications")])


def _lesson_text(lessons: list[Any]) -> str:
    return _join(item.get("text") if isinstance(item, dict) else item for item in lessons or [])


def _child_rows(
    connection: Connection, ids: Sequence[int], links: bool
) -> dict[str, dict[int, list[Any]]]:
    found: dict[str, dict[int, list[Any]]] = {"links": {}}
    for name, table in _children.items():
        if name == "links" and not links:
            continue
        columns = [c for c in table.c if c.name != "incident_id"]
        query = sa.select(table.c.incident_id, *columns).where(table.c.incident_id.in_(ids))
        per: dict[int, list[Any]] = {}
        for row in connection.execute(query.order_by(table.c.incident_id)):
            per.setdefault(row[0], []).append(row[1:] if len(columns) > 1 else row[1])
        found[name] = per
    return found


def _year(incident: Any, events: list[Any]) -> int:
    """The year the incident happened: its first timeline event's, else when it was written."""
    times = [at for _, at in events if at is not None]
    first: dt.datetime = min(times) if times else incident.created_at
    return first.year


def _facet_rows(incident: Any, children: dict[str, dict[int, list[Any]]]) -> set[tuple[str, str]]:
    actions = children["actions"].get(incident.id, [])
    values = {
        ("severity", incident.severity),
        ("status", incident.status),
        ("review", incident.review_status),
        ("year", str(_year(incident, children["timeline"].get(incident.id, [])))),
        (
            "open_actions",
            "yes" if any(status in OPEN_ACTION_STATUSES for _, status in actions) else "no",
        ),
    }
    if children["links"].get(incident.id):
        # Linked as a recurrence, to any incident: search checks the reader may see the other.
        values.add(("recurring", "yes"))
    values |= {("service", name[:200]) for name in children["service"].get(incident.id, [])}
    values |= {("tag", name[:200]) for name in children["tag"].get(incident.id, [])}
    factors = (incident.analysis or {}).get("contributing_factors") or []
    values |= {("category", str(f.get("category"))[:200]) for f in factors if f.get("category")}
    return values


def _documents(
    connection: Connection, ids: Sequence[int], links: bool
) -> Iterator[tuple[dict[str, Any], set[tuple[str, str]]]]:
    children = _child_rows(connection, ids, links)
    for incident in connection.execute(sa.select(_incidents).where(_incidents.c.id.in_(ids))):
        document = {
            "incident_id": incident.id,
            "title": strip_marks(incident.title),
            "summary": strip_marks(incident.summary or ""),
            "analysis": _analysis_text(incident.analysis or {}),
            "lessons": _lesson_text(incident.lessons or []),
            "actions": _join(title for title, _ in children["actions"].get(incident.id, [])),
            "impact": _join([(incident.impact or {}).get("narrative")]),
            "response": _response_text(incident.response or {}),
            "timeline": _join(text for text, _ in children["timeline"].get(incident.id, [])),
            "comments": _join(children["comments"].get(incident.id, [])),
            "restricted": incident.visibility == "restricted",
            "archived": incident.archived_at is not None,
        }
        values = _facet_rows(incident, children)
        document["tokens"] = document_tokens(document["restricted"], document["archived"], values)
        yield document, values


def reindex_incidents(connection: Connection, ids: Sequence[int], *, links: bool = True) -> None:
    """Make the index hold the incidents `ids` as they are now in this transaction (ids of
    incidents that no longer exist are simply removed). `links=False`: before migration 0011
    there are no recurrence links to read."""
    ids = sorted(set(ids))
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        connection.execute(documents.delete().where(documents.c.incident_id.in_(batch)))
        connection.execute(facets.delete().where(facets.c.incident_id.in_(batch)))
        rows, facet_rows = [], []
        for document, values in _documents(connection, batch, links):
            rows.append(document)
            facet_rows += [
                {"incident_id": document["incident_id"], "facet": f, "value": v}
                for f, v in sorted(values)
            ]
        _insert(connection, documents, rows)
        _insert(connection, facets, facet_rows)


def _insert(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`; on PostgreSQL as one statement over arrays (psycopg runs an executemany
    as a statement per row: filling the index of 1,000 incidents waited on 12,000 of them)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    names = list(rows[0])
    types = {"incident_id": "integer", "restricted": "boolean", "archived": "boolean"}
    arrays = ", ".join(f"CAST(:{name} AS {types.get(name, 'text')}[])" for name in names)
    statement = sa.text(
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    )
    connection.execute(statement, {name: [row[name] for row in rows] for name in names})


def rebuild_search_index(connection: Connection) -> int:
    """Empty the index and fill it from every incident (migration 0010, restore); how many."""
    connection.execute(documents.delete())
    connection.execute(facets.delete())
    ids = [row[0] for row in connection.execute(sa.select(_incidents.c.id).order_by("id"))]
    reindex_incidents(connection, ids, links=sa.inspect(connection).has_table("incident_links"))
    return len(ids)


def weighted_tsvector(parts: Sequence[str] = PART_NAMES, *, split: bool = True) -> str:
    """The SQL of the weighted `tsvector` of `parts`; `split`: hosts, URLs, paths, versions
    as their words (storage/search_words.py, migration 0026)."""
    vectors = []
    for name, _, letter in PARTS:
        if name in parts:
            text = f"coalesce({name}, '')"
            text = split_sql(text) if split else text
            vectors.append(f"setweight(to_tsvector('english'::regconfig, {text}), '{letter}')")
    return " || ".join(vectors)


FTS_COLUMNS = (*PART_NAMES, "tokens")


def _create_fts(connection: Connection, names: Sequence[str]) -> None:
    """SQLite: the FTS5 table over `names` of search_documents, and the triggers that keep it
    in step."""
    columns = ", ".join(names)
    new = ", ".join(f"new.{name}" for name in names)
    old = ", ".join(f"old.{name}" for name in names)
    for statement in (
        f"CREATE VIRTUAL TABLE search_fts USING fts5({columns}, content='search_documents', "
        "content_rowid='incident_id', tokenize='porter unicode61 remove_diacritics 2')",
        "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
        f"INSERT INTO search_fts(rowid, {columns}) VALUES (new.incident_id, {new}); END",
        "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {columns}) "
        f"VALUES ('delete', old.incident_id, {old}); END",
        "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {columns}) "
        f"VALUES ('delete', old.incident_id, {old}); "
        f"INSERT INTO search_fts(rowid, {columns}) VALUES (new.incident_id, {new}); END",
    ):
        connection.execute(sa.text(statement))


def _drop_fts(connection: Connection) -> None:
    for trigger in ("ai", "ad", "au"):
        connection.execute(sa.text(f"DROP TRIGGER IF EXISTS search_documents_{trigger}"))
    connection.execute(sa.text("DROP TABLE IF EXISTS search_fts"))


def _add_head(connection: Connection) -> None:
    """PostgreSQL: the small `tsvector` of the parts that weigh most, and its GIN index; and
    every long value moved out of the row (TOAST), so that counting hits, which visits each
    hit's row for its flags, reads ~250-byte rows rather than 2 kB ones (rows written after
    this; the index is refilled next)."""
    connection.execute(sa.text("ALTER TABLE search_documents SET (toast_tuple_target = 128)"))
    connection.execute(
        sa.text(
            f"ALTER TABLE search_documents ADD COLUMN head tsvector "
            f"GENERATED ALWAYS AS ({weighted_tsvector(HEAD_PARTS)}) STORED"
        )
    )
    connection.execute(
        sa.text("CREATE INDEX ix_search_documents_head ON search_documents USING GIN (head)")
    )


def create_search_index(connection: Connection) -> None:
    """The tables, indexes and (SQLite) triggers of the index, empty."""
    _meta.create_all(connection, tables=[documents, facets])
    for statement in (
        # Facet filters and counts; the first column of each foreign key is indexed too
        # (tests/integration/test_migrations.py checks every foreign key is).
        "CREATE INDEX ix_search_facets_value ON search_facets (facet, value, incident_id)",
        "CREATE INDEX ix_search_facets_incident_id ON search_facets (incident_id)",
        "CREATE INDEX ix_search_documents_incident_id ON search_documents (incident_id)",
    ):
        connection.execute(sa.text(statement))
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text(
                f"ALTER TABLE search_documents ADD COLUMN document tsvector "
                f"GENERATED ALWAYS AS ({weighted_tsvector()}) STORED"
            )
        )
        connection.execute(
            sa.text(
                "CREATE INDEX ix_search_documents_document ON search_documents USING GIN (document)"
            )
        )
        _add_head(connection)
        return
    _create_fts(connection, FTS_COLUMNS)


def drop_search_index(connection: Connection) -> None:
    """Remove everything `create_search_index` made."""
    if connection.dialect.name == "sqlite":
        connection.execute(sa.text("DROP TABLE IF EXISTS search_fts"))
    connection.execute(sa.text("DROP TABLE IF EXISTS search_facets"))
    connection.execute(sa.text("DROP TABLE IF EXISTS search_documents"))
