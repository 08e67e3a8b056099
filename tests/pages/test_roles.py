"""Every page for every demo role: each figure, denominator and check on the page agrees with a direct query
in that role's scope, and nothing outside the scope shows up as rows of zeros or another bureau's names."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete

from dashboard import figures
from dashboard.exports import csv_for_excel
from queries import activity, meta, overview
from queries import pool as poolq
from queries.generate import reference as ref
from queries.scope import Scope, Viewer
from queries.tables import login_event
from tests.conftest import absent
from tests.pages.conftest import login, render_page, text_of

DEMO = {u[0]: u for u in ref.DEMO_USERS}
ROLES = ("admin", "leader", "wenlan", "minzheng", "operator")
SCOPED = ("wenlan", "minzheng", "operator")
WENLAN = 532503001


def scope_of(name: str) -> Scope:
    _, _, role, dept, town, _ = DEMO[name]
    dept_id = next((i for i, code, _, _ in ref.DEPARTMENTS if code == dept), None)
    return Viewer(0, name, name, role, department_id=dept_id, township_code=town).scope()


def sign_in(client: FlaskClient, url: str, name: str) -> None:
    # test_app locks "operator" on purpose with five wrong passwords; that lock is not under test here
    with create_engine(url).begin() as conn:
        conn.execute(delete(login_event).where(login_event.c.username == name, login_event.c.ok.is_(False)))
    assert login(client, name, DEMO[name][5]).status_code == 302


def find(tree: Any, cid: str) -> dict[str, Any] | None:
    """The serialised component with this id, if any."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == cid:
            return tree
        for v in tree.values():
            got = find(v, cid)
            if got is not None:
                return got
    elif isinstance(tree, list):
        for v in tree:
            got = find(v, cid)
            if got is not None:
                return got
    return None


def kpi_value(tree: Any, cid: str) -> str:
    card = find(tree, cid)
    assert card is not None, (cid, text_of(tree)[:600])
    value = next(c for c in card["props"]["children"] if c["props"].get("className") == "kpi-value")
    return str(value["props"]["children"])


@pytest.fixture
def signed(client: FlaskClient, sqlite_pool: tuple[str, object]) -> Any:
    url, _ = sqlite_pool

    def go(name: str) -> FlaskClient:
        sign_in(client, url, name)
        return client

    return go


@pytest.mark.parametrize("name", ROLES)
def test_overview_figures_match_the_scope(signed: Any, name: str) -> None:
    client = signed(name)
    page = render_page(client, "/")
    sc = scope_of(name)
    st = meta.pool_status()
    rules = overview.AlertRules()
    head = overview.headline(scope=sc, as_of=st.as_of, rules=rules)
    mods = activity.delivering(scope=sc, as_of=st.as_of, rules=rules, by="module")
    assert kpi_value(page, "overview-kpi-week") == f"{head.week:,}"
    assert kpi_value(page, "overview-kpi-today") == f"{head.today:,}"
    assert kpi_value(page, "overview-kpi-modules") == f"{mods.up}/{mods.total}"
    held = activity.scope_module_ids(scope=sc)
    codes = {m.code for m in ref.MODULES if m.id in held}
    text = text_of(page)
    for m in ref.MODULES:  # a tile for each module the scope holds, none for the others
        assert (f"overview-tile-{m.code}" in text) == (m.code in codes), m.code
    outside = find(page, "overview-tiles-outside")
    if mods.outside:
        assert outside is not None and f"{mods.outside}" in text_of(outside)
    else:
        assert outside is None


def test_minzheng_sees_two_sources_and_its_modules(signed: Any) -> None:
    page = render_page(signed("minzheng"), "/")
    card = find(page, "overview-kpi-modules")
    own = [m for m in ref.MODULES if any(s.dept_id == scope_of("minzheng").department_id for s in m.sources)]
    assert kpi_value(page, "overview-kpi-modules") == f"{len(own)}/{len(own)}"
    assert card is not None and "good" in card["props"]["className"]


