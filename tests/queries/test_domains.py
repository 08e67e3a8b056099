"""Versions by domain: a record batch leaves reads of cases (and of base data) valid, a case action leaves
reads of records valid, every other write invalidates everything; pending ingest state carries each
domain's version; and a read declared with domains that touches anything outside them is caught."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select

from queries import audit, cache, loop, meta, overview, prices
from queries import engine as eng
from queries.scope import CITY_SCOPE
from queries.tables import pool_meta, price_decision, record


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A writable pool with the query layer and a cache on it; on PostgreSQL (the shared test pool) its
    pool_meta is put back afterwards, so the versions and due times moved here leave no trace."""
    from tests.conftest import pg_writes_undone
    from tests.pools import sqlite_pool_at

    meta.configure_window(0)
    cache.configure(tmp_path / "cache", version_ttl=0)
    try:
        if request.param == "sqlite":
            url = sqlite_pool_at(tmp_path / "pool.sqlite").url
            eng.configure(url)
            yield url
            return
        with pg_writes_undone(str(request.getfixturevalue("pg_pool")[0])) as url:
            eng.configure(url)
            with eng.connect() as conn:
                kept = [dict(r._mapping) for r in conn.execute(select(pool_meta))]
            try:
                yield url
            finally:
                with eng.write() as conn:
                    conn.execute(delete(pool_meta))
                    conn.execute(insert(pool_meta), kept)
    finally:
        cache.configure(None)
        meta.configure_window(0)


def move(domain: str | None, *, newest_received: int = 0, now: float | None = None) -> None:
    with audit.write(audit.Actor.cli()) as tx:
        if domain is None:
            meta.move_all(tx.conn)
        elif domain == "staff":
            meta.move_now(tx.conn, domain="staff")
        else:
            meta.move_version(
                tx.conn, domain=domain, records_added=0, newest_received=newest_received, now=now
            )
        tx.log("test.version.move", "pool_meta", domain or "all")


def cold() -> set[str]:
    """Which of three reads missed the cache: one of cases, one of base data (prices), one that names no
    domain (the overview's, keyed on the data version)."""
    ms = loop.months()
    d = meta.pool_status().as_of_day
    out = set()
    for name, read in (
        ("cases", lambda: loop.totals(scope=CITY_SCOPE, month_from=ms[-3], month_to=ms[-1])),
        ("staff", _decisions),
        ("base", prices.products),
        ("all", lambda: overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d)),
    ):
        before = cache.stats()["misses"]
        read()
        if cache.stats()["misses"] > before:
            out.add(name)
    return out


@cache.cached(domains=("staff",))
def _decisions() -> int:
    """A read of what staff write at their desks (the price decisions' ledger)."""
    with eng.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(price_decision)).scalar_one())


def test_each_write_invalidates_its_domain_and_what_reads_everything(pool: str) -> None:
    assert cold() == {"cases", "staff", "base", "all"}
    assert cold() == set()
    move("records")
    assert cold() == {"all"}
    move("cases")
    assert cold() == {"cases", "all"}
    move("staff")  # a price decision, a factor dataset or model set
    assert cold() == {"staff", "all"}
    move(None)  # a price import, the Three Lists, a rebuild...
    assert cold() == {"cases", "staff", "base", "all"}


def test_a_staff_write_is_seen_at_once_and_survives_a_pending_batch_settling(pool: str) -> None:
    """A decision is on its writer's next look even inside an ingest batch's window (never held
    pending), and the pending batch settling later does not bring the staff's old version back."""
    meta.configure_window(60)
    t = meta._clock() + 1000  # after any due time already in the pool
    move("records", now=t)  # settles; the next 60 s are pending
    move("records", now=t + 1)  # pending
    before = cache.version_of(("staff",))
    move("staff")
    seen = cache.version_of(("staff",))
    assert seen != before
    with eng.connect() as conn:
        rows = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    assert meta.PENDING["data_version"] in rows  # the batch is still pending
    assert meta.effective(rows, now=t + 61)["version.staff"] == rows["version.staff"]  # once it settles
    move("records", now=t + 61)  # settles the pending state onto the keys
    assert cache.version_of(("staff",)) == seen


