"""Golden tests: every importer on real exports copied into tests/data/<kind>/.

Each file's evidence is written as one line per event (time, kind, signal, actor, text,
provenance) and compared with `tests/importers/golden/<kind>.txt`. After a deliberate change,
regenerate with HINDSIGHT_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

DATA = Path(__file__).parent.parent / "data"
GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "alertmanager": sorted((DATA / "alertmanager").glob("*.json")),
    "pagerduty": sorted((DATA / "pagerduty").glob("*.json")),
    "opsgenie": sorted((DATA / "opsgenie").glob("*.json")),
    "github": sorted((DATA / "github").glob("*.json")),
    "git": sorted((DATA / "git").glob("*.jsonl")),
    "slack": [
        DATA / "slack" / "slack-export-viewer-testarchive",
        DATA / "slack" / "houstondatavis-export",
    ],
    "logs": sorted((DATA / "loghub").glob("*.log")) + sorted((DATA / "logs").glob("*")),
    "generic": sorted((DATA / "generic").glob("*.csv")),
}


def describe(kind: str, path: Path) -> list[str]:
    relative = path.relative_to(DATA).as_posix()
    try:
        # Syslog lines carry no year; a fixed one keeps the golden file stable.
        options = ImportOptions(
            year=2005, zone="America/Los_Angeles" if kind == "generic" else "UTC"
        )
        found = read_all(kind, Source.open(path), options, NoProgress())
    except EvidenceError as error:
        return [f"== {relative}", f"   error: {str(error).replace(str(DATA) + '/', '')}"]
    lines = [f"== {relative}: {len(found)} events"]
    for evidence in found:
        event = evidence.event
        where = "; ".join(str(p) for p in event.provenance).replace(str(DATA) + "/", "")
        text = " ".join(event.text.split())[:140]
        lines.append(
            f"   {event.at.isoformat()} {event.zone} {event.kind.value}/"
            f"{evidence.signal.value} [{event.actor}] {text} <{where}> key={evidence.key[:60]}"
        )
    return lines


@pytest.mark.parametrize("kind", sorted(CASES))
def test_importer_output_matches_the_golden_file(kind: str) -> None:
    assert CASES[kind], f"no test files for {kind}"
    text = "\n".join(line for path in CASES[kind] for line in describe(kind, path)) + "\n"
    golden = GOLDEN / f"{kind}.txt"
    if os.environ.get("HINDSIGHT_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
