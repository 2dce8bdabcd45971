"""List parts: action items (bullets, checkboxes, tables; done status, tracker links), lessons,
what went well/wrong/lucky and participants. Lines that are not items are kept as notes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hindsight.analysis.archive.model import ArchiveAction, Placement, SourceLine

_BULLET = re.compile(
    r"^(?P<indent>\s*)(?:[-*+\u2022\u25cf\u25aa]|\d+[.)])\s+"
    r"(?:\[(?P<box>[ xX\u2713])\]\s*)?(?P<text>.+)$"
)
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>https?://[^)\s]+)\)")
_REF_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\[(?P<ref>[^\]]*)\]")
_ANGLE = re.compile(r"<(?P<url>https?://[^>\s]+)>")
_BARE = re.compile(r"(?<![(<\[])\bhttps?://[^\s)>\]]+")
_ISSUE = re.compile(
    r"https?://[^\s]*?(?:app\.zenhub\.com/[^\s]*/issues/[^\s/]+/[^\s/]+/\d+|/issues/\d+"
    r"|/pull/\d+|/-/issues/\d+|/-/merge_requests/\d+|/browse/[A-Z][A-Z0-9]+-\d+"
    r"|linear\.app/[^\s]+/issue/)"
)
_DONE = re.compile(
    r"\((?:done|completed?|fixed|closed)\b[^)]*\)|\bdone\s*[:\-\u2013]|✅|\[x\]|~~.+~~", re.I
)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_KINDS = (
    ("detect", ("testing", "monitoring", "alerting", "detection", "detect", "observability")),
    ("mitigate", ("mitigation", "mitigate", "recovery")),
    ("process", ("process", "training", "documentation", "docs", "communication", "people")),
    ("prevent", ("prevent", "prevention", "fix", "engineering")),
)
_DONE_WORDS = {"done", "closed", "complete", "completed", "fixed", "yes", "x", "✅", "resolved"}


def issue_title(url: str) -> str:
    """'https://github.com/o/r/issues/12' -> 'o/r#12'; other links: the URL itself."""
    match = re.search(r"github\.com/([^/]+/[^/]+)/(?:issues|pull)/(\d+)", url)
    if match:
        return f"{match.group(1)}#{match.group(2)}"
    match = re.search(r"/(?:issues|pull|merge_requests)/(\d+)", url) or re.search(
        r"/browse/([A-Z][A-Z0-9]+-\d+)", url
    )
    return (
        f"#{match.group(1)}"
        if match and match.group(1).isdigit()
        else (match.group(1) if match else url)
    )


def link_text(text: str, references: dict[str, str]) -> tuple[str, list[str]]:
    """Text with Markdown links read: '[#4264](url)' -> '#4264', URLs returned in order.
    A link that is not chosen as the tracker link keeps its URL in the text."""
    urls: list[str] = []

    def inline(match: re.Match[str]) -> str:
        urls.append(match.group("url"))
        return (
            f"\x00{len(urls) - 1}\x01{match.group('text') or issue_title(match.group('url'))}\x02"
        )

    def reference(match: re.Match[str]) -> str:
        url = references.get((match.group("ref") or match.group("text")).lower())
        if not url:
            return match.group(0)
        urls.append(url)
        return f"\x00{len(urls) - 1}\x01{match.group('text')}\x02"

    text = _LINK.sub(inline, text)
    text = _REF_LINK.sub(reference, text)

    def bare(match: re.Match[str]) -> str:
        url = match.group("url") if "url" in match.groupdict() else match.group(0)
        urls.append(url)
        return f"\x00{len(urls) - 1}\x01{issue_title(url)}\x02"

    text = _ANGLE.sub(bare, text)
    text = _BARE.sub(bare, text)
    return text, urls


def _render(text: str, urls: list[str], tracker: str) -> str:
    def back(match: re.Match[str]) -> str:
        url = urls[int(match.group(1))]
        words = match.group(2)
        return words if url == tracker or words == url else f"{words} ({url})"

    plain = re.sub(r"\x00(\d+)\x01(.*?)\x02", back, text)
    return re.sub(r"\*\*|__", "", plain).strip()


def read_action(
    text: str, *, line: int, box: str | None, kind: str, references: dict[str, str]
) -> ArchiveAction:
    """One action item from a bullet's text."""
    marked, urls = link_text(text, references)
    tracker = next((url for url in urls if _ISSUE.match(url)), "")
    bare = re.fullmatch(r"\s*\x000\x01.*?\x02\s*", marked) is not None
    if not tracker and bare and urls:
        tracker = urls[0]
    title = _render(marked, urls, tracker)
    issue = re.fullmatch(r"#(\d+)", title.strip())
    done = (box or " ").lower() in ("x", "✓") or bool(_DONE.search(text))
    return ArchiveAction(
        line, title if not issue else f"#{issue.group(1)}", done, tracker, "", kind
    )


@dataclass
class ItemsReading:
    """What a list part gave."""

    actions: list[ArchiveAction] = field(default_factory=list)
    items: list[tuple[int, str]] = field(default_factory=list)
    notes: list[SourceLine] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # the text each plain-line action came from


def _kind_for(heading: str) -> str | None:
    words = set(re.findall(r"[a-z]+", heading.lower()))
    return next((kind for kind, names in _KINDS if words & set(names)), None)


