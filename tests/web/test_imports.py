"""Evidence on the postmortem page: import dialog with preview, suggestions accepted in bulk,
proposed key moments, and the live Alertmanager hook."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hindsight.importers.base import Importer, ImportOptions, Progress, Source
from hindsight.importers.registry import IMPORTERS
from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.services.evidence import (
    accept_evidence,
    list_evidence,
)
from hindsight.services.imports import (
    create_hook_token,
    import_evidence,
)
from hindsight.services.incidents import get_postmortem, update_postmortem
from tests.factories import make_incident
from tests.web.conftest import Browser

DEMO = "2018-01-18-reddit-hugs-mybinder"
DATA = Path(__file__).parent.parent / "data"
GIT = DATA / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
Make = Callable[[str | None], Browser]


def _demo(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, author="demo")


def _preview(client: Browser, kind: str, path: Path, **fields: str) -> object:
    client.page(f"/incidents/{DEMO}")
    with path.open("rb") as handle:
        return client.post(
            f"/incidents/{DEMO}/evidence/preview",
            data={"csrf_token": client.csrf, "kind": kind, **fields},
            files={"file": (path.name, handle, "application/octet-stream")},
            headers={"HX-Request": "true"},
        )


def test_import_dialog_previews_then_imports_then_accepts_in_bulk(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}")
    assert "Import evidence" in page and 'id="import-dialog"' in page
    preview = _preview(
        owner,
        "git",
        GIT,
        since="2018-01-18T00:00",
        until="2018-01-18T23:59",
        tz="America/Los_Angeles",
    )
    assert preview.status_code == 200  # type: ignore[attr-defined]
    assert "1 new suggested event" in preview.text  # type: ignore[attr-defined]
    assert "19 outside the time window" in preview.text  # type: ignore[attr-defined]
    with app_database.reading() as session:
        assert list_evidence(session, key=DEMO) == []  # a preview writes nothing
    token = preview.text.split('name="upload" value="')[1].split('"')[0]  # type: ignore[attr-defined]
    done = owner.submit(
        f"/incidents/{DEMO}/evidence/import",
        {
            "upload": token,
            "kind": "git",
            "since": "2018-01-18T00:00",
            "until": "2018-01-18T23:59",
            "tz": "America/Los_Angeles",
            "channels": "",
        },
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    page = owner.page(f"/incidents/{DEMO}")
    assert "1 suggested event waiting" in page and "#287 from jupyterhub/staging" in page
    assert "🔀</span> git" in page
    # Provenance names the file the person uploaded, not where the server kept it.
    assert "mybinder.org-deploy.first-parent.2018-01.jsonl#line 4, commit 9a3ac02521f0" in page
    assert "/uploads/" not in page
    accepted = owner.submit(f"/incidents/{DEMO}/evidence/accept", {"all": "1"})
    assert accepted.status_code == 303  # type: ignore[attr-defined]
    with app_database.reading() as session:
        timeline = get_postmortem(session, key=DEMO).postmortem.timeline
        assert any(e.source == "git" and "#287" in e.text for e in timeline)
        assert list_evidence(session, key=DEMO) == []


def test_a_file_of_the_wrong_kind_gets_its_reason_in_the_dialog(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    preview = _preview(owner, "slack", GIT)
    assert preview.status_code == 200  # type: ignore[attr-defined]
    assert 'role="alert"' in preview.text  # type: ignore[attr-defined]
    assert "not a Slack export: there is no channels.json" in preview.text  # type: ignore[attr-defined]


def test_viewers_cannot_import_evidence(browser_for: Make, app_database: Database) -> None:
    _demo(app_database)
    reader = browser_for("reader")
    page = reader.page(f"/incidents/{DEMO}")
    assert 'id="import-dialog"' not in page
    preview = _preview(reader, "git", GIT)
    assert "viewers cannot import evidence" in preview.text  # type: ignore[attr-defined]


def test_proposed_key_moments_are_shown_with_reasons_and_can_be_marked(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    for name in (
        "webhooks-v2_01_incident.trigger.json",
        "webhooks-v2_02_incident.acknowledge.json",
    ):
        preview = _preview(owner, "pagerduty", DATA / "pagerduty" / name)
        token = preview.text.split('name="upload" value="')[1].split('"')[0]  # type: ignore[attr-defined]
        owner.submit(f"/incidents/{DEMO}/evidence/import", {"upload": token, "kind": "pagerduty"})
    page = owner.page(f"/incidents/{DEMO}")
    assert "Proposed key moments" in page
    assert "the first acknowledgement by Laura Haley (pagerduty)" in page


def test_alertmanager_posts_alerts_live_with_the_hook_token(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    with app_database.transaction() as session:
        token = create_hook_token(session, key=DEMO, author="owner")
    client = browser_for(None)
    body = (DATA / "alertmanager" / "prom_post_request_2_alerts.json").read_bytes()
    url = f"/api/v1/hooks/alertmanager/{DEMO}"
    refused = client.post(url, content=body, headers={"Authorization": "Bearer hk_wrong"})
    assert refused.status_code == 403
    accepted = client.post(url, content=body, headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200 and accepted.json()["added"] == 2
    again = client.post(url, content=body, headers={"Authorization": f"Bearer {token}"})
    assert again.json() == {"added": 0, "merged": 0, "skipped": {"already imported": 2}}
    broken = client.post(url, content=b'{"alerts": [', headers={"Authorization": f"Bearer {token}"})
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]


def test_uploads_previewed_but_never_imported_are_removed_a_day_later(
    browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    preview = _preview(owner, "git", GIT)
    token = preview.text.split('name="upload" value="')[1].split('"')[0]  # type: ignore[attr-defined]
    old = tmp_path / "uploads" / token
    assert old.is_dir()
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    _preview(owner, "git", GIT)
    assert not old.exists()


def test_a_proposal_loses_its_mark_button_when_its_event_is_removed_from_the_timeline(
    browser_for: Make, app_database: Database
) -> None:
    key = "2024-03-05-checkout-errors"
    with app_database.transaction() as session:
        make_incident(session, timeline=[])
        for name in (
            "webhooks-v2_01_incident.trigger.json",
            "webhooks-v2_02_incident.acknowledge.json",
        ):
            import_evidence(
                session,
                key=key,
                kind="pagerduty",
                source=Source.open(DATA / "pagerduty" / name),
                options=ImportOptions(),
                author="owner",
            )
        accept_evidence(session, key=key, ids=None, author="owner")
    owner = browser_for("owner")
    assert 'name="moment" value="acknowledged"' in owner.page(f"/incidents/{key}")
    with app_database.transaction() as session:
        update_postmortem(
            session,
            key=key,
            change=lambda pm: dataclasses.replace(
                pm, timeline=tuple(e for e in pm.timeline if not e.text.startswith("Acknowledged"))
            ),
            author="owner",
        )
    page = owner.page(f"/incidents/{key}")
    assert 'name="moment" value="acknowledged"' not in page
    assert 'name="moment" value="detected"' in page


def test_bad_input_to_the_evidence_routes_gives_a_clear_error_not_a_500(
    browser_for: Make, app_database: Database, tmp_path: Path
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")
    huge = str(10**23)
    for url, data in (
        (f"/incidents/{DEMO}/evidence/accept", {"id": huge}),
        (f"/incidents/{DEMO}/evidence/dismiss", {"id": huge}),
        (f"/incidents/{DEMO}/moments", {"moment": "detected", "evidence": huge}),
    ):
        response = owner.submit(url, data)
        assert response.status_code == 404, (url, response.status_code)  # type: ignore[attr-defined]
        assert f"no suggested event with id {huge}" in response.text or (  # type: ignore[attr-defined]
            f"no imported event with id {huge}" in response.text  # type: ignore[attr-defined]
        )
    # An upload named '..' is stored under a safe name and previewed like any other.
    with GIT.open("rb") as handle:
        dots = owner.post(
            f"/incidents/{DEMO}/evidence/preview",
            data={"csrf_token": owner.csrf, "kind": "git"},
            files={"file": ("..", handle, "application/octet-stream")},
            headers={"HX-Request": "true"},
        )
    assert dots.status_code == 200 and "20 new suggested events" in dots.text
    # A zip member with a bad CRC: the reason in the dialog.
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("channels.json", '[{"id": "C1", "name": "ops"}]')
        out.writestr("users.json", "[]")
        out.writestr("ops/2018-01-18.json", b'[{"type": "message", "text": "hi"}]' * 20)
    data = bytearray(archive.read_bytes())
    at = data.index(b"ops/2018-01-18.json") + 30
    data[at : at + 4] = b"\x00\xff\x00\xff"
    archive.write_bytes(bytes(data))
    damaged = _preview(owner, "slack", archive)
    assert damaged.status_code == 200  # type: ignore[attr-defined]
    assert "ops/2018-01-18.json: the archive is damaged" in damaged.text  # type: ignore[attr-defined]


class _HeldImporter:
    """An importer that stops inside its parser until the test lets it go."""

    kind, title, icon, accepts = "git", "held", "⏸", "anything"

    def __init__(self, real: Importer) -> None:
        self.real, self.started, self.release = real, threading.Event(), threading.Event()

    def read(self, source: Source, options: ImportOptions, progress: Progress) -> Iterator[object]:
        self.started.set()
        assert self.release.wait(30), "the test never released the import"
        yield from self.real.read(source, options, progress)


def test_the_server_answers_healthz_while_an_evidence_import_is_parsing(
    browser_for: Make, app_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(app_database)
    held = _HeldImporter(IMPORTERS["git"])
    monkeypatch.setitem(IMPORTERS, "git", held)
    owner = browser_for("owner")
    owner.page(f"/incidents/{DEMO}")
    results: dict[str, object] = {}
    with owner:  # one event loop for every request of this client, as in a real server
        preview = threading.Thread(
            target=lambda: results.update(preview=_preview(owner, "git", GIT))
        )
        preview.start()
        try:
            assert held.started.wait(10), "the import never started"
            health = threading.Thread(target=lambda: results.update(health=owner.get("/healthz")))
            health.start()
            health.join(5)
            answered = not health.is_alive()
        finally:
            held.release.set()
            preview.join(30)
        health.join(30)
    assert answered, "/healthz waited for the import: parsing ran on the event loop"
    assert results["health"].status_code == 200  # type: ignore[attr-defined]
    assert "20 new suggested events" in results["preview"].text  # type: ignore[attr-defined]


def test_the_import_dialog_defaults_to_the_impact_window_and_warns_of_evidence_far_outside_it(
    browser_for: Make, app_database: Database
) -> None:
    _demo(app_database)
    owner = browser_for("owner")
    page = owner.page(f"/incidents/{DEMO}")
    # The demo's key moments run 14:15 to 17:14 UTC; the owner reads times in UTC.
    assert 'name="since" step="1" value="2018-01-18T13:15:00"' in page
    assert 'name="until" step="1" value="2018-01-18T18:14:00"' in page
    assert "the incident&#39;s key moments, an hour either side" in page
    preview = _preview(owner, "git", GIT, since="2018-01-18T13:15:00", until="2018-01-18T18:14:00")
    assert "1 new suggested event" in preview.text  # type: ignore[attr-defined]
    assert 'class="warning" role="alert"' in preview.text  # type: ignore[attr-defined]
    assert (
        "18 events lie more than a day outside the time window (2018-01-02 to 2018-01-30 UTC)"
        in preview.text  # type: ignore[attr-defined]
    )
