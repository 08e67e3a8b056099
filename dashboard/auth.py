"""Login, logout, the session guard, CSRF and same-origin checks. The viewer comes from the session;
pages pass it to queries."""

from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path
from typing import cast
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from queries import users
from queries.errors import PoolError
from queries.scope import Viewer

# Exact paths, not prefixes: "/loginfoo" or "/healthzz" must not slip past the guard.
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/lang/zh", "/lang/en"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Machine routes that authenticate every request by an API token (dashboard/api.py), never by the
# session cookie: no login redirect and no form token, since a browser never sends the token by itself.
TOKEN_PATHS = frozenset({"/api/v1/records"})
# One argon2 verification at a time per worker: a login flood queues here instead of taking every
# core from the pages and /healthz. A try that cannot start within HASH_QUEUE_S is told to retry
# (briefly: a waiting try holds one of the worker's few threads).
_HASHING = threading.BoundedSemaphore(1)
HASH_QUEUE_S = 0.5

csrf = CSRFProtect()


def safe_next(value: str | None) -> str:
    """A same-origin absolute path, else "/": the login form and language switch never redirect away."""
    if not value or not value.startswith("/"):
        return "/"
    # Browsers drop tabs and newlines from URLs, so "/\t/evil" would become "//evil": refuse any
    # whitespace or control character rather than strip it (a newline also breaks the header).
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        return "/"
    if value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def same_origin() -> bool:
    """Origin, else Referer, names this host. Neither (curl, a script) passes: a browser always sends
    one on a cross-site POST, and cross-site is what this check is for."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.host


def current_viewer() -> Viewer | None:
    if "viewer" in g:
        return cast(Viewer | None, g.viewer)
    uid, version = session.get("uid"), session.get("sv")
    viewer = None
    if uid is not None and version is not None:
        viewer = users.viewer_for_session(user_id=int(uid), version=int(version))
    g.viewer = viewer
    return viewer


def require_viewer() -> Viewer:
    viewer = current_viewer()
    if viewer is None:
        raise PermissionError("not logged in")
    return viewer


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _wait_text(seconds: int) -> tuple[str, str]:
    if seconds >= 120:
        minutes = (seconds + 59) // 60
        return (
            f"登录尝试过多, 请 {minutes} 分钟后再试",
            f"Too many login attempts; try again in {minutes} minutes",
        )
    return f"登录尝试过多, 请 {seconds} 秒后再试", f"Too many login attempts; try again in {seconds} seconds"


def _forbidden(zh: str, en: str) -> Response:
    if request.path.startswith("/_dash-"):
        return jsonify(error=en, error_zh=zh), 403  # type: ignore[return-value]
    return Response(f"{zh}\n{en}\n", status=403, mimetype="text/plain")


def init(server: Flask) -> None:
    server.template_folder = str(Path(__file__).with_name("templates"))
    server.config.update(
        # checked by hand below, so Dash's JSON callbacks get the origin check instead of a token
        WTF_CSRF_CHECK_DEFAULT=False,
        # a wall screen keeps its page (and the logout form's token) for weeks
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(server)

    @server.before_request
    def cross_site() -> Response | None:
        if request.method not in STATE_CHANGING:
            return None
        if not same_origin():
            return _forbidden(
                "拒绝跨站请求: 请求来源与本站不符", "Cross-site request refused: its origin is not this site"
            )
        if not request.path.startswith("/_dash-") and request.path not in TOKEN_PATHS:
            csrf.protect()  # forms: login, logout
        return None

    @server.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> tuple[str, int] | Response:
        msg = ("表单已过期, 请重新提交", "The form expired; please submit it again")
        if request.path == "/login":
            return _login_page(msg, request.form.get("username") or "", 400)
        return Response(f"{msg[0]}\n{msg[1]}\n", status=400, mimetype="text/plain")

    @server.before_request
    def guard() -> Response | None:
        path = request.path
        if is_public(path) or path in TOKEN_PATHS:
            return None
        try:
            viewer = current_viewer()
        except PoolError:
            return None  # the page itself shows the pool error panel; nothing to guard without a pool
        if viewer is not None:
            return None
        if path.startswith("/_dash-") or path.startswith("/_reload"):
            return Response('{"error": "login required"}', status=401, mimetype="application/json")
        target = request.full_path if request.query_string else path
        return redirect("/login?" + urlencode({"next": target}))  # type: ignore[return-value]

    def _login_page(error: tuple[str, str] | None, username: str, code: int) -> tuple[str, int]:
        lang = request.cookies.get("cc_lang", server.config.get("CC_DEFAULT_LANG", "zh"))
        nxt = safe_next(request.values.get("next"))
        page = render_template("login.html", lang=lang, next=nxt, error=error, username=username)
        return page, code

    @server.route("/login", methods=["GET", "POST"])
    def login() -> tuple[str, int] | Response:
        if request.method == "GET":
            return _login_page(None, "", 200)
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        addr = (request.remote_addr or "")[:64]
        if not username or not password:
            return _login_page(("请输入用户名和密码", "Enter a username and a password"), username, 401)
        try:
            wait = users.login_wait(username=username, remote_addr=addr, now=int(time.time()))
            if wait > 0:
                page = _login_page(_wait_text(wait), username, 429)
                return Response(page[0], status=429, headers={"Retry-After": str(wait)}, mimetype="text/html")
            if not _HASHING.acquire(timeout=HASH_QUEUE_S):
                page = _login_page(
                    ("登录繁忙, 请 5 秒后再试", "Logins are busy; try again in 5 seconds"), username, 503
                )
                return Response(page[0], status=503, headers={"Retry-After": "5"}, mimetype="text/html")
            try:
                viewer = users.authenticate(username=username, password=password, remote_addr=addr)
            finally:
                _HASHING.release()
            version = users.session_version(user_id=viewer.user_id) if viewer else None
        except PoolError as exc:
            return _login_page(
                (f"数据池不可用: {exc.zh}", f"The pool is unavailable: {exc.en}"), username, 503
            )
        if viewer is None or version is None:
            return _login_page(("用户名或密码错误", "Wrong username or password"), username, 401)
        nxt = safe_next(request.values.get("next"))
        session.clear()
        session.permanent = True
        session["uid"] = viewer.user_id
        session["sv"] = version
        # The logout form's token must be in the session before the first page loads: that page's
        # layout and callbacks run at once, each answer re-sends the cookie as its request began, and
        # a token added by the layout alone was overwritten by an earlier-started callback's answer.
        generate_csrf()
        return redirect(nxt)  # type: ignore[return-value]

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Response:
        if request.method == "GET":
            # a link or an <img> on another site must not end the session: logout is the header's form
            return redirect("/")  # type: ignore[return-value]
        try:
            viewer = current_viewer()
            if viewer is not None:
                users.sign_out(viewer=viewer)
        except PoolError:
            pass  # the cookie is cleared below; the version bump waits for a pool
        session.clear()
        return redirect("/login")  # type: ignore[return-value]

    @server.route("/api/whoami")
    def whoami() -> Response:
        viewer = require_viewer()
        return jsonify(username=viewer.username, role=viewer.role, scope=viewer.scope().cache_key())
