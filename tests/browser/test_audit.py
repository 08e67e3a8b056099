"""The responsibility log in Chromium: an administrator sees the chain's status and the newest entries
in the server-paged grid (the login just made is among them); any other role gets the refusal panel."""

from __future__ import annotations

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


def test_admin_sees_the_chain_and_the_newest_entries(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/audit")
        page.wait_for_selector("#audit-chain-status", timeout=60000)
        assert "alert-ok" in (page.get_attribute("#audit-chain-status", "class") or "")
        cells = "#audit-grid .ag-center-cols-container [col-id='actor']"
        # the grid draws its rows empty while the block is on its way: wait for the block, not the rows
        page.wait_for_function(
            f"() => [...document.querySelectorAll({cells!r})].some(c => c.textContent.trim() !== '')",
            timeout=60000,
        )
        actors = page.locator(cells).all_inner_texts()
        assert any("admin" in a for a in actors), actors
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []


def test_an_operator_is_refused(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "operator", "operator-demo-2026", next_path="/audit")
        page.wait_for_selector("#audit-denied-panel", timeout=60000)
        assert page.locator("#audit-grid").count() == 0
        assert watch.page_errors == [] and watch.off_host() == []
