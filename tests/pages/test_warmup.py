"""The cache warm-up after a data change: it fills exactly what the first county-wide viewer asks for,
one worker wins it per data version, and a page that fails to warm does not stop the others."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from dashboard import warmup
from queries import cache
from tests.pages.conftest import login
from tests.pages.test_loop import refresh as loop_refresh

OVERVIEW = {
    "output": "overview-content.children",
    "outputs": {"id": "overview-content", "property": "children"},
    "inputs": [{"id": "app-refresh-interval", "property": "n_intervals", "value": 3}],
    "state": [
        {
            "id": "overview-params-store",
            "property": "data",
            "value": {"lang": "zh", "theme": "wall", "kiosk": True},
        },
        {"id": "overview-kpi-dropdown", "property": "value", "value": "index"},
    ],
    "changedPropIds": ["app-refresh-interval.n_intervals"],
}


PRICES = {
    "output": "prices-content.children",
    "outputs": {"id": "prices-content", "property": "children"},
    "inputs": [{"id": "app-refresh-interval", "property": "n_intervals", "value": 2}],
    "state": [
        {
            "id": "prices-params-store",
            "property": "data",
            "value": {"lang": "zh", "theme": "wall", "kiosk": True, "product": None, "market": None},
        }
    ],
    "changedPropIds": ["app-refresh-interval.n_intervals"],
}


def test_warmed_views_are_served_without_a_miss(app: Dash, client: FlaskClient) -> None:
    login(client)
    with app.server.app_context():
        spent = warmup.warm_all()
    assert {m.rsplit(".", 1)[-1] for m in spent} >= {"overview", "page"}  # overview, loop/pool/divide pages
    before = cache.stats()
    assert client.post("/_dash-update-component", json=OVERVIEW).status_code == 200  # a wall screen's refresh
    status, _ = loop_refresh(client, None, None, None)  # a desk's first look at the loop, county-wide
    assert status == 200
    prices = client.post("/_dash-update-component", json=PRICES)  # the price page's wall screen
    assert prices.status_code == 200 and b"prices-board-graph" in prices.data
    after = cache.stats()
    assert after["misses"] == before["misses"] and after["hits"] > before["hits"]


def test_one_warm_up_per_data_version(
    app: Dash, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    monkeypatch.setattr(warmup, "warm_all", lambda: runs.append(1) or {})
    with app.server.app_context():
        seen = warmup.check(None)  # this worker wins the claim for the version
        assert warmup.check(None) == seen  # another worker, same version: claimed already
        assert warmup.check(seen) == seen  # nothing moved
    assert runs == [1]


def test_a_failing_page_is_logged_and_the_others_warm(
    app: Dash, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[str] = []

    def broken(v: Any, p: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(
        warmup, "_WARMERS", {"a.broken": broken, "b.fine": lambda v, p: done.append(v.role + p.theme)}
    )
    with caplog.at_level(logging.ERROR), app.server.app_context():
        spent = warmup.warm_all()
    assert list(spent) == ["b.fine"] and len(done) == 4  # 2 viewers x 2 themes
    assert "warm-up failed: a.broken" in caplog.text


def test_off_when_the_interval_is_zero(app: Dash) -> None:
    assert warmup.start(0, app.server) is None


def test_the_lists_wall_after_a_warm_up_misses_nothing(app: Dash, client: FlaskClient) -> None:
    """The Three-Lists wall's first paint and its refresh tick (with the values that paint put in the
    controls) are warmed: after an ingest batch moved the version, the wall pays nothing."""
    from dashboard.pages.lists.components import ids
    from queries import lists
    from queries.scope import CITY_SCOPE
    from tests.pages.conftest import render_page
    from tests.pages.test_lists import post

    login(client)
    with app.server.app_context():
        warmup.warm_all()
    focus = lists.focus_problem(scope=CITY_SCOPE)
    code = {i: c for c, i in lists.problem_ids_by_code(scope=CITY_SCOPE).items()}[focus]
    before = cache.stats()
    assert ids.kpis in json.dumps(render_page(client, "/lists", "?kiosk=1"))
    params = {"lang": "zh", "theme": "wall", "kiosk": True}
    output = f"..{ids.kpis}.children...{ids.body}.children.."
    post(client, output, ["map", code, "all", 2], [params], "app-refresh-interval.n_intervals")
    assert cache.stats()["misses"] == before["misses"]
