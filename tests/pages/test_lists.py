"""The Three-Lists-in-One page through Dash, as the browser asks for it: each role lands where it should,
sees only its scope, bad URL parameters and control values get a message, and the numbers on the page
are the gap finder's."""

from __future__ import annotations

import base64
import json
from typing import Any

import polars as pl
import pytest
from flask.testing import FlaskClient

from dashboard import wall
from dashboard.pages.lists.components import ids
from queries import audit, cache, lists, lists_io
from queries.scope import CITY_SCOPE, Viewer
from tests.pages.conftest import find_ids, render_page, text_of
from tests.pages.test_roles import find, kpi_value, scope_of, sign_in, signed

__all__ = ["signed"]  # the role-login fixture, shared with the role tests

PATH = "/lists"


def post(client: FlaskClient, output: str, inputs: list[object], state: list[object], changed: str) -> Any:
    """Post one of the page's callbacks exactly as the browser does; returns its response."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    cb = next(d for d in deps if d["output"] == output)
    outs = [o for o in output.strip(".").split("...")] if output.startswith("..") else [output]
    body = {
        "output": cb["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outs]
        if len(outs) > 1
        else {"id": outs[0].split(".")[0], "property": outs[0].split(".")[1]},
        "inputs": [{**i, "value": v} for i, v in zip(cb["inputs"], inputs, strict=True)],
        "state": [{**s, "value": v} for s, v in zip(cb["state"], state, strict=True)],
        "changedPropIds": [changed],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:400]
    return json.loads(resp.data)["response"]


def update(client: FlaskClient, view: object, problem: object, dept: object, theme: str = "desk") -> Any:
    """The controls changed: the KPI row and the body again."""
    params = {"lang": "zh", "theme": theme, "kiosk": theme == "wall"}
    output = f"..{ids.kpis}.children...{ids.body}.children.."
    return post(client, output, [view, problem, dept, 1], [params], f"{ids.view}.value")


def export(client: FlaskClient, button: str, dept: object) -> Any:
    params = {"lang": "zh", "theme": "desk", "kiosk": False}
    out = post(client, f"{ids.download}.data", [1, 1], [dept, params], f"{button}.n_clicks")
    return out[ids.download]["data"]


def test_admin_lands_on_the_mapping_with_the_gap_counts(signed: Any) -> None:
    page = render_page(signed("admin"), PATH)
    got = find_ids(page)
    assert {ids.kpis, ids.mapping, ids.controls, ids.view, ids.problem, ids.dept} <= got
    counts = lists.gap_counts(scope=CITY_SCOPE)
    assert kpi_value(page, "lists-kpi-total") == f"{int(counts['n'].sum()):,}"
    for r in counts.iter_rows(named=True):
        assert kpi_value(page, f"lists-kpi-{r['kind']}") == f"{r['n']:,}"
    # the first type shown is one whose high-severity step has no lead or two: the hole is in red
    fig = find(page, ids.mapping)
    assert fig is not None
    texts = " ".join(a["text"] for a in fig["props"]["figure"]["layout"]["annotations"])
    assert "无牵头!" in texts or "多头牵头!" in texts
    assert "app-error-panel" not in text_of(page)


def test_department_head_lands_on_their_own_list(signed: Any) -> None:
    page = render_page(signed("minzheng"), PATH)
    head = find(page, "lists-dept-head")
    assert head is not None and "市民政局" in text_of(head)
    from queries import meta

    k = lists.dept_cases(dept_id=2, scope=scope_of("minzheng"), as_of=meta.pool_status().as_of)
    assert f"办件: 在办 {k['open']:,} · 超期 {k['overdue']:,}" in text_of(head)
    grid = find(page, ids.gaps)
    assert grid is not None
    rows = grid["props"]["rowData"]
    mine = lists.gaps(scope=scope_of("minzheng"))
    assert len(rows) == mine.height > 0
    assert {r["fixer"] for r in rows} == {"市民政局"}
    # the department selector offers their own department only
    dept = find(page, ids.dept)
    assert dept is not None and dept["props"]["disabled"] is True
    assert [o["value"] for o in dept["props"]["options"]] == ["civil_affairs"]
    assert kpi_value(page, "lists-kpi-total") == str(mine.height)


def test_department_head_cannot_open_another_department(signed: Any) -> None:
    page = render_page(signed("minzheng"), PATH, "?view=dept&dept=public_security")
    text = text_of(page)
    assert "只能查看本部门" in text and "市民政局" in text
    assert "市公安局 Public Security" not in text


def test_leader_sees_the_city_wide_comparison_and_any_department(signed: Any) -> None:
    client = signed("leader")
    page = render_page(client, PATH, "?view=dept")
    summary = find(page, "lists-summary")
    assert summary is not None
    assert all(name in text_of(summary) for name in ("市公安局", "市民政局", "市应急管理局"))
    page = render_page(client, PATH, "?view=dept&dept=public_security")
    head = find(page, "lists-dept-head")
    assert head is not None and "市公安局" in text_of(head)


def test_operator_sees_the_summary_not_a_department(signed: Any) -> None:
    page = render_page(signed("operator"), PATH, "?view=dept&dept=civil_affairs")
    assert find(page, "lists-summary") is not None and find(page, "lists-dept-head") is None
    assert "值班员查看全市汇总" in text_of(page)


@pytest.mark.parametrize(
    ("search", "fragment"),
    [
        ("?view=sankey", "Unknown view"),
        ("?problem=no_such_type", "No such problem type"),
        ("?view=dept&dept=no_such_bureau", "No such department"),
    ],
)
def test_bad_url_parameters_get_a_message(signed: Any, search: str, fragment: str) -> None:
    page = render_page(signed("admin"), PATH, search + "&lang=en" if "?" in search else search)
    text = text_of(page)
    assert fragment in text and "app-error-panel" not in text
    assert ids.kpis in find_ids(page)  # the rest of the page still renders


def test_controls_switch_the_view(signed: Any) -> None:
    client = signed("admin")
    out = update(client, "matrix", "hotline_outage", "all")
    assert ids.matrix in text_of(out[ids.body]["children"])
    matrix = find(out[ids.body]["children"], ids.matrix)
    assert matrix is not None and len(matrix["props"]["rowData"]) == lists.matrix(scope=CITY_SCOPE)[1].height
    out = update(client, "gaps", None, None)
    grid = find(out[ids.body]["children"], ids.gaps)
    assert grid is not None and len(grid["props"]["rowData"]) == lists.gaps(scope=CITY_SCOPE).height
    out = update(client, "map", "iot_flood", "all")
    fig = find(out[ids.body]["children"], ids.mapping)
    assert fig is not None and "内涝水位告警" in text_of(fig)


@pytest.mark.parametrize("bad", [None, 5, ["map"], {"x": 1}, "A" * 5000])
def test_bad_control_values_fall_back_with_no_traceback(signed: Any, bad: object) -> None:
    out = update(signed("admin"), bad, bad, bad)
    assert "app-error-panel" not in text_of(out)
    assert ids.mapping in text_of(out[ids.body]["children"])


def test_the_wall_shows_the_mapping_and_gaps_per_department(signed: Any) -> None:
    client = signed("admin")
    page = render_page(client, PATH, "?kiosk=1")
    got = find_ids(page)
    assert {ids.mapping, ids.dept_gaps, ids.kpis} <= got
    bars = find(page, ids.dept_gaps)
    assert bars is not None
    by = lists.gaps_by_dept(scope=CITY_SCOPE)
    fig = bars["props"]["figure"]
    assert fig["data"][0]["y"] == by["dept_zh"].to_list()  # most gaps first
    assert fig["data"][0]["text"] == [str(n) for n in by["n"].to_list()]
    out = update(client, "map", None, None, theme="wall")  # the wall's refresh keeps the wall row
    assert ids.dept_gaps in text_of(out[ids.body]["children"])


def test_wall_alert_is_red_for_a_high_severity_void(signed: Any) -> None:
    admin = Viewer(1, "admin", "admin", "admin")
    assert wall.alert_levels(admin)[PATH] == "red"
    # a department with no void or overlap to close has no alert
    gaps = lists.gaps(scope=CITY_SCOPE).filter(pl.col("kind").is_in(["void", "overlap"]))
    quiet = next(d for d in range(1, 19) if d not in set(gaps["fix_dept_id"].to_list()))
    head = Viewer(9, "head", "head", "department_head", department_id=quiet)
    assert wall.alert_levels(head)[PATH] is None


def test_export_is_logged_and_holds_the_department_s_lists(signed: Any, tmp_path: Any) -> None:
    import base64
    import io
    import zipfile

    from openpyxl import load_workbook

    from queries import audit

    client = signed("minzheng")
    before = audit.show(action="export.xlsx", limit=1000).height
    got = export(client, ids.export_xlsx, "public_security")  # asks for another bureau: gets its own
    assert got["filename"].startswith("lists-civil_affairs-") and got["filename"].endswith(".xlsx")
    wb = load_workbook(io.BytesIO(base64.b64decode(got["content"])))
    tables = lists.export_tables(dept_id=2, scope=scope_of("minzheng"))
    assert tables is not None
    assert wb.sheetnames == ["about", *lists.EXPORT_SHEETS]
    for name, frame in tables.items():
        rows = list(wb[name].iter_rows(values_only=True))
        assert list(rows[0]) == frame.columns and len(rows) - 1 == frame.height, name
    log = audit.show(action="export.xlsx", limit=1000)
    assert log.height == before + 1
    assert log["actor_username"][0] == "minzheng" and log["object_id"][0] == "civil_affairs"
    got = export(client, ids.export_csv, None)
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(got["content"]))).namelist()
    assert names == ["about.txt", *[f"{n}.csv" for n in lists.EXPORT_SHEETS]]
    assert audit.show(action="export.csv", limit=1).height == 1


# --- import from the page (administrators) ----------------------------------------------------------


def _upload(
    client: FlaskClient,
    data: bytes,
    filename: str,
    *,
    dept: object = "civil_affairs",
    confirm: bool = False,
    dry: object = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Drop a file on the import (a dry run), or click confirm with it; returns the three outputs."""
    params = {"lang": lang, "theme": "desk", "kiosk": False}
    contents = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    output = f"..{ids.import_result}.children...{ids.confirm}.style...{ids.dry_run}.data.."
    changed = f"{ids.confirm}.n_clicks" if confirm else f"{ids.upload}.contents"
    out = post(client, output, [contents, 1 if confirm else None], [filename, dept, dry, params], changed)
    return {
        "text": text_of(out[ids.import_result]["children"]),
        "style": out[ids.confirm]["style"],
        "dry": out[ids.dry_run]["data"],
    }


