"""The listening sockets of `hindsight serve --workers N`: on Linux, one of its own per worker
(SO_REUSEPORT), so that the kernel spreads new connections over the workers.

With one socket shared by every worker (uvicorn's way), the worker that wakes first accepts a
whole burst of connections at once, and keep-alive keeps them there: wrk's 20 connections all
sat on one of two workers in a third of the runs at 100,000 incidents (`ss -tnp`), which then
answered 50 searches a second where two answer 104. The kernel gives each new connection to
one of a port's SO_REUSEPORT sockets by a hash of its addresses, so 20 land 10/10 or close.

uvicorn's supervisor hands its workers a list of sockets, pickled into each spawned worker; a
`WorkerSocket` in that list becomes, as the worker unpickles it, a socket bound there."""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass
from typing import Any

from hindsight.errors import HindsightError

# uvicorn's exit code for "failed before serving": its supervisor then stops instead of
# starting the worker again and again.
STARTUP_FAILURE = 3


def spreads_connections() -> bool:
    """Whether the system spreads a port's connections over its SO_REUSEPORT sockets (Linux;
    BSD and macOS accept the option but do not balance)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int, *, listen: bool = True) -> socket.socket:
    """A TCP socket bound to `host`:`port` with SO_REUSEPORT. TCP_NODELAY is set on it, as the
    connections it accepts inherit it (asyncio would not set it on a socket made with
    protocol 0, and every response then waited ~40 ms for the client's delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _in_worker(host: str, port: int, backlog: int) -> socket.socket:
    try:
        return listening_socket(host, port, backlog)
    except OSError as error:
        print(f"hindsight worker: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from error


@dataclass(frozen=True)
class WorkerSocket:
    """Stands in the supervisor's list of sockets for a socket each worker binds itself."""

    host: str
    port: int
    backlog: int

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return _in_worker, (self.host, self.port, self.backlog)


def check_port(host: str, port: int) -> None:
    """Refuse, before any worker starts, a port another server listens on or that cannot be
    bound here. SO_REUSEPORT would let a second `hindsight serve` of the same user share the
    port silently (half the connections to each), so a port that answers is refused."""
    probe = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        with socket.create_connection((probe, port), timeout=1):
            pass
    except OSError:
        pass
    else:
        raise HindsightError(
            f"port {port} is in use: another server answers on {probe}:{port}; "
            "stop it or choose another port with --port"
        )
    try:
        listening_socket(host, port, 0, listen=False).close()
    except OSError as error:
        reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
        raise HindsightError(
            f"{host}:{port} {reason}; choose another address or port with --host and --port"
        ) from error
