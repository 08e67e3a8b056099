"""The one door to the pool: statement time limits become QueryTimeout in reads and in transactions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from queries import engine as eng
from queries.errors import QueryTimeout

SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(5)",
}


@pytest.fixture
def short_limit(pool_url: str) -> Iterator[str]:
    eng.configure(pool_url, timeout_ms=200)
    yield "postgresql" if pool_url.startswith("postgresql") else "sqlite"
    eng.configure(pool_url)


def test_a_slow_read_is_stopped_as_query_timeout(short_limit: str) -> None:
    with pytest.raises(QueryTimeout) as err, eng.connect() as conn:
        conn.execute(text(SLOW[short_limit]))
    assert "CC_QUERY_TIMEOUT_MS" in err.value.hint


def test_a_slow_statement_in_a_transaction_is_stopped_as_query_timeout(short_limit: str) -> None:
    with pytest.raises(QueryTimeout), eng.begin() as conn:
        conn.execute(text(SLOW[short_limit]))
    with pytest.raises(QueryTimeout), eng.write() as conn:
        conn.execute(text(SLOW[short_limit]))


def _both_ways(monkeypatch: pytest.MonkeyPatch, stmt: object, schema: dict[str, object] | None) -> tuple:
    fast = eng.read_frame(stmt, schema=schema)
    with monkeypatch.context() as m:
        m.setattr(eng, "_plain", lambda *_: False)  # SQLAlchemy's rows, as before the fast path
        slow = eng.read_frame(stmt, schema=schema)
    return fast, slow


def test_frames_straight_from_the_cursor_equal_sqlalchemy_s(
    pool_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbers, text, sums (decimals on PostgreSQL), booleans the schema casts: the same frame either way;
    a date column or an uncast boolean takes SQLAlchemy's path."""
    import polars as pl
    from sqlalchemy import func, select

    from queries.tables import case_appeal, case_item, rollup_daily

    eng.configure(pool_url)
    c = case_item
    cases = (
        select(c.c.id, c.c.stage, c.c.opened_at, c.c.priority, c.c.optimization_at.is_not(None).label("opt"))
        .order_by(c.c.id)
        .limit(500)
    )
    schema = {"id": pl.Int64, "opened_at": pl.Int64, "opt": pl.Boolean}
    assert eng._plain(cases, schema)
    fast, slow = _both_ways(monkeypatch, cases, schema)
    assert fast.height == 500 and fast.equals(slow) and fast.schema == slow.schema
    sums = select(rollup_daily.c.township_code, func.sum(rollup_daily.c.n).label("n")).group_by(
        rollup_daily.c.township_code
    )
    assert eng._plain(sums, {})
    fast, slow = _both_ways(monkeypatch, sums, None)
    assert fast.height > 1 and fast.equals(slow)
    assert not eng._plain(cases, {"id": pl.Int64})  # a boolean nobody casts: SQLite would give 0/1
    assert not eng._plain(select(case_appeal.c.due_on), {})  # a date: SQLAlchemy parses it on SQLite
    assert not eng._plain(text("select 1"), {})  # no columns known


def test_kept_sqlite_connections_follow_a_swapped_or_removed_pool_file(tmp_path: Path) -> None:
    """Connections are kept between checkouts (a fresh one parses the schema again), yet a pool file that
    `seed` renamed into place is read at the next checkout, and a removed one is named, not read."""
    import shutil

    from sqlalchemy import select

    from queries.errors import PoolMissing
    from queries.tables import pool_meta
    from tests.pools import sqlite_pool_at

    a = sqlite_pool_at(tmp_path / "a.sqlite", demo_users=False)
    b = tmp_path / "b.sqlite"
    shutil.copy(tmp_path / "a.sqlite", b)
    with eng.make_engine(f"sqlite:///{b}").begin() as conn:
        conn.execute(pool_meta.update().where(pool_meta.c.key == "scale").values(value="swapped"))
    eng.configure(a.url)

    def scale() -> str:
        with eng.connect() as conn:
            return str(conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "scale")).scalar())

    assert scale() == "test"
    first = eng.engine().pool.checkedin()
    assert scale() == "test" and eng.engine().pool.checkedin() == first >= 1  # the same connection again
    os.replace(b, tmp_path / "a.sqlite")  # what seed does with the file it built
    assert scale() == "swapped"
    (tmp_path / "a.sqlite").unlink()
    with pytest.raises(PoolMissing):
        scale()


def test_a_read_served_from_the_cache_is_one_snapshot_without_a_second_look(
    sqlite_pool: tuple[str, object], tmp_path: Path
) -> None:
    """meta.consistent reads the pool's status once more after the read, unless the read ran no statement
    at all (everything came from entries keyed on the versions it pinned)."""
    from queries import cache, meta, overview
    from queries.scope import CITY_SCOPE

    eng.configure(str(sqlite_pool[0]))
    cache.configure(tmp_path / "cache", version_ttl=60)
    try:

        def read(st: meta.PoolStatus) -> int:
            d = st.as_of_day
            return int(overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)["n"].sum())

        n0 = eng.statements_here()
        cold = meta.consistent(read)
        n1 = eng.statements_here()
        assert meta.consistent(read) == cold
        n2 = eng.statements_here()
        assert n1 - n0 >= 3  # status, the query, status again
        assert n2 - n1 == 1  # status only
    finally:
        cache.configure(None)
