"""The closed-loop page in Chromium at desk and wall size: the funnel and the clustered map of open cases
draw with no tile server, a KPI shows its formula with numerator and denominator on hover, the township
filter re-renders the view, overdue cases link to /case, the wall fits one screen, and nothing leaves the
host or reaches the console."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser

READY = "#loop-funnel-graph .main-svg"
MARKERS = "#loop-map .leaflet-cases-pane .leaflet-interactive, #loop-map .loop-cluster"


def _clean(watch: object) -> None:
    assert watch.page_errors == [], watch.page_errors  # type: ignore[attr-defined]
    assert watch.console_errors == [], watch.console_errors  # type: ignore[attr-defined]
    assert watch.off_host() == [], watch.off_host()  # type: ignore[attr-defined]


def test_desk_map_hover_filter_and_links(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/loop")
        page.wait_for_selector(READY, timeout=30000)
        page.wait_for_selector(MARKERS, timeout=30000)
        assert page.locator(MARKERS).count() > 0
        assert page.locator("#loop-map .leaflet-tile").count() == 0  # no basemap unless configured
        card = page.locator("#loop-kpi-closure")
        assert page.locator("#loop-kpi-closure .kpi-def").is_hidden()
        card.hover()
        text = page.locator("#loop-kpi-closure .kpi-def").inner_text()
        assert "公式" in text and "分子" in text and "分母" in text and "queries.loop" in text
        href = page.locator("#loop-overdue-close a.loop-case-link").first.get_attribute("href")
        assert href is not None and href.startswith("/case?id=")
        page.screenshot(path=str(artifacts / "loop-desk.png"), full_page=True)
        before = page.inner_text("#loop-rank-township")
        page.click("#loop-township-dropdown")
        page.get_by_text("文澜街道", exact=True).first.click()
        page.wait_for_function(
            "(b) => { const t = document.querySelector('#loop-rank-township');"
            " return t && t.innerText !== b; }",
            arg=before,
            timeout=15000,
        )
        ranked = page.inner_text("#loop-rank-township")
        assert "文澜街道" in ranked and "老寨苗族乡" not in ranked
        _clean(watch)


def test_wall_fits_one_screen(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/loop")
        page.wait_for_selector(READY, timeout=30000)
        page.goto(f"{server}/loop?kiosk=1")
        page.wait_for_selector(READY, timeout=30000)
        page.wait_for_selector(MARKERS, timeout=30000)
        dims = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
            " window.innerWidth, window.innerHeight]"
        )
        assert dims[0] <= dims[2] and dims[1] <= dims[3], f"wall page scrolls: {dims}"
        page.screenshot(path=str(artifacts / "loop-wall.png"))
        _clean(watch)
