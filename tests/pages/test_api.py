"""POST /api/v1/records through the app's own middleware: token auth only (no session, no form token),
the batch formats and limits, every refusal a JSON answer, replays adding nothing, and the browser
app's routes still guarded as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dashboard.api import PATH
from queries import audit, cache, engine, meta, tokens
from queries.ingest.reference import load_reference
from queries.ingest.write import INGEST_ID_BASE
from queries.tables import quarantine, record
from tests.pages.conftest import login
from tests.pools import sqlite_pool_at
from tests.queries.test_ingest_validate import base_row

CLI = audit.Actor(None, "cli:tester", "system")


@pytest.fixture(scope="module")
def api_pool(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pool of its own: these tests write, and the session's pool is read by every other page test."""
    return sqlite_pool_at(tmp_path_factory.mktemp("api") / "pool.sqlite").url


@pytest.fixture
def api(app: Dash, api_pool: str, tmp_path: Path) -> Iterator[FlaskClient]:
    engine.configure(api_pool)
    cache.configure(tmp_path / "cache", version_ttl=0)
    yield app.server.test_client()
    cache.configure(None)


def issue(source: str = "traffic_platform") -> tokens.Issued:
    with audit.write(CLI) as tx:
        return tokens.create(tx, source_code=source, label="api test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rows(*keys: int, **change: Any) -> list[dict[str, Any]]:
    ref = load_reference()
    return [base_row(ref, k) | change for k in keys]


def count(*where: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(record).where(*where)).scalar_one())


def test_a_batch_lands_and_its_retry_adds_nothing(api: FlaskClient) -> None:
    token = issue().token
    version = meta.pool_status().data_version
    batch = rows(1, 2, 3) + rows(4, qty="many")
    resp = api.post(PATH, json=batch, headers=bearer(token))
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["counts"] == {"rows": 4, "accepted": 3, "duplicate": 0, "quarantined": 1}
    assert body["replay"] is False and isinstance(body["batch_id"], int)
    assert [r["outcome"] for r in body["rows"]] == ["accepted"] * 3 + ["quarantined"]
    assert body["rows"][3]["reasons"] == [
        {"code": "qty_invalid", "zh": "数量缺失或不是数值", "en": "qty is missing or not a number"}
    ]
    assert body["rows"][0]["record_id"] >= INGEST_ID_BASE and body["message"].startswith("共 4 行")
    assert "Set-Cookie" not in resp.headers  # no session for a machine
    assert meta.pool_status().data_version != version
    n = count()
    again = api.post(PATH + "?lang=en", json=batch, headers=bearer(token))
    assert again.status_code == 200
    body = again.get_json()
    assert body["replay"] is True and body["batch_id"] is None and body["message"].startswith("Replay")
    assert [r["outcome"] for r in body["rows"]] == ["duplicate"] * 3 + ["quarantined"]
    assert count() == n
    entry = audit.show(action="ingest.", limit=2)
    assert entry["action"].to_list() == ["ingest.replay", "ingest.batch"]
    assert set(entry["actor_username"]) == {f"token:{token[:12]}"}


def test_ndjson_and_a_row_naming_another_source(api: FlaskClient) -> None:
    token = issue().token
    lines = [json.dumps(r, ensure_ascii=False) for r in rows(20, 21) + rows(22, source="traffic_police_gate")]
    body = "\n".join(lines[:2]) + "\n\n" + lines[2] + "\n"
    resp = api.post(PATH, data=body.encode(), headers=bearer(token), content_type="application/x-ndjson")
    assert resp.status_code == 200, resp.data
    out = resp.get_json()
    assert [r["outcome"] for r in out["rows"]] == ["accepted", "accepted", "quarantined"]
    assert out["rows"][2]["reasons"][0]["code"] == "source_mismatch"
    with engine.connect() as c:
        held = c.execute(select(quarantine.c.reasons).where(quarantine.c.batch_id == out["batch_id"])).all()
    assert [json.loads(h.reasons) for h in held] == [["source_mismatch"]]


