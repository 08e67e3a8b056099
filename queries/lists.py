"""Three-Lists-in-One: the problem -> process -> data -> responsibility mapping, the gap finder, the
problem x department matrix, and each department's own responsibility list.

The lists are small (tens of problem types, hundreds of steps), so they are read whole once per data
version (`lists_snapshot`) and every view is computed from that snapshot in polars. Gap rules live in
`find_gaps` and nowhere else; each gap names the department that should close it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, case, func, select

from queries import engine as eng
from queries import meta, owners
from queries.cache import cached
from queries.scope import Scope
from queries.tables import (
    case_item,
    case_rollup,
    lists_data_grant,
    lists_data_item,
    lists_duty,
    lists_problem,
    lists_seed_gap,
    lists_step,
    lists_step_data,
    lists_step_duty,
    person,
    rollup_daily,
    source_system,
)

GAP_KINDS = ("no_process", "void", "overlap", "no_data", "no_owner", "permission", "over_limit")
GAP_LABELS: dict[str, tuple[str, str]] = {
    "no_process": ("无处置流程", "No process"),
    "void": ("无牵头 (真空)", "No lead (void)"),
    "overlap": ("多头牵头 (重叠)", "Two leads (overlap)"),
    "no_data": ("无数据支撑", "No data support"),
    "no_owner": ("数据无主", "Data item without owner"),
    "permission": ("数据权限不符", "Permission mismatch"),
    "over_limit": ("环节超总时限", "Step over the type's limit"),
}
# who closes a gap: the department answering for the problem type or step, or the data owner
FIX_ROLE = {k: "department" for k in GAP_KINDS} | {"no_owner": "data_owner", "permission": "data_owner"}
HIGH = 3  # severity of a high-severity problem type

_I16 = pl.Int16
_I32 = pl.Int32
GAP_SCHEMA = {
    "kind": pl.String,
    "problem_id": _I16,
    "step_id": _I32,
    "item_id": _I16,
    "dept_id": _I16,  # the department that needs the item (permission gaps), else null
    "fix_dept_id": _I16,
}


@dataclass(frozen=True)
class Lists:
    problems: pl.DataFrame
    steps: pl.DataFrame
    items: pl.DataFrame
    step_data: pl.DataFrame  # step_id, item_id
    roles: pl.DataFrame  # step_id, dept_id, person_id, role (lead | support), duty_id
    duties: pl.DataFrame
    grants: pl.DataFrame  # item_id, dept_id


@cached
def lists_snapshot() -> Lists:
    """The four lists and the permission list, whole."""
    p, s, i, d = lists_problem, lists_step, lists_data_item, lists_duty
    problems = eng.read_frame(
        select(p).order_by(p.c.id),
        schema={
            "id": _I16,
            "severity": _I16,
            "yearly_volume": pl.Int64,
            "limit_hours": pl.Int64,
            "owner_dept_id": _I16,
            "module_id": _I16,
        },
    )
    steps = eng.read_frame(
        select(s).order_by(s.c.problem_id, s.c.seq),
        schema={"id": _I32, "problem_id": _I16, "seq": _I16, "decision": pl.Boolean, "limit_hours": pl.Int64},
    )
    items = eng.read_frame(
        select(i, source_system.c.department_id.label("source_dept_id"))
        .join(source_system, source_system.c.id == i.c.source_id)
        .order_by(i.c.id),
        schema={
            "id": _I16,
            "module_id": _I16,
            "source_id": _I16,
            "owner_dept_id": _I16,
            "classification": _I16,
            "source_dept_id": _I16,
        },
    )
    step_data = eng.read_frame(select(lists_step_data), schema={"step_id": _I32, "item_id": _I16})
    duties = eng.read_frame(
        select(d).order_by(d.c.id), schema={"id": _I32, "dept_id": _I16, "person_id": pl.Int32}
    )
    sd = lists_step_duty
    roles = eng.read_frame(
        select(sd.c.step_id, sd.c.duty_id, sd.c.role, d.c.dept_id, d.c.person_id).join(
            d, d.c.id == sd.c.duty_id
        ),
        schema={"step_id": _I32, "duty_id": _I32, "dept_id": _I16, "person_id": pl.Int32},
    )
    grants = eng.read_frame(select(lists_data_grant), schema={"item_id": _I16, "dept_id": _I16})
    return Lists(problems, steps, items, step_data, roles, duties, grants)


def lists_from_rows(rows: dict[str, list[dict[str, object]]], source_dept: dict[int, int]) -> Lists:
    """A Lists from rows as they would be written (table name -> rows): the generator's plan, or an
    import being checked before it lands. `source_dept` maps source system id -> its department."""

    def frame(table: str, schema: dict[str, Any]) -> pl.DataFrame:
        got = pl.DataFrame(rows.get(table) or [], schema=schema, orient="row")
        return got

    i16, i32, s = _I16, _I32, pl.String
    problems = frame(
        "lists_problem",
        {"id": i16, "code": s, "name_zh": s, "name_en": s, "channel": s, "severity": i16,
         "yearly_volume": pl.Int64, "limit_hours": pl.Int64, "owner_dept_id": i16, "module_id": i16},
    )  # fmt: skip
    steps = frame(
        "lists_step",
        {"id": i32, "problem_id": i16, "seq": i16, "code": s, "name_zh": s, "name_en": s, "stage": s,
         "decision": pl.Boolean, "limit_hours": pl.Int64},
    )  # fmt: skip
    items = frame(
        "lists_data_item",
        {"id": i16, "code": s, "name_zh": s, "name_en": s, "kind": s, "module_id": i16, "source_id": i16,
         "owner_dept_id": i16, "classification": i16, "refresh": s},
    )  # fmt: skip
    items = items.with_columns(
        pl.col("source_id")
        .replace_strict(source_dept, default=None, return_dtype=i16)
        .alias("source_dept_id")
    )
    step_data = frame("lists_step_data", {"step_id": i32, "item_id": i16})
    duties = frame(
        "lists_duty",
        {"id": i32, "code": s, "dept_id": i16, "person_id": pl.Int32, "name_zh": s, "name_en": s},
    )
    step_duty = frame("lists_step_duty", {"step_id": i32, "duty_id": i32, "role": s})
    roles = step_duty.join(duties.select(pl.col("id").alias("duty_id"), "dept_id", "person_id"), on="duty_id")
    grants = frame("lists_data_grant", {"item_id": i16, "dept_id": i16})
    return Lists(problems, steps, items, step_data, roles, duties, grants)


def _gap(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    cols = [pl.lit(kind).alias("kind")]
    cols += [
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
        for c, t in GAP_SCHEMA.items()
        if c != "kind"
    ]
    return frame.select(cols)


def find_gaps(lists: Lists) -> pl.DataFrame:
    """Every gap in the lists, one row each, with the department that should close it (GAP_SCHEMA)."""
    p, s, it = lists.problems, lists.steps, lists.items
    leads = lists.roles.filter(pl.col("role") == "lead")
    n_leads = leads.group_by("step_id").agg(pl.len().alias("n_leads"), pl.col("dept_id").min().alias("lead"))
    steps = (
        s.select(pl.col("id").alias("step_id"), "problem_id", "limit_hours")
        .join(n_leads, on="step_id", how="left")
        .join(
            p.select(
                pl.col("id").alias("problem_id"), "owner_dept_id", pl.col("limit_hours").alias("p_limit")
            ),
            on="problem_id",
        )
        .with_columns(pl.col("n_leads").fill_null(0))
    )
    one_lead = pl.when(pl.col("n_leads") == 1).then(pl.col("lead")).otherwise(pl.col("owner_dept_id"))
    no_process = p.join(s, left_on="id", right_on="problem_id", how="anti").select(
        pl.col("id").alias("problem_id"), pl.col("owner_dept_id").alias("fix_dept_id")
    )
    void = steps.filter(pl.col("n_leads") == 0).with_columns(pl.col("owner_dept_id").alias("fix_dept_id"))
    overlap = steps.filter(pl.col("n_leads") > 1).with_columns(pl.col("owner_dept_id").alias("fix_dept_id"))
    no_data = steps.join(lists.step_data, on="step_id", how="anti").with_columns(
        one_lead.alias("fix_dept_id")
    )
    over = steps.filter(pl.col("limit_hours") > pl.col("p_limit")).with_columns(one_lead.alias("fix_dept_id"))
    # an item nobody owns is for the department running its source system to claim
    no_owner = it.filter(pl.col("owner_dept_id").is_null()).select(
        pl.col("id").alias("item_id"), pl.col("source_dept_id").alias("fix_dept_id")
    )
    needs = (
        lists.step_data.join(lists.roles.select("step_id", "dept_id"), on="step_id")
        .select("item_id", "dept_id")
        .unique()
        .join(it.select(pl.col("id").alias("item_id"), "owner_dept_id", "classification"), on="item_id")
    )
    permission = (
        needs.filter(
            (pl.col("classification") > 0)
            & pl.col("owner_dept_id").is_not_null()
            & (pl.col("dept_id") != pl.col("owner_dept_id"))
        )
        .join(lists.grants, on=["item_id", "dept_id"], how="anti")
        .with_columns(pl.col("owner_dept_id").alias("fix_dept_id"))
    )
    out = pl.concat(
        [
            _gap(no_process, "no_process"),
            _gap(void, "void"),
            _gap(overlap, "overlap"),
            _gap(no_data, "no_data"),
            _gap(no_owner, "no_owner"),
            _gap(permission, "permission"),
            _gap(over, "over_limit"),
        ]
    )
    return out.sort("kind", "problem_id", "step_id", "item_id", "dept_id", nulls_last=True)


def _names(frame: pl.DataFrame, key: str, prefix: str) -> pl.DataFrame:
    return frame.select(
        pl.col("id").alias(key),
        pl.col("name_zh").alias(f"{prefix}_zh"),
        pl.col("name_en").alias(f"{prefix}_en"),
    )


def _dept_names(key: str, prefix: str) -> pl.DataFrame:
    return _names(meta.departments().with_columns(pl.col("id").cast(_I16)), key, prefix)


@cached
def _gap_frame(*, scope: Scope) -> pl.DataFrame:
    """gaps() without the person: every part of it that moves only with the data version."""
    lists = lists_snapshot()
    found = find_gaps(lists)
    if scope.department_id is not None:
        found = found.filter(pl.col("fix_dept_id") == scope.department_id)
    steps = lists.steps.select(
        pl.col("id").alias("step_id"),
        pl.col("seq"),
        pl.col("name_zh").alias("step_zh"),
        pl.col("name_en").alias("step_en"),
        pl.col("limit_hours").alias("step_limit"),
    )
    probs = lists.problems.select(
        pl.col("id").alias("problem_id"),
        pl.col("name_zh").alias("problem_zh"),
        pl.col("name_en").alias("problem_en"),
        "severity",
        pl.col("limit_hours").alias("problem_limit"),
    )
    items = _names(lists.items, "item_id", "item").join(
        lists.items.select(pl.col("id").alias("item_id"), "source_id", "source_dept_id"), on="item_id"
    )
    out = (
        found.join(steps, on="step_id", how="left")
        .join(probs, on="problem_id", how="left")
        .join(items, on="item_id", how="left")
        .join(_dept_names("dept_id", "need"), on="dept_id", how="left")
        .join(_dept_names("fix_dept_id", "fix"), on="fix_dept_id", how="left")
        .with_columns(pl.col("kind").replace_strict(FIX_ROLE, return_dtype=pl.String).alias("fix_role"))
    )
    rank = {k: i for i, k in enumerate(GAP_KINDS)}
    return out.sort(
        pl.col("severity").fill_null(0),
        pl.col("kind").replace_strict(rank, return_dtype=pl.Int8),
        "problem_id",
        "seq",
        "item_id",
        "dept_id",
        descending=[True, False, False, False, False, False],
        nulls_last=True,
    )


def gaps(*, scope: Scope) -> pl.DataFrame:
    """Every gap the viewer may act on, labelled, with the person who closes it: a department head sees
    the gaps their department must close; everyone else the whole city's. Worst first: high severity,
    then kind, then object. Not cached as a whole: the person comes from the current data-owner
    appointments (owners.current), staff data whose writes move the "staff" and data versions."""
    return with_fixers(_gap_frame(scope=scope), owners.current())


def with_fixers(g: pl.DataFrame, appointed: pl.DataFrame) -> pl.DataFrame:
    """Name the person of each gap (fix_person, fix_title, fix_via = "appointed" | "title"): the
    appointed data owner where there is one, else the holder of the title that answers for it.
    Process gaps: the fixing department's owner, else its director (局长). Data gaps: the owner of the
    item's source system when that system is the fixing department's, else the department's owner,
    else its data officer (数据专员)."""
    own = appointed.select(
        "scope", pl.col("scope_id").cast(_I32), pl.col("name_zh").alias("p"), pl.col("title_zh").alias("t")
    )
    dept_own = own.filter(pl.col("scope") == "department").drop("scope")
    src_own = own.filter(pl.col("scope") == "source").drop("scope")
    by_title = _heads()
    data_gap = pl.col("fix_role") == "data_owner"
    src_key = pl.when(data_gap & (pl.col("source_dept_id") == pl.col("fix_dept_id"))).then(
        pl.col("source_id")
    )
    out = (
        g.with_columns(src_key.cast(_I32).alias("_src"), pl.col("fix_dept_id").cast(_I32).alias("_dept"))
        .join(src_own.rename({"scope_id": "_src", "p": "p_src", "t": "t_src"}), on="_src", how="left")
        .join(dept_own.rename({"scope_id": "_dept", "p": "p_dept", "t": "t_dept"}), on="_dept", how="left")
        .join(by_title, on=["fix_dept_id", "fix_role"], how="left")
    )
    return out.with_columns(
        pl.coalesce("p_src", "p_dept", "title_person").alias("fix_person"),
        pl.coalesce("t_src", "t_dept", "title_title").alias("fix_title"),
        pl.when(pl.col("p_src").is_not_null() | pl.col("p_dept").is_not_null())
        .then(pl.lit("appointed"))
        .when(pl.col("title_person").is_not_null())
        .then(pl.lit("title"))
        .alias("fix_via"),
    ).drop("_src", "_dept", "p_src", "t_src", "p_dept", "t_dept", "title_person", "title_title")


@cached
def _heads() -> pl.DataFrame:
    """The holder of the title a gap falls back to: a department's director for its processes, its data
    officer for its data."""
    rows = eng.read_frame(
        select(person.c.department_id, person.c.title_zh, person.c.name_zh).where(
            person.c.township_code.is_(None), person.c.title_zh.in_(("局长", "数据专员"))
        ),
        schema={"department_id": _I16},
    )
    return rows.select(
        pl.col("department_id").alias("fix_dept_id"),
        pl.col("title_zh").replace_strict({"局长": "department", "数据专员": "data_owner"}).alias("fix_role"),
        pl.col("name_zh").alias("title_person"),
        pl.col("title_zh").alias("title_title"),
    ).unique(subset=["fix_dept_id", "fix_role"], keep="first")


@cached
def gap_counts(*, scope: Scope) -> pl.DataFrame:
    """Gaps by kind (every kind, zeros included), and how many sit on high-severity problem types."""
    g = _gap_frame(scope=scope)
    got = g.group_by("kind").agg(
        pl.len().alias("n"), (pl.col("severity").fill_null(0) >= HIGH).sum().alias("n_high")
    )
    base = pl.DataFrame({"kind": list(GAP_KINDS)})
    return base.join(got, on="kind", how="left").with_columns(
        pl.col("n").fill_null(0).cast(pl.Int64), pl.col("n_high").fill_null(0).cast(pl.Int64)
    )


@cached
def gaps_by_dept(*, scope: Scope) -> pl.DataFrame:
    """Open gaps per department that should close them (departments with none included), most first."""
    g = _gap_frame(scope=scope)
    per = g.group_by("fix_dept_id").agg(pl.len().alias("n"))
    depts = _dept_names("fix_dept_id", "dept")
    if scope.department_id is not None:
        depts = depts.filter(pl.col("fix_dept_id") == scope.department_id)
    return (
        depts.join(per, on="fix_dept_id", how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        .sort(["n", "fix_dept_id"], descending=[True, False])
    )


@cached
def seeded_gaps() -> pl.DataFrame:
    """The gaps the generator injected (empty for a pool whose lists were imported), GAP_SCHEMA minus fixer."""
    g = lists_seed_gap
    return eng.read_frame(
        select(g.c.kind, g.c.problem_id, g.c.step_id, g.c.item_id, g.c.dept_id),
        schema={k: v for k, v in GAP_SCHEMA.items() if k != "fix_dept_id"},
    )


def alert_level(*, scope: Scope) -> str | None:
    """Red when a step of a high-severity problem type has no lead or two; amber for any other void or
    overlap; None otherwise."""
    g = _gap_frame(scope=scope).filter(pl.col("kind").is_in(("void", "overlap")))
    if g.is_empty():
        return None
    return "red" if (g["severity"].fill_null(0) >= HIGH).any() else "amber"


# --- what the page's controls offer and accept --------------------------------------------------------


@cached
def dept_code(*, dept_id: int) -> str | None:
    """A department's code; None for an unknown id."""
    d = meta.departments().filter(pl.col("id") == dept_id)
    return str(d["code"][0]) if d.height else None


