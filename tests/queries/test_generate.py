"""The synthetic pool: deterministic, realistic rhythms, and defects injected at recorded rates."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text

from queries import audit, calendar, rollups
from queries.generate import build as build_mod
from queries.generate import parts
from queries.generate import reference as ref
from queries.generate.build import SCALES, build_pool, generate
from queries.tables import (
    GENERATED_TABLES,
    REFERENCE_TABLES,
    USER_DATA_TABLES,
    app_user,
    login_event,
    metadata,
    pool_meta,
    rollup_daily,
    seed_defect,
    seed_incident,
)
from queries.timebase import DAY, TZ
from tests.conftest import END, SEED
from tests.pools import sqlite_pool_at

END_TS = int(END.timestamp())


@pytest.fixture(scope="module")
def gen() -> build_mod.Generated:
    return generate(SCALES["test"], SEED, END_TS)


def frame(g: build_mod.Generated) -> pl.DataFrame:
    return build_mod.records_frame(g.cols)


def test_same_seed_same_pool_other_seed_other_pool(gen: build_mod.Generated) -> None:
    again = generate(SCALES["test"], SEED, END_TS)
    other = generate(SCALES["test"], SEED + 1, END_TS)
    assert all(
        np.array_equal(gen.cols[c], again.cols[c], equal_nan=c in ("amount", "community_code", "grid_id"))
        for c in ("occurred_at", "township_code", "amount", "record_key")
    )
    assert not np.array_equal(gen.cols["occurred_at"][:1000], other.cols["occurred_at"][:1000])


def test_every_record_received_after_it_occurred_and_before_the_end(gen: build_mod.Generated) -> None:
    assert (gen.cols["received_at"] >= gen.cols["occurred_at"]).all()
    assert gen.cols["received_at"].max() <= END_TS
    assert len(gen.cols["module_id"]) >= SCALES["test"].records  # duplicates and the spike add rows


def test_holidays_and_weekends_shape_volumes(gen: build_mod.Generated) -> None:
    f = frame(gen).with_columns(((pl.col("occurred_at") + TZ) // DAY).alias("day"))
    days = np.arange(f["day"].min(), f["day"].max() + 1)
    kinds, gaps = calendar.day_kinds(days)
    assert gaps == []
    kind = pl.DataFrame({"day": days, "kind": kinds.astype(np.int64)})
    per = (
        f.group_by("module_id", "day")
        .len()
        .join(kind, on="day")
        .group_by("module_id", "kind")
        .agg(pl.col("len").mean())
    )
    mean = {(r["module_id"], r["kind"]): r["len"] for r in per.iter_rows(named=True)}
    tourism, education = ref.module_by_code()["tourism"].id, ref.module_by_code()["education"].id
    assert mean[(tourism, calendar.HOLIDAY)] > 1.8 * mean[(tourism, calendar.WORKDAY)]
    assert mean[(education, calendar.HOLIDAY)] < 0.2 * mean[(education, calendar.WORKDAY)]
    assert mean[(education, calendar.RESTDAY)] < 0.4 * mean[(education, calendar.WORKDAY)]


def test_make_up_workday_counts_as_workday() -> None:
    # 2026: Sunday 20 Sep is a make-up workday for National Day; Sunday 27 Sep is in the Mid-Autumn
    # holiday; Saturday 3 Oct is National Day; Sunday 11 Oct is an ordinary weekend day.
    days = [dt.date(2026, 9, 20), dt.date(2026, 9, 27), dt.date(2026, 10, 3), dt.date(2026, 10, 11)]
    kinds, _ = calendar.day_kinds(np.array([calendar.date_to_day(d) for d in days]))
    assert kinds.tolist() == [calendar.WORKDAY, calendar.HOLIDAY, calendar.HOLIDAY, calendar.RESTDAY]


def test_daily_rhythm_commute_peak(gen: build_mod.Generated) -> None:
    f = frame(gen).filter(pl.col("module_id") == ref.module_by_code()["transport"].id)
    hours = ((f["occurred_at"] + TZ) % DAY // 3600).value_counts().sort("occurred_at")
    by_hour = dict(zip(hours["occurred_at"].to_list(), hours["count"].to_list(), strict=True))
    assert by_hour[8] > 5 * by_hour[3]


def test_urban_subdistricts_busier_and_better_connected(gen: build_mod.Generated) -> None:
    towns = pl.DataFrame([t.__dict__ for t in ref.townships()]).select("code", "urban", "population")
    f = frame(gen).join(towns, left_on="township_code", right_on="code")
    cons = f.filter(pl.col("module_id") == ref.module_by_code()["consumption"].id)
    per_cap = (
        cons.group_by("urban").len().join(towns.group_by("urban").agg(pl.col("population").sum()), on="urban")
    )
    rate = {r["urban"]: r["len"] / r["population"] for r in per_cap.iter_rows(named=True)}
    assert rate[True] > 1.5 * rate[False]
    late = (
        f.with_columns(((pl.col("received_at") - pl.col("occurred_at")) > 48 * 3600).alias("late"))
        .group_by("urban")
        .agg(pl.col("late").mean())
    )
    share = {r["urban"]: r["late"] for r in late.iter_rows(named=True)}
    assert share[False] > 1.5 * share[True]


def test_harvest_season_in_agriculture(gen: build_mod.Generated) -> None:
    f = frame(gen).filter(pl.col("module_id") == ref.module_by_code()["agriculture"].id)
    month = f.select(pl.from_epoch(pl.col("occurred_at") + TZ, time_unit="s").dt.month().alias("m"))["m"]
    counts = month.value_counts()
    c = dict(zip(counts["m"].to_list(), counts["count"].to_list(), strict=True))
    assert c[9] > 1.3 * c[11] * (30 / 20)  # September (harvest) over the 20 November days in the window


def test_cross_department_duplication_rate_is_the_recorded_one(gen: build_mod.Generated) -> None:
    srcs = {s.code: sid for sid, _, s in ref.sources()}
    f = frame(gen)
    ps = f.filter(pl.col("source_id") == srcs["population_system"]).height
    dups = f.filter(pl.col("source_id") == srcs["community_governance"])
    dup_keys = dups.join(
        f.filter(pl.col("source_id") == srcs["population_system"]).select("record_key"),
        on="record_key",
        how="semi",
    ).height
    assert dup_keys / ps == pytest.approx(0.30, abs=0.03)


def test_pool_records_truth_and_incidents(sqlite_pool: tuple[str, build_mod.BuildReport]) -> None:
    url, report = sqlite_pool
    eng = create_engine(url)
    with eng.connect() as conn:
        truth = dict(
            conn.execute(select(seed_defect.c.defect, func.count()).group_by(seed_defect.c.defect)).all()
        )
        inc = conn.execute(select(seed_incident.c.kind, seed_incident.c.module_id)).all()
        meta = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    assert truth == report.defects
    assert set(truth) == {"duplicate", "missing", "late", "badcode"}
    for name, n in truth.items():
        assert 0.01 < n / report.records < 0.05, name
    assert sorted(inc) == [("outage", 7), ("spike", 3)]
    assert int(meta["records"]) == report.records
    assert meta["scale"] == "test"


def test_rollup_detects_exactly_the_injected_defects(pool: str) -> None:
    eng = create_engine(pool)
    with eng.connect() as conn:
        r = rollup_daily.c
        got = conn.execute(
            select(func.sum(r.n_dup), func.sum(r.n_missing), func.sum(r.n_late), func.sum(r.n_badcode))
        ).one()
        truth = dict(
            conn.execute(select(seed_defect.c.defect, func.count()).group_by(seed_defect.c.defect)).all()
        )
    assert [int(x) for x in got] == [truth["duplicate"], truth["missing"], truth["late"], truth["badcode"]]


def test_polars_rollup_equals_sql_rollup(gen: build_mod.Generated, tmp_path: Path) -> None:
    assert_rollup_is_the_sql_one(sqlite_pool_at(tmp_path / "p.sqlite", demo_users=False).url)


def assert_rollup_is_the_sql_one(url: str) -> None:
    """The rollup the loader wrote is, row for row, the one refresh_daily() computes in SQL."""
    eng = create_engine(url)
    cols = ", ".join(rollups.DAILY_COLUMNS)
    order = "source_id, township_code, day, classification"
    with eng.begin() as conn:
        loaded = conn.execute(text(f"SELECT {cols} FROM rollup_daily ORDER BY {order}")).all()
        rollups.refresh_daily(conn)
        again = conn.execute(text(f"SELECT {cols} FROM rollup_daily ORDER BY {order}")).all()
    assert len(loaded) == len(again) > 1000
    amount = rollups.DAILY_COLUMNS.index("sum_amount")
    for a, b in zip(loaded, again, strict=True):
        assert a[:amount] == b[:amount] and a[amount + 1 :] == b[amount + 1 :]
        assert a[amount] == pytest.approx(b[amount], rel=1e-9)


def test_failed_build_leaves_the_old_pool_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pool.sqlite"
    url = sqlite_pool_at(path, demo_users=False).url
    before = sqlite3.connect(path).execute("select value from pool_meta where key='data_version'").fetchone()

    def boom(frame: pl.DataFrame) -> pl.DataFrame:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(rollups, "compute_daily", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        build_pool(url, scale="test", seed=SEED + 5, end=END, progress=False)
    after = sqlite3.connect(path).execute("select value from pool_meta where key='data_version'").fetchone()
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.sqlite"]  # no temp file left behind


@pytest.mark.postgres
def test_failed_build_rolls_back_on_postgres(
    pg_pool: tuple[str, build_mod.BuildReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, report = pg_pool
    eng = create_engine(url)
    with eng.connect() as conn:
        before = conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "data_version")).scalar()
        n_before = conn.execute(text("select count(*) from record")).scalar()

    def boom(frame: pl.DataFrame) -> pl.DataFrame:
        raise RuntimeError("simulated failure after COPY")

    monkeypatch.setattr(rollups, "compute_daily", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        build_pool(url, scale="test", seed=SEED + 5, end=END, progress=False)
    with eng.connect() as conn:
        assert (
            conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == "data_version")).scalar()
            == before
        )
        assert conn.execute(text("select count(*) from record")).scalar() == n_before == report.records


def test_rebuild_keeps_accounts(tmp_path: Path) -> None:
    from queries.users import create_user

    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    eng = create_engine(url)
    with eng.begin() as conn:
        create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="zhang.wei",
            password="a-long-password",
            role="leader",
            township_code=532503102,
        )
    report = build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=True)
    with create_engine(url).connect() as conn:
        names = {r[0] for r in conn.execute(select(app_user.c.username))}
    assert report.kept_users == 1
    assert names == {"zhang.wei", *(u[0] for u in ref.DEMO_USERS)}


def test_a_grown_pool_is_built_in_chunks_and_adds_up(tmp_path: Path) -> None:
    """`seed --records N` past one chunk: chunks of their own keys, ids 1..n, one spike, the truth and the
    rollup over every chunk (the rollup combined from the chunks equals the SQL one)."""
    url = f"sqlite:///{tmp_path / 'grown.sqlite'}"
    report = build_pool(
        url, scale="test", seed=SEED, end=END, progress=False, records=30_000, chunk_records=10_000
    )
    assert build_mod.chunk_sizes(30_000, 10_000) == [10_000] * 3
    assert 29_000 < report.records < 32_000  # + duplicates, - the outage
    eng = create_engine(url)
    with eng.connect() as conn:
        n, lo, hi, keys = conn.execute(
            text("SELECT COUNT(*), MIN(id), MAX(id), COUNT(DISTINCT record_key) FROM record")
        ).one()
        truth = dict(
            conn.execute(select(seed_defect.c.defect, func.count()).group_by(seed_defect.c.defect)).all()
        )
        orphans = conn.execute(
            text(
                "SELECT COUNT(*) FROM seed_defect d LEFT JOIN record r ON r.id = d.record_id WHERE r.id IS NULL"
            )
        ).scalar()
        kinds = sorted(k for (k,) in conn.execute(select(seed_incident.c.kind)))
        meta = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
        chunks = conn.execute(text("SELECT COUNT(DISTINCT record_key / 10000000000) FROM record")).scalar()
    assert (n, lo, hi) == (report.records, 1, report.records)
    assert keys == n - truth["duplicate"]  # a copy shares its original's key; chunks never share one
    assert chunks == 3 and orphans == 0 and truth == report.defects
    assert kinds == ["outage", "spike"]
    assert int(meta["records"]) == report.records
    assert_rollup_is_the_sql_one(url)
    with pytest.raises(build_mod.BuildError, match="records must be between"):
        build_pool(url, scale="test", records=10**9)


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(build_mod.BuildError, match="unknown scale"):
        build_pool("sqlite:////nonexistent/x.sqlite", scale="huge")


_SEEN: dict[str, int] = {}


def _demo_part_build(conn: object, ctx: parts.BuildContext) -> None:
    _SEEN["records"] = ctx.records.height
    ctx.meta["part:demo"] = str(int(ctx.records.filter(pl.col("module_id") == 5).height))


def _broken_part_build(conn: object, ctx: parts.BuildContext) -> None:
    raise ValueError("part failed")


DEMO_PART = parts.Part("demo", (), _demo_part_build)
BROKEN_PART = parts.Part("demo", (), _broken_part_build)


def test_generator_parts_run_in_the_load_and_fail_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extension point later issues use: a part listed in parts.PARTS lands with the pool, or
    nothing does."""
    monkeypatch.setattr(parts, "PARTS", (f"{__name__}:DEMO_PART",))
    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    report = build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=False)
    with create_engine(url).connect() as conn:
        meta = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    assert _SEEN["records"] == report.records
    assert int(meta["part:demo"]) > 0 and meta["parts"] == '["demo"]'

    monkeypatch.setattr(parts, "PARTS", (f"{__name__}:BROKEN_PART",))
    with pytest.raises(ValueError, match="part failed"):
        build_pool(url, scale="test", seed=SEED + 1, end=END, progress=False, demo_users=False)
    with create_engine(url).connect() as conn:
        after = dict(conn.execute(select(pool_meta.c.key, pool_meta.c.value)).all())
    assert after["data_version"] == meta["data_version"]


