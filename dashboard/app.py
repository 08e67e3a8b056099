"""create_app(): the Flask server, auth, health check, and the Dash shell that every page sits in."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import dash
from dash import Dash, Input, Output, State, callback, clientside_callback, dcc, html
from dash_extensions import Keyboard
from flask import Flask, Response, has_request_context, redirect, request

from dashboard import auth, inputs, wall
from dashboard.i18n import LANGS, T, bi, bi_text, both, norm_lang, pick
from dashboard.settings import REPO_ROOT, Settings, load
from queries import cache, engine, schema
from queries.errors import PoolError
from queries.meta import pool_status
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
    return norm_lang(request.cookies.get("cc_lang"), default)


def create_app(overrides: dict[str, str] | None = None) -> Dash:
    global _SETTINGS
    _SETTINGS = load(overrides)
    s = _SETTINGS
    engine.configure(s.database_url, timeout_ms=s.query_timeout_ms)
    cache.configure(s.cache_dir, version_ttl=s.version_ttl_seconds)

    server = Flask("dashboard", root_path=str(Path(__file__).parent), instance_path=str(s.instance_dir))
    server.secret_key = s.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="cc_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=s.session_days),
        CC_DEFAULT_LANG=s.default_lang,
    )
    auth.init(server)
    _routes(server)

    app = _Dash(
        "dashboard",  # pages then load as dashboard.pages.*: importing one never registers it twice
        server=server,
        use_pages=True,
        pages_folder=str(Path(__file__).with_name("pages")),
        assets_folder=str(REPO_ROOT / "assets"),
        serve_locally=True,
        title="蒙自市数字治理指挥中心",
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = shell_layout
    inputs.install(app)
    app._favicon = "favicon.svg"
    # Dash sets itself up on the first request, raising its "done" flag before it registers the
    # script paths. Concurrent first requests in a fresh gthread worker then meet a half-filled
    # registry and the JS bundles 500 ("not a registered library"): the page never loads. Setting
    # up here, before gunicorn lets the worker accept connections, closes that race.
    with server.test_request_context("/"):
        app._setup_server()
    return app


class _Dash(Dash):
    def interpolate_index(self, **kwargs: Any) -> str:
        # <html lang> picks the right CJK glyphs in the browser and tells screen readers the language
        html_ = super().interpolate_index(**kwargs)
        lang = "zh-CN" if request_lang() == "zh" else "en"
        return html_.replace("<html>", f'<html lang="{lang}">', 1)


def _routes(server: Flask) -> None:
    @server.route("/healthz")
    def healthz() -> Response:
        body: dict[str, Any] = {"status": "ok", "time": int(time.time())}
        code = 200
        try:
            st = schema.require_current(engine.engine())
            ps = pool_status()
            body.update(
                schema=st.current,
                data_version=ps.data_version,
                as_of=ps.as_of,
                records=ps.records,
                stale=ps.age_minutes() > settings().stale_after_minutes,
            )
        except PoolError as exc:
            body.update(status="error", error=exc.en, error_zh=exc.zh, hint=exc.hint)
            code = 503
        return Response(json.dumps(body, ensure_ascii=False), status=code, mimetype="application/json")

    @server.route("/lang/<code>")
    def set_lang(code: str) -> Response:
        nxt = auth.safe_next(request.args.get("next"))
        if nxt == "/" and request.referrer and request.referrer.startswith(request.host_url):
            nxt = auth.safe_next("/" + request.referrer[len(request.host_url) :])
        resp = redirect(nxt)
        if code in ("zh", "en"):
            resp.set_cookie("cc_lang", code, max_age=365 * 86400, samesite="Lax")
        return resp  # type: ignore[return-value]

    @server.after_request
    def lang_from_query(resp: Response) -> Response:
        # ?lang=en on a page URL (a wall's playlist link) sticks as the cookie the shell reads.
        code = request.args.get("lang")
        if code in ("zh", "en") and not request.path.startswith("/_dash"):
            resp.set_cookie("cc_lang", code, max_age=365 * 86400, samesite="Lax")
        return resp


def _scope_label(viewer: Viewer | None, lang: str) -> str:
    if viewer is None:
        return ""
    role = pick(*ROLE_LABELS.get(viewer.role, (viewer.role, viewer.role)), lang)
    sc = viewer.scope()
    where = pick(*T["whole_city"], lang)
    if sc.township_code is not None:
        where = str(sc.township_code)
    if sc.department_id is not None:
        where = pick("本部门", "own department", lang)
    return f"{viewer.display_name} · {role} · {where}"


def shell_layout() -> html.Div:
    lang = request_lang()
    s = settings()
    try:
        viewer = auth.current_viewer()
    except PoolError:
        viewer = None
    nav = [
        dcc.Link(
            bi_text(*T.get(p["name"], (p["name"], p["name"])), lang),
            href=p["relative_path"],
            className="nav-link",
            id=f"app-nav-{p['name']}",
        )
        for p in dash.page_registry.values()
        if p["name"] in T
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
                            html.A(bi("logout", lang), href="/logout", className="logout", id="app-logout"),
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
                    target_components={"_pages_content": "children"},
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
    except PoolError as exc:
        return both(exc.zh, exc.en, lang, " / "), "asof asof-error", exc.hint
    stale = st.age_minutes() > settings().stale_after_minutes
    when = to_local(st.as_of).strftime("%Y-%m-%d %H:%M")
    label = bi("stale" if stale else "as_of", lang, "asof-label")
    title = both(
        f"最新一条记录的接收时间; 超过 {settings().stale_after_minutes} 分钟变黄. 规模 {st.scale}, {st.records:,} 条, 版本 {st.data_version}",
        f"Receive time of the newest record; amber after {settings().stale_after_minutes} min. "
        f"Scale {st.scale}, {st.records:,} records, version {st.data_version}",
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
def update_alert_levels(_: int | None, store: object) -> dict[str, Any]:
    items = inputs.store(store).get("items")
    if not isinstance(items, list) or not items:
        return dash.no_update  # type: ignore[no-any-return]
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
