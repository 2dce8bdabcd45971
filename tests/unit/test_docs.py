"""Every command and every setting is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from hindsight.cli.main import app
from hindsight.config import Settings

DOCS = Path(__file__).parents[2] / "docs"


def _commands(group: typer.Typer, prefix: str) -> list[str]:
    names = [
        f"{prefix}{c.name or c.callback.__name__}".strip()
        for c in group.registered_commands
        if c.callback is not None
    ]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return names


def test_every_command_has_a_section_in_the_cli_docs() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = _commands(app, "")
    assert len(commands) >= 19
    missing = [name for name in commands if f"## `hindsight {name}`" not in text]
    assert missing == []


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in text and f"HINDSIGHT_{name.upper()}" in text
