"""The demo's sample appeals: filed through the write door as the demo accounts, only on a demo pool with
no appeals, once. SQLite only: a correction changes generated cases, which the shared PostgreSQL test
pool must keep as built (the write door itself is tested on both in test_case_actions.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from queries import appeals as ap
from queries import audit
from queries import engine as eng
from queries.calendar import CalendarYearUnknown
from queries.generate.demo_appeals import SAMPLES, file_samples
from queries.scope import CITY_SCOPE
from queries.tables import app_user, audit_log, case_appeal
from tests.pools import sqlite_pool_at

NOW = 1_763_600_000  # 2025-11-20 08:53 local: a Thursday


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[str]:
    url = sqlite_pool_at(tmp_path / "pool.sqlite").url
    eng.configure(url)
    yield url


def test_samples_cover_every_state_once(fresh: str) -> None:
    assert file_samples(now=NOW) == len(SAMPLES)
    frame = ap.appeals(scope=CITY_SCOPE, now=NOW)
    by = frame.group_by("status").len().to_dict(as_series=False)
    counts = dict(zip(by["status"], by["len"], strict=True))
    assert counts == {"open": 5, "upheld": 2, "corrected": 2}
    open_ = frame.filter(status="open")
    assert open_["overdue"].sum() == 2  # filed 16 and 20 days ago
    assert (open_.filter(~open_["overdue"])["days_left"] >= 0).all()
    rates = ap.rates(scope=CITY_SCOPE)
    assert rates["appeal_rate"].min() > 0
    assert rates["correction_rate"].to_list() == [0.5, 0.5]  # one upheld, one corrected of each type
    with eng.connect() as conn:
        actions = [
            (r.actor_username, r.action)
            for r in conn.execute(
                select(audit_log.c.actor_username, audit_log.c.action).where(
                    audit_log.c.action.like("case.appeal.%")
                )
            )
        ]
    assert ("operator", "case.appeal.file") in actions
    assert ("minzheng", "case.appeal.file") in actions
    assert ("leader", "case.appeal.corrected") in actions
    assert audit.verify().ok
    # a second run (another `demo` start) adds nothing
    assert file_samples(now=NOW) == 0
    with eng.connect() as conn:
        assert len(conn.execute(select(case_appeal.c.id)).all()) == len(SAMPLES)


def test_a_year_the_calendar_does_not_cover_files_nothing(fresh: str) -> None:
    with pytest.raises(CalendarYearUnknown):
        file_samples(now=4_102_444_800)  # 2100-01-01
    with eng.connect() as conn:
        assert conn.execute(select(case_appeal.c.id)).first() is None


def test_not_on_a_pool_without_the_demo_accounts(fresh: str) -> None:
    with eng.begin() as conn:
        conn.execute(update(app_user).where(app_user.c.username == "operator").values(active=False))
    assert file_samples(now=NOW) == 0
    with eng.connect() as conn:
        assert conn.execute(select(case_appeal.c.id)).first() is None
