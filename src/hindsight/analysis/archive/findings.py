"""An archived report's flags as lint findings (rule 'archive'), so an imported postmortem's
inconsistencies stay in view after the import."""

from __future__ import annotations

from collections.abc import Iterable

from hindsight.analysis.archive.model import Flag
from hindsight.analysis.findings import Finding, Level

# Which part each flag is about (lint groups findings by part).
_PARTS = {
    "moment-order": "timeline",
    "duration": "response",
    "time-tbc": "timeline",
    "bad-date": "timeline",
    "no-date": "timeline",
    "no-zone": "timeline",
    "zone-name": "timeline",
    "time-goes-back": "timeline",
    "stated-utc": "timeline",
    "no-headings": "overview",
    "no-title": "overview",
    "front-matter": "overview",
    "unclosed-fence": "overview",
    "kept-as-note": "overview",
}


def archive_findings(flags: Iterable[Flag], *, source: str = "") -> list[Finding]:
    """One warning per flag, naming the line of the original report."""
    where = f"{source}, line" if source else "line"
    return [
        Finding(
            rule="archive",
            level=Level.WARNING,
            part=_PARTS.get(flag.code, "overview"),
            field=flag.code,
            message=f"archived report ({where} {flag.line}): {flag.message}",
            suggestion=(
                "check the original report; correct the postmortem where the report was wrong, "
                "or keep it as written and say why in the summary"
            ),
        )
        for flag in flags
    ]
