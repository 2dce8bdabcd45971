"""The team's taxonomy of contributing-factor categories."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.text import clean_line, clean_slug
from hindsight.errors import ConflictError, HindsightError
from hindsight.storage.models import FactorCategoryRow


def list_categories(session: Session) -> list[tuple[str, str]]:
    """(name, description) pairs, by name."""
    rows = session.scalars(select(FactorCategoryRow).order_by(FactorCategoryRow.name))
    return [(row.name, row.description) for row in rows]


def add_category(session: Session, *, name: str, description: str = "") -> None:
    """Add a category; its name is a lowercase slug."""
    try:
        name = clean_slug(name, "name", max_length=40)
        description = clean_line(description, "description")
    except ValueError as error:
        raise HindsightError(str(error)) from None
    if session.get(FactorCategoryRow, name) is not None:
        raise ConflictError(f"category '{name}' already exists", 0)
    session.add(FactorCategoryRow(name=name, description=description))
    session.flush()
