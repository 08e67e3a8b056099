"""The ingest version window (queries.meta.INGEST_WINDOW): batches inside the window of the last move
leave the data version (every cache key) where it is, and a new record is still read by cached queries
within the stated bound (window + CC_VERSION_TTL_SECONDS, here 0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from queries import cache, meta
from queries import engine as eng
from queries.ingest.reference import load_reference
from queries.scope import CITY_SCOPE
from queries.tables import pool_meta
from tests.queries.test_ingest_validate import base_row
from tests.queries.test_ingest_write import land
from tests.queries.test_ingest_write import writable_pool as writable_pool  # its cleanup on PostgreSQL

WINDOW = 60.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(writable_pool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    cache.configure(tmp_path / "cache", version_ttl=0)
    meta.configure_window(WINDOW)
    c = Clock(meta._clock())
    monkeypatch.setattr(meta, "_clock", c)
    yield c
    meta.configure_window(0)
    cache.configure(None)


def pending_keys() -> set[str]:
    with eng.connect() as conn:
        keys = {str(k) for (k,) in conn.execute(select(pool_meta.c.key))}
    return keys & set(meta.PENDING.values())


def test_batches_inside_the_window_keep_the_version_and_show_within_the_bound(clock: Clock) -> None:
    ref = load_reference()
    v0 = cache.data_version()
    n0 = meta.scoped_records(scope=CITY_SCOPE)
    records0 = meta.pool_status().records

    # the first batch after a quiet spell moves the version at once
    assert land([base_row(ref, 7_000_001)]).n_accepted == 1
    v1 = cache.data_version()
    assert v1 != v0
    assert meta.scoped_records(scope=CITY_SCOPE) == n0 + 1
    assert meta.pool_status().records == records0 + 1

    # a batch inside the window: the version (and the cached answer keyed on it) stays put, and the
    # pool's "as of" and record count stay with the version, so nothing claims rows it does not show
    clock.t += 10
    assert land([base_row(ref, 7_000_002)]).n_accepted == 1
    assert cache.data_version() == v1
    assert meta.scoped_records(scope=CITY_SCOPE) == n0 + 1
    assert meta.pool_status().records == records0 + 1
    assert pending_keys() == set(meta.PENDING.values())

    # past the window the pending version is every reader's, with both records counted
    clock.t += WINDOW
    v2 = cache.data_version()
    assert v2 not in (v0, v1)
    assert meta.pool_status().data_version == v2
    assert meta.scoped_records(scope=CITY_SCOPE) == n0 + 2
    assert meta.pool_status().records == records0 + 2

    # the next batch after that moves the version at once again and settles the pending keys
    clock.t += 1
    assert land([base_row(ref, 7_000_003)]).n_accepted == 1
    assert cache.data_version() not in (v0, v1, v2)
    assert meta.scoped_records(scope=CITY_SCOPE) == n0 + 3
    assert meta.pool_status().records == records0 + 3
    assert pending_keys() == set()


def test_a_zero_window_moves_the_version_on_every_batch(clock: Clock) -> None:
    meta.configure_window(0)
    ref = load_reference()
    seen = {cache.data_version()}
    for key in (7_100_001, 7_100_002):
        assert land([base_row(ref, key)]).n_accepted == 1
        seen.add(cache.data_version())
    assert len(seen) == 3
    assert pending_keys() == set()


def test_a_case_write_moves_the_cases_version_at_once_inside_the_window(clock: Clock) -> None:
    """A person's write (a case action, an appeal: `meta.move_now`) is on the next page they open even
    inside the ingest window; the batch pending meanwhile stays pending, and settling it later neither
    brings the old cases' version back nor leaves the data version where the write put it (reads that
    declare no domain must see the batch)."""
    from queries import audit

    def move_cases() -> None:
        with audit.write(audit.Actor.cli()) as tx:
            meta.move_now(tx.conn, domain="cases")
            tx.log("test.cases.move", "pool_meta", "version.cases")

    ref = load_reference()
    assert land([base_row(ref, 7_200_001)]).n_accepted == 1  # opens a window
    before = meta.pool_status()
    clock.t += 10
    move_cases()  # inside the window, with nothing pending
    moved = meta.pool_status()
    assert moved.versions["version.cases"] != before.versions["version.cases"]
    assert moved.data_version != before.data_version and pending_keys() == set()
    clock.t += 1
    n = meta.scoped_records(scope=CITY_SCOPE)
    assert land([base_row(ref, 7_200_002)]).n_accepted == 1  # pending
    records = meta.pool_status().records
    clock.t += 1
    move_cases()  # inside the window, a batch pending
    now = meta.pool_status()
    assert now.versions["version.cases"] not in (
        moved.versions["version.cases"],
        before.versions["version.cases"],
    )
    assert now.records == records and pending_keys()  # the batch is still pending
    clock.t += WINDOW
    settled = meta.pool_status()
    assert (
        settled.records == records + 1 and settled.versions["version.cases"] == now.versions["version.cases"]
    )
    assert settled.data_version != now.data_version
    assert cache.data_version() == settled.data_version and meta.scoped_records(scope=CITY_SCOPE) == n + 1
