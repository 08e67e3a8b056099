"""The digital-divide page in Chromium: the map draws the 13 township zones with no tile server, a
click on a zone opens its panel, the indicator selector recolours the map, hover shows the figure's
inputs, and nothing leaves the host. (Desk and wall sizes are covered with every page in test_pages.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser

ZONES = "#divide-map .leaflet-townships-pane path"
MINGJIU = 7  # feature order of the schematic file: township codes ascending


def test_map_click_hover_and_switch(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/divide")
        page.wait_for_selector(ZONES, timeout=30000)
        assert page.locator(ZONES).count() == 13
        assert page.locator("#divide-map .leaflet-tile").count() == 0  # no basemap unless configured
        assert "老寨苗族乡" in page.inner_text("#divide-panel")  # the neediest township opens first
        page.locator(ZONES).nth(MINGJIU).dispatch_event("click")
        page.wait_for_function("() => document.querySelector('#divide-panel').innerText.includes('鸣鹫镇')")
        page.locator(ZONES).nth(MINGJIU).hover(force=True)
        tip = page.locator(".leaflet-tooltip")
        tip.wait_for()
        assert "鸣鹫镇" in tip.inner_text() and "2026Q4" in tip.inner_text()
        # Mingjiu: index 70 (4th of 5 classes); ethnic-minority share in the middle class
        assert page.locator(ZONES).nth(MINGJIU).get_attribute("fill") == "#dc2626"
        page.click("#divide-metric-dropdown")
        page.get_by_text("少数民族占比", exact=False).first.click()
        page.wait_for_function(
            "() => document.querySelector('#divide-legend').innerText.includes('少数民族占比')", timeout=15000
        )
        assert page.locator(ZONES).nth(MINGJIU).get_attribute("fill") == "#f59e0b"
        page.screenshot(path=str(artifacts / "divide-click.png"))
        assert watch.page_errors == [] and watch.console_errors == [], (
            watch.page_errors,
            watch.console_errors,
        )
        assert watch.off_host() == [], watch.off_host()


def test_counters_follow_the_click_and_bad_hours_are_named(server: str, artifacts: Path) -> None:
    """The counters card shows the clicked township's counters; hours that are not HH:MM are refused
    with a message on the page (a refusal writes nothing, so the shared server stays as it was)."""
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/divide")
        page.wait_for_selector(ZONES, timeout=30000)
        assert "老寨苗族乡" in page.inner_text("#divide-counter-township-name")
        page.locator(ZONES).nth(MINGJIU).dispatch_event("click")
        page.wait_for_function(
            "() => document.querySelector('#divide-counter-township-name').innerText.includes('鸣鹫镇')"
        )
        assert "鸣鹫" in page.inner_text("#divide-counter-list")
        page.click("#divide-counter-dropdown")
        page.get_by_role("option").first.click()
        page.fill("#divide-counter-opens-input", "9am")
        page.press("#divide-counter-opens-input", "Enter")
        page.click("#divide-counter-save-button")
        page.wait_for_function(
            "() => document.querySelector('#divide-counter-message').innerText.includes('HH:MM')",
            timeout=15000,
        )
        page.screenshot(path=str(artifacts / "divide-counters.png"))
        assert watch.page_errors == [] and watch.console_errors == [], (
            watch.page_errors,
            watch.console_errors,
        )
        assert watch.off_host() == [], watch.off_host()