@pytest.mark.parametrize(
    ("header", "why"),
    [(None, "none"), ("Bearer cc_not-a-token", "unknown"), ("Basic YWRtaW46YWRtaW4=", "basic")],
)
def test_no_valid_token_is_401_with_a_json_message(api: FlaskClient, header: str | None, why: str) -> None:
    n = count()
    resp = api.post(PATH, json=rows(30), headers={"Authorization": header} if header else {})
    assert resp.status_code == 401, why
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    body = resp.get_json()
    assert "token" in body["error"] and "令牌" in body["error_zh"]
    assert count() == n


def test_a_revoked_token_writes_nothing_and_a_session_is_no_token(api: FlaskClient) -> None:
    issued = issue()
    with audit.write(CLI) as tx:
        tokens.revoke(tx, token_id=issued.token_id)
    n = count()
    assert api.post(PATH, json=rows(40), headers=bearer(issued.token)).status_code == 401
    login(api)  # a logged-in browser (an admin's session cookie) still needs a token
    assert api.post(PATH, json=rows(40)).status_code == 401
    assert count() == n


def test_bad_bodies_get_a_clear_400(api: FlaskClient) -> None:
    token = issue().token
    h = bearer(token)
    n = count()

    def post(data: bytes | str, ctype: str = "application/json") -> dict[str, Any]:
        resp = api.post(PATH, data=data, headers=h, content_type=ctype)
        assert resp.status_code == 400, (data, resp.data)
        body: dict[str, Any] = resp.get_json()
        assert body["error"] and body["error_zh"]
        return body

    bad = post('[{"qty": 1},\n {"qty": 2,,}]')
    assert (bad["line"], bad["column"]) == (2, 12) and "line 2, column 12" in bad["error"]
    nd = post('{"qty": 1}\n{"qty": \n', "application/x-ndjson")
    assert nd["line"] == 2 and "NDJSON" in nd["error"]
    assert "empty" in post("[]")["error"]
    assert "empty" in post("\n\n", "application/x-ndjson")["error"]
    assert "array" in post('{"qty": 1}')["error"]
    assert post("[1, {}]")["row"] == 0
    assert "UTF-8" in post(b"[\xff]")["error"]
    missing = post(json.dumps([{k: v for k, v in r.items() if k != "qty"} for r in rows(50)]))
    assert missing["missing"] == ["qty"]
    assert count() == n


def test_over_the_limits_is_413(api: FlaskClient, app: Dash) -> None:
    from dashboard.app import settings

    token = issue().token
    s = settings()
    n = count()
    too_many = [{}] * (s.ingest_max_rows + 1)
    resp = api.post(PATH, json=too_many, headers=bearer(token))
    assert resp.status_code == 413 and resp.get_json()["max_rows"] == s.ingest_max_rows
    big = b"[" + b" " * s.ingest_max_bytes + b"]"
    resp = api.post(PATH, data=big, headers=bearer(token), content_type="application/json")
    assert resp.status_code == 413 and "bytes" in resp.get_json()["error"]
    assert count() == n


def test_the_browser_routes_are_guarded_as_before(api: FlaskClient) -> None:
    # the exemption is this one path: the session guard and the form token still hold elsewhere
    assert api.get("/").status_code == 302
    assert api.post("/login", data={"username": "admin", "password": "x" * 12}).status_code == 400
    assert api.post("/_dash-update-component", json={}).status_code == 401
    assert api.get(PATH).status_code == 404  # only POST; a GET falls to the app's 404
    assert api.post(PATH + "/", json=[]).status_code != 200
    # a browser on another site cannot post to it either
    cross = api.post(PATH, json=rows(60), headers={**bearer(issue().token), "Origin": "http://evil.example"})
    assert cross.status_code == 403
