"""`candidates`: the ranked root-cause candidates of an incident, and taking one into the
analysis as its trigger or a contributing factor."""

from __future__ import annotations

import json

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.errors import BadUsageError
from hindsight.services.candidates import accept_candidate, report_json, root_cause_candidates


def candidates_command(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    accept: str = typer.Option(
        "", "--accept", help="Take this candidate (its ref, e.g. evidence:12) into the analysis."
    ),
    as_: str = typer.Option(
        "factor", "--as", help="With --accept: 'trigger' or 'factor' (a contributing factor)."
    ),
    category: str = typer.Option(
        "", help="With --accept --as factor: the factor's category (default from its kind)."
    ),
) -> None:
    """Rank the evidence's likeliest triggers, each with its explained score."""
    if accept:
        if as_ not in ("trigger", "factor"):
            raise BadUsageError(f"--as must be 'trigger' or 'factor', not {as_!r}")
        with transaction(ctx) as session:
            stored = accept_candidate(
                session, key=key, ref=accept, as_=as_, author=state(ctx).author, category=category
            )
        what = "the trigger" if as_ == "trigger" else "a contributing factor"
        console.print(Text(f"{accept} is now {what} of {key} (version {stored.version})"))
        return
    with transaction(ctx) as session:
        report = root_cause_candidates(session, key=key)
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
        return
    if report.impact_start is None:
        console.print(Text(f"No candidates: {report.basis}."))
        return
    console.print(
        Text(f"Impact started {report.impact_start:%Y-%m-%d %H:%M:%S} UTC ({report.basis}).")
    )
    if not report.candidates:
        console.print(Text("No change, new log pattern, alert or capacity signal around it."))
        return
    table = Table(box=None, header_style="bold")
    for column in ("#", "Ref", "Score", "Kind", "Time (UTC)", "Event", "Why"):
        table.add_column(column)
    for rank, item in enumerate(report.candidates, start=1):
        table.add_row(
            str(rank),
            item.ref,
            f"{item.score:.1f}",
            item.kind.value,
            item.event.at.strftime("%Y-%m-%d %H:%M"),
            Text(item.event.text.split("\n")[0][:80]),
            Text(item.explanation),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("candidates")(candidates_command)
