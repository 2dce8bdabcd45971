"""Archive, unarchive and delete an incident from its page (the "Archive or delete" panel)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.services.archive import archive_incident, delete_incident, unarchive_incident
from hindsight.services.database import Session
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf
from hindsight.web.routes.pages import postmortem_context

router = APIRouter(dependencies=[Depends(verify_csrf)])


@router.post("/incidents/{key}/archive")
async def archive(
    key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Archive the incident and come back to it (it shows the Archived banner)."""
    archive_incident(session, key=key, author=actor.username, actor=actor)
    return RedirectResponse(f"/incidents/{key}", status_code=303)


@router.post("/incidents/{key}/unarchive")
async def unarchive(
    key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Bring the incident back into the lists."""
    unarchive_incident(session, key=key, author=actor.username, actor=actor)
    return RedirectResponse(f"/incidents/{key}", status_code=303)


@router.post("/incidents/{key}/delete")
async def delete(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Delete the incident for good once its key is typed to confirm; else say so in place."""
    typed = (await form_fields(request)).get("confirm", "").strip()
    if typed != key:
        context = postmortem_context(session, key, actor, request.app.state.settings)
        message = f"Type the incident's key, {key}, to delete it."
        context.update(delete_problem=message, delete_typed=typed)
        return render(request, "postmortem.html", context, status=422)
    delete_incident(session, key=key, actor=actor)
    return RedirectResponse(f"/?deleted={key}", status_code=303)
