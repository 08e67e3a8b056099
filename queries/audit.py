"""The one write door and the responsibility log: every write and every sensitive read appends an entry
to a SHA-256 hash chain in the same transaction as the change.

    with audit.write(actor) as tx:        # engine.write(): one transaction
        tx.conn.execute(...)              # the change
        tx.log("user.create", "app_user", uid, after={...}, detail={...})

The log keeps digests of the object before and after, never the values, so no password, hash or
sensitive field lands in it. This module has no update or delete of `audit_log`: a row changed, removed
or slipped in by hand breaks the chain, and verify() names it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select

from queries import engine as eng
from queries.scope import Viewer
from queries.tables import audit_log

GENESIS = "0" * 64
# pg_advisory_xact_lock key ("audit" in ASCII): every appender takes it before reading the chain head.
PG_LOCK_KEY = 0x6175646974
# Keys refused in `detail`: the detail is stored as written, so secrets must never reach it.
SECRET_WORDS = ("password", "hash", "token", "secret")
CST = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Actor:
    """Who acts, as they were at the time (a later rename or role change does not rewrite history)."""

    user_id: int | None
    username: str
    role: str

    @classmethod
    def of(cls, viewer: Viewer) -> Actor:
        return cls(viewer.user_id, viewer.username, viewer.role)

    @classmethod
    def cli(cls) -> Actor:
        """The operator at the server's shell: no app account, so the OS user is the name on the entry."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # a container user with no passwd entry and no $USER
            who = "unknown"
        return cls(None, f"cli:{who}", "system")


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8 kept, so a digest never depends on order."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else hashlib.sha256(canonical(value).encode()).hexdigest()


HASHED_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "before_digest",
    "after_digest",
    "detail",
    "prev_hash",
)


def entry_hash(row: Mapping[Any, Any]) -> str:
    """SHA-256 of the entry's fields (prev_hash included), so each entry seals the one before it."""
    fields = [row[k] for k in HASHED_FIELDS]
    fields[0], fields[1] = int(fields[0]), int(fields[1])
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def _check_detail(detail: Mapping[str, Any] | None) -> str | None:
    if detail is None:
        return None
    bad = [k for k in detail if any(w in str(k).lower() for w in SECRET_WORDS)]
    if bad:
        raise ValueError(f"日志明细不得含敏感字段 {bad} / the log detail must not carry secrets: {bad}")
    return canonical(dict(detail))


