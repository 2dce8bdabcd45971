"""Link or dismiss a suggested recurrence from the postmortem's "Seen before" section."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.errors import InvalidInputError
from hindsight.services.database import Session
from hindsight.services.recurrence import (
    dismiss_recurrence,
    link_recurrence,
    unlink_recurrence,
)
from hindsight.web.deps import SESSION, form_fields, page_actor, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])
ACTIONS = {"link": link_recurrence, "dismiss": dismiss_recurrence, "unlink": unlink_recurrence}


@router.post("/incidents/{key}/recurrence")
async def recurrence(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """`action` link, dismiss or unlink with the incident `other`; back to the page."""
    fields = await form_fields(request)
    action = ACTIONS.get(fields.get("action", "link"))
    if action is None:
        raise InvalidInputError(
            f"action: {fields.get('action')!r} is not one of link, dismiss, unlink"
        )
    action(
        session,
        key=key,
        other_key=fields.get("other", "").strip(),
        author=actor.username,
        actor=actor,
    )
    return RedirectResponse(f"/incidents/{key}#seen-before", status_code=303)
