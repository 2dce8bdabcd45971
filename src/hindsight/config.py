"""The one typed settings object, read from HINDSIGHT_* environment variables and flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data folder for Hindsight, e.g. ~/.local/share/hindsight on Linux."""
    return Path(platformdirs.user_data_dir("hindsight", appauthor=False))


class TrackerTeam(BaseModel):
    """Where one team's action items go in its trackers (docs/trackers.md)."""

    github_repository: str = Field("", pattern=r"^$|^[\w.-]+/[\w.-]+$")
    github_labels: list[str] = []
    jira_project: str = ""
    jira_issue_type: str = "Task"
    # Jira labels cannot hold spaces.
    jira_labels: list[Annotated[str, Field(pattern=r"^\S+$")]] = []


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
    access_log: bool = True
    # A signed-in session ends after this long without a request, and this long after sign-in
    # whatever happens.
    session_idle_minutes: int = Field(default=720, ge=1)
    session_lifetime_hours: int = Field(default=168, ge=1)
    # Comma-separated addresses (or "*") of proxies whose X-Forwarded-For / -Proto headers are
    # believed; none by default, so a client cannot choose the address that login limits see.
    forwarded_allow_ips: str = ""
    # Request bodies past these sizes are refused with 413 while they stream in (web/limits.py);
    # evidence uploads are bounded by the 1 GB upload limit.
    max_form_bytes: int = Field(1024 * 1024, ge=1024)
    max_json_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    max_hook_bytes: int = Field(1024 * 1024, ge=1024)
    upload_lifetime_minutes: int = Field(60, ge=1)
    # An archive import of more than this many reports, or of files over this many bytes, runs
    # as a job on a worker with a progress page (docs/jobs.md); smaller ones run at once.
    import_job_reports: int = Field(20, ge=0)
    import_job_bytes: int = Field(5 * 1024 * 1024, ge=0)
    # Hosts whose images Markdown may show (e.g. "grafana.example.com"); images from anywhere
    # else are shown as links, so reading a postmortem fetches nothing from other servers.
    allowed_image_hosts: list[str] = []
    # A team's own section headings for archive import, added to the built-in table:
    # '{"impact": ["blast radius"], "action_items": ["todo list"]}' (docs/archive-import.md).
    archive_headings: dict[str, list[str]] = {}
    # Outgoing e-mail for reminders and digests (docs/notifications.md); no host, no e-mail.
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "hindsight@localhost"
    # The address people open Hindsight at, for the links in reminders.
    base_url: str = "http://127.0.0.1:8000"
    # Reminders: "due soon" this many days ahead; a failed delivery is retried after
    # retry_seconds, then twice as long each time, until it has been tried max_attempts times.
    remind_due_soon_days: int = Field(3, ge=0, le=60)
    delivery_retry_seconds: float = Field(30.0, ge=0)
    delivery_max_attempts: int = Field(5, ge=1, le=20)
    delivery_timeout_seconds: float = Field(10.0, gt=0)
    # Notification webhooks may go to loopback, private and link-local addresses (a
    # self-hosted intranet); off by default, so a person's webhook URL cannot reach what only
    # the server can (services/outbound.py, docs/notifications.md).
    webhook_allow_private: bool = False
    # How often an idle worker looks for new jobs, at most (it starts at 0.1 s and backs off).
    worker_poll_seconds: float = Field(2.0, gt=0, le=60)

    # Tracker export (docs/trackers.md): per team (the team of the item's owner, "*" for the
    # rest) '{"payments": {"github_repository": "acme/payments", "jira_project": "PAY"}}'.
    trackers: dict[str, TrackerTeam] = {}
    github_api_url: str = "https://api.github.com"
    github_token: str = ""
    github_webhook_secret: str = ""
    jira_url: str = ""
    jira_email: str = ""
    jira_token: str = ""
    jira_webhook_secret: str = ""

    def resolved_templates_dir(self) -> Path:
        """The team's report templates: `templates_dir`, or `templates` in the data folder."""
        return self.templates_dir or self.data_dir / "templates"

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'hindsight.db'}"
