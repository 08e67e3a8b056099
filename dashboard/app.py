"""create_app(): the Flask server, auth, health check, and the Dash shell that every page sits in."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash
import polars as pl
from dash import Dash, Input, Output, State, callback, clientside_callback, dcc, html
from dash_extensions import Keyboard
from flask import Flask, Response, has_request_context, redirect, request
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from dashboard import api, auth, inputs, wall
from dashboard.i18n import LANGS, T, bi, bi_text, both, norm_lang, pick
from dashboard.settings import REPO_ROOT, Settings, load
from queries import cache, engine, meta, schema
from queries.errors import PoolError
from queries.meta import pool_status, scoped_records
from queries.scope import ROLE_LABELS, Viewer
from queries.timebase import to_local

_SETTINGS: Settings | None = None


def settings() -> Settings:
    global _SETTINGS
    if _SETTINGS is None:
        _SETTINGS = load()
    return _SETTINGS


def request_lang() -> str:
    """Language for this request: ?lang= on a page load, else the cookie, else the default."""
    default = settings().default_lang
    if not has_request_context():  # outside a request (tests building layouts)
        return default
    # the first load of a wall's "?lang=en" link has no cookie yet; the cookie is set on this answer
    asked = request.args.get("lang")
    if asked in ("zh", "en") and not request.path.startswith("/_dash"):
        return asked
    return norm_lang(request.cookies.get("cc_lang"), default)


def create_app(overrides: dict[str, str] | None = None) -> Dash:
    global _SETTINGS
    _SETTINGS = load(overrides)
    s = _SETTINGS
    engine.configure(s.database_url, timeout_ms=s.query_timeout_ms)
    cache.configure(s.cache_location, version_ttl=s.version_ttl_seconds, pool=s.database_url)
    meta.configure_window(s.ingest_version_seconds)
    meta.configure_case_clock(s.case_clock_seconds)

    server = Flask("dashboard", root_path=str(Path(__file__).parent), instance_path=str(s.instance_dir))
    server.secret_key = s.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="cc_session",
        SESSION_COOKIE_SECURE=s.cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=s.session_days),
        CC_DEFAULT_LANG=s.default_lang,
    )
    auth.init(server)
    api.init(server, max_bytes=s.ingest_max_bytes, max_rows=s.ingest_max_rows)
    _routes(server)

    app = _Dash(
        "dashboard",  # pages then load as dashboard.pages.*: importing one never registers it twice
        server=server,  # type: ignore[arg-type]  # Dash's hints omit the Flask instance it accepts
        use_pages=True,
        pages_folder=str(Path(__file__).with_name("pages")),
        assets_folder=str(REPO_ROOT / "assets"),
        serve_locally=True,
        title="蒙自市数字治理指挥中心",
        update_title=None,  # type: ignore[arg-type]  # None turns the 'Updating...' title off
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = shell_layout
    inputs.install(app)
    if s.bench_floor:  # the HTTP bench's floor and naive-peer callbacks, on the bench's own server only
        from dashboard import bench_http, bench_naive

        bench_http.register_floor(app)
        bench_naive.register(app)
    app._favicon = "favicon.svg"  # type: ignore[assignment]
    # Dash sets itself up on the first request, raising its "done" flag before it registers the
    # script paths. Concurrent first requests in a fresh gthread worker then meet a half-filled
    # registry and the JS bundles 500 ("not a registered library"): the page never loads. Setting
    # up here, before gunicorn lets the worker accept connections, closes that race.
    with server.test_request_context("/"):
        app._setup_server()
    _security_headers(server, app, s)
    return app


# Dash's bundles, plotly and ag-grid load from this host; the only inline scripts are Dash's own
# (allowed by hash). Styles stay 'unsafe-inline': React style attributes and plotly's injected
# <style> need it, and a style cannot run code.
CSP = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:{tiles}; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# fingerprinted or static files: the only answers a browser or proxy may keep
CACHEABLE_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")


def csp_policy(hashes: list[str], basemap_url: str) -> str:
    """The policy; the only off-host source it can name is the basemap's tile host, when one is set."""
    # a tile template's {s} subdomain becomes the CSP wildcard; {z}/{x}/{y} sit in the path
    tiles = urlsplit(basemap_url.replace("{s}", "tile-subdomain"))
    tile_origin = f" {tiles.scheme}://{tiles.netloc.replace('tile-subdomain', '*')}" if tiles.netloc else ""
    return CSP.format(hashes=" ".join(hashes), tiles=tile_origin)


