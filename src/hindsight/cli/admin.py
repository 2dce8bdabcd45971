"""`info`, `demo`, `serve` and `taxonomy`."""

from __future__ import annotations

import json
import sys
from os import environ

import typer
from rich.table import Table
from rich.text import Text

from hindsight import __version__
from hindsight.cli.context import console, state, transaction
from hindsight.services.database import describe_database
from hindsight.services.demo import load_demo
from hindsight.services.taxonomy import add_category, list_categories


def info(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Show the version, data folder and database (with its schema revision and size)."""
    current = state(ctx)
    described = describe_database(current.open())
    facts = {
        "version": __version__,
        "data_dir": str(current.settings.data_dir),
        "database_url": described.url,
        "backend": described.backend,
        "schema_revision": described.revision,
        "schema_head": described.head,
        "incidents": described.incidents,
    }
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    table = Table(box=None, show_header=False)
    for name, value in facts.items():
        table.add_row(Text(name.replace("_", " "), style="bold"), Text(str(value)))
    console.print(table)


def demo(
    ctx: typer.Context,
    if_empty: bool = typer.Option(False, "--if-empty", help="Only load into an empty database."),
) -> None:
    """Load the demo incident (mybinder.org, 2018-01-18), built from its published report."""
    with transaction(ctx) as session:
        stored = load_demo(session, author=state(ctx).author, if_empty=if_empty)
    if stored is None:
        console.print("The database already has incidents; demo not loaded.")
    else:
        console.print(Text(f"Demo incident loaded: {stored.postmortem.key}"))


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
) -> None:
    """Serve the web UI."""
    import uvicorn

    from hindsight.web.access_log import send_access_log_to
    from hindsight.web.app import create_app, freeze_start_up_objects, prepare_database
    from hindsight.web.listening import check_port, spreads_connections

    current = state(ctx)
    if workers > 1 and spreads_connections():
        check_port(host, port)  # the workers bind their own sockets: refuse a taken port first
    send_access_log_to(sys.stderr)  # one line per request (HINDSIGHT_ACCESS_LOG=false: none)
    # Migrate and make the first admin once, before any worker starts.
    generated = prepare_database(current.settings, current.open())
    if generated:
        console.print(
            Text(
                f"Created the first account: admin / {generated}  (shown once; "
                "change it in Settings)",
                style="bold",
            )
        )
    console.print(f"Hindsight is serving on http://{host}:{port}  (Ctrl+C to stop)")
    if workers == 1:
        app = create_app(current.settings, current.open())
        freeze_start_up_objects()
        # The app believes X-Forwarded-For only from `forwarded_allow_ips` (none by default);
        # uvicorn's own handling would trust 127.0.0.1.
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
        return
    # Workers build their own app from the environment: pass on the settings chosen here.
    environ["HINDSIGHT_DATABASE_URL"] = current.settings.resolved_database_url()
    _serve_workers(host, port, workers)


def _serve_workers(host: str, port: int, workers: int) -> None:
    """uvicorn's multi-process mode with sockets of our own. On Linux each worker listens on
    a socket of its own (web/listening.py: the kernel spreads new connections over them; a
    shared socket let one worker take a whole burst). Elsewhere one socket is shared, made
    with TCP_NODELAY: uvicorn makes it with protocol 0, so asyncio never enables the option
    on the connections workers accept, and every response then waits ~40 ms for the
    client's delayed ACK (measured in bench/web). Accepted sockets inherit it on Linux."""
    import socket
    from typing import Any

    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    from hindsight.web.listening import WorkerSocket, spreads_connections

    config = Config(
        "hindsight.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        proxy_headers=False,
    )
    sockets: list[Any]
    if spreads_connections():
        sockets = [WorkerSocket(host, port, config.backlog)]  # bound in each worker
    else:
        shared = config.bind_socket()
        shared.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sockets = [shared]
    Multiprocess(config, sockets=sockets).run()


taxonomy_app = typer.Typer(help="Categories of contributing factors.", no_args_is_help=True)


@taxonomy_app.command("list")
def taxonomy_list(ctx: typer.Context) -> None:
    """List the categories."""
    with transaction(ctx) as session:
        categories = list_categories(session)
    table = Table(box=None, header_style="bold")
    table.add_column("Category")
    table.add_column("Description")
    for name, description in categories:
        table.add_row(Text(name), Text(description))
    console.print(table)


@taxonomy_app.command("add")
def taxonomy_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Lowercase name, e.g. feature-flags."),
    description: str = typer.Option("", help="What belongs in it."),
) -> None:
    """Add a category."""
    with transaction(ctx) as session:
        add_category(session, name=name, description=description)
    console.print(Text(f"Added category {name}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(info)
    app.command()(demo)
    app.command()(serve)
    app.add_typer(taxonomy_app, name="taxonomy")
