"""Pages for reading: the incident list, a postmortem, its history, new incident, exports."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from hindsight.analysis.metrics import compute_response_metrics
from hindsight.config import Settings
from hindsight.domain.access import Actor, Role, can_archive, can_delete
from hindsight.domain.codec import InvalidPostmortemError, postmortem_from_dict
from hindsight.domain.incidents import Severity, Visibility
from hindsight.domain.reviews import ReviewDecision
from hindsight.errors import HindsightError, NotFoundError
from hindsight.rendering.charts import timeline_svg
from hindsight.services.accounts import list_users
from hindsight.services.database import Session
from hindsight.services.incidents import (
    SORTS,
    IncidentFilter,
    StoredPostmortem,
    create_postmortem,
    get_postmortem,
    list_postmortems,
    new_key,
)
from hindsight.services.lint import lint_stored
from hindsight.services.reports import (
    ReportFormat,
    build_report,
    choose_template,
    prepare_report,
    report_metrics,
    template_for,
    template_names,
)
from hindsight.services.reviews import list_comments, list_members, list_reviewers
from hindsight.services.similar import find_similar
from hindsight.services.taxonomy import list_categories
from hindsight.services.trackers import configured_trackers
from hindsight.web.deps import (
    PROSE_CONTEXT_KEY,
    SESSION,
    form_fields,
    page_actor,
    prose_html,
    render,
    run_heavy,
    verify_csrf,
)
from hindsight.web.forms import LISTS, SECTIONS, list_items
from hindsight.web.routes.history import undo_offer
from hindsight.web.routes.imports import evidence_context
from hindsight.web.routes.metrics import metrics_context
from hindsight.web.security import EXPORT_POLICY

router = APIRouter()
PAGE_SIZES = (25, 50, 100)
_KEY_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,80}")


MAX_PAGE = 1_000_000


def _page_number(raw: str) -> tuple[int, str]:
    """The page asked for, or page 1 with a note saying why (the list is never an error)."""
    if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
        return int(raw), ""
    return 1, f"page: '{raw[:20]}' is not a page number (1, 2, 3 …); showing the first page"


def _parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HindsightError(f"'{value}' is not a date like 2024-03-05") from None


@router.get("/")
async def incident_list(
    request: Request,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
    severity: list[str] = Query([]),
    status: list[str] = Query([]),
    review: list[str] = Query([]),
    service: str = "",
    tag: str = "",
    q: str = "",
    created_from: str = Query("", alias="from"),
    created_to: str = Query("", alias="to"),
    sort: str = "newest",
    page: str = "1",
    size: str = "50",
    archived: bool = False,
    recurring: bool = False,
    deleted: str = "",
) -> Response:
    """Incidents the viewer may see, filtered, sorted and paginated (`archived`: the archived
    ones instead)."""
    number, error = _page_number(page)
    size_value = int(size) if size.isdigit() else 0
    per_page = size_value if size_value in PAGE_SIZES else 50
    try:
        filters = IncidentFilter(
            severities=severity,
            statuses=status,
            review_statuses=review,
            service=service or None,
            tag=tag or None,
            text=q or None,
            created_from=_parse_date(created_from),
            created_to=_parse_date(created_to),
            archived=archived,
            recurring=recurring,
        )
        result = list_postmortems(
            session,
            filters=filters,
            limit=per_page,
            offset=(number - 1) * per_page,
            actor=actor,
            sort=sort if sort in SORTS else "newest",
        )
    except HindsightError as problem:
        error = str(problem)
        result = list_postmortems(
            session, filters=IncidentFilter(archived=archived), limit=per_page, actor=actor
        )
    pages = max(1, math.ceil(result.total / per_page))
    if number > pages and not error:
        error = f"page {number}: there {'is' if pages == 1 else 'are'} only {pages} page" + (
            "" if pages == 1 else "s"
        )
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "deleted")]

    def page_url(number: int) -> str:
        return "/?" + urlencode([*query, ("page", str(number))])

    unfiltered = ("page", "sort", "size", "archived", "deleted")
    filtered = any(v for k, v in request.query_params.multi_items() if k not in unfiltered)
    return render(
        request,
        "list.html",
        {
            "page": result,
            "number": number,
            "pages": pages,
            "page_url": page_url,
            "filters": request.query_params,
            "sorts": list(SORTS),
            "sizes": PAGE_SIZES,
            "error": error,
            "filtered": filtered,
            "archived": archived,
            # Shown as "Deleted KEY for good": only something shaped like a key, not any text.
            "deleted": deleted if _KEY_SHAPE.fullmatch(deleted) else "",
            "csv_url": "/incidents.csv?" + urlencode(query),
        },
    )


@router.get("/incidents/new")
async def new_incident_form(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    """The form for a new incident."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return render(
        request,
        "new.html",
        {
            "values": {"severity": "SEV3", "date": today},
            "problems": {},
            "severities": list(Severity),
            "visibilities": list(Visibility),
        },
    )


