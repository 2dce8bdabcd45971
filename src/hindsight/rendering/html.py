"""Markdown to safe HTML: raw HTML is escaped, and the result is sanitised again with nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Defence in depth: even if the Markdown renderer let something through, only these survive.
_SCHEMES = {"http", "https", "mailto"}


def markdown_to_html(text: str) -> str:
    """Render Markdown with GitHub-style tables; HTML and scripts in the text come out inert."""
    html: str = _MARKDOWN.render(text)
    return nh3.clean(html, url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow")
