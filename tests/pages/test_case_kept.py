"""The case page's kept answer (`view.remembered`, `reads("cases")`): a second look at a case reads no case
table and computes nothing; a batch of records through the ingest path leaves it valid; a case action or
an appeal makes the next render show it; its clocks are reckoned at the cases' clock, which it names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, select

from queries import cache, meta
from queries import engine as eng
from queries.tables import case_item, department, seed_case_defect
from tests.pages.conftest import find_ids, land_record_batch, render_page, text_of
from tests.pages.test_roles import find as subtree
from tests.pages.test_twin import call, sign_in
from tests.pools import sqlite_pool_at

CASE_TABLES = cache.DOMAIN_TABLES["cases"]
PARAMS = {"case-params-store": {"lang": "en", "theme": "desk", "kiosk": False}}


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement run meanwhile (any engine, this process)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def case_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if any(f" {t}" in s or f'"{t}"' in s for t in CASE_TABLES)]


@pytest.fixture
def own_pool(tmp_path: Path) -> Iterator[str]:
    """A pool this test may write, with a cases' clock that does not turn during the test."""
    url = sqlite_pool_at(tmp_path / "pool.sqlite").url
    eng.configure(url)
    step = meta.CASE_CLOCK_SECONDS
    meta.configure_case_clock(10**9)
    try:
        yield url
    finally:
        meta.configure_case_clock(step)


def civil_case(url: str, stage: str = "monitoring", signed: bool = False) -> dict[str, Any]:
    with create_engine(url).connect() as conn:
        civil = conn.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        q = select(case_item).where(
            case_item.c.dept_id == civil,
            case_item.c.stage == stage,
            case_item.c.id.not_in(select(seed_case_defect.c.case_id)),
            case_item.c.signed_at.is_not(None) if signed else case_item.c.signed_at.is_(None),
        )
        return dict(conn.execute(q.order_by(case_item.c.id).limit(1)).mappings().one())


def test_a_second_look_at_a_case_reads_no_case_table(client: FlaskClient, own_pool: str) -> None:
    case = civil_case(own_pool)
    sign_in(client, own_pool, "minzheng")
    first = render_page(client, "/case", f"?id={case['id']}&lang=en")
    assert "case-header" in find_ids(first)
    misses = cache.stats()["misses"]
    with statements() as seen:
        again = render_page(client, "/case", f"?id={case['id']}&lang=en")
    assert again == first
    assert cache.stats()["misses"] == misses and case_reads(seen) == []
    # the page without an id (the most urgent cases) is kept too
    render_page(client, "/case", "?lang=en")
    misses = cache.stats()["misses"]
    with statements() as seen:
        render_page(client, "/case", "?lang=en")
    assert cache.stats()["misses"] == misses and case_reads(seen) == []


def test_a_record_batch_leaves_the_case_page_s_kept_answer_valid(client: FlaskClient, own_pool: str) -> None:
    case = civil_case(own_pool)
    sign_in(client, own_pool, "minzheng")
    first = render_page(client, "/case", f"?id={case['id']}&lang=en")
    st, moved = land_record_batch(9_200_000)
    assert moved.data_version != st.data_version and moved.as_of >= st.as_of
    misses = cache.stats()["misses"]
    with statements() as seen:
        assert render_page(client, "/case", f"?id={case['id']}&lang=en") == first
    assert cache.stats()["misses"] == misses and case_reads(seen) == []


def test_a_case_action_and_an_appeal_show_on_the_next_render(client: FlaskClient, own_pool: str) -> None:
    from queries import appeals as ap
    from queries import audit
    from queries.scope import Viewer

    case = civil_case(own_pool)
    sign_in(client, own_pool, "minzheng")
    first = render_page(client, "/case", f"?id={case['id']}&lang=en")
    assert "Monitoring" in text_of(subtree(first, "case-header"))
    out = call(
        client,
        "case-body.children",
        {"case-submit-button": 1},
        {"case-case-store": {"id": case["id"], "version": case["row_version"]}, "case-action-dropdown": "sign",
         **PARAMS},
    )  # fmt: skip
    assert "Signed for" in text_of(out)
    after = render_page(client, "/case", f"?id={case['id']}&lang=en")
    assert "Analysis" in text_of(subtree(after, "case-header"))  # signing starts the analysis
    assert "minzheng" in text_of(subtree(after, "case-timeline-table"))
    # an appeal filed through queries.appeals (not the page's own callback) shows too
    with create_engine(own_pool).connect() as conn:
        from queries.tables import app_user

        op = conn.execute(select(app_user).where(app_user.c.username == "operator")).mappings().one()
    v = Viewer(
        op["id"], op["username"], op["display_name"], op["role"], op["department_id"], op["township_code"]
    )
    aid = ap.file_appeal(
        audit.Actor.of(v), v, case_id=case["id"], decision_type="routing", reason="应由社区处理"
    )
    shown = text_of(subtree(render_page(client, "/case", f"?id={case['id']}&lang=en"), "case-appeals-table"))
    assert aid > 0 and "No appeals on this case" not in shown and "Routing" in shown and "operator" in shown


def test_the_clocks_are_reckoned_at_the_cases_clock_and_named(client: FlaskClient, sqlite_pool: Any) -> None:
    """An open case due after the cases' clock (the pool's as-of time, rounded down) but before the wall
    clock reads "due", not "overdue": the page reckons at the clock it names, so it can be kept."""
    url = sqlite_pool[0]
    eng.configure(url)
    clock = meta.pool_status().case_clock
    assert clock < time.time()  # the test pool's data ends in the past
    with create_engine(url).connect() as conn:
        civil = conn.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        cid = conn.execute(
            select(case_item.c.id)
            .where(
                case_item.c.dept_id == civil,
                case_item.c.closed_at.is_(None),
                case_item.c.close_due_at > clock,
                case_item.c.close_due_at < int(time.time()),
            )
            .order_by(case_item.c.id)
            .limit(1)
        ).scalar_one()
    sign_in(client, url, "minzheng")
    page = render_page(client, "/case", f"?id={cid}&lang=en")
    header = text_of(subtree(page, "case-header"))
    assert "overdue since" not in header.split("Closing clock")[1] and "due " in header
    hhmm = time.strftime("%H:%M", time.gmtime(clock + 8 * 3600))
    assert "overdue as of" in text_of(page) and hhmm in text_of(page)
    landing = text_of(render_page(client, "/case", "?lang=en"))
    assert "overdue as of" in landing and "逾期按" in landing