@cached
def dept_ids_by_code() -> dict[str, int]:
    """Every department's id by its code (what a URL or a control names)."""
    d = meta.departments()
    return {str(c): int(i) for c, i in zip(d["code"].to_list(), d["id"].to_list(), strict=True)}


@cached
def problem_ids_by_code(*, scope: Scope) -> dict[str, int]:
    """The problem types the viewer may open, id by code."""
    p = problems(scope=scope)
    return {str(c): int(i) for c, i in zip(p["code"].to_list(), p["problem_id"].to_list(), strict=True)}


@cached
def dept_choices(*, scope: Scope) -> pl.DataFrame:
    """The departments the viewer may pick (code, names): a department head only their own."""
    d = meta.departments()
    if scope.department_id is not None:
        d = d.filter(pl.col("id") == scope.department_id)
    return d.select("id", "code", "name_zh", "name_en")


# --- the matrix ------------------------------------------------------------------------------------


@cached
def matrix(*, scope: Scope) -> tuple[list[int], pl.DataFrame]:
    """Problem types x departments: (department ids in column order, frame). The frame has one row per
    problem type (id, names, channel, severity, gaps) and per department `r<id>` = "lead" | "support" |
    "" and `g<id>` = the gaps on that type the department should close or is caught in.
    A department head sees the types their department takes part in, and their own column."""
    lists = lists_snapshot()
    roles = lists.roles.join(lists.steps.select(pl.col("id").alias("step_id"), "problem_id"), on="step_id")
    # lead wins over support for a cell
    cell = roles.group_by("problem_id", "dept_id").agg(
        pl.when((pl.col("role") == "lead").any())
        .then(pl.lit("lead"))
        .otherwise(pl.lit("support"))
        .alias("role")
    )
    marks = gap_cells(lists).group_by("problem_id", "dept_id").agg(pl.len().alias("n"))
    dept_ids = [int(i) for i in meta.departments()["id"].to_list()]
    probs = lists.problems
    if scope.department_id is not None:
        dept_ids = [scope.department_id]
        mine = pl.concat(
            [
                cell.filter(pl.col("dept_id") == scope.department_id).select("problem_id"),
                probs.filter(pl.col("owner_dept_id") == scope.department_id).select(
                    pl.col("id").alias("problem_id")
                ),
            ]
        )
        probs = probs.join(mine, left_on="id", right_on="problem_id", how="semi")
    frame = probs.select(
        pl.col("id").alias("problem_id"), "code", "name_zh", "name_en", "channel", "severity", "owner_dept_id"
    )
    wide_r = cell.filter(pl.col("dept_id").is_in(dept_ids)).pivot(
        on="dept_id", index="problem_id", values="role"
    )
    wide_g = marks.filter(pl.col("dept_id").is_in(dept_ids)).pivot(
        on="dept_id", index="problem_id", values="n"
    )
    wide_r = wide_r.rename({c: f"r{c}" for c in wide_r.columns if c != "problem_id"})
    wide_g = wide_g.rename({c: f"g{c}" for c in wide_g.columns if c != "problem_id"})
    frame = frame.join(wide_r, on="problem_id", how="left").join(wide_g, on="problem_id", how="left")
    for d in dept_ids:
        if f"r{d}" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(f"r{d}"))
        if f"g{d}" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.UInt32).alias(f"g{d}"))
    frame = frame.with_columns(
        *[pl.col(f"r{d}").fill_null("") for d in dept_ids],
        *[pl.col(f"g{d}").fill_null(0).cast(pl.Int64) for d in dept_ids],
    )
    frame = frame.with_columns(pl.sum_horizontal([pl.col(f"g{d}") for d in dept_ids]).alias("gaps"))
    fixed = ["problem_id", "code", "name_zh", "name_en", "channel", "severity", "owner_dept_id", "gaps"]
    frame = frame.select(fixed + [c for d in dept_ids for c in (f"r{d}", f"g{d}")])
    return dept_ids, frame.sort(["severity", "problem_id"], descending=[True, False])