def _civil_export() -> dict[str, pl.DataFrame]:
    t = lists.export_tables(dept_id=2, scope=CITY_SCOPE)
    assert t is not None
    return t


def test_only_an_administrator_gets_the_import(signed: Any) -> None:
    assert ids.upload in find_ids(render_page(signed("admin"), PATH))
    for name in ("leader", "minzheng", "operator"):
        client = signed(name)
        assert ids.upload not in find_ids(render_page(client, PATH))
        # and a crafted post of the callback is refused, not run
        got = _upload(client, lists_io.csv_zip_bytes(_civil_export(), "x"), "civil.zip")
        assert "Only an administrator imports lists" in got["text"] and got["dry"] is None


def test_the_dry_run_of_an_unchanged_export_says_so(signed: Any) -> None:
    client = signed("admin")
    for data, name in (
        (lists_io.xlsx_bytes(_civil_export(), "x"), "civil.xlsx"),
        (lists_io.csv_zip_bytes(_civil_export(), "x"), "civil.zip"),
    ):
        got = _upload(client, data, name)
        assert "same as the lists, nothing to import" in got["text"], got["text"]
        assert got["style"] == {"display": "none"} and got["dry"] is None


def test_a_bad_file_gets_its_reasons_and_no_confirm(signed: Any) -> None:
    client = signed("admin")
    cases = [
        (b"PK not really a zip", "lists.zip", "not a readable zip file"),
        (b"hello", "lists.txt", "only an exported .xlsx or .zip"),
        (b"x" * (20 * 1024 * 1024), "big.xlsx", "file too large: 20.0 MB (the limit is 5 MB)"),
        (b"not a workbook", "lists.xlsx", "not a readable Excel file"),
    ]
    t = _civil_export()
    t.pop("grants")
    cases.append((lists_io.xlsx_bytes(t, "x"), "no-grants.xlsx", "sheet grants is missing"))
    t = _civil_export()
    t["problems"] = t["problems"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("no_such_bureau"))
        .otherwise("owner_dept")
        .alias("owner_dept")
    )
    t["data_items"] = t["data_items"].with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("no_such_module"))
        .otherwise("module")
        .alias("module")
    )
    cases.append((lists_io.xlsx_bytes(t, "x"), "bad-rows.xlsx", "unknown department 'no_such_bureau'"))
    cases.append((lists_io.xlsx_bytes(t, "x"), "bad-rows.xlsx", "unknown module 'no_such_module'"))
    version = cache.data_version(fresh=True)
    for data, name, reason in cases:
        got = _upload(client, data, name)
        assert "refused whole, nothing changed" in got["text"] and reason in got["text"], (name, got["text"])
        assert got["style"] == {"display": "none"} and got["dry"] is None
    assert "Traceback" not in got["text"]
    # an unknown or missing target department is named, never taken for the whole city
    for dept in ("no_such_bureau", None, 7):
        got = _upload(client, lists_io.xlsx_bytes(_civil_export(), "x"), "civil.xlsx", dept=dept)
        assert "No such department" in got["text"] and got["dry"] is None, got["text"]
    assert cache.data_version(fresh=True) == version
    # garbage instead of a file
    out = post(
        client,
        f"..{ids.import_result}.children...{ids.confirm}.style...{ids.dry_run}.data..",
        ["data:;base64,@@@", None],
        ["x.zip", "civil_affairs", None, {"lang": "en", "theme": "desk", "kiosk": False}],
        f"{ids.upload}.contents",
    )
    assert "No readable file was uploaded" in text_of(out)


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)  # the door itself: both, in queries
def test_dry_run_then_confirm_writes_through_the_door(client: FlaskClient, writable_pool: str) -> None:
    sign_in(client, writable_pool, "admin")
    t = _civil_export()
    code = t["steps"]["code"][0]
    t["steps"] = t["steps"].with_columns(
        pl.when(pl.col("code") == code).then(pl.lit("9d")).otherwise("limit").alias("limit")
    )
    data = lists_io.xlsx_bytes(t, "x")
    dry = _upload(client, data, "civil.xlsx")
    assert "dry run passed, nothing written yet · 1 rows would change" in dry["text"], dry["text"]
    assert code in dry["text"] and dry["style"] == {"display": "inline-block"} and dry["dry"]
    assert lists.lists_snapshot.uncached().steps.filter(pl.col("code") == code)["limit_hours"][0] != 72  # type: ignore[attr-defined]
    # a confirm for another target than the dry run's is refused
    other = _upload(client, data, "civil.xlsx", dept="all", confirm=True, dry=dry["dry"])
    assert "changed since the dry run" in other["text"]
    head = audit.show(limit=1)["id"][0]
    done = _upload(client, data, "civil.xlsx", confirm=True, dry=dry["dry"])
    assert "imported, 1 rows changed, written to the responsibility log" in done["text"], done["text"]
    assert done["style"] == {"display": "none"} and done["dry"] is None
    assert lists.lists_snapshot.uncached().steps.filter(pl.col("code") == code)["limit_hours"][0] == 72  # type: ignore[attr-defined]
    entry = audit.show(limit=1).row(0, named=True)
    assert (
        entry["id"] == head + 1 and entry["action"] == "lists.import" and entry["actor_username"] == "admin"
    )
    assert audit.verify().ok


