"""The digital-divide page through Dash's own endpoints: it renders its parts in both languages, says
what was wrong with a bad URL parameter, switches the map's indicator, opens a township's panel on a
click, keeps a township leader to their township, and logs every export."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from flask.testing import FlaskClient
from openpyxl import load_workbook

from queries import audit
from tests.pages.conftest import find_ids, login, render_page, text_of
from tests.pages.test_roles import find as subtree
from tests.pools import sqlite_pool_at

PAGE = "/divide"
LAOZHAI, WENLAN = 532503202, 532503001


def call(client: FlaskClient, output: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]]) -> Any:
    """POST one callback as the browser does; returns (status, outputs)."""
    outs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output.strip(".").split("...")]
    body = {
        "output": output,
        "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    resp = client.post("/_dash-update-component", json=body)
    return resp.status_code, (json.loads(resp.data)["response"] if resp.status_code == 200 else None)


def click(client: FlaskClient, value: object) -> Any:
    """A click on the map as dash-leaflet reports it (the feature), answered by the panel callback."""
    state = [{"id": "divide-period-dropdown", "property": "value", "value": "2026Q4"}, PARAMS]
    return call(
        client,
        "divide-panel.children",
        [{"id": "divide-map-geojson", "property": "clickData", "value": value}],
        state,
    )


PARAMS = {
    "id": "divide-params-store",
    "property": "data",
    "value": {"lang": "zh", "theme": "desk", "kiosk": False},
}


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages.divide.page import ids

    assert (ids.geojson, ids.panel, ids.metric, ids.download) == (
        "divide-map-geojson",
        "divide-panel",
        "divide-metric-dropdown",
        "divide-download",
    )


def test_renders_its_parts(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, PAGE)
    got = find_ids(out)
    for needed in (
        "divide-map-geojson",
        "divide-legend",
        "divide-panel",
        "divide-bench-graph",
        "divide-rank-table",
        "divide-trend-graph",
        "divide-kpi-gap",
        "divide-metric-dropdown",
        "divide-period-dropdown",
    ):
        assert needed in got, needed
    text = text_of(out)
    # the neediest township opens the panel; every KPI carries its definition; zh first, en beside
    assert "老寨苗族乡" in text and "示意区划" in text and "公式" in text and "Digital divide index" in text
    assert "CNNIC" in text and "数据截至" in text and "2026Q4" in text


def test_english_and_bad_parameters_are_named(client: FlaskClient) -> None:
    login(client)
    client.set_cookie("cc_lang", "en")
    text = text_of(render_page(client, PAGE, "?indicator=nonsense&period=1999Q9&township=12x"))
    assert "No indicator 'nonsense'; showing the divide index" in text
    assert "No period '1999Q9'; showing the latest quarter" in text
    assert "Bad township code '12x'" in text
    assert "Where is the digital divide widest?" in text and "Laozhai Miao Ethnic Township" in text


def test_url_picks_indicator_and_township(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, PAGE, f"?indicator=download_mbps&township={WENLAN}&period=2026Q3")
    text = text_of(out)
    assert "实测下载速率" in text and "Mbps" in text and "统计期 2026Q3" in text
    assert "文澜街道: 鸿沟在缩小吗?" in text  # the panel opened on the township the URL named


def test_switching_the_indicator_recolours_the_map(client: FlaskClient) -> None:
    login(client)
    status, out = call(
        client,
        "..divide-map-geojson.data...divide-legend.children..",
        [{"id": "divide-metric-dropdown", "property": "value", "value": "internet_rate"}],
        [{"id": "divide-period-dropdown", "property": "value", "value": "2026Q4"}, PARAMS],
    )
    assert status == 200
    feats = out["divide-map-geojson"]["data"]["features"]
    assert len(feats) == 13
    by = {f["properties"]["code"]: f["properties"] for f in feats}
    # the lowest share online is the darkest class, the highest the lightest
    assert by[LAOZHAI]["color"] == "#7f1d1d" and by[WENLAN]["color"] == "#fef3c7"
    assert "互联网普及率" in by[LAOZHAI]["tooltip"] and "2026Q4" in by[LAOZHAI]["tooltip"]
    assert "互联网普及率" in text_of(out["divide-legend"]["children"])


def test_click_opens_the_township_panel(client: FlaskClient) -> None:
    login(client)
    status, out = click(client, {"type": "Feature", "properties": {"code": WENLAN, "name_zh": "文澜街道"}})
    assert status == 200 and "文澜街道" in text_of(out) and "数值" in text_of(out)
    # a click that carries no township (or garbage) changes nothing
    status, out = click(client, "x")
    assert status in (200, 204) and "divide-panel" not in (out or {})


def test_a_township_leader_sees_their_township_only(client: FlaskClient) -> None:
    login(client, "wenlan", "wenlan-demo-2026")
    out = render_page(client, PAGE)
    rank, panel = text_of(subtree(out, "divide-rank-table")), text_of(subtree(out, "divide-panel"))
    assert "文澜街道" in rank and "老寨苗族乡" not in rank and "文澜街道" in panel
    # the other townships' outlines stay on the map, grey and marked outside the scope
    feats = subtree(out, "divide-map-geojson")["props"]["data"]["features"]
    grey = [f["properties"]["code"] for f in feats if "不在您的范围内" in f["properties"]["tooltip"]]
    assert len(feats) == 13 and len(grey) == 12 and WENLAN not in grey
    _, out = click(client, {"properties": {"code": LAOZHAI}})
    assert "该乡镇不在您的范围内" in text_of(out)


def test_exports_are_logged(client: FlaskClient) -> None:
    login(client)
    before = audit.verify().entries
    state = [{"id": "divide-period-dropdown", "property": "value", "value": "2026Q4"}, PARAMS]
    status, out = call(
        client,
        "divide-download.data",
        [
            {"id": "divide-export-csv-button", "property": "n_clicks", "value": 1},
            {"id": "divide-export-xlsx-button", "property": "n_clicks", "value": None},
        ],
        state,
    )
    assert status == 200
    csv = out["divide-download"]["data"]["content"]
    assert csv.startswith("\ufeff# 2026Q4 季度") and "老寨苗族乡" in csv.splitlines()[2]
    body = {
        "output": "divide-download.data",
        "outputs": {"id": "divide-download", "property": "data"},
        "inputs": [
            {"id": "divide-export-csv-button", "property": "n_clicks", "value": 1},
            {"id": "divide-export-xlsx-button", "property": "n_clicks", "value": 1},
        ],
        "state": state,
        "changedPropIds": ["divide-export-xlsx-button.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    data = json.loads(resp.data)["response"]["divide-download"]["data"]
    assert data["filename"] == "divide-invest-2026Q4.xlsx" and data["base64"]
    ws = load_workbook(io.BytesIO(base64.b64decode(data["content"]))).active
    assert ws.cell(3, 3).value == "老寨苗族乡" and ws.cell(3, 1).value == 1 and ws.max_row == 15
    v = audit.verify()
    assert v.ok and v.entries == before + 2


# --- the offline counters card --------------------------------------------------------------------------

COUNTER_STATES = (
    "divide-counter-township-store.data",
    "divide-counter-dropdown.value",
    "divide-counter-opens-input.value",
    "divide-counter-closes-input.value",
    "divide-counter-days-dropdown.value",
    "divide-counter-name-input.value",
    "divide-counter-kind-dropdown.value",
)


def edit(client: FlaskClient, button: str, **values: Any) -> Any:
    """Press a button of the counters card as the browser does (states from `values`)."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    dep = next(d for d in deps if "divide-counter-message.children" in d["output"])
    outs = [
        {"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")
    ]
    state = [
        {"id": s.split(".")[0], "property": s.split(".")[1], "value": values.get(s.split(".")[0])}
        for s in COUNTER_STATES
    ] + [PARAMS]
    names = ("divide-counter-save-button", "divide-counter-close-button", "divide-counter-add-button")
    body = {
        "output": dep["output"],
        "outputs": outs,
        "inputs": [{"id": b, "property": "n_clicks", "value": 1 if b == button else None} for b in names],
        "state": state,
        "changedPropIds": [f"{button}.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return json.loads(resp.data)["response"]


def _edits() -> int:
    from sqlalchemy import func, select

    from queries import engine
    from queries.tables import divide_counter_edit

    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(divide_counter_edit)).scalar_one())


