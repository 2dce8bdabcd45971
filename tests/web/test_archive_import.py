"""The Import archive page: upload a folder or a zip, preview, import; editors and admins."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from hindsight.domain.access import Actor
from hindsight.domain.incidents import Visibility
from hindsight.services.accounts import list_users
from hindsight.services.archive_import import import_archive
from hindsight.services.archive_sources import ReportInput
from hindsight.services.database import Database
from hindsight.services.incidents import get_postmortem, list_postmortems, update_postmortem
from tests.web.conftest import Browser

ARCHIVE = Path(__file__).parents[1] / "data" / "archive"
UNIVAF = ARCHIVE / "univaf-incidents"


def _folder_upload() -> list[tuple[str, tuple[str, bytes, str]]]:
    """What a browser sends for <input webkitdirectory>: each file with its relative path."""
    files = [
        ("files", (f"univaf-incidents/{p.name}", p.read_bytes(), "text/markdown"))
        for p in sorted(UNIVAF.glob("*.md"))[:3]
    ]
    files.append(("files", ("univaf-incidents/LICENSE", b"Apache", "text/plain")))
    return files


def _preview(client: Browser, files: object, **fields: str) -> str:
    client.page("/archive-import")
    response = client.post(
        "/archive-import/preview",
        data={"csrf_token": client.csrf, **fields},
        files=files,  # type: ignore[arg-type]
    )
    assert response.status_code in (200, 422), response.text[:300]
    return response.text


def test_an_editor_previews_a_folder_then_imports_it_and_unsafe_zips_and_viewers_are_refused(
    browser_for: Callable[[str | None], Browser], app_database: Database
) -> None:
    owner = browser_for("owner")
    assert "webkitdirectory" in owner.page("/archive-import")
    html = _preview(owner, _folder_upload())
    assert "Preview: nothing is written yet" in html
    assert "3 would create" in html
    assert "univaf-incidents/2021-06-03--database-full.md" in html
    assert "action items: 5 lines (62\u201367)" in html
    with app_database.reading() as session:
        assert list_postmortems(session).total == 0
    token = re.search(r'name="upload" value="([^"]+)"', html)
    assert token
    owner.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    done = owner.submit("/archive-import/import", {"upload": token.group(1), "format": "auto"})
    assert done.status_code == 200  # type: ignore[attr-defined]
    assert "3 created" in done.text  # type: ignore[attr-defined]
    assert 'href="/incidents/2021-06-03-database-full"' in done.text  # type: ignore[attr-defined]
    again = _preview(owner, _folder_upload())
    assert "3 would update" in again
    # The same through the API (a script): a dry run, then an import of one more report.
    api = {"x-csrf-token": owner.csrf}
    report = {"name": "univaf-incidents/template.md", "text": (UNIVAF / "template.md").read_text()}
    dry = owner.post(
        "/api/v1/archive-import", json={"reports": [report], "dry_run": True}, headers=api
    )
    assert dry.status_code == 200, dry.text
    [outcome] = dry.json()["outcomes"]
    assert (outcome["outcome"], outcome["key"]) == ("would create", "template")
    assert outcome["lines_by_part"]["timeline"][0] == 11  # "## Timeline"
    made = owner.post("/api/v1/archive-import", json={"reports": [report]}, headers=api).json()
    assert made["counts"]["created"] == 1
    bad = owner.post(
        "/api/v1/archive-import",
        json={"reports": [{"name": "t/x.pdf", "base64": "not base64!"}]},
        headers=api,
    )
    assert bad.status_code == 400 and "not valid base64" in bad.text
    # A zip with a path out of the archive is refused on the page, nothing written.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("team/ok.md", (UNIVAF / "template.md").read_bytes())
        archive.writestr("../../evil.md", b"# evil")
    html = _preview(
        browser_for("boss"), [("files", ("reports.zip", buffer.getvalue(), "application/zip"))]
    )
    assert "points outside the archive" in html and "nothing was imported" in html
    with app_database.reading() as session:
        assert list_postmortems(session).total == 4

    # A viewer may not import.
    reader = browser_for("reader")
    assert reader.get("/archive-import").status_code == 403
    assert "Import archive" not in reader.page("/")


def test_a_report_imported_into_a_restricted_incident_is_not_revealed_to_outsiders(
    browser_for: Callable[[str | None], Browser], app_database: Database
) -> None:
    with app_database.transaction() as session:
        owner: Actor = next(a for a, _ in list_users(session) if a.username == "owner")
        data = (UNIVAF / "2021-06-03--database-full.md").read_bytes()
        [done] = import_archive(
            session,
            [ReportInput("univaf-incidents/2021-06-03--database-full.md", data)],
            author="owner",
            actor=owner,
        )
        update_postmortem(
            session,
            key=done.key,
            author="owner",
            actor=owner,
            change=lambda pm: type(pm)(**{**pm.__dict__, "visibility": Visibility.RESTRICTED}),
        )
    html = _preview(browser_for("outsider"), _folder_upload())
    assert "was imported before into an incident you may not see" in html
    assert "2021-06-03-database-full" not in html.replace("2021-06-03--database-full", "")
    with app_database.reading() as session:
        assert get_postmortem(session, key=done.key).postmortem.visibility is Visibility.RESTRICTED
