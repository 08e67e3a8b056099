"""Fuzz every registered callback and the routes with malformed input: never a 500, never a traceback.

The callbacks come from `/_dash-dependencies`, so a page added later is fuzzed without touching this file.
Bounded (a few thousand requests) and seeded, so it runs in `make check` and fails the same way twice.
It lives beside the page tests to share their session's app (one test each: a part of its own would
start on an empty cache and compute again what the other part computed).
"""

from __future__ import annotations

import json
import random
from typing import Any

import dash
import pytest
from dash import Dash
from flask.testing import FlaskClient

from tests.pages.conftest import find_ids, login, render_page

SEED = 5

# One of each kind of wrong: nothing, wrong scalar types, containers, huge and hostile strings, numbers
# out of any sensible range.
BAD_VALUES: list[Any] = [
    None,
    True,
    -1,
    2**63,
    1.5e308,
    "x",
    "",
    "蒙自\u202e\x00\x1b[31m",
    "A" * 20_000,
    [1],
    ["index"],
    {"lang": ["en"], "theme": 5, "kiosk": "false", "items": "x"},
    {},
    [[{}]],
]

# Query strings a page URL may carry: repeated keys, control characters, very long and non-UTF-8 values.
BAD_SEARCHES = [
    "?kpi=index&kpi=on_time",
    "?kpi=a&kpi=b&lang=zh&lang=en&theme=wall&theme=x",
    "?kpi=%00%0A%1B",
    "?kpi=" + "9" * 5000,
    "?playlist=" + ",".join(["overview:abc"] * 500),
    "?playlist=overview:" + "9" * 5000,
    "?kiosk=%FF%FE&theme=%E2%80%AE",
    "?lang=xx&lang=",
    "?=&&=x&%ZZ",
    "kpi=no-question-mark",
]

BAD_PATHS = [
    "/_dash-component-suites/../x",
    "/_dash-component-suites/dash/../../pyproject.toml",
    "/_dash-component-suites/nope/x.js",
    "/_dash-component-suites/dash/deps/nope.js",
    "/assets/../pyproject.toml",
    "/..%2f..%2fetc/passwd",
    "/%00",
    "/pool/%0A",
    "/" + "a" * 5000,
    "/healthz?x=%FF",
    "/lang/%00?next=%0A",
    "/login?next=" + "%2F" * 3000,
    "/_dash-layout?x=1",
    "/_dash-dependencies?x=%00",
]


@pytest.fixture
def fuzz_client(client: FlaskClient) -> FlaskClient:
    """The session's one app (a second Dash app in one process would re-register every page), logged in."""
    assert login(client).status_code == 302
    return client


def server_callbacks(client: FlaskClient) -> list[dict[str, Any]]:
    deps = json.loads(client.get("/_dash-dependencies").data)
    return [d for d in deps if not d.get("clientside_function")]


def body_for(dep: dict[str, Any], values: dict[tuple[str, int], Any] | None = None) -> dict[str, Any]:
    """A well-formed request for `dep`, every value None unless `values[(kind, index)]` says otherwise."""
    values = values or {}
    outs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
        for o in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outs if dep["output"].startswith("..") else outs[0],
        "inputs": [{**i, "value": values.get(("inputs", n))} for n, i in enumerate(dep["inputs"])],
        "state": [{**s, "value": values.get(("state", n))} for n, s in enumerate(dep["state"])],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"][:1]],
    }


