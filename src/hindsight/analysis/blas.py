"""BLAS on one thread for a block (threadpoolctl), counted across concurrent users: the
similarity index's matrix-vector product is bound by memory, not arithmetic, and on a busy
machine a second BLAS thread mostly waits to be scheduled (docs/benchmarks.md)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


_BLAS_LOCK = threading.Lock()
_blas_users = 0
_blas_limit: Any = None  # threadpoolctl's limiter while any lookup holds one thread


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with BLAS on one thread. The thread count is process-wide, so it is
    counted: the first of concurrent lookups sets it, the last one restores it."""
    global _blas_users, _blas_limit
    with _BLAS_LOCK:
        if _blas_users == 0:
            _blas_limit = _blas().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None
