"""The record browser's page and callbacks: what each role is shown, bad URL values named, blocks of rows
from the server, detail and a logged reveal, the filter bar to a bookmarkable URL, and a CSV export
holding exactly the rows and fields the grid shows that viewer."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, select

from queries import audit
from queries.generate import reference as ref
from queries.tables import login_event, record
from tests.pages.conftest import find_ids, login, render_page, text_of
from tests.pages.test_roles import find

PASSWORDS = {u[0]: u[5] for u in ref.DEMO_USERS}
GRID, DETAIL, REVEAL, MESSAGES, GROUPS = (
    "records-grid",
    "records-detail-body",
    "records-reveal-button",
    "records-messages",
    "records-groups",
)
EN = {"lang": "en", "theme": "desk", "kiosk": False}


def test_the_ids_are_the_pages(client: FlaskClient) -> None:
    from dashboard.pages import records as page

    assert (page.ids.grid, page.ids.detail, page.ids.reveal, page.ids.messages, page.ids.groups) == (
        GRID,
        DETAIL,
        REVEAL,
        MESSAGES,
        GROUPS,
    )


def sign_in(client: FlaskClient, url: str, name: str) -> None:
    # another test locks "operator" on purpose with wrong passwords; that lock is not under test here
    with create_engine(url).begin() as conn:
        conn.execute(delete(login_event).where(login_event.c.username == name, login_event.c.ok.is_(False)))
    client.delete_cookie("cc_session")
    assert login(client, name, PASSWORDS[name]).status_code == 302


def call(
    client: FlaskClient, output: str, inputs: list[Any], state: list[Any] | None = None, changed: int = 0
) -> Any:
    """Run one server callback as the browser would, with the given input and state values, as if the
    input at index `changed` had changed."""
    deps = json.loads(client.get("/_dash-dependencies").data)
    # an output shared with another callback (allow_duplicate) carries a "@hash" suffix
    dep = next(d for d in deps if d["output"].split("@")[0] == output)
    output = dep["output"]
    outs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in output.strip(".").split("...")
    ]
    body = {
        "output": output,
        "outputs": outs if output.startswith("..") else outs[0],
        "inputs": [{**i, "value": v} for i, v in zip(dep["inputs"], inputs, strict=True)],
        "state": [{**s, "value": v} for s, v in zip(dep["state"], state or [], strict=True)],
        "changedPropIds": [f"{dep['inputs'][changed]['id']}.{dep['inputs'][changed]['property']}"],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code in (200, 204), resp.data[:300]
    return json.loads(resp.data)["response"] if resp.status_code == 200 else None


def store(tree: Any, cid: str) -> Any:
    """The data of the dcc.Store `cid` in a rendered page."""
    found = find(tree, cid)
    return None if found is None else found["props"].get("data")


def rows(client: FlaskClient, filt: Any, start: int = 0, end: int = 100, sort: Any = None) -> dict[str, Any]:
    req = {"startRow": start, "endRow": end, "sortModel": sort or []}
    out = call(client, f"{GRID}.getRowsResponse", [req], [filt, EN])
    return out[GRID]["getRowsResponse"]  # type: ignore[no-any-return]


def page_filter(client: FlaskClient, search: str = "") -> Any:
    return store(render_page(client, "/records", search), "records-filter-store")


@pytest.mark.parametrize("name", ["operator", "wenlan", "minzheng", "admin"])
def test_each_role_sees_its_scope_masked(
    client: FlaskClient, sqlite_pool: tuple[str, object], name: str
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, name)
    out = render_page(client, "/records", "?lang=en")
    assert {GRID, DETAIL, "records-legend", "records-count"} <= find_ids(out)
    assert "Core records are invisible to operators" in text_of(out)
    got = rows(client, store(out, "records-filter-store"))["rowData"]
    assert 0 < len(got) <= 100
    classes = {r["classification"] for r in got}
    if name == "operator":
        assert "core" not in classes
    if name == "wenlan":
        assert {r["township"] for r in got} == {"Wenlan Subdistrict"}
    if name == "minzheng":
        assert {r["dept"] for r in got} == {"Civil Affairs Bureau"}
    for r in got:
        if r["classification"] != "public":
            assert "*" in r["record_key"] and r["grid_id"] in ("***", None)


def test_bad_url_values_get_a_message(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "operator")
    out = render_page(client, "/records", "?source=nope&township=1&defect=typo&cls=core&from=2026-02-30&to=x")
    text = text_of(out)
    for fragment in (
        "source='nope'",
        "township='1'",
        "defect='typo'",
        "not visible to your role",
        "YYYY-MM-DD",
    ):
        assert fragment in text
    assert MESSAGES in find_ids(out) and GRID in find_ids(out)  # the rest of the page still works
    out = render_page(client, "/records", "?from=2026-11-10&to=2026-11-01&module=transport")
    assert "起始日期晚于结束日期" in text_of(out)
    assert store(out, "records-filter-store")["module_id"] == 1


def test_an_empty_filter_says_so(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/records", "?from=2020-01-01&to=2020-01-02&lang=en")
    assert "No records match this filter" in text_of(out) and GRID not in find_ids(out)


def test_rows_come_a_block_at_a_time_and_sort_on_indexed_columns(
    client: FlaskClient, sqlite_pool: tuple[str, object]
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    filt = page_filter(client)
    first = rows(client, filt, 0, 10_000)
    assert len(first["rowData"]) == 100 and first["rowCount"] == -1
    up = rows(client, filt, 0, 100, [{"colId": "received_at", "sort": "asc"}])["rowData"]
    assert [r["received_at"] for r in up] == sorted(r["received_at"] for r in up)
    assert rows(client, filt, 0, 100, [{"colId": "qty", "sort": "asc"}])["rowData"] == first["rowData"]
    # a forged filter store is read for known keys only; a wrong type is no filter, not a traceback
    assert (
        rows(client, {"module_id": "1; drop table", "defect": "x"}, 0, 5)["rowData"] == first["rowData"][:5]
    )
    assert rows(client, "x", 0, 5)["rowData"] == first["rowData"][:5]


def test_filter_bar_writes_a_bookmark(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    values = ["community", "community_governance", "532503001", None, "sensitive", "duplicate", "2026-11-01"]
    values += ["", " 1000024509 ", EN]
    out = call(client, "_pages_location.search", [1], values)
    search = out["_pages_location"]["search"]
    assert search == (
        "?module=community&source=community_governance&township=532503001&cls=sensitive&defect=duplicate"
        "&from=2026-11-01&key=1000024509"
    )


def test_duplicates_are_shown_side_by_side(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, "admin")
    out = render_page(client, "/records", "?source=community_governance&defect=duplicate&lang=en")
    assert GROUPS in find_ids(out)
    text = text_of(out)
    assert "Duplicates side by side" in text and "Population information system" in text
    assert '"className": "diff"' in text


def test_detail_and_a_logged_reveal(client: FlaskClient, sqlite_pool: tuple[str, object]) -> None:
    url, _ = sqlite_pool
    with create_engine(url).connect() as conn:
        rid, key = conn.execute(
            select(record.c.id, record.c.record_key).where(record.c.classification == 1).limit(1)
        ).one()
    out_id = f"..{DETAIL}.children...{REVEAL}.disabled...records-selected-store.data.."
    sign_in(client, url, "operator")
    got = call(client, out_id, [{"rowId": str(rid)}, None], [None, EN])
    assert "Sensitive fields are masked" in text_of(got) and str(key) not in text_of(got)
    assert got[REVEAL]["disabled"] is True
    refused = call(client, out_id, [None, 1], [str(rid), EN], changed=1)  # a forged reveal: no clearance
    assert str(key) not in text_of(refused) and "You may not view this record" in text_of(refused)
    sign_in(client, url, "admin")
    got = call(client, out_id, [{"rowId": str(rid)}, None], [None, EN])
    assert got[REVEAL]["disabled"] is False and str(key) not in text_of(got)
    shown = call(client, out_id, [None, 1], [str(rid), EN], changed=1)
    assert str(key) in text_of(shown) and "responsibility-log entry" in text_of(shown)
    entry = audit.show(obj=f"record:{rid}", limit=1)
    assert entry["action"][0] == "record.reveal" and entry["actor_username"][0] == "admin"
    for junk in ({"rowId": "1 or 1=1"}, {"rowId": None}, "x", {"rowId": "9" * 40}):
        answer = call(client, out_id, [junk, None], [None, EN])  # nothing shown, no traceback
        assert DETAIL not in answer and answer[REVEAL]["disabled"] is True


@pytest.mark.parametrize("name", ["operator", "wenlan", "minzheng", "admin"])
def test_export_holds_exactly_what_the_grid_shows(
    client: FlaskClient, sqlite_pool: tuple[str, object], name: str
) -> None:
    url, _ = sqlite_pool
    sign_in(client, url, name)
    filt = page_filter(client, "?from=2026-11-01&to=2026-11-17&defect=late")
    shown: list[dict[str, Any]] = []
    while True:
        block = rows(client, filt, len(shown), len(shown) + 100)
        shown += block["rowData"]
        if block["rowCount"] != -1:
            break
    out = call(client, "records-download.data", [1], [filt, {"startRow": 0, "sortModel": []}, EN])
    content = out["records-download"]["data"]["content"]
    lines = content.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("# Records (masked by classification), data as of 2026-11-20")
    assert f"{len(shown):,} rows" in lines[0] and "limit 100,000" in lines[0]
    table = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    assert len(table) - 1 == len(shown) > 0
    header = table[0]
    for got, want in zip(table[1:], shown, strict=True):
        cells = dict(zip(header, got, strict=True))
        assert cells["No. 编号"] == str(want["id"])
        assert cells["Record key 业务主键"] == want["record_key"]
        assert cells["Community 社区编码"] == (want["community_code"] or "")
        assert cells["Amount (¥) 金额(元)"] == (want["amount"] or "")
        assert cells["Class 分级"] == want["classification"]
    if name == "operator":
        assert "core" not in {r["classification"] for r in shown}
    entry = audit.show(action="export.csv", limit=1)
    assert entry["actor_username"][0] == name and f'"rows":{len(shown)}' in entry["detail"][0]
