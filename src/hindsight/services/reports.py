"""Export a postmortem as a report: Markdown and JSON (the round-trip forms), standalone HTML
and PDF through a template; and remember which template a postmortem is read with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.incidents import Postmortem
from hindsight.errors import InvalidInputError, PermissionDeniedError
from hindsight.rendering.reports import (
    NO_METRICS,
    ReportCandidates,
    ReportMetrics,
    UnknownTemplateError,
    render_pdf,
    standalone_html,
    template_names,
)

__all__ = [
    "Report",
    "ReportFormat",
    "build_report",
    "choose_template",
    "export_report",
    "prepare_report",
    "report_candidates",
    "report_metrics",
    "template_for",
    "template_names",
]
from hindsight.services.candidates import root_cause_candidates, taken_into
from hindsight.services.documents import DocumentFormat as _RoundTrip
from hindsight.services.documents import render_document
from hindsight.services.incidents import get_postmortem, visible_incident_id
from hindsight.services.metrics import list_series, report_for
from hindsight.storage.models import IncidentRow
from hindsight.storage.visibility import where_visible


class ReportFormat(StrEnum):
    """What an export can be."""

    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"
    PDF = "pdf"


_MEDIA = {
    ReportFormat.MARKDOWN: ("text/markdown; charset=utf-8", "md"),
    ReportFormat.JSON: ("application/json", "json"),
    ReportFormat.HTML: ("text/html; charset=utf-8", "html"),
    ReportFormat.PDF: ("application/pdf", "pdf"),
}


@dataclass(frozen=True)
class Report:
    """An exported file: its bytes, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def template_for(session: Session, *, key: str, default: str, actor: Actor | None = None) -> str:
    """The template this postmortem is read with: its own choice, else the team default."""
    query = select(IncidentRow.report_template).where(IncidentRow.key == key)
    chosen = session.scalar(where_visible(query, actor))
    return chosen or default


def choose_template(
    session: Session, *, key: str, template: str, team_dir: Path | None, actor: Actor | None = None
) -> None:
    """Make `template` this postmortem's default ('' goes back to the team default)."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError("viewers cannot change a postmortem's template")
    if template and template not in template_names(team_dir):
        raise InvalidInputError(
            f"template: '{template}' is not one of {', '.join(template_names(team_dir))}"
        )
    row = session.get(IncidentRow, incident_id)
    assert row is not None
    row.report_template = template


def export_report(
    session: Session,
    *,
    key: str,
    fmt: ReportFormat,
    template: str | None,
    team_dir: Path | None,
    default_template: str,
    actor: Actor | None = None,
) -> Report:
    """The postmortem `key` as `fmt`; HTML and PDF use `template` (else its chosen one)."""
    postmortem, chosen = prepare_report(
        session,
        key=key,
        fmt=fmt,
        template=template,
        default_template=default_template,
        actor=actor,
    )
    metrics = report_metrics(session, key=key, actor=actor, postmortem=postmortem)
    return build_report(postmortem, fmt, chosen, team_dir, metrics)


def report_metrics(
    session: Session, *, key: str, actor: Actor | None = None, postmortem: Postmortem
) -> ReportMetrics:
    """What the evidence shows, for a report: the metric series and the impact windows they
    show, and the root-cause candidates (computed now, never stored in the postmortem)."""
    candidates = report_candidates(session, key=key, actor=actor, postmortem=postmortem)
    series = list_series(session, key=key, actor=actor)
    if not series:
        return ReportMetrics(candidates=candidates)
    estimate = report_for(postmortem, series).estimate
    return ReportMetrics(tuple(s.as_series() for s in series), estimate.windows, candidates)


REPORT_CANDIDATES = 5  # a report lists the first five; `hindsight candidates` lists them all


def report_candidates(
    session: Session, *, key: str, actor: Actor | None = None, postmortem: Postmortem
) -> ReportCandidates:
    """The first root-cause candidates for a report, marked when the analysis holds them."""
    found = root_cause_candidates(session, key=key, actor=actor)
    ranked = tuple(found.candidates[:REPORT_CANDIDATES])
    taken = tuple(
        (candidate.ref, what)
        for candidate in ranked
        if (what := taken_into(candidate, postmortem.analysis))
    )
    return ReportCandidates(found.impact_start, found.basis, ranked, taken)


def prepare_report(
    session: Session,
    *,
    key: str,
    fmt: ReportFormat,
    template: str | None,
    default_template: str,
    actor: Actor | None = None,
) -> tuple[Postmortem, str]:
    """What `build_report` needs, read from the database: the postmortem and its template."""
    postmortem = get_postmortem(session, key=key, actor=actor).postmortem
    if fmt in (ReportFormat.MARKDOWN, ReportFormat.JSON) and template:
        raise InvalidInputError(
            "a template applies to html and pdf; Markdown and JSON are the round-trip forms"
        )
    return postmortem, template or template_for(
        session, key=key, default=default_template, actor=actor
    )


def build_report(
    postmortem: Postmortem,
    fmt: ReportFormat,
    template: str,
    team_dir: Path | None,
    metrics: ReportMetrics = NO_METRICS,
) -> Report:
    """Render an already loaded postmortem (no database: safe to run on a worker thread)."""
    media, suffix = _MEDIA[fmt]
    name = f"{postmortem.key}.{suffix}"
    if fmt in (ReportFormat.MARKDOWN, ReportFormat.JSON):
        text = render_document(postmortem, _RoundTrip(fmt.value))
        return Report(text.encode(), media, name)
    try:
        if fmt is ReportFormat.HTML:
            html = standalone_html(postmortem, template, team_dir, metrics)
            return Report(html.encode(), media, name)
        return Report(render_pdf(postmortem, template, team_dir, metrics), media, name)
    except UnknownTemplateError as error:
        raise InvalidInputError(str(error)) from None
