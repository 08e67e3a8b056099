"""The command line: every mistake gets a clear message and an exit code; nothing is half-written."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from dashboard.cli import main
from queries.tables import app_user


@pytest.fixture
def inst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    return tmp_path


def test_seed_builds_a_pool_and_prints_accounts(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    out = capsys.readouterr().out
    assert "records: 6" in out and "admin-demo-2026" in out and "injected defects:" in out
    assert (inst / "pool.sqlite").exists()
    assert main(["db", "status"]) == 0
    assert "ok" in capsys.readouterr().out


def test_bad_scale_and_bad_end(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "huge"]) == 2
    assert "choose one of: test, demo, full" in capsys.readouterr().err
    assert main(["seed", "--scale", "test", "--end", "yesterday"]) == 2
    assert "not an ISO date-time" in capsys.readouterr().err
    assert not (inst / "pool.sqlite").exists()


def test_serve_without_a_pool_says_what_to_run(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 3
    err = capsys.readouterr().err
    assert "command-center seed" in err and "does not exist" in err
    assert not (inst / "pool.sqlite").exists()


def test_serve_against_an_unreachable_database(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "postgresql+psycopg://nobody@127.0.0.1:1/none", "serve"]) == 3
    assert "cannot reach the pool" in capsys.readouterr().err


def test_user_add(inst: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "test", "--quiet", "--no-demo-users", "--end", "2026-11-20T14:30"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-strong-passphrase\n"))
    assert (
        main(
            ["user", "li.na", "--role", "department_head", "--department", "agriculture", "--password-stdin"]
        )
        == 0
    )
    with create_engine(f"sqlite:///{inst / 'pool.sqlite'}").connect() as conn:
        row = conn.execute(select(app_user).where(app_user.c.username == "li.na")).one()
    assert (
        row.role == "department_head" and row.department_id == 4 and row.password_hash.startswith("$argon2")
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-strong-passphrase\n"))
    assert main(["user", "li.na", "--role", "leader", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main(["user", "wang", "--role", "emperor", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["user", "wang", "--role", "leader", "--password-stdin"]) == 2
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough-pass\n"))
    assert main(["user", "wang", "--role", "leader", "--department", "nope", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert (
        "exists already" in err
        and "unknown role" in err
        and "at least 8" in err
        and "unknown department" in err
    )


def test_account_password_and_deactivation(
    inst: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the serve warning tells an operator to do with a published demo password."""
    from queries import engine as eng
    from queries.generate.reference import DEMO_USERS
    from queries.users import working_passwords

    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    demo = [(u, p) for u, _, _, _, _, p in DEMO_USERS]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-new-long-secret\n"))
    assert main(["account", "admin", "--set-password", "--password-stdin"]) == 0
    assert main(["account", "operator", "--deactivate"]) == 0
    url = f"sqlite:///{inst / 'pool.sqlite'}"
    eng.configure(url)
    with eng.connect() as conn:
        still = working_passwords(conn, demo)
    assert "admin" not in still and "leader" in still
    with create_engine(url).connect() as conn:
        assert (
            conn.execute(select(app_user.c.active).where(app_user.c.username == "operator")).scalar() is False
        )
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["account", "admin", "--set-password", "--password-stdin"]) == 2
    assert main(["account", "nobody", "--deactivate"]) == 2
    err = capsys.readouterr().err
    assert "at least 8" in err and "no user 'nobody'" in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("command-center")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for sub in ("seed", "serve", "demo", "db", "user", "bench"):
        assert sub in out


def test_serve_on_an_older_pool_says_upgrade(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from queries import schema
    from queries.engine import make_engine

    eng = make_engine(f"sqlite:///{inst / 'pool.sqlite'}", create=True)
    schema.upgrade(eng, "0001")
    eng.dispose()
    assert main(["serve"]) == 3
    assert "command-center db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert f"0001 -> {schema.head_revision()}" in capsys.readouterr().out


def test_audit_verify_and_show_after_account_changes(
    inst: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Account writes from the shell are on the chain under the OS user, with no password or hash."""
    import getpass

    from queries.tables import audit_log

    monkeypatch.setattr(getpass, "getuser", lambda: "ops")
    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("first-secret-pass\n"))
    assert main(["user", "li.na", "--role", "leader", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("second-secret-pass\n"))
    assert main(["account", "li.na", "--set-password", "--password-stdin"]) == 0
    assert main(["account", "li.na", "--deactivate"]) == 0
    capsys.readouterr()

    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert (
        "chain intact: 9 entries" in out and "责任链完整" in out
    )  # 5 demo accounts + default owners + 3 changes

    assert main(["audit", "show", "--user", "cli:ops", "--action", "user.", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[5] for line in lines[1:]] == ["user.deactivate", "user.password", "user.create"]
    assert all("cli:ops" in line and "system" in line for line in lines[1:])
    assert main(["audit", "show", "--object", "app_user:6", "--since", "2000-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["audit", "show", "--since", "2999-01-01"]) == 0
    assert "no entries match" in capsys.readouterr().out
    assert main(["audit", "show", "--until", "yesterday"]) == 2
    assert "ISO" in capsys.readouterr().err

    with create_engine(f"sqlite:///{inst / 'pool.sqlite'}").connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(select(audit_log)) for v in row)
    assert "secret-pass" not in dump and "$argon2" not in dump


def test_audit_verify_names_a_deleted_entry(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import delete

    from queries.tables import audit_log

    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    with create_engine(f"sqlite:///{inst / 'pool.sqlite'}").begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 3))
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "chain broken at entry 3: entry 3 is missing (removed)" in out and "责任链断裂于条目 3" in out
