"""The 3D twin page through Dash's router and callbacks: the town for each role's scope, the coverage
and evacuation layers, a building's record on click (masked for operators), and bad URL values."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import numpy as np
import polars as pl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete

from dashboard.pages.twin import card as card_mod
from queries import meta, twin
from queries.generate import reference as ref
from queries.scope import CITY_SCOPE
from queries.tables import login_event
from tests.pages.conftest import find_ids, login, render_page, text_of

PASSWORDS = {u[0]: u[5] for u in ref.DEMO_USERS}
GRAPH, CARD, SUMMARY, KPIS = "twin-view-graph", "twin-building-card", "twin-summary-panel", "twin-kpis"
TIANMA, YINHE = 532503001001, 532503001002


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages.twin import page

    assert (page.ids.graph, page.ids.card, page.ids.summary, page.ids.kpis) == (GRAPH, CARD, SUMMARY, KPIS)


def sign_in(client: FlaskClient, url: str, name: str) -> None:
    with create_engine(url).begin() as conn:
        conn.execute(delete(login_event).where(login_event.c.username == name, login_event.c.ok.is_(False)))
    assert login(client, name, PASSWORDS[name]).status_code == 302


def call(
    client: FlaskClient,
    first_output: str,
    inputs: dict[str, Any],
    state: dict[str, Any],
    changed: str | None = None,
) -> dict[str, Any]:
    """Fire the callback whose first output is `first_output`, as the browser would."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    cb = next((d for d in deps if d["output"] == first_output), None) or next(
        d for d in deps if d["output"].strip(".").startswith(first_output)
    )
    outs = cb["output"].strip(".").split("...")
    body = {
        "output": cb["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]} for o in outs]
        if len(outs) > 1
        else {"id": outs[0].split(".")[0], "property": outs[0].split(".")[1].split("@")[0]},
        "inputs": [{**i, "value": inputs.get(i["id"])} for i in cb["inputs"]],
        "state": [{**s, "value": state.get(s["id"])} for s in cb["state"]],
        "changedPropIds": [changed or f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 204), resp.data[:500]
    return json.loads(resp.data)["response"] if resp.status_code == 200 else {}


def arr(value: Any) -> list[Any]:
    """A figure array as plotly sends it: a plain list, or a typed array (dtype + base64 bytes)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


PARAMS = {"twin-params-store": {"lang": "zh", "theme": "desk", "kiosk": False}}


def view(
    client: FlaskClient, community: object, layer: str, changed: str | None = None, **kw: str
) -> dict[str, Any]:
    inputs = {
        "twin-community-dropdown": community,
        "twin-color-dropdown": kw.get("color", "reno_score"),
        "twin-layer-radio": layer,
        "twin-kind-dropdown": kw.get("kind", "elderly_care"),
        "twin-hazard-dropdown": kw.get("hazard", "flood"),
    }
    return call(client, f"{GRAPH}.figure", inputs, {"twin-camera-radio": "overview", **PARAMS}, changed)


def test_admin_sees_the_town_in_3d(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    out = render_page(client, "/twin")
    assert {GRAPH, CARD, SUMMARY, KPIS, "twin-community-dropdown"} <= find_ids(out)
    text = text_of(out)
    assert "数据截至" in text and "data as of" in text  # the chart says when its data is from, in both
    assert "15分钟生活圈" in text and "mesh3d" in text
    assert "公式" in text  # every KPI carries its definition


def test_layers_and_colour_change_the_scene(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    plain = view(client, TIANMA, "none")[GRAPH]["figure"]
    mesh = plain["data"][0]
    assert (
        mesh["type"] == "mesh3d" and "intensity" in mesh and mesh["colorbar"]["title"]["text"] == "分 (0-100)"
    )
    assert max(arr(mesh["z"])) > 6  # extruded: roofs stand above the ground
    cov = view(client, TIANMA, "coverage", kind="elderly_care")[GRAPH]["figure"]
    assert set(cov["data"][0]["facecolor"]) <= {"#dc2626", "#cbd5e1"}
    ev = view(client, TIANMA, "evacuation", hazard="flood")
    names = [t.get("name") for t in ev[GRAPH]["figure"]["data"]]
    assert "疏散路线" in names and "淹没区" in names
    summary = text_of(ev[SUMMARY])
    assert "应急疏散" in summary and "无法撤离" in summary
    age = view(client, YINHE, "none", color="age")[GRAPH]["figure"]["data"][0]
    assert age["colorbar"]["title"]["text"] == "年"


def test_a_colour_change_sends_only_the_colours(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    full = view(client, TIANMA, "none", color="condition")[GRAPH]["figure"]["data"][0]
    out = view(client, TIANMA, "none", changed="twin-color-dropdown.value", color="condition")
    patch = out[GRAPH]["figure"]
    assert patch.get("__dash_patch_update") == "__dash_patch_update"
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    assert ("data", 0, "x") not in ops and ("data", 0, "i") not in ops  # no geometry travels
    assert arr(ops[("data", 0, "intensity")]) == arr(full["intensity"])  # the same colours as a rebuild
    assert ops[("data", 0, "colorbar")]["title"]["text"] == "级 (1 完好-4 危房)"
    assert "房屋状况" in ops[("layout", "title", "subtitle", "text")]
    assert KPIS not in out and SUMMARY not in out  # the community's KPIs did not change
    # a facility kind changes nothing while the coverage layer is off; on it, the figure is rebuilt
    assert view(client, TIANMA, "none", changed="twin-kind-dropdown.value", kind="clinic") == {}
    cov = view(client, TIANMA, "coverage", changed="twin-kind-dropdown.value", kind="clinic")
    ops = {tuple(op["location"]): op for op in cov[GRAPH]["figure"]["operations"]}
    assert set(ops[("data", 0, "facecolor")]["params"]["value"]) <= {"#dc2626", "#cbd5e1"}
    assert ops[("data", 0, "intensity")]["operation"] == "Delete"  # facecolor shows only without it
    assert ("data", 0, "x") not in ops and KPIS not in cov and "twin-coverage-table" in text_of(cov[SUMMARY])


def test_a_layer_change_patches_the_colours_and_overlays_in_place(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    full = view(client, TIANMA, "evacuation", hazard="flood")[GRAPH]["figure"]["data"]
    out = view(client, TIANMA, "evacuation", changed="twin-layer-radio.value", hazard="flood")
    ops = {tuple(op["location"]): op["params"].get("value") for op in out[GRAPH]["figure"]["operations"]}
    # the overlays replace the scene's last two traces, where a full rebuild puts them
    n = len(full) - 2
    assert ops[("data", n)]["name"] == full[n]["name"] == "疏散路线" and ops[("data", n)]["visible"] is True
    assert ops[("data", n + 1)]["name"] == full[n + 1]["name"] == "淹没区"
    assert "应急疏散" in text_of(out[SUMMARY]) and KPIS not in out
    back = view(client, TIANMA, "none", changed="twin-layer-radio.value")
    ops = {tuple(op["location"]): op["params"].get("value") for op in back[GRAPH]["figure"]["operations"]}
    assert ops[("data", n)]["visible"] is False and ops[("data", n + 1)]["visible"] is False
    assert arr(ops[("data", 0, "intensity")]) == arr(
        view(client, TIANMA, "none")[GRAPH]["figure"]["data"][0]["intensity"]
    )


def test_a_leader_elsewhere_gets_no_town(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    # "wenlan" leads Wenlan sub-district, which holds both test communities; a crafted request for a
    # community outside a scope is refused by the callback itself
    sign_in(client, sqlite_pool[0], "wenlan")
    out = render_page(client, "/twin")
    assert GRAPH in find_ids(out)
    bad = view(client, 532503003001, "none")
    assert "outside your scope" in text_of(bad) and GRAPH not in bad


def test_click_shows_the_record_and_operators_see_banded_counts(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    fig = view(client, TIANMA, "none")[GRAPH]["figure"]
    bid = arr(fig["data"][0]["customdata"])[0]
    click = {"points": [{"customdata": bid, "pointNumber": 0}]}
    card = call(
        client, f"{CARD}.children", {f"{GRAPH}": click}, {"twin-community-dropdown": TIANMA, **PARAMS}
    )
    text = text_of(card)
    assert f"楼栋 {bid} 档案" in text and "改造需求" in text and "步行到最近设施" in text
    client.delete_cookie("cc_session")
    sign_in(client, sqlite_pool[0], "operator")
    masked = text_of(
        call(client, f"{CARD}.children", {f"{GRAPH}": click}, {"twin-community-dropdown": TIANMA, **PARAMS})
    )
    row = twin.buildings(scope=CITY_SCOPE, community_code=TIANMA, as_of=meta.pool_status().as_of).filter(
        pl.col("id") == bid
    )
    residents = int(row["residents"][0])
    band = card_mod.masked(residents, "operator")
    assert band != f"{residents:,}" and f'"{band}"' in masked and f'"{residents:,}"' in text
    assert card_mod.masked(3, "operator") == "<5" and card_mod.masked(47, "operator") == "40-49"
    assert card_mod.masked(47, "leader") == "47"
    # a click on a road or nothing carries no building: the card stays as it is
    assert call(client, f"{CARD}.children", {f"{GRAPH}": {"points": [{}]}}, PARAMS) == {}


@pytest.mark.parametrize(
    ("search", "zh", "en"),
    [
        ("?community=12345", "参数 community 的值 '12345' 无效", "Unknown community '12345'"),
        ("?color=rainbow", "参数 color 的值 'rainbow' 无效", "Unknown color 'rainbow'"),
        ("?building=999999", "楼栋 999999 不在本社区", "Building 999999 is not in this community"),
        ("?building=abc", "楼栋编号 'abc' 无效", "Bad building id 'abc'"),
    ],
)
def test_bad_url_values_get_a_message(
    client: FlaskClient, sqlite_pool: tuple[str, object], search: str, zh: str, en: str
) -> None:
    sign_in(client, sqlite_pool[0], "admin")
    text = text_of(render_page(client, "/twin", search))
    assert zh in text and en in text and GRAPH in text


def scenario(client: FlaskClient, button: str, **state: Any) -> str:
    inputs = {
        "twin-scenario-compare-button": 1 if button == "compare" else None,
        "twin-scenario-save-button": 1 if button == "save" else None,
    }
    st = {
        "twin-community-dropdown": TIANMA,
        **PARAMS,
        **{f"twin-scenario-{k}-input": v for k, v in state.items()},
    }
    deps = json.loads(client.get("/_dash-dependencies").data)
    cb = next(d for d in deps if "twin-scenario-result.children" in d["output"])
    outs = cb["output"].strip(".").split("...")
    body = {
        "output": cb["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outs],
        "inputs": [{**i, "value": inputs.get(i["id"])} for i in cb["inputs"]],
        "state": [{**s, "value": st.get(s["id"])} for s in cb["state"]],
        "changedPropIds": [f"twin-scenario-{button}-button.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:500]
    return text_of(json.loads(resp.data))


def test_scenario_compares_before_and_after(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    from queries import audit

    sign_in(client, sqlite_pool[0], "admin")
    ids = twin.buildings(scope=CITY_SCOPE, community_code=TIANMA, as_of=meta.pool_status().as_of)[
        "id"
    ].to_list()
    out = scenario(client, "compare", renovate=f"{ids[0]}, {ids[1]}", demolish=str(ids[2]))
    assert "twin-compare-table" in out and "改造前" in out and "Residents affected" in out
    assert "twin-scenario-error" not in out
    # bad input: a clear message; a save without a name writes nothing
    assert "is not a whole number" in scenario(client, "compare", renovate="12, abc")
    assert "No such building" in scenario(client, "compare", demolish="99999999")
    entries = audit.verify().entries
    assert "needs a name" in scenario(client, "save", renovate=str(ids[0]), name="  ")
    assert audit.verify().entries == entries


def test_a_hazard_drawn_on_the_plan_is_saved_and_evacuated(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    from queries import audit

    sign_in(client, sqlite_pool[0], "admin")
    out = render_page(client, "/twin")
    assert {"twin-plan-graph", "twin-hazard-points-input", "twin-hazard-save-button"} <= find_ids(out)
    # a click on the plan's grid adds a corner; "Clear" empties the list
    click = {"points": [{"x": 20.4, "y": 30.6, "curveNumber": 0}]}
    got = call(
        client,
        "twin-hazard-points-input.value",
        {"twin-plan-graph": click},
        {"twin-hazard-points-input": "1,2"},
    )
    assert got["twin-hazard-points-input"]["value"] == "1,2; 20,31"
    cleared = call(
        client,
        "twin-hazard-points-input.value",
        {"twin-hazard-clear-button": 1},
        {"twin-hazard-points-input": "1,2"},
        "twin-hazard-clear-button.n_clicks",
    )
    assert cleared["twin-hazard-points-input"]["value"] == ""
    drawn = call(client, "twin-plan-graph.figure", {"twin-hazard-points-input": "0,0; 100,0; 100,80"}, PARAMS)
    op = drawn["twin-plan-graph"]["figure"]["operations"][0]
    assert op["location"] == ["data", 3] and op["params"]["value"]["x"] == [0.0, 100.0, 100.0, 0.0]

    def save(name: str, points: str, kind: str = "fire") -> dict[str, Any]:
        state = {
            "twin-community-dropdown": TIANMA,
            "twin-hazard-name-input": name,
            "twin-hazard-kind-dropdown": kind,
            "twin-hazard-points-input": points,
            **PARAMS,
        }
        return call(client, "twin-hazard-result.children", {"twin-hazard-save-button": 1}, state)

    entries = audit.verify().entries
    bad = save("交叉", "0,0; 100,100; 100,0; 0,100")
    assert "edges cross each other" in text_of(bad) and "twin-hazard-value" not in json.dumps(bad)
    assert "not two numbers" in text_of(save("乱码", "0,0; abc"))
    assert "needs a name" in text_of(save("", "0,0; 100,0; 100,80"))
    assert audit.verify().entries == entries  # nothing written
    ok = save("page-test 火灾", "0,0; 120,0; 120,90; 0,90")
    assert "Hazard saved" in text_of(ok) and ok["twin-layer-radio"]["value"] == "evacuation"
    value = ok["twin-hazard-dropdown"]["value"]
    assert value.startswith("h") and value in [o["value"] for o in ok["twin-hazard-dropdown"]["options"]]
    assert audit.verify().entries == entries + 1
    ev = view(client, TIANMA, "evacuation", hazard=value)
    names = [t.get("name") for t in ev[GRAPH]["figure"]["data"]]
    assert "火灾区" in names and "疏散路线" in names
    summary = text_of(ev[SUMMARY])
    assert "page-test 火灾" in summary and "twin-hazard-impact" in summary
    # a crafted hazard value is no hazard, not an error
    assert "无灾害" in text_of(view(client, TIANMA, "evacuation", hazard="h99999999999999"))


def test_an_imported_community_counts_its_cases_on_the_imported_buildings(
    client: FlaskClient, sqlite_pool: tuple[str, object], tmp_path: Any
) -> None:
    """Imported footprints stand in for the generated town: the cases colour and the card count the pool's
    cases and alarms on them (moved to the nearest footprint), none lost; the import is undone after."""
    from queries import audit
    from queries import twin_import as ti
    from queries.divide_io import move_version
    from queries.tables import twin_import_building
    from tests.queries.test_twin_import import good_features

    sign_in(client, sqlite_pool[0], "admin")
    n = int(
        twin.buildings(scope=CITY_SCOPE, community_code=TIANMA, as_of=meta.pool_status().as_of)[
            "open_cases"
        ].sum()
    )
    assert n > 0  # else the test could not fail
    fr = next(f for f in ti.frames_in_pool() if f.code == TIANMA)
    path = tmp_path / "imported.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": good_features(fr)}))
    actor = audit.Actor(1, "admin", "admin")
    assert ti.import_file(path, actor).ok
    try:
        bld = twin.buildings(scope=CITY_SCOPE, community_code=TIANMA, as_of=meta.pool_status().as_of)
        assert bld.height == 4 and int(bld["open_cases"].sum()) == n
        mesh = view(client, TIANMA, "none", color="open_cases")[GRAPH]["figure"]["data"][0]
        assert set(arr(mesh["customdata"])) == set(bld["id"].to_list())
        assert max(arr(mesh["intensity"])) == int(bld["open_cases"].max())
        top = bld.sort("open_cases", descending=True).row(0, named=True)
        click = {"points": [{"customdata": top["id"], "pointNumber": 0}]}
        card = text_of(
            call(client, f"{CARD}.children", {GRAPH: click}, {"twin-community-dropdown": TIANMA, **PARAMS})
        )
        shown = re.search(r'Cases/alarms, 30 d.{0,300}?"children": "(\d+)"', card)
        assert shown and int(shown.group(1)) == top["open_cases"] > 0, card[-600:]
    finally:
        with audit.write(actor) as tx:
            t = twin_import_building
            tx.conn.execute(delete(t).where(t.c.community_code == TIANMA))
            move_version(tx.conn)
            tx.log("twin.buildings.import", "twin_import_building", "test undo", after={"communities": {}})