def test_counters_card_editing_is_for_admins_and_the_data_bureau(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, PAGE)
    card = subtree(out, "divide-counters")
    assert "divide-counter-save-button" in find_ids(card) and "便民服务中心" in text_of(card)
    client.get("/logout")
    login(client, "operator", "operator-demo-2026")
    card = subtree(render_page(client, PAGE), "divide-counters")
    assert "divide-counter-list" in find_ids(card) and "divide-counter-save-button" not in find_ids(card)
    # a crafted request from an operator is refused, nothing written
    before = _edits()
    got = edit(client, "divide-counter-close-button", **{"divide-counter-dropdown": f"{LAOZHAI}:x"})
    assert "Only admins or the Data Bureau" in text_of(got) or "只有管理员" in text_of(got)
    assert _edits() == before


def test_bad_counter_input_is_named(client: FlaskClient) -> None:
    login(client)
    before = _edits()
    for values, why in (
        (
            {
                "divide-counter-opens-input": "9am",
                "divide-counter-closes-input": "17:00",
                "divide-counter-days-dropdown": 5,
            },
            "HH:MM",
        ),
        (
            {
                "divide-counter-opens-input": "09:00",
                "divide-counter-closes-input": "17:00",
                "divide-counter-days-dropdown": 5,
            },
            "没有这个窗口",
        ),
    ):
        got = edit(
            client,
            "divide-counter-save-button",
            **{"divide-counter-dropdown": f"{LAOZHAI}:nowhere", **values},
        )
        assert why in text_of(got["divide-counter-message"]), got
    got = edit(
        client, "divide-counter-add-button",
        **{"divide-counter-township-store": LAOZHAI, "divide-counter-name-input": "窗" * 500,
           "divide-counter-kind-dropdown": "station", "divide-counter-opens-input": "09:00",
           "divide-counter-closes-input": "17:00", "divide-counter-days-dropdown": 5},
    )  # fmt: skip
    assert "最长 96" in text_of(got["divide-counter-message"])
    assert _edits() == before


