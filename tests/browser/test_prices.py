"""The price monitor in Chromium: the board draws, a series asked for in the URL shows which WFP rule it
fails, another series is picked from the dropdown, the cooperatives' production and sales against price, the wall fits 1920x1080 at device scale 1 and 2;
the console stays clean and no request leaves the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


def _clean(watch: object) -> None:
    assert watch.page_errors == [], watch.page_errors  # type: ignore[attr-defined]
    assert watch.console_errors == [], watch.console_errors  # type: ignore[attr-defined]
    assert watch.off_host() == [], watch.off_host()  # type: ignore[attr-defined]


def test_prices_desk(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/prices?product=grape&market=caoba")
        page.wait_for_selector("#prices-board-graph .main-svg", timeout=30000)
        page.wait_for_selector("#prices-series-graph .main-svg", timeout=30000)
        assert "24" in page.inner_text("#prices-qualify-notice")  # less than 3 years: 24 months
        assert "异常" in page.inner_text("#prices-warnings-table")
        # every market the admin sees is on the map (one named marker each), inside the 13 townships'
        # outlines, with no tile fetched (the off-host check below)
        page.wait_for_selector("#prices-market-map .leaflet-tooltip", timeout=30000)
        assert page.locator("#prices-market-map .leaflet-tooltip").count() == 5
        assert page.locator("#prices-market-map path").count() == 5 + 13
        page.screenshot(path=str(artifacts / "prices-desk-1080p.png"), full_page=True)
        # pick another product: the series panel redraws without the failing-series notice
        page.click("#prices-product-dropdown")
        page.get_by_role("option", name="精瘦肉").click()
        page.click("#prices-market-dropdown")
        page.get_by_role("option", name="文澜农贸市场").click()
        page.wait_for_selector("#prices-qualify-notice", state="detached", timeout=30000)
        assert "精瘦肉" in page.inner_text("#prices-series-graph")
        page.locator("#prices-kpi-hog").hover()
        assert "玉米" in page.inner_text("#prices-kpi-hog .kpi-def")
        # lean pork is retail only: the production-and-sales chart says no cooperative reports it
        assert "没有合作社报告" in page.inner_text("#prices-volumes-empty")
        _clean(watch)


def test_prices_production_and_sales(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/prices?product=tomato&market=farmgate")
        page.wait_for_selector("#prices-volumes-graph .main-svg", timeout=30000)
        text = page.inner_text("#prices-volumes-graph")
        assert "合作社的产销是否随价格变化?" in text and "吨" in text
        assert page.locator("#prices-volumes-graph .bars .point").count() > 0  # produced and sold bars
        page.locator("#prices-volumes-graph").screenshot(path=str(artifacts / "prices-volumes-1080p.png"))
        _clean(watch)


@pytest.mark.parametrize("scale", [1, 2])
def test_prices_wall(server: str, artifacts: Path, scale: int) -> None:
    with browser_page(scale=scale) as (page, watch):
        login(page, server, "operator", "operator-demo-2026", next_path="/prices?kiosk=1")
        page.wait_for_selector("#prices-board-graph .main-svg", timeout=30000)
        page.wait_for_selector("#prices-hog-graph .main-svg", timeout=30000)
        dims = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
            " window.innerWidth, window.innerHeight]"
        )
        assert dims[0] <= dims[2] and dims[1] <= dims[3], f"wall page scrolls: {dims}"
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / f"prices-wall-{'4k' if scale == 2 else '1080p'}.png"))
        _clean(watch)
