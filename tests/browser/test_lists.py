"""The Three-Lists-in-One page in Chromium (desk and wall sizes are covered for every page by
test_pages): a department head lands on their own list and sees only their department; the matrix opens
from the view switch; nothing leaves the host and the console stays clean."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from queries import lists, lists_io
from queries.scope import CITY_SCOPE
from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


def test_department_head_lands_on_their_own_list(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "minzheng", "minzheng-demo-2026", next_path="/lists")
        page.wait_for_selector("#lists-dept-head")
        assert "市民政局" in page.inner_text("#lists-dept-head")
        page.wait_for_selector("#lists-gap-grid .ag-row")
        fixers = page.locator("#lists-gap-grid .ag-cell[col-id='fixer']").all_inner_texts()
        assert fixers and set(fixers) == {"市民政局"}, fixers
        # no other bureau's name anywhere in the department's own list
        body = page.inner_text("#lists-body")
        assert "市公安局" not in body and "市住房和城乡建设局" not in body
        page.screenshot(path=str(artifacts / "lists-department-head-1080p.png"))
        # the matrix shows the department's own column only
        page.click("#lists-view-radio label:has-text('矩阵')")
        page.wait_for_selector("#lists-matrix-grid .ag-row")
        headers = page.locator("#lists-matrix-grid .ag-header-cell-text").all_inner_texts()
        assert "民政" in headers and "公安" not in headers, headers
        assert watch.page_errors == [] and watch.console_errors == [], watch.console_errors
        assert watch.off_host() == []


def test_leader_opens_the_matrix_of_every_type_and_department(server: str, artifacts: Path) -> None:
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/lists?view=matrix")
        page.wait_for_selector("#lists-matrix-grid .ag-row")
        headers = page.locator("#lists-matrix-grid .ag-header-cell-text").all_inner_texts()
        assert {"公安", "民政", "应急", "数据局"} <= set(headers)
        # every department column is on screen at 1920x1080: no horizontal scrolling to find one
        last = page.locator("#lists-matrix-grid .ag-header-cell[col-id='c18']").bounding_box()
        assert last is not None and last["x"] + last["width"] <= 1920
        assert page.locator("#lists-matrix-grid .lists-gap").count() > 0  # gaps marked in place
        page.screenshot(path=str(artifacts / "lists-matrix-1080p.png"))
        assert watch.page_errors == [] and watch.console_errors == [], watch.console_errors
        assert watch.off_host() == []


def test_admin_dry_runs_an_import(
    server: str, sqlite_configured: str, artifacts: Path, tmp_path: Path
) -> None:
    """The import's dry run in the browser: a bad file's row-level reasons and no confirm; a changed file
    what would change and the confirm (not clicked: the session's server pool stays as it is)."""
    t = lists.export_tables(dept_id=2, scope=CITY_SCOPE)
    assert t is not None
    code = t["steps"]["code"][0]
    good = dict(t)
    good["steps"] = t["steps"].with_columns(
        pl.when(pl.col("code") == code).then(pl.lit("9d")).otherwise("limit").alias("limit")
    )
    bad = dict(t)
    bad["problems"] = t["problems"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("no_such_bureau"))
        .otherwise("owner_dept")
        .alias("owner_dept")
    )
    (tmp_path / "bad.xlsx").write_bytes(lists_io.xlsx_bytes(bad, "x"))
    (tmp_path / "good.zip").write_bytes(lists_io.csv_zip_bytes(good, "x"))
    with browser_page() as (page, watch):
        login(page, server, "admin", "admin-demo-2026", next_path="/lists?view=dept&dept=civil_affairs")
        page.click("#lists-import-box summary")  # the import is folded until opened
        page.wait_for_selector("#lists-import-upload")
        page.set_input_files("#lists-import-upload input[type=file]", str(tmp_path / "bad.xlsx"))
        page.wait_for_selector("#lists-import-problems")
        text = page.inner_text("#lists-import-result")
        assert "no_such_bureau" in text and "整体拒绝" in text, text
        assert not page.is_visible("#lists-import-confirm-button")
        page.set_input_files("#lists-import-upload input[type=file]", str(tmp_path / "good.zip"))
        page.wait_for_selector("#lists-import-changes")
        text = page.inner_text("#lists-import-result")
        assert "试运行通过" in text and code in text, text
        assert page.is_visible("#lists-import-confirm-button")
        page.locator("#lists-import-box").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "lists-import-dry-run-1080p.png"), full_page=True)
        assert watch.page_errors == [] and watch.console_errors == [], watch.console_errors
        assert watch.off_host() == []
