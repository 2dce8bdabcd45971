"""`hindsight user create|list|role|disable|enable|password`: local accounts."""

from __future__ import annotations

import secrets

import typer
from rich.table import Table
from rich.text import Text

from hindsight.cli.context import console, transaction
from hindsight.domain.access import Role
from hindsight.services.accounts import (
    create_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
)

user_app = typer.Typer(help="Accounts for the web UI and the API.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Login name."),
    role: Role = typer.Option(Role.EDITOR, help="viewer, editor or admin."),
    name: str = typer.Option("", "--name", help="Display name."),
    password: str | None = typer.Option(
        None,
        help="Password (12 to 256 characters, not a common one); default: generate one.",
    ),
) -> None:
    """Create an account."""
    chosen = password or secrets.token_urlsafe(12)
    with transaction(ctx) as session:
        create_user(session, username=username, password=chosen, role=role, display_name=name)
    console.print(Text(f"Created {username} ({role.value})."))
    if password is None:
        console.print(Text(f"Password (shown once): {chosen}"))


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List accounts."""
    with transaction(ctx) as session:
        users = list_users(session)
    table = Table(box=None, header_style="bold")
    for column in ("Username", "Name", "Role", "State"):
        table.add_column(column)
    for actor, disabled in users:
        table.add_row(
            Text(actor.username),
            Text(actor.display_name),
            actor.role.value,
            "disabled" if disabled else "active",
        )
    console.print(table)


@user_app.command("role")
def user_role(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    role: Role = typer.Argument(..., help="viewer, editor or admin."),
) -> None:
    """Change an account's role; its sessions end (its API tokens act with the new role)."""
    with transaction(ctx) as session:
        set_role(session, username=username, role=role)
    console.print(Text(f"{username} is now {role.value}; their sessions were signed out."))


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Disable an account: its sessions end and its API tokens are revoked for good."""
    with transaction(ctx) as session:
        set_disabled(session, username=username, disabled=True)
    console.print(Text(f"Disabled {username}."))


@user_app.command("enable")
def user_enable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Enable a disabled account (its old API tokens stay revoked)."""
    with transaction(ctx) as session:
        set_disabled(session, username=username, disabled=False)
    console.print(Text(f"Enabled {username}."))


@user_app.command("password")
def user_password(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password: str | None = typer.Option(None, help="New password; default: generate one."),
) -> None:
    """Set an account's password (for a forgotten one): its sessions end, its tokens are
    revoked."""
    chosen = password or secrets.token_urlsafe(12)
    with transaction(ctx) as session:
        revoked = set_password(session, username=username, password=chosen)
    console.print(
        Text(f"Password for {username} changed; sessions signed out, {revoked} token(s) revoked.")
    )
    if password is None:
        console.print(Text(f"New password (shown once): {chosen}"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(user_app, name="user")