def test_saving_hours_shows_them(app: Any, tmp_path: Any) -> None:
    from queries import cache, engine

    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    sqlite_pool_at(tmp_path / "pool.sqlite")  # a copy of the run's one build
    engine.configure(url)
    cache.configure(tmp_path / "cache", version_ttl=0)
    client = app.server.test_client()
    login(client)
    card = subtree(render_page(client, PAGE), "divide-counters")
    key = subtree(card, "divide-counter-dropdown")["props"]["options"][0]["value"]
    town = subtree(card, "divide-counter-township-store")["props"]["data"]
    got = edit(
        client, "divide-counter-save-button",
        **{"divide-counter-township-store": town, "divide-counter-dropdown": key,
           "divide-counter-opens-input": "07:45", "divide-counter-closes-input": "19:15", "divide-counter-days-dropdown": 6},
    )  # fmt: skip
    card = got["divide-counters"]["children"]
    assert (
        "07:45-19:15" in text_of(card) and "周一至周六" in text_of(card) and "开放时间已保存" in text_of(card)
    )
    assert _edits() == 1


def test_the_panel_names_imported_figures() -> None:
    from dashboard.pages.divide import components as dc

    row: dict[str, Any] = {
        "name_zh": "老寨苗族乡", "name_en": "Laozhai", "dominant": "infrastructure", "index": 90.0,
        "infrastructure": 80.0, "socioeconomic": 20.0, "use_per_1k_day": 1.0, "late_share": None,
        "halls": 1, "counters": 3, "visits": 10, "assisted_share": 0.5, "training_sessions": 1,
        "training_attendees": 2, "period": "2026Q4", "imported": "internet_rate,population",
    }  # fmt: skip
    for c in dc.divide.INDICATORS:
        row[c], row[f"z_{c}"] = 0.5, 0.0
    text = text_of(dc.panel(row, True, "en"))
    assert "Internet penetration (imported)" in text and "Aged 65+ (imported)" not in text