def test_a_wrong_part_entry_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "PARTS", ("queries.no_such_module:PART",))
    with pytest.raises(parts.PartError, match="no_such_module"):
        parts.registered()
    monkeypatch.setattr(parts, "PARTS", (f"{__name__}:SEED",))
    with pytest.raises(parts.PartError, match=r"not a parts\.Part"):
        parts.registered()
    monkeypatch.setattr(parts, "PARTS", (f"{__name__}:DEMO_PART", f"{__name__}:BROKEN_PART"))
    with pytest.raises(parts.PartError, match="share a name"):
        parts.registered()


def test_production_parts_load() -> None:
    """Every entry of the one list loads (a typo there would otherwise only show at the next seed)."""
    for part in parts.registered():
        assert part.name and all(t.name in metadata.tables for t in part.tables)


def test_every_table_has_exactly_one_rebuild_role() -> None:
    """Reference (upserted), generated (rebuilt), a part's (rebuilt) or user data (carried): a table
    that is none of these would be lost or duplicated by the next seed."""
    roles = [*REFERENCE_TABLES, *GENERATED_TABLES, *parts.tables(), *USER_DATA_TABLES]
    names = [t.name for t in roles]
    assert len(names) == len(set(names)), "a table is declared twice"
    assert set(names) == set(metadata.tables)


