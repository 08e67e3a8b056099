"""Every page in Chromium at 1920x1080 and at 4K (device scale 2), desk and wall: it loads, its key
element shows, the console stays clean, and no request leaves the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import browser_page, login
from tests.registry import data_pages

pytestmark = pytest.mark.browser

PAGES = {name: (spec.path, spec.ready) for name, spec in data_pages().items()}
SIZES = {"1080p": 1, "4k": 2}


def _clean(watch: object) -> None:
    assert watch.page_errors == [], watch.page_errors  # type: ignore[attr-defined]
    assert watch.console_errors == [], watch.console_errors  # type: ignore[attr-defined]
    assert watch.off_host() == [], watch.off_host()  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", SIZES)
def test_login_page(server: str, size: str, artifacts: Path) -> None:
    with browser_page(scale=SIZES[size]) as (page, watch):
        page.goto(server + "/")
        page.wait_for_selector("#login-card")
        page.screenshot(path=str(artifacts / f"login-{size}.png"))
        login(page, server, "admin", "wrong-password")
        assert "Wrong username or password" in page.inner_text("#login-error")
        assert watch.off_host() == []
        assert watch.page_errors == []


@pytest.fixture(scope="module")
def admin_cookies(server: str) -> list[dict[str, Any]]:
    """The admin's session cookie from one login through the form, for the page tests below: each opens
    its page in a fresh context holding it instead of logging in again (an argon2 hash and the login
    page's load each time; the login itself is tested above, with `next`, and in test_security.py)."""
    with browser_page() as (page, _):
        login(page, server, "admin", "admin-demo-2026")
        page.wait_for_selector("#app-nav")
        return list(page.context.cookies())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("mode", ["desk", "wall"])
@pytest.mark.parametrize("name", PAGES)
def test_page(
    server: str, admin_cookies: list[dict[str, Any]], name: str, mode: str, size: str, artifacts: Path
) -> None:
    path, key = PAGES[name]
    with browser_page(scale=SIZES[size]) as (page, watch):
        page.context.add_cookies(admin_cookies)
        page.goto(server + path)
        page.wait_for_selector(key, timeout=30000)
        if mode == "wall":
            page.goto(f"{server}{path}?kiosk=1")
            page.wait_for_selector(key, timeout=30000)
            assert page.locator("#app-nav").is_hidden()
            dims = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
                " window.innerWidth, window.innerHeight]"
            )
            assert dims[0] <= dims[2] and dims[1] <= dims[3], f"wall page scrolls: {dims}"
        else:
            assert page.locator("#app-nav").is_visible()
        assert page.locator("#app-asof-badge .asof-time").inner_text().startswith("2026-11-20")
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / f"{name}-{mode}-{size}.png"))
        _clean(watch)


def test_kpi_definition_on_hover(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026")
        card = page.locator("#overview-kpi-ontime")
        card.wait_for()
        assert page.locator("#overview-kpi-ontime .kpi-def").is_hidden()
        card.hover()
        text = page.locator("#overview-kpi-ontime .kpi-def").inner_text()
        assert "公式" in text and "48" in text and "queries.overview" in text
        _clean(watch)


def test_ranking_kpi_can_be_switched(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026")
        page.wait_for_selector("#overview-ranking-graph .main-svg")
        page.click("#overview-kpi-dropdown")
        page.get_by_text("每千人日均数据量", exact=False).first.click()
        page.wait_for_function(
            "() => document.querySelector('#overview-ranking-graph .gtitle').textContent.includes('每千人')"
        )
        _clean(watch)


def test_english(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026")
        page.wait_for_selector("#app-lang-en")
        page.click("#app-lang-en")
        page.wait_for_selector("#overview-ranking-graph .main-svg")
        assert "Which township leads" in page.inner_text("#overview-ranking-graph")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#app-root").get_attribute("lang") == "en"
        _clean(watch)


def test_bad_url_parameters_get_a_message(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/?playlist=overview:9,harvest:20&lang=fr")
        page.wait_for_selector("#app-notice .notice")
        text = page.inner_text("#app-notice")
        assert "harvest" in text and "fr" in text
        _clean(watch)


def test_ranking_exports_a_csv_for_meetings(server: str, tmp_path: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026")
        page.wait_for_selector("#overview-export-button")
        with page.expect_download() as dl:
            page.click("#overview-export-button")
        target = tmp_path / "kpis.csv"
        dl.value.save_as(target)
        text = target.read_text(encoding="utf-8-sig")
        lines = text.splitlines()
        assert lines[0].startswith("# 近30日, 数据截至 2026-11-20")
        assert "乡镇(街道)" in lines[1] and "On-time rate" in lines[1]
        assert len(lines) == 2 + 13 and any("草坝镇" in line for line in lines)
        _clean(watch)


def test_pool_grid_flags_only_the_silent_source(
    server: str, sqlite_pool: tuple[str, object], artifacts: Path
) -> None:
    from queries import engine
    from tests.held_rows import HELD, empty_quarantine, hold

    engine.configure(str(sqlite_pool[0]))
    hold(HELD)  # the server's pool: rows held in its quarantine (no records added, no figure moves)
    try:
        _pool_page_with_quarantine(server, artifacts)
    finally:
        empty_quarantine(str(sqlite_pool[0]))  # the session's pool as the other tests expect it


def _pool_page_with_quarantine(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/pool")
        page.wait_for_selector("#pool-source-grid .ag-row")
        flagged = page.locator("#pool-source-grid .cell-bad")
        assert flagged.count() == 1  # the logistics platform; nightly batches are allowed their night
        row = page.locator("#pool-source-grid .ag-row:has(.cell-bad)").first.inner_text()
        assert "县乡村物流平台" in row
        # drill-down: a defect rate is a link to the records behind it
        link = page.locator("#pool-source-grid .ag-row a[href^='/records?']").first
        assert "defect=" in (link.get_attribute("href") or "")
        # the owners' scorecards: a name on every card, definitions on hover
        score = page.locator("#pool-score-community_governance-completeness")
        score.scroll_into_view_if_needed()
        score.hover()
        assert (
            "1 − 缺失记录 / 记录数"
            in page.locator("#pool-score-community_governance-completeness .kpi-def").inner_text()
        )
        assert "数据负责人" in page.inner_text("#pool-score-community_governance")
        # the quarantine: counts by reason, the held rows a block at a time, one opened for correction
        page.locator("#pool-quarantine-counts-table").scroll_into_view_if_needed()
        assert "区划代码或地名无法对应到蒙自市的乡镇街道" in page.inner_text("#pool-quarantine-counts-table")
        page.wait_for_selector("#pool-quarantine-grid .ag-row")
        page.locator("#pool-quarantine-grid .ag-row .ag-cell[col-id='raw']").first.click()
        page.wait_for_selector("#pool-quarantine-release-button")
        assert page.locator(".q-field input").count() >= 2
        page.screenshot(path=str(artifacts / "pool-quarantine-desk-1080p.png"), full_page=True)
        _clean(watch)


def test_unknown_path_shows_the_404_page(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/no/such/page")
        page.wait_for_selector("#notfound-panel")
        assert "没有这个页面" in page.inner_text("#notfound-panel")
        # the document itself answers HTTP 404 by design, and Chromium logs that one; nothing else
        assert (
            watch.console_errors.count(
                "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
            )
            == 1
        )
        watch.console_errors.clear()
        _clean(watch)
