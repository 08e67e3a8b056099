"""The ingest writer on SQLite and PostgreSQL: every defect kind lands in the quarantine with its reason,
accepted rows land with ids from the ingest range and the rollups of their days move exactly as a full
recount would, replays add nothing (also two at once), a writer killed mid-batch leaves nothing, and
held rows are released after correction or discarded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import delete, func, insert, select

from queries import audit, meta, rollups
from queries import engine as eng
from queries.ingest import write
from queries.ingest.reference import load_reference
from queries.ingest.validate import batch_from_records
from queries.ingest.write import INGEST_ID_BASE, IngestError, LandResult
from queries.tables import audit_log, ingest_batch, pool_meta, quarantine, record, rollup_daily
from tests.conftest import END, SEED
from tests.queries.test_ingest_validate import NOW, base_row, cases, first_ts, source_records

ACTOR = audit.Actor(None, "cli:tester", "system")
REPO = Path(__file__).resolve().parents[2]
SRC = "traffic_platform"


@pytest.fixture
def writable_pool(writable_pool: str) -> Iterator[str]:
    """tests/conftest.py's writable pool, and on PostgreSQL (shared by the session) the records, rollups
    and pool facts an ingest changed put back as they were, beside the user data it undoes itself."""
    with eng.connect() as c:
        facts = c.execute(select(pool_meta)).all()
    yield writable_pool
    if writable_pool.startswith("postgresql"):
        with eng.engine().begin() as c:
            c.execute(delete(record).where(record.c.id >= INGEST_ID_BASE))
            rollups.refresh_daily(c)
            c.execute(delete(pool_meta))
            c.execute(insert(pool_meta), [dict(r._mapping) for r in facts])


def land(rows: pl.DataFrame | list[dict[str, Any]], source: str = SRC, **kw: Any) -> LandResult:
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows)
    with audit.write(ACTOR) as tx:
        return write.land(tx, source_code=source, rows=frame, channel=kw.pop("channel", "api"), now=NOW, **kw)


def count(table: Any, *where: Any) -> int:
    with eng.connect() as c:
        return int(c.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def rollup_snapshot() -> pl.DataFrame:
    frame = eng.read_frame(select(rollup_daily))
    return frame.cast({c: pl.Int64 for c in rollups.DAILY_COLUMNS[:11]} | {"max_received_at": pl.Int64}).sort(
        rollups.DAILY_KEYS
    )


def recounted() -> pl.DataFrame:
    """rollup_daily as a full refresh_daily() recount would make it (rolled back afterwards)."""
    with eng.engine().connect() as c:
        tx = c.begin()
        rollups.refresh_daily(c)
        rows = c.execute(select(rollup_daily)).all()
        cols = list(c.execute(select(rollup_daily).limit(0)).keys())
        tx.rollback()
    frame = pl.DataFrame(rows, schema=cols, orient="row", infer_schema_length=None)
    return frame.cast({c: pl.Int64 for c in rollups.DAILY_COLUMNS[:11]} | {"max_received_at": pl.Int64}).sort(
        rollups.DAILY_KEYS
    )


def assert_rollups_as_recounted() -> None:
    """The rollups match a full recount: counts exactly, sums to float rounding."""
    got, want = rollup_snapshot(), recounted()
    assert got.drop("sum_qty", "sum_amount").equals(want.drop("sum_qty", "sum_amount")), got.join(
        want, on=rollups.DAILY_KEYS, how="full"
    ).filter(pl.col("n") != pl.col("n_right"))
    for col in ("sum_qty", "sum_amount"):
        assert ((got[col] - want[col]).abs() <= 1e-6 * (1 + want[col].abs())).all(), col


def test_every_defect_is_quarantined_with_its_reason_and_the_rest_lands(writable_pool: str) -> None:
    ref = load_reference()
    table = cases(ref, first_ts())
    rows = []
    for i, (_, bad, good) in enumerate(table):
        rows += [base_row(ref, 1000 + 10 * i) | bad, base_row(ref, 1001 + 10 * i) | good]
    version = meta.pool_status().data_version
    was = meta.pool_status().versions
    before = meta.pool_status().records
    head = count(audit_log)
    out = land(rows)
    n = len(table)
    assert (out.n_rows, out.n_accepted, out.n_quarantined, out.n_duplicate) == (2 * n, n, n, 0)
    assert not out.replay and out.batch_id is not None
    assert list(out.outcomes.columns) == ["row", "record_key", "outcome", "reasons", "record_id"]
    for i, (reason, _, _) in enumerate(table):
        bad, good = out.outcomes.row(2 * i, named=True), out.outcomes.row(2 * i + 1, named=True)
        assert bad["outcome"] == "quarantined" and reason in bad["reasons"] and bad["record_id"] is None
        assert good["outcome"] == "accepted" and good["reasons"] == []
    # accepted ids: one contiguous run from the ingest range, named by the batch row
    ids = out.outcomes.filter(pl.col("outcome") == "accepted")["record_id"].to_list()
    assert ids == list(range(INGEST_ID_BASE, INGEST_ID_BASE + n))
    with eng.connect() as c:
        b = c.execute(select(ingest_batch).where(ingest_batch.c.id == out.batch_id)).one()
        held = c.execute(
            select(quarantine.c.row_no, quarantine.c.reasons, quarantine.c.raw, quarantine.c.status)
            .where(quarantine.c.batch_id == out.batch_id)
            .order_by(quarantine.c.row_no)
        ).all()
    assert (b.channel, b.n_rows, b.n_accepted, b.n_quarantined, b.actor) == ("api", 2 * n, n, n, "cli:tester")
    assert (b.first_record_id, b.last_record_id) == (ids[0], ids[-1])
    assert [h.row_no for h in held] == list(range(0, 2 * n, 2))
    assert table[0][0] in json.loads(held[0].reasons) and {h.status for h in held} == {"held"}
    assert json.loads(held[0].raw) == rows[0]  # the row exactly as sent
    assert count(record, record.c.id >= INGEST_ID_BASE) == n
    # one log entry, counts and digest only, the chain intact; the data version and counts moved
    entry = audit.show(action="ingest.batch", limit=1).row(0, named=True)
    detail = json.loads(entry["detail"])
    assert detail["accepted"] == n and detail["quarantined"] == n and len(detail["digest"]) == 64
    assert "532503001" not in entry["detail"] and count(audit_log) == head + 1
    assert audit.verify().ok
    st = meta.pool_status()
    assert st.data_version != version and st.records == before + n
    # records' own version moved; the cases' and the base did not (their cached reads stay valid)
    assert st.versions["version.records"] != was["version.records"]
    assert st.versions["version.cases"] == was["version.cases"]
    assert st.versions["version.base"] == was["version.base"]
    # the answer speaks both languages for every reason
    answer = out.answer("en")
    assert answer["counts"] == {"rows": 2 * n, "accepted": n, "duplicate": 0, "quarantined": n}
    first = answer["rows"][0]["reasons"][0]
    assert first["code"] == table[0][0] and first["zh"] and first["en"]
    assert answer["message"].startswith(f"{2 * n} rows")
    assert out.answer()["message"].startswith(f"共 {2 * n} 行")
    # the rollups of the touched days moved exactly as a full recount says
    assert_rollups_as_recounted()


def test_replays_add_nothing_and_cross_source_copies_count_as_duplicates(writable_pool: str) -> None:
    ref = load_reference()
    # civil affairs re-entering public security's records: its own data, accepted, counted as duplicates
    pop = source_records("population_system", ref).filter(pl.col("truth").is_null())
    gov = source_records("community_governance", ref)
    fresh = pop.filter(~pl.col("record_key").is_in(gov["record_key"].implode())).head(300)
    batch = batch_from_records(fresh, ref).with_columns(received_at=pl.lit(NOW - 60))
    dup_before = int(rollup_snapshot()["n_dup"].sum())
    first = land(batch, source="community_governance")
    assert first.n_accepted == 300
    assert int(rollup_snapshot()["n_dup"].sum()) == dup_before + 300
    assert_rollups_as_recounted()
    # the same batch again: nothing added, and it says so (one log entry for the retry)
    version = meta.pool_status().data_version
    n_records, n_batches = count(record), count(ingest_batch)
    again = land(batch, source="community_governance")
    assert again.replay and again.batch_id is None and again.n_duplicate == 300
    assert set(again.outcomes["reasons"].list.join(",")) == {"duplicate"}
    assert (count(record), count(ingest_batch)) == (n_records, n_batches)
    assert meta.pool_status().data_version == version
    assert audit.show(action="ingest.replay", limit=1)["object_id"].to_list() == [str(first.batch_id)]
    # a retried batch with quarantined rows is a replay too: its rows are not held twice
    mixed = [base_row(ref, 5), base_row(ref, 6) | {"qty": "x"}]
    assert land(mixed).n_quarantined == 1
    held = count(quarantine)
    retry = land(mixed)
    assert retry.replay and retry.outcomes["outcome"].to_list() == ["duplicate", "quarantined"]
    assert "received before (1 rows were quarantined then)" in retry.answer("en")["message"]
    assert count(quarantine) == held
    # a new batch overlapping an old one: the new rows land, the old ones are duplicates
    part = land([base_row(ref, 5), base_row(ref, 7), base_row(ref, 7)])
    assert part.outcomes["outcome"].to_list() == ["duplicate", "accepted", "duplicate"]
    assert part.outcomes["reasons"].to_list() == [["duplicate"], [], ["duplicate_in_batch"]]
    assert (part.n_accepted, part.n_duplicate, part.replay) == (1, 2, False)


def test_dry_run_writes_nothing(writable_pool: str) -> None:
    ref = load_reference()
    land([base_row(ref, 1)])
    n, version = count(record), meta.pool_status().data_version
    out = write.dry_run(source_code=SRC, rows=pl.DataFrame([base_row(ref, 1), base_row(ref, 2)]), now=NOW)
    assert out.batch_id is None and out.outcomes["outcome"].to_list() == ["duplicate", "accepted"]
    assert count(record) == n and meta.pool_status().data_version == version
    with pytest.raises(IngestError, match="no source system"):
        write.dry_run(source_code="nope", rows=pl.DataFrame([base_row(ref, 1)]), now=NOW)


def test_two_writers_sending_the_same_batch_add_it_once(writable_pool: str) -> None:
    ref = load_reference()
    rows = pl.DataFrame([base_row(ref, 100 + i) for i in range(200)])
    results: list[LandResult] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(2)

    def send() -> None:
        try:
            gate.wait()
            results.append(land(rows))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.n_accepted for r in results) == [0, 200]
    assert sorted(r.replay for r in results) == [False, True]
    assert count(record, record.c.id >= INGEST_ID_BASE) == 200
    assert audit.verify().ok


KILLED = """
import sys, time
import polars as pl
from queries import audit, engine
from queries.ingest import write
engine.configure(sys.argv[1])
inner = write._insert_records
def stall(conn, frame):
    inner(conn, frame)
    print("inserted", flush=True)
    time.sleep(600)
