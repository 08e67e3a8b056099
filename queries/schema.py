"""Create and upgrade the pool's schema with Alembic, programmatically (no alembic.ini to carry around)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from queries.errors import PoolMissing, SchemaOutdated

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade in one transaction (PostgreSQL DDL is transactional; SQLite per statement). Returns (from, to)."""
    with engine.begin() as conn:
        before = current_revision(conn)
        command.upgrade(_config(conn), revision)
        after = current_revision(conn)
    assert after is not None
    return before, after


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    has_tables: bool

    @property
    def ok(self) -> bool:
        return self.current == self.head


def status(engine: Engine) -> SchemaStatus:
    with engine.connect() as conn:
        current = current_revision(conn)
        has_tables = bool(inspect(conn).get_table_names())
    return SchemaStatus(current=current, head=head_revision(), has_tables=has_tables)


def require_current(engine: Engine) -> SchemaStatus:
    """Raise a PoolError that says what to run when the pool is empty or older than this code."""
    st = status(engine)
    if st.current is None:
        raise PoolMissing(
            "数据池为空, 尚未建立",
            "The pool is empty: no schema yet",
            "run `command-center seed --scale demo` (or `command-center demo`)",
        )
    if st.current != st.head:
        known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
        if st.current not in known:
            raise SchemaOutdated(
                f"数据池结构版本 {st.current} 比本程序新",
                f"The pool's schema {st.current} is newer than this program ({st.head})",
                "upgrade the program",
            )
        raise SchemaOutdated(
            f"数据池结构版本 {st.current} 较旧, 需要升级到 {st.head}",
            f"The pool's schema {st.current} is older than this program's {st.head}",
            "run `command-center db upgrade` (data is kept)",
        )
    return st
