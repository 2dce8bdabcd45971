"""Markdown to safe HTML: raw HTML is escaped, and the result is sanitised again with nh3.
Images show only from the app's own URLs (and hosts the team allows); others become links, so
reading a postmortem makes no request to a server its author chose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Defence in depth: even if the Markdown renderer let something through, only these survive.
_SCHEMES = {"http", "https", "mailto"}


_NO_IMAGES = set(nh3.ALLOWED_TAGS) - {"img"}


def image_is_allowed(src: str, hosts: Sequence[str] = ()) -> bool:
    """True for the app's own paths ('/static/…', never '//host/…') and for HTTPS URLs on one
    of `hosts`."""
    if src.startswith("/") and not src.startswith(("//", "/\\")):
        return True
    parts = urlsplit(src)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and bool(host) and host in {h.lower() for h in hosts}


def _image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if not env.get("images", True):
        return str(escapeHtml(alt))  # exports fetch nothing and name no host
    if image_is_allowed(src, env.get("image_hosts", ())):
        return str(self.image(tokens, idx, options, env))
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'


_MARKDOWN.add_render_rule("image", _image)


def markdown_to_html(text: str, *, images: bool = True, image_hosts: Sequence[str] = ()) -> str:
    """Render Markdown with GitHub-style tables; HTML and scripts in the text come out inert.
    Images from the app itself or from `image_hosts` show; any other becomes a link to it.
    Without `images`, an image becomes its alt text (exports must not fetch anything)."""
    html: str = _MARKDOWN.render(text, {"image_hosts": tuple(image_hosts), "images": images})
    tags = None if images else _NO_IMAGES
    return nh3.clean(html, tags=tags, url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow")
