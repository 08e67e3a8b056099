"""The /case and /appeals pages through Dash's router and callbacks: a case's drill-down for its
department head, actions refused and done, an appeal filed, bad URL values; the leaders' appeals page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, func, select, update

from queries import engine as eng
from queries import loop, meta
from queries.tables import app_user, case_appeal, case_event, case_item, department, seed_case_defect
from tests.pages.conftest import find_ids, render_page, text_of
from tests.pages.test_twin import call, sign_in

PARAMS = {"case-params-store": {"lang": "en", "theme": "desk", "kiosk": False}}


@pytest.fixture
def civil_case(sqlite_pool: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """An open civil-affairs case of the test pool in the given stage (none of the injected failures),
    put back as it was afterwards (row, events and rollups), so the shared pool stays as built."""
    url = sqlite_pool[0]
    taken: list[tuple[dict[str, Any], int]] = []

    def pick(stage: str = "monitoring", signed: bool = False) -> dict[str, Any]:
        with create_engine(url).connect() as conn:
            civil = conn.execute(
                select(department.c.id).where(department.c.code == "civil_affairs")
            ).scalar_one()
            q = select(case_item).where(
                case_item.c.dept_id == civil,
                case_item.c.stage == stage,
                case_item.c.id.not_in(select(seed_case_defect.c.case_id)),
                case_item.c.signed_at.is_not(None) if signed else case_item.c.signed_at.is_(None),
            )
            row = dict(conn.execute(q.order_by(case_item.c.id).limit(1)).mappings().one())
            last = conn.execute(select(func.coalesce(func.max(case_event.c.id), 0))).scalar_one()
        taken.append((row, int(last)))
        return row

    yield pick
    eng.configure(url)
    with eng.write() as conn:
        for row, last in taken:
            now = dict(conn.execute(select(case_item).where(case_item.c.id == row["id"])).mappings().one())
            loop.rollup_move(conn, now, row)
            conn.execute(update(case_item).where(case_item.c.id == row["id"]).values(**row))
            conn.execute(delete(case_event).where(case_event.c.case_id == row["id"], case_event.c.id > last))
            conn.execute(delete(case_appeal).where(case_appeal.c.case_id == row["id"]))
        if taken:  # kept answers (view.remembered) key on the cases' version: never serve the changed case
            meta.move_version(conn, domain="cases", records_added=0, newest_received=0)


def test_department_head_sees_the_drill_down_and_acts(
    client: FlaskClient, sqlite_pool: Any, civil_case: Any
) -> None:
    url = sqlite_pool[0]
    case = civil_case("response", signed=True)
    sign_in(client, url, "minzheng")
    page = render_page(client, "/case", f"?id={case['id']}&lang=en")
    found = find_ids(page)
    assert {"case-header", "case-timeline-table", "case-priority-table", "case-submit-button"} <= found
    text = text_of(page)
    assert "Why this priority?" in text and "Process steps and data items" in text and "overdue as of" in text
    state = {
        "case-case-store": {"id": case["id"], "version": case["row_version"]},
        "case-action-dropdown": "advance",
        "case-note-textarea": "处置完毕, 转入评估",
        **PARAMS,
    }
    out = call(client, "case-body.children", {"case-submit-button": 1}, state)
    assert "Advanced to Evaluation" in text_of(out)
    # only what changed comes back: header, stage track, timeline, the form's new row_version and choices;
    # not the body, nor the process, priority and appeal panels
    assert "case-body" not in out and "case-priority-table" not in find_ids(out)
    assert {"case-header", "case-stage-track", "case-timeline-table", "case-case-store"} <= set(out)
    stored = out["case-case-store"]["data"]
    assert (stored["id"], stored["version"]) == (case["id"], case["row_version"] + 1)
    assert "Evaluation" in text_of(out["case-header"]) and "处置完毕, 转入评估" in text_of(
        out["case-timeline-table"]
    )
    assert out["case-note-textarea"]["value"] == ""
    assert [o["value"] for o in out["case-to-stage-dropdown"]["options"]] == [
        "feedback",
        "optimization",
        "closed",
    ]
    with create_engine(url).connect() as conn:
        r = conn.execute(select(case_item).where(case_item.c.id == case["id"])).mappings().one()
        kinds = [
            k for (k,) in conn.execute(select(case_event.c.kind).where(case_event.c.case_id == case["id"]))
        ]
    assert (r["stage"], r["row_version"]) == ("evaluation", case["row_version"] + 1) and kinds[
        -1
    ] == "advance"
    # the next action from the page as it now stands (its store carries the newest event shown): the
    # timeline comes back as a Patch appending only the new event's row
    store = out["case-case-store"]["data"]
    with create_engine(url).connect() as conn:
        last = conn.execute(
            select(func.max(case_event.c.id)).where(case_event.c.case_id == case["id"])
        ).scalar_one()
    assert store["last_event"] == last
    nxt = call(
        client,
        "case-body.children",
        {"case-submit-button": 2},
        {
            **state,
            "case-case-store": store,
            "case-action-dropdown": "escalate",
            "case-note-textarea": "请督办",
        },
    )
    patch = nxt["case-timeline-table"]["children"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    (op,) = patch["operations"]
    assert (
        op["operation"] == "Extend"
        and len(op["params"]["value"]) == 1
        and "请督办" in text_of(op["params"]["value"])
    )
    assert nxt["case-case-store"]["data"]["version"] == store["version"] + 1
    with create_engine(url).connect() as conn:
        r = conn.execute(select(case_item).where(case_item.c.id == case["id"])).mappings().one()
    # the same page sent again (stale version): refused, told, nothing changed
    again = call(client, "case-body.children", {"case-submit-button": 3}, state)
    assert "Someone else just changed this case" in text_of(again)
    with create_engine(url).connect() as conn:
        assert (
            conn.execute(select(case_item.c.row_version).where(case_item.c.id == case["id"])).scalar_one()
            == r["row_version"]
        )


def test_refusals_are_messages_not_tracebacks(client: FlaskClient, sqlite_pool: Any, civil_case: Any) -> None:
    url = sqlite_pool[0]
    case = civil_case()
    sign_in(client, url, "minzheng")
    base = {"case-case-store": {"id": case["id"], "version": case["row_version"]}, **PARAMS}
    huge = call(
        client,
        "case-body.children",
        {"case-submit-button": 1},
        {**base, "case-action-dropdown": "sign", "case-note-textarea": "x" * 100_000},
    )
    assert "The note is too long" in text_of(huge)
    adv = call(
        client,
        "case-body.children",
        {"case-submit-button": 1},
        {**base, "case-action-dropdown": "advance", "case-note-textarea": "x"},
    )
    assert "Sign for the case before advancing" in text_of(adv)
    bogus = call(
        client,
        "case-body.children",
        {"case-submit-button": 1},
        {**base, "case-case-store": {"id": "1; drop", "version": 1}, "case-action-dropdown": "sign"},
    )
    assert "Bad case id" in text_of(bogus)
    with create_engine(url).connect() as conn:
        assert (
            conn.execute(select(case_item.c.row_version).where(case_item.c.id == case["id"])).scalar_one()
            == case["row_version"]
        )


def test_bad_and_foreign_case_ids_in_the_url(client: FlaskClient, sqlite_pool: Any) -> None:
    url = sqlite_pool[0]
    sign_in(client, url, "minzheng")
    assert "Bad case id" in text_of(render_page(client, "/case", "?id=abc&lang=en"))
    assert "No case 99999999999" in text_of(render_page(client, "/case", "?id=99999999999&lang=en"))
    with create_engine(url).connect() as conn:
        civil = conn.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        other = conn.execute(select(case_item.c.id).where(case_item.c.dept_id != civil).limit(1)).scalar_one()
    assert "outside your scope" in text_of(render_page(client, "/case", f"?id={other}&lang=en"))
    assert "give a case id" in text_of(render_page(client, "/case", "?lang=en"))


def _links(tree: Any) -> list[str]:
    """The hrefs of the links in a serialised layout, in order."""
    out: list[str] = []
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and tree.get("type") == "Link":
            out.append(str(props.get("href")))
        for v in tree.values():
            out.extend(_links(v))
    elif isinstance(tree, list):
        for v in tree:
            out.extend(_links(v))
    return out


@pytest.mark.parametrize("name", ["minzheng", "leader"])
def test_case_page_without_an_id_lists_the_most_urgent_cases_in_scope(
    client: FlaskClient, sqlite_pool: Any, name: str
) -> None:
    url = sqlite_pool[0]
    sign_in(client, url, name)
    page = render_page(client, "/case", "?lang=en")
    assert "case-urgent-table" in find_ids(page)
    assert "My most urgent open cases" in text_of(page)
    links = [h for h in _links(page) if h.startswith("/case?id=")]
    assert 0 < len(links) <= 12
    shown = [int(h.split("=")[1]) for h in links]
    with create_engine(url).connect() as conn:
        civil = conn.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        as_of = int(conn.exec_driver_sql("select value from pool_meta where key = 'as_of'").scalar_one())
        rows = conn.execute(
            select(case_item.c.id, case_item.c.dept_id, case_item.c.closed_at, case_item.c.close_due_at,
                   case_item.c.priority).where(case_item.c.id.in_(shown))
        ).mappings().all()  # fmt: skip
        by = {r["id"]: r for r in rows}
        overdue_open = conn.execute(
            select(func.count()).select_from(case_item).where(
                case_item.c.closed_at.is_(None), case_item.c.close_due_at < as_of,
                *([case_item.c.dept_id == civil] if name == "minzheng" else []),
            )
        ).scalar_one()  # fmt: skip
    assert all(by[i]["closed_at"] is None for i in shown)
    if name == "minzheng":  # a department head sees their department's cases only
        assert {by[i]["dept_id"] for i in shown} == {civil}
    late = [by[i]["close_due_at"] < as_of for i in shown]
    assert late == sorted(late, reverse=True)  # overdue first
    assert sum(late) == min(overdue_open, len(shown))
    first = [by[i]["priority"] or -1 for i, x in zip(shown, late, strict=True) if x]
    assert first == sorted(first, reverse=True)  # then by priority


def test_operator_files_an_appeal_and_the_leader_sees_it_due(
    client: FlaskClient, sqlite_pool: Any, civil_case: Any
) -> None:
    url = sqlite_pool[0]
    case = civil_case()
    sign_in(client, url, "operator")
    page = render_page(client, "/case", f"?id={case['id']}&lang=en")
    assert "You cannot act on this case" in text_of(page)
    out = call(
        client,
        "case-appeal-message.children",
        {"case-appeal-submit-button": 1},
        {"case-case-store": {"id": case["id"], "version": 1}, "case-appeal-type-dropdown": "routing",
         "case-appeal-reason-textarea": "来电人称应由社区处理", **PARAMS},
    )  # fmt: skip
    assert "answer due" in text_of(out)
    client.get("/logout")
    sign_in(client, url, "leader")
    page = render_page(client, "/appeals", "?lang=en")
    assert {"appeals-kpis", "appeals-rates-table", "appeals-model-card", "appeals-decide-button"} <= find_ids(
        page
    )
    assert f"#{case['id']}" in text_of(page)


def test_operator_is_refused_the_appeals_page(client: FlaskClient, sqlite_pool: Any) -> None:
    sign_in(client, sqlite_pool[0], "operator")
    page = render_page(client, "/appeals", "?lang=en")
    assert "appeals-kpis" not in find_ids(page) and "appeals-refused" in find_ids(page)


def test_leader_answers_an_appeal_and_a_bare_answer_is_refused(
    client: FlaskClient, sqlite_pool: Any, civil_case: Any
) -> None:
    from queries import appeals as ap
    from queries import audit
    from queries.scope import Viewer

    url = sqlite_pool[0]
    case = civil_case()
    eng.configure(url)
    with create_engine(url).connect() as conn:
        op = conn.execute(select(app_user).where(app_user.c.username == "operator")).mappings().one()
    v = Viewer(
        op["id"], op["username"], op["display_name"], op["role"], op["department_id"], op["township_code"]
    )
    aid = ap.file_appeal(audit.Actor.of(v), v, case_id=case["id"], decision_type="priority", reason="偏低")
    sign_in(client, url, "leader")
    params = {"appeals-params-store": {"lang": "en", "theme": "desk", "kiosk": False}}
    state = {"appeals-decide-dropdown": aid, "appeals-outcome-radio": "upheld", **params}
    bare = call(client, "appeals-content.children", {"appeals-decide-button": 1}, state)
    assert "Please write a note" in text_of(bare)
    done = call(
        client,
        "appeals-content.children",
        {"appeals-decide-button": 1},
        {**state, "appeals-note-textarea": "评分符合模型"},
    )
    assert f"Appeal #{aid} answered" in text_of(done)
    with create_engine(url).connect() as conn:
        assert (
            conn.execute(select(case_appeal.c.status).where(case_appeal.c.id == aid)).scalar_one() == "upheld"
        )
