"""The server: login and the session guard, health check, language, bad input and the pool error panel."""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from queries import audit, cache, engine
from queries.tables import login_event
from tests.pages.conftest import csrf_token, find_ids, login, render_page, text_of


def test_pages_need_a_login(client: FlaskClient) -> None:
    resp = client.get("/pool?kiosk=1")
    assert resp.status_code == 302
    target = urlparse(resp.headers["Location"])
    assert target.path == "/login" and "next=%2Fpool%3Fkiosk%3D1" in target.query
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/login").status_code == 200


def test_wrong_password_is_refused_clearly_and_audited(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    resp = login(client, "admin", "wrong-password")
    assert resp.status_code == 401
    page = resp.data.decode()
    assert "用户名或密码错误" in page and "Wrong username or password" in page
    url, _ = sqlite_pool
    with create_engine(url).connect() as conn:
        row = conn.execute(select(login_event).order_by(login_event.c.id.desc())).first()
    assert row is not None and row.username == "admin" and row.ok is False


def test_empty_form_is_refused(client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(client)})
    assert resp.status_code == 401 and "Enter a username" in resp.data.decode()


def test_repeated_failures_from_one_address_slow_it_down(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.environ_base["REMOTE_ADDR"] = "192.0.2.77"  # its own address: other tests log in unslowed
    # a frozen clock: on a loaded machine five argon2 hashes can outlast the delay they earn
    import time

    frozen = time.time()
    monkeypatch.setattr(time, "time", lambda: frozen)
    for _ in range(5):
        login(client, "operator", "nope-nope")
    resp = login(client, "operator", "operator-demo-2026")
    page = resp.data.decode()
    assert resp.status_code == 429 and "Too many login attempts; try again in" in page
    assert "登录尝试过多" in page and int(resp.headers["Retry-After"]) > 0


def test_login_then_the_page_and_whoami(client: FlaskClient) -> None:
    resp = login(client, "wenlan", "wenlan-demo-2026")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    who = client.get("/api/whoami").get_json()
    assert who == {"username": "wenlan", "role": "leader", "scope": "t532503001-dNone-c2"}


@pytest.mark.parametrize("nxt", ["//evil.example/x", "https://evil.example/", "\\\\evil"])
def test_no_open_redirect(client: FlaskClient, nxt: str) -> None:
    data = {"username": "admin", "password": "admin-demo-2026", "next": nxt, "csrf_token": csrf_token(client)}
    resp = client.post("/login", data=data)
    assert resp.headers["Location"] == "/"


def test_healthz(client: FlaskClient) -> None:
    from queries.schema import head_revision

    login(client)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["schema"] == head_revision() and body["records"] > 60000
    assert body["stale"] is True  # the test pool ends on 2026-11-20


def test_healthz_and_pages_when_the_pool_is_missing(client: FlaskClient, tmp_path: Path) -> None:
    login(client)
    engine.configure(f"sqlite:///{tmp_path / 'gone.sqlite'}")
    cache.configure(None)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    # without a pool no session can be checked, so the answer is the anonymous one: status only
    assert body["status"] == "error" and body["schema_ok"] is False and "hint" not in body
    assert "gone.sqlite" not in resp.data.decode()
    out = render_page(client, "/")
    assert "app-error-panel" in find_ids(out)
    assert "Traceback" not in text_of(out)


def test_pages_when_postgres_is_unreachable(client: FlaskClient) -> None:
    login(client)
    engine.configure("postgresql+psycopg://nobody@127.0.0.1:1/none")
    out = render_page(client, "/pool")
    assert "app-error-panel" in find_ids(out)
    assert "cannot be reached" in text_of(out)


def test_overview_renders_its_parts(client: FlaskClient) -> None:
    login(client)
    out = render_page(client, "/")
    ids = find_ids(out)
    for needed in (
        "overview-alert-strip",
        "overview-kpis",
        "overview-module-tiles",
        "overview-ranking-graph",
        "overview-urban-rural-graph",
        "overview-trend-graph",
        "overview-kpi-dropdown",
        "overview-tile-logistics",
        "overview-kpi-ontime",
    ):
        assert needed in ids, needed
    text = text_of(out)
    assert "草坝镇" in text and "县乡村物流平台" in text  # the two injected incidents are on the alert strip
    assert "数据截至" in text or "截至" in text
    assert "公式" in text  # KPI definitions travel with the cards


def test_overview_in_english_and_bad_kpi_parameter(client: FlaskClient) -> None:
    login(client)
    client.set_cookie("cc_lang", "en")
    out = render_page(client, "/", "?kpi=nonsense")
    text = text_of(out)
    assert "Which township leads on data governance index?" in text  # fell back to the index
    assert "No ranking KPI 'nonsense'" in text  # and said so
    assert "Logistics platform" in text or "logistics platform" in text


def test_pool_page_renders(client: FlaskClient) -> None:
    login(client)
    ids = find_ids(render_page(client, "/pool"))
    for needed in (
        "pool-source-grid",
        "pool-heatmap-graph",
        "pool-class-graph",
        "pool-truth-table",
        "pool-kpis",
    ):
        assert needed in ids, needed


def test_scoped_viewer_sees_their_scope(client: FlaskClient) -> None:
    login(client, "wenlan", "wenlan-demo-2026")
    text = text_of(render_page(client, "/"))
    assert "文澜街道" in text and "草坝镇" not in text  # the Caoba spike is outside Wenlan's scope


def test_unknown_path_gets_the_404_page(client: FlaskClient) -> None:
    login(client)
    assert "notfound-panel" in find_ids(render_page(client, "/no/such/page"))
    assert client.get("/does-not-exist").status_code == 404  # the app frame still loads, saying 404
    import dash

    for p in dash.page_registry.values():
        assert client.get(p["relative_path"]).status_code == 200, p["relative_path"]


def test_language_switch_sets_a_cookie_and_returns(client: FlaskClient) -> None:
    resp = client.get("/lang/en?next=/pool")
    assert resp.status_code == 302 and resp.headers["Location"] == "/pool"
    assert "cc_lang=en" in resp.headers["Set-Cookie"]
    bad = client.get("/lang/xx?next=/")
    assert "Set-Cookie" not in bad.headers


def test_shell_reports_bad_url_parameters(app: Dash, client: FlaskClient) -> None:
    from dashboard.app import parse_wall

    store, disabled, notice, cls = parse_wall("?playlist=overview:10,harvest:20&lang=fr&kiosk=1", "zh")
    text = text_of(notice)
    assert "harvest" in text and "fr" in text
    assert [i["name"] for i in store["items"]] == ["overview"] and disabled is False
    assert "kiosk" in cls and "theme-wall" in cls


def test_a_scope_with_no_data_says_so(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    """The emergency bureau runs none of the 12 sub-platforms' source systems: its head sees a clear
    empty state, not blank charts."""
    from queries.users import create_user, user_exists

    url, _ = sqlite_pool
    with create_engine(url).begin() as conn:
        if not user_exists(conn, "yingji"):
            create_user(
                audit.joined(conn, audit.Actor.cli()),
                username="yingji",
                password="yingji-pass-2026",
                role="department_head",
                department_id=18,
            )
    login(client, "yingji", "yingji-pass-2026")
    for path in ("/", "/pool"):
        out = render_page(client, path)
        text = text_of(out)
        assert "所选范围内暂无数据" in text and "No records in your scope" in text
        assert "app-error-panel" not in find_ids(out)


def test_alert_strip_counts_what_it_cannot_show(client: FlaskClient) -> None:
    import polars as pl

    # the module Dash loaded (the app loads pages as dashboard.pages.*, so this is the same module)
    page = importlib.import_module("dashboard.pages.overview")
    from queries.activity import ALERT_SCHEMA

    rows = [
        dict(
            level="amber",
            kind="spike",
            module_id=3,
            township_code=532503001 + i,
            source_id=None,
            value=30.0,
            baseline=5.0,
        )
        for i in range(5)
    ]
    strip = page.alert_strip(pl.DataFrame(rows, schema=ALERT_SCHEMA), "en")
    text = text_of(strip)
    assert text.count("alert alert-amber") == page.MAX_ALERTS and "+2 more alerts" in text


def test_the_page_list_is_dash_s(app: Dash) -> None:
    """tests/registry.py reads the pages from their register_page calls (collection time needs them
    before any app exists); it must agree with Dash's live registry, and the wall must know every page
    that draws data, by the name and path Dash has."""
    import dash

    from dashboard import wall
    from tests import registry

    live = {(p["name"], p["path"], p.get("ready")) for p in dash.page_registry.values()}
    assert {(p.name, p.path, p.ready) for p in registry.pages()} == live
    assert wall.pages() == {name: spec.path for name, spec in registry.data_pages().items()}


def test_every_data_page_has_a_navigation_label() -> None:
    """The header lists only pages with a label in dashboard.i18n.T: a page without one is unreachable
    from the navigation (the 3D twin once was)."""
    from dashboard.i18n import T
    from tests.registry import data_pages

    missing = sorted(name for name in data_pages() if name not in T)
    assert missing == []
