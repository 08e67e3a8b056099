"""One door to the pool: an engine per worker process, bound parameters only, polars frames out."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool
from sqlalchemy.sql import Executable, sqltypes

from queries.errors import PoolMissing, PoolSwitching, PoolUnavailable, QueryTimeout


@dataclass
class _State:
    url: str = ""
    timeout_ms: int = 15000
    engine: Engine | None = None
    pid: int = -1


_state = _State()
_lock = threading.Lock()
_counted = threading.local()


def statements_here() -> int:
    """How many statements this thread has run on the pool so far (meta.consistent compares two counts:
    equal means everything in between came from the cache)."""
    return int(getattr(_counted, "n", 0))


def _count(*_: Any) -> None:
    _counted.n = getattr(_counted, "n", 0) + 1


def configure(url: str, *, timeout_ms: int = 15000) -> None:
    """Point this process at a pool. The engine itself is made lazily, after gunicorn forks."""
    with _lock:
        if _state.engine is not None and (_state.url != url or _state.pid != os.getpid()):
            _state.engine.dispose(close=_state.pid == os.getpid())
            _state.engine = None
        _state.url = url
        _state.timeout_ms = timeout_ms


def configured_url() -> str:
    return _state.url


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    return Path(url.split("///", 1)[1]) if "///" in url else None


def make_engine(url: str, *, timeout_ms: int = 15000, create: bool = False) -> Engine:
    """An engine with a per-statement time limit. SQLite opens read-write but never creates a file."""
    path = sqlite_path(url)
    if path is not None:
        mode = "rwc" if create else "rw"

        def connect() -> _SQLiteConn:
            file_id = _file_id(path)  # before opening: a swap in between is seen at the next checkout
            try:
                conn = sqlite3.connect(
                    f"file:{path}?mode={mode}",
                    uri=True,
                    check_same_thread=False,
                    timeout=10,
                    factory=_SQLiteConn,
                )
            except sqlite3.OperationalError:
                if not path.exists():
                    raise PoolMissing(
                        f"数据池文件不存在: {path}",
                        f"The pool file does not exist: {path}",
                        "run `command-center seed` (or `command-center demo`)",
                    ) from None
                raise
            conn.set_progress_handler(conn.past_deadline, 20000)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.file_id = file_id
            return conn

        if create:  # the generator's own engine (pragmas for a bulk build): a fresh open per checkout
            engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
        else:
            # Connections are kept: a fresh one parses the pool's schema on its first statement, 3 ms
            # on the full pool, against 0.02 ms for a kept one, and a warm request makes several. A pool
            # file swapped by `seed` (a new file renamed into place) or removed is still seen at once:
            # each checkout compares the file's identity with the one the connection opened.
            engine = create_engine(
                "sqlite://", creator=connect, poolclass=QueuePool, pool_size=6, max_overflow=10
            )

            def same_file(dbapi_conn: Any, record: Any, proxy: Any) -> None:
                opened = getattr(dbapi_conn, "file_id", None)
                try:
                    now = _file_id(path)
                except OSError:
                    now = None
                if opened is None or now != opened:
                    raise DisconnectionError("the pool file was replaced or removed")

            event.listen(engine, "checkout", same_file)

        def arm(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, many: bool) -> None:
            raw = conn.connection.dbapi_connection
            if isinstance(raw, _SQLiteConn):
                raw.deadline = time.monotonic() + timeout_ms / 1000.0

        event.listen(engine, "before_cursor_execute", arm)
        event.listen(engine, "before_cursor_execute", _count)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # jit=off: dashboard aggregates are small; PostgreSQL's JIT spent ~20 ms compiling each one.
        connect_args = {"connect_timeout": 5, "options": f"-c statement_timeout={int(timeout_ms)} -c jit=off"}
    engine = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4, connect_args=connect_args)
    event.listen(engine, "before_cursor_execute", _count)
    return engine


def _file_id(path: Path) -> tuple[int, int] | None:
    """The file's device and inode (None when absent): a renamed-in pool file has a new one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


class _SQLiteConn(sqlite3.Connection):
    """sqlite3 has no statement timeout: a progress handler interrupts a statement past its deadline,
    which is re-armed before every statement (see make_engine)."""

    deadline = 0.0
    file_id: tuple[int, int] | None = None

    def past_deadline(self) -> int:
        return 1 if self.deadline and time.monotonic() > self.deadline else 0


def engine() -> Engine:
    """This process's engine (made on first use in each process, so forked workers never share sockets)."""
    if not _state.url:
        raise PoolUnavailable("数据池未配置", "The pool is not configured", "set CC_DATABASE_URL")
    with _lock:
        if _state.engine is None or _state.pid != os.getpid():
            _state.engine = make_engine(_state.url, timeout_ms=_state.timeout_ms)
            _state.pid = os.getpid()
        return _state.engine


@contextmanager
def connect() -> Iterator[Connection]:
    """A connection with pool errors turned into PoolError subclasses that pages can show."""
    try:
        with engine().connect() as conn:
            yield conn
    except (PoolMissing, PoolUnavailable):
        raise
    except OperationalError as exc:
        _raise_pool_error(exc)
    except DBAPIError as exc:
        if "timeout" in str(exc).lower() or "interrupted" in str(exc).lower():
            _raise_timeout(exc)
        raise


