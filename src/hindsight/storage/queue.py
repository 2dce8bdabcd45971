"""huey's storage in Hindsight's own database, so the job queue needs nothing beside it: the
embedded SQLite file on a laptop, the one PostgreSQL of a company with several workers.

It follows huey's own SQL storages (huey.storage.SqliteStorage, huey.contrib.sql_huey) on
SQLAlchemy tables made by migration 0015. Taking a job is one transaction that selects the next
row and deletes it: PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED);
SQLite writes one transaction at a time (BEGIN IMMEDIATE, storage/db.py). A job is taken by the
worker whose DELETE removed the row, so no two workers run the same job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from huey.constants import EmptyData
from huey.storage import BaseStorage
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hindsight.storage.db import READ_ONLY
from hindsight.storage.models import QueueScheduleRow, QueueTaskRow, QueueValueRow

_CHUNK = 500


class DatabaseStorage(BaseStorage):  # type: ignore[misc]  # huey ships no type hints
    """huey storage on the `queue_*` tables of the database behind `engine`."""

    blocking = False  # the consumer polls, with backoff
    priority = True

    def __init__(self, name: str = "hindsight", *, engine: Engine, **_: Any) -> None:
        super().__init__(name)
        self.engine = engine
        self.reader = engine.execution_options(**{READ_ONLY: True})
        self.skip_locked = engine.dialect.name == "postgresql"

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A transaction that takes no write lock (idle workers poll often)."""
        with Session(self.reader) as session, session.begin():
            yield session

    def _any(self, query: Any) -> bool:
        with self._reading() as session:
            return session.execute(query.limit(1)).first() is not None

    # The queue.

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        with self._session() as session:
            session.execute(
                insert(QueueTaskRow).values(queue=self.name, data=data, priority=priority or 0)
            )

    def dequeue(self) -> bytes | None:
        query = (
            select(QueueTaskRow.id, QueueTaskRow.data)
            .where(QueueTaskRow.queue == self.name)
            .order_by(QueueTaskRow.priority.desc(), QueueTaskRow.id)
            .limit(1)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        if not self._any(select(QueueTaskRow.id).where(QueueTaskRow.queue == self.name)):
            return None  # a quick look first, as huey's SqliteStorage does
        with self._session() as session:
            row = session.execute(query).first()
            if row is None:
                return None
            taken = session.execute(delete(QueueTaskRow).where(QueueTaskRow.id == row.id))
            return bytes(row.data) if taken.rowcount == 1 else None  # type: ignore[attr-defined]

    def queue_size(self) -> int:
        return self._count(QueueTaskRow.id, QueueTaskRow.queue)

    def enqueued_items(self, limit: int | None = None) -> list[bytes]:
        query = (
            select(QueueTaskRow.data)
            .where(QueueTaskRow.queue == self.name)
            .order_by(QueueTaskRow.priority.desc(), QueueTaskRow.id)
            .limit(limit)
        )
        return self._all(query)

    def flush_queue(self) -> None:
        with self._session() as session:
            session.execute(delete(QueueTaskRow).where(QueueTaskRow.queue == self.name))

    # The schedule (retries, delayed jobs).

    def add_to_schedule(self, data: bytes, ts: dt.datetime) -> None:
        with self._session() as session:
            session.execute(
                insert(QueueScheduleRow).values(queue=self.name, data=data, run_at=ts.timestamp())
            )

    def read_schedule(self, ts: dt.datetime) -> list[bytes]:
        query = (
            select(QueueScheduleRow.id, QueueScheduleRow.data)
            .where(QueueScheduleRow.queue == self.name, QueueScheduleRow.run_at <= ts.timestamp())
            .order_by(QueueScheduleRow.run_at, QueueScheduleRow.id)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        due = (QueueScheduleRow.queue == self.name) & (QueueScheduleRow.run_at <= ts.timestamp())
        if not self._any(select(QueueScheduleRow.id).where(due)):
            return []
        with self._session() as session:
            rows = session.execute(query).all()
            for start in range(0, len(rows), _CHUNK):
                ids = [row.id for row in rows[start : start + _CHUNK]]
                session.execute(delete(QueueScheduleRow).where(QueueScheduleRow.id.in_(ids)))
            return [bytes(row.data) for row in rows]

    def schedule_size(self) -> int:
        return self._count(QueueScheduleRow.id, QueueScheduleRow.queue)

    def scheduled_items(self, limit: int | None = None) -> list[bytes]:
        query = (
            select(QueueScheduleRow.data)
            .where(QueueScheduleRow.queue == self.name)
            .order_by(QueueScheduleRow.run_at)
            .limit(limit)
        )
        return self._all(query)

    def flush_schedule(self) -> None:
        with self._session() as session:
            session.execute(delete(QueueScheduleRow).where(QueueScheduleRow.queue == self.name))

    # Key/value data: results, revocations, locks and counters.

    def _key(self, key: str) -> Any:
        return (QueueValueRow.queue == self.name) & (QueueValueRow.key == key)

    def put_data(self, key: str, value: bytes, is_result: bool = False) -> None:
        with self._session() as session:
            changed = session.execute(
                update(QueueValueRow).where(self._key(key)).values(value=value)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                session.execute(insert(QueueValueRow).values(queue=self.name, key=key, value=value))

    def peek_data(self, key: str) -> Any:
        with self._reading() as session:
            value = session.scalar(select(QueueValueRow.value).where(self._key(key)))
        return EmptyData if value is None else bytes(value)

    def pop_data(self, key: str) -> Any:
        with self._session() as session:
            value = session.scalar(
                select(QueueValueRow.value).where(self._key(key)).with_for_update()
            )
            if value is None:
                return EmptyData
            session.execute(delete(QueueValueRow).where(self._key(key)))
        return bytes(value)

    def has_data_for_key(self, key: str) -> bool:
        return self.peek_data(key) is not EmptyData

    def put_if_empty(self, key: str, value: bytes, ttl: int | None = None) -> bool:
        if ttl is not None:
            raise NotImplementedError("ttl is not supported by this storage")
        try:
            with self._session() as session:
                session.execute(insert(QueueValueRow).values(queue=self.name, key=key, value=value))
        except IntegrityError:  # the key is there: someone else holds the lock
            return False
        return True

    def incr(self, key: str, amount: int = 1) -> int:
        counter = f"counter:{key}"
        with self._session() as session:
            value = session.scalar(
                select(QueueValueRow.value).where(self._key(counter)).with_for_update()
            )
            total = (int(bytes(value)) if value is not None else 0) + amount
            encoded = str(total).encode()
            if value is None:
                session.execute(
                    insert(QueueValueRow).values(queue=self.name, key=counter, value=encoded)
                )
            else:
                session.execute(
                    update(QueueValueRow).where(self._key(counter)).values(value=encoded)
                )
        return total

    def delete_counter(self, key: str) -> None:
        with self._session() as session:
            session.execute(delete(QueueValueRow).where(self._key(f"counter:{key}")))

    def result_store_size(self) -> int:
        return self._count(QueueValueRow.key, QueueValueRow.queue)

    def result_items(self) -> dict[str, bytes]:
        with self._session() as session:
            rows = session.execute(
                select(QueueValueRow.key, QueueValueRow.value).where(
                    QueueValueRow.queue == self.name
                )
            ).all()
        return {row.key: bytes(row.value) for row in rows}

    def flush_results(self) -> None:
        with self._session() as session:
            session.execute(delete(QueueValueRow).where(QueueValueRow.queue == self.name))

    def flush_counters(self) -> None:
        with self._session() as session:
            session.execute(
                delete(QueueValueRow).where(
                    QueueValueRow.queue == self.name, QueueValueRow.key.startswith("counter:")
                )
            )

    # Helpers.

    def _count(self, column: Any, queue: Any) -> int:
        with self._reading() as session:
            return int(session.scalar(select(func.count(column)).where(queue == self.name)) or 0)

    def _all(self, query: Any) -> list[bytes]:
        with self._reading() as session:
            return [bytes(value) for value in session.scalars(query)]
