"""Data owners on SQLite and PostgreSQL: named by default when a pool is built, appointed and ended
through the door with history kept, and each source system's scorecard against a direct count."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, func, select, update

from queries import audit, meta, owners
from queries import engine as eng
from queries.scope import Scope
from queries.tables import data_owner, person, rollup_daily
from queries.timebase import local_day_of
from tests.held_rows import HELD, held, held_pool  # noqa: F401 - fixtures

ACTOR = audit.Actor(None, "cli:tester", "system")
CITY = Scope(None, None, 2)


def _people(title: str) -> dict[int, int]:
    """department id -> the first person of a title there (not a township's)."""
    with eng.connect() as c:
        rows = c.execute(
            select(person.c.department_id, func.min(person.c.id))
            .where(person.c.title_zh == title, person.c.township_code.is_(None))
            .group_by(person.c.department_id)
        ).all()
    return {int(d): int(p) for d, p in rows}


def test_a_built_pool_names_an_owner_for_every_department_and_source(pool: str) -> None:
    got = owners.listing()
    assert {"scope", "scope_id", "code", "name_zh", "owner_zh", "title_zh", "person_id"} <= set(got.columns)
    depts, srcs = meta.departments(), meta.sources()
    assert got.height == depts.height + srcs.height
    assert got["person_id"].null_count() == 0  # nobody's data is unowned in a new pool
    deputies, officers = _people("分管副局长"), _people("数据专员")
    d = got.filter(pl.col("scope") == "department")
    assert dict(zip(d["scope_id"], d["person_id"], strict=True)) == {
        int(i): deputies[int(i)] for i in depts["id"]
    }
    s = got.filter(pl.col("scope") == "source").join(
        srcs.select(pl.col("id").alias("scope_id"), "department_id"), on="scope_id"
    )
    assert all(officers[int(dep)] == pid for dep, pid in zip(s["department_id"], s["person_id"], strict=True))
    assert set(got["title_zh"]) == {"分管副局长", "数据专员"}
    assert not audit.show(action="owner.defaults").is_empty()  # the defaults are on the chain too


@pytest.fixture
def owners_restored(writable_pool: str) -> Iterator[str]:
    """The writable pool; the appointments a test ends are current again afterwards (on PostgreSQL the
    fixture removes only the rows a test added, not its updates of the pool's default appointments)."""
    with eng.connect() as c:
        ids = [r[0] for r in c.execute(select(data_owner.c.id).where(data_owner.c.ended_at.is_(None)))]
    yield writable_pool
    with create_engine(writable_pool).begin() as c:
        c.execute(update(data_owner).where(data_owner.c.id.in_(ids)).values(ended_at=None))


def test_appoint_and_end_through_the_door_keeping_history(owners_restored: str) -> None:
    officer = _people("数据专员")[2]  # civil affairs
    head = _people("局长")[2]
    with audit.write(ACTOR) as tx:
        owners.appoint(tx, kind="source", code="community_governance", person_id=head)
    cur = owners.current().filter(pl.col("scope") == "source", pl.col("scope_id") == 6)
    assert cur["person_id"].to_list() == [head] and cur["title_zh"].to_list() == ["局长"]
    with eng.connect() as c:
        history = c.execute(
            select(data_owner.c.person_id, data_owner.c.ended_at)
            .where(data_owner.c.scope == "source", data_owner.c.scope_id == 6)
            .order_by(data_owner.c.id)
        ).all()
    assert [h.person_id for h in history] == [officer, head]
    assert history[0].ended_at is not None and history[1].ended_at is None
    entry = audit.show(action="owner.appoint", limit=1).row(0, named=True)
    assert entry["actor_username"] == "cli:tester" and f'"previous":{officer}' in entry["detail"]
    with pytest.raises(ValueError, match="already owns"), audit.write(ACTOR) as tx:
        owners.appoint(tx, kind="source", code="community_governance", person_id=head)
    with (
        pytest.raises(ValueError, match="no source 'nope'; known: traffic_platform"),
        audit.write(ACTOR) as tx,
    ):
        owners.appoint(tx, kind="source", code="nope", person_id=head)
    with pytest.raises(ValueError, match="no person 999999"), audit.write(ACTOR) as tx:
        owners.appoint(tx, kind="department", code="civil_affairs", person_id=999999)
    with audit.write(ACTOR) as tx:
        owners.end(tx, kind="department", code="civil_affairs")
    listing = owners.listing().filter(pl.col("scope") == "department", pl.col("code") == "civil_affairs")
    assert listing["person_id"].to_list() == [None]
    with pytest.raises(ValueError, match="has no current owner"), audit.write(ACTOR) as tx:
        owners.end(tx, kind="department", code="civil_affairs")
    with audit.write(ACTOR) as tx:  # a pool with history gets no defaults again
        assert owners.appoint_defaults(tx) == 0
        tx.log("test.noop", "none")
    assert audit.verify().ok


def _direct(first: int, last: int) -> dict[int, dict[str, int]]:
    r = rollup_daily.c
    with eng.connect() as c:
        rows = c.execute(
            select(r.source_id, func.sum(r.n), func.sum(r.n_missing), func.sum(r.n_late), func.sum(r.n_dup))
            .where(r.day.between(first, last))
            .group_by(r.source_id)
        ).all()
    return {
        int(s): {"n": int(n), "missing": int(m), "late": int(la), "dup": int(d)} for s, n, m, la, d in rows
    }


@pytest.mark.usefixtures("held")
def test_scorecards_against_a_direct_count() -> None:
    day = meta.pool_status().as_of_day
    cards = owners.scorecards(scope=CITY, first_day=day - 29, last_day=day, home_department=None)
    want = _direct(day - 29, day)
    prev = _direct(day - 59, day - 30)
    assert cards.height == len(want)
    for r in cards.iter_rows(named=True):
        w = want[r["source_id"]]
        assert r["completeness"] == pytest.approx(1 - w["missing"] / w["n"])
        assert r["timeliness"] == pytest.approx(1 - w["late"] / w["n"])
        assert r["uniqueness"] == pytest.approx(1 - w["dup"] / w["n"])
        p = prev[r["source_id"]]
        assert r["prev_completeness"] == pytest.approx(1 - p["missing"] / p["n"])
        assert r["owner_zh"] and r["dept_owner_zh"]
    worst = cards["worst"].to_list()
    assert worst == sorted(worst)  # lowest score first
    # HELD rows arrived now, which is after the test pool's as-of day: a window that holds today counts them
    today = local_day_of(int(time.time()))
    now = owners.scorecards(scope=CITY, first_day=today - 29, last_day=today, home_department=None)
    cg = now.filter(pl.col("code") == "community_governance").row(0, named=True)
    held_cg = sum(1 for c, _, _ in HELD if c == "community_governance")
    assert cg["quarantined"] == held_cg and cg["received"] == 10
    assert cg["quarantine_rate"] == pytest.approx(held_cg / (10 + held_cg))
    assert now.filter(pl.col("code") == "traffic_platform")["quarantine_rate"].to_list() == [None]


@pytest.mark.usefixtures("held")
def test_a_department_head_sees_their_sources_first_and_the_rest_after() -> None:
    day = meta.pool_status().as_of_day
    mine = Scope(None, 2, 2)
    cards = owners.scorecards(scope=mine, first_day=day - 29, last_day=day, home_department=2)
    assert set(cards["code"].to_list()[:2]) == {"community_governance", "elderly_care"}
    rest = cards["worst"].to_list()[2:]
    assert rest == sorted(rest)  # the others after, lowest score first
    assert cards.height == meta.sources().height and cards["home"].sum() == 2
    operator = owners.scorecards(
        scope=Scope(None, None, 1), first_day=day - 29, last_day=day, home_department=None
    )
    city = owners.scorecards(scope=CITY, first_day=day - 29, last_day=day, home_department=None)
    assert operator["n"].sum() < city["n"].sum()  # core records stay out of an operator's counts


def test_owner_cli(
    sqlite_pool: tuple[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dashboard.cli import main

    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    path = tmp_path / "pool.sqlite"
    shutil.copy(sqlite_pool[0].split("///", 1)[1], path)
    url = f"sqlite:///{path}"
    assert main(["--url", url, "owner", "list"]) == 0
    listed = capsys.readouterr().out
    assert "community_governance" in listed and "数据专员" in listed and "civil_affairs" in listed
    head = _people("局长")[2]
    assert (
        main(["--url", url, "owner", "set", "--source", "community_governance", "--person", str(head)]) == 0
    )
    assert f"person {head} now owns" in capsys.readouterr().out
    row = owners.listing().filter(pl.col("code") == "community_governance").row(0, named=True)
    assert row["person_id"] == head and row["title_zh"] == "局长"
    assert main(["--url", url, "owner", "set", "--department", "nope", "--person", "1"]) == 2
    assert "no department 'nope'" in capsys.readouterr().err
    assert main(["--url", url, "owner", "end", "--department", "civil_affairs"]) == 0
    assert main(["--url", url, "owner", "end", "--department", "civil_affairs"]) == 2
    assert "has no current owner" in capsys.readouterr().err
    assert main(["--url", url, "audit", "verify"]) == 0
    assert audit.show(action="owner.", limit=5)["action"].to_list()[:2] == ["owner.end", "owner.appoint"]
