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


def test_an_imported_table_a_saved_model_set_and_an_export(
    server: str, sqlite_pool: tuple[str, object], artifacts: Path
) -> None:
    import polars as pl

    from queries import audit, engine, factors

    engine.configure(sqlite_pool[0])
    name = "浏览器 西部八省"
    ds = factors.import_dataset(
        audit.Actor.cli(),
        pl.DataFrame(
            {
                "province": ["四川", "云南", "贵州", "陕西", "甘肃", "青海", "新疆", "宁夏"],
                "gov": [68.6, 55.2, 60.7, 51.0, 45.3, 39.6, 47.7, 44.1],
                "infra": [30.8, 25.3, 28.9, 24.1, 22.0, 20.4, 23.9, 22.7],
                "rnd": [0.020, 0.011, 0.010, 0.021, 0.012, 0.004, 0.006, 0.014],
            }
        ),
        name=name,
        label="province",
        filename=None,
    )
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/factors")
        page.wait_for_selector("#factors-models-table", timeout=30000)
        page.click("#factors-dataset-dropdown")
        page.click(f"text={name}")
        page.wait_for_selector(f"text=导入数据集 #{ds}", timeout=30000)
        assert "infra" in page.inner_text("#factors-models-table")
        page.click("text=嵌套模型组")
        page.fill("#factors-models-textarea", "M1: infra\nM2: infra, rnd")
        page.click("#factors-apply-button")
        page.wait_for_selector("#factors-models-table th:has-text('M2')", timeout=30000)
        page.fill("#factors-set-name-input", "浏览器 模型组")
        page.click("#factors-set-save-button")
        page.wait_for_selector("text=已保存模型组", timeout=30000)
        with page.expect_download(timeout=30000) as got:
            page.click("#factors-export-csv-button")
        text = Path(got.value.path()).read_text(encoding="utf-8-sig")
        assert "表4 回归结果" in text and "M2" in text and "infra" in text
        page.screenshot(path=str(artifacts / "factors-imported-desk-1080p.png"), full_page=True)
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []
    saved = factors.model_sets().row(0, named=True)
    assert saved["name"] == "浏览器 模型组" and saved["dataset"] == str(ds)
    assert factors.model_set(set_id=saved["id"]).models == [["infra"], ["infra", "rnd"]]
