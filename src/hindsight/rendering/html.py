"""Markdown to safe HTML: raw HTML is escaped, and the result is sanitised again with nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Defence in depth: even if the Markdown renderer let something through, only these survive.
_SCHEMES = {"http", "https", "mailto"}


_NO_IMAGES = set(nh3.ALLOWED_TAGS) - {"img"}


def markdown_to_html(text: str, *, images: bool = True) -> str:
    """Render Markdown with GitHub-style tables; HTML and scripts in the text come out inert.
    Without `images`, image tags are dropped (exports must not fetch anything)."""
    html: str = _MARKDOWN.render(text)
    tags = None if images else _NO_IMAGES
    return nh3.clean(html, tags=tags, url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow")
