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
