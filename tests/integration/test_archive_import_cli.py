"""`hindsight import-archive` end to end on both databases, through Typer's runner."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from tests.integration.test_cli import Cli

ARCHIVE = Path(__file__).parents[1] / "data" / "archive"


def test_import_archive_dry_run_then_import_then_reimport(
    empty_database_url: str, tmp_path: Path
) -> None:
    cli = Cli(empty_database_url)
    folder = tmp_path / "moj-cloud-platform-incidents"
    shutil.copytree(ARCHIVE / "moj-cloud-platform-incidents", folder)
    report = "moj-cloud-platform-incidents/2021-09-04-pingdom-check-prometheus-down.md"
    dry = cli("import-archive", str(folder), "--dry-run", "--zone", "Europe/London")
    assert f"{report}: would create 2021-09-04-pingdom-check-prometheus-down" in dry.stdout
    assert "  timeline: lines 8-12" in dry.stdout
    assert "flag line 10 [moment-order]: 'repaired/mitigated'" in dry.stdout
    assert (
        "dry run, nothing written: 0 created, 0 updated, 23 would create, 0 refused" in dry.stdout
    )
    assert "no incidents" in cli("list").stdout.lower() or cli("list").stdout.count("\n") <= 2
    done = cli("import-archive", str(folder), "--zone", "Europe/London")
    assert done.stdout.rstrip().endswith("23 created, 0 updated, 0 refused")
    (folder / "2020-02-12.md").write_text(
        (folder / "2020-02-12.md").read_text(encoding="utf-8").replace("Pingdom", "Pingdom check")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(folder / "2020-02-12.md", "moj-cloud-platform-incidents/2020-02-12.md")
    (tmp_path / "again.zip").write_bytes(buffer.getvalue())
    again = cli("import-archive", str(tmp_path / "again.zip"), "--zone", "Europe/London")
    assert "moj-cloud-platform-incidents/2020-02-12.md: updated 2020-02-12" in again.stdout
    assert again.stdout.rstrip().endswith("0 created, 1 updated, 0 refused")
    shown = cli("show", "2021-09-04-pingdom-check-prometheus-down").stdout
    assert "Incident on 2021-09-04" in shown


def test_import_archive_refuses_bad_input_with_reasons(
    empty_database_url: str, tmp_path: Path
) -> None:
    cli = Cli(empty_database_url)
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "empty.md").write_bytes(b"")
    (tmp_path / "team" / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    refused = cli("import-archive", str(tmp_path / "team"), ok=False)
    assert refused.exit_code == 1
    assert "team/empty.md: refused: is empty" in refused.stdout
    assert "team/image.md: refused: line 1: is not UTF-8 text" in refused.stdout
    assert "every report was refused; nothing was imported" in refused.stderr
    missing = cli("import-archive", str(tmp_path / "nowhere"), ok=False)
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