def test_wenlan_header_ranking_and_urban_chart(client: FlaskClient, signed: Any) -> None:
    signed("wenlan")
    shell = client.get("/_dash-layout").get_json()
    chip = find(shell, "app-scope-chip")
    assert chip is not None and "文澜街道" in chip["props"]["children"]
    assert str(WENLAN) not in chip["props"]["children"]
    page = render_page(client, "/")
    ranking = find(page, "overview-ranking-graph")
    assert ranking is not None
    fig = ranking["props"]["figure"]
    bars = fig["data"][0]
    held = activity.scope_module_ids(scope=scope_of("wenlan"))
    assert len(bars["y"]) == len(held) > 1  # the township's modules, not one fat bar
    assert "文澜街道" in fig["layout"]["title"]["text"] and "模块" in fig["layout"]["title"]["text"]
    assert fig["layout"]["xaxis"]["range"][0] == 0
    urban = find(page, "overview-urban-rural-graph")
    assert urban is not None
    traces = urban["props"]["figure"]["data"]
    assert [t["name"] for t in traces] == ["城镇街道"]  # 文澜街道 is urban: no empty rural entry


def test_department_head_header_names_the_department(client: FlaskClient, signed: Any) -> None:
    signed("minzheng")
    chip = find(client.get("/_dash-layout").get_json(), "app-scope-chip")
    assert chip is not None and "民政局" in chip["props"]["children"]


@pytest.mark.parametrize("name", ROLES)
def test_pool_figures_match_the_scope(signed: Any, name: str) -> None:
    client = signed(name)
    page = render_page(client, "/pool")
    sc = scope_of(name)
    st = meta.pool_status()
    d = st.as_of_day
    rules = overview.AlertRules()
    srcs = activity.delivering(scope=sc, as_of=st.as_of, rules=rules, by="source")
    assert kpi_value(page, "pool-kpi-sources") == f"{srcs.up}/{srcs.total}"
    tot = poolq.quality_totals(scope=sc, first_day=d - 29, last_day=d)
    assert kpi_value(page, "pool-kpi-records") == f"{tot.records:,}"
    truth = find(page, "pool-truth-table")
    assert truth is not None
    marks = [
        row["props"]["children"][-1]["props"]["children"]
        for row in truth["props"]["children"][1]["props"]["children"]
    ]
    assert marks == ["✓"] * 4, marks  # detected and injected in the same scope and window
    grid = find(page, "pool-source-grid")
    assert grid is not None
    rows = grid["props"]["rowData"]
    held = activity.scope_sources(scope=sc)
    assert len(rows) == held.height == srcs.total
    if name in SCOPED:
        assert all(r["n"] > 0 for r in rows)  # no rows of zeros for sources outside the scope
    if srcs.outside:
        assert find(page, "pool-sources-outside") is not None
    text = text_of(page)
    assert "全池" not in text and "Whole pool" not in text


def test_minzheng_sees_no_other_bureau(signed: Any) -> None:
    page = render_page(signed("minzheng"), "/pool")
    text = text_of(find(page, "pool-source-grid"))
    dept = scope_of("minzheng").department_id
    for _, _, s in ref.sources():
        assert (s.name_zh in text) == (s.dept_id == dept), s.name_zh
    sources = find(page, "pool-kpi-sources")
    assert sources is not None and kpi_value(page, "pool-kpi-sources") == "2/2"
    assert "good" in sources["props"]["className"]


def test_sources_delivering_has_the_overview_tone(signed: Any) -> None:
    """One red outage: the pool's "19/20" is red like the overview's "11/12", not white."""
    client = signed("admin")
    pool_card = find(render_page(client, "/pool"), "pool-kpi-sources")
    overview_card = find(render_page(client, "/"), "overview-kpi-modules")
    assert pool_card is not None and overview_card is not None
    assert "bad" in pool_card["props"]["className"] and "bad" in overview_card["props"]["className"]


def test_wall_source_table_puts_the_silent_source_first(signed: Any) -> None:
    page = render_page(signed("admin"), "/pool", "?kiosk=1")
    grid = find(page, "pool-source-grid")
    assert grid is not None
    rows = grid["props"]["rowData"]
    logistics = next(s.name_zh for _, _, s in ref.sources() if s.code == "logistics_platform")
    assert rows[0]["outage"] == "red" and rows[0]["source"] == logistics
    assert len(rows) == len(ref.sources())  # every row fits, none left below a fold the wall cannot scroll
    headers = [c["headerName"] for c in grid["props"]["columnDefs"]]
    assert len(headers) <= 8 and grid["props"]["defaultColDef"]["wrapHeaderText"]


