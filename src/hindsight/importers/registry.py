"""The one table of importers: add a folder, then a line here (CONTRIBUTING.md has the recipe)."""

from __future__ import annotations

from collections import Counter

import polars as pl

from hindsight.domain.evidence import Evidence
from hindsight.errors import HindsightError
from hindsight.importers import alertmanager, generic, git, github, logs, opsgenie, pagerduty, slack
from hindsight.importers.base import (
    MAX_EVIDENCE,
    EvidenceError,
    Importer,
    ImportOptions,
    Progress,
    Source,
)

IMPORTERS: dict[str, Importer] = {
    importer.kind: importer
    for importer in (
        slack.IMPORTER,
        pagerduty.IMPORTER,
        alertmanager.IMPORTER,
        opsgenie.IMPORTER,
        github.IMPORTER,
        git.IMPORTER,
        logs.IMPORTER,
        generic.IMPORTER,
    )
}


# Kinds that bring series, not events: imported by services/metrics.py into their own table.
SERIES_KINDS = {"metrics": "hindsight metrics import KEY FILE --role ROLE (or metrics query)"}


def importer_for(kind: str) -> Importer:
    """The importer named `kind`, or an error listing the known kinds."""
    if kind in SERIES_KINDS:
        raise EvidenceError(
            kind, f"metric series are not timeline events; import them with `{SERIES_KINDS[kind]}`"
        )
    try:
        return IMPORTERS[kind]
    except KeyError:
        raise EvidenceError(
            kind, f"no importer of that kind; known kinds: {', '.join(sorted(IMPORTERS))}"
        ) from None


def read_all(
    kind: str, source: Source, options: ImportOptions, progress: Progress
) -> list[Evidence]:
    """Everything the `kind` importer finds in the window, or an EvidenceError naming the file
    and the record; never a partial list, never another exception."""
    importer = importer_for(kind)
    found: list[Evidence] = []
    try:
        for evidence in importer.read(source, options, progress):
            if not options.in_window(evidence.event.at):
                continue
            found.append(evidence)
            if len(found) > MAX_EVIDENCE:
                raise EvidenceError(
                    source.name,
                    f"more than {MAX_EVIDENCE:,} events; narrow the import with --since/--until"
                    + (" or --channel" if kind == "slack" else ""),
                )
    except HindsightError:
        raise
    except (
        pl.exceptions.PolarsError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
        RecursionError,
        UnicodeError,
        OSError,
    ) as error:
        # The importers check what they read; this is the net under them, so that input they
        # did not foresee still gets a located message instead of a traceback.
        reason = str(error).split("\n")[0][:300] or type(error).__name__
        raise EvidenceError(source.name, f"could not be read as {kind}: {reason}") from error
    if not found:
        window = ""
        if options.since or options.until:
            window = " in the time window"
        far = options.far.warning()
        raise EvidenceError(
            source.name,
            f"no {kind} events found{window}"
            + _skipped_note(options.skipped)
            + (f"; {far}" if far else ""),
        )
    return found


def _skipped_note(skipped: Counter[str]) -> str:
    if not skipped:
        return ""
    return " (skipped: " + ", ".join(f"{n} {reason}" for reason, n in skipped.items()) + ")"
