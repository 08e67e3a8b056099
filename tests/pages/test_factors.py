"""The governance factor-analysis page: leaders and administrators get the paper's tables on the pool's
township figures; other roles a designed refusal; bad choices a message, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.pages.conftest import find_ids, render_page, text_of
from tests.pages.test_audit import sign_in

IDS = {
    "content": "factors-content",
    "models": "factors-models-table",
    "describe": "factors-describe-table",
    "corr": "factors-corr-graph",
    "vif": "factors-vif-graph",
    "denied": "factors-denied-panel",
    "message": "factors-message",
    "year": "factors-year-dropdown",
    "y": "factors-y-dropdown",
    "xs": "factors-x-dropdown",
    "robust": "factors-robust-checklist",
    "params": "factors-params-store",
    "dataset": "factors-dataset-dropdown",
    "models_text": "factors-models-textarea",
    "apply": "factors-apply-button",
    "set_pick": "factors-set-dropdown",
    "set_name": "factors-set-name-input",
    "set_save": "factors-set-save-button",
    "set_message": "factors-set-message",
    "export_csv": "factors-export-csv-button",
    "export_xlsx": "factors-export-xlsx-button",
    "download": "factors-download",
    "upload": "factors-upload",
    "import_name": "factors-import-name-input",
    "import_button": "factors-import-button",
    "import_message": "factors-import-message",
}


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages.factors.page import ids

    assert {k: getattr(ids, k) for k in IDS} == IDS


def update(
    client: FlaskClient,
    year: Any,
    y: Any,
    xs: Any,
    robust: Any = None,
    lang: str = "zh",
    dataset: Any = "township",
    models: Any = "",
) -> Any:
    ids = IDS
    body = {
        "output": f"{ids['content']}.children",
        "outputs": {"id": ids["content"], "property": "children"},
        "inputs": [
            {"id": ids["dataset"], "property": "value", "value": dataset},
            {"id": ids["year"], "property": "value", "value": year},
            {"id": ids["y"], "property": "value", "value": y},
            {"id": ids["xs"], "property": "value", "value": xs},
            {"id": ids["robust"], "property": "value", "value": robust or []},
            {"id": ids["apply"], "property": "n_clicks", "value": None},
        ],
        "state": [
            {"id": ids["models_text"], "property": "value", "value": models},
            {"id": ids["params"], "property": "data", "value": {"lang": lang, "theme": "desk"}},
        ],
        "changedPropIds": [f"{ids['xs']}.value"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return json.loads(resp.data)["response"][ids["content"]]["children"]


def test_admin_sees_the_papers_tables_on_the_township_figures(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/factors")
    found = find_ids(out)
    assert {IDS["models"], IDS["describe"], IDS["corr"], IDS["vif"], IDS["year"]} <= found
    text = text_of(out)
    for word in (
        "表4 嵌套回归模型",
        "M4",
        "调整后 R²",
        "乡镇治理指数",
        "Township governance index",
        "相关不等于因果",
    ):
        assert word in text, word
    # 13 townships, 7 regressors: the largest model has 5 residual df and says so
    assert "残差自由度 5 < 10" in text and "13 observations for 8 parameters" in text


def test_choices_change_the_models_and_english_reads_first(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = update(client, "2026", "gov_index", ["broadband", "fiscal_ratio"], ["hc1"], lang="en")
    text = text_of(out)
    assert "Table 4 nested OLS models" in text and "Standard errors are robust (HC1)" in text
    assert "M1" in text and "M2" not in text  # one model: the paper's M2 restricted to these two
    pooled = text_of(update(client, "all", "gov_index", ["broadband"]))
    assert "全部年份合并" in pooled


def test_bad_choices_get_a_message_not_a_traceback(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    cases = [
        (("2026", "gov_index", []), "请至少选择一个自变量"),
        (("2026", "gov_index", ["gov_index"]), "变量重复"),
        (("2026", "gov_index", ["nope"]), "No such variables: nope"),
        (("1999", "gov_index", ["broadband"]), "观测数 0 太少"),
        (("twenty", "gov_index", ["broadband"]), "Not a valid year"),
        (("2026", "gov_index", "broadband"), "请至少选择一个自变量"),
    ]
    for args, expected in cases:
        out = update(client, *args)
        assert IDS["message"] in find_ids(out), args
        assert expected in text_of(out), (args, text_of(out)[:300])


def test_other_roles_get_a_designed_refusal(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "operator")
    out = render_page(client, "/factors")
    assert IDS["denied"] in find_ids(out) and IDS["models"] not in find_ids(out)
    assert IDS["denied"] in find_ids(update(client, "2026", "gov_index", ["broadband"]))


def test_a_township_leader_is_told_the_county_model_needs_more_townships(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "wenlan")
    out = render_page(client, "/factors")
    assert IDS["message"] in find_ids(out) and "too few" in text_of(out)


PARAMS = {"id": IDS["params"], "property": "data", "value": {"lang": "zh", "theme": "desk"}}
WEST = {
    "province": ["Sichuan", "Yunnan", "Guizhou", "Shaanxi", "Gansu", "Qinghai", "Xinjiang", "Ningxia"],
    "year": [2021] * 8,
    "index": [68.6, 55.2, 60.7, 51.0, 45.3, 39.6, 47.7, 44.1],
    "broadband": [30.8, 25.3, 28.9, 24.1, 22.0, 20.4, 23.9, 22.7],
    "rnd": [0.020, 0.011, 0.010, 0.021, 0.012, 0.004, 0.006, 0.014],
}


def imported(name: str) -> int:
    import polars as pl

    from queries import audit, factors

    return factors.import_dataset(
        audit.Actor.cli(), pl.DataFrame(WEST), name=name, label="province", filename=None
    )


def choose(client: FlaskClient, dataset: Any, set_id: Any = None, trigger: str = "dataset") -> Any:
    outs = [
        ("year", "options"),
        ("year", "value"),
        ("y", "options"),
        ("y", "value"),
        ("xs", "options"),
        ("xs", "value"),
        ("models_text", "value"),
        ("dataset", "value"),
    ]
    body = {
        "output": ".." + "...".join(f"{IDS[k]}.{p}" for k, p in outs) + "..",
        "outputs": [{"id": IDS[k], "property": p} for k, p in outs],
        "inputs": [
            {"id": IDS["dataset"], "property": "value", "value": dataset},
            {"id": IDS["set_pick"], "property": "value", "value": set_id},
        ],
        "state": [PARAMS],
        "changedPropIds": [f"{IDS[trigger]}.value"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 204), resp.data[:300]
    if resp.status_code == 204:
        return None
    got = json.loads(resp.data).get("response", {})
    if not got:
        return None
    return {k: got[IDS[k]][p] for k, p in outs if IDS[k] in got and p in got[IDS[k]]} | {
        "year_options": got.get(IDS["year"], {}).get("options")
    }


def test_an_imported_dataset_is_offered_and_analysed(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    ds = imported("西部八省 page")
    out = render_page(client, "/factors")
    assert "西部八省 page · 8 行" in text_of(out)
    got = choose(client, str(ds))
    assert got["y"] == "index" and got["xs"] == ["broadband", "rnd"]  # the index explains the rest
    assert [o["value"] for o in got["year_options"]] == ["2021", "all"]
    assert got["year"] == "2021" and got["models_text"] == "" and got["dataset"] == str(ds)
    text = text_of(update(client, "2021", "index", ["broadband", "rnd"], dataset=str(ds)))
    assert (
        f"导入数据集 #{ds}" in text and "M2" in text and "M3" not in text
    )  # broadband as in the paper, then both
    assert IDS["models"] in find_ids(update(client, "2021", "index", ["broadband", "rnd"], dataset=str(ds)))
    bad = update(client, "2021", "index", ["gov_index"], dataset=str(ds))
    assert "The dataset has no such variables: gov_index" in text_of(bad)
    assert "Not a dataset" in text_of(update(client, "2021", "index", ["rnd"], dataset="../etc"))
    assert choose(client, "../etc") is None  # a crafted key changes nothing


def test_typed_models_replace_the_papers(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    xs = ["broadband", "fiscal_ratio", "rnd_ratio"]
    out = text_of(update(client, "2026", "gov_index", xs, models="M1: broadband\nM2: broadband, rnd_ratio"))
    assert "M2" in out and "M3" not in out
    out = text_of(update(client, "2026", "gov_index", xs, models="M1: gdp_pc"))
    assert "not chosen regressors: gdp_pc" in out
    assert "At most 8 models" in text_of(update(client, "2026", "gov_index", xs, models="a\n" * 9))


def save(client: FlaskClient, name: Any, dataset: Any, y: Any, xs: Any, models: Any) -> tuple[str, Any]:
    body = {
        "output": f"..{IDS['set_message']}.children...{IDS['set_pick']}.options..",
        "outputs": [
            {"id": IDS["set_message"], "property": "children"},
            {"id": IDS["set_pick"], "property": "options"},
        ],
        "inputs": [{"id": IDS["set_save"], "property": "n_clicks", "value": 1}],
        "state": [
            {"id": IDS["set_name"], "property": "value", "value": name},
            {"id": IDS["dataset"], "property": "value", "value": dataset},
            {"id": IDS["y"], "property": "value", "value": y},
            {"id": IDS["xs"], "property": "value", "value": xs},
            {"id": IDS["models_text"], "property": "value", "value": models},
            PARAMS,
        ],
        "changedPropIds": [f"{IDS['set_save']}.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    got = json.loads(resp.data)["response"]
    return text_of(got[IDS["set_message"]]["children"]), got.get(IDS["set_pick"], {}).get("options")


def test_a_model_set_is_saved_listed_and_reloaded(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    from queries import audit, factors

    url, _ = sqlite_pool
    sign_in(client, url, "leader")
    before = audit.verify().entries
    xs = ["broadband", "rnd_ratio"]
    said, options = save(
        client, "页面 基建+研发", "township", "gov_index", xs, "M1: broadband\nM2: broadband, rnd_ratio"
    )
    assert "已保存模型组" in said
    sid = next(o["value"] for o in options if o["label"].startswith("页面 基建+研发"))
    assert audit.verify().entries == before + 1
    assert audit.show(limit=1).row(0, named=True)["action"] == "factors.modelset.save"
    said, options = save(client, "页面 基建+研发", "township", "gov_index", xs, "")
    assert "exists" in said and options is None and audit.verify().entries == before + 1
    said, _ = save(client, "页面 bad", "township", "gov_index", xs, "M1: nope")
    assert "no such variables: nope" in said and audit.verify().entries == before + 1
    # no typed models: the defaults on screen are what is saved
    said, options = save(client, "页面 默认", "township", "gov_index", xs, None)
    dflt = next(o["value"] for o in options if o["label"].startswith("页面 默认"))
    assert factors.model_set(set_id=int(dflt)).models == [["broadband", "rnd_ratio"]]

    got = choose(client, "township", sid, trigger="set_pick")
    assert got["models_text"] == "M1: broadband\nM2: broadband, rnd_ratio"
    assert got["xs"] == xs and got["y"] == "gov_index" and got["dataset"] == "township"
    # the URL opens a saved set too
    text = text_of(render_page(client, "/factors", f"?set={sid}"))
    assert "M2" in text and "M3" not in text and "M1: broadband" in text


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("?dataset=nope", "Not a dataset"),
        ("?dataset=99999", "No dataset 99999"),
        ("?y=zzz", "No variable 'zzz' to explain"),
        ("?x=broadband,zzz", "Not regressors here: 'zzz'"),
        ("?year=1999", "No figures for year '1999'"),
        ("?set=abc", "Not a model set id"),
        ("?set=99999", "No model set 99999"),
        ("?year=" + "9" * 5000, "No figures for year"),
    ],
)
def test_bad_url_values_get_a_message_and_the_defaults(
    client: FlaskClient, sqlite_pool: tuple[str, object], search: str, expected: str
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/factors", search)
    text = text_of(out)
    assert expected in text and "defaults used" in text
    assert IDS["models"] in find_ids(out)  # the defaults still render


def test_url_chooses_the_year_and_variables(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    text = text_of(render_page(client, "/factors", "?year=all&y=gov_index&x=broadband,fiscal_ratio"))
    assert "全部年份合并" in text and "defaults used" not in text and "M3" not in text


def export(client: FlaskClient, kind: str, xs: Any, dataset: Any = "township") -> Any:
    body = {
        "output": f"{IDS['download']}.data",
        "outputs": {"id": IDS["download"], "property": "data"},
        "inputs": [
            {"id": IDS["export_csv"], "property": "n_clicks", "value": 1 if kind == "csv" else None},
            {"id": IDS["export_xlsx"], "property": "n_clicks", "value": 1 if kind == "xlsx" else None},
        ],
        "state": [
            {"id": IDS["dataset"], "property": "value", "value": dataset},
            {"id": IDS["year"], "property": "value", "value": "2026"},
            {"id": IDS["y"], "property": "value", "value": "gov_index"},
            {"id": IDS["xs"], "property": "value", "value": xs},
            {"id": IDS["models_text"], "property": "value", "value": ""},
            {"id": IDS["robust"], "property": "value", "value": ["hc1"]},
            PARAMS,
        ],
        "changedPropIds": [f"{IDS['export_' + kind]}.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 204), resp.data[:300]
    if resp.status_code == 204:
        return None
    return json.loads(resp.data).get("response", {}).get(IDS["download"], {}).get("data")


def test_exports_carry_the_papers_tables_and_are_logged(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    import base64
    import io

    from openpyxl import load_workbook

    from queries import audit, factors
    from queries.scope import CITY_SCOPE

    url, _ = sqlite_pool
    sign_in(client, url, "leader")
    before = audit.verify().entries
    xs = ["broadband", "fiscal_ratio"]
    got = export(client, "csv", xs)
    assert got["filename"].endswith(".csv") and got["filename"].startswith("factors-township-2026")
    text = got["content"]
    assert text.startswith("\ufeff#") and "HC1" in text
    for title in ("表2 描述性统计", "表3 相关系数矩阵", "方差膨胀因子 VIF", "表4 回归结果"):
        assert title in text
    a = factors.township_analysis(scope=CITY_SCOPE, year=2026, y="gov_index", xs=xs, models=[xs], robust=True)
    m = a.models[0]
    i = m.names.index("broadband")
    assert f"({factors.fmt(m.se[i])})" in text  # the HC1 standard error, bracketed
    assert audit.show(limit=1).row(0, named=True)["action"] == "export.csv"
    book = export(client, "xlsx", xs)
    wb = load_workbook(io.BytesIO(base64.b64decode(book["content"])))
    assert wb.sheetnames == ["table2", "table3", "vif", "table4"]
    rows = list(wb["table4"].iter_rows(values_only=True))
    assert (
        rows[2][:2] == ("变量 Variable", "M1")
        and rows[3][1] == f"{factors.fmt(m.coef[i])}{stats_stars(m.p[i])}"
    )
    v = audit.verify()
    assert v.entries == before + 2 and audit.show(limit=1).row(0, named=True)["action"] == "export.xlsx"
    # a choice the page shows a message for exports nothing and logs nothing
    assert export(client, "csv", ["nope"]) is None and audit.verify().entries == before + 2


def stats_stars(p: float) -> str:
    from queries import stats

    return stats.stars(float(p))


def _deps_output(client: FlaskClient, prefix: str, button: str) -> str:
    """The registered output key of a callback (allow_duplicate outputs carry a hash after '@')."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    return next(
        d["output"]
        for d in deps
        if d["output"].startswith(prefix) and any(i["id"] == button for i in d["inputs"])
    )


