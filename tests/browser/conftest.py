"""Live servers for the browser tests: the real `command-center serve` (gunicorn) on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from queries.generate.build import BuildReport
from tests.browser import chromium
from tests.conftest import absent

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


START_WAIT_S = 180


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    if not chromium.available():
        absent("Debian's chromium or the playwright package is missing (.ci/run installs them)")


@pytest.fixture(scope="module", autouse=True)
def _one_chromium(_browser_available: None) -> Iterator[None]:
    """A module's browser pages all open in one Chromium process (tests/browser/chromium.py), closed
    when the module ends so that no Playwright loop outlives the browser tests."""
    with chromium.shared_browser():
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ServerFactory = Callable[..., str]


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(url: str, **settings: str) -> str:
        port = _free_port()
        inst = tmp_path_factory.mktemp("instance")
        env = dict(
            os.environ,
            CC_DATABASE_URL=url,
            CC_INSTANCE_DIR=str(inst),
            CC_BIND=f"127.0.0.1:{port}",
            CC_WORKERS="2",
            CC_THREADS="4",
            **settings,
        )
        exe = Path(sys.executable).with_name("command-center")
        log = open(inst / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
        proc = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        # a readiness wait, not a speed check: gunicorn imports every page in each worker, which on a
        # loaded 2-core machine has taken over 30 s
        deadline = time.monotonic() + START_WAIT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(inst / 'server.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                return base
            except urllib.error.HTTPError:
                return base  # 503 from a missing pool is still a running server
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server did not start in {START_WAIT_S} s")

    yield start
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=15)


@pytest.fixture(scope="session")
def server(start_server: ServerFactory, sqlite_pool: tuple[str, BuildReport]) -> str:
    url, _ = sqlite_pool
    return start_server(url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
