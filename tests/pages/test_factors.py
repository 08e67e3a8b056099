"""The governance factor-analysis page: leaders and administrators get the paper's tables on the pool's
township figures; other roles a designed refusal; bad choices a message, never a traceback."""

from __future__ import annotations

import json
from typing import Any

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
}


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages.factors.page import ids

    assert {k: getattr(ids, k) for k in IDS} == IDS


def update(client: FlaskClient, year: Any, y: Any, xs: Any, robust: Any = None, lang: str = "zh") -> Any:
    ids = IDS
    body = {
        "output": f"{ids['content']}.children",
        "outputs": {"id": ids["content"], "property": "children"},
        "inputs": [
            {"id": ids["year"], "property": "value", "value": year},
            {"id": ids["y"], "property": "value", "value": y},
            {"id": ids["xs"], "property": "value", "value": xs},
            {"id": ids["robust"], "property": "value", "value": robust or []},
        ],
        "state": [{"id": ids["params"], "property": "data", "value": {"lang": lang, "theme": "desk"}}],
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