# --- user data across a rebuild ------------------------------------------------------------------

_WRITE_URL: dict[str, str] = {}


def _write_during_build(conn: object, ctx: parts.BuildContext) -> None:
    """Someone adds an account and logs in while `seed` is building (through the live pool's door)."""
    from queries import engine as eng
    from queries.users import create_user

    eng.configure(_WRITE_URL["url"])
    with eng.write() as live:
        create_user(
            audit.joined(live, audit.Actor.cli()),
            username="late.comer",
            password="a-long-password",
            role="operator",
        )
        live.execute(insert(login_event).values(username="late.comer", at=1, ok=True, remote_addr="10.0.0.9"))


WRITER_PART = parts.Part("writer", (), _write_during_build)


def _rebuild_with_a_writer(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _WRITE_URL["url"] = url
    monkeypatch.setattr(parts, "PARTS", (f"{__name__}:WRITER_PART",))
    build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=False)
    with create_engine(url).connect() as conn:
        users = {r[0] for r in conn.execute(select(app_user.c.username))}
        logins = conn.execute(select(func.count()).where(login_event.c.username == "late.comer")).scalar()
    assert "late.comer" in users and logins == 1


def test_writes_during_a_rebuild_are_carried_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    _rebuild_with_a_writer(url, monkeypatch)