def test_the_cases_clock_turns_in_steps(pool: str) -> None:
    step = meta.CASE_CLOCK_SECONDS
    as_of = meta.pool_status().as_of
    before = cache.version_of(("cases",))
    base = cache.version_of(())
    inside = meta.case_clock(as_of) + step - 1
    if inside > as_of:  # a batch received before the clock turns: case reads stay valid
        move("records", newest_received=inside)
        assert meta.pool_status().as_of == inside
        assert cache.version_of(("cases",)) == before
    move("records", newest_received=meta.case_clock(as_of) + step)  # the clock turns
    after = cache.version_of(("cases",))
    assert after != before
    assert meta.pool_status().case_clock == meta.case_clock(as_of) + step
    assert cache.version_of(()) == base  # reads of base data carry no clock: record batches never move them


def test_a_settling_move_carries_another_domain_s_pending_version(pool: str) -> None:
    meta.configure_window(60)
    t = meta._clock() + 1000  # after any due time already in the pool
    move("records", now=t)  # settles; the next 60 s are pending
    move("cases", now=t + 1)  # pending
    with eng.connect() as conn:
        rows = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    pending_cases = rows[meta.PENDING["version.cases"]]
    assert rows["version.cases"] != pending_cases
    move("records", now=t + 61)  # settles, and must not drop the pending cases' version
    with eng.connect() as conn:
        rows = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    assert rows["version.cases"] == pending_cases
    assert not any(k.startswith("pending_") for k in rows)


def test_a_pool_without_domain_versions_keys_everything_on_the_data_version(pool: str) -> None:
    with audit.write(audit.Actor.cli()) as tx:
        tx.conn.execute(delete(pool_meta).where(pool_meta.c.key == meta.BASE_KEY))
        tx.log("test.version.forget", "pool_meta", meta.BASE_KEY)
    v = cache.data_version(fresh=True)
    assert cache.version_of(("cases",)) == v == cache.version_of(())
    assert cold() == {"cases", "staff", "base", "all"}
    move("records")  # an older pool: every move invalidates everything, as before domains existed
    assert cold() == {"cases", "staff", "base", "all"}


def test_unknown_domains_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown domains"):
        cache.cached(domains=("weather",))(lambda: 1)
    with pytest.raises(ValueError, match="unknown domain"), eng.write() as conn:
        meta.move_version(conn, domain="weather", records_added=0, newest_received=0)


@cache.cached(domains=("cases",))
def _cases_reading_records() -> int:
    with eng.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(record)).scalar_one())


@cache.cached(domains=("cases",))
def _cases_calling_undeclared() -> int:
    d = meta.pool_status().as_of_day
    return overview.township_kpis(scope=CITY_SCOPE, first_day=d - 6, last_day=d).height


@cache.cached(domains=("cases", "records"))
def _both_calling_cases() -> int:
    return len(loop.months())


def test_a_read_outside_its_declared_domains_is_caught(pool: str, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(cache.DomainLeak, match="table record of domain records"):
        _cases_reading_records()
    with pytest.raises(cache.DomainLeak, match=r"reads queries\.overview\.township_kpis"):
        _cases_calling_undeclared()
    assert _both_calling_cases() > 0  # a narrower read inside a wider one is fine
    cache.strict(False)  # in production a breach is logged once, never an error page
    cache._leaks_logged.clear()
    try:
        with caplog.at_level(logging.WARNING, logger="queries.cache"):
            assert _cases_reading_records.uncached() > 0  # type: ignore[attr-defined]
            cache.configure(None)  # uncached: the statement still runs inside the declared read
            assert _cases_reading_records() > 0
            assert _cases_reading_records() > 0
        breaches = [r for r in caplog.records if "domain declaration breached" in r.getMessage()]
        assert len(breaches) == 1
    finally:
        cache.strict(True)
