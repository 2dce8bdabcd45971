"""Prose fields and comments (Markdown) as safe HTML, remembered between views.

Rendering is a pure function of the text, so the cache is keyed by a hash of the text and each
process keeps its own bounded copy: a miss only costs a render, and nothing depends on what
another process has seen. Callers on the event loop render through a worker thread; a large
text (a pathological 400 KB comment takes seconds of pure-Python CPU, holding the GIL) is
rendered in a helper process, so the event loop's thread never waits for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hindsight.rendering.html import markdown_to_html

MAX_CACHED_CHARS = 64 * 1024 * 1024
IN_PROCESS_CHARS = 20_000  # smaller texts render in a few milliseconds, here


class _ProseCache:
    """A least-recently-used map from text digest to HTML, bounded by the HTML it holds."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._entries: OrderedDict[bytes, str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, digest: bytes) -> str | None:
        with self._lock:
            html = self._entries.get(digest)
            if html is not None:
                self._entries.move_to_end(digest)
            return html

    def put(self, digest: bytes, html: str) -> None:
        if len(html) > self.max_chars:
            return
        with self._lock:
            if digest in self._entries:
                return
            self._entries[digest] = html
            self._chars += len(html)
            while self._chars > self.max_chars:
                _, dropped = self._entries.popitem(last=False)
                self._chars -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


_CACHE = _ProseCache(MAX_CACHED_CHARS)


_POOL_LOCK = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _yield_cpu() -> None:
    """The helper process gives way to the web process on a busy machine."""
    with contextlib.suppress(OSError):
        os.nice(10)


def _render_elsewhere(text: str, image_hosts: tuple[str, ...]) -> str:
    """Render in the helper process (started on first use); in this one if it broke."""
    global _pool
    with _POOL_LOCK:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_yield_cpu
            )
        pool = _pool
    try:
        return pool.submit(markdown_to_html, text, image_hosts=image_hosts).result()
    except BrokenProcessPool:  # killed (out of memory?): start afresh next time
        with _POOL_LOCK:
            _pool = None
        return markdown_to_html(text, image_hosts=image_hosts)


def render_prose_html(text: str, *, image_hosts: Sequence[str] = ()) -> str:
    """A prose field or comment (Markdown) as safe HTML, from the cache when it was seen;
    images only from the app or `image_hosts` (the allowed hosts are part of the cache key)."""
    hosts = tuple(image_hosts)
    key = "\x1f".join((*hosts, text))
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    html = _CACHE.get(digest)
    if html is None:
        html = (
            markdown_to_html(text, image_hosts=hosts)
            if len(text) <= IN_PROCESS_CHARS
            else _render_elsewhere(text, hosts)
        )
        _CACHE.put(digest, html)
    return html


def render_prose_batch(texts: list[str], image_hosts: Sequence[str] = ()) -> list[str]:
    """Each text as HTML, in order (one call for a worker thread)."""
    return [render_prose_html(text, image_hosts=image_hosts) for text in texts]


def clear_prose_cache() -> None:
    """Forget every rendered text (tests, and memory pressure)."""
    _CACHE.clear()