def _security_headers(server: Flask, app: Dash, s: Settings) -> None:
    # Dash's page router adds its inline script on the first request, after create_app: the policy
    # is built when an answer goes out, again only if Dash's list of inline scripts changed.
    policy: dict[int, str] = {}
    page_paths = [
        re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", p.get("path_template") or p["path"]).rstrip("/") + "/?$")
        for p in dash.page_registry.values()
    ]

    @server.after_request
    def headers(resp: Response) -> Response:
        h = resp.headers
        if len(app._inline_scripts) not in policy:
            text = csp_policy(list(app.csp_hashes()), s.basemap_url)  # folds new ones in
            policy.clear()
            policy[len(app._inline_scripts)] = text
        h["Content-Security-Policy"] = next(iter(policy.values()))
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        if not request.path.startswith(CACHEABLE_PREFIXES):
            h["Cache-Control"] = "no-store"
        # Dash answers every unknown path with the app (its 404 page renders in the browser); the
        # status says so too, for monitors, crawlers and anyone scripting against the app.
        if (
            request.endpoint in ("/<path:path>", "/")
            and resp.status_code == 200
            and not any(p.match(request.path) for p in page_paths)
        ):
            resp.status_code = 404
        return resp


class _Dash(Dash):
    def interpolate_index(self, *args: Any, **kwargs: Any) -> Any:
        # <html lang> picks the right CJK glyphs in the browser and tells screen readers the language
        html_ = str(super().interpolate_index(*args, **kwargs))
        lang = "zh-CN" if request_lang() == "zh" else "en"
        return html_.replace("<html>", f'<html lang="{lang}">', 1)


def _routes(server: Flask) -> None:
    @server.route("/healthz")
    def healthz() -> Response:
        """Status for anyone (a monitor needs no login); counts and detail only for a viewer, in scope."""
        body: dict[str, Any] = {"status": "ok", "time": int(time.time())}
        code = 200
        try:
            viewer = auth.current_viewer()
        except PoolError:
            viewer = None
        try:
            st = schema.require_current(engine.engine())
            ps = pool_status()
            body.update(schema_ok=True, stale=ps.age_minutes() > settings().stale_after_minutes)
            if viewer is not None:
                body.update(
                    schema=st.current,
                    data_version=ps.data_version,
                    as_of=ps.as_of,
                    records=scoped_records(scope=viewer.scope()),
                )
        except PoolError as exc:
            body.update(status="error", schema_ok=False)
            if viewer is not None:
                body.update(error=exc.en, error_zh=exc.zh, hint=exc.hint)
            code = 503
        return Response(json.dumps(body, ensure_ascii=False), status=code, mimetype="application/json")

    @server.route("/lang/<code>")
    def set_lang(code: str) -> Response:
        nxt = auth.safe_next(request.args.get("next"))
        ref = urlsplit(request.referrer or "")
        if nxt == "/" and ref.netloc == request.host:
            nxt = auth.safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))
        resp = redirect(nxt)
        if code in ("zh", "en"):
            _lang_cookie(resp, code)
        return resp  # type: ignore[return-value]

    @server.after_request
    def lang_from_query(resp: Response) -> Response:
        # ?lang=en on a page URL (a wall's playlist link) sticks as the cookie the shell reads.
        code = request.args.get("lang")
        if code in ("zh", "en") and not request.path.startswith("/_dash"):
            _lang_cookie(resp, code)
        return resp


def _lang_cookie(resp: BaseResponse, code: str) -> None:
    resp.set_cookie("cc_lang", code, max_age=365 * 86400, samesite="Lax", secure=settings().cookie_secure)


