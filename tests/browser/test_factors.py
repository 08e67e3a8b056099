"""The factor-analysis page in Chromium: a choice redraws the models on the server, with no console
error and no request leaving the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


def test_robust_errors_redraw_table4(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/factors")
        page.wait_for_selector("#factors-models-table", timeout=30000)
        assert "M4" in page.inner_text("#factors-models-table")
        page.click("#factors-robust-checklist input")
        page.wait_for_selector("text=HC1 稳健标准误", timeout=30000)
        assert page.locator("#factors-corr-graph .main-svg").count() > 0
        page.screenshot(path=str(artifacts / "factors-robust-desk-1080p.png"), full_page=True)
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []
