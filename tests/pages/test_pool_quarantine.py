"""The pool page's quarantine for every role: counts by reason for all, the rows a block at a time, the
export (logged) and correct-and-release or discard only for administrators and the owning department's
head; crafted requests from anyone else get nothing. Runs on a copy of the test pool with rows held."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from queries import audit, meta
from queries import engine as eng
from queries.ingest import write
from queries.tables import quarantine as qtable
from tests.held_rows import ACTOR, HELD, empty_quarantine, hold
from tests.pages.conftest import find_ids, render_page, text_of
from tests.pages.test_fuzz import body_for, server_callbacks
from tests.pages.test_roles import sign_in

NOW = 1795660200  # 2026-11-20 14:30 +08:00, the test pool's end
TRAFFIC_ROW = {
    "module": "transport",
    "record_type": "卡口过车",
    "occurred_at": "2026-11-20T10:00:00+08:00",
    "received_at": "2026-11-20T10:05:00+08:00",
    "classification": "public",
    "qty": "many",  # held for qty_invalid; "4" releases it
    "amount": "12.5",
    "record_key": "880001",
    "area_code": "532503001",
    "community_code": "",
    "grid_id": "",
    "source": "",
}


@pytest.fixture(scope="module")
def qpool(sqlite_pool: tuple[str, object], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the session's SQLite pool with HELD in its quarantine and one traffic batch the ingest
    writer refused (two rows: a fixable one and one with a wrong classification)."""
    path = tmp_path_factory.mktemp("qpool") / "pool.sqlite"
    shutil.copy(str(sqlite_pool[0]).split("///", 1)[1], path)
    url = f"sqlite:///{path}"
    eng.configure(url)
    empty_quarantine(url)
    hold(HELD)
    rows = pl.DataFrame([TRAFFIC_ROW, TRAFFIC_ROW | {"record_key": "880002", "classification": "secret"}])
    with audit.write(ACTOR) as tx:
        out = write.land(tx, source_code="traffic_platform", rows=rows, channel="api", now=NOW)
    assert out.n_quarantined == 2 and out.n_accepted == 0
    return url


@pytest.fixture
def qclient(client: FlaskClient, qpool: str) -> Iterator[FlaskClient]:
    eng.configure(qpool)  # after `client`, which points the query layer at the session's pool
    yield client


def call(client: FlaskClient, output: str, values: dict[tuple[str, int], Any], changed: int = 0) -> Any:
    """Post one callback as the browser would; the response's outputs ({} for "no update")."""
    dep = next(d for d in server_callbacks(client) if d["output"] == output)
    body = body_for(dep, values)
    i = dep["inputs"][changed]
    body["changedPropIds"] = [f"{i['id']}.{i['property']}"]
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 204), resp.data[:300]
    return {} if resp.status_code == 204 else json.loads(resp.data).get("response", {})


def page_ids() -> Any:
    from dashboard.pages.pool.names import ids

    return ids


def rows(client: FlaskClient, start: int, end: int, source: Any = None, reason: Any = None) -> dict[str, Any]:
    ids = page_ids()
    got = call(
        client,
        f"{ids.q_grid}.getRowsResponse",
        {("inputs", 0): {"startRow": start, "endRow": end}, ("state", 0): source, ("state", 1): reason},
    )
    return got[ids.q_grid]["getRowsResponse"]  # type: ignore[no-any-return]


def source_id(code: str) -> int:
    return int(meta.sources().filter(pl.col("code") == code)["id"][0])


def held_ids(code: str) -> list[int]:
    with eng.connect() as c:
        return [
            int(i)
            for (i,) in c.execute(
                select(qtable.c.id)
                .where(qtable.c.source_id == source_id(code), qtable.c.status == "held")
                .order_by(qtable.c.id)
            )
        ]


def test_admin_sees_counts_rows_and_the_export(qclient: FlaskClient, qpool: str) -> None:
    ids = page_ids()
    sign_in(qclient, qpool, "admin")
    page = render_page(qclient, "/pool")
    found = find_ids(page)
    assert {ids.quarantine, ids.q_counts, ids.q_grid, ids.q_export, ids.q_source, ids.q_reason} <= found
    assert ids.q_counts_only not in found
    text = text_of(page)
    assert "区划代码或地名无法对应到蒙自市的乡镇街道" in text and "数量缺失或不是数值" in text
    total = len(HELD) + 2
    first = rows(qclient, 0, 4)
    assert len(first["rowData"]) == 4 and first["rowCount"] == -1  # more to come
    rest = rows(qclient, 4, 100)
    assert len(rest["rowData"]) == total - 4 and rest["rowCount"] == total
    assert rows(qclient, 0, 10_000)["rowCount"] == total  # one block at most, whatever is asked
    only = rows(qclient, 0, 100, source=source_id("traffic_platform"))["rowData"]
    assert [r["key"] for r in only] == ["880002", "880001"]  # newest first
    assert "数量缺失或不是数值" in only[1]["reasons"]
    by_reason = rows(qclient, 0, 100, reason="area_code_unknown")["rowData"]
    assert len(by_reason) == 2
    # the export: the rows the viewer may read, with the filter, logged before they leave
    got = call(
        qclient, f"{ids.q_download}.data", {("inputs", 0): 1, ("state", 0): source_id("traffic_platform")}
    )
    csv = got[ids.q_download]["data"]["content"]
    assert csv.count("\n") == 2 + 2 and "880001" in csv and "qty_invalid" in csv and "Reasons" in csv
    entry = audit.show(limit=1).row(0, named=True)
    assert entry["action"] == "export.quarantine" and entry["actor_username"] == "admin"
    assert json.loads(entry["detail"])["rows"] == 2


