"""Alembic environment: migrations run on the connection Hindsight passes in."""

from __future__ import annotations

from alembic import context

from hindsight.storage.db import make_engine
from hindsight.storage.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    # Running the alembic command directly (for autogenerate during development).
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///dev-migrations.db"
    with make_engine(url).begin() as fresh:
        context.configure(connection=fresh, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
