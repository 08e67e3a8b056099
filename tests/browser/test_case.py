"""The case page in Chromium: the Civil Affairs Bureau's head opens one of the bureau's cases, signs for
it and advances it with a note, and sees both in the timeline under their name;  No console errors, no request leaving localhost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from queries import engine as eng
from queries import loop
from queries.generate.build import BuildReport
from queries.tables import case_event, case_item, department, seed_case_defect
from tests.browser.chromium import browser_page, login

pytestmark = pytest.mark.browser


@pytest.fixture
def civil_case(sqlite_pool: tuple[str, BuildReport]) -> Iterator[dict[str, Any]]:
    """An unsigned civil-affairs case (none of the injected failures), put back as it was afterwards."""
    from sqlalchemy import delete, update

    eng.configure(sqlite_pool[0])
    with eng.connect() as conn:
        civil = conn.execute(select(department.c.id).where(department.c.code == "civil_affairs")).scalar_one()
        row = dict(
            conn.execute(
                select(case_item)
                .where(
                    case_item.c.dept_id == civil,
                    case_item.c.stage == "monitoring",
                    case_item.c.signed_at.is_(None),
                    case_item.c.id.not_in(select(seed_case_defect.c.case_id)),
                )
                .order_by(case_item.c.id.desc())
                .limit(1)
            )
            .mappings()
            .one()
        )
        last = int(conn.execute(select(func.coalesce(func.max(case_event.c.id), 0))).scalar_one())
    yield row
    eng.configure(sqlite_pool[0])
    with eng.write() as conn:
        now = dict(conn.execute(select(case_item).where(case_item.c.id == row["id"])).mappings().one())
        loop.rollup_move(conn, now, row)
        conn.execute(update(case_item).where(case_item.c.id == row["id"]).values(**row))
        conn.execute(delete(case_event).where(case_event.c.case_id == row["id"], case_event.c.id > last))


def test_department_head_signs_and_advances_a_case(server: str, civil_case: dict[str, Any]) -> None:
    cid = civil_case["id"]
    with browser_page() as (page, watch):
        login(page, server, "minzheng", "minzheng-demo-2026", next_path=f"/case?id={cid}")
        page.wait_for_selector("#case-timeline-table", timeout=60000)
        assert "签收" in page.inner_text("#case-action-dropdown")  # the first action the loop allows
        page.click("#case-submit-button")
        page.wait_for_selector("#case-action-result.alert-ok", timeout=60000)
        assert "已签收" in page.inner_text("#case-action-result")
        page.wait_for_selector("#case-timeline-table >> text=minzheng", timeout=60000)
        assert page.inner_text(".case-stage").startswith("研判")  # signing starts the analysis
        page.fill("#case-note-textarea", "已电话联系报告人, 派员处置")
        page.click("#case-submit-button")
        page.wait_for_selector("#case-action-result >> text=已推进到", timeout=60000)
        timeline = page.inner_text("#case-timeline-table")
        assert "已电话联系报告人" in timeline and "研判 → 处置" in timeline
        assert page.inner_text(".case-stage").startswith("处置")
        assert watch.page_errors == [] and watch.console_errors == [] and watch.off_host() == []