def test_the_mapping_shows_open_cases_per_step_and_those_nobody_leads(signed: Any) -> None:
    """Each step carries its open (and overdue) cases; a step with open cases and no lead says so."""
    from queries import meta

    frame = lists.step_cases(scope=CITY_SCOPE, as_of=meta.pool_status().as_of)
    hole = lists.unanswered_cases(frame).filter(pl.col("step_id").is_not_null()).row(0, named=True)
    code = lists.lists_snapshot().problems.filter(pl.col("id") == hole["problem_id"])["code"][0]
    out = update(signed("admin"), "map", code, "all")
    fig = find(out[ids.body]["children"], ids.mapping)
    assert fig is not None
    texts = " ".join(a["text"] for a in fig["props"]["figure"]["layout"]["annotations"])
    assert f"{hole['open']:,} 件在办无人牵头!" in texts
    for r in frame.filter(
        pl.col("problem_id") == hole["problem_id"], pl.col("step_id").is_not_null()
    ).iter_rows(named=True):
        assert f"在办 {r['open']:,}" in texts
        if r["overdue"]:
            assert f"超期 <b>{r['overdue']:,}</b>" in texts


def test_the_gap_list_shows_the_open_cases_on_each_gap(signed: Any) -> None:
    from queries import meta

    out = update(signed("admin"), "gaps", None, None)
    grid = find(out[ids.body]["children"], ids.gaps)
    assert grid is not None
    want = lists.gaps_with_cases(scope=CITY_SCOPE, as_of=meta.pool_status().as_of)
    assert [r["open"] for r in grid["props"]["rowData"]] == want["open_cases"].to_list()
    assert any((r["open"] or 0) > 0 for r in grid["props"]["rowData"])
