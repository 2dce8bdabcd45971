"""Export and import: all-or-nothing, create-or-update by key, identical across databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hindsight.errors import DocumentError
from hindsight.services.database import open_database
from hindsight.services.demo import demo_document, load_demo
from hindsight.services.documents import (
    DocumentFormat,
    export_postmortem,
    import_documents,
)
from hindsight.services.incidents import list_postmortems, list_revisions
from tests.factories import make_incident

DEMO_KEY = "2018-01-18-reddit-hugs-mybinder"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_creates_then_updates_then_leaves_unchanged(
    session: Session, tmp_path: Path
) -> None:
    make_incident(session)
    exported = export_postmortem(
        session, key="2024-03-05-checkout-errors", fmt=DocumentFormat.MARKDOWN
    )
    edited = exported.replace("severity: SEV2", "severity: SEV1").replace(
        "key: 2024-03-05-checkout-errors", "key: copy-of-checkout"
    )
    path = _write(tmp_path, "copy.md", edited)
    [created] = import_documents(session, paths=[path], author="git")
    assert (created.key, created.outcome, created.version) == ("copy-of-checkout", "created", 1)
    path.write_text(edited.replace("severity: SEV1", "severity: SEV3"), encoding="utf-8")
    [updated] = import_documents(session, paths=[path], author="git")
    assert (updated.outcome, updated.version) == ("updated", 2)
    [same] = import_documents(session, paths=[path], author="git")
    assert (same.outcome, same.version) == ("unchanged", 2)
    history = list_revisions(session, key="copy-of-checkout")
    assert [(r.action, r.author) for r in history] == [("import", "git"), ("import", "git")]


def test_a_failed_import_writes_nothing(session: Session, tmp_path: Path) -> None:
    good = _write(tmp_path, "good.md", demo_document())
    bad = _write(
        tmp_path,
        "bad.md",
        demo_document()
        .replace("key: 2018", "key: other-2018")
        .replace("severity: SEV2", "severity: SEV9"),
    )
    with pytest.raises(DocumentError) as caught:
        import_documents(session, paths=[good, bad], author="git")
    [problem] = caught.value.problems
    assert (problem.source, problem.field) == (str(bad), "severity")
    assert problem.line == demo_document().split("\n").index("severity: SEV2") + 1
    assert list_postmortems(session).total == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", b"hello", "unknown file type"),
        ("binary.md", b"---\n\xff\xfe\n", "not UTF-8"),
        ("broken.json", b'{"hindsight": 1, "key": ', "not valid JSON"),
        ("list.json", b"[1, 2]", "must be a JSON object"),
        ("missing.md", None, "No such file"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(
    session: Session, tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        import_documents(session, paths=[path], author="git")
    assert list_postmortems(session).total == 0


def test_two_files_with_one_key_are_refused(session: Session, tmp_path: Path) -> None:
    first = _write(tmp_path, "a.md", demo_document())
    second = _write(tmp_path, "b.md", demo_document())
    with pytest.raises(DocumentError, match="also the key of"):
        import_documents(session, paths=[first, second], author="git")


def test_an_unknown_factor_category_is_refused_before_writing(
    session: Session, tmp_path: Path
) -> None:
    path = _write(tmp_path, "demo.md", demo_document().replace("| capacity |", "| weather |"))
    with pytest.raises(DocumentError, match="'weather' is not in the taxonomy"):
        import_documents(session, paths=[path], author="git")
    assert list_postmortems(session).total == 0


def test_the_demo_loads_once_into_an_empty_database(session: Session) -> None:
    stored = load_demo(session, author="demo", if_empty=True)
    assert stored is not None and stored.postmortem.key == DEMO_KEY
    assert len(stored.postmortem.timeline) == 25
    assert load_demo(session, author="demo", if_empty=True) is None


@pytest.mark.parametrize("fmt", list(DocumentFormat))
def test_export_from_sqlite_import_into_postgresql_export_is_identical(
    make_url: Callable[[str], str], tmp_path: Path, fmt: DocumentFormat
) -> None:
    source, target = open_database(make_url("sqlite")), open_database(make_url("postgresql"))
    try:
        with source.transaction() as session:
            load_demo(session, author="demo")
            first = export_postmortem(session, key=DEMO_KEY, fmt=fmt)
        path = _write(tmp_path, f"demo.{'md' if fmt is DocumentFormat.MARKDOWN else 'json'}", first)
        with target.transaction() as session:
            import_documents(session, paths=[path], author="git")
        with target.transaction() as session:
            second = export_postmortem(session, key=DEMO_KEY, fmt=fmt)
        assert second == first
        if fmt is DocumentFormat.MARKDOWN:
            assert first == demo_document()
    finally:
        source.dispose()
        target.dispose()
