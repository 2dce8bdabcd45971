"""`findings`, `dismiss` and `undismiss`: a stored postmortem's review, and dismissing a finding
with a reason (it stops counting; the history records it)."""

from __future__ import annotations

import json

import typer
from rich.text import Text

from hindsight.cli.context import console, state, transaction
from hindsight.services.lint import lint_stored
from hindsight.services.lint_dismissals import dismiss_finding, restore_finding


def findings(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The review of a stored postmortem: score, each finding with its rule and field (what
    `dismiss` takes), and the dismissed findings with their reasons."""
    with transaction(ctx) as session:
        report = lint_stored(session, key=key)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "score": report.score,
                    "problems": [
                        {"rule": p.rule, "level": p.level.value, "part": p.part, "count": p.count}
                        for p in report.problems
                    ],
                    "findings": [
                        {
                            "rule": f.rule,
                            "level": f.level.value,
                            "field": f.field,
                            "message": f.message,
                            "suggestion": f.suggestion,
                        }
                        for f in report.findings
                    ],
                    "dismissed": [
                        {
                            "rule": f.rule,
                            "field": f.field,
                            "reason": d.reason,
                            "author": d.author,
                            "at": d.at.isoformat() if d.at else None,
                        }
                        for f, d in report.dismissed
                    ],
                    "lapsed": [
                        {"rule": d.rule, "field": d.field, "reason": d.reason, "author": d.author}
                        for d in report.lapsed
                    ],
                },
                indent=2,
            )
        )
        return
    console.print(
        Text(f"{key}  score {report.score}/100 ({len(report.problems)} problems)", style="bold")
    )
    for f in report.findings:
        console.print(Text(f"  {f.level.value} {f.rule} {f.field}: {f.message}"), soft_wrap=True)
    for f, d in report.dismissed:
        console.print(
            Text(f"  dismissed {f.rule} {f.field} by {d.author}: {d.reason}", style="dim"),
            soft_wrap=True,
        )
    for d in report.lapsed:
        console.print(
            Text(
                f"  no longer dismissed {d.rule} {d.field} (the text changed since "
                f"{d.author} dismissed it: {d.reason})",
                style="dim",
            ),
            soft_wrap=True,
        )


def dismiss(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    rule: str = typer.Argument(..., help="The finding's rule, e.g. blameless/counterfactual."),
    field: str = typer.Argument(..., help="The finding's field, e.g. lessons[0].text."),
    reason: str = typer.Option(..., "--reason", help="Why it does not apply.", show_default=False),
) -> None:
    """Dismiss one finding with a reason: it stops counting in the score and the publish gate."""
    with transaction(ctx) as session:
        dismiss_finding(
            session, key=key, rule=rule, field=field, reason=reason, author=state(ctx).author
        )
    console.print(Text(f"Dismissed {rule} at {field} of {key}; `hindsight undismiss` undoes it"))


def undismiss(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Incident key."),
    rule: str = typer.Argument(..., help="The dismissed finding's rule."),
    field: str = typer.Argument(..., help="The dismissed finding's field."),
) -> None:
    """Take a dismissal back: the finding counts again."""
    with transaction(ctx) as session:
        restore_finding(session, key=key, rule=rule, field=field, author=state(ctx).author)
    console.print(Text(f"Restored {rule} at {field} of {key}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(findings)
    app.command()(dismiss)
    app.command()(undismiss)
