"""Markdown to safe HTML: raw HTML in the source is escaped, never passed through."""

from __future__ import annotations

from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_to_html(text: str) -> str:
    """Render Markdown with GitHub-style tables; HTML tags in the text come out as text."""
    html: str = _MARKDOWN.render(text)
    return html