def gap_cells(lists: Lists) -> pl.DataFrame:
    """Where each gap shows on the matrix: (kind, problem_id, dept_id) cells, one gap possibly on several
    (an overlap on each claiming department, a data gap on every type whose steps use the item)."""
    found = find_gaps(lists)
    steps = lists.steps.select(pl.col("id").alias("step_id"), pl.col("problem_id").alias("sp"))
    leads = lists.roles.filter(pl.col("role") == "lead").select("step_id", pl.col("dept_id").alias("lead"))
    uses = lists.step_data.join(steps, on="step_id").select("item_id", "sp", "step_id")
    takes_part = lists.roles.select("step_id", pl.col("dept_id").alias("part"))
    step_level = found.filter(pl.col("step_id").is_not_null())
    overlap = (
        step_level.filter(pl.col("kind") == "overlap")
        .join(leads, on="step_id")
        .select("kind", "problem_id", pl.col("lead").alias("dept_id"))
    )
    plain = pl.concat(
        [
            found.filter(pl.col("kind") == "no_process").select(
                "kind", "problem_id", pl.col("fix_dept_id").alias("dept_id")
            ),
            step_level.filter(pl.col("kind") != "overlap").select(
                "kind", "problem_id", pl.col("fix_dept_id").alias("dept_id")
            ),
        ]
    )
    permission = (
        found.filter(pl.col("kind") == "permission")
        .join(uses, on="item_id")
        .join(takes_part, on="step_id")
        .filter(pl.col("part") == pl.col("dept_id"))
        .select("kind", pl.col("sp").alias("problem_id"), "dept_id")
        .unique()
    )
    no_owner = (
        found.filter(pl.col("kind") == "no_owner")
        .join(uses, on="item_id")
        .select("kind", pl.col("sp").alias("problem_id"), pl.col("fix_dept_id").alias("dept_id"))
        .unique()
    )
    return pl.concat([plain, overlap, permission, no_owner])


