"""The one typed settings object, read from HINDSIGHT_* environment variables and flags."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data folder for Hindsight, e.g. ~/.local/share/hindsight on Linux."""
    return Path(platformdirs.user_data_dir("hindsight", appauthor=False))


class Settings(BaseSettings):
    """Everything Hindsight can be configured with. Build once; pass it on."""

    model_config = SettingsConfigDict(env_prefix="HINDSIGHT_", extra="ignore")

    database_url: str | None = None
    data_dir: Path = default_data_dir()
    author: str | None = None
    admin_password: str | None = None
    secure_cookies: bool = False
    templates_dir: Path | None = None
    default_template: str = "google-sre"
    # Hosts whose images Markdown may show (e.g. "grafana.example.com"); images from anywhere
    # else are shown as links, so reading a postmortem fetches nothing from other servers.
    allowed_image_hosts: list[str] = []

    def resolved_templates_dir(self) -> Path:
        """The team's report templates: `templates_dir`, or `templates` in the data folder."""
        return self.templates_dir or self.data_dir / "templates"

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'hindsight.db'}"