def preview(client: FlaskClient, contents: Any, filename: Any) -> str:
    out = _deps_output(client, IDS["import_message"], IDS["upload"])
    body = {
        "output": out,
        "outputs": {"id": IDS["import_message"], "property": out.split(".", 1)[1]},
        "inputs": [{"id": IDS["upload"], "property": "contents", "value": contents}],
        "state": [{"id": IDS["upload"], "property": "filename", "value": filename}, PARAMS],
        "changedPropIds": [f"{IDS['upload']}.contents"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return text_of(json.loads(resp.data)["response"][IDS["import_message"]]["children"])


def confirm(client: FlaskClient, contents: Any, filename: Any, name: Any) -> tuple[str, Any]:
    out = f"..{IDS['import_message']}.children...{IDS['dataset']}.options.."
    body = {
        "output": out,
        "outputs": [
            {"id": IDS["import_message"], "property": "children"},
            {"id": IDS["dataset"], "property": "options"},
        ],
        "inputs": [{"id": IDS["import_button"], "property": "n_clicks", "value": 1}],
        "state": [
            {"id": IDS["upload"], "property": "contents", "value": contents},
            {"id": IDS["upload"], "property": "filename", "value": filename},
            {"id": IDS["import_name"], "property": "value", "value": name},
            PARAMS,
        ],
        "changedPropIds": [f"{IDS['import_button']}.n_clicks"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    got = json.loads(resp.data)["response"]
    return text_of(got[IDS["import_message"]]["children"]), got.get(IDS["dataset"], {}).get("options")


def as_upload(data: bytes, kind: str = "text/csv") -> str:
    import base64

    return f"data:{kind};base64," + base64.b64encode(data).decode()


def test_a_table_is_checked_then_imported_from_the_page(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    import io

    import polars as pl

    from queries import audit, factors

    url, _ = sqlite_pool
    sign_in(client, url, "leader")
    before = audit.verify().entries
    csv = pl.DataFrame(WEST).write_csv().encode()
    said = preview(client, as_upload(csv), "west.csv")
    assert "Checked, not yet stored: west.csv · 8 rows · label column province · 4 numeric columns" in said
    assert audit.verify().entries == before  # the dry run writes nothing
    said, options = confirm(client, as_upload(csv), "west.csv", "页面导入 西部")
    assert "Imported dataset #" in said and any(o["label"].startswith("页面导入 西部") for o in options)
    ds = factors.datasets().row(0, named=True)
    assert ds["name"] == "页面导入 西部" and ds["n_rows"] == 8 and ds["imported_by"] == "leader"
    assert (
        audit.verify().entries == before + 1
        and audit.show(limit=1).row(0, named=True)["action"] == "factors.import"
    )
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(WEST))
    for row in zip(*WEST.values(), strict=True):
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "8 rows" in preview(client, as_upload(buf.getvalue(), xlsx), "west.xlsx")

    bad = [
        (
            as_upload(b"u,y,note\na,1,x\nb,2,y\n"),
            "t.csv",
            "These columns are not numeric; nothing was imported: note",
        ),
        (as_upload(b"\x00\x01 not a workbook"), "t.xlsx", "Cannot read the table t.xlsx"),
        (as_upload(b"a,b\n1,2\n"), "t.exe", "only .csv and .xlsx"),
        (as_upload(b"x" * (factors.MAX_UPLOAD_BYTES + 10)), "big.csv", "The file is over 2 MB"),
        ("data:text/csv;base64,@@@", "t.csv", "cannot be decoded"),
        (None, None, "Choose a file first"),
        (as_upload(b"a,b\n"), "empty.csv", "The table has no rows"),
    ]
    for contents, fname, expected in bad:
        assert expected in preview(client, contents, fname), fname
        said, options = confirm(client, contents, fname, "bad")
        assert expected in said and options is None, fname
    assert (
        audit.verify().entries == before + 1
        and factors.datasets().row(0, named=True)["name"] == "页面导入 西部"
    )


def test_a_choice_seen_again_is_the_kept_answer(
    client: FlaskClient, sqlite_pool: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analysis is kept (`view.remembered`) per choice on the factor data's, the staff's and the
    records' versions: asking the same again runs no regression."""
    from dashboard.pages.factors import page

    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    first = update(client, "2026", "gov_index", ["broadband", "fiscal_ratio"], lang="en")
    assert "Table 4 nested OLS models" in text_of(first)
    with monkeypatch.context() as m:
        m.setattr(page, "run", lambda *_: pytest.fail("the analysis ran again"))
        assert update(client, "2026", "gov_index", ["broadband", "fiscal_ratio"], lang="en") == first
