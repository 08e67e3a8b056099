"""Data owners (the case study's chief data officers) of source systems and departments, and each source
system's quality scorecard: the quality loop with a name on it.

Appointments are user data: written only through the door (`audit.write`), history kept (the current
owner of a scope is its row with `ended_at` NULL).

Scorecards are governance metadata (rates and names, never records), so every role sees every source
system's scorecard the rollups let it count: the department restriction of a department head is lifted
here (their own department's sources are listed first), the township and classification limits stay.
"""

from __future__ import annotations

import time
from typing import Literal

import polars as pl
from sqlalchemy import Connection, and_, func, insert, select, update

from queries import audit, meta
from queries import engine as eng
from queries.cache import cached
from queries.pool import source_quality
from queries.scope import Scope
from queries.tables import data_owner, department, ingest_batch, person, quarantine, source_system
from queries.timebase import day_start

Kind = Literal["source", "department"]
KINDS: tuple[Kind, ...] = ("source", "department")
# The default appointments of a new pool: a department's deputy head in charge owns the department's data;
# its data officer owns each of the department's source systems (see generate/build.reference_rows).
DEFAULT_TITLES: dict[Kind, str] = {"department": "分管副局长", "source": "数据专员"}

OWNER_SCHEMA = {
    "scope": pl.String,
    "scope_id": pl.Int16,
    "person_id": pl.Int32,
    "name_zh": pl.String,
    "title_zh": pl.String,
    "person_dept_id": pl.Int16,
    "appointed_at": pl.Int64,
    "appointed_by": pl.String,
}


def _scope_id(conn: Connection, kind: str, code: str) -> int:
    """The id of a source system or department by its code; ValueError (zh / en) when there is none."""
    if kind not in KINDS:
        raise ValueError(f"范围应为 source 或 department / scope must be source or department, not {kind!r}")
    table = source_system if kind == "source" else department
    got = conn.execute(select(table.c.id).where(table.c.code == code)).first()
    if got is None:
        codes = ", ".join(r[0] for r in conn.execute(select(table.c.code).order_by(table.c.id)))
        zh = "来源系统" if kind == "source" else "部门"
        raise ValueError(f"{zh} {code!r} 不存在 / no {kind} {code!r}; known: {codes}")
    return int(got[0])


def _end_current(tx: audit.Tx, kind: str, scope_id: int, now: int) -> int | None:
    """Close the current appointment of a scope, if any; returns the person it named."""
    d = data_owner.c
    cur = tx.conn.execute(
        select(d.id, d.person_id).where(d.scope == kind, d.scope_id == scope_id, d.ended_at.is_(None))
    ).first()
    if cur is None:
        return None
    tx.conn.execute(update(data_owner).where(d.id == cur.id).values(ended_at=now))
    return int(cur.person_id)


