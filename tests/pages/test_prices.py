"""The price monitor page through Dash's router and its callbacks: the board and the warnings with their
reasons, a bad URL named and survived, the scope of a township leader, the wall's alert, and decisions
through the door only for those who may decide."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from queries import audit, prices
from tests.pages.conftest import find_ids, render_page, text_of
from tests.pages.test_audit import sign_in

BOARD, WARN, DETAIL, SERIES, NOTICE = (
    "prices-board-graph",
    "prices-warnings-table",
    "prices-detail-panel",
    "prices-series-graph",
    "prices-url-notice",
)


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages.prices import page

    assert (page.ids.board, page.ids.warnings, page.ids.detail, page.ids.series, page.ids.url_notice) == (
        BOARD,
        WARN,
        DETAIL,
        SERIES,
        NOTICE,
    )


def test_the_board_and_the_warnings_with_their_reasons(
    client: FlaskClient, sqlite_pool: tuple[str, Any]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/prices")
    got = find_ids(out)
    assert {
        BOARD,
        WARN,
        DETAIL,
        SERIES,
        "prices-hog-graph",
        "prices-coop-table",
        "prices-kpi-abnormal",
    } <= got
    text = text_of(out)
    assert (
        "两种方法均判异常" in text and "both abnormal, escalated" in text
    )  # the pork shock, in both languages
    assert "哪些产品、哪些市场价格异常?" in text and "截至 2026-11-20" in text
    assert NOTICE not in got


def test_a_series_asked_for_in_the_url(client: FlaskClient, sqlite_pool: tuple[str, Any]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/prices", "?product=grape&market=caoba&lang=en")
    text = text_of(out)
    assert "No ALPS figure: less than 3 years of data (24 months)" in text  # which rule it fails
    assert NOTICE not in find_ids(out)


def test_a_bad_url_is_named_and_the_page_still_renders(
    client: FlaskClient, sqlite_pool: tuple[str, Any]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/prices", "?product=durian&market=wholesale")
    got = find_ids(out)
    assert NOTICE in got and {BOARD, SERIES} <= got
    assert "No product 'durian'" in text_of(out) and "showing the worst series" in text_of(out)


def test_a_township_leader_sees_only_their_markets(client: FlaskClient, sqlite_pool: tuple[str, Any]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "wenlan")  # leader of 文澜街道
    out = render_page(client, "/prices", "?product=tomato&market=caoba")
    text = text_of(out)
    assert "outside your scope" in text
    assert "草坝镇农贸市场" not in text.replace("No market 'caoba'", "")
    assert "文澜农贸市场" in text


def test_wall_theme_and_alert(client: FlaskClient, sqlite_pool: tuple[str, Any]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "operator")
    out = render_page(client, "/prices", "?kiosk=1")
    got = find_ids(out)
    assert {BOARD, WARN, "prices-hog-graph"} <= got and DETAIL not in got  # no pickers or forms on the wall
    from dashboard import wall
    from queries.scope import Viewer

    assert wall.alert_levels(Viewer(1, "operator", "o", "operator"))["/prices"] == "red"


def _post(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return json.loads(resp.data)  # type: ignore[no-any-return]


def _decide(client: FlaskClient, kind: str, amount: float | None) -> dict[str, Any]:
    states = [
        ("prices-product-dropdown", "value", "tomato"),
        ("prices-market-dropdown", "value", "farmgate"),
        ("prices-decision-kind-dropdown", "value", kind),
        ("prices-decision-amount-input", "value", amount),
        ("prices-decision-note-input", "value", "按每公斤0.3元补贴"),
        ("prices-params-store", "data", {"lang": "en", "theme": "desk", "kiosk": False}),
    ]
    body = {
        "output": "..prices-decision-status.children...prices-ledger-table.children..",
        "outputs": [
            {"id": "prices-decision-status", "property": "children"},
            {"id": "prices-ledger-table", "property": "children"},
        ],
        "inputs": [{"id": "prices-decision-button", "property": "n_clicks", "value": 1}],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states],
        "changedPropIds": ["prices-decision-button.n_clicks"],
    }
    return _post(client, body)


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)  # the door itself: both, in queries
def test_a_leader_decides_through_the_door(client: FlaskClient, writable_pool: str) -> None:
    before = audit.verify().entries
    sign_in(client, writable_pool, "leader")
    out = _decide(client, "subsidy", None)
    assert "Give an amount in yuan" in text_of(out)
    out = _decide(client, "subsidy", 30000)
    assert "recorded" in text_of(out) and "30,000" in text_of(out)
    # the outcome follows the cooperatives' sales too: tomato's farm-gate coops reported that month
    assert "Coops' sales: that month" in text_of(out) and "→ not yet" in text_of(out)
    entries = audit.show(action="price.", limit=5)
    assert entries.height == 1 and entries["actor_username"][0] == "leader"
    assert audit.verify().ok and audit.verify().entries > before


def _refresh(client: FlaskClient) -> str:
    body = {
        "output": "prices-content.children",
        "outputs": {"id": "prices-content", "property": "children"},
        "inputs": [{"id": "app-refresh-interval", "property": "n_intervals", "value": 1}],
        "state": [
            {"id": "prices-params-store", "property": "data", "value": {"lang": "en", "theme": "desk"}}
        ],
        "changedPropIds": ["app-refresh-interval.n_intervals"],
    }
    return text_of(_post(client, body))


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_the_refreshed_page_shows_a_new_decision_at_once(
    client: FlaskClient, writable_pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's answer, ledger included, is kept on the price data's and the staff's versions: the
    refresh is served from it, and a decision moves the staff's version at once, so it is on the next one."""
    sign_in(client, writable_pool, "leader")
    before = _refresh(client)
    with monkeypatch.context() as m:  # the kept answer, read again: the ledger is not read
        m.setattr(prices, "decisions", lambda **_: pytest.fail("the ledger was read again"))
        assert _refresh(client) == before
    assert "recorded" in text_of(_decide(client, "subsidy", 12345))
    after = _refresh(client)
    assert "12,345" in after and "12,345" not in before


