"""The command line: every mistake gets a clear message and an exit code; nothing is half-written."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from dashboard.cli import main
from queries.tables import app_user, case_appeal
from tests.pools import sqlite_pool_at


def seeded(inst: Path, *, demo_users: bool) -> None:
    """The instance's pool as `seed --scale test --end 2026-11-20T14:30` leaves it (same seed and end),
    copied from the run's one build (without the demo's sample appeals, which the command files after it):
    test_seed_builds_a_pool_and_prints_accounts runs the command itself."""
    sqlite_pool_at(inst / "pool.sqlite", demo_users=demo_users)


@pytest.fixture
def inst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CC_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    return tmp_path


def test_seed_builds_a_pool_and_prints_accounts(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    out = capsys.readouterr().out
    assert "records: 6" in out and "admin-demo-2026" in out and "injected defects:" in out
    assert "sample appeals filed as the demo accounts: 9" in out
    assert (inst / "pool.sqlite").exists()
    assert main(["db", "status"]) == 0
    assert "ok" in capsys.readouterr().out
    # a rebuild carries the appeals (user data) and files no more
    assert main(["seed", "--scale", "test", "--quiet", "--demo-users", "--end", "2026-11-20T14:30"]) == 0
    assert "sample appeals" not in capsys.readouterr().out
    engine = create_engine(f"sqlite:///{inst / 'pool.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(case_appeal)).scalar_one() == 9
    engine.dispose()


def test_bad_scale_and_bad_end(inst: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "huge"]) == 2
    assert "choose one of: test, demo, full" in capsys.readouterr().err
    assert main(["seed", "--scale", "test", "--end", "yesterday"]) == 2
    assert "not an ISO date-time" in capsys.readouterr().err
    assert main(["seed", "--scale", "full", "--times", "100"]) == 2  # 700M records: refused, not built
    assert "记录数须在 1,000 到 100,000,000 之间" in capsys.readouterr().err
    assert main(["seed", "--scale", "test", "--records", "10"]) == 2
    assert "between 1,000 and 100,000,000; --records/--times asked for 10" in capsys.readouterr().err
    with pytest.raises(SystemExit) as both:
        main(["seed", "--records", "2000000", "--times", "2"])
    assert both.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
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
    seeded(inst, demo_users=False)  # what `seed --scale test --no-demo-users --end ...` makes
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

    seeded(inst, demo_users=True)  # what `seed --scale test --demo-users --end ...` makes
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
    seeded(inst, demo_users=True)  # what `seed --scale test --demo-users --end ...` makes
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

    seeded(inst, demo_users=True)  # what `seed --scale test --demo-users --end ...` makes
    with create_engine(f"sqlite:///{inst / 'pool.sqlite'}").begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 3))
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "chain broken at entry 3: entry 3 is missing (removed)" in out and "责任链断裂于条目 3" in out


# --- import records ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def import_pool(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One pool for the import tests (each uses its own business keys)."""
    from tests.pools import sqlite_pool_at

    return sqlite_pool_at(tmp_path_factory.mktemp("import") / "pool.sqlite", demo_users=False).url


def import_rows(first_key: int, n: int, **change: object) -> list[dict[str, object]]:
    return [
        {
            "module": "transport",
            "record_type": "卡口过车",
            "occurred_at": "2026-11-20 10:00:00",
            "received_at": "2026-11-20 10:05:00",
            "classification": "public",
            "qty": "3",
            "amount": "12.5",
            "record_key": str(first_key + i),
            "area_code": "蒙自文澜街道",
        }
        | change
        for i in range(n)
    ]


def ingested(url: str, lo: int, hi: int) -> int:
    from queries.ingest.write import INGEST_ID_BASE
    from queries.tables import record

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            q = select(record.c.id).where(
                record.c.id >= INGEST_ID_BASE, record.c.record_key >= lo, record.c.record_key < hi
            )
            return len(c.execute(q).all())
    finally:
        engine.dispose()


def run_import(url: str, path: Path, *extra: str) -> int:
    return main(
        ["--url", url, "import", "records", str(path), "--source", "traffic_platform", "--quiet", *extra]
    )