def _columns(header: list[str]) -> dict[str, int]:
    wanted = {
        "title": ("action", "item", "task", "description", "title", "what", "follow"),
        "status": ("status", "done", "state"),
        "owner": ("owner", "assignee", "who", "responsible"),
        "link": ("link", "issue", "ticket", "tracker", "bug", "jira", "url"),
    }
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        words = cell.lower()
        for name, options in wanted.items():
            if name not in found and any(option in words for option in options):
                found[name] = index
                break
    return found


def _plain_line(
    result: ItemsReading, source: SourceLine, kind: str, references: dict[str, str]
) -> str:
    """PDF text has no list markers: each line is an item, a line starting in lower case goes
    on with the item before, a short line naming a kind ('Testing') is a sub-heading, and a
    lone bullet glyph is layout. Returns the kind in force."""
    text = source.text.strip()
    if text in ("\u2022", "\u25cf", "\u25aa", "-", "*"):
        result.placements.append(Placement(source.number, "action_items", "bullet"))
        return kind
    sub = _kind_for(text) if len(text.split()) <= 3 and not text.endswith(".") else None
    if sub:
        result.notes.append(source)
        result.placements.append(Placement(source.number, "action_items", "note"))
        return sub
    if text[:1].islower() and result.actions and result.raw:
        last = result.actions[-1]
        result.raw[-1] = f"{result.raw[-1]} {text}"
        result.actions[-1] = read_action(
            result.raw[-1], line=last.line, box=None, kind=last.kind, references=references
        )
    else:
        result.raw.append(text)
        result.actions.append(
            read_action(text, line=source.number, box=None, kind=kind, references=references)
        )
    result.placements.append(Placement(source.number, "action_items", "item"))
    return kind


def read_actions(  # noqa: C901 - one pass over the lines
    sections: list[tuple[str, list[SourceLine]]],
    references: dict[str, str],
    *,
    plain_lines: bool = False,
) -> ItemsReading:
    """Action items from every action-item section; `plain_lines` for PDF text."""
    result = ItemsReading()
    for heading, lines in sections:
        kind = _kind_for(heading) or "prevent"
        columns: dict[str, int] | None = None
        fence = False
        for source in lines:
            line = source.text
            if not line.strip():
                columns = None
                continue
            if line.strip().startswith(("```", "~~~")):
                fence = not fence
            if fence or line.strip().startswith(("```", "~~~")):
                result.notes.append(source)
                result.placements.append(Placement(source.number, "action_items", "note"))
                continue
            sub = re.match(r"^\s*#{1,6}\s+(.*)$", line)
            if sub:
                kind = _kind_for(sub.group(1)) or kind
            if line.lstrip().startswith("|"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if _TABLE_RULE.match(line):
                    result.placements.append(Placement(source.number, "action_items", "table rule"))
                    continue
                if columns is None:
                    columns = _columns(cells)
                    if "title" in columns:  # the column names are kept with the notes
                        result.notes.append(source)
                        result.placements.append(
                            Placement(source.number, "action_items", "table header")
                        )
                        continue
                if (
                    columns
                    and "title" in columns
                    and len(cells) > columns["title"]
                    and cells[columns["title"]]
                ):
                    action = read_action(
                        cells[columns["title"]],
                        line=source.number,
                        box=None,
                        kind=kind,
                        references=references,
                    )
                    status = (
                        cells[columns["status"]].lower()
                        if "status" in columns and len(cells) > columns["status"]
                        else ""
                    )
                    link = (
                        cells[columns["link"]]
                        if "link" in columns and len(cells) > columns["link"]
                        else ""
                    )
                    _, urls = link_text(link, references)
                    owner = (
                        cells[columns["owner"]]
                        if "owner" in columns and len(cells) > columns["owner"]
                        else ""
                    )
                    action = ArchiveAction(
                        source.number,
                        action.title,
                        action.done or status.strip("* ") in _DONE_WORDS,
                        urls[0] if urls else action.tracker_url,
                        owner,
                        kind,
                    )
                    result.actions.append(action)
                    result.placements.append(Placement(source.number, "action_items", "item"))
                    continue
            bullet = _BULLET.match(line)
            if bullet:
                result.actions.append(
                    read_action(
                        bullet.group("text"),
                        line=source.number,
                        box=bullet.group("box"),
                        kind=kind,
                        references=references,
                    )
                )
                result.placements.append(Placement(source.number, "action_items", "item"))
                continue
            if plain_lines:
                kind = _plain_line(result, source, kind, references)
                continue
            result.notes.append(source)
            result.placements.append(Placement(source.number, "action_items", "note"))
    return result


def read_items(part: str, sections: list[tuple[str, list[SourceLine]]]) -> ItemsReading:
    """One-line statements (lessons, went well/wrong/lucky) or participants from each line."""
    result = ItemsReading()
    for _, lines in sections:
        fence = False
        for source in lines:
            line = source.text
            if not line.strip():
                continue
            fenced = line.strip().startswith(("```", "~~~"))
            if fenced:
                fence = not fence
            if fence or fenced or re.match(r"^\s*#{1,6}\s", line) or _TABLE_RULE.match(line):
                result.notes.append(source)
                result.placements.append(Placement(source.number, part, "note"))
                continue
            bullet = _BULLET.match(line)
            text = bullet.group("text") if bullet else line.strip()
            if part == "participants":
                if not bullet:
                    result.notes.append(source)
                    result.placements.append(Placement(source.number, part, "note"))
                    continue
                text = text.lstrip("@")
            if line.lstrip().startswith("|"):
                text = " | ".join(
                    c.strip() for c in line.strip().strip("|").split("|") if c.strip()
                )
            result.items.append((source.number, text.strip()))
            result.placements.append(Placement(source.number, part, "item"))
    return result
