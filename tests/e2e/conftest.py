"""Browser tests: a real `hindsight serve` on a free port and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("HINDSIGHT_CHROMIUM", "/usr/bin/chromium"))
ADMIN_PASSWORD = "e2e admin password"
REVIEWER_PASSWORD = "e2e reviewer password"
# Screenshots go to a scratch folder; HINDSIGHT_UPDATE_SCREENSHOTS=1 refreshes docs/images.
ARTIFACTS = (
    Path(__file__).parents[2] / "docs" / "images"
    if os.environ.get("HINDSIGHT_UPDATE_SCREENSHOTS") == "1"
    else Path(os.environ.get("TMPDIR", "/tmp")) / "hindsight-e2e-artifacts"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment `server` runs with: a test seeds data with `hindsight` commands in it."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("e2e")
    return {
        **os.environ,
        "HINDSIGHT_DATA_DIR": str(folder),
        "HINDSIGHT_DATABASE_URL": f"sqlite:///{folder / 'e2e.db'}",
        "HINDSIGHT_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


@pytest.fixture(scope="module")
def server(server_env: dict[str, str]) -> Iterator[str]:
    env = server_env
    command = [sys.executable, "-m", "hindsight"]
    # Accounts made before the first start: then serve creates no admin of its own.
    for username, role, password in (
        ("admin", "admin", ADMIN_PASSWORD),
        ("reviewer", "editor", REVIEWER_PASSWORD),
    ):
        subprocess.run(
            [*command, "user", "create", username, "--role", role, "--password", password],
            env=env,
            check=True,
            capture_output=True,
        )
    port = _free_port()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"hindsight serve did not start: {process.communicate()[0].decode()}")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
