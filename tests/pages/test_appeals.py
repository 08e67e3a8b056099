"""The appeals page's kept answer (`view.remembered`, `reads("cases")`): a second look reads no case table
and computes nothing; a batch of records leaves it valid; filing, answering and opening an optimization
action each make the next render show it; overdue flags are reckoned at the cases' clock, which it names."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from queries import cache, meta
from queries.tables import app_user
from tests.pages.conftest import find_ids, land_record_batch, render_page, text_of
from tests.pages.test_case_kept import case_reads, civil_case, own_pool, statements
from tests.pages.test_roles import find as subtree
from tests.pages.test_twin import call, sign_in

__all__ = ["own_pool"]  # the fixture, imported for these tests
PARAMS = {"appeals-params-store": {"lang": "en", "theme": "desk", "kiosk": False}}


def viewer(url: str, name: str) -> Any:
    from queries.scope import Viewer

    with create_engine(url).connect() as conn:
        u = conn.execute(select(app_user).where(app_user.c.username == name)).mappings().one()
    return Viewer(
        u["id"], u["username"], u["display_name"], u["role"], u["department_id"], u["township_code"]
    )


def test_a_second_look_reads_no_case_table_and_a_record_batch_leaves_it_valid(
    client: FlaskClient, own_pool: str
) -> None:
    sign_in(client, own_pool, "leader")
    first = render_page(client, "/appeals", "?lang=en")
    assert {"appeals-kpis", "appeals-decide-button"} <= find_ids(first)
    misses = cache.stats()["misses"]
    with statements() as seen:
        assert render_page(client, "/appeals", "?lang=en") == first
    assert cache.stats()["misses"] == misses and case_reads(seen) == []
    st, moved = land_record_batch(9_300_000)
    assert moved.data_version != st.data_version
    misses = cache.stats()["misses"]
    with statements() as seen:
        assert render_page(client, "/appeals", "?lang=en") == first
    assert cache.stats()["misses"] == misses and case_reads(seen) == []
    # a department head gets their own answer (no answer form: only leaders and administrators decide)
    sign_in(client, own_pool, "minzheng")
    head = render_page(client, "/appeals", "?lang=en")
    assert "appeals-kpis" in find_ids(head) and "appeals-decide-button" not in find_ids(head)


def test_filing_answering_and_opening_an_action_show_on_the_next_render(
    client: FlaskClient, own_pool: str
) -> None:
    from queries import appeals as ap
    from queries import audit, loop
    from queries import optimization as opt

    case = civil_case(own_pool)
    sign_in(client, own_pool, "leader")
    before = text_of(subtree(render_page(client, "/appeals", "?lang=en"), "appeals-list-table"))
    assert f"#{case['id']}" not in before
    op = viewer(own_pool, "operator")
    aid = ap.file_appeal(audit.Actor.of(op), op, case_id=case["id"], decision_type="priority", reason="偏低")
    filed = text_of(subtree(render_page(client, "/appeals", "?lang=en"), "appeals-list-table"))
    assert f"#{case['id']}" in filed and "Upheld" not in filed
    lead = viewer(own_pool, "leader")
    ap.decide_appeal(audit.Actor.of(lead), lead, appeal_id=aid, outcome="upheld", note="评分符合模型")
    answered = text_of(subtree(render_page(client, "/appeals", "?lang=en"), "appeals-list-table"))
    assert "Upheld" in answered
    span = (loop.months()[0], loop.months()[-1])
    hot = loop.hotspots(scope=lead.scope(), month_from=span[0], month_to=span[1])
    spot = hot.filter(~hot["optimized"]).sort("n", descending=True).row(0, named=True)
    opt.open_action(
        audit.Actor.of(lead),
        lead,
        problem_id=spot["problem_id"],
        community_code=spot["community_code"],
        title="加装路灯 kept-answer test",
    )
    page = render_page(client, "/appeals", "?lang=en")
    assert "加装路灯 kept-answer test" in text_of(subtree(page, "appeals-actions-table"))
    # the page's own answer callback: its result line over the page as it now stands
    aid2 = ap.file_appeal(
        audit.Actor.of(op), op, case_id=case["id"], decision_type="routing", reason="应转社区"
    )
    done = call(
        client,
        "appeals-content.children",
        {"appeals-decide-button": 1},
        {"appeals-decide-dropdown": aid2, "appeals-outcome-radio": "upheld", "appeals-note-textarea": "维持",
         **PARAMS},
    )  # fmt: skip
    assert f"Appeal #{aid2} answered" in text_of(done) and "appeals-kpis" in find_ids(done)


def test_overdue_appeals_are_reckoned_at_the_cases_clock(client: FlaskClient, own_pool: str) -> None:
    """An appeal due after the cases' clock but before today reads "left n d", not "overdue": the page
    reckons at the clock it names ("overdue as of hh:mm"), so its answer can be kept."""
    from queries import appeals as ap
    from queries import audit

    meta.configure_case_clock(900)  # the usual clock (own_pool sets the step back afterwards)
    clock = meta.pool_status().case_clock
    case = civil_case(own_pool)
    op = viewer(own_pool, "operator")
    filed_at = clock - 8 * 86400
    due = ap.due_date(filed_at)
    assert ap.local_date(clock) <= due < ap.local_date(int(time.time()))  # overdue by the wall clock only
    ap.file_appeal(
        audit.Actor.of(op), op, case_id=case["id"], decision_type="priority", reason="偏低", now=filed_at
    )
    sign_in(client, own_pool, "leader")
    page = render_page(client, "/appeals", "?lang=en")
    rows = [r for r in text_of(subtree(page, "appeals-list-table")).split('"Tr"') if f"#{case['id']}" in r]
    assert len(rows) == 1 and "overdue" not in rows[0] and "left" in rows[0]
    assert "overdue as of" in text_of(page) and "逾期按" in text_of(page)
    # the wall's alert reckons at the same clock: not red for it
    from dashboard.pages.appeals import page as appeals_page

    assert appeals_page._alert(viewer(own_pool, "leader")) is None
