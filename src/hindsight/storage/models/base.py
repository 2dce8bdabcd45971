"""The declarative base every table shares, and the foreign keys to incidents and users that
most tables have."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hindsight.storage.coltypes import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same way."""

    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


Base.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def incident_fk() -> Mapped[int]:
    """A row's indexed link to its incident, deleted with it."""
    return mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)


def user_fk() -> Mapped[int]:
    """A row's indexed link to its account, deleted with it."""
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
