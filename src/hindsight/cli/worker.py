"""`worker`: run the job queue (deliveries, reminders, digests, renders) beside the web."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import typer
from rich.text import Text

from hindsight.cli.context import console, state
from hindsight.errors import BadUsageError
from hindsight.services.jobs import JobQueue


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadUsageError(
            f"--at: {value!r} is not a date and time; write it like 2026-12-02T09:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def worker(
    ctx: typer.Context,
    threads: int = typer.Option(2, min=1, max=64, help="Jobs run at the same time."),
    periodic: bool = typer.Option(
        True, "--periodic/--no-periodic", help="Schedule the periodic jobs (reminders, digests)."
    ),
) -> None:
    """Run queued jobs until stopped (Ctrl+C); run as many as you like, on any machines."""
    queue = JobQueue(state(ctx).open(), state(ctx).settings)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("huey").setLevel(logging.WARNING)  # not a line per job run
    console.print(f"Hindsight worker: {threads} thread(s), Ctrl+C to stop")
    queue.run_worker(threads=threads, periodic=periodic)


def reminders(
    ctx: typer.Context,
    at: str = typer.Option(
        "", "--at", help="Look as at this UTC time instead of now (e.g. 2026-12-02T09:00Z)."
    ),
) -> None:
    """Queue a run of the periodic jobs now (reminders, digests); a worker sends them."""
    moment = _moment(at) if at else dt.datetime.now(dt.UTC)
    JobQueue(state(ctx).open(), state(ctx).settings).enqueue_periodic(moment)
    console.print(Text(f"Queued the periodic jobs as at {moment.isoformat()}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(worker)
    app.command()(reminders)
