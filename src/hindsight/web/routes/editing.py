"""Editing in place: each section's form and the list editors, with conflict handling.

A form carries the version it was drawn from. Saving applies the change to that version; if
someone saved in between, the form comes back with the person's own input and a clear
message, never silently overwriting either side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import FieldPathError, append_item, remove_item, set_field
from hindsight.domain.identity import index_of
from hindsight.domain.incidents import Postmortem
from hindsight.errors import ConflictError, HindsightError, NotFoundError
from hindsight.services.database import Session
from hindsight.services.incidents import get_postmortem, update_postmortem
from hindsight.services.taxonomy import list_categories
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf
from hindsight.web.forms import (
    LISTS,
    PUBLISHED_ACTION_FIELDS,
    SECTIONS,
    FormError,
    ListEditor,
    item_label,
    list_items,
    section_values,
)

router = APIRouter()


def _done(request: Request, key: str, anchor: str, version: int, removed: str = "") -> Response:
    # The version in the query makes this a new URL, so the browser really reloads the page
    # (a change of #anchor alone would not). `removed` makes the page offer "Undo".
    query = f"v={version}" + (f"&removed={quote(removed)}" if removed else "")
    target = f"/incidents/{key}?{query}#{anchor}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _version(form: Mapping[str, str]) -> int | None:
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _save(
    session: Session,
    key: str,
    actor: Actor,
    form: Mapping[str, str],
    change: Callable[[Postmortem], Postmortem],
) -> tuple[dict[str, str], str, int | None, int, list[tuple[str, str, Any, Any]]]:
    """Try the change; return (field problems, general problem, current version on conflict,
    saved version, conflicting fields as (field, item, yours, theirs)).

    A form drawn from an older version is merged onto the current one per item and field;
    only when someone changed the same field is it a conflict. "Keep mine" (force) then writes
    only this form's fields."""
    try:
        with session.begin_nested():
            stored = update_postmortem(
                session,
                key=key,
                change=change,
                author=actor.username,
                expected_version=_version(form),
                actor=actor,
                force=form.get("force") == "1",
            )
    except ConflictError as error:
        message = (
            f"Someone else changed the same fields while you were editing (it is now "
            f"version {error.current_version}). Your input is kept below: keep yours for "
            "these fields only, or reload to see theirs."
        )
        return {}, message, error.current_version, 0, list(error.conflicts)
    except InvalidPostmortemError as error:
        return (
            {
                p.field.split(".")[-1] if "[" in p.field else p.field: p.message
                for p in error.problems
            },
            "Please fix the fields marked below.",
            None,
            0,
            [],
        )
    except FormError as error:
        return {error.field: str(error)}, "Please fix the fields marked below.", None, 0, []
    except (FieldPathError, HindsightError) as error:
        if isinstance(error, NotFoundError):
            raise
        return {}, str(error), None, 0, []
    return {}, "", None, stored.version, []


def _form_page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    htmx = request.headers.get("hx-request") == "true"
    return render(request, "edit_form.html", context, status=200 if htmx else status)


