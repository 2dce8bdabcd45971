"""`search`: full text over every part of every postmortem, ranked, with snippets and facets."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.text import Text

from hindsight.cli.context import console, state
from hindsight.domain.search import SearchHit
from hindsight.services.search import FACET_LABELS, SearchPage, search_postmortems


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "key": hit.key,
        "title": hit.title,
        "severity": hit.severity,
        "status": hit.status,
        "review_status": hit.review_status,
        "visibility": hit.visibility,
        "created_at": hit.created_at.isoformat(),
        "archived": hit.archived,
        "score": hit.score,
        "snippets": [
            {
                "part": s.part,
                "text": s.text,
                "segments": [{"text": g.text, "match": g.match} for g in s.segments],
            }
            for s in hit.snippets
        ],
    }


def _as_json(page: SearchPage) -> str:
    results = page.results
    payload = {
        "query": page.query,
        "total": results.total,
        "total_is_lower_bound": results.total_is_lower_bound,
        "limit": results.limit,
        "offset": results.offset,
        "items": [_hit_json(hit) for hit in results.hits],
        "facets": {
            name: [{"value": v, "count": n} for v, n in values]
            for name, values in results.facets.items()
        },
        "facets_over": results.facets_over,
        "suggestions": page.suggestions,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _print(page: SearchPage, number: int) -> None:
    results = page.results
    if not results.total:
        console.print(Text(f"No postmortem matches {page.query}."))
        for suggestion in page.suggestions:
            console.print(Text(f"  - {suggestion}"))
        return
    for rank, hit in enumerate(results.hits, start=results.offset + 1):
        line = Text(f"{rank}. ", style="dim")
        line.append(hit.title, style="bold")
        line.append(f"  {hit.key} · {hit.severity} · {hit.status}", style="dim")
        if hit.archived:
            line.append(" · archived", style="dim")
        console.print(line)
        for snippet in hit.snippets:
            text = Text(f"   {snippet.part}: ", style="dim")
            for segment in snippet.segments:
                # Brackets as well as colour, so a pipe or a log keeps the highlight.
                text.append(
                    f"[{segment.text}]" if segment.match else segment.text,
                    style="bold yellow" if segment.match else "",
                )
            console.print(text)
    last = results.offset + len(results.hits)
    pages = -(-results.total // results.limit)
    console.print(
        Text(f"{results.offset + 1}-{last} of {results.counted}, page {number} of {pages}", "dim")
    )
    facets = "; ".join(
        f"{FACET_LABELS[name]}: " + ", ".join(f"{v} ({n})" for v, n in values[:5])
        for name, values in results.facets.items()
    )
    console.print(Text(facets, style="dim"))
    if results.facets_are_a_sample:
        console.print(Text(f"(facets among the {results.facets_over:,} best matches)", "dim"))


def search(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help='Words (all must match), "quoted phrases", OR, and -excluded words.'
    ),
    service: list[str] = typer.Option([], "--service", help="Only these services."),
    severity: list[str] = typer.Option([], "--severity", help="Only these severities."),
    status: list[str] = typer.Option([], "--status", help="Only these incident statuses."),
    review: list[str] = typer.Option([], "--review", help="Only these review statuses."),
    category: list[str] = typer.Option([], "--category", help="Only these factor categories."),
    tag: list[str] = typer.Option([], "--tag", help="Only these tags."),
    year: list[str] = typer.Option([], "--year", help="Only incidents of these years."),
    open_actions: str | None = typer.Option(
        None, "--open-actions", help="yes: only with open action items; no: only without."
    ),
    recurring: bool = typer.Option(
        False, "--recurring", help="Only incidents linked as a recurrence."
    ),
    archived: bool = typer.Option(False, "--archived", help="Include archived incidents."),
    limit: int = typer.Option(20, min=1, max=100, help="Results per page."),
    page: int = typer.Option(1, min=1, help="Page number."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search every part of every postmortem: ranked, with the words highlighted, and facets."""
    filters = {
        "service": service,
        "severity": severity,
        "status": status,
        "review": review,
        "category": category,
        "tag": tag,
        "year": year,
        "open_actions": [open_actions] if open_actions else [],
        "recurring": ["yes"] if recurring else [],
    }
    with state(ctx).open().reading() as session:
        result = search_postmortems(
            session,
            query=query,
            actor=None,
            filters=filters,
            limit=limit,
            offset=(page - 1) * limit,
            include_archived=archived,
        )
    if as_json:
        typer.echo(_as_json(result))
    else:
        _print(result, page)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(search)