def assert_no_server_error(resp: Any, what: str) -> None:
    text = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{what}: {resp.status_code} {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text, f"{what}: {text[:300]}"


def test_every_callback_input_with_malformed_values(fuzz_client: FlaskClient) -> None:
    rng = random.Random(SEED)
    deps = server_callbacks(fuzz_client)
    assert any(d["output"] == "overview-ranking-graph.figure" for d in deps)  # the map was read
    sent = 0
    for dep in deps:
        slots = [("inputs", n) for n in range(len(dep["inputs"]))]
        slots += [("state", n) for n in range(len(dep["state"]))]
        for slot in slots:
            for value in BAD_VALUES:
                # the other slots get a random bad value too, so combinations are tried, reproducibly
                others = {s: rng.choice(BAD_VALUES) for s in slots if s != slot and rng.random() < 0.5}
                body = body_for(dep, {**others, slot: value})
                resp = fuzz_client.post("/_dash-update-component", json=body)
                assert_no_server_error(resp, f"{dep['output']} {slot}={value!r:.60}")
                sent += 1
    assert sent >= 100


def test_malformed_bodies_are_400_with_a_message_in_both_languages(fuzz_client: FlaskClient) -> None:
    for dep in server_callbacks(fuzz_client):
        good = body_for(dep)
        first_input = dict(good["inputs"][0])
        bad_bodies: list[Any] = [
            [good],
            "just a string",
            {k: v for k, v in good.items() if k != "output"},
            {**good, "output": "no-such.output"},
            {**good, "output": ["x"]},
            {k: v for k, v in good.items() if k != "inputs"},
            {**good, "inputs": good["inputs"] + [first_input]},
            {**good, "inputs": [{**first_input, "id": "someone-else"}, *good["inputs"][1:]]},
            {**good, "inputs": [{"value": 1}, *good["inputs"][1:]]},
            {**good, "inputs": {"0": first_input}},
            {**good, "state": "x"},
            {**good, "outputs": None},
            {**good, "outputs": [{"id": "x", "property": "y"}] * 7},
            {**good, "changedPropIds": [1, {"a": 2}]},
        ]
        for n, bad in enumerate(bad_bodies):
            resp = fuzz_client.post("/_dash-update-component", json=bad)
            assert resp.status_code == 400, (
                f"{dep['output']} body #{n}: {resp.status_code} {resp.data[:200]!r}"
            )
            msg = resp.get_json()
            assert msg["error"] and msg["error_zh"]
    for raw, ctype in [
        (b"{not json", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"a=1", "text/plain"),
    ]:
        resp = fuzz_client.post("/_dash-update-component", data=raw, content_type=ctype)
        assert resp.status_code == 400, raw


def test_a_browser_side_callback_is_not_run_on_the_server(fuzz_client: FlaskClient) -> None:
    deps = json.loads(fuzz_client.get("/_dash-dependencies").data)
    clientside = next(d for d in deps if d.get("clientside_function") and "app-wall-status" in d["output"])
    resp = fuzz_client.post("/_dash-update-component", json=body_for(clientside))
    assert resp.status_code == 400 and "browser" in resp.get_json()["error"]


def _router(client: FlaskClient) -> dict[str, Any]:
    return next(d for d in server_callbacks(client) if "_pages_content.children" in d["output"])


def test_every_page_with_malformed_query_strings(fuzz_client: FlaskClient) -> None:
    paths = [p["relative_path"] for p in dash.page_registry.values()] + ["/does-not-exist"]
    assert "/" in paths and "/pool" in paths
    router = _router(fuzz_client)
    for path in paths:
        for search in BAD_SEARCHES:
            tree = render_page(fuzz_client, path, search)
            assert "Traceback" not in json.dumps(tree, ensure_ascii=False)
            assert_no_server_error(fuzz_client.get(path + search), f"GET {path}{search[:60]}")
        for value in BAD_VALUES:  # the router's search, of the wrong type, on this page
            body = body_for(router, {("inputs", 0): path, ("inputs", 1): value})
            resp = fuzz_client.post("/_dash-update-component", json=body)
            assert_no_server_error(resp, f"router {path} search={value!r:.60}")


def test_the_router_with_a_malformed_pathname(fuzz_client: FlaskClient) -> None:
    """The pathname of the wrong type: one request whatever page the browser was on."""
    router = _router(fuzz_client)
    for value in BAD_VALUES:
        body = body_for(router, {("inputs", 0): value, ("inputs", 1): ""})
        resp = fuzz_client.post("/_dash-update-component", json=body)
        assert_no_server_error(resp, f"router pathname={value!r:.60}")


def test_paths_and_public_routes(fuzz_client: FlaskClient, app: Dash) -> None:
    anonymous = app.server.test_client()
    for client in (fuzz_client, anonymous):
        for path in BAD_PATHS:
            assert_no_server_error(client.get(path), f"GET {path[:80]}")


@pytest.mark.parametrize("path", ["/_dash-component-suites/../x", "/_dash-component-suites/nope/x.js"])
def test_unknown_component_suite_is_404(fuzz_client: FlaskClient, path: str) -> None:
    assert fuzz_client.get(path).status_code == 404


# --- the reported examples, one by one -------------------------------------------------------------


def test_repeated_kpi_in_the_url_renders_the_last_one(fuzz_client: FlaskClient) -> None:
    tree = render_page(fuzz_client, "/", "?kpi=index&kpi=on_time")
    assert "overview-ranking-graph" in find_ids(tree)
    store = _find_props(tree, "overview-params-store")
    assert store["data"]["kpi"] == "on_time"


def test_a_list_as_the_kpi_dropdown_value_shows_the_default_ranking(fuzz_client: FlaskClient) -> None:
    dep = _dep(fuzz_client, "overview-ranking-graph.figure")
    resp = fuzz_client.post(
        "/_dash-update-component",
        json=body_for(dep, {("inputs", 0): ["index"], ("state", 0): {"lang": "en", "theme": "desk"}}),
    )
    assert resp.status_code == 200
    assert "Which township leads on data governance index" in resp.get_data(as_text=True)


def test_a_string_as_the_params_store_renders_with_defaults(fuzz_client: FlaskClient) -> None:
    resp = fuzz_client.post(
        "/_dash-update-component",
        json=body_for(_dep(fuzz_client, "pool-content.children"), {("state", 0): "x"}),
    )
    assert resp.status_code == 200 and "pool-kpis" in resp.get_data(as_text=True)


def test_a_list_as_the_wall_store_is_ignored(fuzz_client: FlaskClient) -> None:
    resp = fuzz_client.post(
        "/_dash-update-component",
        json=body_for(_dep(fuzz_client, "app-alerts-store.data"), {("inputs", 1): [1]}),
    )
    assert resp.status_code == 200
    assert resp.get_json()["response"] == {}  # nothing to update: no playlist is running


def test_a_bug_in_our_callback_is_still_a_server_error(
    fuzz_client: FlaskClient, app: Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard judges only the body's shape: a well-formed request that hits a bug must not be
    dressed up as the client's fault."""
    from dashboard.pages.pool import page

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in the page")

    monkeypatch.setattr(page, "render", broken)
    monkeypatch.setattr(app.server, "testing", False)  # answer 500 rather than raise into the test
    body = body_for(_dep(fuzz_client, "pool-content.children"), {("state", 0): {"lang": "en"}})
    assert fuzz_client.post("/_dash-update-component", json=body).status_code == 500


def _dep(client: FlaskClient, output: str) -> dict[str, Any]:
    return next(d for d in server_callbacks(client) if d["output"] == output)


def _find_props(tree: Any, component_id: str) -> dict[str, Any]:
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("id") == component_id:
            return dict(props)
        children: list[Any] = list(props.values()) + [v for k, v in tree.items() if k != "props"]
    elif isinstance(tree, list):
        children = tree
    else:
        return {}
    for child in children:
        found = _find_props(child, component_id)
        if found:
            return found
    return {}
