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


def test_an_uploaded_table_a_saved_model_set_and_an_export(
    server: str, sqlite_pool: tuple[str, object], artifacts: Path, tmp_path: Path
) -> None:
    import polars as pl

    from queries import engine, factors

    engine.configure(sqlite_pool[0])
    name = "浏览器 西部八省"
    table = tmp_path / "west8.csv"
    table.write_text(
        "province,gov,infra,rnd\n四川,68.6,30.8,0.020\n云南,55.2,25.3,0.011\n贵州,60.7,28.9,0.010\n"
        "陕西,51.0,24.1,0.021\n甘肃,45.3,22.0,0.012\n青海,39.6,20.4,0.004\n新疆,47.7,23.9,0.006\n"
        "宁夏,44.1,22.7,0.014\n",
        encoding="utf-8",
    )
    with browser_page() as (page, watch):
        login(page, server, "leader", "leader-demo-2026", next_path="/factors")
        page.wait_for_selector("#factors-models-table", timeout=30000)
        page.click("text=导入数据表")
        page.set_input_files("#factors-upload input[type=file]", str(table))
        page.wait_for_selector("text=预检通过", timeout=30000)
        assert "8 行" in page.inner_text("#factors-import-message")
        page.fill("#factors-import-name-input", name)
        page.click("#factors-import-button")
        page.wait_for_selector("text=已导入数据集", timeout=30000)
        ds = int(factors.datasets().filter(pl.col("name") == name)["id"][0])
        page.click("#factors-dataset-dropdown")
        page.click(f"text={name}")
        # the table is redrawn on the server for the chosen dataset (its columns name the rows)
        page.wait_for_selector("#factors-models-table td:has-text('infra')", timeout=30000)
        assert f"导入数据集 #{ds}" in page.inner_text("#factors-content")
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
