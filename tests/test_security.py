"""Security below the web layer: the redirect check, the login throttle, session versions, account
rules, file modes, the cookie setting, demo accounts only on request, and the schema upgrade."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, insert, select

from dashboard.auth import safe_next
from dashboard.settings import SettingsError, load
from queries import audit, schema, users
from queries import engine as eng
from queries.engine import make_engine
from queries.tables import app_user, department, login_event

NOW = 1_900_000_000


@pytest.mark.parametrize(
    "value",
    [
        "/\t/evil.example",
        "/\n/x",
        "/\r\n/x",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil",
        "https://evil.example/",
        "javascript:alert(1)",
        " /x",
        "/x y",
        "/x\x00",
        "/\u2028/evil.example",
        "",
        None,
    ],
)
def test_safe_next_refuses_anything_but_a_plain_path(value: str | None) -> None:
    assert safe_next(value) == "/"


def test_safe_next_keeps_a_plain_path() -> None:
    assert safe_next("/pool?kiosk=1&playlist=overview:30") == "/pool?kiosk=1&playlist=overview:30"


@pytest.fixture
def events(sqlite_configured: str) -> Iterator[Connection]:
    """Login events written for one test and removed after it: the session pool stays as it was."""
    engine = create_engine(sqlite_configured)
    with engine.begin() as conn:
        first = conn.execute(select(login_event.c.id).order_by(login_event.c.id.desc())).scalar() or 0
    with engine.connect() as conn:
        yield conn
    with engine.begin() as conn:
        conn.execute(login_event.delete().where(login_event.c.id > first))


def _fail(conn: Connection, name: str, addr: str, at: int, ok: bool = False) -> None:
    conn.execute(insert(login_event).values(username=name, at=at, ok=ok, remote_addr=addr))
    conn.commit()


def test_throttle_per_name_and_address_grows_and_resets_on_success(events: Connection) -> None:
    wait = lambda: users.login_wait(username="t.pair", remote_addr="198.51.100.1", now=NOW)  # noqa: E731
    for _ in range(users.FREE_PER_PAIR - 1):
        _fail(events, "t.pair", "198.51.100.1", NOW)
    assert wait() == 0
    seen = []
    for _ in range(5):
        _fail(events, "t.pair", "198.51.100.1", NOW)
        seen.append(wait())
    assert seen == [1, 2, 4, 8, 16]  # doubling with every further failure
    _fail(events, "t.pair", "198.51.100.1", NOW, ok=True)
    assert wait() == 0  # the right password starts the count afresh


def test_throttle_per_address_spans_names_and_is_capped(events: Connection) -> None:
    for i in range(users.FREE_PER_ADDRESS + 30):
        _fail(events, f"t.spray{i}", "198.51.100.2", NOW)
    assert users.login_wait(username="t.other", remote_addr="198.51.100.2", now=NOW) == users.MAX_WAIT_ADDRESS
    assert users.login_wait(username="t.other", remote_addr="198.51.100.3", now=NOW) == 0
    # the window forgets: a quarter of an hour later the address may try again
    later = NOW + users.WINDOW_S + users.MAX_WAIT_ADDRESS
    assert users.login_wait(username="t.other", remote_addr="198.51.100.2", now=later) == 0


def test_a_botnet_cannot_keep_the_owner_out(events: Connection) -> None:
    _fail(events, "t.owner", "203.0.113.9", NOW - 86400, ok=True)  # the owner's desk, yesterday
    for i in range(200):
        _fail(events, "t.owner", f"198.51.100.{i % 250}", NOW)
    from_elsewhere = users.login_wait(username="t.owner", remote_addr="192.0.2.200", now=NOW)
    assert 0 < from_elsewhere <= users.MAX_WAIT_NAME <= 60
    assert users.login_wait(username="t.owner", remote_addr="203.0.113.9", now=NOW) == 0


@pytest.fixture
def conn(sqlite_configured: str) -> Iterator[Connection]:
    """A transaction rolled back after the test."""
    with create_engine(sqlite_configured).connect() as c:
        tx = c.begin()
        yield c
        tx.rollback()


def test_department_head_needs_a_real_department(conn: Connection) -> None:
    with pytest.raises(ValueError, match="needs a department"):
        users.create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="t.dh",
            password="long-enough",
            role="department_head",
        )
    missing = 1 + int(conn.execute(select(department.c.id).order_by(department.c.id.desc())).scalar() or 0)
    with pytest.raises(ValueError, match=f"no department {missing}"):
        users.create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="t.dh",
            password="long-enough",
            role="department_head",
            department_id=missing,
        )
    with pytest.raises(ValueError, match="no township 532503999"):
        users.create_user(
            audit.joined(conn, audit.Actor.cli()),
            username="t.ld",
            password="long-enough",
            role="leader",
            township_code=532503999,
        )
    assert users.create_user(
        audit.joined(conn, audit.Actor.cli()),
        username="t.ld",
        password="long-enough",
        role="leader",
        township_code=532503001,
    )


def test_cli_refuses_a_department_head_without_department(
    sqlite_pool: tuple[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    url, _ = sqlite_pool
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pass\n"))
    assert main(["--url", url, "user", "t.cli", "--role", "department_head", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "部门负责人必须指定部门" in err and "needs a department" in err


def test_session_version_ends_old_sessions(conn: Connection, sqlite_configured: str) -> None:
    uid = users.create_user(
        audit.joined(conn, audit.Actor.cli()), username="t.sv", password="long-enough", role="leader"
    )
    version = conn.execute(select(app_user.c.session_version).where(app_user.c.id == uid)).scalar()
    assert version == 0
    users.set_password(audit.joined(conn, audit.Actor.cli()), username="t.sv", password="another-long-one")
    users.set_active(audit.joined(conn, audit.Actor.cli()), username="t.sv", active=False)
    after = conn.execute(select(app_user.c.session_version).where(app_user.c.id == uid)).scalar()
    assert after == 2


def test_viewer_for_session_checks_the_version(sqlite_configured: str) -> None:
    with eng.connect() as c:
        uid, version = c.execute(
            select(app_user.c.id, app_user.c.session_version).where(app_user.c.username == "leader")
        ).one()
    assert users.viewer_for_session(user_id=uid, version=version) is not None
    assert users.viewer_for_session(user_id=uid, version=version - 1) is None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_key_and_instance_folder_are_private(tmp_path: Path) -> None:
    inst = tmp_path / "instance"
    load({"CC_INSTANCE_DIR": str(inst)})
    assert _mode(inst) == 0o700 and _mode(inst / "secret_key") == 0o600
    # an instance made by an older version, readable by everyone, is tightened on the next start
    inst.chmod(0o755)
    (inst / "secret_key").chmod(0o644)
    load({"CC_INSTANCE_DIR": str(inst)})
    assert _mode(inst) == 0o700 and _mode(inst / "secret_key") == 0o600


def test_cookie_secure_setting(tmp_path: Path) -> None:
    assert load({"CC_INSTANCE_DIR": str(tmp_path)}).cookie_secure is False
    assert load({"CC_INSTANCE_DIR": str(tmp_path), "CC_COOKIE_SECURE": "1"}).cookie_secure is True
    with pytest.raises(SettingsError, match="CC_COOKIE_SECURE"):
        load({"CC_INSTANCE_DIR": str(tmp_path), "CC_COOKIE_SECURE": "maybe"})


def test_demo_accounts_only_on_request_and_serve_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard import cli

    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    assert cli.main(["seed", "--scale", "test", "--quiet", "--end", "2026-11-20T14:30"]) == 0
    assert "admin-demo-2026" not in capsys.readouterr().out
    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    with create_engine(url).connect() as c:
        assert c.execute(select(app_user.c.username)).all() == []
    s = load()
    cli._warn_demo_passwords(s)
    assert "WARNING" not in capsys.readouterr().err
    with create_engine(url).begin() as c:
        users.create_user(
            audit.joined(c, audit.Actor.cli()), username="admin", password="admin-demo-2026", role="admin"
        )
    cli._warn_demo_passwords(s)
    err = capsys.readouterr().err
    assert "WARNING: published demo passwords still work: admin" in err and "警告" in err
    assert cli.main(["seed", "--scale", "test", "--quiet", "--no-demo-users"]) == 0  # still accepted


def test_an_identity_pool_upgrades_keeping_its_accounts(tmp_path: Path) -> None:
    e = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}", create=True)
    schema.upgrade(e, "0002")
    with e.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO app_user (username, display_name, role, password_hash, active, created_at)"
            " VALUES ('kept', 'Kept', 'leader', 'x', 1, 0)"
        )
    schema.upgrade(e)
    with e.connect() as c:
        row = c.execute(select(app_user.c.username, app_user.c.session_version)).one()
    assert tuple(row) == ("kept", 0)
