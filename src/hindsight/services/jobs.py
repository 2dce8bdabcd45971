"""The job queue: huey (a maintained task queue) on storage in Hindsight's own database, the
jobs it runs, and the periodic work every worker schedules.

Why huey on our database (docs/notifications.md says more): it runs with the embedded SQLite
default and with PostgreSQL and several workers, needs no broker, and its consumer already does
threads, retries, delays and periodic scheduling. procrastinate needs PostgreSQL; huey's own
SQL storage would add peewee and a second PostgreSQL driver.

Periodic work: every worker's scheduler enqueues `tick` each minute, so with N workers it runs
N times a minute. Each periodic job claims its period (a row in `job_runs`, whose primary key
is the job and the period) in the transaction that does its work, so it runs once per period
however many workers there are; a job that fails rolls its claim back and the next tick
tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from huey import Huey, crontab
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hindsight.config import Settings
from hindsight.services.database import Database
from hindsight.services.delivery import attempt_delivery
from hindsight.services.evidence_jobs import run_evidence_job
from hindsight.services.import_jobs import run_archive_job
from hindsight.services.reminders import find_due_reminders, send_weekly_digests, week_of
from hindsight.services.report_jobs import run_report_job
from hindsight.storage.models import DeliveryRow, JobRunRow
from hindsight.storage.queue import DatabaseStorage

log = logging.getLogger("hindsight.jobs")

PeriodicJob = Callable[[Session, Settings, dt.datetime], list[int]]


def _reminders(session: Session, settings: Settings, now: dt.datetime) -> list[int]:
    return find_due_reminders(
        session, now=now, soon_days=settings.remind_due_soon_days, base_url=settings.base_url
    )


def _digests(session: Session, settings: Settings, now: dt.datetime) -> list[int]:
    return send_weekly_digests(session, now=now)


LOST_AFTER = dt.timedelta(minutes=10)


def _lost_deliveries(session: Session, settings: Settings, now: dt.datetime) -> list[int]:
    """Pending deliveries whose try is more than 10 minutes late: their job was lost (a worker
    stopped between committing them and queueing them). Queued again; sending them twice is
    impossible, since a delivery is sent by whoever claims it (services/delivery.py)."""
    late = select(DeliveryRow.id).where(
        DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now - LOST_AFTER
    )
    return list(session.scalars(late.order_by(DeliveryRow.id).limit(1000)))


def every_ten_minutes(now: dt.datetime) -> str:
    """The ten minutes `now` falls in (UTC), e.g. 2026-12-02T14:30."""
    moment = now.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:") + f"{moment.minute // 10 * 10:02d}"


def hourly(now: dt.datetime) -> str:
    """The hour of `now` in UTC, e.g. 2026-12-02T14."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


# name: (the period `now` falls in, the job). Each returns the deliveries it made.
PERIODIC: dict[str, tuple[Callable[[dt.datetime], str], PeriodicJob]] = {
    "reminders": (hourly, _reminders),
    "weekly-digest": (week_of, _digests),
    "lost-deliveries": (every_ten_minutes, _lost_deliveries),
}


def run_periodic(
    database: Database,
    settings: Settings,
    now: dt.datetime,
    jobs: dict[str, tuple[Callable[[dt.datetime], str], PeriodicJob]] | None = None,
) -> tuple[list[str], list[int]]:
    """Run each periodic job whose period at `now` no one has claimed; the names of the jobs
    run here and the deliveries they made.

    Steps per job, in one transaction: insert (job, period) into job_runs — a second worker's
    insert waits for this transaction and then fails on the primary key, or on SQLite waits
    for the write lock and then finds the row — then do the work, then commit both."""
    ran: list[str] = []
    deliveries: list[int] = []
    for name, (period_of, job) in (jobs or PERIODIC).items():
        try:
            with database.transaction() as session:
                session.add(JobRunRow(name=name, period=period_of(now), started_at=now))
                session.flush()
                made = job(session, settings, now)
        except IntegrityError:
            continue  # another worker has this period
        ran.append(name)
        deliveries += made
    return ran, deliveries


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class JobQueue:
    """The queue and its jobs for one database; the web enqueues, `hindsight worker` runs."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.huey = Huey(
            "hindsight",
            results=False,
            utc=True,
            storage_class=DatabaseStorage,
            engine=database.engine,
        )
        self.deliver = self.huey.task(name="deliver")(self._deliver)
        self.periodic_at = self.huey.task(name="periodic_at")(self._periodic_at)
        self.tick = self.huey.periodic_task(crontab(minute="*"), name="tick")(self._tick)
        self.render_report = self.huey.task(name="render_report")(self._render_report)
        self.import_archive = self.huey.task(name="import_archive")(self._import_archive)
        self.import_evidence = self.huey.task(name="import_evidence")(self._import_evidence)

    # Jobs (run in a worker).

    def _deliver(self, delivery_id: int) -> None:
        delay = attempt_delivery(self.database, self.settings, delivery_id, _now())
        if delay is not None:
            log.info("delivery %s failed; next try in %.1f s", delivery_id, delay)
            self.enqueue_delivery(delivery_id, delay=delay)

    def _periodic_at(self, at: str) -> list[str]:
        ran, deliveries = run_periodic(self.database, self.settings, dt.datetime.fromisoformat(at))
        for delivery_id in deliveries:
            self.enqueue_delivery(delivery_id)
        return ran

    def _render_report(self, job_id: int) -> None:
        run_report_job(
            self.database, job_id=job_id, team_dir=self.settings.resolved_templates_dir()
        )

    def _import_archive(self, job_id: int) -> None:
        run_archive_job(self.database, self.settings, job_id=job_id)

    def _import_evidence(self, job_id: int) -> None:
        run_evidence_job(self.database, self.settings, job_id=job_id)

    def _tick(self) -> list[str]:
        return self._periodic_at(_now().isoformat())

    # Enqueueing (from anywhere).

    def enqueue_delivery(self, delivery_id: int, *, delay: float = 0) -> None:
        """Send a delivery from a worker, now or after `delay` seconds."""
        if delay > 0:
            self.deliver.schedule((delivery_id,), delay=delay)
        else:
            self.deliver(delivery_id)

    def enqueue_report(self, job_id: int) -> None:
        """Render a recorded report job (services/report_jobs.py) on a worker."""
        self.render_report(job_id)

    def enqueue_archive_import(self, job_id: int) -> None:
        """Import a recorded archive upload (services/import_jobs.py) on a worker."""
        self.import_archive(job_id)

    def enqueue_evidence_import(self, job_id: int) -> None:
        """Import a recorded evidence upload (services/evidence_jobs.py) on a worker."""
        self.import_evidence(job_id)

    def enqueue_periodic(self, at: dt.datetime) -> None:
        """Have a worker run the periodic jobs as at `at` (what each minute's tick does with
        the time now)."""
        self.periodic_at(at.astimezone(dt.UTC).isoformat())

    def pending(self) -> int:
        """Jobs waiting in the queue or its schedule."""
        return int(self.huey.pending_count() + self.huey.scheduled_count())

    def run_worker(self, *, threads: int = 2, periodic: bool = True) -> None:
        """Run jobs until interrupted (SIGINT or SIGTERM finish the running jobs first)."""
        consumer: Any = self.huey.create_consumer(
            workers=threads,
            worker_type="thread",
            periodic=periodic,
            initial_delay=0.1,
            backoff=1.5,
            max_delay=self.settings.worker_poll_seconds,
            scheduler_interval=1,
        )
        consumer.run()