@pytest.mark.postgres
def test_writes_during_a_rebuild_are_carried_postgres(
    pg_pool: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = pg_pool
    try:
        _rebuild_with_a_writer(url, monkeypatch)
    finally:
        with create_engine(url).begin() as conn:
            conn.execute(delete(login_event).where(login_event.c.username == "late.comer"))
            conn.execute(delete(app_user).where(app_user.c.username == "late.comer"))


def test_a_write_into_a_replaced_pool_file_is_refused_not_lost(tmp_path: Path) -> None:
    """A writer still holding the old file (it waited for the swap's lock) is told to try again."""
    from queries import engine as eng
    from queries.errors import PoolSwitching
    from queries.users import create_user

    path = tmp_path / "pool.sqlite"
    sqlite_pool_at(path, demo_users=False)
    old = tmp_path / "old-inode.sqlite"
    os.link(path, old)  # what a connection opened before the swap still sees
    build_pool(f"sqlite:///{path}", scale="test", seed=SEED, end=END, progress=False, demo_users=False)
    eng.configure(f"sqlite:///{old}")
    with pytest.raises(PoolSwitching) as err, eng.write() as conn:
        create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="too.late",
            password="a-long-password",
            role="operator",
        )
    assert "重试" in err.value.zh and "try again" in err.value.en
    with create_engine(f"sqlite:///{old}").connect() as conn:
        assert conn.execute(select(app_user.c.id).where(app_user.c.username == "too.late")).first() is None
    eng.configure(f"sqlite:///{path}")
    with eng.write() as conn:  # the same write on the new pool goes through
        create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="too.late",
            password="a-long-password",
            role="operator",
        )


