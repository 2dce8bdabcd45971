"""A local stand-in for GitHub's and Jira's "create issue" endpoints: it validates each request
body against the vendor's schema excerpt in tests/data/trackers/ and answers as they do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent / "data" / "trackers"


def github_validator() -> Draft202012Validator:
    return Draft202012Validator(
        json.loads((SCHEMAS / "github-issues-create.schema.json").read_text())
    )


def jira_validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    schema = json.loads((SCHEMAS / "jira-issue-create.schema.json").read_text())
    fields = schema.pop("fields_v2")
    return Draft202012Validator(schema), Draft202012Validator(fields)


def schema_errors(path: str, body: Any) -> list[str]:
    """What is wrong with `body` for the endpoint at `path` (empty: it validates)."""
    if path.startswith("/repos/") and path.endswith("/issues"):
        return [e.message for e in github_validator().iter_errors(body)]
    if path == "/rest/api/2/issue":
        whole, fields = jira_validators()
        errors = [e.message for e in whole.iter_errors(body)]
        if isinstance(body, dict):
            errors += [e.message for e in fields.iter_errors(body.get("fields"))]
        return errors
    return [f"no such endpoint {path}"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    errors: list[str]


@dataclass
class TrackerServer:
    url: str
    received: list[Received] = field(default_factory=list)
    # Repositories or projects the server refuses, as a tracker refuses an unknown one.
    refused: set[str] = field(default_factory=set)


def _handler(state: TrackerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            errors = schema_errors(self.path, body)
            state.received.append(Received(self.path, dict(self.headers), body, errors))
            target = (
                self.path.split("/")[2] + "/" + self.path.split("/")[3]
                if self.path.startswith("/repos/")
                else ""
            )
            if isinstance(body, dict) and isinstance(body.get("fields"), dict):
                target = str((body["fields"].get("project") or {}).get("key", ""))
            if errors:
                self._answer(422, {"message": "Validation Failed", "errors": errors})
            elif target in state.refused:
                self._answer(404, {"message": "Not Found"})
            elif self.path == "/rest/api/2/issue":
                number = len(state.received)
                self._answer(
                    201,
                    {
                        "id": str(10000 + number),
                        "key": f"{target}-{number}",
                        "self": f"{state.url}/rest/api/2/issue/{10000 + number}",
                    },
                )
            else:
                number = len(state.received)
                self._answer(
                    201,
                    {
                        "number": number,
                        "html_url": f"https://github.com/{target}/issues/{number}",
                        "state": "open",
                    },
                )

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def tracker_server() -> Iterator[TrackerServer]:
    """Start the server on a free local port; stop it afterwards."""
    state = TrackerServer(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