@contextmanager
def begin() -> Iterator[Connection]:
    """A transaction, with the same error handling as connect() (timeouts become QueryTimeout)."""
    try:
        with engine().begin() as conn:
            yield conn
    except (PoolMissing, PoolUnavailable, PoolSwitching):
        raise
    except OperationalError as exc:
        _raise_pool_error(exc)
    except DBAPIError as exc:
        if "timeout" in str(exc).lower() or "interrupted" in str(exc).lower():
            _raise_timeout(exc)
        raise


SUPERSEDED_KEY = "superseded_at"


@contextmanager
def write() -> Iterator[Connection]:
    """The transaction every write of user data goes through.

    `seed` rebuilds a SQLite pool in a new file and, holding the old file's write lock, copies the user
    data across, marks the old file superseded and renames the new one into place. A writer that waited
    for that lock would otherwise commit into the old file, which nobody reads again: its row would be
    lost silently. So the mark is read after the body's statements (by then this transaction holds the
    write lock, so the answer cannot change before commit) and a write into a superseded file is rolled
    back with a message to try again. On PostgreSQL a rebuild never replaces user tables, so the mark
    is never set there.
    """
    from sqlalchemy import select

    from queries.tables import pool_meta

    with begin() as conn:
        yield conn
        if conn.dialect.name == "sqlite":
            mark = conn.execute(select(pool_meta.c.value).where(pool_meta.c.key == SUPERSEDED_KEY)).first()
            if mark is not None:
                raise PoolSwitching(
                    "数据池刚刚重建, 本次写入未保存, 请重试",
                    "The pool was just rebuilt; this write was not saved, please try again",
                    "the new pool is in place now; repeating the action saves it there",
                )


def exclusive(conn: Connection, pg_key: int) -> None:
    """Hold a write lock for the rest of this transaction before reading what the write depends on.

    PostgreSQL: the transaction-scoped advisory lock `pg_key` (writers of one kind queue on it).
    SQLite: the database's write lock. sqlite3 opens a transaction only at the first INSERT/UPDATE/
    DELETE, and that statement takes the lock; with no write yet, a read would run unlocked: take it now.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": pg_key})
    elif conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _raise_timeout(exc: Exception) -> None:
    raise QueryTimeout(
        "查询超时", "The query took too long", f"limit {_state.timeout_ms} ms (CC_QUERY_TIMEOUT_MS)"
    ) from exc


def _raise_pool_error(exc: OperationalError) -> None:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "interrupted" in text or "statement timeout" in text or "canceling statement" in text:
        _raise_timeout(exc)
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        raise PoolMissing(
            "数据池尚未建立或结构不完整",
            "The pool has no tables yet",
            "run `command-center seed` or `command-center db upgrade`",
        ) from exc
    raise PoolUnavailable(
        "无法连接数据池", "The pool database cannot be reached", text.splitlines()[0][:200]
    ) from exc


def read_frame(
    stmt: Executable | Any,
    params: Mapping[str, Any] | None = None,
    *,
    schema: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
) -> pl.DataFrame:
    """Run one statement (bound parameters only) and return a polars frame with a fixed schema.

    Where no column needs SQLAlchemy's result processing (`_plain`), the rows come straight from the
    driver's cursor: building a Row object per row is three quarters of the time of a large read
    (170,000 cases: 570 ms through SQLAlchemy's rows, 150 ms from the cursor)."""
    schema_map = dict(schema or {})
    with connect() as conn:
        result = conn.execute(stmt, dict(params or {}))
        columns = list(result.keys())
        cursor = getattr(result, "cursor", None)
        if cursor is not None and _plain(stmt, schema_map):
            rows = cursor.fetchall()
            result.close()
        else:
            rows = result.fetchall()
    if schema is None:
        return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
    frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
    # Decimals (PostgreSQL sums) and SQLite's loose types are cast here, once, to the declared dtypes.
    return frame.select([pl.col(c).cast(schema_map[c]) if c in schema_map else pl.col(c) for c in columns])


# Types whose values the drivers (sqlite3, psycopg) hand over as SQLAlchemy would: numbers and text.
_PLAIN_TYPES = (sqltypes.Integer, sqltypes.Float, sqltypes.String, sqltypes.NullType)


def _plain(stmt: Any, schema: Mapping[str, Any]) -> bool:
    """True when every column of a SELECT is a number or text as the driver returns it, or a boolean the
    schema casts (SQLite hands over 0/1): then SQLAlchemy's per-row processing changes nothing. Dates,
    decimals with `asdecimal=False`, JSON and anything else keep the usual path."""
    cols = getattr(stmt, "selected_columns", None)
    if cols is None:
        return False
    for col in cols:
        t = col.type
        if isinstance(t, sqltypes.Numeric) and not isinstance(t, sqltypes.Float):
            return False  # Numeric(asdecimal=...) converts
        if isinstance(t, sqltypes.Boolean):
            if schema.get(col.name) is not pl.Boolean:
                return False
            continue
        if not isinstance(t, _PLAIN_TYPES) or isinstance(t, sqltypes.Enum | sqltypes.JSON):
            return False
        if isinstance(t, sqltypes.Float) and t.asdecimal:
            return False
    return True
