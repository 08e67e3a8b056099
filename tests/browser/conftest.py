"""Live servers for the browser tests: the real `command-center serve` (gunicorn) on a loopback port."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from queries.generate.build import BuildReport
from tests.browser import chromium
from tests.conftest import absent
from tests.servers import serve, stop

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


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


ServerFactory = Callable[..., str]


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(url: str, **settings: str) -> str:
        proc, base = serve(url, tmp_path_factory.mktemp("instance"), **settings)
        procs.append(proc)
        return base

    yield start
    stop(procs)


@pytest.fixture(scope="session")
def server(start_server: ServerFactory, sqlite_pool: tuple[str, BuildReport]) -> str:
    url, _ = sqlite_pool
    return start_server(url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
