"""The appeals page in Chromium: a leader sees the KPIs, the rates per decision type and the model's
disclosure. No console errors, no request leaving localhost."""

from __future__ import annotations

import pytest

from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


def test_leader_sees_the_appeals_page(server: str) -> None:
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/appeals")
        page.wait_for_selector("#appeals-kpis", timeout=60000)
        assert "申诉率" in page.inner_text("#appeals-kpis")
        page.wait_for_selector("#appeals-model-card")
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []
