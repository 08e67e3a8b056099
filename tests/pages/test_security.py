"""Security at the HTTP boundary: redirects, the login throttle, logout and replayed cookies, CSRF and
the origin check, security headers, exact public paths, and counts kept within the viewer's scope."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, insert, select

from queries import audit, users
from queries.scope import Viewer
from queries.tables import app_user, login_event, rollup_daily
from tests.pages.conftest import csrf_token, login, text_of


@pytest.mark.parametrize(
    "nxt", ["/%09/evil.example", "/%0A/x", "/%0D%0A/x", "%2F%2Fevil.example", "/%5Cevil"]
)
def test_language_switch_never_redirects_away(client: FlaskClient, nxt: str) -> None:
    resp = client.get(f"/lang/en?next={nxt}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_language_switch_referrer_goes_through_the_same_check(client: FlaskClient) -> None:
    back = client.get("/lang/en", headers={"Referer": "http://localhost/pool?kiosk=1"})
    assert back.headers["Location"] == "/pool?kiosk=1"
    for ref in ("http://evil.example/pool", "http://localhost/\t/evil.example", "http://localhost.evil/x"):
        assert client.get("/lang/en", headers={"Referer": ref}).headers["Location"] == "/", ref


def test_login_form_next_never_redirects_away(client: FlaskClient) -> None:
    data = {"username": "admin", "password": "admin-demo-2026", "csrf_token": csrf_token(client)}
    resp = client.post("/login", data={**data, "next": "/\t/evil.example"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def _post_login(client: FlaskClient, username: str, password: str) -> Any:
    data = {"username": username, "password": password, "next": "/", "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def test_throttled_login_is_refused_before_any_hash(
    client: FlaskClient, sqlite_pool: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    client.environ_base["REMOTE_ADDR"] = "192.0.2.31"
    url, _ = sqlite_pool
    now = int(time.time())
    # guesses spread over the last minutes, as a patient attacker makes them (refused tries are not
    # written, so a test cannot pile them up through the form)
    with create_engine(url).begin() as conn:
        conn.execute(
            insert(login_event),
            [dict(username="leader", at=now - 60 + i, ok=False, remote_addr="192.0.2.31") for i in range(9)],
        )

    def no_hash(**_: Any) -> None:
        raise AssertionError("a throttled try must not reach argon2")

    monkeypatch.setattr(users, "authenticate", no_hash)
    resp = _post_login(client, "leader", "leader-demo-2026")
    page = resp.data.decode()
    assert resp.status_code == 429 and "请" in page and "秒后再试" in page and "try again in" in page
    wait = int(resp.headers["Retry-After"])
    assert wait > 1 and (f"{wait} seconds" in page or f"{(wait + 59) // 60} minutes" in page)
    monkeypatch.undo()
    # the owner at another desk is not locked out by that address's guessing
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.32"
    assert _post_login(other, "leader", "leader-demo-2026").status_code == 302


def test_argon2_runs_one_at_a_time_per_worker(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import auth

    monkeypatch.setattr(auth, "HASH_QUEUE_S", 0)
    assert auth._HASHING.acquire(timeout=5)  # another login is hashing
    try:
        resp = _post_login(client, "admin", "admin-demo-2026")
    finally:
        auth._HASHING.release()
    assert resp.status_code == 503 and "Logins are busy" in resp.data.decode()
    assert _post_login(client, "admin", "admin-demo-2026").status_code == 302


def _logout_token(client: FlaskClient) -> str:
    layout = json.loads(client.get("/_dash-layout").data)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == "app-logout-token":
                found.append(props["value"])
            for v in props.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(layout)
    assert found and found[0], "the header has no logout form with a token"
    return found[0]


def test_logout_is_a_post_and_a_replayed_cookie_is_refused(app: Dash, client: FlaskClient) -> None:
    login(client, "minzheng", "minzheng-demo-2026")
    cookie = client.get_cookie("cc_session")
    assert cookie is not None
    assert client.get("/logout").status_code == 302
    assert client.get("/api/whoami").status_code == 200  # GET /logout did not log out
    assert client.post("/logout").status_code == 400  # no token: refused, still logged in
    assert client.get("/api/whoami").status_code == 200
    resp = client.post("/logout", data={"csrf_token": _logout_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    thief = app.server.test_client()
    thief.set_cookie("cc_session", cookie.value)
    assert thief.get("/").status_code == 302
    assert thief.post("/_dash-update-component", json={}).status_code == 401


def test_a_password_change_ends_other_sessions(
    app: Dash, client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    with create_engine(url).begin() as conn:
        if not users.user_exists(conn, "t.pw"):
            users.create_user(
                audit.joined(conn, audit.Actor.cli()),
                username="t.pw",
                password="first-password",
                role="leader",
            )
        else:
            users.set_password(
                audit.joined(conn, audit.Actor.cli()), username="t.pw", password="first-password"
            )
    login(client, "t.pw", "first-password")
    assert client.get("/api/whoami").status_code == 200
    with create_engine(url).begin() as conn:
        users.set_password(audit.joined(conn, audit.Actor.cli()), username="t.pw", password="second-password")
    assert client.get("/").status_code == 302


def test_login_without_the_csrf_token_is_refused(client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "admin", "password": "admin-demo-2026", "next": "/"})
    page = resp.data.decode()
    assert resp.status_code == 400 and "表单已过期" in page and "The form expired" in page
    assert client.get("/api/whoami").status_code == 302


def test_cross_origin_posts_are_refused(client: FlaskClient) -> None:
    login(client)
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/x"},
    ):
        resp = client.post("/_dash-update-component", json={}, headers=headers)
        assert resp.status_code == 403, headers
        body = resp.get_json()
        assert "Cross-site request refused" in body["error"] and "拒绝跨站请求" in body["error_zh"]
    token = csrf_token(client)
    resp = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403 and client.get("/api/whoami").status_code == 200


def _call(
    client: FlaskClient, output: str, values: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    """Call one registered callback exactly as the browser does."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    cb = next(d for d in deps if output in d["output"])
    body = {
        "output": cb["output"],
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]} for o in cb["output"].strip(".").split("...")
        ],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in cb["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in cb["state"]],
        "changedPropIds": [],
    }
    return client.post("/_dash-update-component", json=body, headers=headers or {})


def _scoped_total(url: str, viewer_name: str) -> int:
    with create_engine(url).connect() as conn:
        row = conn.execute(select(app_user).where(app_user.c.username == viewer_name)).one()
        viewer = Viewer(
            row.id, row.username, row.display_name, row.role, row.department_id, row.township_code
        )
        q = select(func.sum(rollup_daily.c.n)).where(viewer.scope().where(rollup_daily))
        return int(conn.execute(q).scalar() or 0)


def test_same_origin_callbacks_pass_and_the_badge_counts_the_viewers_scope(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    login(client, "wenlan", "wenlan-demo-2026")
    resp = _call(
        client,
        "app-asof-badge.children",
        {"app-lang-store.data": "en"},
        headers={"Origin": "http://localhost", "Referer": "http://localhost/"},
    )
    assert resp.status_code == 200
    title = json.loads(resp.data)["response"]["app-asof-badge"]["title"]
    own, pool_total = _scoped_total(url, "wenlan"), _scoped_total(url, "admin")
    assert own < pool_total
    assert f"{own:,} records in your scope" in title and f"{pool_total:,}" not in title


def test_healthz_tells_strangers_the_status_only(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    body = client.get("/healthz").get_json()
    assert set(body) == {"status", "time", "schema_ok", "stale"}
    assert body["status"] == "ok" and body["schema_ok"] is True
    url, _ = sqlite_pool
    login(client, "operator", "operator-demo-2026")
    body = client.get("/healthz").get_json()
    assert body["records"] == _scoped_total(url, "operator") < _scoped_total(url, "admin")
    assert url.split("///")[-1] not in json.dumps(body)


def test_security_headers_on_every_answer(client: FlaskClient) -> None:
    login(client)
    for path in ("/login", "/", "/healthz", "/api/whoami", "/_dash-layout", "/does-not-exist"):
        h = client.get(path).headers
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "http" not in csp, path
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff", path
        assert h["Referrer-Policy"] == "same-origin" and h["Cache-Control"] == "no-store", path
    assert _call(client, "app-asof-badge.children", {}).headers["Cache-Control"] == "no-store"
    asset = client.get("/assets/base.css")
    assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", "")


def test_csp_names_no_other_host_unless_a_basemap_is_set() -> None:
    from dashboard.app import csp_policy

    assert "http" not in csp_policy(["'sha256-x'"], "")
    policy = csp_policy([], "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.example.org;" in policy
    assert policy.count("example.org") == 1


def test_cookies_follow_cc_cookie_secure(
    app: Dash, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from dashboard import app as app_module

    assert "Secure" not in client.get("/lang/en").headers["Set-Cookie"]
    monkeypatch.setattr(
        app_module, "_SETTINGS", dataclasses.replace(app_module.settings(), cookie_secure=True)
    )
    monkeypatch.setitem(app.server.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in client.get("/lang/en").headers["Set-Cookie"]
    assert "Secure" in login(client).headers["Set-Cookie"]


@pytest.mark.parametrize(
    "path", ["/loginfoo", "/healthzz", "/logout/x", "/lang/xx", "/assetsx", "/_dash-layoutx"]
)
def test_public_paths_are_exact(client: FlaskClient, path: str) -> None:
    resp = client.get(path)
    if path.startswith("/_dash-"):
        assert resp.status_code == 401
    else:
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?")


def test_lang_on_the_first_load_sets_the_page_language(client: FlaskClient) -> None:
    login(client)
    client.delete_cookie("cc_lang")
    page = client.get("/?lang=en").data.decode()
    assert '<html lang="en">' in page
    layout = text_of(json.loads(client.get("/_dash-layout").data))
    assert "Log out" in layout


def test_login_audit_keeps_the_address(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    client.environ_base["REMOTE_ADDR"] = "192.0.2.41"
    _post_login(client, "t.nobody", "whatever-it-is")
    url, _ = sqlite_pool
    with create_engine(url).connect() as conn:
        row = conn.execute(select(login_event).order_by(login_event.c.id.desc())).first()
    assert row is not None and (row.username, row.remote_addr, row.ok) == ("t.nobody", "192.0.2.41", False)


def test_the_logout_token_survives_a_concurrent_answer(client: FlaskClient) -> None:
    """A page loads its layout and its callbacks at once, and every answer re-sends the (permanent)
    session cookie as it was when that request began. If the form token first entered the session with
    the layout, a callback answer that began earlier overwrote the cookie without it, and the logout
    button then answered 400 "form expired" (seen in Chromium under load). The session holds its token
    from the login on, so that older cookie still matches the form."""
    login(client, "wenlan", "wenlan-demo-2026")
    at_login = client.get_cookie("cc_session")
    assert at_login is not None
    token = _logout_token(client)  # the layout, as the browser fetches it
    client.set_cookie("cc_session", at_login.value)  # a callback answer that began before it lands last
    resp = client.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
