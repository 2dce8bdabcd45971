"""GitHub webhook payloads (and REST objects of the same shape): deployments, deployment
statuses, pushes, releases, commit statuses and workflow runs, as change events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import EvidenceError, ImportOptions, Progress, Record, Source
from hindsight.importers.json_documents import each_document


def _event_name(record: Record) -> str:
    """What an unknown payload seems to be ('a member event'), for the skipped list."""
    data = record.data if isinstance(record.data, dict) else {}
    ignored = {"action", "repository", "sender", "organization", "installation", "enterprise"}
    names = [name for name in data if name not in ignored and isinstance(data[name], dict)]
    return f"a {names[0]} event" if names else "not a GitHub event this importer reads"


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

        handled = self.ci_event(where, data, part, sender)
        if handled is not None:
            yield from handled
        elif "deployment_status" in data:
            yield from self.deployment(part("deployment"), part("deployment_status"), sender)
        elif "deployment" in data:
            yield from self.deployment(part("deployment"), None, sender)
        elif "release" in data:
            yield from self.release(part("release"), where, sender)
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
            raise UnknownPayloadError(
                where.source,
                "not a GitHub payload this importer knows: expected a " + KNOWN_EVENTS,
                record=where.where,
            )

    def release(self, release: Record, where: Record, sender: str) -> Iterator[Evidence]:
        """A release created, published, edited or deleted."""
        action = where.get("action", str, required=False) or "published"
        tag = release.get("tag_name", str)
        field = "published_at" if release.get("published_at", str, required=False) else "created_at"
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

    def ci_event(
        self, where: Record, data: dict[str, Any], part: Callable[[str], Record], sender: str
    ) -> Iterator[Evidence] | None:
        """The events of CI and review (jobs, checks, pull requests, deployment reviews)."""
        if isinstance(data.get("workflow_job"), dict):
            return self.job(part("workflow_job"), where, sender)
        if isinstance(data.get("check_run"), dict):
            return self.check(part("check_run"), where, sender, suite=False)
        if isinstance(data.get("check_suite"), dict):
            return self.check(part("check_suite"), where, sender, suite=True)
        if isinstance(data.get("pull_request"), dict) and "action" in data:
            return self.pull_request(part("pull_request"), where, sender)
        if "reviewers" in data and isinstance(data.get("workflow_run"), dict):
            return self.review(where, sender)
        if isinstance(data.get("workflow_run"), dict):
            return self.workflow(part("workflow_run"), where, sender)
        return None

    def job(self, job: Record, where: Record, sender: str) -> Iterator[Evidence]:
        """A workflow job: one job of a run (queued, waiting, in progress, completed)."""
        name = job.get("name", str, required=False) or "job"
        workflow = job.get("workflow_name", str, required=False) or ""
        status = job.get("status", str, required=False) or ""
        conclusion = job.get("conclusion", str, required=False) or ""
        action = where.get("action", str, required=False) or status
        branch = job.get("head_branch", str, required=False) or ""
        field = "completed_at" if job.get("completed_at", str, required=False) else "started_at"
        if job.get(field, str, required=False) is None:
            field = "created_at"
        label = f"{workflow} / {name}" if workflow else name
        state = conclusion or status or action
        deployment = where.get("deployment", dict, required=False)
        environment = str(deployment.get("environment") or "") if deployment else ""
        deploy = bool(environment) or "deploy" in label.lower()
        text = f"Workflow job '{label}'" + (f" on {branch}" if branch else "") + f": {state}"
        if environment:
            text += f" (deployment to {environment})"
        yield from self.make(
            job,
            field,
            text,
            key=f"workflow_job/{job.get('id', int)}/{action}",
            kind=EventKind.DEPLOY if deploy else EventKind.NOTE,
            signal=Signal.CHANGE if deploy and state == "success" else Signal.NOTE,
            actor=sender,
            subject=label,
        )

    def check(
        self, check: Record, where: Record, sender: str, *, suite: bool
    ) -> Iterator[Evidence]:
        """A check run (one CI check) or a check suite (all checks of one commit)."""
        app = check.get("app", dict, required=False) or {}
        name = check.get("name", str, required=False) or str(app.get("name") or "checks")
        status = check.get("status", str, required=False) or ""
        conclusion = check.get("conclusion", str, required=False) or ""
        action = where.get("action", str, required=False) or status
        sha = check.get("head_sha", str, required=False) or ""
        if suite:
            field = "updated_at" if status == "completed" else "created_at"
        else:
            field = (
                "completed_at" if check.get("completed_at", str, required=False) else "started_at"
            )
        what = "Check suite" if suite else "Check run"
        yield from self.make(
            check,
            field,
            f"{what} '{name}' {action}: {conclusion or status} ({sha[:9]})",
            key=f"{'check_suite' if suite else 'check_run'}/{check.get('id', int)}/{action}",
            kind=EventKind.NOTE,
            signal=Signal.NOTE,
            actor=sender,
            subject=f"check {name}",
        )

    def pull_request(self, pull: Record, where: Record, sender: str) -> Iterator[Evidence]:
        """A pull request: a merge is a change to the base branch; other actions are notes."""
        number = pull.get("number", int)
        title = pull.get("title", str, required=False) or ""
        action = where.get("action", str)
        base = pull.get("base", dict, required=False) or {}
        branch = str(base.get("ref") or "")
        merged = bool(pull.get("merged", bool, required=False)) and action == "closed"
        if merged and pull.get("merged_at", str, required=False):
            merger = _login(pull.get("merged_by", dict, required=False)) or sender
            yield from self.make(
                pull,
                "merged_at",
                f"Merged #{number}" + (f" into {branch}" if branch else "") + f": {title}",
                key=f"pull_request/{number}/merged",
                kind=EventKind.CHANGE,
                signal=Signal.CHANGE,
                actor=merger,
                subject=title,
            )
            return
        verb = "closed without merging" if action == "closed" else action.replace("_", " ")
        field = "closed_at" if action == "closed" else "updated_at"
        if pull.get(field, str, required=False) is None:
            field = "created_at"
        yield from self.make(
            pull,
            field,
            f"Pull request #{number} {verb}: {title}",
            key=f"pull_request/{number}/{action}/{pull.get(field, str)}",
            kind=EventKind.NOTE,
            signal=Signal.NOTE,
            actor=sender,
            subject=title,
        )

    def review(self, where: Record, sender: str) -> Iterator[Evidence]:
        """A deployment review: a deployment waiting for (or given) a reviewer's approval."""
        run = Record(
            where.source, f"{where.where} workflow_run".strip(), where.get("workflow_run", dict)
        )
        name = run.get("name", str, required=False) or "workflow"
        action = where.get("action", str, required=False) or "requested"
        environment = where.get("environment", str, required=False) or ""
        if not environment:
            environments = [
                str(item.get("environment", {}).get("name") or "")
                for item in where.get("workflow_job_runs", list, required=False) or []
                if isinstance(item, dict) and isinstance(item.get("environment"), dict)
            ]
            environment = ", ".join(name for name in environments if name)
        reviewers = []
        for item in where.get("reviewers", list, required=False) or []:
            reviewer = item.get("reviewer") if isinstance(item, dict) else None
            if isinstance(reviewer, dict):
                reviewers.append(_login(reviewer) or str(reviewer.get("slug") or ""))
        field = "since" if where.get("since", str, required=False) else "created_at"
        record = where if field == "since" else run
        text = f"Deployment review {action}" + (f" for {environment}" if environment else "")
        text += f" (workflow '{name}')"
        if reviewers:
            text += f"; reviewers: {', '.join(r for r in reviewers if r)}"
        actor = _login(where.get("requestor", dict, required=False)) or sender
        yield from self.make(
            record,
            field,
            text,
            key=f"deployment_review/{run.get('id', int)}/{environment}/{action}",
            kind=EventKind.DEPLOY,
            signal=Signal.NOTE,
            actor=_login(where.get("approver", dict, required=False)) or actor,
            subject=f"deploy {environment}" if environment else name,
        )


KNOWN_EVENTS = (
    "check_run, check_suite, deployment, deployment_review, deployment_status, pull_request, "
    "push, release, status, workflow_job or workflow_run event"
)


class UnknownPayloadError(EvidenceError):
    """A JSON document that is not one of the GitHub events this importer reads."""


class GitHubImporter:
    """Change events from GitHub webhook payloads."""

    kind = "github"
    title = "GitHub"
    icon = "🐙"
    accepts = (
        "GitHub webhook payloads (check_run, check_suite, deployment, deployment_review, "
        "deployment_status, pull_request, push, release, status, workflow_job, workflow_run); "
        "one per file, an array, or one per line; in a folder, files of other events are "
        "skipped and named"
    )

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the change events of every payload; in a source of several files, a file of
        an event type this importer does not read is skipped and named in the summary."""
        several = len(source.files) > 1
        for record in each_document(source, progress):
            try:
                found = list(_Reader(record.source, options, "").document(record))
            except UnknownPayloadError as error:
                if not several:
                    raise
                options.skip(f"{error.problem.source}: {_event_name(record)}, not read")
                continue
            yield from found


IMPORTER = GitHubImporter()
