"""The write door and the responsibility chain, on SQLite and PostgreSQL: entries land with their change
or not at all, tampering is named, concurrent writers keep one chain, and a rebuild carries it."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, event, func, select, update

from queries import audit, users
from queries import engine as eng
from queries.generate.build import build_pool
from queries.generate.reference import DEMO_USERS
from queries.tables import app_user, audit_log
from tests.conftest import END, SEED, pg_writes_undone
from tests.pools import sqlite_pool_at

ACTOR = audit.Actor(None, "cli:tester", "system")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def door(writable_pool: str) -> str:
    """A pool the test may write and tamper with (tests/conftest.py `writable_pool`)."""
    return writable_pool


def _count() -> int:
    with eng.connect() as c:
        return int(c.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _head() -> int:
    with eng.connect() as c:
        return int(c.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one())


def test_entries_carry_who_what_and_digests_only(door: str) -> None:
    with audit.write(ACTOR) as tx:
        uid = users.create_user(tx, username="t.audit.a", password="a-long-password", role="leader")
    with audit.write(ACTOR) as tx:
        users.set_password(tx, username="t.audit.a", password="another-long-one")
        users.set_active(tx, username="t.audit.a", active=False)
    frame = audit.show(obj=f"app_user:{uid}")
    assert frame["action"].to_list() == ["user.deactivate", "user.password", "user.create"]
    assert set(frame["actor_username"]) == {"cli:tester"} and set(frame["actor_role"]) == {"system"}
    assert frame["before_digest"].to_list()[2] is None
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in frame["after_digest"])
    assert str(frame.schema["at"]) == "Datetime(time_unit='us', time_zone='Asia/Shanghai')"
    assert audit.show(obj=str(uid), action="user.create")["object_id"].to_list() == [str(uid)]
    page2 = audit.show(user="cli:tester", limit=2, offset=1)  # the admin page's pager reads it this way
    assert page2["action"].to_list() == ["user.password", "user.create"]
    with eng.connect() as c:
        dump = " ".join(str(v) for row in c.execute(select(audit_log)) for v in row)
    assert "a-long-password" not in dump and "another-long-one" not in dump and "$argon2" not in dump
    assert audit.verify().ok


def test_a_failed_change_leaves_no_entry_and_a_failed_entry_no_change(door: str) -> None:
    n = _count()
    with pytest.raises(RuntimeError, match="boom"), audit.write(ACTOR) as tx:
        users.create_user(tx, username="t.audit.b", password="a-long-password", role="leader")
        raise RuntimeError("boom")
    with pytest.raises(ValueError, match="secrets"), audit.write(ACTOR) as tx:
        tx.conn.execute(update(app_user).where(app_user.c.username == "admin").values(display_name="X"))
        tx.log("user.rename", "app_user", "admin", detail={"password": "leaked?"})
    with pytest.raises(RuntimeError, match="no entry"), audit.write(ACTOR) as tx:
        tx.conn.execute(update(app_user).where(app_user.c.username == "admin").values(display_name="X"))
    with eng.connect() as c:
        assert c.execute(select(app_user.c.id).where(app_user.c.username == "t.audit.b")).first() is None
        assert (
            c.execute(select(app_user.c.display_name).where(app_user.c.username == "admin")).scalar() != "X"
        )
    assert _count() == n and audit.verify().ok


def _append(k: int) -> list[int]:
    return [audit.log_read(ACTOR, "export.csv", "test", f"{k}-{i}", {"rows": i}) for i in range(k)]


@pytest.mark.parametrize("tamper", ["update", "rehash", "delete", "insert"])
def test_tampering_is_named(door: str, tamper: str) -> None:
    ids = _append(5)
    target = ids[2]
    raw = create_engine(door)
    with raw.begin() as c:
        if tamper == "update":
            c.execute(update(audit_log).where(audit_log.c.id == target).values(detail='{"rows":99}'))
        elif tamper == "rehash":  # a forger who knows the recipe re-seals the entry: the next one breaks
            row = dict(c.execute(select(audit_log).where(audit_log.c.id == target)).mappings().one())
            row["actor_username"] = "someone.else"
            c.execute(
                update(audit_log)
                .where(audit_log.c.id == target)
                .values(actor_username="someone.else", hash=audit.entry_hash(row))
            )
        elif tamper == "delete":
            c.execute(delete(audit_log).where(audit_log.c.id == target))
        else:
            head = c.execute(select(audit_log).where(audit_log.c.id == ids[-1])).mappings().one()
            forged = {**head, "id": ids[-1] + 1, "action": "user.create", "prev_hash": head["hash"]}
            c.execute(audit_log.insert().values(**forged))
    raw.dispose()
    verdict = audit.verify()
    assert verdict.first_break is not None
    expected = {"update": target, "rehash": target + 1, "delete": target, "insert": ids[-1] + 1}[tamper]
    assert verdict.first_break.entry_id == expected
    reason = {"update": "altered", "rehash": "prev_hash", "delete": "removed", "insert": "altered"}[tamper]
    assert reason in verdict.first_break.en and str(expected) in verdict.first_break.zh


def test_concurrent_appends_keep_one_chain(door: str) -> None:
    before, start = _count(), _head()
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(8):
                audit.log_read(ACTOR, "record.reveal", "record", f"{k}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count() == before + 32 and _head() == start + 32
    verdict = audit.verify()
    assert verdict.ok and verdict.entries == before + 32


def test_login_and_logout_are_on_the_chain(door: str) -> None:
    viewer = users.authenticate(username="admin", password="admin-demo-2026", remote_addr="10.0.0.7")
    assert viewer is not None
    assert users.authenticate(username="admin", password="wrong-password", remote_addr="10.0.0.7") is None
    users.sign_out(viewer=viewer)
    frame = audit.show(user="admin", action="session.")
    assert frame["action"].to_list()[:2] == ["session.end", "session.start"]
    assert frame["detail"].to_list()[1] == '{"remote_addr":"10.0.0.7"}'
    assert frame["actor_role"].to_list()[0] == "admin" and audit.verify().ok


def test_the_chain_survives_a_rebuild(tmp_path: Path) -> None:
    url = sqlite_pool_at(tmp_path / "pool.sqlite").url
    eng.configure(url)
    _append(3)
    with eng.connect() as c:
        chain = c.execute(select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id)).all()
    assert len(chain) == len(DEMO_USERS) + 1 + 3  # the demo accounts, the default data owners, three reads
    build_pool(url, scale="test", seed=SEED + 1, end=END, progress=False, demo_users=True)
    eng.configure(url)
    with eng.connect() as c:
        after = c.execute(select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id)).all()
    assert after == chain and audit.verify().ok
    with eng.write() as c:  # a demo account removed by hand is re-created on the next rebuild: logged
        c.execute(delete(app_user).where(app_user.c.username == "operator"))
    build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=True)
    eng.configure(url)
    assert audit.verify().entries == len(chain) + 1 and audit.show(limit=1)["action"][0] == "user.create"


@pytest.mark.postgres
def test_the_chain_survives_a_rebuild_postgres(pg_pool: tuple[str, object]) -> None:
    with pg_writes_undone(str(pg_pool[0])) as url:
        _append(2)
        verdict = audit.verify()
        build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=True)
        assert audit.verify() == verdict


def test_no_code_path_updates_or_deletes_the_log() -> None:
    """The app may only append: no UPDATE or DELETE of audit_log anywhere in the product's code."""
    pattern = re.compile(r"(update|delete)\(\s*audit_log|(UPDATE|DELETE\s+FROM)\s+audit_log", re.IGNORECASE)
    offenders = [
        str(p.relative_to(REPO))
        for folder in ("queries", "dashboard")
        for p in (REPO / folder).rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert not [n for n in dir(audit) if n.startswith(("update", "delete", "remove", "edit"))]


def test_sqlite_holds_the_write_lock_when_it_reads_the_head(tmp_path: Path) -> None:
    """A read-only door (log_read) writes nothing before the head is read, so sqlite3 has no transaction
    open yet: the door must open one that holds the write lock, or two appenders could share a head."""
    url = sqlite_pool_at(tmp_path / "pool.sqlite", demo_users=False).url
    eng.configure(url)
    seen: list[bool] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM audit_log ORDER BY audit_log.id DESC" in statement:
            seen.append(conn.connection.dbapi_connection.in_transaction)

    event.listen(eng.engine(), "before_cursor_execute", spy)
    try:
        audit.log_read(ACTOR, "export.csv", "record", None, {"rows": 3})
    finally:
        event.remove(eng.engine(), "before_cursor_execute", spy)
    assert seen == [True] and audit.verify().entries == 2  # the build's default data owners, then the read
