"""Editing in place: each section's form and the list editors, with conflict handling.

A form carries the version it was drawn from. Saving applies the change to that version; if
someone saved in between, the form comes back with the person's own input and a clear
message, never silently overwriting either side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hindsight.domain.access import Actor
from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import FieldPathError, append_item, remove_item, set_field
from hindsight.domain.incidents import Postmortem
from hindsight.errors import ConflictError, HindsightError, NotFoundError
from hindsight.services.database import Session
from hindsight.services.incidents import get_postmortem, update_postmortem
from hindsight.services.taxonomy import list_categories
from hindsight.web.deps import SESSION, form_fields, page_actor, render, verify_csrf
from hindsight.web.forms import LISTS, SECTIONS, FormError, ListEditor, list_items, section_values

router = APIRouter()


def _done(request: Request, key: str, anchor: str, version: int) -> Response:
    # The version in the query makes this a new URL, so the browser really reloads the page
    # (a change of #anchor alone would not).
    target = f"/incidents/{key}?v={version}#{anchor}"
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
) -> tuple[dict[str, str], str, int | None, int]:
    """Try the change; return (field problems, general problem, current version on conflict,
    saved version)."""
    try:
        with session.begin_nested():
            stored = update_postmortem(
                session,
                key=key,
                change=change,
                author=actor.username,
                expected_version=_version(form),
                actor=actor,
            )
    except ConflictError as error:
        message = (
            f"Someone else changed this postmortem while you were editing (it is now "
            f"version {error.current_version}). Your input is kept below: reload to see "
            "their change, or save yours over it."
        )
        return {}, message, error.current_version, 0
    except InvalidPostmortemError as error:
        return (
            {
                p.field.split(".")[-1] if "[" in p.field else p.field: p.message
                for p in error.problems
            },
            "Please fix the fields marked below.",
            None,
            0,
        )
    except FormError as error:
        return {error.field: str(error)}, "Please fix the fields marked below.", None, 0
    except (FieldPathError, HindsightError) as error:
        if isinstance(error, NotFoundError):
            raise
        return {}, str(error), None, 0
    return {}, "", None, stored.version


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
    problems, message, current, saved = _save(
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
            "version": current or _version(form),
            "problems": problems,
            "message": message,
            "conflict": current is not None,
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
    session: Session, key: str, editor: ListEditor, actor: Actor, index: int | None
) -> dict[str, Any]:
    stored = get_postmortem(session, key=key, actor=actor)
    fields = editor.fields
    if editor.name == "factors":
        categories = tuple(name for name, _ in list_categories(session))
        fields = tuple(
            type(f)(f.path, f.label, f.widget, categories) if f.path == "category" else f
            for f in fields
        )
    values: dict[str, str] = {"zone": actor.timezone, "source": "manual"}
    if index is not None:
        items = list_items(editor, stored.postmortem)
        if not 0 <= index < len(items):
            raise NotFoundError(f"{editor.title} has no item {index + 1}")
        values = editor.to_form(items[index], actor.timezone)
    target = f"/incidents/{key}/lists/{editor.name}" + (f"/{index}" if index is not None else "")
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
        "index": index,
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


@router.get("/incidents/{key}/lists/{name}/{index}/edit")
async def edit_item(
    request: Request,
    key: str,
    name: str,
    index: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """The form for one list item."""
    return _form_page(request, _list_context(session, key, _editor(name), actor, index))


async def _save_item(
    request: Request, session: Session, key: str, name: str, actor: Actor, index: int | None
) -> Response:
    editor = _editor(name)
    form = await form_fields(request)

    def change(postmortem: Postmortem) -> Postmortem:
        item = editor.to_item(form, actor.timezone)
        if index is None:
            return append_item(postmortem, editor.path, item)
        return set_field(postmortem, f"{editor.path}.{index}", item)

    problems, message, current, saved = _save(session, key, actor, form, change)
    if not message:
        return _done(request, key, f"list-{name}", saved)
    context = _list_context(session, key, editor, actor, None)
    context.update(
        values=form,
        version=current or _version(form),
        problems=problems,
        message=message,
        conflict=current is not None,
        index=index,
        action=f"/incidents/{key}/lists/{name}" + (f"/{index}" if index is not None else ""),
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


@router.post("/incidents/{key}/lists/{name}/{index}", dependencies=[Depends(verify_csrf)])
async def change_item(
    request: Request,
    key: str,
    name: str,
    index: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Change one list item."""
    return await _save_item(request, session, key, name, actor, index)


@router.post("/incidents/{key}/lists/{name}/{index}/delete", dependencies=[Depends(verify_csrf)])
async def delete_item(
    request: Request,
    key: str,
    name: str,
    index: int,
    actor: Actor = Depends(page_actor),
    session: Session = SESSION,
) -> Response:
    """Remove one list item (the form carries the version it was drawn from)."""
    editor = _editor(name)
    form = await form_fields(request)
    _problems, message, _, saved = _save(
        session, key, actor, form, lambda pm: remove_item(pm, f"{editor.path}.{index}")
    )
    if message:
        raise HindsightError(message)
    return _done(request, key, f"list-{name}", saved)