@dataclass
class Tx:
    """A transaction at the door: the connection to change things on, and the log to say so."""

    conn: Connection
    actor: Actor
    entries: list[int] = field(default_factory=list)

    def log(
        self,
        action: str,
        object_type: str,
        object_id: object = None,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        detail: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> int:
        """Append one entry now, in this transaction; returns its id."""
        who = actor or self.actor
        row: dict[str, Any] = {
            "at": int(time.time()),
            "actor_id": who.user_id,
            "actor_username": who.username[:96],
            "actor_role": who.role[:24],
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "before_digest": digest(before),
            "after_digest": digest(after),
            "detail": _check_detail(detail),
        }
        prev_id, prev_hash = _lock_and_read_head(self.conn)
        row["id"], row["prev_hash"] = prev_id + 1, prev_hash
        row["hash"] = entry_hash(row)
        self.conn.execute(insert(audit_log).values(**row))
        self.entries.append(row["id"])
        return int(row["id"])


def _lock_and_read_head(conn: Connection) -> tuple[int, str]:
    """The chain head, read only once this transaction holds the log's write lock, so two writers can
    never both extend the same head (the chain would fork; the primary key would refuse one anyway)."""
    eng.exclusive(conn, PG_LOCK_KEY)
    head = conn.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    return (0, GENESIS) if head is None else (int(head.id), str(head.hash))


@contextmanager
def write(actor: Actor) -> Iterator[Tx]:
    """The door: one engine.write() transaction for the change and its log entries, committed together.

    A body that logs nothing is rolled back: a write nobody answers for is the bug this door exists for.
    """
    with eng.write() as conn:
        tx = Tx(conn, actor)
        yield tx
        if not tx.entries:
            raise RuntimeError("写入未记录责任日志, 已回滚 / a write logged no entry; it was rolled back")


def joined(conn: Connection, actor: Actor) -> Tx:
    """The door on a transaction the caller already holds: the rebuild's (it writes the file being built,
    not the live pool) and the login's (its login_event row and the session.start entry land together)."""
    return Tx(conn, actor)


def log_read(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Record a sensitive read (an export, a record's sensitive fields revealed) on the same chain."""
    with write(actor) as tx:
        return tx.log(action, object_type, object_id, detail=detail)


@dataclass(frozen=True)
class Break:
    """The first entry where the chain fails, and why."""

    entry_id: int
    zh: str
    en: str


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify() -> Verdict:
    """Walk the chain in id order, recomputing every hash; the first entry altered, removed or inserted."""
    cols = [audit_log.c[k] for k in (*HASHED_FIELDS, "hash")]
    expected_id, expected_prev, n = 1, GENESIS, 0
    with eng.connect() as conn:
        for row in conn.execute(select(*cols).order_by(audit_log.c.id)).mappings():
            n += 1
            rid = int(row["id"])
            if rid > expected_id:
                return Verdict(
                    n,
                    expected_prev,
                    Break(
                        expected_id,
                        f"条目 {expected_id} 缺失 (被删除), 下一条是 {rid}",
                        f"entry {expected_id} is missing (removed); the next one is {rid}",
                    ),
                )
            if rid < expected_id:
                return Verdict(
                    n,
                    expected_prev,
                    Break(
                        rid,
                        f"条目 {rid} 的编号不在链上 (插入)",
                        f"entry {rid} has an id off the chain (inserted)",
                    ),
                )
            if row["prev_hash"] != expected_prev:
                return Verdict(
                    n,
                    expected_prev,
                    Break(
                        rid,
                        f"条目 {rid} 的前序哈希与条目 {rid - 1} 不符 (其前有插入或删除)",
                        f"entry {rid}'s prev_hash does not match entry {rid - 1} (an entry was inserted or removed)",
                    ),
                )
            if entry_hash(row) != row["hash"]:
                return Verdict(
                    n,
                    expected_prev,
                    Break(
                        rid,
                        f"条目 {rid} 的内容与其哈希不符 (被修改或伪造)",
                        f"entry {rid} no longer matches its hash (altered or forged)",
                    ),
                )
            expected_id, expected_prev = rid + 1, str(row["hash"])
    return Verdict(n, expected_prev, None)


SHOW_SCHEMA = {
    "id": pl.Int64,
    "at": pl.Datetime("us", "Asia/Shanghai"),
    "actor_id": pl.Int64,
    "actor_username": pl.Utf8,
    "actor_role": pl.Utf8,
    "action": pl.Utf8,
    "object_type": pl.Utf8,
    "object_id": pl.Utf8,
    "before_digest": pl.Utf8,
    "after_digest": pl.Utf8,
    "detail": pl.Utf8,
    "hash": pl.Utf8,
}


def show(
    *,
    user: str | None = None,
    action: str | None = None,
    obj: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> pl.DataFrame:
    """Entries newest first. `action` ending in "." matches a family ("user."); `obj` is an object id
    or "type:id". Not cached: the log grows with every write and the data version does not move with it.
    """
    c = audit_log.c
    stmt = select(*[c[k] for k in SHOW_SCHEMA]).order_by(c.id.desc())
    if user:
        stmt = stmt.where(c.actor_username == user)
    if action:
        stmt = stmt.where(c.action.startswith(action) if action.endswith(".") else c.action == action)
    if obj:
        kind, sep, ident = obj.partition(":")
        if sep:
            stmt = stmt.where(c.object_type == kind, c.object_id == ident)
        else:
            stmt = stmt.where(c.object_id == obj)
    if since is not None:
        stmt = stmt.where(c.at >= int(since.timestamp()))
    if until is not None:
        stmt = stmt.where(c.at < int(until.timestamp()))
    stmt = stmt.limit(max(1, min(int(limit), 10_000))).offset(max(0, int(offset)))
    frame = eng.read_frame(stmt, schema={k: v for k, v in SHOW_SCHEMA.items() if k != "at"})
    return frame.with_columns(
        (pl.col("at").cast(pl.Int64) * 1_000_000)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone("Asia/Shanghai")
    )