def test_import_csv_in_chunks_then_a_rerun_adds_nothing(
    import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    rows = import_rows(7000, 5) + import_rows(7005, 2, qty="-1") + import_rows(7007, 1, area_code="532503")
    path = tmp_path / "batch.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + pl.DataFrame(rows).write_csv().encode()
    )  # UTF-8 with BOM, as Excel saves
    assert run_import(import_pool, path, "--batch-rows", "3") == 0
    out = capsys.readouterr().out
    assert "3 批 / batches" in out and "utf-8" in out
    assert "行 rows 8  入库 accepted 5  重复 duplicate 0  隔离 quarantined 3" in out
    assert "qty_negative" in out and "数量为负数 / qty is negative" in out and "area_code_county_only" in out
    assert ingested(import_pool, 7000, 7100) == 5
    # a rerun (say after a crash) recognises every landed chunk and holds no row twice
    assert run_import(import_pool, path, "--batch-rows", "3") == 0
    assert "入库 accepted 0  重复 duplicate 5  隔离 quarantined 3" in capsys.readouterr().out
    assert ingested(import_pool, 7000, 7100) == 5
    # a dry run of new rows reports them and writes nothing
    path.write_text(pl.DataFrame(import_rows(7100, 4)).write_csv())
    assert run_import(import_pool, path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run, nothing written" in out and "入库 accepted 4" in out
    assert ingested(import_pool, 7100, 7200) == 0


def test_import_gb18030_csv(import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import polars as pl

    path = tmp_path / "gbk.csv"
    path.write_bytes(pl.DataFrame(import_rows(7200, 3)).write_csv().encode("gb18030"))
    assert run_import(import_pool, path) == 0
    assert "gb18030" in capsys.readouterr().out
    assert ingested(import_pool, 7200, 7300) == 3


def test_import_files_that_say_no(
    import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(import_rows(0, 1)[0]) + "\n")
    assert run_import(import_pool, header_only) == 1
    assert "no data rows" in capsys.readouterr().err
    nothing = tmp_path / "nothing.csv"
    nothing.write_bytes(b"")
    assert run_import(import_pool, nothing) == 1
    assert "lacks required columns: module" in capsys.readouterr().err
    refused = tmp_path / "refused.csv"
    refused.write_text(pl.DataFrame(import_rows(7300, 2, classification="secret")).write_csv())
    assert run_import(import_pool, refused) == 1
    assert "every row was quarantined" in capsys.readouterr().err
    no_qty = tmp_path / "no_qty.csv"
    no_qty.write_text(pl.DataFrame(import_rows(7400, 2)).drop("qty").write_csv())
    assert run_import(import_pool, no_qty) == 1
    assert "lacks required columns: qty" in capsys.readouterr().err
    assert main(["--url", import_pool, "import", "records", str(no_qty), "--source", "nope"]) == 2
    assert "no source system 'nope'" in capsys.readouterr().err
    assert run_import(import_pool, tmp_path / "absent.csv") == 1
    assert "No such file" in capsys.readouterr().err
    assert ingested(import_pool, 7300, 7500) == 0


def test_import_excel(import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    import openpyxl

    def workbook(rows: list[dict[str, object]], name: str, merge: str | None = None) -> Path:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(list(rows[0]))
        for r in rows:
            ws.append(list(r.values()))
        if merge:
            ws.merge_cells(merge)
        path = tmp_path / name
        wb.save(path)
        return path

    rows = import_rows(7500, 3, occurred_at=dt.datetime(2026, 11, 20, 10), qty=3, area_code=532503001)
    assert run_import(import_pool, workbook(rows, "ok.xlsx")) == 0
    assert "入库 accepted 3" in capsys.readouterr().out
    assert ingested(import_pool, 7500, 7600) == 3
    missing = [{k: v for k, v in r.items() if k != "area_code"} for r in import_rows(7600, 2)]
    assert run_import(import_pool, workbook(missing, "missing.xlsx")) == 1
    assert "lacks required columns: area_code" in capsys.readouterr().err
    assert run_import(import_pool, workbook(import_rows(7600, 2), "merged.xlsx", merge="A1:B1")) == 1
    err = capsys.readouterr().err
    assert "merged-cell header (A1:B1)" in err and "合并单元格" in err
    assert ingested(import_pool, 7600, 7700) == 0


def test_import_parquet(import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import polars as pl

    frame = pl.DataFrame(import_rows(7700, 4)).with_columns(
        pl.col("qty").cast(pl.Float64), pl.col("record_key").cast(pl.Int64)
    )
    path = tmp_path / "ok.parquet"
    frame.write_parquet(path)
    assert run_import(import_pool, path) == 0
    assert ingested(import_pool, 7700, 7800) == 4
    capsys.readouterr()
    wrong = tmp_path / "wrong.parquet"
    frame.with_columns(pl.col("qty").cast(pl.Float64) > 1, occurred_at=pl.lit([1, 2])).write_parquet(wrong)
    assert run_import(import_pool, wrong) == 1
    err = capsys.readouterr().err
    assert "qty (Boolean)" in err and "occurred_at (List(Int64))" in err


def test_bench_ingest_prints_its_figures(import_pool: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A small run of the ingest bench (file import, then 4 API clients against a real gunicorn)."""
    assert main(["--url", import_pool, "bench", "--ingest", "3000", "--api-batches", "1"]) == 0
    out = capsys.readouterr().out
    assert "(a) file import: 3,000 rows" in out and "rows/s; accepted" in out
    assert "answers: 200 x4" in out and "per batch: median" in out
    assert "overview refresh callback during ingest" in out
    assert ingested(import_pool, 9_000_000_000, 10_000_000_000) == 0  # it wrote into a copy


def test_import_prices(import_pool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = "date,product,market,price,unit\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(head + "2026-11-18,corn,wholesale,2.8,yuan/kg\n2026-11-18,corn,wholesale,0,yuan/kg\n")
    assert main(["--url", import_pool, "import", "prices", str(bad), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "拒绝 refused 1" in out and "row 3" in out and "greater than zero" in out and "dry run" in out
    assert main(["--url", import_pool, "import", "prices", str(bad)]) == 1  # one bad row refuses the file
    assert "nothing written" in capsys.readouterr().err
    assert main(["--url", import_pool, "import", "prices", str(bad), "--keep-good"]) == 0
    assert "corn·wholesale" in capsys.readouterr().out
    assert main(["--url", import_pool, "import", "prices", str(bad), "--keep-good"]) == 0
    assert "已有 already in 1" in capsys.readouterr().out  # a re-import adds nothing
    assert main(["--url", import_pool, "import", "prices", str(tmp_path / "absent.csv")]) == 1
    assert "No such file" in capsys.readouterr().err


def test_demo_on_a_new_instance_starts_building_its_pool(inst: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`command-center demo` (the README's first command) with no pool yet gets as far as building the
    demo-scale pool: every option `seed` reads is in the arguments the demo hands it. Stopped there (the
    build itself and serving are tested elsewhere)."""
    from queries.generate import build

    class Reached(Exception):
        pass

    def fake_build(url: str, **kw: object) -> None:
        assert kw["scale"] == "demo" and kw["demo_users"] is True
        raise Reached

    monkeypatch.setattr(build, "build_pool", fake_build)
    with pytest.raises(Reached):
        main(["demo"])