write._insert_records = stall
with audit.write(audit.Actor(None, "cli:killed", "system")) as tx:
    write.land(tx, source_code="traffic_platform", rows=pl.read_parquet(sys.argv[2]), channel="file",
               now=int(sys.argv[3]))
"""


def test_a_writer_killed_mid_batch_leaves_nothing(writable_pool: str, tmp_path: Path) -> None:
    ref = load_reference()
    path = tmp_path / "batch.parquet"
    pl.DataFrame([base_row(ref, 500 + i) for i in range(300)]).write_parquet(path)
    n_records, n_batches, n_log = count(record), count(ingest_batch), count(audit_log)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, writable_pool, str(path), str(NOW)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "inserted"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    eng.configure(writable_pool)  # a fresh connection: SQLite rolls the hot journal back on open
    assert (count(record), count(ingest_batch), count(audit_log)) == (n_records, n_batches, n_log)
    # and the batch, sent again, lands whole
    out = land(pl.read_parquet(path), channel="file")
    assert out.n_accepted == 300 and count(record) == n_records + 300
    assert audit.verify().ok


def test_release_after_correction_and_discard(writable_pool: str) -> None:
    ref = load_reference()
    rows = [
        base_row(ref, 11) | {"qty": "many"},
        base_row(ref, 12) | {"area_code": "532503"},
        base_row(ref, 13) | {"classification": "secret"},
    ]
    out = land(rows)
    with eng.connect() as c:
        ids = [
            int(i)
            for (i,) in c.execute(
                select(quarantine.c.id).where(quarantine.c.batch_id == out.batch_id).order_by(quarantine.c.id)
            )
        ]
    assert len(ids) == 3
    with audit.write(ACTOR) as tx:
        rel = write.release(
            tx,
            quarantine_ids=ids[:2],
            corrections={ids[0]: {"qty": "4"}, ids[1]: {"area_code": "532503"}},  # the second: still wrong
        )
    assert rel.outcomes["outcome"].to_list() == ["accepted", "quarantined"]
    assert rel.outcomes["reasons"].to_list()[1] == ["area_code_county_only"]
    with eng.connect() as c:
        status = dict(
            c.execute(select(quarantine.c.id, quarantine.c.status).where(quarantine.c.id.in_(ids))).all()
        )
        b = c.execute(select(ingest_batch).where(ingest_batch.c.id == rel.batch_id)).one()
        landed = c.execute(
            select(record.c.qty).where(record.c.id == rel.outcomes["record_id"][0])
        ).scalar_one()
        resolved = c.execute(
            select(quarantine.c.resolved_batch_id).where(quarantine.c.id == ids[0])
        ).scalar_one()
    assert status == {ids[0]: "released", ids[1]: "held", ids[2]: "held"}
    assert b.channel == "release" and b.n_accepted == 1 and resolved == rel.batch_id and landed == 4.0
    # a released row cannot be released again; an unknown id is named
    with pytest.raises(IngestError, match="released"), audit.write(ACTOR) as tx:
        write.release(tx, quarantine_ids=[ids[0]], corrections={})
    with pytest.raises(IngestError, match="no quarantined rows"), audit.write(ACTOR) as tx:
        write.discard(tx, quarantine_ids=[10**9], note="x")
    with audit.write(ACTOR) as tx:
        assert write.discard(tx, quarantine_ids=ids[1:], note="the sender will resend") == 2
    with eng.connect() as c:
        assert {s for (s,) in c.execute(select(quarantine.c.status).where(quarantine.c.id.in_(ids[1:])))} == {
            "discarded"
        }
    actions = audit.show(action="quarantine.", limit=5)["action"].to_list()
    assert actions == ["quarantine.discard", "quarantine.release"]
    assert audit.verify().ok


def test_ingested_records_survive_a_rebuild(writable_pool: str) -> None:
    from queries.generate.build import build_pool

    ref = load_reference()
    out = land([base_row(ref, 900 + i) for i in range(40)])
    ids = out.outcomes["record_id"].to_list()
    with eng.connect() as c:
        before = c.execute(select(record).where(record.c.id >= INGEST_ID_BASE).order_by(record.c.id)).all()
    n_total = count(record)
    version = meta.pool_status().data_version
    report = build_pool(writable_pool, scale="test", seed=SEED, end=END, progress=False)
    eng.configure(writable_pool)
    assert report.kept_records == 40
    with eng.connect() as c:
        after = c.execute(select(record).where(record.c.id >= INGEST_ID_BASE).order_by(record.c.id)).all()
        n_rollup = int(c.execute(select(func.sum(rollup_daily.c.n))).scalar_one())
    assert [tuple(r) for r in after] == [tuple(r) for r in before] and [r.id for r in after] == ids
    st = meta.pool_status()
    assert count(record) == n_total == n_rollup == st.records and st.data_version != version
    assert_rollups_as_recounted()  # the new pool's rollups include them
    assert count(ingest_batch, ingest_batch.c.id == out.batch_id) == 1
    # the next batch numbers on from the carried ones
    assert land([base_row(ref, 999)]).outcomes["record_id"].to_list() == [ids[-1] + 1]


def test_records_ingested_during_a_sqlite_rebuild_are_carried_at_the_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite only: PostgreSQL rebuilds in one transaction that holds the ingest lock throughout."""
    from queries.generate import build

    writable_pool = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    build.build_pool(writable_pool, scale="test", seed=SEED, end=END, progress=False)
    eng.configure(writable_pool)
    ref = load_reference()
    land([base_row(ref, 800 + i) for i in range(25)])
    n_total = count(record)
    # as if all 25 arrived after the build had read the old file: only the swap can bring them in
    monkeypatch.setattr(build, "_ingested_from_file", lambda old, schema: pl.DataFrame(schema=schema))
    build.build_pool(writable_pool, scale="test", seed=SEED, end=END, progress=False)
    eng.configure(writable_pool)
    assert count(record, record.c.id >= INGEST_ID_BASE) == 25 and count(record) == n_total
    with eng.connect() as c:
        assert int(c.execute(select(func.sum(rollup_daily.c.n))).scalar_one()) == n_total
