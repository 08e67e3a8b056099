"""The pool page on a hands-off wall (1920x1080 CSS px at device scale 2): what raised the alert is on
screen without scrolling, every source row fits, and neither headers nor English names are cut off."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser

# every grid row, its bottom edge against the window, and any header or cell whose text is clipped
MEASURE = """() => {
  const grid = document.querySelector('#pool-source-grid');
  const rows = [...grid.querySelectorAll('.ag-center-cols-container .ag-row')];
  const clipped = [...grid.querySelectorAll('.ag-header-cell-text, .ag-cell-value')]
    // a few px of glyph overhang is not clipping; a cut line or an ellipsis is a whole line or word
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 4)
    .map(e => e.textContent);
  return {
    rows: rows.length,
    bottom: Math.max(...rows.map(r => r.getBoundingClientRect().bottom)),
    height: window.innerHeight,
    first: rows.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)[0].innerText,
    clipped: clipped,
    scrolls: document.documentElement.scrollHeight > window.innerHeight,
  };
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wall_pool_shows_every_source_worst_first(server: str, lang: str) -> None:
    with browser_page(scale=2) as (page, watch):
        login(page, server, "admin", "admin-demo-2026")
        page.goto(f"{server}/lang/{lang}?next={quote('/pool?kiosk=1', safe='')}")
        page.wait_for_selector("#pool-source-grid .ag-row")
        page.wait_for_timeout(500)
        got = page.evaluate(MEASURE)
        assert got["rows"] == 20 and got["bottom"] <= got["height"] and not got["scrolls"], got
        assert ("县乡村物流平台" if lang == "zh" else "logistics") in got[
            "first"
        ]  # the silent source, on top
        assert got["clipped"] == [], got["clipped"]
        assert watch.page_errors == [] and watch.console_errors == []