def test_operators_and_leaders_see_counts_not_rows(qclient: FlaskClient, qpool: str) -> None:
    ids = page_ids()
    for name in ("operator", "leader"):
        sign_in(qclient, qpool, name)
        page = render_page(qclient, "/pool")
        found = find_ids(page)
        assert {ids.q_counts, ids.q_counts_only} <= found and ids.q_grid not in found, name
        assert "仅管理员和来源系统所属部门的负责人" in text_of(page)
        assert "532503199001011234" not in text_of(page)
        # crafted requests for what the page does not offer get nothing
        assert rows(qclient, 0, 100) == {"rowData": [], "rowCount": 0}
        assert call(qclient, f"{ids.q_download}.data", {("inputs", 0): 1}) == {}
        assert (
            call(
                qclient,
                f"{ids.q_detail}.children",
                {("inputs", 0): {"rowId": str(held_ids("elderly_care")[0])}},
            )
            == {}
        )
        qclient.delete_cookie("cc_session")


def test_a_department_head_reads_only_their_departments_rows(qclient: FlaskClient, qpool: str) -> None:
    sign_in(qclient, qpool, "minzheng")
    page = render_page(qclient, "/pool")
    counts = text_of(page)
    assert "社区治理平台" in counts and "养老服务平台" in counts
    assert (
        "人口信息系统"
        not in counts.split("pool-quarantine-counts-table")[1].split("pool-quarantine-source")[0]
    )
    got = rows(qclient, 0, 100)
    assert got["rowCount"] == 4 and {r["source"] for r in got["rowData"]} == {"社区治理平台", "养老服务平台"}
    assert any("532503199001011234" in r["raw"] for r in got["rowData"])  # their own sensitive row, yes
    assert rows(qclient, 0, 100, source=source_id("population_system"))["rowData"] == []


def _release(
    client: FlaskClient, qid: int, fields: dict[str, str], *, discard_note: str | None = None
) -> Any:
    """The release (or discard) button's callback with the form as the browser sends it."""
    ids = page_ids()
    dep = next(d for d in server_callbacks(client) if d["output"] == f"{ids.q_answer}.children")
    body = body_for(dep, {})
    discarding = discard_note is not None
    body["inputs"][0]["value"] = None if discarding else 1
    body["inputs"][1]["value"] = 1 if discarding else None
    body["state"][0]["value"] = qid
    body["state"][1] = [
        {"id": {"type": ids.q_field, "key": k}, "property": "value", "value": v} for k, v in fields.items()
    ]
    body["state"][2] = [
        {"id": {"type": ids.q_field, "key": k}, "property": "id", "value": {"type": ids.q_field, "key": k}}
        for k in fields
    ]
    body["state"][3]["value"] = discard_note
    body["state"][4]["value"] = {"lang": "zh"}
    i = dep["inputs"][1 if discarding else 0]
    body["changedPropIds"] = [f"{i['id']}.{i['property']}"]
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:300]
    return text_of(json.loads(resp.data)["response"])


def test_admin_corrects_a_held_row_and_releases_it(qclient: FlaskClient, qpool: str) -> None:
    ids = page_ids()
    sign_in(qclient, qpool, "admin")
    fixable, wrong = held_ids("traffic_platform")
    opened = call(
        qclient,
        f"{ids.q_detail}.children",
        {("inputs", 0): {"rowId": str(fixable)}, ("state", 0): {"lang": "zh"}},
    )
    form = text_of(opened)
    assert ids.q_release in form and ids.q_discard in form and "many" in form and "数量缺失或不是数值" in form
    still = _release(
        qclient,
        wrong,
        {k: str(v) for k, v in TRAFFIC_ROW.items()} | {"record_key": "880002", "classification": "secret"},
    )
    assert "仍被隔离" in still and "数据分级应为" in still  # the answer names the new outcome and why
    answer = _release(qclient, fixable, {k: str(v) for k, v in TRAFFIC_ROW.items()} | {"qty": "4"})
    assert "已入库" in answer and "入库 1" in answer
    with eng.connect() as c:
        row = c.execute(select(qtable.c.status, qtable.c.resolved_by).where(qtable.c.id == fixable)).one()
    assert tuple(row) == ("released", "admin")
    entry = audit.show(action="quarantine.release", limit=1).row(0, named=True)
    assert entry["actor_username"] == "admin" and json.loads(entry["detail"])["released"] == 1
    gone = call(
        qclient,
        f"{ids.q_detail}.children",
        {("inputs", 0): {"rowId": str(fixable)}, ("state", 0): {"lang": "en"}},
    )
    assert "no longer held" in text_of(gone)
    assert "已不在隔离区" in _release(qclient, fixable, {"qty": "4"})  # released once, not twice
    assert audit.verify().ok


def test_discard_needs_a_note_and_release_needs_the_right(qclient: FlaskClient, qpool: str) -> None:
    sign_in(qclient, qpool, "minzheng")
    mine = held_ids("elderly_care")[0]
    assert "请说明丢弃的理由" in _release(qclient, mine, {}, discard_note="  ")
    assert "已丢弃" in _release(qclient, mine, {}, discard_note="test data sent by mistake")
    with eng.connect() as c:
        assert c.execute(select(qtable.c.status).where(qtable.c.id == mine)).scalar_one() == "discarded"
    theirs = held_ids("population_system")[0]
    refused = _release(qclient, theirs, {"qty": "1"})
    assert "已不在隔离区" in refused  # another bureau's row is not even visible to this head
    assert theirs in held_ids("population_system")  # untouched
