"""One Dash app per session (pages register globally), over the SQLite test pool."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from queries import cache, engine
from queries.generate.build import BuildReport


@pytest.fixture(scope="session")
def app(sqlite_pool: tuple[str, BuildReport], tmp_path_factory: pytest.TempPathFactory) -> Dash:
    from dashboard.app import create_app

    url, _ = sqlite_pool
    inst = tmp_path_factory.mktemp("instance")
    # every ingest moves the data version at once (the window is tested in tests/queries/test_meta_window.py)
    return create_app(
        {"CC_DATABASE_URL": url, "CC_INSTANCE_DIR": str(inst), "CC_INGEST_VERSION_SECONDS": "0"}
    )


@pytest.fixture
def client(app: Dash, sqlite_pool: tuple[str, BuildReport], tmp_path: Path) -> Iterator[FlaskClient]:
    url, _ = sqlite_pool
    engine.configure(url)  # other tests may have pointed the query layer elsewhere
    cache.configure(tmp_path / "cache", version_ttl=0)
    yield app.server.test_client()
    cache.configure(None)


def csrf_token(client: FlaskClient) -> str:
    """The token the login form carries (and the session remembers), as a browser would read it."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").data.decode())
    assert match, "the login form has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, username: str = "admin", password: str = "admin-demo-2026") -> Any:
    data = {"username": username, "password": password, "next": "/", "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def render_page(client: FlaskClient, pathname: str, search: str = "") -> dict[str, Any]:
    """Ask Dash's page router for a page, exactly as the browser does; returns the callback's JSON."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    cb = next(d for d in deps if "_pages_content.children" in d["output"])
    values = {
        "pathname": pathname,
        "search": search,
        "hash": "",
        "href": f"http://localhost{pathname}{search}",
    }
    body = {
        "output": cb["output"],
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]} for o in cb["output"].strip(".").split("...")
        ],
        "inputs": [{**i, "value": values.get(i["property"])} for i in cb["inputs"]],
        "state": [{**s, "value": None} for s in cb["state"]],
        "changedPropIds": ["_pages_location.pathname"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:500]
    return json.loads(resp.data)


def find_ids(tree: Any) -> set[str]:
    """Every component id in a serialised layout."""
    out: set[str] = set()
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if isinstance(props.get("id"), str):
            out.add(props["id"])
        for v in list(props.values()) + [v for k, v in tree.items() if k != "props"]:
            out |= find_ids(v)
    elif isinstance(tree, list):
        for v in tree:
            out |= find_ids(v)
    return out


def text_of(tree: Any) -> str:
    from plotly.utils import PlotlyJSONEncoder

    return json.dumps(tree, ensure_ascii=False, cls=PlotlyJSONEncoder)


def land_record_batch(key_base: int, n: int = 200) -> tuple[Any, Any]:
    """`n` records of one source through the real ingest path, as an API push lands them (moving the
    records' version and the as-of time); the pool's status before and after."""
    from dashboard.bench import bench_rows
    from queries import audit, meta
    from queries.ingest.write import land

    before = meta.pool_status()
    rows = bench_rows(n, source_code="population_system", key_base=key_base, recent=True)
    with audit.write(audit.Actor.cli()) as tx:
        assert land(tx, source_code="population_system", rows=rows, channel="api").n_accepted > 0
    return before, meta.pool_status()