def appoint(tx: audit.Tx, *, kind: str, code: str, person_id: int) -> int:
    """Name `person_id` the data owner of a source system or department (ending the current one).
    Returns the appointment's id. ValueError (zh / en) for an unknown scope or person."""
    conn = tx.conn
    scope_id = _scope_id(conn, kind, code)
    who = conn.execute(select(person.c.id, person.c.name_zh).where(person.c.id == person_id)).first()
    if who is None:
        raise ValueError(f"人员 {person_id} 不存在 / no person {person_id}")
    now = int(time.time())
    before = _end_current(tx, kind, scope_id, now)
    if before == person_id:
        raise ValueError(
            f"{who.name_zh} 已是 {code} 的数据负责人 / person {person_id} already owns {kind} {code}"
        )
    new_id = int(
        conn.execute(
            insert(data_owner).values(
                scope=kind,
                scope_id=scope_id,
                person_id=person_id,
                appointed_at=now,
                appointed_by=tx.actor.username[:96],
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    meta.move_now(conn, domain="staff")  # the pages that name owners keep answers on it
    tx.log(
        "owner.appoint",
        "data_owner",
        new_id,
        before=None if before is None else {"scope": kind, "code": code, "person_id": before},
        after={"scope": kind, "code": code, "person_id": person_id},
        detail={"scope": kind, "code": code, "person_id": person_id, "previous": before},
    )
    return new_id


def end(tx: audit.Tx, *, kind: str, code: str) -> None:
    """End the current appointment of a scope, leaving it without an owner (a gap the page shows)."""
    scope_id = _scope_id(tx.conn, kind, code)
    before = _end_current(tx, kind, scope_id, int(time.time()))
    if before is None:
        raise ValueError(f"{code} 当前没有数据负责人 / {kind} {code} has no current owner")
    meta.move_now(tx.conn, domain="staff")
    tx.log(
        "owner.end",
        "data_owner",
        f"{kind}:{code}",
        before={"scope": kind, "code": code, "person_id": before},
        detail={"scope": kind, "code": code, "person_id": before},
    )


def appoint_defaults(tx: audit.Tx) -> int:
    """When no appointment exists at all (a new pool), name the default owners of every department and
    source system (DEFAULT_TITLES); returns how many were named. A pool with any history is left alone."""
    conn = tx.conn
    if conn.execute(select(func.count()).select_from(data_owner)).scalar():
        return 0
    people = {
        (int(r.department_id), r.title_zh): int(r.id)
        for r in conn.execute(
            select(person.c.id, person.c.department_id, person.c.title_zh)
            .where(person.c.township_code.is_(None))
            .order_by(person.c.id.desc())  # the first person of a title wins
        )
    }
    now = int(time.time())
    rows = []
    for kind, table, dept_col in (
        ("department", department, department.c.id),
        ("source", source_system, source_system.c.department_id),
    ):
        for sid, dept_id in conn.execute(select(table.c.id, dept_col).order_by(table.c.id)):
            pid = people.get((int(dept_id), DEFAULT_TITLES[kind]))  # type: ignore[index]
            if pid is not None:
                rows.append(
                    {
                        "scope": kind,
                        "scope_id": int(sid),
                        "person_id": pid,
                        "appointed_at": now,
                        "appointed_by": tx.actor.username[:96],
                    }
                )
    if rows:
        conn.execute(insert(data_owner), rows)
        tx.log("owner.defaults", "data_owner", None, detail={"appointed": len(rows)})
    return len(rows)


def current() -> pl.DataFrame:
    """Every current appointment with the person's name, title and department. Not cached itself;
    appointments are staff data: each moves the "staff" version (and the data version)."""
    d, p = data_owner.c, person.c
    q = (
        select(
            d.scope,
            d.scope_id,
            d.person_id,
            p.name_zh,
            p.title_zh,
            p.department_id.label("person_dept_id"),
            d.appointed_at,
            d.appointed_by,
        )
        .join_from(data_owner, person, p.id == d.person_id)
        .where(d.ended_at.is_(None))
        .order_by(d.scope, d.scope_id)
    )
    return eng.read_frame(q, schema=OWNER_SCHEMA)


def listing() -> pl.DataFrame:
    """current() for people: one row per department and source system (owner columns null where none),
    with its code and names, departments first."""
    depts = meta.departments().select(
        pl.lit("department").alias("scope"),
        pl.col("id").cast(pl.Int16).alias("scope_id"),
        "code",
        "name_zh",
        "name_en",
    )
    srcs = meta.sources().select(
        pl.lit("source").alias("scope"), pl.col("id").alias("scope_id"), "code", "name_zh", "name_en"
    )
    own = current().rename({"name_zh": "owner_zh"})
    return pl.concat([depts, srcs]).join(own, on=["scope", "scope_id"], how="left")


def _quarantine_rates(first_day: int, last_day: int) -> pl.DataFrame:
    """Per source: rows quarantined on first arrival and rows received (accepted or replayed) by API and
    file batches that arrived in the window. Released corrections (channel "release") are not arrivals."""
    b, q = ingest_batch.c, quarantine.c
    window = and_(
        b.received_at >= day_start(first_day), b.received_at < day_start(last_day + 1), b.channel != "release"
    )
    got = eng.read_frame(
        select(b.source_id, func.sum(b.n_accepted + b.n_duplicate).label("received"))
        .where(window)
        .group_by(b.source_id),
        schema={"source_id": pl.Int16, "received": pl.Int64},
    )
    held = eng.read_frame(
        select(q.source_id, func.count().label("quarantined"))
        .join_from(quarantine, ingest_batch, b.id == q.batch_id)
        .where(window)
        .group_by(q.source_id),
        schema={"source_id": pl.Int16, "quarantined": pl.Int64},
    )
    return got.join(held, on="source_id", how="full", coalesce=True).with_columns(
        pl.col("received").fill_null(0), pl.col("quarantined").fill_null(0)
    )


SCORES = ("completeness", "timeliness", "uniqueness", "conformity", "quarantine_rate")
_DEFECT_OF = {
    "completeness": "n_missing",
    "timeliness": "n_late",
    "uniqueness": "n_dup",
    "conformity": "n_badcode",
}


def _scores(first_day: int, last_day: int, scope: Scope) -> pl.DataFrame:
    q = source_quality(scope=scope, first_day=first_day, last_day=last_day)
    denom = pl.when(pl.col("n") > 0).then(pl.col("n")).otherwise(None)
    scored = q.select(
        "source_id",
        "n",
        *[(1 - pl.col(c) / denom).alias(k) for k, c in _DEFECT_OF.items()],
    )
    rates = _quarantine_rates(first_day, last_day)
    total = pl.col("received") + pl.col("quarantined")
    return (
        scored.join(rates, on="source_id", how="left")
        .with_columns(pl.col("received").fill_null(0), pl.col("quarantined").fill_null(0))
        .with_columns(
            (pl.col("quarantined") / pl.when(total > 0).then(total).otherwise(None)).alias("quarantine_rate")
        )
    )


def card_scope(scope: Scope) -> Scope:
    """The scope a scorecard counts in: the viewer's, without a department head's department limit."""
    return Scope(scope.township_code, None, scope.max_class)


@cached
def scorecards(*, scope: Scope, first_day: int, last_day: int, home_department: int | None) -> pl.DataFrame:
    """One row per source system the card scope holds, over [first_day, last_day] and the window of the
    same length before it (`prev_*`): completeness, timeliness, uniqueness and code conformity (each
    1 - defect / records, from rollup_daily), the quarantine rate (quarantined / (received +
    quarantined), from quarantine and ingest_batch), and the source's and its department's owners.
    The sources of `home_department` come first, then the lowest score first."""
    sc = card_scope(scope)
    span = last_day - first_day + 1
    now = _scores(first_day, last_day, sc)
    before = _scores(first_day - span, first_day - 1, sc).select(
        "source_id", *[pl.col(k).alias(f"prev_{k}") for k in (*SCORES, "n")]
    )
    own = current()
    src_owner = own.filter(pl.col("scope") == "source").select(
        pl.col("scope_id").alias("source_id"),
        pl.col("person_id").alias("owner_id"),
        pl.col("name_zh").alias("owner_zh"),
        pl.col("title_zh").alias("owner_title_zh"),
    )
    dept_owner = own.filter(pl.col("scope") == "department").select(
        pl.col("scope_id").alias("dept_id"),
        pl.col("name_zh").alias("dept_owner_zh"),
        pl.col("title_zh").alias("dept_owner_title_zh"),
    )
    labels = meta.sources().select(
        pl.col("id").alias("source_id"),
        "code",
        "name_zh",
        "name_en",
        pl.col("department_id").cast(pl.Int16).alias("dept_id"),
        "dept_zh",
        "dept_en",
    )
    worst = pl.min_horizontal(*[pl.col(k) for k in _DEFECT_OF])
    home = pl.col("dept_id") == (home_department if home_department is not None else -1)
    return (
        labels.join(now, on="source_id", how="inner")
        .join(before, on="source_id", how="left")
        .join(src_owner, on="source_id", how="left")
        .join(dept_owner, on="dept_id", how="left")
        .with_columns(home.alias("home"), worst.alias("worst"))
        .sort(["home", "worst", "source_id"], descending=[True, False, False], nulls_last=True)
    )