def test_an_operator_cannot_decide(client: FlaskClient, sqlite_pool: tuple[str, Any]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "operator")
    out = render_page(client, "/prices")
    assert "prices-decision-button" not in find_ids(out)
    before = audit.verify().entries
    assert "Only leaders and administrators may decide" in text_of(_decide(client, "none", None))
    assert audit.verify().entries == before  # refused before the door: nothing written, nothing logged


def test_production_and_sales_against_price(client: FlaskClient, sqlite_pool: tuple[str, Any]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/prices", "?product=tomato&market=farmgate&lang=en")
    assert "prices-volumes-graph" in find_ids(out)
    assert "do the cooperatives' output and sales follow the price?" in text_of(out)
    # lean pork is sold at retail markets only: no cooperative reports it, and the page says so
    out = render_page(client, "/prices", "?product=pork&market=wenlan&lang=en")
    assert "prices-volumes-graph" not in find_ids(out)
    assert "No cooperative reports production and sales of this product" in text_of(out)


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_a_record_batch_leaves_the_kept_answer_valid(client: FlaskClient, writable_pool: str) -> None:
    """The page reads price data only (`view.reads()`), with the price data's own as-of time: a batch of
    records through the real ingest path moves the pool's version and as-of time, and the refresh is
    still the kept answer, computed by no query."""
    from queries import cache
    from tests.pages.conftest import land_record_batch

    sign_in(client, writable_pool, "leader")
    before = _refresh(client)
    st, moved = land_record_batch(9_200_000)
    assert moved.data_version != st.data_version and moved.as_of > st.as_of
    misses = cache.stats()["misses"]
    assert _refresh(client) == before
    assert cache.stats()["misses"] == misses