@router.get("/incidents/{key}/sections/{name}/edit")
async def edit_section(
    request: Request,
    key: str,
    name: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """The form for one section, filled with the current values."""
    section = SECTIONS.get(name)
    if section is None:
        raise NotFoundError(f"no section '{name}'")
    stored = get_postmortem(session, key=key, actor=actor)
    return _form_page(
        request,
        {
            "key": key,
            "title": section.title,
            "fields": section.fields,
            "anchor": f"sec-{name}",
            "values": section_values(section, stored.postmortem),
            "version": stored.version,
            "action": f"/incidents/{key}/sections/{name}",
            "problems": {},
            "message": "",
        },
    )


@router.post("/incidents/{key}/sections/{name}", dependencies=[Depends(verify_csrf)])
async def save_section(
    request: Request,
    key: str,
    name: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Save one section."""
    from hindsight.web.forms import apply_section

    section = SECTIONS.get(name)
    if section is None:
        raise NotFoundError(f"no section '{name}'")
    form = await form_fields(request)
    problems, message, current, saved, conflicts = _save(
        session, key, actor, form, apply_section(section, form)
    )
    if not message:
        return _done(request, key, f"sec-{name}", saved)
    return _form_page(
        request,
        {
            "key": key,
            "title": section.title,
            "fields": section.fields,
            "anchor": f"sec-{name}",
            "values": form,
            "version": _version(form) or current,
            "problems": problems,
            "message": message,
            "conflict": current is not None,
            "conflicts": conflicts,
            "action": f"/incidents/{key}/sections/{name}",
        },
        status=409 if current is not None else 422,
    )


def _editor(name: str) -> ListEditor:
    editor = LISTS.get(name)
    if editor is None:
        raise NotFoundError(f"no list '{name}'")
    return editor


def _list_context(
    session: Session, key: str, editor: ListEditor, actor: Actor, item_id: str | None
) -> dict[str, Any]:
    stored = get_postmortem(session, key=key, actor=actor)
    fields = editor.fields
    if editor.name == "factors":
        categories = tuple(name for name, _ in list_categories(session))
        fields = tuple(
            type(f)(f.path, f.label, f.widget, categories) if f.path == "category" else f
            for f in fields
        )
    published = stored.postmortem.review_status == "published"
    if published and editor.name == "actions":
        # Only the follow-up fields may change once published (domain/access.py).
        fields = tuple(f for f in fields if f.path in PUBLISHED_ACTION_FIELDS)
    values: dict[str, str] = {"zone": actor.timezone, "source": "manual"}
    label = ""
    if item_id is not None:
        items = list_items(editor, stored.postmortem)
        index = index_of(items, item_id)
        if index is None:
            raise NotFoundError(
                f"{editor.title} has no item '{item_id}' (it may have been removed; "
                "see the history to restore it)"
            )
        values = editor.to_form(items[index], actor.timezone)
        label = item_label(editor, items[index])
    target = f"/incidents/{key}/lists/{editor.name}" + (f"/{item_id}" if item_id else "")
    return {
        "key": key,
        "title": editor.title,
        "fields": fields,
        "values": values,
        "version": stored.version,
        "action": target,
        "problems": {},
        "message": "",
        "anchor": f"list-{editor.name}",
        "item_id": item_id,
        "item_label": label,
        "adding": item_id is None,
    }


@router.get("/incidents/{key}/lists/{name}/new")
async def new_item(
    request: Request,
    key: str,
    name: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """The form for a new list item."""
    return _form_page(request, _list_context(session, key, _editor(name), actor, None))


@router.get("/incidents/{key}/lists/{name}/{item_id}/edit")
async def edit_item(
    request: Request,
    key: str,
    name: str,
    item_id: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """The form for one list item (addressed by its id)."""
    return _form_page(request, _list_context(session, key, _editor(name), actor, item_id))


async def _save_item(
    request: Request, session: Session, key: str, name: str, actor: Actor, item_id: str | None
) -> Response:
    editor = _editor(name)
    form = await form_fields(request)

    def change(postmortem: Postmortem) -> Postmortem:
        if item_id is None:
            return append_item(postmortem, editor.path, editor.to_item(form, actor.timezone))
        index = index_of(list_items(editor, postmortem), item_id)
        if index is None:
            raise NotFoundError(f"'{item_id}' is no longer in {editor.title.lower()}")
        # Only the fields the form carried: a published postmortem's form has fewer.
        current = editor.to_form(list_items(editor, postmortem)[index], actor.timezone)
        merged = {**current, **{k: v for k, v in form.items() if k in current}}
        return set_field(
            postmortem, f"{editor.path}.{item_id}", editor.to_item(merged, actor.timezone)
        )

    problems, message, current, saved, conflicts = _save(session, key, actor, form, change)
    if not message:
        return _done(request, key, f"list-{name}", saved)
    context = _list_context(session, key, editor, actor, None)
    if item_id is not None:
        try:
            context = _list_context(session, key, editor, actor, item_id)
        except NotFoundError:
            context["item_id"], context["adding"] = item_id, False
    context.update(
        values=form,
        version=_version(form) if current is not None else (_version(form) or 0),
        problems=problems,
        message=message,
        conflict=current is not None,
        conflicts=conflicts,
        action=f"/incidents/{key}/lists/{name}" + (f"/{item_id}" if item_id else ""),
    )
    return _form_page(request, context, status=409 if current is not None else 422)


@router.post("/incidents/{key}/lists/{name}", dependencies=[Depends(verify_csrf)])
async def add_item(
    request: Request,
    key: str,
    name: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Add an item to a list."""
    return await _save_item(request, session, key, name, actor, None)


@router.post("/incidents/{key}/lists/{name}/{item_id}", dependencies=[Depends(verify_csrf)])
async def change_item(
    request: Request,
    key: str,
    name: str,
    item_id: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Change one list item; a stale form is merged per field (a real conflict is shown)."""
    return await _save_item(request, session, key, name, actor, item_id)


@router.post("/incidents/{key}/lists/{name}/{item_id}/delete", dependencies=[Depends(verify_csrf)])
async def delete_item(
    request: Request,
    key: str,
    name: str,
    item_id: str,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Remove one list item; the page then offers to undo it."""
    editor = _editor(name)
    form = await form_fields(request)
    _problems, message, _, saved, _conflicts = _save(
        session, key, actor, form, lambda pm: remove_item(pm, f"{editor.path}.{item_id}")
    )
    if message:
        raise HindsightError(message)
    return _done(request, key, f"list-{name}", saved, removed=f"{editor.path}.{item_id}")
