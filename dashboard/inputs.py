"""Validation at every callback boundary: what a browser, or anyone posting JSON, sends is coerced to what
the callback expects, and a malformed Dash request body is a 400 before Dash's dispatcher sees it.

Callbacks call the coercers (`one_of`, `query_value`, `store`, `flag`) on every input and state:
a value of the wrong type falls back to the default, never to a traceback. `install(app)` adds the guard
for the request bodies themselves, checked against the app's own callback map, so a page added later is
covered without listing it here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from dash import Dash
from dash.exceptions import DependencyException
from flask import Response, request

# Properties of dcc.Location that Dash's own page router reads as strings (a pathname also under the
# app's path prefix); anything else there would fail inside Dash, out of reach of any page's validation.
STRING_PROPS = frozenset({"pathname", "search", "hash", "href"})


def one_of(value: object, allowed: Iterable[str], default: str) -> str:
    """`value` if it is one of the `allowed` strings, else `default` (also for lists, dicts, None)."""
    return value if isinstance(value, str) and value in set(allowed) else default


def query_value(value: object) -> str | None:
    """One URL query value. Dash passes a repeated key (`?kpi=a&kpi=b`) as a list: the last one wins,
    as it does for the shell's own parameters."""
    if isinstance(value, list):
        value = next((v for v in reversed(value) if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def query_flat(query: Mapping[str, Any]) -> dict[str, str]:
    """A page's `layout(**query)` keywords with every value reduced to one string (or dropped)."""
    out: dict[str, str] = {}
    for key, value in query.items():
        v = query_value(value)
        if v is not None:
            out[key] = v
    return out


SHOWN = 40  # characters of a bad value quoted back in a message


def quoted(value: str) -> str:
    """A bad value quoted back to the user, cut short: a URL can carry megabytes."""
    return repr(value[:SHOWN] + ("…" if len(value) > SHOWN else ""))


def store(value: object) -> dict[str, Any]:
    """A dcc.Store's data that should be a dict; anything else is an empty one."""
    return value if isinstance(value, dict) else {}


def flag(value: object) -> bool:
    """True only for a real boolean true: the string "false" is not true."""
    return value is True


# --- the request-body guard ------------------------------------------------------------------------


def _is_pattern(component_id: object) -> bool:
    # Dash's callback map keeps a pattern-matching id as its JSON text ('{"key":["ALL"],"type":...}')
    return isinstance(component_id, dict) or (isinstance(component_id, str) and component_id.startswith("{"))


def _matches(item: object, component_id: object, prop: str) -> bool:
    """Does one entry of the body name the registered dependency? Pattern-matching ids arrive as a list
    of dicts (ALL) or one dict (MATCH), with concrete ids we cannot know in advance."""
    if _is_pattern(component_id):
        items = item if isinstance(item, list) else [item]
        return all(
            isinstance(i, dict)
            and isinstance(i.get("id"), dict)
            and str(i.get("property", "")).split("@")[0] == prop
            for i in items
        )
    return (
        isinstance(item, dict)
        and item.get("id") == component_id
        and isinstance(item.get("property"), str)
        and item["property"].split("@")[0] == prop
    )


def _value_ok(item: dict[str, Any], prefix: str) -> bool:
    prop, value = item.get("property"), item.get("value")
    if prop not in STRING_PROPS or value is None:
        return True
    return isinstance(value, str) and (prop != "pathname" or value.startswith(prefix))


def check_body(body: object, callback_map: Mapping[str, Any], prefix: str = "/") -> tuple[str, str] | None:
    """None if `body` is a well-formed request for a registered server callback, else why not (zh, en)."""
    if not isinstance(body, dict):
        return "请求体不是 JSON 对象", "the request body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "没有这个回调输出", "no callback is registered for this output"
    cb = callback_map[output]
    if "callback" not in cb:
        return "此回调在浏览器中运行", "this callback runs in the browser, not on the server"
    for key, required in (("inputs", True), ("state", False)):
        deps = cb.get(key) or []
        got = body.get(key) if key in body or required else []
        if not isinstance(got, list) or len(got) != len(deps):
            return f"{key} 的数量或类型不对", f"{key} must be a list of {len(deps)} entries"
        for item, dep in zip(got, deps, strict=True):
            if not _matches(item, dep["id"], dep["property"]):
                return f"{key} 与回调登记的不符", f"{key} do not match the registered callback"
            if isinstance(item, dict) and not _value_ok(item, prefix):
                return (
                    f"{item['property']} 应为字符串 (路径以 {prefix} 开头)",
                    f"{item['property']} must be a string (a path starting with {prefix})",
                )
    specs = cb["output"] if isinstance(cb["output"], list) else None
    outputs = body.get("outputs")
    if specs is None:
        single = cb["output"]
        if not _matches(outputs, single.component_id, single.component_property):
            return "outputs 与回调登记的不符", "outputs do not match the registered callback"
    elif not (
        isinstance(outputs, list)
        and len(outputs) == len(specs)
        and all(
            _matches(o, s.component_id, s.component_property) for o, s in zip(outputs, specs, strict=True)
        )
    ):
        return "outputs 与回调登记的不符", "outputs do not match the registered callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds 应为字符串列表", "changedPropIds must be a list of strings"
    return None


def _json(status: int, zh: str, en: str) -> Response:
    body = {"error": en, "error_zh": zh}
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def install(app: Dash) -> None:
    """Answer malformed callback bodies with 400 and unknown component-suite paths with 404.

    Only the body's shape is judged here, against `app.callback_map`; values of the right shape go on
    to the callback, which coerces them, so a bug in one of our callbacks fed valid input is still a
    real error and shows up as one."""
    update_path = app.config.routes_pathname_prefix + "_dash-update-component"

    def guard_callback_body() -> Response | None:
        if request.path != update_path or request.method != "POST":
            return None
        why = check_body(request.get_json(silent=True), app.callback_map, app.config.requests_pathname_prefix)
        if why is None:
            return None
        return _json(400, f"回调请求无效: {why[0]}", f"Bad callback request: {why[1]}")

    def unknown_suite(_: DependencyException) -> Response:
        # Dash raises this only for a /_dash-component-suites/ path that names no registered library
        # file (a typo, a stale bundle name, or "../x"): that is a missing file, not a server error.
        return _json(404, "没有这个资源文件", "No such resource file")

    app.server.before_request(guard_callback_body)
    app.server.register_error_handler(DependencyException, unknown_suite)
