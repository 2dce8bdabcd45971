"""Real receivers for outgoing notifications: an SMTP server (aiosmtpd) and a webhook receiver
(the standard library's HTTP server), each in a thread of the test process, counting what
arrives."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted."""

    messages: list[Message] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1; yields its mailbox and port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name on the wire."""
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Hooks:
    """Requests the webhook receiver got; `fail[path]` answers that many 500s first,
    `fail_each[path]` that many for each delivery (X-Hindsight-Delivery), and a path in
    `broken` always answers 500."""

    requests: list[Received] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    fail_each: dict[str, int] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def webhook_receiver() -> Iterator[tuple[Hooks, str]]:
    """An HTTP server on 127.0.0.1; yields its record and base URL."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with hooks.arrived:
                hooks.requests.append(Received(self.path, dict(self.headers), body))
                failing = self.path in hooks.broken or hooks.fail.get(self.path, 0) > 0
                if self.path in hooks.fail_each:
                    delivery = self.headers.get("X-Hindsight-Delivery")
                    tries = [
                        r
                        for r in hooks.to(self.path)
                        if r.header("X-Hindsight-Delivery") == delivery
                    ]
                    failing = failing or len(tries) <= hooks.fail_each[self.path]
                if self.path in hooks.fail and hooks.fail[self.path] > 0:
                    hooks.fail[self.path] -= 1
                hooks.arrived.notify_all()
            answer = b"receiver down" if failing else b"ok"
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