def test_the_pool_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "pool.sqlite"
    build_pool(f"sqlite:///{path}", scale="test", seed=SEED, end=END, progress=False, demo_users=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reads_that_must_agree_come_from_one_pool(tmp_path: Path) -> None:
    """Right after a reload, a worker still trusts the old data version for CC_VERSION_TTL_SECONDS: an
    export must not pair the new pool's as-of time with the old pool's cached totals."""
    from queries import cache, meta, overview
    from queries import engine as eng
    from queries.scope import CITY_SCOPE

    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    eng.configure(url)
    cache.configure(tmp_path / "cache", version_ttl=3600)

    def export(st: meta.PoolStatus) -> tuple[int, int]:
        frame = overview.township_kpis(scope=CITY_SCOPE, first_day=st.as_of_day - 29, last_day=st.as_of_day)
        return st.as_of, int(frame["n"].sum())

    try:
        export(meta.pool_status())  # the old pool's totals are now cached under its data version
        build_pool(url, scale="test", seed=SEED + 7, end=END, progress=False)  # same day, other totals
        fresh = export(
            meta.pool_status()
        )  # what the pre-fix code did: new as-of, totals keyed on the old version
        as_of, total = meta.consistent(export)
        cache.configure(None)
        truth = export(meta.pool_status())
        assert (as_of, total) == truth
        assert fresh != truth, "the test no longer reproduces a stale version (cache TTL ignored?)"
    finally:
        cache.configure(None)
