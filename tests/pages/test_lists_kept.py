"""The Three-Lists page's answers kept per data version (`view.kept`): a second identical look is served
without resolving or rendering anything again, a Three-Lists import (which moves the version) shows at once,
and so does an appointment of the data owner the gap and department lists name (staff data, which moves the
"staff" and data versions)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from dashboard import view
from dashboard.pages.lists import callbacks as cb
from dashboard.pages.lists.components import ids
from queries import audit, cache, lists, lists_io, owners
from queries.scope import CITY_SCOPE
from queries.tables import department, person
from tests.pages.conftest import render_page
from tests.pages.test_lists import PATH, post, update
from tests.pages.test_roles import sign_in, signed

__all__ = ["signed"]


@pytest.fixture(autouse=True)
def _no_answers_kept_in_this_worker() -> None:
    """Each test starts with this process's kept answers empty (the pool and its version are shared)."""
    view._answers.clear()


def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of `resolve`, the first thing every render of the page does."""
    calls: list[int] = []
    real = cb.resolve

    def resolve(v: Any, sel: Any) -> Any:
        calls.append(1)
        return real(v, sel)

    monkeypatch.setattr(cb, "resolve", resolve)
    return calls


def tick(client: FlaskClient, view: object, problem: object, dept: object) -> Any:
    """The page's refresh tick (the KPI row travels too)."""
    params = {"lang": "zh", "theme": "desk", "kiosk": False}
    output = f"..{ids.kpis}.children...{ids.body}.children.."
    return post(client, output, [view, problem, dept, 2], [params], "app-refresh-interval.n_intervals")


@pytest.mark.parametrize(("name", "theme"), [("admin", "desk"), ("leader", "desk"), ("admin", "wall")])
def test_a_second_identical_call_is_the_kept_answer(
    signed: Any, monkeypatch: pytest.MonkeyPatch, name: str, theme: str
) -> None:
    client = signed(name)
    first = update(client, "map", None, "all", theme)
    first_tick = tick(client, "map", None, "all")
    calls = counted(monkeypatch)
    assert update(client, "map", None, "all", theme) == first
    assert tick(client, "map", None, "all") == first_tick
    assert calls == []  # nothing resolved, nothing rendered: the kept answer
    # a control change leaves the KPI row as it is; the refresh tick sends it
    assert ids.kpis not in first and ids.kpis in first_tick
    assert first_tick[ids.body] == update(client, "map", None, "all")[ids.body]
    # another selection is its own answer
    matrix = update(client, "matrix", None, "all")
    assert calls == [1] and matrix != first and update(client, "matrix", None, "all") == matrix
    assert calls == [1]


def test_the_first_paint_is_kept_too(signed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = signed("admin")
    first = render_page(client, PATH, "?view=matrix&problem=nope")
    calls = counted(monkeypatch)
    again = render_page(client, PATH, "?view=matrix&problem=nope")
    assert again == first and calls == []
    assert "nope" in json.dumps(first, ensure_ascii=False)  # the message about the bad code is kept with it


def test_a_department_head_s_kept_answer_is_their_own(signed: Any) -> None:
    """Scope includes the department: two department heads never share a kept answer."""
    own = update(signed("minzheng"), "matrix", None, "all")
    assert update(signed("leader"), "matrix", None, "all") != own
    assert update(signed("minzheng"), "matrix", None, "all") == own


def _step_renamed(new_name: str) -> tuple[str, lists_io.Rows]:
    """The civil-affairs lists with the name of their first step changed: (its problem code, the rows)."""
    t = lists.export_tables(dept_id=2, scope=CITY_SCOPE)
    assert t is not None
    step = t["steps"].row(0, named=True)
    t["steps"] = t["steps"].with_columns(
        pl.when(pl.col("code") == step["code"]).then(pl.lit(new_name)).otherwise("name_zh").alias("name_zh")
    )
    rows, problems = lists_io.read_file(lists_io.xlsx_bytes(t, "x"), "civil.xlsx")
    assert not problems
    return str(step["problem"]), rows


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_an_import_shows_on_the_next_call(
    client: FlaskClient, writable_pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, writable_pool, "admin")
    problem, rows = _step_renamed("改名后的环节")
    before = update(client, "map", problem, "all")
    assert "改名后的环节" not in json.dumps(before, ensure_ascii=False)
    calls = counted(monkeypatch)
    assert update(client, "map", problem, "all") == before and calls == []
    version = cache.data_version(fresh=True)
    out = lists_io.import_lists(rows, dept_code="civil_affairs", actor=audit.Actor.cli(), dry_run=False)
    assert out.ok and cache.data_version(fresh=True) != version
    after = update(client, "map", problem, "all")
    assert calls == [1] and "改名后的环节" in json.dumps(after, ensure_ascii=False)


@pytest.mark.parametrize("writable_pool", ["sqlite"], indirect=True)
def test_a_new_owner_shows_on_the_next_call(client: FlaskClient, writable_pool: str) -> None:
    """The gap list and a department's own list name the appointed data owner, and are kept: an
    appointment moves the data version, so the next call shows it."""
    sign_in(client, writable_pool, "admin")
    g = lists.gaps(scope=CITY_SCOPE).filter(pl.col("fix_role") == "department")
    dept_id = int(g["fix_dept_id"][0])
    with create_engine(writable_pool).connect() as conn:
        code = conn.execute(select(department.c.code).where(department.c.id == dept_id)).scalar_one()
        people = conn.execute(select(person.c.id, person.c.name_zh)).all()
    gaps_before = json.dumps(update(client, "gaps", None, "all"), ensure_ascii=False)
    dept_before = json.dumps(update(client, "dept", None, code), ensure_ascii=False)
    pid, name = next((i, n) for i, n in people if n not in gaps_before and n not in dept_before)
    version = cache.data_version(fresh=True)
    with audit.write(audit.Actor.cli()) as tx:
        owners.appoint(tx, kind="department", code=code, person_id=pid)
    assert cache.data_version(fresh=True) != version  # staff data: the version moves
    assert name in json.dumps(update(client, "gaps", None, "all"), ensure_ascii=False)
    assert name in json.dumps(update(client, "dept", None, code), ensure_ascii=False)