# --- open cases per step (issue 8 joined to the lists) ---------------------------------------------

CASE_SCHEMA = {
    "problem_id": _I16,
    "stage": pl.String,
    "step_id": _I32,  # null: the type has no step at the case's stage (no process at all, or a stage missing)
    "open": pl.Int64,
    "overdue": pl.Int64,  # open and past the closure due time (working time, approved deferrals included)
    "n_leads": pl.Int64,
}


@cached
def step_cases(*, scope: Scope, as_of: int) -> pl.DataFrame:
    """Open cases now at each process step, and how many of them are overdue, in the viewer's scope
    (a leader their township, a department head the cases their department answers for).

    A case follows its problem type's process and stands at a loop stage (case_item.stage); it is at the
    LAST step of that stage in the type's process (the step that ends the stage: a case in "response" has
    been dispatched and is being handled). A case whose type has no step at its stage gets step_id null,
    which is a gap on its own. One grouped read of the open cases (index on closed_at), never the event
    log; `as_of` is the pool's clock (meta.pool_status().as_of), so the overdue count is reproducible."""
    c = case_item
    cond: ColumnElement[bool] = c.c.closed_at.is_(None)
    if scope.township_code is not None:
        cond = cond & (c.c.township_code == scope.township_code)
    if scope.department_id is not None:
        cond = cond & (c.c.dept_id == scope.department_id)
    q = (
        select(
            c.c.problem_id,
            c.c.stage,
            func.count().label("open"),
            func.coalesce(func.sum(case((c.c.close_due_at < as_of, 1), else_=0)), 0).label("overdue"),
        )
        .where(cond)
        .group_by(c.c.problem_id, c.c.stage)
    )
    counts = eng.read_frame(
        q, schema={"problem_id": _I16, "stage": pl.String, "open": pl.Int64, "overdue": pl.Int64}
    )
    lists = lists_snapshot()
    last = (
        lists.steps.sort("seq")
        .group_by("problem_id", "stage")
        .agg(pl.col("id").last().alias("step_id"))
        .with_columns(pl.col("problem_id").cast(_I16), pl.col("step_id").cast(_I32))
    )
    leads = (
        lists.roles.filter(pl.col("role") == "lead")
        .group_by("step_id")
        .agg(pl.len().cast(pl.Int64).alias("n_leads"))
        .with_columns(pl.col("step_id").cast(_I32))
    )
    return (
        counts.join(last, on=["problem_id", "stage"], how="left")
        .join(leads, on="step_id", how="left")
        .with_columns(pl.col("n_leads").fill_null(0))
        .select(list(CASE_SCHEMA))
        .cast(CASE_SCHEMA)  # type: ignore[arg-type]
        .sort("problem_id", "stage")
    )


