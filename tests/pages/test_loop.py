"""The closed-loop page through Dash's own endpoints: it renders every part with definitions and links to
/case, names bad URL parameters and bad filter values instead of failing, keeps a township leader and a
department head to their cases, and its filter callback answers for a period and a township."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from queries import cache, loop
from tests.pages.conftest import find_ids, login, render_page, text_of
from tests.pages.test_roles import find as subtree

PAGE = "/loop"
WENLAN = 532503001
PARAMS = {
    "id": "loop-params-store",
    "property": "data",
    "value": {"lang": "zh", "theme": "desk", "kiosk": False},
}


def refresh(client: FlaskClient, month_from: object, month_to: object, township: object) -> tuple[int, Any]:
    body = {
        "output": "..loop-content.children...loop-notice.children..",
        "outputs": [
            {"id": "loop-content", "property": "children"},
            {"id": "loop-notice", "property": "children"},
        ],
        "inputs": [
            {"id": "app-refresh-interval", "property": "n_intervals", "value": None},
            {"id": "loop-from-dropdown", "property": "value", "value": month_from},
            {"id": "loop-to-dropdown", "property": "value", "value": month_to},
            {"id": "loop-township-dropdown", "property": "value", "value": township},
        ],
        "state": [PARAMS],
        "changedPropIds": ["loop-township-dropdown.value"],
    }
    resp = client.post("/_dash-update-component", json=body)
    return resp.status_code, (json.loads(resp.data)["response"] if resp.status_code == 200 else None)


def test_renders_its_parts(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, PAGE)
    got = find_ids(out)
    for needed in (
        "loop-funnel-graph",
        "loop-durations-graph",
        "loop-stops",
        "loop-overdue-sign",
        "loop-overdue-close",
        "loop-rank-dept",
        "loop-rank-township",
        "loop-hotspots",
        "loop-map-points",
        "loop-kpi-closure",
        "loop-kpi-on-time",
        "loop-kpi-evaluation",
        "loop-kpi-feedback",
        "loop-kpi-return-visit",
        "loop-kpi-satisfaction",
    ):
        assert needed in got, needed
    text = text_of(out)
    # every KPI carries its formula, numerator and denominator; zh first, en beside; data as of
    assert "办结数 / (应办结数 - 延期数)" in text and "分子" in text and "分母" in text
    assert "Closure rate" in text and "数据截至" in text and "工作小时" in text
    # overdue and hotspot cases link to the case page
    assert "/case?id=" in text_of(subtree(out, "loop-overdue-close"))
    assert "/case?id=" in text_of(subtree(out, "loop-hotspots"))
    feats = subtree(out, "loop-map-points")["props"]["data"]["features"]
    assert feats and {f["properties"]["s"] for f in feats} <= set(range(len(loop.OVERDUE_STATES)))


def test_the_stops_are_the_injected_counts(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, PAGE)
    stops = text_of(subtree(out, "loop-stops"))
    from sqlalchemy import create_engine, func, select

    from queries import engine
    from queries.tables import seed_case_defect

    eng = create_engine(engine.configured_url())
    with eng.connect() as conn:
        n = conn.execute(
            select(func.count()).where(seed_case_defect.c.defect == "never_evaluated")
        ).scalar_one()
    eng.dispose()
    assert f'"{n:,}"' in stops


def test_bad_parameters_are_named(client: FlaskClient) -> None:
    login(client)
    client.set_cookie("cc_lang", "en")
    text = text_of(render_page(client, PAGE, "?from=1999-01&to=abc&township=12x"))
    assert "No cases in month '1999-01'" in text and "No cases in month 'abc'" in text
    assert "No township '12x' in your scope" in text
    assert "Where do cases stop in the loop?" in text


def test_the_filter_callback_answers_and_names_bad_values(client: FlaskClient) -> None:
    login(client)
    ms = loop.months()
    status, out = refresh(client, ms[-2], ms[-1], WENLAN)
    assert status == 200
    text = text_of(out["loop-content"]["children"])
    assert "loop-funnel-graph" in text and "文澜街道" in text
    status, out = refresh(client, "drop table", 999999, "nowhere")
    assert status == 200
    notes = text_of(out["loop-notice"]["children"])
    assert "所选月份没有案件" in notes and "没有这个乡镇" in notes


def test_a_township_leader_sees_their_township_only(client: FlaskClient) -> None:
    login(client, "wenlan", "wenlan-demo-2026")
    out = render_page(client, PAGE)
    towns = text_of(subtree(out, "loop-rank-township"))
    assert "文澜街道" in towns and "老寨苗族乡" not in towns
    status, got = refresh(client, None, None, 532503202)  # another township: refused, not shown
    assert status == 200 and "没有这个乡镇" not in text_of(got["loop-notice"]["children"])
    assert "该乡镇不在您的范围内" in text_of(got["loop-content"]["children"])


def test_a_department_head_sees_their_department_only(client: FlaskClient) -> None:
    login(client, "minzheng", "minzheng-demo-2026")
    out = render_page(client, PAGE)
    depts = text_of(subtree(out, "loop-rank-dept"))
    assert "民政局" in depts and "城市管理局" not in depts


def test_the_wall_alert_follows_the_overdue_count() -> None:
    from dashboard.pages.loop import page

    assert page.OVERDUE_RED > 0
    assert page.choose({"from": "2026-13"}, [202608], []).messages


def test_remembered_answers_are_kept_per_viewer_scope(client: FlaskClient) -> None:
    """The filter's answer comes from the answer cache the second time (same bytes), and a township
    leader never gets the county's remembered answer, nor the county the leader's."""
    login(client)
    status, county = refresh(client, None, None, None)
    assert status == 200 and refresh(client, None, None, None)[1] == county
    login(client, "wenlan", "wenlan-demo-2026")
    status, town = refresh(client, None, None, None)
    assert status == 200 and town["loop-content"] != county["loop-content"]
    login(client)
    assert refresh(client, None, None, None)[1] == county


def test_a_record_batch_leaves_the_loop_s_kept_answer_valid_a_case_action_does_not(
    client: FlaskClient, tmp_path: Path
) -> None:
    """The loop's render reads cases only (`view.reads("cases")`): a batch of records through the real
    ingest path moves the pool's version and as-of time, yet the loop answers from its kept answer, with no
    cache miss, while a page that reads records recomputes; a case's change makes the loop recompute."""
    from queries import audit, engine, meta
    from tests.pages.conftest import land_record_batch
    from tests.pages.test_warmup import OVERVIEW
    from tests.pools import sqlite_pool_at

    engine.configure(sqlite_pool_at(tmp_path / "pool.sqlite").url)  # a pool this test may write
    step = meta.CASE_CLOCK_SECONDS
    meta.configure_case_clock(10**9)  # a clock that does not turn during the test (turning: test_domains)
    try:
        login(client)
        status, first = refresh(client, None, None, None)
        assert status == 200 and client.post("/_dash-update-component", json=OVERVIEW).status_code == 200
        st, moved = land_record_batch(9_100_000)
        assert moved.data_version != st.data_version and moved.records > st.records
        misses = cache.stats()["misses"]
        assert refresh(client, None, None, None) == (200, first)
        assert cache.stats()["misses"] == misses  # kept: not one query computed
        assert client.post("/_dash-update-component", json=OVERVIEW).status_code == 200
        assert cache.stats()["misses"] > misses  # the overview reads records: recomputed
        misses = cache.stats()["misses"]
        with audit.write(audit.Actor.cli()) as tx:
            meta.move_version(tx.conn, domain="cases", records_added=0, newest_received=0)
            tx.log("test.cases.move", "pool_meta", "version.cases")
        assert refresh(client, None, None, None)[0] == 200
        assert cache.stats()["misses"] > misses
    finally:
        meta.configure_case_clock(step)