def test_spike_over_a_zero_baseline_says_usually_none(client: FlaskClient) -> None:
    # the module Dash loaded (the app loads pages as dashboard.pages.*, so this is the same module)
    page = importlib.import_module("dashboard.pages.overview")

    spike = pl.DataFrame(
        [
            dict(
                level="red",
                kind="spike",
                module_id=3,
                township_code=532503102,
                source_id=None,
                value=178.0,
                baseline=0.0,
            )
        ],
        schema=activity.ALERT_SCHEMA,
    )
    zh, en = text_of(page.alert_strip(spike, "zh")), text_of(page.alert_strip(spike, "en"))
    assert "通常没有" in zh and "×" not in zh
    assert "usually none" in en and "×" not in en
    usual = text_of(page.alert_strip(spike.with_columns(pl.lit(20.0).alias("baseline")), "zh"))
    assert "通常 20 条 (×8.9)" in usual


def test_chinese_axes_read_as_chinese() -> None:
    dates = np.array(["2026-09-06", "2026-09-07"], dtype="datetime64[D]")
    zh = figures.trend(
        dates, np.array([3500, 4200]), rest=None, title="t", subtitle="s", theme="desk", name="n"
    )
    assert zh.layout.xaxis.tickformat == "%-m月%-d日" and zh.layout.yaxis.tickformat == ","
    en = figures.trend(
        dates, np.array([3500, 4200]), rest=None, title="t", subtitle="s", theme="desk", name="n", lang="en"
    )
    assert en.layout.xaxis.tickformat == "%b %-d" and "~s" not in json.dumps(en.to_plotly_json()["layout"])
    bars = figures.ranking(
        ["a", "b"], np.array([97.8, 95.1]), title="t", subtitle="s", theme="desk", unit_fmt="{:.1f}"
    )
    assert bars.layout.xaxis.range[0] == 0


def test_township_csv_is_rounded() -> None:
    frame = pl.DataFrame({"name": ["文澜街道"], "index": [97.8151517802467], "on_time": [0.978151517802467]})
    out = csv_for_excel(frame, {"name": "name", "index": "index", "on_time": "on_time"}, "h")
    assert "97.8152" in out and "0.9782" in out and "97.8151517802467" not in out


WALL_JS = Path(__file__).resolve().parents[2] / "assets" / "wall.js"


def wall_tick(alerts: dict[str, str]) -> dict[str, Any]:
    """Run the wall's clientside tick in node once, on a two-page playlist, as the first tick does."""
    script = f"""
    global.window = {{}};
    require({json.dumps(str(WALL_JS))});
    const cs = window.dash_clientside;
    cs.no_update = null;
    cs.callback_context = {{triggered: [{{prop_id: "app-wall-interval.n_intervals"}}]}};
    const store = {{items: [{{path: "/", label: "总览", dwell: 30}}, {{path: "/pool", label: "数据池", dwell: 20}}]}};
    const out = cs.wall.tick(1, 0, 0, null, store, {json.dumps(alerts)}, "/", "", "zh");
    console.log(JSON.stringify({{store: out[0], status: out[1]}}));
    """
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    return dict(json.loads(done.stdout))


def test_wall_says_takeover_only_when_red_pages_narrow_the_rotation() -> None:
    if shutil.which("node") is None:
        absent("node is not installed")
    one = wall_tick({"/": None, "/pool": "red"})
    assert one["store"]["takeover"] and "告警接管" in one["status"]
    every = wall_tick({"/": "red", "/pool": "red"})
    assert not every["store"]["takeover"] and "告警接管" not in every["status"]


def test_operator_class_chart_has_no_core_entry(signed: Any) -> None:
    chart = find(render_page(signed("operator"), "/pool"), "pool-class-graph")
    assert chart is not None
    assert [t["name"] for t in chart["props"]["figure"]["data"]] == ["公开", "敏感"]