@router.post("/incidents/new", dependencies=[Depends(verify_csrf)])
async def create_incident(
    request: Request, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Create the incident and go to its page."""
    form = await form_fields(request)
    problems: dict[str, str] = {}
    try:
        day = _parse_date(form.get("date")) or dt.datetime.now(dt.UTC).date()
        data: dict[str, Any] = {
            "key": new_key(session, form.get("title") or "incident", day),
            "title": form.get("title", ""),
            "severity": form.get("severity", ""),
            "summary": form.get("summary", ""),
            "visibility": form.get("visibility", "internal"),
            "services": [s.strip() for s in form.get("services", "").splitlines() if s.strip()],
            "tags": [s.strip() for s in form.get("tags", "").splitlines() if s.strip()],
        }
        stored = create_postmortem(
            session, postmortem=postmortem_from_dict(data), author=actor.username, actor=actor
        )
    except InvalidPostmortemError as error:
        problems = {p.field: p.message for p in error.problems}
    except HindsightError as error:
        problems = {"date": str(error)}
    if problems:
        return render(
            request,
            "new.html",
            {
                "values": form,
                "problems": problems,
                "severities": list(Severity),
                "visibilities": list(Visibility),
            },
            status=422,
        )
    return RedirectResponse(f"/incidents/{stored.postmortem.key}", status_code=303)


def _can_edit(stored: StoredPostmortem, actor: Actor, members: list[str]) -> bool:
    """Whether `actor` may edit: not a viewer, allowed to see it, and (an archived incident is
    read-only until it is unarchived) not archived."""
    pm = stored.postmortem
    return (
        actor.role is not Role.VIEWER
        and (pm.visibility == "internal" or actor.username in members or actor.role is Role.ADMIN)
        and stored.archived_at is None
    )


def postmortem_context(
    session: Session, key: str, actor: Actor, settings: Settings
) -> dict[str, Any]:
    """Everything the postmortem page shows."""
    stored = get_postmortem(session, key=key, actor=actor)
    pm = stored.postmortem
    comments: dict[str, list[Any]] = {}
    for comment in list_comments(session, key=key, actor=actor):
        comments.setdefault(comment.section, []).append(comment)
    reviewers = list_reviewers(session, key=key, actor=actor)
    members = list_members(session, key=key, actor=actor)
    is_member = actor.username in members
    locked = pm.review_status == "published"
    can_edit = _can_edit(stored, actor, members)
    return {
        "stored": stored,
        "pm": pm,
        "key": key,
        "metrics": compute_response_metrics(pm),
        "sections": SECTIONS,
        "lists": LISTS,
        "items": {name: list_items(editor, pm) for name, editor in LISTS.items()},
        "comments": comments,
        "reviewers": reviewers,
        "members": members,
        "my_review": next((r for r in reviewers if r.username == actor.username), None),
        "decisions": ReviewDecision,
        "can_edit": can_edit,
        "locked": locked,
        "can_archive": can_archive(actor.role, is_member=is_member),
        "can_delete": can_delete(actor.role),
        "users": [a.username for a, disabled in list_users(session) if not disabled],
        "categories": [name for name, _ in list_categories(session)],
        **evidence_context(session, key, actor, pm),
        **metrics_context(session, key, actor, pm),
        "lint": lint_stored(session, key=key, actor=actor),
        "chart": Markup(timeline_svg(pm)),
        "templates": template_names(settings.resolved_templates_dir()),
        "template": template_for(session, key=key, default=settings.default_template, actor=actor),
        "trackers": configured_trackers(settings),
    }


@router.get("/incidents/{key}/seen-before")
async def seen_before(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """The "Seen before" section on its own: the page loads it after itself, since ranking the
    earlier incidents is the slowest part of the page (bench/similar)."""
    stored = get_postmortem(session, key=key, actor=actor)
    members = list_members(session, key=key, actor=actor)
    context = {"key": key, "pm": stored.postmortem, "can_edit": _can_edit(stored, actor, members)}
    context["similar"] = await run_heavy(partial(find_similar, session, key=key, actor=actor))
    return render(request, "seen_before_page.html", context)


@router.get("/incidents/{key}")
async def postmortem_page(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """The postmortem: all six parts, review, comments."""
    context = postmortem_context(session, key, actor, request.app.state.settings)
    context["undo"] = undo_offer(session, key, actor, request.query_params)
    hosts = request.app.state.settings.allowed_image_hosts
    context[PROSE_CONTEXT_KEY] = await prose_html(_prose_texts(context), hosts)
    return render(request, "postmortem.html", context)


def _prose_texts(context: dict[str, Any]) -> list[str]:
    """The Markdown the page shows: rendered on a worker thread, not on the event loop."""
    pm = context["pm"]
    fields = [
        pm.summary,
        pm.analysis.trigger,
        pm.impact.narrative,
        pm.response.detection_notes,
        pm.response.communications,
    ]
    comments = [c.body for section in context["comments"].values() for c in section]
    return [text for text in (*fields, *comments) if text]


_SUFFIXES = {
    "md": ReportFormat.MARKDOWN,
    "json": ReportFormat.JSON,
    "html": ReportFormat.HTML,
    "pdf": ReportFormat.PDF,
}


@router.get("/incidents/{key}/export.{suffix}")
async def export(
    request: Request,
    key: str,
    suffix: str,
    template: str = "",
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Download the Markdown or JSON form, or the report as HTML or PDF (`?template=`)."""
    if suffix not in _SUFFIXES:
        raise NotFoundError("export as .md, .json, .html or .pdf")
    settings = request.app.state.settings
    fmt = _SUFFIXES[suffix]
    postmortem, chosen = prepare_report(
        session,
        key=key,
        fmt=fmt,
        template=template,
        default_template=settings.default_template,
        actor=actor,
    )
    metrics = report_metrics(session, key=key, actor=actor, postmortem=postmortem)
    # Rendering (a PDF takes up to a second) runs on a worker thread, off the event loop.
    report = await run_heavy(
        build_report, postmortem, fmt, chosen, settings.resolved_templates_dir(), metrics
    )
    disposition = "inline" if fmt is ReportFormat.HTML else "attachment"
    return Response(
        report.content,
        media_type=report.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{report.filename}"',
            "Content-Security-Policy": EXPORT_POLICY,
        },
    )


@router.post("/incidents/{key}/template", dependencies=[Depends(verify_csrf)])
async def choose(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Make a template this postmortem's default for reports."""
    form = await request.form()
    choose_template(
        session,
        key=key,
        template=str(form.get("template", "")),
        team_dir=request.app.state.settings.resolved_templates_dir(),
        actor=actor,
    )
    return RedirectResponse(f"/incidents/{key}#reports", status_code=303)