def unanswered_cases(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of step_cases() where open cases wait at a hole: a step nobody leads (void), or no step
    at all for the case's stage. Exactly what the lists page exists to show."""
    return frame.filter((pl.col("open") > 0) & (pl.col("step_id").is_null() | (pl.col("n_leads") == 0)))


def with_open_cases(g: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """The gaps (gaps() columns) with the open and overdue cases waiting on each (`open_cases`,
    `overdue_cases`; null where a gap holds no cases: data-item gaps): a step's gap counts the cases at
    that step, a type with no process all the type's open cases (step_cases() rows)."""
    at_step = cases.filter(pl.col("step_id").is_not_null()).select(
        "step_id", pl.col("open").alias("_so"), pl.col("overdue").alias("_sl")
    )
    by_type = (
        cases.filter(pl.col("step_id").is_null())
        .group_by("problem_id")
        .agg(pl.col("open").sum().alias("_po"), pl.col("overdue").sum().alias("_pl"))
    )
    step_gap = pl.col("step_id").is_not_null() & pl.col("item_id").is_null()
    type_gap = pl.col("kind") == "no_process"

    def on_gap(at_the_step: str, of_the_type: str, name: str) -> pl.Expr:
        return (
            pl.when(step_gap)
            .then(pl.col(at_the_step).fill_null(0))
            .when(type_gap)
            .then(pl.col(of_the_type).fill_null(0))
            .cast(pl.Int64)
            .alias(name)
        )

    return (
        g.join(at_step, on="step_id", how="left")
        .join(by_type, on="problem_id", how="left")
        .with_columns(on_gap("_so", "_po", "open_cases"), on_gap("_sl", "_pl", "overdue_cases"))
        .drop("_so", "_sl", "_po", "_pl")
    )


def gaps_with_cases(*, scope: Scope, as_of: int) -> pl.DataFrame:
    """gaps() with the open cases waiting on each gap (with_open_cases), in the viewer's scope."""
    return with_open_cases(gaps(scope=scope), step_cases(scope=scope, as_of=as_of))


# --- the mapping of one problem type -----------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    problem: dict[str, object]
    steps: pl.DataFrame  # id, seq, names, stage, decision, limit_hours, over_limit, n_leads, has_data, open_cases, overdue_cases
    items: pl.DataFrame  # id, names, module, classification, owner_dept_id, load_7d
    step_items: (
        pl.DataFrame
    )  # step_id, item_id, permitted (False = some department on the step lacks a grant)
    step_depts: pl.DataFrame  # step_id, dept_id, role, person
    item_owners: pl.DataFrame  # item_id, dept_id
    depts: pl.DataFrame  # dept_id, names (every department on the picture)
    denied: pl.DataFrame  # item_id, dept_id: departments that need an item they may not use
    hidden_items: int  # items above the viewer's classification ceiling, left out
    unplaced_cases: int = 0  # open cases of the type at a stage its process has no step for (a gap)


@cached
def problems(*, scope: Scope) -> pl.DataFrame:
    """The problem types the viewer may open in the mapping (a department head: those they take part in
    or answer for), with their step count and gaps."""
    _ids, frame = matrix(scope=scope)
    lists = lists_snapshot()
    n_steps = lists.steps.group_by("problem_id").agg(pl.len().alias("steps"))
    return (
        frame.select("problem_id", "code", "name_zh", "name_en", "channel", "severity", "gaps")
        .join(n_steps, on="problem_id", how="left")
        .with_columns(pl.col("steps").fill_null(0).cast(pl.Int64))
        .sort("problem_id")
    )


@cached
def focus_problem(*, scope: Scope) -> int | None:
    """The type a wall should show first: a void or overlap on the most severe type, else the type with
    the most gaps, else the first; None when the viewer may open no type at all."""
    allowed = problems(scope=scope)["problem_id"].to_list()
    if not allowed:
        return None
    g = _gap_frame(scope=scope).filter(pl.col("problem_id").is_in(allowed))
    hot = g.filter(pl.col("kind").is_in(["void", "overlap"])).sort(
        ["severity", "problem_id"], descending=[True, False]
    )
    if hot.height:
        return int(hot["problem_id"][0])
    per = g.filter(pl.col("problem_id").is_not_null()).group_by("problem_id").len()
    if per.height:
        return int(per.sort(["len", "problem_id"], descending=[True, False])["problem_id"][0])
    return int(allowed[0])


@cached
def mapping(*, problem_id: int, scope: Scope, as_of_day: int, as_of: int) -> Mapping | None:
    """problem -> steps -> data items -> departments and persons, for one problem type; None when the
    type does not exist or is outside the viewer's scope. Live load: records of each item's source
    system over the 7 days to `as_of_day` that the viewer may see, and the open (and overdue) cases at
    each step at `as_of` (step_cases)."""
    if problem_id not in set(problems(scope=scope)["problem_id"].to_list()):
        return None
    lists = lists_snapshot()
    prob = lists.problems.filter(pl.col("id") == problem_id).row(0, named=True)
    steps = lists.steps.filter(pl.col("problem_id") == problem_id)
    step_ids = steps["id"].to_list()
    roles = lists.roles.filter(pl.col("step_id").is_in(step_ids))
    n_leads = roles.filter(pl.col("role") == "lead").group_by("step_id").agg(pl.len().alias("n_leads"))
    links = lists.step_data.filter(pl.col("step_id").is_in(step_ids))
    items = lists.items.join(links.select("item_id").unique(), left_on="id", right_on="item_id", how="semi")
    hidden = items.filter(pl.col("classification") > scope.max_class).height
    items = items.filter(pl.col("classification") <= scope.max_class)
    links = links.filter(pl.col("item_id").is_in(items["id"].to_list()))
    found = find_gaps(lists)
    denied = found.filter(pl.col("kind") == "permission").select("item_id", "dept_id")
    denied = denied.join(
        links.join(roles.select("step_id", "dept_id"), on="step_id").select("item_id", "dept_id").unique(),
        on=["item_id", "dept_id"],
        how="semi",
    )
    step_items = links.join(roles.select("step_id", "dept_id"), on="step_id", how="left").join(
        denied.with_columns(pl.lit(True).alias("bad")), on=["item_id", "dept_id"], how="left"
    )
    step_items = step_items.group_by("step_id", "item_id").agg(
        (~pl.col("bad").fill_null(False).any()).alias("permitted")
    )
    load = _source_load(scope=scope, as_of_day=as_of_day)
    items = (
        items.join(load, on="source_id", how="left")
        .with_columns(pl.col("load_7d").fill_null(0))
        .join(_module_names(), on="module_id", how="left")
        .sort("id")
    )
    steps = (
        steps.join(n_leads, left_on="id", right_on="step_id", how="left")
        .with_columns(
            pl.col("n_leads").fill_null(0),
            (pl.col("limit_hours") > prob["limit_hours"]).alias("over_limit"),
            pl.col("id").is_in(links["step_id"].unique().to_list()).alias("has_data"),
        )
        .join(
            step_cases(scope=scope, as_of=as_of)
            .filter(pl.col("step_id").is_not_null())
            .select("step_id", pl.col("open").alias("open_cases"), pl.col("overdue").alias("overdue_cases")),
            left_on="id",
            right_on="step_id",
            how="left",
        )
        .with_columns(pl.col("open_cases").fill_null(0), pl.col("overdue_cases").fill_null(0))
        .sort("seq")
    )
    people = _people()
    step_depts = roles.join(people, on="person_id", how="left").select(
        "step_id", "dept_id", "role", "person", "title"
    )
    owners = items.filter(pl.col("owner_dept_id").is_not_null()).select(
        pl.col("id").alias("item_id"), pl.col("owner_dept_id").alias("dept_id")
    )
    dept_ids = pl.concat(
        [step_depts.select("dept_id"), owners.select("dept_id"), denied.select("dept_id")]
    ).unique()
    depts = _dept_names("dept_id", "name").join(dept_ids, on="dept_id", how="semi").sort("dept_id")
    return Mapping(
        problem=prob,
        steps=steps,
        items=items,
        step_items=step_items,
        step_depts=step_depts,
        item_owners=owners,
        depts=depts,
        denied=denied,
        hidden_items=hidden,
        unplaced_cases=int(
            step_cases(scope=scope, as_of=as_of)
            .filter((pl.col("problem_id") == problem_id) & pl.col("step_id").is_null())["open"]
            .sum()
        ),
    )


def _module_names() -> pl.DataFrame:
    return meta.modules().select(
        pl.col("id").alias("module_id"),
        pl.col("name_zh").alias("module_zh"),
        pl.col("name_en").alias("module_en"),
    )


def _people() -> pl.DataFrame:
    """person_id, person (name), title: who a duty or a gap names."""
    return eng.read_frame(
        select(person.c.id, person.c.name_zh, person.c.title_zh), schema={"id": pl.Int32}
    ).rename({"id": "person_id", "name_zh": "person", "title_zh": "title"})


@cached
def _source_load(*, scope: Scope, as_of_day: int) -> pl.DataFrame:
    r = rollup_daily
    q = (
        select(r.c.source_id, func.sum(r.c.n).label("load_7d"))
        .where(scope.where(r), r.c.day.between(as_of_day - 6, as_of_day))
        .group_by(r.c.source_id)
    )
    return eng.read_frame(q, schema={"source_id": _I16, "load_7d": pl.Int64})


# --- a department's own list -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeptList:
    dept_id: int
    name_zh: str
    name_en: str
    duties: pl.DataFrame  # code, names, person, problem
    steps: pl.DataFrame  # problem, step, stage, role, limit_hours
    items: pl.DataFrame  # items the department owns
    gaps: pl.DataFrame  # gaps it should close (gaps() columns)
    # open, overdue, closed, closed_on_time (dept_cases); None when asked without the pool's clock
    cases: dict[str, int] | None = None


def viewable_dept(scope: Scope, dept_id: int | None) -> int | None:
    """The department whose list the viewer may open: a department head only their own."""
    if scope.department_id is not None:
        return scope.department_id
    return dept_id


def dept_list(*, dept_id: int, scope: Scope, as_of: int | None = None) -> DeptList | None:
    """Duties, steps led or supported, data items owned and open gaps of one department (each gap with
    the person who closes it, as gaps() names them); None for an unknown department or one outside the
    viewer's scope. With `as_of` (the pool's clock): its case figures (dept_cases) and the open cases
    waiting on each of its gaps (with_open_cases)."""
    got = _dept_list(dept_id=dept_id, scope=scope)
    if got is None:
        return None
    g = with_fixers(got.gaps, owners.current())
    if as_of is None:
        return dataclasses.replace(got, gaps=g)
    return dataclasses.replace(
        got,
        gaps=with_open_cases(g, step_cases(scope=scope, as_of=as_of)),
        cases=dept_cases(dept_id=dept_id, scope=scope, as_of=as_of),
    )


@cached
def dept_cases(*, dept_id: int, scope: Scope, as_of: int) -> dict[str, int]:
    """The cases a department answers for (case_item.dept_id), in the viewer's scope: open now, open and
    past the closure due time at `as_of`, and of the closed ones those closed by their due time (from
    case_rollup: on-time closure rate = closed_on_time / closed)."""
    c, r = case_item, case_rollup
    cond = (c.c.dept_id == dept_id) & c.c.closed_at.is_(None)
    rcond = r.c.dept_id == dept_id
    if scope.township_code is not None:
        cond = cond & (c.c.township_code == scope.township_code)
        rcond = rcond & (r.c.township_code == scope.township_code)
    late = func.coalesce(func.sum(case((c.c.close_due_at < as_of, 1), else_=0)), 0)
    with eng.connect() as conn:
        n_open, n_late = conn.execute(select(func.count(), late).where(cond)).one()
        closed, on_time = conn.execute(
            select(
                func.coalesce(func.sum(r.c.n_closed), 0), func.coalesce(func.sum(r.c.n_closed_on_time), 0)
            ).where(rcond)
        ).one()
    return {
        "open": int(n_open),
        "overdue": int(n_late),
        "closed": int(closed),
        "closed_on_time": int(on_time),
    }


@cached
def _dept_list(*, dept_id: int, scope: Scope) -> DeptList | None:
    """dept_list() without the persons of its gaps."""
    if viewable_dept(scope, dept_id) != dept_id:
        return None
    depts = meta.departments().filter(pl.col("id") == dept_id)
    if depts.is_empty():
        return None
    lists = lists_snapshot()
    people = _people()
    probs = lists.problems.select(
        pl.col("id").alias("problem_id"),
        pl.col("name_zh").alias("problem_zh"),
        pl.col("name_en").alias("problem_en"),
        "severity",
    )
    duties = (
        lists.duties.filter(pl.col("dept_id") == dept_id).join(people, on="person_id", how="left").sort("id")
    )
    steps = (
        lists.roles.filter(pl.col("dept_id") == dept_id)
        .join(
            lists.steps.select(
                pl.col("id").alias("step_id"),
                "problem_id",
                "seq",
                pl.col("name_zh").alias("step_zh"),
                pl.col("name_en").alias("step_en"),
                "stage",
                "limit_hours",
            ),
            on="step_id",
        )
        .join(probs, on="problem_id")
        .sort(["role", "problem_id", "seq"])
    )
    items = (
        lists.items.filter(pl.col("owner_dept_id") == dept_id)
        .join(_module_names(), on="module_id", how="left")
        .sort("id")
    )
    g = _gap_frame(scope=scope).filter(pl.col("fix_dept_id") == dept_id)
    row = depts.row(0, named=True)
    return DeptList(dept_id, row["name_zh"], row["name_en"], duties, steps, items, g)


@cached
def dept_summary(*, scope: Scope) -> pl.DataFrame:
    """The city-wide comparison: per department, duties, steps led and supported, items owned, gaps."""
    lists = lists_snapshot()
    depts = _dept_names("dept_id", "dept")
    if scope.department_id is not None:
        depts = depts.filter(pl.col("dept_id") == scope.department_id)
    duties = lists.duties.group_by("dept_id").agg(pl.len().alias("duties"))
    roles = lists.roles.group_by("dept_id").agg(
        (pl.col("role") == "lead").sum().alias("leads"), (pl.col("role") == "support").sum().alias("supports")
    )
    owned = (
        lists.items.filter(pl.col("owner_dept_id").is_not_null())
        .group_by(pl.col("owner_dept_id").alias("dept_id"))
        .agg(pl.len().alias("items"))
    )
    g = gaps_by_dept(scope=scope).select(pl.col("fix_dept_id").alias("dept_id"), pl.col("n").alias("gaps"))
    out = depts
    for f in (duties, roles, owned, g):
        out = out.join(f, on="dept_id", how="left")
    return out.with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in ("duties", "leads", "supports", "items", "gaps")
    ).sort("dept_id")


# --- export: a department's slice of the lists, keyed by codes ----------------------------------------

DAY_HOURS = 8  # working hours in a working day


def limit_text(hours: int) -> str:
    """A time limit as the export writes it: "3d" (working days) when whole days, else "4h"."""
    return f"{hours // DAY_HOURS}d" if hours % DAY_HOURS == 0 else f"{hours}h"


EXPORT_SHEETS = ("problems", "steps", "data_items", "step_data", "duties", "step_duties", "grants")


@cached
def export_tables(*, dept_id: int | None, scope: Scope) -> dict[str, pl.DataFrame] | None:
    """The lists a department takes part in, one frame per list, every reference a code (so a person
    can read and edit it): the problem types it answers for or works on, their steps, the data items
    those steps use or it owns, the duties on those steps, and the grants of those items. dept_id None
    = the whole city. None when the viewer may not export that department."""
    if scope.department_id is not None and dept_id != scope.department_id:
        return None
    snap = lists_snapshot()
    depts = meta.departments().select(pl.col("id").cast(_I16), "code")
    dcode = dict(zip(depts["id"].to_list(), depts["code"].to_list(), strict=True))
    mods = meta.modules()
    mcode = dict(zip(mods["id"].to_list(), mods["code"].to_list(), strict=True))
    srcs = meta.sources()
    scode = dict(zip(srcs["id"].to_list(), srcs["code"].to_list(), strict=True))
    roles = snap.roles.join(snap.steps.select(pl.col("id").alias("step_id"), "problem_id"), on="step_id")
    probs = snap.problems
    if dept_id is not None:
        mine = set(roles.filter(pl.col("dept_id") == dept_id)["problem_id"].to_list())
        mine |= set(probs.filter(pl.col("owner_dept_id") == dept_id)["id"].to_list())
        probs = probs.filter(pl.col("id").is_in(sorted(mine)))
    steps = snap.steps.filter(pl.col("problem_id").is_in(probs["id"].to_list()))
    step_data = snap.step_data.filter(pl.col("step_id").is_in(steps["id"].to_list()))
    used = set(step_data["item_id"].to_list())
    if dept_id is not None:
        used |= set(snap.items.filter(pl.col("owner_dept_id") == dept_id)["id"].to_list())
    else:
        used |= set(snap.items["id"].to_list())  # the whole city: items no step uses too
    items = snap.items.filter(pl.col("id").is_in(sorted(used)))
    step_duty = roles.filter(pl.col("step_id").is_in(steps["id"].to_list()))
    held = set(step_duty["duty_id"].to_list())
    held |= set(
        snap.duties.filter(pl.col("dept_id") == dept_id)["id"].to_list()
        if dept_id
        else snap.duties["id"].to_list()
    )
    duties = snap.duties.filter(pl.col("id").is_in(sorted(held)))
    grants = snap.grants.filter(pl.col("item_id").is_in(items["id"].to_list()))
    pcode = dict(zip(snap.problems["id"].to_list(), snap.problems["code"].to_list(), strict=True))
    stcode = dict(zip(snap.steps["id"].to_list(), snap.steps["code"].to_list(), strict=True))
    icode = dict(zip(snap.items["id"].to_list(), snap.items["code"].to_list(), strict=True))
    ducode = dict(zip(snap.duties["id"].to_list(), snap.duties["code"].to_list(), strict=True))
    people = eng.read_frame(select(person.c.id, person.c.name_zh), schema={"id": pl.Int32})
    pname = dict(zip(people["id"].to_list(), people["name_zh"].to_list(), strict=True))

    def m(col: str, mapping_: dict[Any, Any]) -> pl.Expr:
        return pl.col(col).replace_strict(mapping_, default=None, return_dtype=pl.String)

    classes = {0: "public", 1: "sensitive", 2: "core"}
    return {
        "problems": probs.select(
            "code", "name_zh", "name_en", "channel", "severity", "yearly_volume",
            pl.col("limit_hours").map_elements(limit_text, return_dtype=pl.String).alias("limit"),
            m("owner_dept_id", dcode).alias("owner_dept"), m("module_id", mcode).alias("module"),
        ),
        "steps": steps.select(
            m("problem_id", pcode).alias("problem"), "seq", "code", "name_zh", "name_en", "stage", "decision",
            pl.col("limit_hours").map_elements(limit_text, return_dtype=pl.String).alias("limit"),
        ),
        "data_items": items.select(
            "code", "name_zh", "name_en", "kind", m("module_id", mcode).alias("module"),
            m("source_id", scode).alias("source"), m("owner_dept_id", dcode).alias("owner_dept"),
            m("classification", classes).alias("classification"), "refresh",
        ),
        "step_data": step_data.select(m("step_id", stcode).alias("step"), m("item_id", icode).alias("item")),
        "duties": duties.select(
            "code", m("dept_id", dcode).alias("dept"), m("person_id", pname).alias("person"), "name_zh", "name_en"
        ),
        "step_duties": step_duty.select(
            m("step_id", stcode).alias("step"), m("duty_id", ducode).alias("duty"), "role"
        ).sort("step", "duty"),
        "grants": grants.select(m("item_id", icode).alias("item"), m("dept_id", dcode).alias("dept")),
    }  # fmt: skip