def _scope_label(viewer: Viewer | None, lang: str) -> str:
    if viewer is None:
        return ""
    role = pick(*ROLE_LABELS.get(viewer.role, (viewer.role, viewer.role)), lang)
    sc = viewer.scope()
    where = pick(*T["whole_city"], lang)
    try:
        if sc.township_code is not None:
            town = meta.townships().filter(pl.col("code") == sc.township_code)
            where = (
                pick(town["name_zh"][0], town["name_en"][0], lang) if town.height else str(sc.township_code)
            )
        if sc.department_id is not None:
            dept = meta.departments().filter(pl.col("id") == sc.department_id)
            where = pick(dept["name_zh"][0], dept["name_en"][0], lang) if dept.height else where
    except PoolError:  # the header still renders without a pool; the page shows the error
        where = str(sc.township_code or pick("本部门", "own department", lang))
    return f"{viewer.display_name} · {role} · {where}"


def _nav_label(name: str) -> tuple[str, str]:
    return T.get(name, (name, name))


def shell_layout() -> html.Div:
    lang = request_lang()
    s = settings()
    try:
        viewer = auth.current_viewer()
    except PoolError:
        viewer = None
    nav = [
        dcc.Link(
            bi_text(*_nav_label(str(p["name"])), lang),
            href=p["relative_path"],
            className="nav-link",
            id=f"app-nav-{p['name']}",
        )
        for p in dash.page_registry.values()
        if p["name"] in T
        and p.get("nav", True)  # a page reached from others' links (one case) stays out of the header
        and (not p.get("roles") or (viewer is not None and viewer.role in p["roles"]))
    ]
    return html.Div(
        id="app-root",
        className=f"app theme-desk lang-{lang}",
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            dcc.Location(id="app-url", refresh=False),
            dcc.Store(id="app-wall-store", data={}),
            dcc.Store(id="app-alerts-store", data={}),
            dcc.Store(id="app-lang-store", data=lang),
            dcc.Interval(id="app-refresh-interval", interval=s.refresh_seconds * 1000),
            dcc.Interval(id="app-wall-interval", interval=1000, disabled=True),
            Keyboard(id="app-keys", captureKeys=[" ", "p", "P", "ArrowRight"], eventProps=["key"]),
            html.Header(
                className="app-header",
                children=[
                    html.Div(
                        [
                            html.Img(src="/assets/favicon.svg", className="brand-logo", alt=""),
                            bi("brand", lang, "brand-name"),
                        ],
                        className="brand",
                    ),
                    html.Nav(nav, id="app-nav", className="app-nav"),
                    html.Div(
                        className="header-right",
                        children=[
                            html.Div(id="app-asof-badge", className="asof"),
                            html.Div(_scope_label(viewer, lang), id="app-scope-chip", className="scope-chip"),
                            html.Div(
                                [
                                    html.A(
                                        "中文",
                                        href="/lang/zh",
                                        id="app-lang-zh",
                                        className="lang-link" + (" active" if lang == "zh" else ""),
                                    ),
                                    html.A(
                                        "EN",
                                        href="/lang/en",
                                        id="app-lang-en",
                                        className="lang-link" + (" active" if lang == "en" else ""),
                                    ),
                                ],
                                className="lang-switch",
                            ),
                            _logout_form(lang),
                        ],
                    ),
                ],
            ),
            html.Div(
                id="app-wall-status",
                className="wall-status",
                n_clicks=0,
                role="button",
                title=both("点击或按空格键 暂停/继续", "Click or press Space to pause/resume", lang),
            ),
            html.Div(id="app-notice"),
            html.Main(
                dcc.Loading(
                    dash.page_container,
                    id="app-page-loading",
                    # only page navigation shows it, never a live refresh of a page already on the wall
                    target_components={"_pages_content": "children"},  # type: ignore[arg-type]
                    delay_show=400,
                    custom_spinner=html.Div(bi("loading", lang), className="loading-banner"),
                    overlay_style={"visibility": "visible", "opacity": 0.35},
                    parent_style={"flex": "1", "minHeight": 0, "display": "flex", "flexDirection": "column"},
                ),
                className="app-main",
                id="app-main",
            ),
        ],
    )


def _logout_form(lang: str) -> html.Form:
    """Logout is a POST with the CSRF token: a link elsewhere cannot end a wall screen's session."""
    token = generate_csrf() if has_request_context() else ""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=token, id="app-logout-token"),
            html.Button(bi("logout", lang), type="submit", className="logout", id="app-logout"),
        ],
        method="post",
        action="/logout",
        className="logout-form",
        id="app-logout-form",
    )


