"""Git history as change events: merges and commits on the deployed branch.

Two inputs give the same events:
- a local repository (a folder with `.git`, or a bare repository): `git log --first-parent`
  of `--branch` (default the checked-out branch; a revision range such as `v1.4..v1.5` or
  `main~20..main` works too) between --since and --until, with the files each commit changed;
- a JSON Lines export, one commit per line: `{sha, parents, author, author_date, committer,
  commit_date, subject, files: [{status, path}]}` (what `hindsight` itself reads from git).

A merge is a deploy in repositories that deploy from their main branch; a commit that touches
a file matching one of the config patterns (`--config '*.yaml'`) is called a config change.
The event time is the commit time: when the change landed on the branch.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Record,
    Source,
)
from hindsight.importers.json_documents import each_document

_FIELD = "\x1f"
_COMMIT = "\x1e"
_FORMAT = _FIELD.join(["%H", "%P", "%an", "%aI", "%cn", "%cI", "%s"])


def commit_evidence(commit: Record, options: ImportOptions, origin: str) -> Evidence | None:
    """The change event for one commit record, or None outside the window."""
    sha = commit.get("sha", str)
    parents = commit.get("parents", list, required=False) or []
    at = commit.time("commit_date", options.tzinfo)
    assert at is not None
    if not options.in_window(at):
        return None
    subject = tidy(
        commit.get("subject", str, required=False) or "(no subject)", limit=300, one_line=True
    )
    files = commit.get("files", list, required=False) or []
    paths = [str(entry.get("path", "")) for entry in files if isinstance(entry, dict)]
    config = [path for path in paths if _is_config(path, options.config_patterns)]
    merge = len(parents) > 1
    what = "Merged" if merge else "Committed"
    text = f"{what} {sha[:9]}: {subject}"
    if config:
        text += f" — config change: {', '.join(config[:5])}" + (" …" if len(config) > 5 else "")
    elif paths:
        text += f" ({len(paths)} file{'s' if len(paths) != 1 else ''})"
    author = tidy(commit.get("author", str, required=False) or "", limit=200, one_line=True)
    return Evidence(
        event=TimelineEvent(
            at=at,
            text=text,
            source="git",
            kind=EventKind.DEPLOY if merge else EventKind.CHANGE,
            actor=author,
            provenance=(provenance(origin, f"{commit.where}, commit {sha[:12]}"),),
        ),
        key=sha,
        subject=subject,
        signal=Signal.CHANGE,
    )


def _is_config(path: str, patterns: tuple[str, ...]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _git_log(root: Path, options: ImportOptions) -> Iterator[dict[str, Any]]:
    command = [
        "git",
        "-C",
        str(root),
        "log",
        "--first-parent",
        "--name-status",
        f"--format={_COMMIT}{_FORMAT}",
    ]
    if options.since:
        command.append(f"--since={options.since.isoformat()}")
    if options.until:
        command.append(f"--until={options.until.isoformat()}")
    command.append(options.branch or "HEAD")
    command.append("--")
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as error:
        raise EvidenceError(str(root), f"cannot run git ({error}); is git installed?") from None
    assert process.stdout is not None
    commit: dict[str, Any] | None = None
    for line in process.stdout:
        line = line.rstrip("\n")
        if line.startswith(_COMMIT):
            if commit:
                yield commit
            sha, parents, author, author_date, committer, commit_date, subject = (
                line[1:].split(_FIELD, 6) + [""] * 7
            )[:7]
            commit = {
                "sha": sha,
                "parents": parents.split(),
                "author": author,
                "author_date": author_date,
                "committer": committer,
                "commit_date": commit_date,
                "subject": subject,
                "files": [],
            }
        elif line and commit is not None:
            status, _, path = line.partition("\t")
            commit["files"].append({"status": status, "path": path.split("\t")[-1]})
    if commit:
        yield commit
    complaint = process.stderr.read().strip() if process.stderr else ""
    if process.wait() != 0:
        raise EvidenceError(str(root), f"git log failed: {complaint[:300]}; check --branch")


def _is_repository(root: Path) -> bool:
    """A working tree (with `.git`) or a bare repository (`HEAD`, `objects/`, `refs/`: a
    mirror on a server, a `git clone --bare`)."""
    if (root / ".git").exists():
        return True
    return (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir()


class GitImporter:
    """Change events from a local repository or a JSON Lines export of its history."""

    kind = "git"
    title = "Git history"
    icon = "🔀"
    accepts = (
        "a local git repository (a working tree or a bare repository) or a JSON Lines export "
        "of commits"
    )

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield one change event per commit in the window."""
        if source.root is not None and _is_repository(source.root):
            for data in _git_log(source.root, options):
                found = commit_evidence(Record(source.name, "git log", data), options, source.name)
                if found:
                    yield found
            return
        for record in each_document(source, progress):
            found = commit_evidence(record, options, record.source)
            if found:
                yield found


IMPORTER = GitImporter()
