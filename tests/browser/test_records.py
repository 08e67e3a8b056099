"""The record browser in Chromium, logged in as each role: what the grid shows (masked values present,
core records absent for operators, only the viewer's township or department), and a cleared role's
reveal from the detail panel, written to the responsibility log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from queries import audit
from queries import engine as eng
from queries.generate.build import BuildReport
from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser

ROLES = {
    "operator": ("operator-demo-2026", None),
    "wenlan": ("wenlan-demo-2026", ("township", "文澜街道")),
    "minzheng": ("minzheng-demo-2026", ("dept", "市民政局")),
    "admin": ("admin-demo-2026", None),
}
MASKED = re.compile(r"^\d{1,4}\*+\d{1,4}$")


def column(page: Any, col: str) -> list[str]:
    return [
        t.strip()
        for t in page.locator(f"#records-grid .ag-center-cols-container [col-id='{col}']").all_inner_texts()
    ]


def _clean(watch: Any) -> None:
    assert watch.page_errors == [], watch.page_errors
    assert watch.console_errors == [], watch.console_errors
    assert watch.off_host() == [], watch.off_host()


@pytest.mark.parametrize("name", ROLES)
def test_each_role_sees_what_its_clearance_allows(
    server: str, sqlite_pool: tuple[str, BuildReport], name: str, artifacts: Path
) -> None:
    password, scoped = ROLES[name]
    with browser_page() as (page, watch):
        login(page, server, name, password, next_path="/records")
        page.wait_for_selector("#records-grid .ag-row [col-id='record_key']", timeout=30000)
        page.wait_for_function(
            "() => document.querySelectorAll('#records-grid .ag-center-cols-container .ag-row').length >= 10"
        )
        classes = column(page, "classification")
        keys = column(page, "record_key")
        assert len(classes) == len(keys) >= 10
        hidden = [k for c, k in zip(classes, keys, strict=True) if c != "公开"]
        assert hidden and all(MASKED.match(k) for k in hidden), hidden[:5]  # masked values present
        assert all(k.isdigit() for c, k in zip(classes, keys, strict=True) if c == "公开")
        if name == "operator":
            assert "核心" not in classes  # core records absent
            assert page.locator("#records-reveal-button").is_hidden()
        else:
            assert page.locator("#records-reveal-button").is_visible()
        if scoped:
            col, value = scoped
            assert set(column(page, col)) == {value}
        assert "遮蔽规则" in page.inner_text("#records-legend")
        page.screenshot(path=str(artifacts / f"records-{name}.png"))
        _clean(watch)


def test_a_cleared_role_reveals_one_record_and_it_is_logged(
    server: str, sqlite_pool: tuple[str, BuildReport], artifacts: Path
) -> None:
    url, _ = sqlite_pool
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/records?cls=sensitive")
        page.wait_for_selector("#records-grid .ag-row [col-id='record_key']", timeout=30000)
        row = page.locator("#records-grid .ag-center-cols-container .ag-row").first
        masked = row.locator("[col-id='record_key']").inner_text().strip()
        rid = row.get_attribute("row-id")
        assert MASKED.match(masked) and rid
        row.locator("[col-id='township']").click()
        page.wait_for_selector("#records-detail-body table")
        assert masked in page.inner_text("#records-detail-body")
        page.click("#records-reveal-button")
        page.wait_for_selector("#records-detail-body .detail-note:has-text('责任日志')")
        text = page.inner_text("#records-detail-body")
        revealed = re.search(r"业务主键\s+(\d+)", text)
        assert revealed and revealed.group(1)[:2] == masked[:2] and revealed.group(1)[-2:] == masked[-2:]
        page.screenshot(path=str(artifacts / "records-reveal.png"))
        _clean(watch)
    eng.configure(url)
    entry = audit.show(obj=f"record:{rid}", limit=1)
    assert entry["action"][0] == "record.reveal" and entry["actor_username"][0] == "admin"
