"""GitHub webhook payloads (and REST objects of the same shape): deployments, deployment
statuses, pushes, releases, commit statuses and workflow runs, as change events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import ImportOptions, Progress, Record, Source
from hindsight.importers.json_documents import each_document


def _login(value: Any) -> str:
    return str(value.get("login") or value.get("name") or "") if isinstance(value, dict) else ""


class _Reader:
    def __init__(self, origin: str, options: ImportOptions, repository: str) -> None:
        self.origin, self.options, self.repository = origin, options, repository

    def make(
        self,
        where: Record,
        field: str,
        text: str,
        *,
        key: str,
        kind: EventKind,
        signal: Signal,
        actor: str = "",
        subject: str = "",
    ) -> Iterator[Evidence]:
        at = where.time(field, self.options.tzinfo)
        assert at is not None
        if not self.options.in_window(at):
            return
        prefix = f"{self.repository}: " if self.repository else ""
        yield Evidence(
            event=TimelineEvent(
                at=at,
                text=tidy(prefix + text, limit=2000),
                source="github",
                kind=kind,
                actor=tidy(actor, limit=200, one_line=True),
                provenance=(provenance(self.origin, f"{where.where} {key}".strip()),),
            ),
            key=key,
            subject=subject or text[:80],
            signal=signal,
        )

    def deployment(self, where: Record, status: Record | None, sender: str) -> Iterator[Evidence]:
        environment = where.get("environment", str, required=False) or "an environment"
        sha = where.get("sha", str, required=False) or ""
        ref = where.get("ref", str, required=False) or ""
        what = f"{ref} ({sha[:9]})" if ref and sha else ref or sha[:9]
        if status is None:
            yield from self.make(
                where,
                "created_at",
                f"Deployment of {what} to {environment} created",
                key=f"deployment/{where.get('id', int)}",
                kind=EventKind.DEPLOY,
                signal=Signal.CHANGE,
                actor=_login(where.get("creator", dict, required=False)) or sender,
                subject=f"deploy {environment}",
            )
            return
        state = status.get("state", str)
        description = status.get("description", str, required=False)
        text = f"Deployment of {what} to {environment}: {state}" + (
            f" — {description}" if description else ""
        )
        yield from self.make(
            status,
            "created_at",
            text,
            key=f"deployment_status/{status.get('id', int)}",
            kind=EventKind.DEPLOY,
            signal=Signal.CHANGE if state == "success" else Signal.NOTE,
            actor=_login(status.get("creator", dict, required=False)) or sender,
            subject=f"deploy {environment}",
        )

    def push(self, where: Record, sender: str) -> Iterator[Evidence]:
        ref = where.get("ref", str).removeprefix("refs/heads/")
        commits = where.get("commits", list, required=False) or []
        for index, commit in enumerate(commits, start=1):
            record = Record(where.source, f"{where.where} commit {index}".strip(), commit)
            message = (record.get("message", str, required=False) or "").split("\n", 1)[0]
            ident = record.get("id", str)
            author = record.get("author", dict, required=False) or {}
            yield from self.make(
                record,
                "timestamp",
                f"Pushed to {ref}: {ident[:9]} {message}",
                key=ident,
                kind=EventKind.CHANGE,
                signal=Signal.CHANGE,
                actor=str(author.get("name") or author.get("username") or sender),
                subject=message,
            )
        head = where.get("head_commit", dict, required=False)
        if not commits and head:
            record = Record(where.source, f"{where.where} head_commit".strip(), head)
            yield from self.make(
                record,
                "timestamp",
                f"Pushed {ref}",
                key=f"push/{ref}/{record.get('id', str)}",
                kind=EventKind.CHANGE,
                signal=Signal.CHANGE,
                actor=sender,
            )

    def document(self, where: Record) -> Iterator[Evidence]:
        data = where.data
        if not isinstance(data, dict):
            raise where.fail(f"expected a JSON object, found {type(data).__name__}")
        repository = data.get("repository")
        self.repository = (
            str(repository.get("full_name") or "") if isinstance(repository, dict) else ""
        )
        sender = _login(data.get("sender"))

        def part(name: str) -> Record:
            return Record(where.source, f"{where.where} {name}".strip(), where.get(name, dict))

        if "deployment_status" in data:
            yield from self.deployment(part("deployment"), part("deployment_status"), sender)
        elif "deployment" in data:
            yield from self.deployment(part("deployment"), None, sender)
        elif "release" in data:
            release = part("release")
            action = where.get("action", str, required=False) or "published"
            tag = release.get("tag_name", str)
            field = (
                "published_at"
                if release.get("published_at", str, required=False)
                else ("created_at")
            )
            yield from self.make(
                release,
                field,
                f"Release {tag} {action}",
                key=f"release/{release.get('id', int)}/{action}",
                kind=EventKind.DEPLOY,
                signal=Signal.CHANGE,
                actor=sender,
                subject=f"release {tag}",
            )
        elif "workflow_run" in data:
            yield from self.workflow(part("workflow_run"), where, sender)
        elif "commits" in data and "ref" in data:
            yield from self.push(where, sender)
        elif "state" in data and "context" in data and "sha" in data:
            state, context = where.get("state", str), where.get("context", str)
            yield from self.make(
                where,
                "created_at",
                f"Commit status {context}: {state} ({where.get('sha', str)[:9]})",
                key=f"status/{where.get('id', int)}",
                kind=EventKind.NOTE,
                signal=Signal.NOTE,
                actor=sender,
                subject=context,
            )
        elif "environment" in data and "sha" in data:
            yield from self.deployment(where, None, sender)
        else:
            raise where.fail(
                "not a GitHub payload this importer knows: expected a deployment, "
                "deployment_status, push, release, status or workflow_run event"
            )

    def workflow(self, run: Record, where: Record, sender: str) -> Iterator[Evidence]:
        name = (
            run.get("name", str, required=False)
            or run.get("display_title", str, required=False)
            or "workflow"
        )
        status = run.get("status", str, required=False) or ""
        conclusion = run.get("conclusion", str, required=False) or ""
        branch = run.get("head_branch", str, required=False) or ""
        action = where.get("action", str, required=False) or status
        deploy = "deploy" in (name + (run.get("path", str, required=False) or "")).lower()
        field = "updated_at" if status == "completed" else "run_started_at"
        if run.get(field, str, required=False) is None:
            field = "created_at"
        state = conclusion or status or action
        text = (
            f"Workflow '{name}' on {branch}: {state}" if branch else f"Workflow '{name}': {state}"
        )
        if "reviewers" in where.data:
            text = f"Deployment review {action} for workflow '{name}'"
        yield from self.make(
            run,
            field,
            text,
            key=f"workflow_run/{run.get('id', int)}/{action}",
            kind=EventKind.DEPLOY if deploy else EventKind.NOTE,
            signal=Signal.CHANGE if deploy and state == "success" else Signal.NOTE,
            actor=_login(run.get("actor", dict, required=False)) or sender,
            subject=name,
        )


class GitHubImporter:
    """Change events from GitHub webhook payloads."""

    kind = "github"
    title = "GitHub"
    icon = "🐙"
    accepts = (
        "GitHub webhook payloads (deployment, deployment_status, push, release, status, "
        "workflow_run); one per file, an array, or one per line"
    )

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the change events of every payload."""
        for record in each_document(source, progress):
            yield from _Reader(record.source, options, "").document(record)


IMPORTER = GitHubImporter()
