"""Wall-screen behaviour in a real browser: the playlist rotates, Space pauses it, a red alert takes over,
and a missing pool shows the error panel instead of a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from queries.generate.build import BuildReport
from tests.browser.chromium import browser_page, login
from tests.browser.conftest import ServerFactory

pytestmark = pytest.mark.browser


def path_of(page: object) -> str:
    return urlparse(page.url).path  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def quiet_server(start_server: ServerFactory, sqlite_pool: tuple[str, BuildReport]) -> str:
    """No alerts at all: thresholds no incident reaches, so the playlist simply rotates."""
    return start_server(sqlite_pool[0], CC_OUTAGE_HOURS="1000", CC_SPIKE_RATIO="1000")


@pytest.fixture(scope="session")
def spike_only_server(start_server: ServerFactory, sqlite_pool: tuple[str, BuildReport]) -> str:
    """Only the overview's spike alert is red; the pool page (outages only) is calm."""
    return start_server(sqlite_pool[0], CC_OUTAGE_HOURS="1000")


def test_playlist_rotates_and_space_pauses(quiet_server: str) -> None:
    with browser_page() as (page, watch):
        login(
            page,
            quiet_server,
            "operator",
            "operator-demo-2026",
            next_path="/?playlist=overview:5,pool:5&kiosk=1",
        )
        page.wait_for_selector("#overview-ranking-graph .main-svg", timeout=60000)
        assert "1/2" in page.inner_text("#app-wall-status")
        page.wait_for_selector("#pool-source-grid .ag-row", timeout=60000)
        assert path_of(page) == "/pool"
        assert "playlist=overview" in page.url  # the playlist survives rotation
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.querySelector('#app-wall-status').textContent.includes('已暂停')"
        )
        page.wait_for_timeout(7000)
        assert path_of(page) == "/pool"  # paused: no rotation
        page.click("#app-wall-status")  # a click resumes, too
        page.wait_for_function("() => location.pathname === '/'", timeout=60000)
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []


def test_red_alert_takes_over_the_rotation(spike_only_server: str) -> None:
    with browser_page(scale=2) as (page, watch):
        login(
            page, spike_only_server, "admin", "admin-demo-2026", next_path="/pool?playlist=pool:5,overview:5"
        )
        page.wait_for_function("() => location.pathname === '/'", timeout=60000)
        page.wait_for_function(
            "() => document.querySelector('#app-wall-status').textContent.includes('告警接管')"
        )
        page.wait_for_timeout(7000)
        assert path_of(page) == "/"  # the red page holds the wall past its dwell time
        assert page.locator(".alert-red").count() >= 1
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []


def test_pool_lost_while_serving_shows_the_error_panel(
    start_server: ServerFactory, sqlite_pool: tuple[str, BuildReport], tmp_path: Path
) -> None:
    """The database goes away under a running server (disk unmounted, PostgreSQL down)."""
    copy = tmp_path / "pool.sqlite"
    shutil.copy(sqlite_pool[0].split("///", 1)[1], copy)
    base = start_server(f"sqlite:///{copy}")
    with browser_page() as (page, watch):
        login(page, base, "admin", "admin-demo-2026")
        page.wait_for_selector("#overview-kpis")
        copy.unlink()
        page.reload()
        page.wait_for_selector("#app-error-panel")
        text = page.inner_text("#app-error-panel")
        assert "数据池暂不可用" in text and "command-center seed" in text
        assert "Traceback" not in page.content()
        page.wait_for_selector("#app-asof-badge.asof-error")
        assert watch.off_host() == [] and watch.page_errors == []
    with browser_page() as (page, _):
        login(page, base, "admin", "admin-demo-2026")  # a new login without a pool: a message, not a crash
        assert "The pool is unavailable" in page.inner_text("#login-error")
    assert not copy.exists()  # looking at a lost pool never creates an empty one
