"""The pool page's owners' scorecards and drill-down links: every figure agrees with owners.scorecards()
in the viewer's scope, carries its definition, names its owner, and every quality figure links to the
records behind it in the record browser."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from queries import meta, owners, pool
from tests.pages.conftest import render_page, text_of
from tests.pages.test_roles import find, kpi_value, scope_of, sign_in


@pytest.fixture
def as_user(client: FlaskClient, sqlite_pool: tuple[str, object]) -> Any:
    def go(name: str) -> FlaskClient:
        sign_in(client, sqlite_pool[0], name)
        return client

    return go


def _cards(name: str) -> Any:
    day = meta.pool_status().as_of_day
    v = scope_of(name)
    home = 2 if name == "minzheng" else None
    return owners.scorecards(scope=v, first_day=day - 29, last_day=day, home_department=home)


@pytest.mark.parametrize("name", ["admin", "minzheng", "operator"])
def test_every_scorecard_matches_the_query(as_user: Any, name: str) -> None:
    page = render_page(as_user(name), "/pool")
    cards = _cards(name)
    section = find(page, "pool-scorecards")
    assert section is not None
    text = text_of(section)
    order = [text.index(f'"pool-score-{code}"') for code in cards["code"]]
    assert order == sorted(order)  # the query's order: own department first, then lowest score first
    for r in cards.iter_rows(named=True):
        for key in (*owners._DEFECT_OF, "quarantine_rate"):
            want = "—" if r[key] is None else f"{r[key]:.1%}"
            assert kpi_value(page, f"pool-score-{r['code']}-{key}") == want
        assert f"数据负责人: {r['owner_zh']} ({r['owner_title_zh']})" in text
    card = text_of(find(page, f"pool-score-{cards['code'][0]}-completeness"))
    assert "公式" in card and "1 − 缺失记录 / 记录数" in card and "queries.owners.scorecards" in card
    assert "近30日 (对比前30日)" in card
    if name == "minzheng":
        assert set(cards["code"][:2]) == {"community_governance", "elderly_care"}
        assert "score-home" in find(page, "pool-score-community_governance")["props"]["className"]  # type: ignore[index]
        assert cards.height == meta.sources().height  # the rest follow
    else:
        assert "score-home" not in text


def test_quality_figures_link_to_the_records_behind_them(as_user: Any) -> None:
    page = render_page(as_user("wenlan"), "/pool")
    day = meta.pool_status().as_of_day
    link = find(page, "pool-kpi-duplicate")
    href = next(c for c in link["props"]["children"] if c.get("props", {}).get("className") == "kpi-link")  # type: ignore[index]
    q = parse_qs(urlsplit(href["props"]["href"]).query)
    assert urlsplit(href["props"]["href"]).path == "/records"
    assert q == {
        "defect": ["duplicate"],
        "township": ["532503001"],
        "from": ["2026-10-22"],
        "to": ["2026-11-20"],
    }
    grid = find(page, "pool-source-grid")
    assert grid is not None
    row = grid["props"]["rowData"][0]
    want = pool.source_health(
        scope=scope_of("wenlan"),
        first_day=day - 29,
        last_day=day,
        as_of=meta.pool_status().as_of,
        rules=pool.AlertRules(),
    ).row(0, named=True)
    links = re.findall(r"\]\(([^)]+)\)", row["drill"])  # markdown links, one per defect
    assert len(links) == 4
    got = parse_qs(urlsplit(links[3]).query)
    assert got == {
        "source": [want["code"]],
        "defect": ["badcode"],
        "township": ["532503001"],
        "from": ["2026-10-22"],
        "to": ["2026-11-20"],
    }
    col = next(c for c in grid["props"]["columnDefs"] if c["field"] == "drill")
    assert col["cellRenderer"] == "markdown"


def test_the_wall_shows_no_scorecards_or_quarantine(as_user: Any) -> None:
    page = render_page(as_user("admin"), "/pool", "?kiosk=1&theme=wall")
    assert find(page, "pool-scorecards") is None and find(page, "pool-quarantine") is None
    assert find(page, "pool-source-grid") is not None


def test_english_beside_chinese(as_user: Any) -> None:
    page = text_of(render_page(as_user("admin"), "/pool", "?lang=en"))
    assert "Data owners' quality scorecards" in page and "数据负责人质量记分卡" in page
    assert "Quarantine: rows refused on arrival" in page and "Completeness" in page
    assert "See the records" in page
