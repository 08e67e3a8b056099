"""Login, logout and the session guard. The viewer comes from the session; pages pass it to queries."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session

from queries import users
from queries.errors import PoolError
from queries.scope import Viewer

PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/healthz",
    "/assets/",
    "/_dash-component-suites/",
    "/_favicon",
    "/lang/",
)
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60


def safe_next(value: str | None) -> str:
    """Only same-site paths: an open redirect through the login form is refused."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def current_viewer() -> Viewer | None:
    if "viewer" in g:
        return g.viewer  # type: ignore[no-any-return]
    uid = session.get("uid")
    viewer = users.viewer_by_id(user_id=int(uid)) if uid is not None else None
    g.viewer = viewer
    return viewer


def require_viewer() -> Viewer:
    viewer = current_viewer()
    if viewer is None:
        raise PermissionError("not logged in")
    return viewer


def init(server: Flask) -> None:
    server.template_folder = str(Path(__file__).with_name("templates"))

    @server.before_request
    def guard() -> Response | None:
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
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

    @server.route("/login", methods=["GET", "POST"])
    def login() -> tuple[str, int] | Response:
        lang = request.cookies.get("cc_lang", server.config.get("CC_DEFAULT_LANG", "zh"))
        nxt = safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("login.html", lang=lang, next=nxt, error=None, username=""), 200
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        error = None
        try:
            if not username or not password:
                error = ("请输入用户名和密码", "Enter a username and a password")
            elif (
                users.recent_failures(username=username, since=int(time.time()) - FAILURE_WINDOW_S)
                >= MAX_FAILURES
            ):
                error = (
                    "失败次数过多, 请 15 分钟后再试",
                    "Too many failed attempts; try again in 15 minutes",
                )
            else:
                viewer = users.authenticate(
                    username=username, password=password, remote_addr=request.remote_addr or ""
                )
                if viewer is None:
                    error = ("用户名或密码错误", "Wrong username or password")
                else:
                    session.clear()
                    session.permanent = True
                    session["uid"] = viewer.user_id
                    return redirect(nxt)  # type: ignore[return-value]
        except PoolError as exc:
            error = (f"数据池不可用: {exc.zh}", f"The pool is unavailable: {exc.en}")
        return render_template("login.html", lang=lang, next=nxt, error=error, username=username), 401

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Response:
        session.clear()
        return redirect("/login")  # type: ignore[return-value]

    @server.route("/api/whoami")
    def whoami() -> Response:
        viewer = require_viewer()
        return jsonify(username=viewer.username, role=viewer.role, scope=viewer.scope().cache_key())
