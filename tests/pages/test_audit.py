"""The responsibility-log page: administrators read the chain a block at a time; everyone else gets a
designed refusal, and so does a crafted request for the rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete

from queries import audit, engine
from queries.generate import reference as ref
from queries.tables import login_event
from tests.pages.conftest import find_ids, login, render_page, text_of
from tests.pools import sqlite_pool_at

PASSWORDS = {u[0]: u[5] for u in ref.DEMO_USERS}
# the page module registers itself when the app is made, so its ids are read from the module then
GRID, CHAIN, DENIED, BLOCK = "audit-grid", "audit-chain-status", "audit-denied-panel", 100


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages import audit as page

    assert (page.ids.grid, page.ids.chain, page.ids.denied, page.BLOCK) == (GRID, CHAIN, DENIED, BLOCK)


def sign_in(client: FlaskClient, url: str, name: str) -> None:
    # another test locks "operator" on purpose with wrong passwords; that lock is not under test here
    with create_engine(url).begin() as conn:
        conn.execute(delete(login_event).where(login_event.c.username == name, login_event.c.ok.is_(False)))
    assert login(client, name, PASSWORDS[name]).status_code == 302


def rows(client: FlaskClient, start: int, end: int) -> dict[str, Any]:
    body = {
        "output": f"{GRID}.getRowsResponse",
        "outputs": {"id": GRID, "property": "getRowsResponse"},
        "inputs": [{"id": GRID, "property": "getRowsRequest", "value": {"startRow": start, "endRow": end}}],
        "changedPropIds": [f"{GRID}.getRowsRequest"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return json.loads(resp.data)["response"][GRID]["getRowsResponse"]  # type: ignore[no-any-return]


@pytest.fixture
def own_pool(client: FlaskClient, tmp_path: Path) -> str:
    """A fresh copy of the test pool for this test alone: the whole log must fit one block, whatever
    other tests in this process (under xdist, a different set each run) signed in to the shared pool."""
    url = sqlite_pool_at(tmp_path / "pool.sqlite").url
    engine.configure(url)
    return url


def test_admin_sees_the_chain_and_reads_it_a_block_at_a_time(client: FlaskClient, own_pool: str) -> None:
    url = own_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/audit")
    assert {GRID, CHAIN} <= find_ids(out) and DENIED not in find_ids(out)
    assert "Chain intact" in text_of(out) and "责任链完整" in text_of(out)
    total = audit.verify().entries
    first = rows(client, 0, BLOCK)
    assert first["rowCount"] == total and len(first["rowData"]) == total <= BLOCK
    top = first["rowData"][0]
    assert top["action"] == "session.start" and top["actor"] == "admin" and top["id"] == total
    assert rows(client, 1, 10_000)["rowData"][0]["id"] == total - 1  # a block, never the whole log
    assert len(rows(client, 0, 10_000)["rowData"]) <= BLOCK


def test_others_get_a_designed_refusal(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "leader")
    out = render_page(client, "/audit")
    assert DENIED in find_ids(out) and GRID not in find_ids(out)
    assert "仅管理员可以查看" in text_of(out) and "only administrators may view it" in text_of(out)
    assert rows(client, 0, BLOCK) == {"rowData": [], "rowCount": 0}


def test_only_admins_see_the_audit_link(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    """The navigation lists a page only for the roles it declares (register_page(..., roles=...))."""
    url, _ = sqlite_pool
    sign_in(client, url, "leader")
    assert "app-nav-audit" not in find_ids(json.loads(client.get("/_dash-layout").data))
    client.delete_cookie("cc_session")  # a fresh visitor
    sign_in(client, url, "admin")
    assert "app-nav-audit" in find_ids(json.loads(client.get("/_dash-layout").data))
