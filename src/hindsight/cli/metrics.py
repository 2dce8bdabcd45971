"""`hindsight metrics …`: import series (a file or a live Prometheus), see the impact they show
with every formula, and accept the computed numbers into the impact part."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.cli.imports import _options, _time
from hindsight.errors import BadUsageError
from hindsight.importers.base import EvidenceError, Source
from hindsight.importers.metrics.prometheus import RangeQuery
from hindsight.services.metrics import (
    ROLES,
    ImpactReport,
    MetricImportSummary,
    accept_impact_numbers,
    delete_series,
    impact_report,
    import_metrics,
    refresh_metric_proposals,
    report_data,
)

metrics_app = typer.Typer(help="Metric series as evidence, and the impact computed from them.")
ROLE_HELP = (
    f"What the series measures: {', '.join(ROLES)} (request series are rates per second; "
    "an availability SLO needs 'total' and 'errors' or 'good', a latency SLO 'latency')."
)


def _summary(summary: MetricImportSummary) -> None:
    for series in summary.series:
        shrunk = (
            f", downsampled from {series.raw_count:,}"
            if series.raw_count > len(series.points)
            else ""
        )
        console.print(
            Text(
                f"stored {series.title} as '{series.role.value}' (id {series.id}): "
                f"{len(series.points):,} points{shrunk}, {series.start:%Y-%m-%d %H:%M} to "
                f"{series.end:%Y-%m-%d %H:%M} UTC"
            )
        )
    if summary.replaced:
        console.print(Text(f"replaced {summary.replaced} earlier series of the same name"))
    if summary.estimate.windows:
        first = summary.estimate.windows[0]
        console.print(
            Text(
                f"impact proposed from {first.start:%Y-%m-%d %H:%M} UTC ({first.basis}); see "
                "`hindsight evidence` and `hindsight metrics impact`"
            )
        )


@metrics_app.command("import")
def import_file(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    path: Path = typer.Argument(..., help="CSV or JSON samples, or a saved Prometheus answer."),
    role: str = typer.Option(..., help=ROLE_HELP),
    name: str = typer.Option("", help="The series' name (default: the file's)."),
    since: str | None = typer.Option(None, help="Only samples at or after this time."),
    until: str | None = typer.Option(None, help="Only samples at or before this time."),
    tz: str = typer.Option("UTC", "--tz", help="Zone of times written without one."),
) -> None:
    """Import a file of metric samples into the incident (replacing a series of that name)."""
    try:
        source = Source.open(path)
    except EvidenceError as error:
        raise BadUsageError(str(error)) from None
    with transaction(ctx) as session:
        summary = import_metrics(
            session,
            key=key,
            role=role,
            name=name,
            source=source,
            options=_options(since, until, tz),
            author=state(ctx).author,
        )
    _summary(summary)


@metrics_app.command("query")
def query(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    url: str = typer.Option(..., help="The Prometheus server, e.g. http://prometheus:9090."),
    promql: str = typer.Option(..., "--query", help="The PromQL expression."),
    start: str = typer.Option(..., help="Start of the range (ISO 8601)."),
    end: str = typer.Option(..., help="End of the range (ISO 8601)."),
    role: str = typer.Option(..., help=ROLE_HELP),
    step: float | None = typer.Option(
        None, help="Seconds between samples (default: about 1,000 points; at most 11,000)."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Zone of --start/--end written without one."),
    token: str = typer.Option(
        "", envvar="HINDSIGHT_PROMETHEUS_TOKEN", help="Bearer token (or the env variable)."
    ),
    user: str = typer.Option("", help="Basic auth user name."),
    password: str = typer.Option(
        "", envvar="HINDSIGHT_PROMETHEUS_PASSWORD", help="Basic auth password (or the env var)."
    ),
) -> None:
    """Run a Prometheus range query and import its series into the incident."""
    begin, finish = _time(start, tz, "--start"), _time(end, tz, "--end")
    assert begin is not None and finish is not None
    if finish <= begin:
        raise BadUsageError("--end must be after --start")
    request = RangeQuery(url, promql, begin, finish, step, token, user, password)
    with transaction(ctx) as session:
        summary = import_metrics(
            session, key=key, role=role, query=request, author=state(ctx).author
        )
    console.print(Text(f"step {summary.step_seconds:g} s"))
    _summary(summary)


def _print_report(report: ImpactReport) -> None:
    for window in report.estimate.windows:
        console.print(
            Text(
                f"impact window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} "
                f"UTC: {window.basis}"
            )
        )
    for note in report.estimate.notes:
        console.print(Text(f"note: {note}"))
    if report.numbers:
        table = Table(box=None, header_style="bold")
        for column in ("Field", "Value", "Formula", "From"):
            table.add_column(column)
        for number in report.numbers:
            table.add_row(number.field, number.shown, Text(number.formula), Text(number.origin))
        console.print(table)
    cost = report.cost
    if cost.total is not None:
        console.print(Text(f"cost: {cost.formula} {cost.currency}".rstrip()))
    console.print(Text(f"responder hours: {cost.responder_hours} ({cost.hours_basis})"))


@metrics_app.command("impact")
def impact(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The impact the series, key moments and participants show, with every formula."""
    with transaction(ctx) as session:
        report = impact_report(session, key=key)
    if as_json:
        typer.echo(json.dumps(report_data(report), indent=2, ensure_ascii=False))
        return
    if not report.series:
        console.print(Text("No metric series yet: `hindsight metrics import` or `… query`."))
    _print_report(report)


@metrics_app.command("accept")
def accept(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    fields: list[str] = typer.Argument(
        None, help="Fields to accept, e.g. downtime_minutes (default: every computed one)."
    ),
) -> None:
    """Copy computed numbers into the impact part, each with where it came from."""
    with transaction(ctx) as session:
        stored, numbers = accept_impact_numbers(
            session, key=key, fields=fields or None, author=state(ctx).author
        )
    for number in numbers:
        console.print(Text(f"{number.field} = {number.shown} ({number.formula})"))
    console.print(Text(f"{key} is now at version {stored.version}"))


@metrics_app.command("propose")
def propose(ctx: typer.Context, key: str = typer.Argument(..., help="Incident key.")) -> None:
    """Propose the impact start and end again from the series (after the SLO changed)."""
    with transaction(ctx) as session:
        estimate = refresh_metric_proposals(session, key=key, author=state(ctx).author)
    if not estimate.windows:
        console.print(Text("the series show no impact window; nothing proposed"))
        return
    console.print(
        Text(
            f"proposed impact {estimate.windows[0].start:%Y-%m-%d %H:%M} to "
            f"{estimate.windows[-1].end:%Y-%m-%d %H:%M} UTC; see `hindsight evidence {key}`"
        )
    )


@metrics_app.command("remove")
def remove(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    series_id: int = typer.Argument(..., help="The series' id (`hindsight metrics impact`)."),
) -> None:
    """Remove a metric series from the incident."""
    with transaction(ctx) as session:
        delete_series(session, key=key, series_id=series_id, author=state(ctx).author)
    console.print(Text(f"removed series {series_id}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(metrics_app, name="metrics")
