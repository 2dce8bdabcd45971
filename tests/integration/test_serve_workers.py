"""`hindsight serve --workers 2` (cli/admin.py, web/listening.py): on Linux each worker
listens on a socket of its own, so the kernel spreads connections over them; a taken port is
refused before any worker starts; stopping the server stops its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hindsight.web.listening import spreads_connections

pytestmark = pytest.mark.skipif(not spreads_connections(), reason="Linux's SO_REUSEPORT")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _inodes(port: int, state: str) -> set[str]:
    """The sockets on 127.0.0.1:`port` in `state` (/proc/net/tcp: 0A listening, 01
    established), by inode."""
    local = f"0100007F:{port:04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {row[9] for row in rows if row[1] == local and row[3] == state}


def _listening(port: int) -> int:
    return len(_inodes(port, "0A"))


def _workers(server: subprocess.Popen[bytes], port: int) -> list[int]:
    """The server's children that listen on `port` (not multiprocessing's resource tracker)."""
    listening = _inodes(port, "0A")
    return [pid for pid in _children(server.pid) if _socket_inodes(pid) & listening]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HINDSIGHT_DATA_DIR": str(tmp_path),
        "HINDSIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "HINDSIGHT_ADMIN_PASSWORD": "serve workers test password",
    }


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hindsight", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    server = _serve(env, port)
    deadline = time.monotonic() + 60
    while _listening(port) < 2:
        assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
        assert time.monotonic() < deadline, "two workers did not start listening in 60 s"
        time.sleep(0.2)
    yield server, port
    if server.poll() is None:
        server.kill()
        server.wait(10)


def test_each_worker_listens_on_its_own_socket_and_connections_reach_both(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    assert _listening(port) == 2
    # Twenty connections at once, as wrk opens them, each kept open after its answer.
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        workers = _workers(server, port)
        assert len(workers) == 2
        established = _inodes(port, "01")
        held = [len(_socket_inodes(pid) & established) for pid in workers]
        # Spread by the kernel's hash: both workers hold some (all 20 on one: 2 in a million).
        assert sum(held) == 20 and all(held), held
    finally:
        for connection in connections:
            connection.close()


def test_stopping_the_server_stops_its_workers(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    workers = _workers(server, port)
    assert len(workers) == 2
    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)
    assert _listening(port) == 0


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_a_port_another_server_answers_on_is_refused_before_any_worker_starts(
    env: dict[str, str],
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        server = _serve(env, port)
        assert server.wait(60) == 1
        assert server.stderr is not None
        message = server.stderr.read().decode()
        assert f"port {port} is in use" in message and "--port" in message
        assert _listening(port) == 1  # the other server's socket alone
    with pytest.raises(OSError):  # and once it is gone, nothing of ours is left listening
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
