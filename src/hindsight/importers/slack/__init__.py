"""Slack workspace exports: `channels.json`, `users.json`, and a folder per channel holding one
JSON file per day. From the unpacked folder or the .zip as downloaded.

User ids become names; thread replies are kept and marked; bot messages (deploy and alert
bots) are recognised and their attachments read; channel housekeeping (joins, topic changes…)
is left out. `--channel` limits the import to some channels; --since/--until to a window.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Record,
    Source,
    SourceFile,
    epoch,
)

_DAY = re.compile(r"^(?:.*/)?([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|ftp):[^>|]+)(?:\|([^>]*))?>")
_HOUSEKEEPING = {
    "channel_join",
    "channel_leave",
    "channel_purpose",
    "channel_topic",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "group_join",
    "group_leave",
    "group_purpose",
    "group_topic",
    "group_name",
    "bot_add",
    "bot_remove",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "sh_room_created",
    "tombstone",
}
_DEPLOY_WORDS = re.compile(
    r"\b(deploy(?:ed|ing|ment)?|released?|rolled out|rollout|merged|"
    r"new commits?|pushed)\b",
    re.IGNORECASE,
)
_RESOLVED_WORDS = re.compile(r"\b(resolved|recovered|ok now|back to normal)\b", re.IGNORECASE)
_ALERT_WORDS = re.compile(
    r"\b(alert|firing|triggered|critical|outage|down|error rate|"
    r"pagerduty|opsgenie)\b",
    re.IGNORECASE,
)


def _names(source: Source, file: str, key: str) -> dict[str, str]:
    item = source.find(file) or next((f for f in source.files if f.path.endswith("/" + file)), None)
    if item is None:
        return {}
    data = item.read_json()
    if not isinstance(data, list):
        raise EvidenceError(item.name, f"expected a list of {key}, found {type(data).__name__}")
    names: dict[str, str] = {}
    for index, entry in enumerate(data, start=1):
        record = Record(item.name, f"item {index}", entry)
        ident = record.get("id", str)
        profile = record.get("profile", dict, required=False) or {}
        names[ident] = str(
            profile.get("display_name")
            or profile.get("real_name")
            or record.get("real_name", str, required=False)
            or record.get("name", str, required=False)
            or ident
        )
    return names


class _Reader:
    def __init__(self, source: Source, options: ImportOptions) -> None:
        self.options = options
        if source.find("channels.json") is None and not any(
            f.path.endswith("/channels.json") for f in source.files
        ):
            raise EvidenceError(
                source.name,
                "not a Slack export: there is no channels.json "
                "(export the workspace from Slack's admin settings)",
            )
        self.users = _names(source, "users.json", "users")
        self.channels = _names(source, "channels.json", "channels")

    def wanted_channels(self, present: set[str]) -> set[str]:
        if not self.options.channels:
            return present
        wanted = {self.channels.get(name, name).lstrip("#") for name in self.options.channels}
        unknown = sorted(wanted - present)
        if unknown:
            raise EvidenceError(
                "--channel",
                f"'{unknown[0]}' is not in this export (channels: "
                f"{', '.join(sorted(present)) or 'none'})",
            )
        return wanted

    def day_in_window(self, day: str) -> bool:
        """Whether a day file may hold messages in the window; the others are not read, and
        those far from the window are counted for the warning."""
        date = dt.date.fromisoformat(day)
        slack = dt.timedelta(days=1)
        since, until = self.options.since, self.options.until
        inside = not (
            (since and date < since.date() - slack) or (until and date > until.date() + slack)
        )
        if not inside:
            self.options.skip("days of messages outside the time window")
            noon = dt.datetime.combine(date, dt.time(12), dt.UTC)
            if self.options.far_outside(noon):
                self.options.far.note(noon, day=True)
        return inside

    def text(self, message: dict[str, Any]) -> str:
        text = str(message.get("text") or "")
        for attachment in message.get("attachments") or []:
            if isinstance(attachment, dict):
                extra = (
                    attachment.get("fallback")
                    or attachment.get("pretext")
                    or attachment.get("title")
                    or attachment.get("text")
                    or ""
                )
                if extra and str(extra) not in text:
                    text = f"{text}\n{extra}" if text else str(extra)
        file = message.get("file")
        if isinstance(file, dict) and file.get("title") and not text:
            text = f"shared a file: {file['title']}"

        def mention(match: re.Match[str]) -> str:
            sigil, ident, label = match.groups()
            if sigil == "@":
                return "@" + (label or self.users.get(ident, ident))
            if sigil == "#":
                return "#" + (label or self.channels.get(ident, ident))
            return "@" + (label or ident).split("^")[0]

        text = _MENTION.sub(mention, text)
        text = _LINK.sub(
            lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text
        )
        return html.unescape(text)

    def message(self, channel: str, where: Record) -> Evidence | None:
        data = where.data
        if not isinstance(data, dict):
            raise where.fail(f"expected a message object, found {type(data).__name__}")
        subtype = str(data.get("subtype") or "")
        if subtype in _HOUSEKEEPING or data.get("type", "message") != "message":
            self.options.skip("channel housekeeping (joins, topics, pins)")
            return None
        ts = where.get("ts", str)
        try:
            # The part after the dot is a sequence number that makes ts unique, not a fraction.
            at = epoch(float(ts.split(".")[0]), where.fail, "ts")
        except ValueError:
            raise where.fail(f"field 'ts': {ts[:30]!r} is not a Slack timestamp") from None
        if not self.options.in_window(at):
            return None
        text = tidy(self.text(data), limit=4000)
        if not text:
            self.options.skip("empty messages")
            return None
        bot = subtype == "bot_message" or bool(data.get("bot_id"))
        user = str(data.get("user") or "")
        raw_profile = data.get("bot_profile")
        profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
        actor = (
            str(data.get("username") or profile.get("name") or "bot")
            if bot
            else self.users.get(user, user or str(data.get("username") or ""))
        )
        kind, signal = EventKind.COMMUNICATION, Signal.CHAT
        if bot and _DEPLOY_WORDS.search(text):
            kind, signal = EventKind.DEPLOY, Signal.CHANGE
        elif bot and _RESOLVED_WORDS.search(text):
            kind, signal = EventKind.RESOLUTION, Signal.ALERT_RESOLVED
        elif bot and _ALERT_WORDS.search(text):
            kind, signal = EventKind.ALERT, Signal.ALERT_FIRING
        thread = str(data.get("thread_ts") or "")
        if thread and thread != ts:
            text = f"(thread reply) {text}"
        return Evidence(
            event=TimelineEvent(
                at=at,
                zone=self.options.zone,
                text=text,
                source="slack",
                kind=kind,
                actor=tidy(actor + (" (bot)" if bot else ""), limit=200, one_line=True),
                provenance=(provenance(where.source, f"{where.where} ts {ts}"),),
            ),
            key=f"{channel}/{ts}",
            subject=text.split("\n", 1)[0][:80],
            signal=signal,
        )


def _day_files(source: Source) -> dict[str, list[tuple[str, SourceFile]]]:
    days: dict[str, list[tuple[str, SourceFile]]] = {}
    for item in source.files:
        match = _DAY.match(item.path)
        if match:
            days.setdefault(match.group(1), []).append((match.group(2), item))
    return days


class SlackImporter:
    """Messages from a Slack workspace export."""

    kind = "slack"
    title = "Slack export"
    icon = "💬"
    accepts = "a Slack workspace export: the folder or the .zip with channels.json"

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield one event per message in the chosen channels and window."""
        reader = _Reader(source, options)
        days = _day_files(source)
        for channel in sorted(reader.wanted_channels(set(days))):
            for day, item in sorted(days.get(channel, [])):
                if not reader.day_in_window(day):
                    progress.advance(item.size)
                    continue
                messages = item.read_json(progress)
                if not isinstance(messages, list):
                    raise EvidenceError(
                        item.name, f"expected a list of messages, found {type(messages).__name__}"
                    )
                for index, message in enumerate(messages, start=1):
                    found = reader.message(channel, Record(item.name, f"message {index}", message))
                    if found:
                        yield found


IMPORTER = SlackImporter()
