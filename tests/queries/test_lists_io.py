"""Import of a department's lists: export -> import is an identity; a change lands whole through the write
door with a log entry; a bad file is refused whole with every row's reason and the pool exactly as it
was (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, delete, func, select

from queries import audit, cache, engine, lists, lists_io
from queries.generate.build import BuildError, build_pool
from queries.scope import CITY_SCOPE
from queries.tables import lists_import
from tests.conftest import END, SEED

ACTOR = audit.Actor(None, "cli:test", "system")


def _state() -> dict[str, list[tuple[object, ...]]]:
    snap = lists.lists_snapshot.uncached()  # type: ignore[attr-defined]
    return {
        "problems": sorted(snap.problems.rows()),
        "steps": sorted(snap.steps.rows()),
        "items": sorted(snap.items.rows(), key=str),
        "step_data": sorted(snap.step_data.rows()),
        "roles": sorted(snap.roles.rows()),
        "grants": sorted(snap.grants.rows()),
    }


def _exported(dept: int) -> dict[str, pl.DataFrame]:
    t = lists.export_tables(dept_id=dept, scope=CITY_SCOPE)
    assert t is not None
    return t


def _rebuild(url: str) -> None:
    build_pool(url, scale="test", seed=SEED, end=END, progress=False, demo_users=True)
    engine.configure(url)


@pytest.fixture
def fresh(writable_pool: str, tmp_path: object) -> Iterator[str]:
    """A writable pool read straight (no cache: the test compares before and after). The lists are not
    user data, so on the shared PostgreSQL pool an applied import is undone afterwards by forgetting it
    and rebuilding, which gives the generated lists back."""
    cache.configure(None)
    with engine.connect() as c:
        imports = int(c.execute(select(func.count()).select_from(lists_import)).scalar_one())
    yield writable_pool
    if writable_pool.startswith("postgresql"):
        with engine.connect() as c:
            now = int(c.execute(select(func.count()).select_from(lists_import)).scalar_one())
        if now != imports:
            with create_engine(writable_pool).begin() as c:
                c.execute(delete(lists_import))
            _rebuild(writable_pool)


def test_export_then_import_is_an_identity(fresh: str) -> None:
    before = _state()
    tables = _exported(2)
    for data, reader in (
        (lists_io.xlsx_bytes(tables, "x"), lists_io.read_xlsx),
        (lists_io.csv_zip_bytes(tables, "x"), lists_io.read_csv_zip),
    ):
        rows, errs = reader(data)
        assert errs == []
        out = lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=False)
        assert out.ok and not out.applied, out.problems
        assert all(v == (0, 0, 0) for v in out.changes.values()), out.changes
    assert _state() == before


def test_a_change_lands_whole_with_a_log_entry(fresh: str) -> None:
    tables = _exported(2)
    steps = tables["steps"].with_columns(
        pl.when(pl.col("code") == pl.col("code").first())
        .then(pl.lit("9d"))
        .otherwise(pl.col("limit"))
        .alias("limit")
    )
    first = steps["code"][0]
    tables["steps"] = steps
    tables["grants"] = tables["grants"].head(tables["grants"].height - 1)  # one grant withdrawn
    rows, errs = lists_io.read_xlsx(lists_io.xlsx_bytes(tables, "x"))
    assert errs == []
    dry = lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=True)
    assert dry.ok and not dry.applied
    assert dry.changes["steps"] == (0, 1, 0) and dry.changes["grants"] == (0, 0, 1)
    version = cache.data_version(fresh=True)
    head = audit.show(limit=1)["id"][0]
    out = lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=False)
    assert out.applied and out.changes == dry.changes
    snap = lists.lists_snapshot.uncached()  # type: ignore[attr-defined]
    assert snap.steps.filter(pl.col("code") == first)["limit_hours"][0] == 72
    entry = audit.show(limit=1).row(0, named=True)
    assert (
        entry["id"] == head + 1
        and entry["action"] == "lists.import"
        and entry["object_id"] == "civil_affairs"
    )
    assert cache.data_version(fresh=True) != version  # cached views see the new lists
    assert audit.verify().ok


def test_a_bad_file_is_refused_whole_with_every_row_s_reason(fresh: str) -> None:
    before = _state()
    t = _exported(2)
    t["problems"] = t["problems"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("no_such_bureau"))
        .otherwise(pl.col("owner_dept"))
        .alias("owner_dept")
    )
    t["steps"] = pl.concat(
        [
            t["steps"],
            t["steps"].head(1),  # a duplicate key
            t["steps"]
            .head(1)
            .with_columns(pl.lit("orphan.x").alias("code"), pl.lit("no_such_type").alias("problem")),
        ]
    ).with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("soon")).otherwise(pl.col("limit")).alias("limit")
    )
    t["data_items"] = t["data_items"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("secret"))
        .otherwise(pl.col("classification"))
        .alias("classification")
    )
    rows, errs = lists_io.read_xlsx(lists_io.xlsx_bytes(t, "x"))
    assert errs == []
    out = lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=False)
    assert not out.ok and not out.applied
    reasons = [(p.sheet, p.row, p.en) for p in out.problems]
    n_steps = _exported(2)["steps"].height
    assert ("problems", 2, "unknown department 'no_such_bureau'") in reasons
    assert any(s == "steps" and r == n_steps + 2 and "duplicate key" in e for s, r, e in reasons)
    assert any(s == "steps" and r == n_steps + 3 and "without a problem type" in e for s, r, e in reasons)
    assert ("steps", 3, "limit is not a duration: 'soon' (e.g. 3d, 4h)") in reasons
    assert ("data_items", 2, "unknown classification 'secret'") in reasons
    assert all(p.zh for p in out.problems)
    assert _state() == before


def test_sheet_level_problems() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "problems"
    ws.append(["code", "name_zh"])  # wrong columns
    ws2 = wb.create_sheet("steps")
    ws2.append(list(lists_io.SHEETS["steps"][0]))
    ws2.merge_cells("A1:B1")
    buf = io.BytesIO()
    wb.save(buf)
    _rows, errs = lists_io.read_xlsx(buf.getvalue())
    got = {(p.sheet, p.row): p.en for p in errs}
    assert "columns must be" in got[("problems", 1)]
    assert got[("steps", 1)] == "the header row has merged cells"
    assert got[("grants", 0)] == "sheet grants is missing"
    assert lists_io.read_xlsx(b"not a workbook")[1][0].sheet == "*"


@pytest.mark.parametrize(
    ("text", "hours"),
    [("3d", 24), ("4h", 4), ("2 工作日", 16), ("6工时", 6), ("soon", None), ("3", None), ("-1d", None)],
)
def test_limits_are_durations(text: str, hours: int | None) -> None:
    assert lists_io.parse_limit(text) == hours


def test_command_line_export_and_dry_run(
    fresh: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.cli import main

    target = tmp_path / "civil.zip"
    assert main(["--url", fresh, "lists", "export", str(target), "--dept", "civil_affairs"]) == 0
    assert main(["--url", fresh, "lists", "import", str(target), "--dept", "civil_affairs", "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out
    assert main(["--url", fresh, "lists", "import", str(target), "--dept", "nowhere"]) == 2
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    assert main(["--url", fresh, "lists", "import", str(broken), "--dept", "civil_affairs"]) == 1
    assert "nothing was changed" in capsys.readouterr().out


def _changed_import(dept: int, code: str) -> lists_io.Outcome:
    """Import the department's export with one step's limit set to 9 working days."""
    tables = _exported(dept)
    tables["steps"] = tables["steps"].with_columns(
        pl.when(pl.col("code") == code).then(pl.lit("9d")).otherwise(pl.col("limit")).alias("limit")
    )
    rows, errs = lists_io.read_csv_zip(lists_io.csv_zip_bytes(tables, "x"))
    assert errs == []
    return lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=False)


def test_a_rebuild_keeps_the_imported_lists(fresh: str) -> None:
    generated = _state()
    code = _exported(2)["steps"]["code"][0]
    assert _changed_import(2, code).applied
    imported = _state()
    assert imported != generated
    with engine.connect() as c:
        kept = c.execute(select(lists_import.c.dept_code, lists_import.c.imported_by)).all()
    assert [tuple(r) for r in kept] == [("civil_affairs", "cli:test")]
    _rebuild(fresh)
    assert _state() == imported  # the import, not the generator's lists, ids and all
    snap = lists.lists_snapshot.uncached()  # type: ignore[attr-defined]
    assert snap.steps.filter(pl.col("code") == code)["limit_hours"][0] == 72
    # the generator's record of injected gaps described its own lists: gone with them
    assert lists.seeded_gaps.uncached().is_empty()  # type: ignore[attr-defined]
    entry = audit.show(action="lists.reapply", limit=1).row(0, named=True)
    assert entry["object_id"] == "civil_affairs" and entry["actor_username"].startswith("cli")
    assert audit.verify().ok


def test_a_rebuild_without_an_import_keeps_the_generated_lists(fresh: str) -> None:
    generated = _state()
    _rebuild(fresh)
    assert _state() == generated
    assert not lists.seeded_gaps.uncached().is_empty()  # type: ignore[attr-defined]
    assert audit.show(action="lists.reapply", limit=1).is_empty()


def test_an_import_that_no_longer_fits_stops_the_rebuild(fresh: str) -> None:
    code = _exported(2)["steps"]["code"][0]
    assert _changed_import(2, code).applied
    with engine.connect() as c:
        saved = c.execute(select(lists_import.c.id, lists_import.c.rows)).one()
    broken = saved.rows.replace('"civil_affairs"', '"gone_bureau"')
    with create_engine(fresh).begin() as c:
        c.execute(lists_import.update().where(lists_import.c.id == saved.id).values(rows=broken))
    before = _state()
    with pytest.raises(BuildError, match="gone_bureau"):
        _rebuild(fresh)
    engine.configure(fresh)
    assert _state() == before  # the previous pool is unchanged


def test_removing_a_problem_type_that_cases_follow_is_refused(fresh: str) -> None:
    """Cases point at their problem type: a file that drops a type with cases is refused with that
    reason (and the count), and nothing changes; keeping the type but changing it updates it in place."""
    from queries.tables import case_item, lists_problem

    before = _state()
    tables = _exported(2)
    with engine.connect() as c:
        n_by_code = dict(
            c.execute(
                select(lists_problem.c.code, func.count())
                .join(case_item, case_item.c.problem_id == lists_problem.c.id)
                .group_by(lists_problem.c.code)
            ).all()
        )
    code = next(str(x) for x in tables["problems"]["code"] if n_by_code.get(x))
    dropped = {**tables, "problems": tables["problems"].filter(pl.col("code") != code)}
    rows, errs = lists_io.read_xlsx(lists_io.xlsx_bytes(dropped, "x"))
    assert errs == []
    out = lists_io.import_lists(rows, dept_code="civil_affairs", actor=ACTOR, dry_run=False)
    assert not out.applied
    assert f"problem type {code} still has {n_by_code[code]} case(s); it cannot be removed" in [
        p.en for p in out.problems
    ]
    assert _state() == before