@callback(
    Output("app-asof-badge", "children"),
    Output("app-asof-badge", "className"),
    Output("app-asof-badge", "title"),
    Input("app-refresh-interval", "n_intervals"),
    State("app-lang-store", "data"),
)
def update_asof(_: int | None, lang: object) -> tuple[Any, str, str]:
    lang = inputs.one_of(lang, LANGS, settings().default_lang)
    try:
        st = pool_status()
        viewer = auth.current_viewer()
        # the viewer's own count: the pool's total minus theirs would reveal what their scope hides
        records = scoped_records(scope=viewer.scope()) if viewer else 0
    except PoolError as exc:
        return both(exc.zh, exc.en, lang, " / "), "asof asof-error", exc.hint
    stale = st.age_minutes() > settings().stale_after_minutes
    when = to_local(st.as_of).strftime("%Y-%m-%d %H:%M")
    label = bi("stale" if stale else "as_of", lang, "asof-label")
    title = both(
        f"最新一条记录的接收时间; 超过 {settings().stale_after_minutes} 分钟变黄. 规模 {st.scale}, "
        f"您可见 {records:,} 条, 版本 {st.data_version}",
        f"Receive time of the newest record; amber after {settings().stale_after_minutes} min. "
        f"Scale {st.scale}, {records:,} records in your scope, version {st.data_version}",
        lang,
        "\n",
    )
    return (
        [label, html.Span(when, className="asof-time")],
        "asof asof-stale" if stale else "asof asof-ok",
        title,
    )


@callback(
    Output("app-wall-store", "data"),
    Output("app-wall-interval", "disabled"),
    Output("app-notice", "children"),
    Output("app-root", "className"),
    Input("app-url", "search"),
    State("app-lang-store", "data"),
)
def parse_wall(search: object, lang: object) -> tuple[dict[str, Any], bool, Any, str]:
    from dashboard.components import notice

    search = search if isinstance(search, str) else ""
    lang = inputs.one_of(lang, LANGS, settings().default_lang)
    params = wall.parse(search)
    errors = list(params.errors)
    raw_lang = _query_value(search, "lang")
    if raw_lang is not None and raw_lang not in ("zh", "en"):
        errors.append(
            (
                f"语言参数无效: {raw_lang!r} (zh 或 en), 已使用默认语言",
                f"Unknown language {raw_lang!r} (use zh or en); using the default",
            )
        )
    items = params.playlist
    for it in items:
        it["label"] = pick(*T.get(str(it["name"]), (str(it["name"]),) * 2), lang)
    store = {**params.as_store(), "index": 0, "remaining": items[0]["dwell"] if items else 0, "paused": False}
    cls = (
        f"app theme-{params.theme} lang-{lang}"
        + (" kiosk" if params.kiosk else "")
        + (" playlist" if items else "")
    )
    return store, not items, notice(errors, lang), cls


def _query_value(search: object, key: str) -> str | None:
    from urllib.parse import parse_qs

    if not isinstance(search, str):
        return None
    values = parse_qs(search.lstrip("?"), keep_blank_values=True).get(key)
    return values[-1] if values else None


@callback(
    Output("app-alerts-store", "data"),
    Input("app-refresh-interval", "n_intervals"),
    Input("app-wall-store", "data"),
)
def update_alert_levels(_: int | None, store: object) -> Any:
    items = inputs.store(store).get("items")
    if not isinstance(items, list) or not items:
        return dash.no_update
    try:
        viewer = auth.current_viewer()
        return wall.alert_levels(viewer) if viewer else {}
    except PoolError:
        return {}


clientside_callback(
    dash.ClientsideFunction(namespace="wall", function_name="tick"),
    Output("app-wall-store", "data", allow_duplicate=True),
    Output("app-wall-status", "children"),
    Output("_pages_location", "pathname"),
    Output("_pages_location", "search"),
    Input("app-wall-interval", "n_intervals"),
    Input("app-keys", "n_keydowns"),
    Input("app-wall-status", "n_clicks"),
    State("app-keys", "keydown"),
    State("app-wall-store", "data"),
    State("app-alerts-store", "data"),
    State("_pages_location", "pathname"),
    State("_pages_location", "search"),
    State("app-lang-store", "data"),
    prevent_initial_call=True,
)
