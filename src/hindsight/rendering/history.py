"""The revision history in domain words: one line per changed item or field.

"added event 'Merged #287' at 06:53", "action item 'Add cert-expiry alert': status open →
done", "removed factor 'capacity'", "summary edited" with a compact word diff. Changes recorded
before items had ids keep their field paths.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hindsight.analysis.diff import FieldChange, is_positional, split_item_path

NOUNS = {
    "timeline": "event",
    "participants": "participant",
    "analysis.contributing_factors": "factor",
    "analysis.five_whys": "why",
    "lessons": "lesson",
    "action_items": "action item",
}
# Fields whose values are prose or long text: shown as a word diff, not "old → new".
_LONG = {"text", "description", "question", "answer", "title"}
_CONTEXT_WORDS = 6
_VALUE_LIMIT = 80


@dataclass(frozen=True)
class DiffPart:
    """A run of words: 'same', 'del' or 'ins' ('gap' stands for unchanged words left out)."""

    op: str
    text: str


@dataclass
class HistoryLine:
    """One line of a revision: what changed, in words, and how to undo it where possible."""

    text: str
    diff: list[DiffPart] = field(default_factory=list)
    restorable: str = ""  # the path of a removed item, which can be restored
    fields: list[str] = field(default_factory=list)


def short(value: Any) -> str:
    """A value as it reads in a sentence, cut to a readable length."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


def word_diff(old: str, new: str) -> list[DiffPart]:
    """A compact word diff: changed words with a few words of context around each change."""
    before, after = (old or "").split(), (new or "").split()
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            words = before[a1:a2]
            if len(words) > 2 * _CONTEXT_WORDS:
                head = words[:_CONTEXT_WORDS] if parts else []
                tail = words[-_CONTEXT_WORDS:] if a2 < len(before) else []
                if head:
                    parts.append(DiffPart("same", " ".join(head)))
                parts.append(DiffPart("gap", "…"))
                if tail:
                    parts.append(DiffPart("same", " ".join(tail)))
            else:
                parts.append(DiffPart("same", " ".join(words)))
            continue
        if a2 > a1:
            parts.append(DiffPart("del", " ".join(before[a1:a2])))
        if b2 > b1:
            parts.append(DiffPart("ins", " ".join(after[b1:b2])))
    return parts


def _event_time(item: dict[str, Any]) -> str:
    at = item.get("at")
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return ""
    return f" at {at:%Y-%m-%d %H:%M} UTC" if isinstance(at, dt.datetime) else ""


def _list_change(old: Any, new: Any) -> str:
    before, after = list(old or []), list(new or [])
    added = [v for v in after if v not in before]
    removed = [v for v in before if v not in after]
    words = []
    if added:
        words.append("added " + ", ".join(f"'{short(v)}'" for v in added))
    if removed:
        words.append("removed " + ", ".join(f"'{short(v)}'" for v in removed))
    return "; ".join(words) or "reordered"


def _field_line(change: FieldChange) -> HistoryLine:
    name = change.field.replace("_", " ")
    old, new = change.old, change.new
    if isinstance(old, str) and isinstance(new, str) and ("\n" in old + new or len(old + new) > 80):
        return HistoryLine(f"{name} edited", word_diff(old, new), fields=[change.field])
    if isinstance(old, list | None) and isinstance(new, list | None) and (old or new):
        return HistoryLine(f"{name}: {_list_change(old, new)}", fields=[change.field])
    return HistoryLine(f"{name}: {short(old)} → {short(new)}", fields=[change.field])


def _item_lines(owner: str, changes: list[FieldChange]) -> HistoryLine:
    item_path = split_item_path(owner)
    assert item_path is not None
    noun = NOUNS[item_path.list_path]
    label = short(changes[-1].label or item_path.item_id)
    whole = next((c for c in changes if c.field == owner), None)
    if whole is not None and whole.old is None:
        time = _event_time(whole.new) if item_path.list_path == "timeline" else ""
        return HistoryLine(f"added {noun} '{label}'{time}", fields=[owner])
    if whole is not None and whole.new is None:
        time = _event_time(whole.old) if item_path.list_path == "timeline" else ""
        return HistoryLine(f"removed {noun} '{label}'{time}", restorable=owner, fields=[owner])
    words, diff = [], []
    for change in changes:
        sub = split_item_path(change.field)
        assert sub is not None
        old, new = change.old, change.new
        if sub.field in _LONG and isinstance(old, str) and isinstance(new, str):
            words.append(f"{sub.field.replace('_', ' ')} edited")
            diff = word_diff(old, new)
        elif sub.field == "at":
            words.append(f"time {short(old)} → {short(new)}")
        else:
            words.append(f"{sub.field.replace('_', ' ')} {short(old)} → {short(new)}")
    line = f"{noun} '{label}': " + "; ".join(words)
    return HistoryLine(line, diff, fields=[c.field for c in changes])


def describe_changes(changes: Sequence[FieldChange]) -> list[HistoryLine]:
    """The lines of one revision: one per changed item, one per other field, in order."""
    groups: dict[str, list[FieldChange]] = {}
    for change in changes:
        if is_positional(change.field):
            groups.setdefault(change.field, []).append(change)
            continue
        item_path = split_item_path(change.field)
        owner = f"{item_path.list_path}.{item_path.item_id}" if item_path else change.field
        groups.setdefault(owner, []).append(change)
    lines = []
    for owner, grouped in groups.items():
        if split_item_path(owner) is not None:
            lines.append(_item_lines(owner, grouped))
        elif owner.startswith("reviewers."):
            change = grouped[-1]
            who = owner.split(".", 1)[1]
            lines.append(HistoryLine(f"review by {who}: {short(change.old)} → {short(change.new)}"))
        else:
            lines.extend(_field_line(change) for change in grouped)
    return lines
